package yamlstrict

import (
	"errors"
	"fmt"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as Go writes one, as "10s" or
// "250ms", in YAML and (as text) in JSON. Check knows it: a value that is
// not such a duration is a WrongType error.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a duration such as 10s or 250ms")
	}
	return d.UnmarshalText([]byte(n.Value))
}

// MarshalText writes the duration as Go writes it ("5s").
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("want a duration such as 10s or 250ms, got %q", b)
	}
	*d = Duration(v)
	return nil
}
