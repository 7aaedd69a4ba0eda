package scenarios

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/authbench/authbench/yamlstrict"
)

// ferr is a validation error about one field path; Parse names its
// file:line:column.
func ferr(path, format string, a ...any) error {
	return yamlstrict.FieldErrorf(path, format, a...)
}

// strictOptions word yamlstrict's messages for a scenario file.
func strictOptions() yamlstrict.Options {
	return yamlstrict.Options{
		Top:             "the scenario",
		DurationExample: "10s or 250ms",
		TypeName:        func(t reflect.Type) string { return t.Kind().String() },
	}
}

// strictError words a problem yamlstrict found as one line
// "file:line:column: message", as scenario errors have always read: an
// unknown key "in" its mapping, a key given twice as yaml.v3 words it.
func strictError(file string, e *yamlstrict.Error) error {
	msg := e.Msg
	switch e.Kind {
	case yamlstrict.UnknownKey:
		in := e.Path
		if in == "" {
			in = "the scenario"
		}
		msg = fmt.Sprintf("unknown key %q in %s; want one of %s", e.Key, in, strings.Join(e.Fields, ", "))
	case yamlstrict.DuplicateKey:
		msg = fmt.Sprintf("mapping key %q already defined at line %d", e.Key, e.First.Line)
	case yamlstrict.SecondDocument:
		msg = "a second YAML document; a scenario file holds one"
	}
	return fmt.Errorf("%s:%d:%d: %s", file, e.Pos.Line, e.Pos.Col, msg)
}
