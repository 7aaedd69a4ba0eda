package review

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// TestTailPercentile: a tail is judged at the percentile its budget names,
// and only where every round of both schemes has the operations that
// percentile needs (1,000 for p99, 100 for p90); the table says which.
func TestTailPercentile(t *testing.T) {
	cmd := vocab.OpCLICommand
	for _, tc := range []struct {
		pct   float64
		ops   int
		want  string
		valid bool
	}{{99, 1000, "p99", true}, {99, 999, "p99", false}, {90, 200, "p90", true}, {90, 99, "p90", false}, {50, 20, "p50", true}} {
		f := fig{ops: tc.ops}
		b := map[string]time.Duration{vocab.BudgetName(vocab.BudgetKindCommand, tc.pct): 50 * ms}
		run := newRun(b).add("review-cli", plain, cmd, rounds(6, 10*ms, func(int) time.Duration { return 0 }, f)...).
			add("review-cli", planA, cmd, rounds(6, 10*ms, steady(1*ms), f)...)
		m := evaluate(t, []*results.Run{run.run}, Options{})
		a := find(t, m, "Q-A/B")
		st := a.Rows[0].judged()
		if st.Tail != tc.want || st.Valid != tc.valid {
			t.Errorf("p%v budget, %d ops a round: tail %s valid %v, want %s valid %v", tc.pct, tc.ops, st.Tail, st.Valid, tc.want, tc.valid)
		}
		if !tc.valid && a.Rows[0].Decision != Inconclusive {
			t.Errorf("p%v budget, %d ops a round: decision %q, want inconclusive", tc.pct, tc.ops, a.Rows[0].Decision)
		}
		var buf bytes.Buffer
		if err := Markdown(&buf, m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "Δ command "+tc.want) {
			t.Errorf("%d ops a round: the table does not head its column %q", tc.ops, "Δ command "+tc.want)
		}
	}
}

