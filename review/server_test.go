package review

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// TestCylcJudgedFastReference: where a question's scenarios ran under the
// cylc model, rows of the fast server are shown for reference, labelled,
// never judged nor counted in the family; a scenario with no budget of
// the kind is not judged either; the budget's source is printed.
func TestCylcJudgedFastReference(t *testing.T) {
	cmd := vocab.OpCLICommand
	p50 := vocab.BudgetName(vocab.BudgetKindCommand, 50)
	src := "Nielsen 1993, section 5.5"
	cylc := newRun(map[string]time.Duration{p50: 100 * ms})
	cylc.server, cylc.sources = vocab.ServerModelCylc, map[string]string{p50: src}
	cylc.add("review-cli", plain, cmd, base(8)...).add("review-cli", planA, cmd, rounds(8, 10*ms, steady(200*ms), fig{})...)
	// The fast server: plan A far cheaper; judged, it would be within.
	fast := newRun(map[string]time.Duration{p50: 100 * ms})
	fast.server = vocab.ServerModelFast
	fast.add("review-cli-fast", plain, cmd, base(8)...).add("review-cli-fast", planA, cmd, rounds(8, 10*ms, steady(3*ms), fig{})...)
	// No budget: shown, not judged.
	none := newRun(nil)
	none.server = vocab.ServerModelCylc
	none.add("cli-interactive", plain, cmd, base(8)...).add("cli-interactive", planA, cmd, rounds(8, 10*ms, steady(3*ms), fig{})...)

	m := evaluate(t, []*results.Run{cylc.run, fast.run, none.run}, Options{})
	a := find(t, m, "Q-A/B")
	if a.Server != vocab.ServerModelCylc || len(a.Rows) != 1 || a.Rows[0].Scenario != "review-cli" {
		t.Fatalf("judged rows %+v on %q, want review-cli's only, on cylc", a.Rows, a.Server)
	}
	if a.Rows[0].Decision != Over {
		t.Errorf("review-cli plan A: %q, want over budget (+200 ms against 100 ms)", a.Rows[0].Decision)
	}
	got := map[string]Decision{}
	for _, r := range a.Reference {
		got[r.Scenario] = r.Decision
	}
	if got["review-cli-fast"] != Reference || got["cli-interactive"] != NoBudget || len(got) != 2 {
		t.Errorf("reference rows %v, want review-cli-fast as reference and cli-interactive with no budget", got)
	}
	if m.Family.Judged != 1 {
		t.Errorf("family judged %d rows, want 1 (reference rows are not judged)", m.Family.Judged)
	}
	if len(a.Budgets) != 1 || a.Budgets[0].Source != src || a.Budgets[0].Name != p50 {
		t.Errorf("budgets %+v, want %s with its source", a.Budgets, p50)
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Judged on the cylc model", "source: " + src, string(Reference), string(NoBudget), "| review-cli-fast | fast"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	// With no cylc row at all, the fast rows are judged, and the section
	// says they hold for that server only.
	m = evaluate(t, []*results.Run{fast.run}, Options{})
	a = find(t, m, "Q-A/B")
	if len(a.Rows) != 1 || a.Rows[0].Decision != Within || a.Server != vocab.ServerModelFast {
		t.Fatalf("fast alone: rows %+v on %q, want one within budget on fast", a.Rows, a.Server)
	}
	buf.Reset()
	if err := Markdown(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "not Cylc's") {
		t.Errorf("fast alone: the section does not say its verdicts are not Cylc's")
	}
}

// TestKeysScaleNotes: per-job keys' extra WFS CPU per job message at 100 and
// 1,000 live keys gives the growth law (10-fold: linear) and the cost of
// one re-read of the key folder.
func TestKeysScaleNotes(t *testing.T) {
	msg := vocab.OpJobMessage
	run := newRun(nil)
	run.server = vocab.ServerModelCylc
	for _, sc := range []struct {
		name     string
		cpu      time.Duration // per op, per-job keys
		reloadNS float64
		files    float64
	}{{"review-keys-100", 2 * ms, 1.6e6, 100}, {"review-keys-1000", 11 * ms, 16e6, 1000}} {
		run.add(sc.name, curve, msg, rounds(3, 10*ms, steady(0), fig{cpu: ms})...)
		stats := map[string]float64{"zap.reloads": 200, "zap.reload_ns_mean": sc.reloadNS, "zap.reload_files_read": 200 * sc.files}
		run.add(sc.name, curveJob, msg, rounds(3, 10*ms, steady(0), fig{cpu: sc.cpu, stats: stats})...)
	}
	m := evaluate(t, []*results.Run{run.run}, Options{})
	a := find(t, m, "Q-keys")
	notes := strings.Join(a.Notes, "\n")
	for _, want := range []string{"+1ms WFS CPU per job message over per-target keys at about 100 live keys", "+10ms WFS CPU per job message over per-target keys at about 1000 live keys",
		"each 1.6ms for 100 key files on average", "grew 10-fold: as the live-key count to the power 1.00"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestWLCGSiteNotes: Q-wlcg's issuer load notes are computed at the site
// given, at each of its access-token lifetimes, and cite its source; with
// no site, there are none.
func TestWLCGSiteNotes(t *testing.T) {
	run := newRun(map[string]time.Duration{vocab.BudgetName(vocab.BudgetKindTransfer, 50): 100 * ms})
	run.add("wlcg-transfer-user", tscheme{"wlcg", authn}, vocab.OpWLCGTransfer, rounds(6, 2*ms, steady(0), fig{stats: map[string]float64{statRoundTrips: 3}})...)
	s, err := issuerload.LoadSite("fts-run3")
	if err != nil {
		t.Fatal(err)
	}
	m := evaluate(t, []*results.Run{run.run}, Options{WLCG: s})
	notes := strings.Join(find(t, m, "Q-wlcg").Notes, "\n")
	for _, want := range []string{"WLCG site `fts-run3`", "118500 transfers an hour", "epjconf", "at 3 access-token lifetimes",
		"- service flow: 20 min access tokens:", "; 1 h access tokens:", "; 6 h access tokens:", "- user flow:", "- groups flow:",
		"At 20 min access tokens, one token scoped to both storage elements"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	m = evaluate(t, []*results.Run{run.run}, Options{})
	if n := find(t, m, "Q-wlcg").Notes; len(n) != 0 {
		t.Errorf("no site, notes %q", n)
	}
}

// TestDrainUses: a cylc scenario's requests per drain is the median over
// its rounds of requests ÷ drains, with the most one drain served; a fast
// scenario has none.
func TestDrainUses(t *testing.T) {
	res := func(reqs int64, drains, most float64) *results.Result {
		r := &results.Result{ServerModelStats: map[string]float64{"drains": drains, "max_drain": most}}
		r.Server.Requests = reqs
		return r
	}
	scs := []*scenario{
		{name: "site", server: vocab.ServerModelCylc, schemes: []*scheme{
			{name: "plain", rounds: map[int]*results.Result{1: res(20, 20, 1), 2: res(22, 20, 2)}},
			{name: "curve", rounds: map[int]*results.Result{1: res(21, 20, 3)}}}},
		{name: "fast", server: vocab.ServerModelFast, schemes: []*scheme{{name: "plain", rounds: map[int]*results.Result{1: res(9, 3, 3)}}}},
	}
	rows := []*Row{{Scenario: "site", Server: vocab.ServerModelCylc}, {Scenario: "site", Server: vocab.ServerModelCylc}, {Scenario: "fast", Server: vocab.ServerModelFast}}
	got := drainUses(rows, scs)
	if len(got) != 1 || got[0].Scenario != "site" || got[0].PerDrain != 1.05 || got[0].MaxDrain != 3 {
		t.Errorf("drains %+v, want site only: 1.05 per drain, at most 3", got)
	}
}
