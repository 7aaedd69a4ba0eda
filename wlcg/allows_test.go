package wlcg

import "testing"

func mustScopes(t *testing.T, s string) []Scope {
	t.Helper()
	sc, err := ParseScopes(s)
	if err != nil {
		t.Fatalf("ParseScopes(%q): %v", s, err)
	}
	return sc
}

func TestAllows(t *testing.T) {
	tests := []struct {
		scope string
		op    string
		path  string
		want  bool
	}{
		// Component matching.
		{"storage.read:/cms", OpRead, "/cms", true},
		{"storage.read:/cms", OpRead, "/cms/", true},
		{"storage.read:/cms", OpRead, "/cms/x", true},
		{"storage.read:/cms", OpRead, "/cms/x/y.root", true},
		{"storage.read:/cms", OpRead, "/cmsx", false}, // IAM's path+".*" says yes
		{"storage.read:/cms", OpRead, "/cmsx/y", false},
		{"storage.read:/cms", OpRead, "/cm", false},
		{"storage.read:/cms", OpRead, "/", false},
		{"storage.read:/cms", OpRead, "/atlas/cms", false},
		{"storage.read:/cms/store", OpRead, "/cms", false},
		{"storage.read:/cms/store", OpRead, "/cms/", false},
		{"storage.read:/foo", OpRead, "/bar", false}, // §2.2.1 "read authorization for ... /foo but not /bar"
		// Root.
		{"storage.read:/", OpRead, "/", true},
		{"storage.read:/", OpRead, "/anything", true},
		{"storage.read:/", OpRead, "/a/b/c/", true},
		{"storage.modify:/", OpDelete, "/x", true},
		// Scope path with a trailing "/" is a directory.
		{"storage.read:/cms/", OpRead, "/cms", false},
		{"storage.read:/cms/", OpRead, "/cms/", true},
		{"storage.read:/cms/", OpRead, "/cms/x", true},
		{"storage.read:/cms/", OpRead, "/cmsx", false},
		// Unclean or malformed request paths are never allowed.
		{"storage.read:/", OpRead, "", false},
		{"storage.read:/", OpRead, "cms", false},
		{"storage.read:/cms", OpRead, "/cms/../atlas", false},
		{"storage.read:/cms", OpRead, "/cms/..", false},
		{"storage.read:/cms", OpRead, "/cms/./x", false},
		{"storage.read:/cms", OpRead, "/cms//x", false},
		{"storage.read:/cms", OpRead, "//cms", false},
		{"storage.read:/cms", OpRead, "/cms/x//", false},
		{"storage.read:/cms", OpRead, "/cms/x\x00", false},
		// Escaped scope paths match decoded request paths.
		{"storage.read:/a%20b", OpRead, "/a b/x", true},
		{"storage.read:/a%20b", OpRead, "/a%20b", false},
		{"storage.read:/a%2Fb", OpRead, "/a/b", false},
		{"storage.read:/100%25", OpRead, "/100%/f", true},
		// storage.read: read and stat only.
		{"storage.read:/d", OpRead, "/d/f", true},
		{"storage.read:/d", OpStat, "/d/f", true},
		{"storage.read:/d", OpCreate, "/d/f", false},
		{"storage.read:/d", OpModify, "/d/f", false},
		{"storage.read:/d", OpDelete, "/d/f", false},
		{"storage.read:/d", OpRename, "/d/f", false},
		{"storage.read:/d", OpStage, "/d/f", false},
		{"storage.read:/d", OpPoll, "/d/f", false},
		// storage.create: create (and rename, stat), neither read nor overwrite nor delete.
		{"storage.create:/d", OpCreate, "/d/f", true},
		{"storage.create:/d", OpCreate, "/d/sub/", true},
		{"storage.create:/d", OpRename, "/d/tmp/f", true},
		{"storage.create:/d", OpStat, "/d/f", true},
		{"storage.create:/d", OpRead, "/d/f", false},
		{"storage.create:/d", OpModify, "/d/f", false},
		{"storage.create:/d", OpDelete, "/d/f", false},
		{"storage.create:/d", OpStage, "/d/f", false},
		{"storage.create:/d", OpCreate, "/e/f", false},
		// storage.modify: a strict superset of create; no read.
		{"storage.modify:/d", OpCreate, "/d/f", true},
		{"storage.modify:/d", OpModify, "/d/f", true},
		{"storage.modify:/d", OpDelete, "/d/f", true},
		{"storage.modify:/d", OpRename, "/d/f", true},
		{"storage.modify:/d", OpStat, "/d/f", true},
		{"storage.modify:/d", OpCreate, "/", false},
		{"storage.modify:/d/e", OpCreate, "/d/", true}, // leading directory
		{"storage.modify:/d", OpRead, "/d/f", false},
		{"storage.modify:/d", OpStage, "/d/f", false},
		// storage.stage: stage, poll, stat; no read.
		{"storage.stage:/tape", OpStage, "/tape/f", true},
		{"storage.stage:/tape", OpPoll, "/tape/f", true},
		{"storage.stage:/tape", OpStat, "/tape/f", true},
		{"storage.stage:/tape", OpRead, "/tape/f", false},
		{"storage.stage:/tape", OpCreate, "/tape/f", false},
		{"storage.stage:/tape", OpStage, "/tapes/f", false},
		// storage.poll: poll only.
		{"storage.poll:/", OpPoll, "/tape/f", true},
		{"storage.poll:/", OpStage, "/tape/f", false},
		{"storage.poll:/", OpStat, "/tape/f", false},
		{"storage.poll:/", OpRead, "/tape/f", false},
		// §2.2.1: storage.create:/foo/bar must allow ...
		{"storage.create:/foo/bar", OpCreate, "/foo/", true},        // "a leading directory /foo"
		{"storage.create:/foo/bar", OpCreate, "/foo/bar", true},     // "a directory or file /foo/bar"
		{"storage.create:/foo/bar", OpCreate, "/foo/bar/", true},    //
		{"storage.create:/foo/bar", OpCreate, "/foo/bar/qux", true}, // "a directory or file /foo/bar/qux"
		{"storage.create:/foo/bar", OpCreate, "/foo/bar/qux/", true},
		// ... and must deny
		{"storage.create:/foo/bar", OpCreate, "/foo", false},         // "a file /foo"
		{"storage.create:/foo/bar", OpCreate, "/foo/bargain", false}, // "a directory or file /foo/bargain"
		{"storage.create:/foo/bar", OpCreate, "/foo/bargain/", false},
		{"storage.create:/foo/bar", OpCreate, "/", false},
		{"storage.create:/foo/bar", OpCreate, "/fo/", false},
		// storage.create:/foo/bar/ "must also deny the creation of a file /foo/bar"
		{"storage.create:/foo/bar/", OpCreate, "/foo/bar", false},
		{"storage.create:/foo/bar/", OpCreate, "/foo/bar/", true},
		{"storage.create:/foo/bar/", OpCreate, "/foo/bar/qux", true},
		{"storage.create:/foo/bar/", OpCreate, "/foo/", true},
		// Leading directories are a create-only rule.
		{"storage.read:/foo/bar", OpRead, "/foo/", false},
		{"storage.read:/foo/bar", OpStat, "/foo/", false},
		{"storage.modify:/foo/bar", OpDelete, "/foo/", false},
		// Several scopes: any one suffices.
		{"storage.read:/a storage.read:/b", OpRead, "/b/x", true},
		{"storage.read:/a storage.create:/b", OpCreate, "/a/x", false},
		// Compute: op is the kind, path ignored.
		{"compute.create", ComputeCreate, "", true},
		{"compute.create", ComputeCreate, "/whatever", true},
		{"compute.create", ComputeRead, "", false},
		{"compute.create", ComputeCancel, "", false},
		{"compute.read compute.cancel", ComputeCancel, "", true},
		{"storage.modify:/", ComputeCreate, "", false},
		{"compute.create", OpCreate, "/x", false},
		// Unknown scopes and operations grant nothing.
		{"storage.list:/ openid wlcg.groups:/cms", OpRead, "/x", false},
		{"compute.create:/q", ComputeCreate, "", false},
		{"storage.read:/", "list", "/x", false},
		{"storage.read:/", "", "/x", false},
		{"storage.read:/", StorageRead, "/x", false},
		{"", OpRead, "/x", false},
	}
	for _, tt := range tests {
		sc := mustScopes(t, tt.scope)
		if got := Allows(sc, tt.op, tt.path); got != tt.want {
			t.Errorf("Allows(%q, %q, %q) = %v, want %v", tt.scope, tt.op, tt.path, got, tt.want)
		}
	}
}

