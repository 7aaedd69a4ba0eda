package site

import (
	"errors"

	"github.com/authbench/authbench/yamlstrict"
)

// ferr is a validation error about one field (a path such as
// cycle_point_burst.jobs); Parse names its line.
func ferr(path, format string, a ...any) error {
	return yamlstrict.FieldErrorf(path, format, a...)
}

// strictOptions word yamlstrict's messages for a site file.
func strictOptions() yamlstrict.Options {
	return yamlstrict.Options{Top: "the site", DurationExample: "5s or 2ms"}
}

// yamlError gives the line of a YAML error and its message in one line: a
// problem yamlstrict found, or one of yaml.v3's.
func yamlError(err error) (int, string) {
	var e *yamlstrict.Error
	if !errors.As(err, &e) {
		return yamlstrict.SplitError(err)
	}
	if e.Kind == yamlstrict.SecondDocument {
		return e.Pos.Line, "a second YAML document; a site file holds one"
	}
	return e.Pos.Line, e.Msg
}
