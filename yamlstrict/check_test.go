package yamlstrict

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

type target struct {
	Name  string  `yaml:"name"`
	Share float64 `yaml:"share"`
}

type group struct {
	Rate    float64             `yaml:"rate"`
	Count   int                 `yaml:"count"`
	Every   *Duration           `yaml:"every"`
	Fresh   bool                `yaml:"fresh"`
	Targets []target            `yaml:"targets"`
	Budgets map[string]Duration `yaml:"budgets"`
}

type testDoc struct {
	Name   string   `yaml:"name"`
	Seed   int64    `yaml:"seed"`
	Within Duration `yaml:"within"`
	Group  *group   `yaml:"group"`
	Origin string   `yaml:"-"`
}

// root parses one YAML document for a test.
func root(t *testing.T, src string) *yaml.Node {
	t.Helper()
	n, err := Document([]byte(src))
	if err != nil || n == nil {
		t.Fatalf("Document(%q): %v, %v", src, n, err)
	}
	return n
}

// TestCheckErrors: the first problem in a document is one *Error of its
// kind, at the key or value, naming the field path (list indices and all).
func TestCheckErrors(t *testing.T) {
	all := []string{"group", "name", "seed", "within"}
	cases := []struct {
		name, yaml string
		kind       Kind
		pos        Pos
		path, key  string
		msg        string
	}{
		{"unknown key", "name: x\nnmae: y\n", UnknownKey, Pos{2, 1}, "", "nmae",
			"nmae: unknown field; want one of group, name, seed, within"},
		{"yaml:\"-\" is no key", "origin: x\n", UnknownKey, Pos{1, 1}, "", "origin",
			"origin: unknown field; want one of group, name, seed, within"},
		{"unknown nested key", "group:\n  rate: 1\n  rat: 2\n", UnknownKey, Pos{3, 3}, "group", "rat",
			"group.rat: unknown field; want one of budgets, count, every, fresh, rate, targets"},
		{"unknown key in a list item", "group:\n  targets:\n    - {name: a}\n    - {name: b, shar: 1}\n", UnknownKey, Pos{4, 17}, "group.targets[1]", "shar",
			"group.targets[1].shar: unknown field; want one of name, share"},
		{"key given twice", "name: x\nseed: 1\nseed: 2\n", DuplicateKey, Pos{3, 1}, "", "seed", "seed: given twice"},
		{"map key given twice", "group:\n  budgets: {a: 1s, a: 2s}\n", DuplicateKey, Pos{2, 20}, "group.budgets", "a", "group.budgets.a: given twice"},
		{"words for a whole number", "group:\n  count: many\n", WrongType, Pos{2, 10}, "group.count", "", `group.count: want a whole number, got "many"`},
		{"fraction for a whole number", "seed: 2.5\n", WrongType, Pos{1, 7}, "seed", "", `seed: want a whole number, got "2.5"`},
		{"quoted whole number", "seed: \"2\"\n", WrongType, Pos{1, 7}, "seed", "", `seed: want a whole number, got "2"`},
		{"tagged quoted whole number", "seed: !!int \"2\"\n", WrongType, Pos{1, 7}, "seed", "", `seed: want a whole number, got "2"`},
		{"explicit string for a whole number", "seed: !!str 2\n", WrongType, Pos{1, 7}, "seed", "", `seed: want a whole number, got "2"`},
		{"quoted number", "group: {rate: '5'}\n", WrongType, Pos{1, 15}, "group.rate", "", `group.rate: want a number, got "5"`},
		{"infinite number", "group: {rate: .inf}\n", WrongType, Pos{1, 15}, "group.rate", "", `group.rate: want a number, got ".inf"`},
		{"list for a number", "group: {rate: [1]}\n", WrongType, Pos{1, 15}, "group.rate", "", "group.rate: want a number value"},
		{"word for a bool", "group: {fresh: yes}\n", WrongType, Pos{1, 16}, "group.fresh", "", `group.fresh: want true or false, got "yes"`},
		{"nothing for a string", "name:\n", WrongType, Pos{1, 6}, "name", "", "name: want a value, got nothing"},
		{"list for a string", "name: [a]\n", WrongType, Pos{1, 7}, "name", "", "name: want a string value"},
		{"bad duration", "within: soon\n", WrongType, Pos{1, 9}, "within", "", `within: want a duration such as 10s or 250ms, got "soon"`},
		{"mapping for a duration", "within: {s: 1}\n", WrongType, Pos{1, 9}, "within", "", "within: want a duration such as 10s or 250ms"},
		{"bad duration behind a pointer", "group: {every: 5}\n", WrongType, Pos{1, 16}, "group.every", "", `group.every: want a duration such as 10s or 250ms, got "5"`},
		{"bad duration in a map", "group:\n  budgets:\n    a: 1s\n    b: x\n", WrongType, Pos{4, 8}, "group.budgets.b", "", `group.budgets.b: want a duration such as 10s or 250ms, got "x"`},
		{"list for a mapping", "- a\n", WrongType, Pos{1, 1}, "", "", "the document: want a mapping of group, name, seed, within"},
		{"scalar for a struct", "group: 3\n", WrongType, Pos{1, 8}, "group", "", "group: want a mapping of budgets, count, every, fresh, rate, targets"},
		{"list for a map", "group: {budgets: [1s]}\n", WrongType, Pos{1, 18}, "group.budgets", "", "group.budgets: want a mapping"},
		{"scalar for a list", "group: {targets: localhost}\n", WrongType, Pos{1, 18}, "group.targets", "", "group.targets: want a list"},
		{"wrong type deep in a list", "group:\n  targets:\n    - {name: a, share: 1}\n    - {name: b, share: x}\n", WrongType, Pos{4, 24}, "group.targets[1].share", "",
			`group.targets[1].share: want a number, got "x"`},
		{"alias to the wrong type", "name: &n x\ngroup: *n\n", WrongType, Pos{1, 7}, "group", "",
			"group: want a mapping of budgets, count, every, fresh, rate, targets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := Check(root(t, c.yaml), reflect.TypeFor[testDoc](), Options{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if ps != nil {
				t.Errorf("positions %v with an error", ps)
			}
			if e.Kind != c.kind || e.Pos != c.pos || e.Path != c.path || e.Key != c.key || e.Msg != c.msg {
				t.Errorf("got kind %d at %v path %q key %q: %q\nwant kind %d at %v path %q key %q: %q",
					e.Kind, e.Pos, e.Path, e.Key, e.Msg, c.kind, c.pos, c.path, c.key, c.msg)
			}
			if e.Kind == UnknownKey && e.Path == "" && !slices.Equal(e.Fields, all) {
				t.Errorf("fields %v, want %v", e.Fields, all)
			}
		})
	}
}

