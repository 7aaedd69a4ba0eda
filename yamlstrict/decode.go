package yamlstrict

import (
	"errors"
	"reflect"
)

// ErrEmpty is Decode's error for data that holds no YAML document.
var ErrEmpty = errors.New("empty")

// Decode checks data strictly against out's type (Check) and decodes it
// into out, a pointer to a struct; validate, if set, then checks the value,
// and a *FieldError it returns is placed at its field's line. The error,
// if any, is one line and its line number (Line): an empty document
// (ErrEmpty), bad YAML, an unknown key, a value of the wrong type, or
// validate's.
func Decode(data []byte, out any, o Options, validate func() error) (line int, err error) {
	root, err := Document(data)
	if err != nil {
		return Line(err)
	}
	if root == nil {
		return 1, ErrEmpty
	}
	ps, err := Check(root, reflect.TypeOf(out), o)
	if err != nil {
		return Line(err)
	}
	if err := root.Decode(out); err != nil {
		return Line(err)
	}
	if validate == nil {
		return 0, nil
	}
	if err := validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return max(1, ps.Where(fe.Path).Line), fe
		}
		return 1, err
	}
	return 0, nil
}

// Line is err's line and err as one line: an *Error's own position and
// message, or what SplitError makes of the YAML library's.
func Line(err error) (int, error) {
	var e *Error
	if errors.As(err, &e) {
		return max(1, e.Pos.Line), errors.New(e.Msg)
	}
	line, msg := SplitError(err)
	return max(1, line), errors.New(msg)
}
