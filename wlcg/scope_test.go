package wlcg

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestSplitScopesGood(t *testing.T) {
	tests := []struct {
		in      string
		known   []Scope
		unknown []string
	}{
		{"", nil, nil},
		{"   ", nil, nil},
		{"storage.read:/", []Scope{{StorageRead, "/"}}, nil},
		{"storage.read:/cms", []Scope{{StorageRead, "/cms"}}, nil},
		{"storage.read:/cms/", []Scope{{StorageRead, "/cms/"}}, nil}, // trailing "/" kept: a directory
		{"storage.create:/cms/store/user storage.modify:/cms/tmp storage.stage:/tape storage.poll:/",
			[]Scope{{StorageCreate, "/cms/store/user"}, {StorageModify, "/cms/tmp"}, {StorageStage, "/tape"}, {StoragePoll, "/"}}, nil},
		{"compute.read compute.create compute.modify compute.cancel",
			[]Scope{{ComputeRead, ""}, {ComputeCreate, ""}, {ComputeModify, ""}, {ComputeCancel, ""}}, nil},
		{"storage.create:/foo storage.create:/bar storage.create:/foo", // duplicates kept
			[]Scope{{StorageCreate, "/foo"}, {StorageCreate, "/bar"}, {StorageCreate, "/foo"}}, nil},
		{"  storage.read:/a   storage.read:/b ", []Scope{{StorageRead, "/a"}, {StorageRead, "/b"}}, nil},
		{"storage.read:/a%20b/c%2Fd/%25", []Scope{{StorageRead, "/a%20b/c%2Fd/%25"}}, nil},
		{"storage.read:/a:b@c/!$&'()*+,;=/-._~", []Scope{{StorageRead, "/a:b@c/!$&'()*+,;=/-._~"}}, nil},
		{"storage.read:/..a/a..", []Scope{{StorageRead, "/..a/a.."}}, nil}, // not dot components
		{"openid offline_access wlcg wlcg:1.0 wlcg.groups wlcg.groups:/cms wlcg.capabilityset:/dune/pro host.auth",
			nil, []string{"openid", "offline_access", "wlcg", "wlcg:1.0", "wlcg.groups", "wlcg.groups:/cms",
				"wlcg.capabilityset:/dune/pro", "host.auth"}},
		{"Storage.read:/x storage.READ:/x storage.list:/x storage.readx:/x storage.list",
			nil, []string{"Storage.read:/x", "storage.READ:/x", "storage.list:/x", "storage.readx:/x", "storage.list"}},
		{"compute.create:/queue compute.read: storage.read:/ok",
			[]Scope{{StorageRead, "/ok"}}, []string{"compute.create:/queue", "compute.read:"}},
		// The §2.2.1 example values.
		{"storage.read:/protected storage.create:/protected/subdir",
			[]Scope{{StorageRead, "/protected"}, {StorageCreate, "/protected/subdir"}}, nil},
		{"storage.stage:/tape/subdir storage.read:/protected/data",
			[]Scope{{StorageStage, "/tape/subdir"}, {StorageRead, "/protected/data"}}, nil},
		{"compute.create", []Scope{{ComputeCreate, ""}}, nil},
	}
	for _, tt := range tests {
		known, unknown, err := SplitScopes(tt.in)
		if err != nil {
			t.Errorf("SplitScopes(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(known, tt.known) || !reflect.DeepEqual(unknown, tt.unknown) {
			t.Errorf("SplitScopes(%q) = %v, %q; want %v, %q", tt.in, known, unknown, tt.known, tt.unknown)
		}
		if got, err := ParseScopes(tt.in); err != nil || !reflect.DeepEqual(got, tt.known) {
			t.Errorf("ParseScopes(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestParseScopesBad(t *testing.T) {
	for _, in := range []string{
		"storage.read",                        // no path
		"storage.read:",                       // empty path
		"storage.create",                      // no path
		"storage.modify storage.read:/",       // one bad entry spoils the claim
		"storage.stage",                       // no path
		"storage.poll",                        // no path
		"storage.read:cms",                    // relative
		"storage.read:cms/x",                  // relative
		"storage.read:./cms",                  // relative
		"storage.read:/cms/..",                // dot-dot
		"storage.read:/../etc",                // dot-dot
		"storage.read:/cms/../atlas",          // dot-dot
		"storage.read:/cms/./x",               // dot
		"storage.read:/.",                     // dot
		"storage.read:/cms/.",                 // dot
		"storage.read:/cms/../",               // dot-dot, directory
		"storage.read://",                     // empty component
		"storage.read://cms",                  // empty component
		"storage.read:/cms//x",                // empty component
		"storage.read:/cms//",                 // two trailing slashes
		"storage.read:/cms?x=1",               // query junk
		"storage.read:/cms#frag",              // fragment junk
		"storage.read:/cms[0]",                // gen-delims
		"storage.read:/cms%",                  // truncated escape
		"storage.read:/cms%2",                 // truncated escape
		"storage.read:/cms%G0",                // bad hex
		"storage.read:/cms%2f",                // lower-case hex (not normalized)
		"storage.read:/%41",                   // escaped unreserved 'A'
		"storage.read:/%2E%2E",                // escaped dots
		"storage.read:/cms\tstorage.modify:/", // tab is not a separator
		"storage.read:/cms\nstorage.modify:/", // nor is a newline
		"storage.read:/cms\x00",               // NUL
		"storage.read:/caf\u00e9",             // non-ASCII (must be escaped)
		`storage.read:/"cms"`,                 // quote
		`storage.read:/c\ms`,                  // backslash
		"openid\x7f",                          // DEL in an unknown scope
	} {
		known, unknown, err := SplitScopes(in)
		if err == nil {
			t.Errorf("SplitScopes(%q) = %v, %q; want error", in, known, unknown)
			continue
		}
		if !errors.Is(err, ErrScope) || Classify(err) != "scope" {
			t.Errorf("SplitScopes(%q) error %v does not wrap ErrScope", in, err)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r\t") {
			t.Errorf("SplitScopes(%q) message not one line: %q", in, msg)
		}
	}
}

func TestScopeString(t *testing.T) {
	for _, s := range []Scope{{StorageRead, "/"}, {StorageModify, "/a%20b/"}, {ComputeCancel, ""}} {
		got, err := ParseScopes(s.String())
		if err != nil || len(got) != 1 || got[0] != s {
			t.Errorf("ParseScopes(%q) = %v, %v", s.String(), got, err)
		}
	}
	in := "storage.read:/protected storage.modify:/protected/subdir compute.read"
	sc, err := ParseScopes(in)
	if err != nil || FormatScopes(sc) != in {
		t.Errorf("FormatScopes(ParseScopes(%q)) = %q, %v", in, FormatScopes(sc), err)
	}
	if FormatScopes(nil) != "" {
		t.Error("FormatScopes(nil) not empty")
	}
}

func TestHasCapability(t *testing.T) {
	tests := []struct {
		scope string
		want  bool
	}{
		{"", false},
		{"openid offline_access wlcg.groups:/cms", false},
		{"compute.read", true}, // "irrespective of their relevance to the service"
		{"openid storage.read:/", true},
		{"compute.create:/q", false},
	}
	for _, tt := range tests {
		sc, err := ParseScopes(tt.scope)
		if err != nil {
			t.Fatal(err)
		}
		if got := HasCapability(sc); got != tt.want {
			t.Errorf("HasCapability(%q) = %v, want %v", tt.scope, got, tt.want)
		}
	}
	if HasCapability([]Scope{{Kind: "storage.list", Path: "/"}}) {
		t.Error("HasCapability of a hand-built unknown kind")
	}
}
