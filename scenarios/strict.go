package scenarios

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// pos is a line:column in a YAML file.
type pos struct{ line, col int }

// positions maps a field path such as "cli.rate" or "job.targets[1].share"
// to where its value stands, so that semantic errors name file:line:column.
type positions map[string]pos

// fieldError is a validation error about one field.
type fieldError struct {
	path string
	msg  string
}

func (e *fieldError) Error() string { return e.path + ": " + e.msg }

func ferr(path, format string, a ...any) error {
	return &fieldError{path: path, msg: fmt.Sprintf(format, a...)}
}

// posError is an error at a position.
type posError struct {
	p   pos
	msg string
}

// checkNode walks a YAML node against the Go type t (a struct, map, slice or
// scalar) and returns the first unknown key or wrongly typed value, with its
// position, recording every field's position in ps.
func checkNode(n *yaml.Node, t reflect.Type, path string, ps positions) *posError {
	ps[path] = pos{n.Line, n.Column}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(Duration(0)) {
		if n.Kind != yaml.ScalarNode {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a duration such as 10s or 250ms", path)}
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a duration such as 10s or 250ms, got %q", path, n.Value)}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a mapping of %s", orTop(path), strings.Join(fieldNames(t), ", "))}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				return &posError{pos{k.Line, k.Column}, fmt.Sprintf("unknown key %q in %s; want one of %s", k.Value, orTop(path), strings.Join(fieldNames(t), ", "))}
			}
			if err := checkNode(v, ft, join(path, k.Value), ps); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a mapping", path)}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ps[join(path, k.Value)+"#key"] = pos{k.Line, k.Column}
			if err := checkNode(v, t.Elem(), join(path, k.Value), ps); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a list", path)}
		}
		for i, v := range n.Content {
			if err := checkNode(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), ps); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: want a %s value", path, t.Kind())}
		}
		if msg := scalarFits(n, t); msg != "" {
			return &posError{pos{n.Line, n.Column}, fmt.Sprintf("%s: %s", path, msg)}
		}
	}
	return nil
}

func scalarFits(n *yaml.Node, t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		if _, err := strconv.ParseInt(n.Value, 0, 64); err != nil || n.Tag == "!!str" && n.Style != 0 {
			return fmt.Sprintf("want a whole number, got %q", n.Value)
		}
	case reflect.Float64:
		if _, err := strconv.ParseFloat(n.Value, 64); err != nil || n.Tag == "!!str" && n.Style != 0 {
			return fmt.Sprintf("want a number, got %q", n.Value)
		}
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return fmt.Sprintf("want true or false, got %q", n.Value)
		}
	case reflect.String:
		if n.Tag == "!!null" {
			return "want a value, got nothing"
		}
	}
	return ""
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orTop(path string) string {
	if path == "" {
		return "the scenario"
	}
	return path
}

// where returns the best position for a field path: the path itself, else
// its nearest recorded parent.
func (ps positions) where(path string) pos {
	for p := path; p != ""; {
		if x, ok := ps[p]; ok {
			return x
		}
		if i := strings.LastIndexAny(p, ".["); i >= 0 {
			p = p[:i]
		} else {
			break
		}
	}
	return ps[""]
}