// TestCheckDuplicateFirst: a key given twice names where it was first
// given.
func TestCheckDuplicateFirst(t *testing.T) {
	_, err := Check(root(t, "name: x\ngroup:\n  rate: 1\n  count: 2\n  rate: 3\n"), reflect.TypeFor[testDoc](), Options{})
	var e *Error
	if !errors.As(err, &e) || e.Kind != DuplicateKey || e.Pos != (Pos{5, 3}) || e.First != (Pos{3, 3}) || e.Key != "rate" || e.Path != "group" {
		t.Fatalf("got %+v", err)
	}
}

// TestCheckOptions: a file's own words for the document, the duration
// example and the type names.
func TestCheckOptions(t *testing.T) {
	o := Options{Top: "the site", DurationExample: "5s or 2ms", TypeName: func(t reflect.Type) string { return t.Kind().String() }}
	for _, c := range []struct{ yaml, msg string }{
		{"- a\n", "the site: want a mapping of group, name, seed, within"},
		{"within: soon\n", `within: want a duration such as 5s or 2ms, got "soon"`},
		{"seed: [1]\n", "seed: want a int64 value"},
	} {
		_, err := Check(root(t, c.yaml), reflect.TypeFor[testDoc](), o)
		var e *Error
		if !errors.As(err, &e) || e.Msg != c.msg {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.msg)
		}
	}
}

// TestCheckPositions: every field path a good document holds is recorded
// at its value (a map key also at the key, an alias where it stands), and
// Where falls back to the nearest recorded parent.
func TestCheckPositions(t *testing.T) {
	src := `name: x
seed: 0x10
within: &w 5s
group:
  rate: 1_000
  count: 3
  every: *w
  fresh: true
  targets:
    - name: a
      share: 0.5
    - {name: b, share: 2}
  budgets:
    ping: 50ms
`
	ps, err := Check(root(t, src), reflect.TypeFor[testDoc](), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Positions{
		"":                       {1, 1},
		"name":                   {1, 7},
		"seed":                   {2, 7},
		"within":                 {3, 9},
		"group":                  {5, 3},
		"group.rate":             {5, 9},
		"group.count":            {6, 10},
		"group.every":            {7, 10},
		"group.fresh":            {8, 10},
		"group.targets":          {10, 5},
		"group.targets[0]":       {10, 7},
		"group.targets[0].name":  {10, 13},
		"group.targets[0].share": {11, 14},
		"group.targets[1]":       {12, 7},
		"group.targets[1].name":  {12, 14},
		"group.targets[1].share": {12, 24},
		"group.budgets":          {14, 5},
		"group.budgets.ping":     {14, 11},
		"group.budgets.ping#key": {14, 5},
	}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("positions\n%v\nwant\n%v", ps, want)
	}
	for _, c := range []struct {
		path string
		want Pos
	}{
		{"group.targets[1].share", Pos{12, 24}},
		{"group.targets[1].shared_fs", Pos{12, 7}},
		{"group.targets[7].share", Pos{10, 5}},
		{"group.budgets.ping#key", Pos{14, 5}},
		{"group.mix.explode#key", Pos{5, 3}},
		{"nowhere", Pos{1, 1}},
		{"", Pos{1, 1}},
	} {
		if got := ps.Where(c.path); got != c.want {
			t.Errorf("Where(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	if got := (Positions{}).Where("a.b"); got != (Pos{1, 1}) {
		t.Errorf("Where on no positions = %v, want 1:1", got)
	}
}

// TestCheckDecodes: what Check passes, yaml.v3 decodes.
func TestCheckDecodes(t *testing.T) {
	n := root(t, "name: x\nwithin: 2s\ngroup: {rate: 1.5, count: 1_000, every: 250ms, targets: [{name: a, share: 1}]}\n")
	if _, err := Check(n, reflect.TypeFor[testDoc](), Options{}); err != nil {
		t.Fatal(err)
	}
	var d testDoc
	if err := n.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Within.D().String() != "2s" || d.Group.Count != 1000 || d.Group.Every.D().String() != "250ms" || d.Group.Targets[0].Name != "a" {
		t.Errorf("decoded %+v %+v", d, d.Group)
	}
}
