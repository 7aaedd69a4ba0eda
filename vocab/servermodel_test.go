package vocab

import (
	"slices"
	"testing"
)

func TestParseServerModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		want ServerModel
		err  string
	}{
		{"", ServerModel{Name: "fast", HandshakeProbe: true}, ""},
		{"fast", ServerModel{Name: "fast", HandshakeProbe: true}, ""},
		{"cylc", ServerModel{Name: "cylc", HandshakeProbe: false}, ""},
		{"slow", ServerModel{}, `unknown server model "slow": want fast or cylc`},
		{"FAST", ServerModel{}, `unknown server model "FAST": want fast or cylc`},
	} {
		got, err := ParseServerModel(tc.name)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("ParseServerModel(%q): error %v, want %q", tc.name, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseServerModel(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

// TestServerModelRegistry: names are unique, the default is registered
// first, and ServerModelNames follows the registry.
func TestServerModelRegistry(t *testing.T) {
	names := ServerModelNames()
	if len(names) == 0 || names[0] != DefaultServerModel {
		t.Fatalf("names %v: want the default, %s, first", names, DefaultServerModel)
	}
	seen := map[string]bool{}
	for i, m := range ServerModels() {
		if m.Name == "" || seen[m.Name] || names[i] != m.Name {
			t.Errorf("entry %d %+v: empty, repeated or not names[%d] (%v)", i, m, i, names)
		}
		seen[m.Name] = true
	}
	if !slices.Contains(names, ServerModelCylc) || !slices.Contains(names, ServerModelFast) {
		t.Fatalf("names %v: want fast and cylc", names)
	}
}

func TestOrList(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a or b"},
		{[]string{"a", "b", "c"}, "a, b or c"},
	} {
		if got := orList(tc.in); got != tc.want {
			t.Errorf("orList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
