package yamlstrict

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// TestDocument: one document gives its top node, none gives nil, a second
// is an *Error at its line, and bad YAML is yaml.v3's error with its line.
func TestDocument(t *testing.T) {
	n, err := Document([]byte("# only a comment\n"))
	if n != nil || err != nil {
		t.Errorf("empty: %v, %v", n, err)
	}
	n, err = Document([]byte("a: 1\n"))
	if err != nil || n == nil || n.Kind != yaml.MappingNode {
		t.Errorf("one document: %v, %v", n, err)
	}
	_, err = Document([]byte("a: 1\n---\nb: 2\n"))
	var e *Error
	if !errors.As(err, &e) || e.Kind != SecondDocument || e.Pos != (Pos{2, 1}) {
		t.Errorf("second document: %v", err)
	}
	_, err = Document([]byte("a: 1\n\tb: 2\n"))
	if errors.As(err, &e) || err == nil {
		t.Fatalf("syntax error: %v", err)
	}
	if line, msg := SplitError(err); line != 2 || msg == "" {
		t.Errorf("syntax error at line %d: %q, want line 2", line, msg)
	}
}

// TestSplitError: the line a yaml.v3 error names and its first message on
// one line; 0 when it names none.
func TestSplitError(t *testing.T) {
	var v struct{ A, B int }
	err := yaml.Unmarshal([]byte("a: x\nb: y\n"), &v)
	if line, msg := SplitError(err); line != 1 || msg != "cannot unmarshal !!str `x` into int" {
		t.Errorf("unmarshal errors: %d %q", line, msg)
	}
	if line, msg := SplitError(errors.New("yaml: something broke")); line != 0 || msg != "something broke" {
		t.Errorf("no line: %d %q", line, msg)
	}
	if line, msg := SplitError(errors.New("yaml: line 4: found a tab")); line != 4 || msg != "found a tab" {
		t.Errorf("syntax: %d %q", line, msg)
	}
}

// TestFieldError: a field error says its path and message, and is found by
// errors.As through wrapping.
func TestFieldError(t *testing.T) {
	err := FieldErrorf("cli.rate", "want %d to %d", 1, 5)
	if err.Error() != "cli.rate: want 1 to 5" {
		t.Errorf("got %q", err)
	}
	var fe *FieldError
	if !errors.As(errors.Join(errors.New("other"), err), &fe) || fe.Path != "cli.rate" || fe.Msg != "want 1 to 5" {
		t.Errorf("errors.As: %+v", fe)
	}
}

// TestDuration: YAML and JSON (as text) both ways.
func TestDuration(t *testing.T) {
	var v struct {
		D Duration `yaml:"d" json:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 250ms\n"), &v); err != nil || v.D.D() != 250*time.Millisecond {
		t.Fatalf("yaml: %v %v", v.D.D(), err)
	}
	if err := yaml.Unmarshal([]byte("d: soon\n"), &v); err == nil {
		t.Error("yaml accepted soon")
	}
	if err := yaml.Unmarshal([]byte("d: [1s]\n"), &v); err == nil {
		t.Error("yaml accepted a list")
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"d":"250ms"}` {
		t.Fatalf("json: %s %v", b, err)
	}
	v.D = 0
	if err := json.Unmarshal([]byte(`{"d":"5s"}`), &v); err != nil || v.D.D() != 5*time.Second {
		t.Errorf("json back: %v %v", v.D.D(), err)
	}
	if err := json.Unmarshal([]byte(`{"d":"5"}`), &v); err == nil {
		t.Error("json accepted 5")
	}
}