// Scopes built by hand are checked as strictly as parsed ones.
func TestAllowsHandBuiltScopes(t *testing.T) {
	for _, s := range []Scope{
		{StorageRead, ""},
		{StorageRead, "cms"},
		{StorageRead, "/cms/.."},
		{StorageRead, "//"},
		{StorageRead, "/a%zz"},
		{"storage.list", "/"},
		{ComputeRead, "/x"},
	} {
		for _, op := range []string{OpRead, ComputeRead} {
			if Allows([]Scope{s}, op, "/cms/x") {
				t.Errorf("Allows(%v, %q) = true", s, op)
			}
		}
	}
	if !Allows([]Scope{{StorageRead, "/cms"}}, OpRead, "/cms/x") {
		t.Error("hand-built valid scope denied")
	}
}

// The §2.2.3 example: resource https://storage.site.org maps issuer
// https://vo.example.org to prefix /vo; the token has
// "storage.read:/ storage.create:/stageout".
func TestAllowsProfilePrefixExample(t *testing.T) {
	sc := mustScopes(t, "storage.read:/ storage.create:/stageout")
	check := func(op, urlPath string) bool {
		p, ok := StripPrefix("/vo", urlPath)
		return ok && Allows(sc, op, p)
	}
	tests := []struct {
		op, path string
		want     bool
	}{
		{OpRead, "/vo/sample_file1", true},             // GET
		{OpRead, "/vo/stageout/sample_file2", true},    // GET
		{OpCreate, "/vo/stageout/sample_file3", true},  // PUT
		{OpRead, "/sample_file", false},                // GET outside the VO area
		{OpCreate, "/vo/sample_file1", false},          // PUT outside stageout
		{OpRead, "/vox/sample_file1", false},           // not under /vo by component
		{OpRead, "/vo/../other/sample_file1", false},   // traversal
		{OpModify, "/vo/stageout/sample_file2", false}, // overwrite needs modify
	}
	for _, tt := range tests {
		if got := check(tt.op, tt.path); got != tt.want {
			t.Errorf("%s %s = %v, want %v", tt.op, tt.path, got, tt.want)
		}
	}
}

func TestStripPrefix(t *testing.T) {
	tests := []struct {
		prefix, p, want string
		ok              bool
	}{
		{"/vo", "/vo/data/f", "/data/f", true},
		{"/vo", "/vo", "/", true},
		{"/vo", "/vo/", "/", true},
		{"/vo/", "/vo/x", "/x", true},
		{"/vo", "/vox/f", "", false},
		{"/vo", "/v", "", false},
		{"/vo", "/other/vo/f", "", false},
		{"/", "/a", "/a", true},
		{"", "/a", "/a", true},
		{"", "a", "", false},
		{"/a/b", "/a/b/c", "/c", true},
		{"/a/b", "/a/bc", "", false},
	}
	for _, tt := range tests {
		got, ok := StripPrefix(tt.prefix, tt.p)
		if got != tt.want || ok != tt.ok {
			t.Errorf("StripPrefix(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.p, got, ok, tt.want, tt.ok)
		}
	}
}
