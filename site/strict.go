package site

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// positions maps a field path such as "workflows" or
// "cycle_point_burst.within" to the line its value stands on, so that
// validation errors name the line.
type positions map[string]int

// where returns the line of a field path: the path itself, else its
// nearest given parent, else 1.
func (ps positions) where(path string) int {
	for p := path; p != ""; {
		if l, ok := ps[p]; ok {
			return l
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	if l, ok := ps[""]; ok {
		return l
	}
	return 1
}

// posError is an error on a line.
type posError struct {
	line int
	msg  string
}

// checkNode walks a YAML node against the Go type t (a struct, pointer or
// scalar) and returns the first unknown field or wrongly typed value with
// its line, recording every field's line in ps.
func checkNode(n *yaml.Node, t reflect.Type, path string, ps positions) *posError {
	ps[path] = n.Line
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(Duration(0)) {
		if n.Kind != yaml.ScalarNode {
			return &posError{n.Line, fmt.Sprintf("%s: want a duration such as 5s or 2ms", path)}
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return &posError{n.Line, fmt.Sprintf("%s: want a duration such as 5s or 2ms, got %q", path, n.Value)}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return &posError{n.Line, fmt.Sprintf("%s: want a mapping of %s", orTop(path), strings.Join(fieldNames(t), ", "))}
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(path, k.Value)
			ft, ok := fields[k.Value]
			if !ok {
				return &posError{k.Line, fmt.Sprintf("%s: unknown field; want one of %s", key, strings.Join(fieldNames(t), ", "))}
			}
			if seen[k.Value] {
				return &posError{k.Line, fmt.Sprintf("%s: given twice", key)}
			}
			seen[k.Value] = true
			if err := checkNode(v, ft, key, ps); err != nil {
				return err
			}
		}
	default:
		if n.Kind != yaml.ScalarNode {
			return &posError{n.Line, fmt.Sprintf("%s: want a %s value", path, kindName(t))}
		}
		if msg := scalarFits(n, t); msg != "" {
			return &posError{n.Line, fmt.Sprintf("%s: %s", path, msg)}
		}
	}
	return nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "whole-number"
	case reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func scalarFits(n *yaml.Node, t reflect.Type) string {
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	switch t.Kind() {
	case reflect.Int:
		if _, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err != nil || quoted || n.Tag == "!!float" {
			return fmt.Sprintf("want a whole number, got %q", n.Value)
		}
	case reflect.Float64:
		if n.Tag != "!!int" && n.Tag != "!!float" || quoted {
			return fmt.Sprintf("want a number, got %q", n.Value)
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
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
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
		return "the site"
	}
	return path
}
