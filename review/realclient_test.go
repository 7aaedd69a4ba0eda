package review

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// pyScenario is the scenario the real client tests run in.
const pyScenario = "review-python"

// pySource is review-python's stated budget source.
const pySource = "a tenth of the 1.2 s the fastest real `cylc message` took in cylc-flow PR 5790 (1.2-1.7 s)"

// realRounds adds one real client round per element of walls to sc: a
// process per wall, its CPU a quarter of it; errs[i] fails process i of
// every round.
func (b *builder) realRounds(sc string, walls [][]time.Duration, errs map[int]string) *builder {
	for n, ws := range walls {
		rc := &results.RealClients{Scenario: sc, Round: n + 1, Server: "cylc-flow 8.4.4", Command: "cylc message -- WORKFLOW JOB TEXT"}
		for i, w := range ws {
			rc.Processes = append(rc.Processes, results.ClientProcess{Job: "1/j", Wall: w, CPU: w / 4, Err: errs[i]})
		}
		b.run.RealClients = append(b.run.RealClients, rc)
	}
	return b
}

// realWalls are n rounds of 12 processes, round r's all at at+r ms.
func realWalls(n int, at time.Duration) [][]time.Duration {
	out := make([][]time.Duration, n)
	for r := range out {
		for range 12 {
			out[r] = append(out[r], at+time.Duration(r+1)*ms)
		}
	}
	return out
}

// pyRun is review-python with plain and curve (curve adding add per
// process over plain's 300 ms), its budget 120 ms with the PR 5790 source
// and, when share > 0, stated as that share of the real client's time.
func pyRun(share float64, add time.Duration) *builder {
	b := newRun(map[string]time.Duration{budgetPython: 120 * ms})
	b.sources = map[string]string{budgetPython: pySource}
	if share > 0 {
		b.shares = map[string]float64{budgetPython: share}
	}
	b.server = vocab.ServerModelCylc
	b.add(pyScenario, plain, opPyProc, rounds(8, 300*ms, func(int) time.Duration { return 0 }, fig{})...)
	return b.add(pyScenario, curve, opPyProc, rounds(8, 300*ms, steady(add), fig{})...)
}

// pyAnswer is Q-python's answer over b, with its markdown.
func pyAnswer(t *testing.T, b *builder) (*Answer, string) {
	t.Helper()
	m := evaluate(t, []*results.Run{b.run}, Options{})
	var buf bytes.Buffer
	if err := Markdown(&buf, m); err != nil {
		t.Fatal(err)
	}
	return find(t, m, "Q-python"), buf.String()
}

