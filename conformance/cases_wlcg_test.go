package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wlcg"
)

// wlcgIDs are the ids of the wlcg/* cases.
func wlcgIDs() []string {
	var out []string
	for _, c := range Catalogue() {
		if strings.HasPrefix(c.ID, "wlcg/") {
			out = append(out, c.ID)
		}
	}
	return out
}

// TestWLCGCases runs the wlcg/* cases on the wlcg variants the builtin
// examples leave out (TestBuiltinSchemes runs wlcg and curve+wlcg): every
// case applies and passes, and none applies to another credential.
func TestWLCGCases(t *testing.T) {
	ids := wlcgIDs()
	if len(ids) < 12 {
		t.Fatalf("%d wlcg cases, want at least 12", len(ids))
	}
	reg := schemes.Builtin()
	others, err := reg.ParseList("plain,curve,jwt,jwe,curve+passphrase:workflow")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Select(ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range others {
		for _, c := range cs {
			if c.Applies(sc) {
				t.Errorf("%s applies to %s", c.ID, sc.Name())
			}
		}
	}
	specs := "null+wlcg/RS256,curve+wlcg/RS256"
	if testing.Short() {
		specs = "curve+wlcg/RS256"
	}
	scs, err := reg.ParseList(specs)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Run(context.Background(), scs, Options{Cases: ids, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cells {
		t.Logf("%-18s %-28s %s: %s", c.Scheme, c.Case, c.Outcome, c.Detail)
		if c.Outcome != Pass || !c.Declared {
			t.Errorf("%s %s (%s, declared %v): %s", c.Scheme, c.Case, c.Outcome, c.Declared, c.Detail)
		}
	}
}

// TestWLCGStorageRuleHook checks the hook the storage cases decide with:
// wlcg.Allows on the real scheme, a weakened part's own rule on a weakened
// one, and nothing for a scheme without the wlcg credential, even when a
// wrapper of another part offers a rule.
func TestWLCGStorageRuleHook(t *testing.T) {
	lax := weakness{name: "lax", storageAllows: laxPrefix}
	read := []wlcg.Scope{{Kind: wlcg.StorageRead, Path: "/cms"}}
	for _, tc := range []struct {
		reg     *schemes.Registry
		spec    string
		none    bool
		escapes bool
	}{
		{schemes.Builtin(), "curve+wlcg", false, false},
		{weakRegistry(lax), "curve+wlcg", false, true},
		{weakRegistry(weakness{name: "none"}), "wlcg", false, false},
		{weakRegistry(lax), "curve+jwt", true, false},
		{schemes.Builtin(), "jwt", true, false},
	} {
		sc, err := tc.reg.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := StartTarget(sc, TargetConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		rule := schemes.ConformanceWLCGStorageAllows(tg.Guard)
		switch {
		case tc.none && rule != nil:
			t.Errorf("%s: a rule, want none", tc.spec)
		case !tc.none && rule == nil:
			t.Errorf("%s: no rule", tc.spec)
		case rule != nil:
			if !rule(read, wlcg.OpRead, "/cms/f") {
				t.Errorf("%s: storage.read:/cms does not read /cms/f", tc.spec)
			}
			if got := rule(read, wlcg.OpRead, "/cmsx/f"); got != tc.escapes {
				t.Errorf("%s: storage.read:/cms reads /cmsx/f: %v, want %v", tc.spec, got, tc.escapes)
			}
		}
		if err := tg.Stop(); err != nil {
			t.Error(err)
		}
	}
}
