package yamlstrict

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Options words the messages Check gives for one kind of file; the zero
// value words them plainly.
type Options struct {
	// Top names the whole document where a message is about it, as "the
	// scenario" (default "the document").
	Top string
	// DurationExample is the example a message about a bad Duration gives,
	// as "10s or 250ms" (the default).
	DurationExample string
	// TypeName names the type in "want a NAME value", the message for a
	// mapping or list where a scalar belongs (default: "whole-number" for
	// integers, "number" for floats, else the type's kind).
	TypeName func(reflect.Type) string
}

// Check walks root, the top node of a YAML document, against the Go type t
// it is to be decoded into, and returns the position of every field path
// in it. t is a struct (its fields known by their yaml tags), a map, a
// slice, a pointer to one of these, a Duration or a scalar; an alias is
// checked as the node it names, and recorded where the alias stands.
//
// The first key t does not know, key given twice, or value that does not
// fit its type, as a quoted number or a number with a fraction where a
// whole number belongs, is an *Error, and then Check returns no positions.
func Check(root *yaml.Node, t reflect.Type, o Options) (Positions, error) {
	if o.Top == "" {
		o.Top = "the document"
	}
	if o.DurationExample == "" {
		o.DurationExample = "10s or 250ms"
	}
	if o.TypeName == nil {
		o.TypeName = kindName
	}
	w := walker{o: o, ps: Positions{}}
	if e := w.walk(root, t, ""); e != nil {
		return nil, e
	}
	return w.ps, nil
}

// walker is one Check: its options and the positions it has recorded.
type walker struct {
	o  Options
	ps Positions
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) *Error {
	w.ps[path] = at(n)
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[Duration]() {
		return w.duration(n, path)
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.structure(n, t, path)
	case reflect.Map:
		return w.mapping(n, t, path)
	case reflect.Slice:
		return w.list(n, t, path)
	}
	return w.scalar(n, t, path)
}

func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) *Error {
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name != "" && name != "-" {
			fields[name] = f.Type
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if n.Kind != yaml.MappingNode {
		return w.wrong(n, path, "want a mapping of %s", strings.Join(names, ", "))
	}
	first := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		ft, ok := fields[k.Value]
		if !ok {
			return &Error{Kind: UnknownKey, Pos: at(k), Path: path, Key: k.Value, Fields: names,
				Msg: fmt.Sprintf("%s: unknown field; want one of %s", key, strings.Join(names, ", "))}
		}
		if e := once(first, k, path); e != nil {
			return e
		}
		if e := w.walk(v, ft, key); e != nil {
			return e
		}
	}
	return nil
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.MappingNode {
		return w.wrong(n, path, "want a mapping")
	}
	first := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := join(path, k.Value)
		w.ps[key+"#key"] = at(k)
		if e := once(first, k, path); e != nil {
			return e
		}
		if e := w.walk(v, t.Elem(), key); e != nil {
			return e
		}
	}
	return nil
}

func (w *walker) list(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.SequenceNode {
		return w.wrong(n, path, "want a list")
	}
	for i, v := range n.Content {
		if e := w.walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); e != nil {
			return e
		}
	}
	return nil
}

func (w *walker) duration(n *yaml.Node, path string) *Error {
	if n.Kind != yaml.ScalarNode {
		return w.wrong(n, path, "want a duration such as %s", w.o.DurationExample)
	}
	if _, err := time.ParseDuration(n.Value); err != nil {
		return w.wrong(n, path, "want a duration such as %s, got %q", w.o.DurationExample, n.Value)
	}
	return nil
}

func (w *walker) scalar(n *yaml.Node, t reflect.Type, path string) *Error {
	if n.Kind != yaml.ScalarNode {
		return w.wrong(n, path, "want a %s value", w.o.TypeName(t))
	}
	// Quoted, block or explicitly !!str: text, however it reads.
	text := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || n.Tag == "!!str" && n.Style != 0
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if _, err := strconv.ParseInt(n.Value, 0, 64); err != nil || text || n.Tag == "!!float" {
			return w.wrong(n, path, "want a whole number, got %q", n.Value)
		}
	case reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(n.Value, 64); err != nil || text || n.Tag != "!!int" && n.Tag != "!!float" {
			return w.wrong(n, path, "want a number, got %q", n.Value)
		}
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return w.wrong(n, path, "want true or false, got %q", n.Value)
		}
	case reflect.String:
		if n.Tag == "!!null" {
			return w.wrong(n, path, "want a value, got nothing")
		}
	}
	return nil
}

// wrong is a WrongType error at n, its message the path (or the top's name)
// and the problem.
func (w *walker) wrong(n *yaml.Node, path, format string, a ...any) *Error {
	name := path
	if name == "" {
		name = w.o.Top
	}
	return &Error{Kind: WrongType, Pos: at(n), Path: path, Msg: name + ": " + fmt.Sprintf(format, a...)}
}

// once notes where key k of the mapping at path is first given, and is a
// DuplicateKey error when it was given before.
func once(first map[string]Pos, k *yaml.Node, path string) *Error {
	if p, ok := first[k.Value]; ok {
		return &Error{Kind: DuplicateKey, Pos: at(k), Path: path, Key: k.Value, First: p,
			Msg: join(path, k.Value) + ": given twice"}
	}
	first[k.Value] = at(k)
	return nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "whole-number"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func at(n *yaml.Node) Pos { return Pos{n.Line, n.Column} }

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