// TestRealClientBudget: where the scenario states its budget as a share
// of a real client's time and the run measured one, the budget is the
// share of the real processes' median wall time pooled over rounds, its
// source says so with the figures, and added times are stated against the
// same figure; otherwise the stated budget stands, with a note saying why
// and how to measure one.
func TestRealClientBudget(t *testing.T) {
	const pooled = 404500 * time.Microsecond // rounds at 401..408 ms: the median of 96
	failed := map[int]string{}
	for i := range 12 {
		failed[i] = "connection refused"
	}
	cases := []struct {
		name   string
		run    *builder
		budget time.Duration
		client time.Duration // the row's yardstick (0: PR 5790's)
		source []string      // fragments of the budget's source
		notes  []string      // fragments of the answer's notes
		md     []string      // fragments of the markdown
	}{
		{name: "share of the real median", run: pyRun(0.1, 5*ms).realRounds(pyScenario, realWalls(8, 400*ms), nil),
			budget: pooled / 10, client: pooled,
			source: []string{"a tenth (0.1) of the median wall time of the real `cylc message` measured in this run: 405ms [401ms, 407ms] over 96 processes in 8 rounds (the 95 % interval of the median over the per-round medians), against cylc-flow 8.4.4 (0 failed); cylc-flow PR 5790 measured 1.2-1.7 s on its machines"},
			md: []string{"- Budget `python_added_budget` in review-python: 40.5ms (source: a tenth (0.1) of the median wall time",
				"that is 1.1 % of the 405ms the real `cylc message` took in this run, the median wall time of 96 processes in 8 rounds against cylc-flow 8.4.4 (cylc-flow PR 5790: 1.2-1.7 s); budget 40.5ms: **within budget**",
				"1.1 % of the 405ms the real `cylc message` took in this run (median wall time)"}},
		{name: "some failed", run: pyRun(0.2, 5*ms).realRounds(pyScenario, realWalls(8, 400*ms), map[int]string{0: "timeout"}),
			budget: pooled / 5, client: pooled,
			source: []string{"a fifth (0.2) of the median wall time", "over 88 processes in 8 rounds", "(8 failed)"}},
		{name: "no real client", run: pyRun(0.1, 5*ms), budget: 120 * ms,
			source: []string{pySource},
			notes: []string{"No real `cylc message` was measured in review-python: its budget `python_added_budget` is the one the scenario states, 120ms (source: " + pySource + "), not a tenth (0.1) of a real client's median wall time measured in the same run",
				"`authbench run -scenario review-python -schemes plain,curve -cylc CONTACT`", "`scripts/cylc/peer.sh run CMD...`"}},
		{name: "every real client failed", run: pyRun(0.1, 5*ms).realRounds(pyScenario, realWalls(2, 400*ms), failed), budget: 120 * ms,
			source: []string{pySource},
			notes:  []string{"Every real `cylc message` measured in review-python failed (24 processes in 2 rounds; the first: connection refused): its budget `python_added_budget` is the one the scenario states, 120ms"}},
		// Without a share the stated budget stands, but the yardstick is
		// still the real client of the same run.
		{name: "real client, no share", run: pyRun(0, 5*ms).realRounds(pyScenario, realWalls(8, 400*ms), nil),
			budget: 120 * ms, client: pooled, source: []string{pySource}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, md := pyAnswer(t, tc.run)
			if len(a.Rows) != 1 || len(a.Budgets) != 1 {
				t.Fatalf("rows %d, budgets %d", len(a.Rows), len(a.Budgets))
			}
			r, u := a.Rows[0], a.Budgets[0]
			if time.Duration(r.Budget) != tc.budget || time.Duration(u.Value) != tc.budget {
				t.Errorf("budget %v (listed %v), want %v", time.Duration(r.Budget), time.Duration(u.Value), tc.budget)
			}
			for _, f := range tc.source {
				if !strings.Contains(u.Source, f) {
					t.Errorf("source %q lacks %q", u.Source, f)
				}
			}
			switch {
			case tc.client == 0 && r.Client != nil:
				t.Errorf("yardstick %+v, want PR 5790's", r.Client)
			case tc.client > 0 && (r.Client == nil || r.Client.Cost != tc.client || !r.Client.SameRun):
				t.Errorf("yardstick %+v, want %v of the same run", r.Client, tc.client)
			}
			notes := strings.Join(a.Notes, "\n")
			for _, f := range tc.notes {
				if !strings.Contains(notes, f) {
					t.Errorf("notes lack %q:\n%s", f, notes)
				}
			}
			if len(tc.notes) == 0 && strings.Contains(notes, "`cylc message` was measured") {
				t.Errorf("a fallback note where none is due:\n%s", notes)
			}
			for _, f := range tc.md {
				if !strings.Contains(md, f) {
					t.Errorf("markdown lacks %q", f)
				}
			}
		})
	}
}

// withCPU records, in every result of scheme in b's scenario sc, the
// stand-in's CPU per process at cpu.
func withCPU(b *builder, sc, scheme string, cpu time.Duration) *builder {
	for _, r := range b.run.Results {
		if r.Scenario != sc || r.Scheme != scheme {
			continue
		}
		h := results.NewHistogram()
		for range 200 {
			h.Record(cpu)
		}
		r.Ops = append(r.Ops, &results.Op{Name: vocab.OpJobProcessCPU, Count: 200, Hist: h})
	}
	return b
}

// spreadWalls are 8 rounds of 12 processes, round r's all at
// 300 + 50 r ms: a wide interval for the real median.
func spreadWalls() [][]time.Duration {
	out := make([][]time.Duration, 8)
	for r := range out {
		for range 12 {
			out[r] = append(out[r], 300*ms+time.Duration(r)*50*ms)
		}
	}
	return out
}

