package wlcg

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseScopes checks that SplitScopes never panics, that its errors are
// ErrScope, and that what it accepts round-trips: each known scope
// re-parses to itself, and the re-rendered claim parses to the same known
// and unknown lists. It also runs Allows over the result, with the input as
// the request path, for every operation.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"",
		"storage.read:/",
		"storage.read:/cms storage.create:/cms/store/user/",
		"storage.modify:/a%20b/c%2Fd compute.create openid wlcg:1.0",
		"storage.read",
		"storage.read:cms",
		"storage.read:/cms/../x",
		"storage.read://cms",
		"storage.read:/cms\tstorage.modify:/",
		"storage.read:/%2e",
		"compute.create:/q storage.list:/x",
		"  storage.stage:/tape   storage.poll:/  ",
	} {
		f.Add(s)
	}
	ops := []string{OpRead, OpStat, OpCreate, OpRename, OpModify, OpDelete, OpStage, OpPoll,
		ComputeRead, ComputeCreate, ComputeModify, ComputeCancel, "bogus"}
	f.Fuzz(func(t *testing.T, s string) {
		known, unknown, err := SplitScopes(s)
		for _, op := range ops {
			Allows(known, op, s)
			Allows([]Scope{{StorageRead, s}, {StorageCreate, s}}, op, "/x/y")
		}
		if err != nil {
			if !errors.Is(err, ErrScope) {
				t.Fatalf("SplitScopes(%q) error %v is not ErrScope", s, err)
			}
			if known != nil || unknown != nil {
				t.Fatalf("SplitScopes(%q) returned values with an error", s)
			}
			return
		}
		for _, sc := range known {
			again, err := ParseScopes(sc.String())
			if err != nil || len(again) != 1 || again[0] != sc {
				t.Fatalf("scope %v from %q re-parses to %v, %v", sc, s, again, err)
			}
			if storageKind(sc.Kind) {
				// A scope grants its own path (as a directory, which
				// covers both forms).
				p, ok := decodedDir(sc.Path)
				if ok && !Allows([]Scope{{StorageModify, sc.Path}}, OpModify, p) {
					t.Fatalf("storage.modify:%s does not allow %q", sc.Path, p)
				}
			}
		}
		parts := []string{FormatScopes(known)}
		parts = append(parts, unknown...)
		k2, u2, err := SplitScopes(strings.Join(parts, " "))
		if err != nil || !reflect.DeepEqual(k2, known) || !reflect.DeepEqual(u2, unknown) {
			t.Fatalf("re-rendered %q parses to %v, %q, %v; want %v, %q", s, k2, u2, err, known, unknown)
		}
	})
}

// decodedDir returns a scope path's decoded form with a trailing "/", or
// false when a component decodes to something that cannot be a request
// path component (it contains "/" or NUL).
func decodedDir(p string) (string, bool) {
	segs, _, ok := splitScope(p)
	if !ok {
		return "", false
	}
	for _, s := range segs {
		if strings.ContainsAny(s, "/\x00") {
			return "", false
		}
	}
	if len(segs) == 0 {
		return "/", true
	}
	return "/" + strings.Join(segs, "/") + "/", true
}
