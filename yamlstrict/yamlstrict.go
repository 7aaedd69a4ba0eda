// Package yamlstrict is the strict YAML checking shared by scenario and
// site files: unknown keys and wrong types as one-line errors with their
// line and column, and the position of every field path for later
// validation errors.
//
// A parser reads the one document of a file (Document), walks it against
// the Go type it decodes into (Check), decodes it, validates the result and
// names the position of a validation error's field (FieldError,
// Positions.Where). The wording of the file's own messages, and how it
// prints a position, stay with the parser.
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Pos is where something stands in a YAML file: a line and a column, both
// counted from 1.
type Pos struct{ Line, Col int }

// Positions maps a field path to where its value stands. A path joins keys
// with '.' and list indices as "[i]", as "cli.rate" or
// "job.targets[1].share"; the whole document is "". A map's key is also
// recorded, at the key itself, as the key's path and "#key", as
// "cli.mix.explode#key".
type Positions map[string]Pos

// Where returns the position of a field path: the path's own, else that of
// its nearest recorded parent, else that of the document, else line 1,
// column 1.
func (ps Positions) Where(path string) Pos {
	for p := path; p != ""; {
		if x, ok := ps[p]; ok {
			return x
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if x, ok := ps[""]; ok {
		return x
	}
	return Pos{1, 1}
}

// Kind is the kind of problem an Error reports.
type Kind int

const (
	// UnknownKey is a key that no field of a struct is tagged with.
	UnknownKey Kind = iota + 1
	// DuplicateKey is a key given a second time in one mapping.
	DuplicateKey
	// WrongType is a value that does not fit its Go type: a list where a
	// mapping belongs, words where a number belongs, a bad duration.
	WrongType
	// SecondDocument is a second YAML document after a file's first.
	SecondDocument
)

// Error is a problem in a YAML file at a position. Msg words it in one
// line ("cli.rate: want a number, got \"x\""); a parser may word it
// otherwise from the other fields.
type Error struct {
	// Kind is what is wrong.
	Kind Kind
	// Pos is where the problem stands: the key for UnknownKey and
	// DuplicateKey, the value for WrongType, the start of the second
	// document for SecondDocument.
	Pos Pos
	// Path is the field path of the value; for UnknownKey and DuplicateKey,
	// that of the mapping holding the key.
	Path string
	// Key is the key, for UnknownKey and DuplicateKey.
	Key string
	// Fields are the keys the struct takes, sorted, for UnknownKey.
	Fields []string
	// First is where the key was first given, for DuplicateKey.
	First Pos
	// Msg is the problem in one line, starting with the field path (or
	// the document's name) unless Kind is SecondDocument.
	Msg string
}

// Error returns "line:column: message".
func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

// FieldError is a validation error about one field path, as "cli.rate":
// a parser names the position Positions.Where gives for Path.
type FieldError struct {
	// Path is the field path, as "job.targets[1].share".
	Path string
	// Msg is the problem, as "want 0 to 1, got 2".
	Msg string
}

// Error returns "path: message".
func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// FieldErrorf returns a *FieldError about path, its message formatted as
// fmt.Sprintf does.
func FieldErrorf(path, format string, a ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// Document decodes data, which holds at most one YAML document, and returns
// the document's top node, nil when data holds none. A second document is
// an *Error of Kind SecondDocument at its line, column 1; bad YAML is
// go.yaml.in/yaml/v3's own error (see SplitError).
func Document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, &Error{Kind: SecondDocument, Pos: Pos{max(1, second.Line), 1}, Msg: "a second YAML document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// SplitError splits an error of go.yaml.in/yaml/v3 into the line it names
// (0 when it names none) and a one-line message without the "yaml: " and
// "line N: " prefixes; of several decoding errors, the first.
func SplitError(err error) (line int, msg string) {
	msg = strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 { // unmarshal errors: the first
		msg = strings.TrimSpace(msg[i+1:])
		if j := strings.IndexByte(msg, '\n'); j >= 0 {
			msg = msg[:j]
		}
	}
	m := regexp.MustCompile(`line (\d+): (.*)$`).FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	line, _ = strconv.Atoi(m[1])
	return line, m[2]
}
