package review

import (
	"bytes"
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
