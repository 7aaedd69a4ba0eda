package scenarios

import (
	"io/fs"
	"strings"
	"testing"
)

// FuzzParse checks the scenario parser: no panic; an error is one line
// naming the file; a parsed scenario validates and is bounded.
func FuzzParse(f *testing.F) {
	ents, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		b, err := fs.ReadFile(builtinFS, e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "name: x\n", "name: x\nduration: 1s\ncli: {rate: 1}\n", "name: x\nduration: -1s\ncli: {rate: 1}\n",
		"name: x\nduration: 1s\ncli: {rate: 1, nope: 2}\n", "- a\n- b\n", "name: &a x\nother: *a\n", "{",
		"name: x\nduration: 1s\njob: {jobs: 10, parallel: 2}\n", "name: [1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.yaml") || strings.Contains(msg, "\n") {
				t.Fatalf("Parse(%q): error %q is not one line naming the file", data, msg)
			}
			return
		}
		if err := sc.Validate(); err != nil {
			t.Fatalf("Parse(%q) returned a scenario that does not validate: %v", data, err)
		}
	})
}
