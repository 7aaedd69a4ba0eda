package vocab

import (
	"reflect"
	"slices"
	"testing"
)

// TestClaimsLineUp checks that ClaimNames, List and Or cover every field of
// Claims, each in its own position: setting one field turns on exactly its
// column, and Or keeps it from either side.
func TestClaimsLineUp(t *testing.T) {
	names := ClaimNames()
	n := reflect.TypeFor[Claims]().NumField()
	if len(names) != n || len((Claims{}).List()) != n {
		t.Fatalf("%d fields, %d names, %d list entries", n, len(names), len((Claims{}).List()))
	}
	seen := map[int]string{}
	for f := 0; f < n; f++ {
		var c Claims
		reflect.ValueOf(&c).Elem().Field(f).SetBool(true)
		field := reflect.TypeFor[Claims]().Field(f).Name
		l := c.List()
		i := slices.Index(l, true)
		if i < 0 || slices.Index(l[i+1:], true) >= 0 {
			t.Errorf("%s: List %v, want exactly one column on", field, l)
			continue
		}
		if other, ok := seen[i]; ok {
			t.Errorf("%s and %s share column %s", field, other, names[i])
		}
		seen[i] = field
		if !slices.Equal((Claims{}).Or(c).List(), l) || !slices.Equal(c.Or(Claims{}).List(), l) {
			t.Errorf("%s: Or drops it", field)
		}
	}
	if i := slices.Index(names, "reply-confidential"); i < 0 || seen[i] != "RepliesConfidential" {
		t.Errorf("reply-confidential is column %d, holding %q", i, seen[i])
	}
}