// TestNegativeCost: a scheme measured faster than the baseline never
// "adds -X": it costs nothing measurable, with the interval.
func TestNegativeCost(t *testing.T) {
	cmd := vocab.OpCLICommand
	run := newRun(budgets).add("review-cli", plain, cmd, base(6)...).
		add("review-cli", planA, cmd, rounds(6, 10*ms, steady(-5*ms), fig{})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	a := find(t, m, "Q-A/B")
	f := a.Rows[0].finding()
	if !strings.Contains(f, "costs nothing measurable in command p90 (it measured 4.5ms lower; 95 % CI (96.9 % achieved) -7ms to -2ms, 6 rounds)") {
		t.Errorf("finding %q", f)
	}
	if strings.Contains(f+a.Verdict.Text, "adds -") {
		t.Errorf("a negative cost reads as added: %s / %s", f, a.Verdict.Text)
	}
}

// TestClaimsDecideNotNames: a scheme is chosen by its declared claims and
// parsed spec; results without claims answer nothing.
func TestClaimsDecideNotNames(t *testing.T) {
	cmd := vocab.OpCLICommand
	run := newRun(budgets).add("review-cli", plain, cmd, base(6)...).
		add("review-cli", tscheme{"curve", vocab.Claims{Authenticates: true}}, cmd, rounds(6, 10*ms, steady(1*ms), fig{})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	if a := find(t, m, "Q-curve"); a.Verdict.Outcome != "no-data" {
		t.Errorf("a scheme named curve that declares no confidentiality answered Q-curve: %s", a.Verdict.Text)
	}
	for _, r := range run.run.Results {
		r.Claims = nil
	}
	m = evaluate(t, []*results.Run{run.run}, Options{})
	for _, a := range m.Questions {
		if a.Verdict.Outcome != "no-data" {
			t.Errorf("%s answered from results without declared claims", a.ID)
		}
	}
}

// TestJSONRoundTrip: the model survives JSON, so another tool can read it.
func TestJSONRoundTrip(t *testing.T) {
	cmd := vocab.OpCLICommand
	run := newRun(budgets).add("review-cli", plain, cmd, base(6)...).add("review-cli", planA, cmd, rounds(6, 10*ms, steady(1*ms), fig{})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	var buf bytes.Buffer
	if err := JSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	a := find(t, &back, "Q-A/B")
	if a.Verdict.Outcome != "plan-a" || a.Rows[0].Decision != Within || a.Rows[0].Budget != float64(50*ms) {
		t.Errorf("round trip lost the verdict: %+v", a.Verdict)
	}
}

// TestJSONTooFewRounds: an interval too few rounds can bound is null in
// JSON, not an encoding error.
func TestJSONTooFewRounds(t *testing.T) {
	cmd := vocab.OpCLICommand
	run := newRun(budgets).add("review-cli", plain, cmd, base(3)...).add("review-cli", planA, cmd, rounds(3, 10*ms, steady(1*ms), fig{})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	var buf bytes.Buffer
	if err := JSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"lo": null`) {
		t.Errorf("no null bound in %s", buf.String())
	}
	var back Model
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if st := find(t, &back, "Q-A/B").Rows[0].judged(); st.decidable() {
		t.Errorf("an undecidable interval came back decidable: %+v", st.CI)
	}
}

// TestIssuerNote: a scheme whose issuer runs inside the WFS gets a note
// bounding the issuer's share of the WFS CPU by its requests; others none.
func TestIssuerNote(t *testing.T) {
	cmd := vocab.OpCLICommand
	st := map[string]float64{"wlcg.issuer.token_requests": 2, "wlcg.issuer.discovery": 1, "wlcg.issuer.jwks": 1}
	run := newRun(budgets).add("review-cli", plain, cmd, base(6)...).
		add("review-cli", planA, cmd, rounds(6, 10*ms, steady(1*ms), fig{})...).
		add("review-cli", tscheme{"wlcg", vocab.Claims{Authenticates: true, Expires: true}}, cmd, rounds(6, 10*ms, steady(1*ms), fig{stats: st})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	if a := find(t, m, "Q-A/B"); len(a.Rows) == 0 || slices.ContainsFunc(a.Notes, func(n string) bool { return strings.Contains(n, "issuer") }) {
		t.Fatalf("Q-A/B (no wlcg row): rows %d, notes %q", len(a.Rows), a.Notes)
	}
	a := find(t, m, "Q-jose")
	var notes []string
	for _, n := range a.Notes {
		if strings.Contains(n, "issuer") {
			notes = append(notes, n)
		}
	}
	want := "`wlcg` in review-cli runs its issuer inside the WFS process, so its WFS CPU includes the issuer's: 12 token requests (and 12 discovery and JWKS requests) against 1200 WFS requests over 6 rounds, 20.0 per 1,000"
	if len(notes) != 1 || !strings.HasPrefix(notes[0], want) {
		t.Fatalf("notes %q, want one starting %q", notes, want)
	}
}

// TestVerdictNamesFSModel: a verdict says which file-system model its
// figures hold for: the disk as measured, or the model the runs applied.
func TestVerdictNamesFSModel(t *testing.T) {
	msg := vocab.OpJobMessage
	for _, tc := range []struct{ model, want string }{
		{"", "File system: these figures hold for the run directory's own disk, no latency model."},
		{"model=nfs-lan,metadata_rtt=1ms,fsync=5ms", "File system: these figures hold for the file-system model `model=nfs-lan,metadata_rtt=1ms,fsync=5ms`."},
	} {
		run := newRun(budgets).add("review-jobs", plain, msg, base(6)...).
			add("review-jobs", jobFile, msg, rounds(6, 10*ms, steady(1*ms), fig{files: 1})...)
		for _, r := range run.run.Results {
			r.FSModel = tc.model
		}
		m := evaluate(t, []*results.Run{run.run}, Options{})
		if a := find(t, m, "Q-job"); !strings.HasSuffix(a.Verdict.Text, tc.want) {
			t.Errorf("model %q: verdict %q does not end %q", tc.model, a.Verdict.Text, tc.want)
		}
		if a := find(t, m, "Q-wlcg"); strings.Contains(a.Verdict.Text, "File system") {
			t.Errorf("an unanswered question names a file system: %q", a.Verdict.Text)
		}
	}
}

// TestFamilyHolm: with few rounds, decisions of many rows at once do not
// survive Holm's procedure, and the Summary says so and from how many
// rounds they would; with enough rounds they do.
func TestFamilyHolm(t *testing.T) {
	cmd := vocab.OpCLICommand
	for _, tc := range []struct {
		n        int
		wantKept int
		want     string
	}{
		{6, 0, "keeps 0 of the 2 decisions; a row whose every round falls on one side of its budget survives it from 7 rounds"},
		{12, 2, "keeps 2 of the 2 decisions."},
	} {
		run := newRun(budgets).add("review-cli", plain, cmd, base(tc.n)...).
			add("review-cli", planA, cmd, rounds(tc.n, 10*ms, steady(1*ms), fig{})...).
			add("review-cli", planB1, cmd, rounds(tc.n, 10*ms, steady(1*ms), fig{})...)
		m := evaluate(t, []*results.Run{run.run}, Options{})
		f := m.Family
		// Q-A/B judges both plans; Q-jose judges neither (no confidential
		// scheme), Q-curve none: two rows in all.
		if f.Decided != f.Judged || f.HolmKept != tc.wantKept {
			t.Errorf("%d rounds: family %+v, want every judged row decided and %d kept", tc.n, f, tc.wantKept)
		}
		var b bytes.Buffer
		if err := Markdown(&b, m); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tc.want) {
			t.Errorf("%d rounds: summary lacks %q:\n%s", tc.n, tc.want, b.String())
		}
		if strings.Contains(b.String(), "repeated looks") {
			t.Errorf("a run without -until-decisive says it looked repeatedly")
		}
		run.run.Stop = "every question is decisive after 6 rounds"
		m = evaluate(t, []*results.Run{run.run}, Options{})
		if !m.Family.Sequential {
			t.Error("a run that stopped when decisive is not marked sequential")
		}
	}
}

// TestFlips: the verdict says at which budgets it would change. Plan A
// adds 20-25 ms, plan B 0-5 ms, against 50 ms: below 25 ms plan A's
// interval straddles the budget, below 20 ms it is over and plan B wins;
// no budget above 50 ms changes anything.
func TestFlips(t *testing.T) {
	cmd := vocab.OpCLICommand
	run := newRun(budgets).add("review-cli", plain, cmd, base(6)...).
		add("review-cli", planA, cmd, rounds(6, 10*ms, steady(22*ms), fig{})...).
		add("review-cli", planB1, cmd, rounds(6, 10*ms, steady(2*ms), fig{})...)
	m := evaluate(t, []*results.Run{run.run}, Options{})
	a := find(t, m, "Q-A/B")
	v := a.Verdict
	if v.Outcome != "plan-a" || v.FlipAbove != nil || v.FlipBelow == nil || v.FlipBelow.Then == nil {
		t.Fatalf("verdict %s, flips %+v / %+v", v.Outcome, v.FlipBelow, v.FlipAbove)
	}
	near := func(x float64, d time.Duration) bool { return math.Abs(x-float64(d)) < 0.01*float64(d) } // histograms keep 3 digits
	if b, th := v.FlipBelow, v.FlipBelow.Then; b.Outcome != "inconclusive" || !near(b.Budget, 25*ms) || th.Outcome != "plan-b" || !near(th.Budget, 20*ms) {
		t.Errorf("flip below %+v then %+v; want inconclusive at 25ms, plan-b at 20ms", b, th)
	}
	var out bytes.Buffer
	if err := Markdown(&out, m); err != nil {
		t.Fatal(err)
	}
	if want := "below a budget of 25ms it would read `inconclusive`, and below a budget of 20ms `plan-b`"; !strings.Contains(out.String(), want) {
		t.Errorf("markdown lacks %q", want)
	}
	// Plan B alone within at any budget over 5 ms: nothing above flips.
	run = newRun(budgets).add("review-cli", plain, cmd, base(6)...).
		add("review-cli", planA, cmd, rounds(6, 10*ms, steady(2*ms), fig{})...)
	a = find(t, evaluate(t, []*results.Run{run.run}, Options{}), "Q-A/B")
	if a.Verdict.FlipAbove != nil {
		t.Errorf("a verdict no larger budget changes has a flip above: %+v", a.Verdict.FlipAbove)
	}
}
