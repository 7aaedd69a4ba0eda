package yamlstrict

import (
	"errors"
	"strings"
	"testing"
)

// TestDecode: one line and its line number for each way a document can be
// wrong, and the decoded value when it is right.
func TestDecode(t *testing.T) {
	type doc struct {
		Name string   `yaml:"name"`
		Wait Duration `yaml:"wait"`
	}
	for _, tc := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"empty", "", 1, "empty"},
		{"bad yaml", "name: [\n", 1, ""},
		{"unknown key", "name: a\nnope: 1\n", 2, "nope"},
		{"wrong type", "name: a\nwait: soon\n", 2, "wait"},
		{"validate", "name: a\nwait: 1s\n", 2, "wait: too short"},
		{"good", "name: a\nwait: 5s\n", 0, ""},
	} {
		var d doc
		line, err := Decode([]byte(tc.yaml), &d, Options{}, func() error {
			if d.Wait.D() < 2e9 {
				return FieldErrorf("wait", "too short")
			}
			return nil
		})
		switch {
		case tc.name == "good":
			if err != nil || d.Name != "a" || d.Wait.D().Seconds() != 5 {
				t.Errorf("good: %v, %+v", err, d)
			}
		case err == nil:
			t.Errorf("%s: no error", tc.name)
		case line != tc.line || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
			t.Errorf("%s: line %d %q, want line %d with %q", tc.name, line, err, tc.line, tc.want)
		}
		if tc.name == "empty" && !errors.Is(err, ErrEmpty) {
			t.Errorf("empty: %v, want ErrEmpty", err)
		}
	}
}