// TestRealClientBeside: the real client's wall and CPU per process stand
// beside the stand-in's under each scheme, with their ratios; and whether
// the verdict holds at the budgets from both ends of the real median's
// interval is judged from the rows' intervals: it holds where the rows
// are far from both, and not where the interval's ends fall on either
// side of a row.
func TestRealClientBeside(t *testing.T) {
	const pooled = 404500 * time.Microsecond
	cases := []struct {
		name     string
		run      *builder
		wall     time.Duration // the real median
		outcome  string
		low, hig string // the outcomes at the ends
		words    []string
	}{
		{name: "holds", run: pyRun(0.1, 5*ms).realRounds(pyScenario, realWalls(8, 400*ms), nil),
			wall: pooled, outcome: "lost", low: "lost", hig: "lost",
			words: []string{"At the budgets from both ends of the real median's interval, 40.1ms (0.1 × 401ms) and 40.7ms (0.1 × 407ms), the verdict would read `lost` and `lost`: it holds across the interval."}},
		// Rounds at 300..650 ms: the budget runs from 0.1 × 300 ms to
		// 0.1 × 600 ms or so, and a scheme adding 48 ms is over at one
		// end and within at the other (and straddles the median's).
		{name: "straddles", run: pyRun(0.1, 48*ms).realRounds(pyScenario, spreadWalls(), nil),
			wall: 475 * ms, outcome: "inconclusive", low: "matters", hig: "lost",
			words: []string{"the verdict would read `matters` and `lost` against `inconclusive` at the median's: it does not hold across the interval"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, md := pyAnswer(t, withCPU(tc.run, pyScenario, "curve", 80*ms))
			if a.Verdict.Outcome != tc.outcome {
				t.Fatalf("verdict %q, want %q: %s", a.Verdict.Outcome, tc.outcome, a.Verdict.Text)
			}
			if len(a.RealClients) != 1 {
				t.Fatalf("%d real clients, want 1", len(a.RealClients))
			}
			u := a.RealClients[0]
			if time.Duration(u.Wall.CI.Center) != tc.wall || time.Duration(u.CPU.CI.Center) != tc.wall/4 {
				t.Errorf("real wall %v CPU %v, want %v and %v", time.Duration(u.Wall.CI.Center), time.Duration(u.CPU.CI.Center), tc.wall, tc.wall/4)
			}
			if u.Processes != 96 || u.Rounds != 8 || u.Failed != 0 || u.Server != "cylc-flow 8.4.4" {
				t.Errorf("real %d processes in %d rounds, %d failed, against %q", u.Processes, u.Rounds, u.Failed, u.Server)
			}
			if len(u.StandIns) != 2 || u.StandIns[0].Scheme != "plain" || u.StandIns[1].Scheme != "curve" {
				t.Fatalf("stand-ins %+v", u.StandIns)
			}
			p, c := u.StandIns[0], u.StandIns[1]
			// The stand-in's figures come from histograms: near, not equal.
			if p.Processes != 1600 || !near(p.Wall.CI.Center, float64(300*ms)) || p.CPU.Valid || p.CPURatio != 0 {
				t.Errorf("plain's stand-in %+v", p)
			}
			if p.WallRatio != p.Wall.CI.Center/u.Wall.CI.Center || !near(p.WallRatio, float64(300*ms)/float64(tc.wall)) {
				t.Errorf("plain's wall ratio %v, want about %v", p.WallRatio, float64(300*ms)/float64(tc.wall))
			}
			if !near(c.CPU.CI.Center, float64(80*ms)) || c.CPURatio != c.CPU.CI.Center/u.CPU.CI.Center {
				t.Errorf("curve's stand-in CPU %v, ratio %v", time.Duration(c.CPU.CI.Center), c.CPURatio)
			}
			e := u.Ends
			if e == nil || !e.Bounded || e.AtLow != tc.low || e.AtHigh != tc.hig || e.Low != 0.1*u.Wall.CI.Lo || e.High != 0.1*u.Wall.CI.Hi {
				t.Errorf("ends %+v, want %q and %q at 0.1 × [%v, %v]", e, tc.low, tc.hig, u.Wall.CI.Lo, u.Wall.CI.Hi)
			}
			for _, f := range append(tc.words, "**The real client beside the stand-in** in review-python", "| real `cylc message` |", "| stand-in, `curve`   |", ratioCell(c.CPURatio)) {
				if !strings.Contains(md, f) {
					t.Errorf("markdown lacks %q", f)
				}
			}
		})
	}
}

// TestRealClientEndsUnbounded: too few rounds of the real client for an
// interval of its median: the budget is still its share of the median,
// and the words say the ends are not known.
func TestRealClientEndsUnbounded(t *testing.T) {
	a, md := pyAnswer(t, pyRun(0.1, 5*ms).realRounds(pyScenario, realWalls(3, 400*ms), nil))
	if len(a.RealClients) != 1 || a.RealClients[0].Ends == nil || a.RealClients[0].Ends.Bounded {
		t.Fatalf("real clients %+v", a.RealClients)
	}
	if got := time.Duration(a.Rows[0].Budget); got != 40200*time.Microsecond {
		t.Errorf("budget %v, want 40.2ms", got)
	}
	for _, f := range []string{"3 rounds with a message taken: too few for a 95 % interval", "(3 rounds with a message taken are too few): whether the verdict holds across it is not known"} {
		if !strings.Contains(md, f) {
			t.Errorf("markdown lacks %q", f)
		}
	}
}

// near reports whether x is within 0.1 % of want.
func near(x, want float64) bool { return math.Abs(x-want) <= 0.001*math.Abs(want) }
