// The real client measured in a scenario's own run (results.RealClients:
// the real `cylc message`, one process per job message, against a real
// Cylc scheduler): the yardstick a Python client scheme's added time is
// stated against, and, where the scenario states its budget as a share of
// it (budgets.python_added_budget.of_real), the budget it is judged
// against.

package review

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stats"
	"github.com/authbench/authbench/vocab"
)

// pr5790 is the context every same-run yardstick is given: what the real
// `cylc message` took where cylc-flow PR 5790 measured it.
const pr5790 = "cylc-flow PR 5790 measured 1.2-1.7 s on its machines"

// RealClientUse is the real `cylc message` measured in one scenario's own
// run, shown beside authbench's Python stand-in there.
//
// Wall and CPU are per process: the median over every process whose
// message the scheduler took, pooled over rounds, with the 95 % interval
// of the median over the per-round medians (benchmath's order-statistic
// interval, as every figure of the review: the rounds, not the processes
// within one, are the independent samples, so the interval allows for
// what changed between rounds).
type RealClientUse struct {
	Scenario string `json:"scenario"`
	// Server is the scheduler the messages went to and Command what each
	// process ran.
	Server  string `json:"server"`
	Command string `json:"command,omitempty"`
	// Processes counts the processes whose message the scheduler took,
	// Failed the others; Rounds the rounds the real client ran in, and
	// FirstError the first failed process's error.
	Processes  int    `json:"processes"`
	Failed     int    `json:"failed,omitempty"`
	Rounds     int    `json:"rounds"`
	FirstError string `json:"first_error,omitempty"`
	Wall       Stat   `json:"wall_p50"`
	CPU        Stat   `json:"cpu_p50"`
	// Share is the scenario's budget as a share of Wall's median
	// (budgets.python_added_budget.of_real; 0: the scenario states its
	// budget as a figure only).
	Share float64 `json:"share,omitempty"`
	// StandIns are authbench's Python stand-in's figures per scheme.
	StandIns []StandIn `json:"stand_ins,omitempty"`
	// Ends are the verdict at the budgets from both ends of Wall's
	// interval (nil when no budget is a share of it).
	Ends *Ends `json:"ends,omitempty"`
}

// StandIn is authbench's Python stand-in (scripts/cylc_message.py) under
// one scheme: its wall (job.process_total) and CPU (job.process_cpu) p50
// per process, each the median over rounds of a round's p50, and their
// ratios to the real client's medians (0 when either is not measured).
type StandIn struct {
	Scheme string `json:"scheme"`
	// Server is the serving model it ran against; Processes how many it
	// ran over the rounds.
	Server    string  `json:"server,omitempty"`
	Processes int64   `json:"processes"`
	Wall      Stat    `json:"wall_p50"`
	CPU       Stat    `json:"cpu_p50"`
	WallRatio float64 `json:"wall_ratio,omitempty"`
	CPURatio  float64 `json:"cpu_ratio,omitempty"`
}

// Ends is what the verdict would read with the scenario's rows judged at
// the share of each end of the real client's interval (Low and High, the
// budgets; AtLow and AtHigh, the outcomes). Bounded is false when the
// interval is not (too few rounds): then nothing was judged.
type Ends struct {
	Bounded bool    `json:"bounded"`
	Low     float64 `json:"low_budget_ns,omitempty"`
	High    float64 `json:"high_budget_ns,omitempty"`
	AtLow   string  `json:"at_low,omitempty"`
	AtHigh  string  `json:"at_high,omitempty"`
}

// realClientUse measures the real client rounds rcs of one scenario (nil
// when there are none).
func realClientUse(scenario string, rcs []*results.RealClients) *RealClientUse {
	if len(rcs) == 0 {
		return nil
	}
	u := &RealClientUse{Scenario: scenario, Server: rcs[0].Server, Command: rcs[0].Command, Rounds: len(rcs)}
	var walls, cpus, roundWalls, roundCPUs []float64
	for _, rc := range rcs {
		w, c, failed := rc.OK()
		u.Failed += failed
		if u.FirstError == "" {
			u.FirstError = firstError(rc)
		}
		if len(w) == 0 {
			continue
		}
		u.Processes += len(w)
		roundWalls = append(roundWalls, vocab.Median(floats(w)))
		roundCPUs = append(roundCPUs, vocab.Median(floats(c)))
		walls = append(walls, floats(w)...)
		cpus = append(cpus, floats(c)...)
	}
	if u.Processes > 0 {
		u.Wall = pooledStat("real wall p50", walls, roundWalls)
		u.CPU = pooledStat("real CPU p50", cpus, roundCPUs)
	}
	return u
}

// firstError is the error of rc's first failed process ("" when none
// failed).
func firstError(rc *results.RealClients) string {
	for _, p := range rc.Processes {
		if p.Err != "" {
			return p.Err
		}
	}
	return ""
}

// floats are ds in nanoseconds.
func floats(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d)
	}
	return out
}

// pooledStat is the median of pooled with the interval of the median over
// perRound (one value a round).
func pooledStat(label string, pooled, perRound []float64) Stat {
	st := Stat{Label: label, Unit: Duration, Valid: true, Diffs: perRound,
		CI: stats.MedianCI(perRound, Confidence)}
	sorted := slices.Clone(pooled)
	slices.Sort(sorted)
	st.CI.Center = vocab.Median(sorted)
	return st
}

// ok reports whether u measured any process whose message was taken.
func (u *RealClientUse) ok() bool { return u != nil && u.Processes > 0 && u.Wall.Valid }

// wallWords is the real client's median wall time with its interval and
// what it is over: "412ms [398ms, 430ms] over 96 processes in 8 rounds,
// against cylc-flow 8.4.4 (0 failed)".
func (u *RealClientUse) wallWords() string {
	iv := fmt.Sprintf("the %.0f %% interval of the median over the per-round medians", 100*Confidence)
	if !u.Wall.decidable() {
		iv = fmt.Sprintf("%d rounds with a message taken: too few for a %.0f %% interval", u.Wall.CI.N, 100*Confidence)
	}
	return fmt.Sprintf("%s over %d processes in %d rounds (%s), against %s (%d failed)",
		u.Wall.Cell(), u.Processes, u.Rounds, iv, u.Server, u.Failed)
}

// budgetSource is the printed source of a budget that is share of u's
// median wall time.
func (u *RealClientUse) budgetSource(share float64) string {
	return fmt.Sprintf("%s of the median wall time of the real `cylc message` measured in this run: %s; %s",
		shareWords(share), u.wallWords(), pr5790)
}

// clientCost is u as the yardstick rows' added times are stated against.
func (u *RealClientUse) clientCost() *ClientCost {
	return &ClientCost{Cost: time.Duration(math.Round(u.Wall.CI.Center)), SameRun: true,
		Source: fmt.Sprintf("the real `cylc message` took in this run, the median wall time of %d processes in %d rounds against %s", u.Processes, u.Rounds, u.Server)}
}

// shareWords names a share: "a tenth (0.1)", else "0.15 ×".
func shareWords(s float64) string {
	names := map[int]string{2: "half", 3: "third", 4: "quarter", 5: "fifth", 10: "tenth", 20: "twentieth", 100: "hundredth"}
	if n := math.Round(1 / s); math.Abs(1/s-n) < 1e-9 {
		if w, ok := names[int(n)]; ok {
			return fmt.Sprintf("a %s (%g)", w, s)
		}
	}
	return fmt.Sprintf("%g ×", s)
}

// shareOf is the share of the real client's time sc states budget name as
// (budgets.NAME.of_real, as its results record it; 0: none).
func (sc *scenario) shareOf(name string) float64 {
	for _, s := range sc.schemes {
		for _, r := range s.rounds {
			if v := r.BudgetShares[name]; v > 0 {
				return v
			}
		}
	}
	return 0
}

// attachRealClients gives each scenario the real client measured in its
// run, and where it states budgetPython as a share of it and some real
// process's message was taken, makes that budget the share of the real
// client's median wall time, with its source in words.
func attachRealClients(scs []*scenario, runs []*results.Run) {
	for _, sc := range scs {
		sc.real = realClientUse(sc.name, results.RealClientsOf(runs, sc.name))
		sc.share = sc.shareOf(budgetPython)
		if sc.share <= 0 || !sc.real.ok() {
			continue
		}
		sc.real.Share = sc.share
		// The maps may be shared with the results: copy before changing.
		budgets, sources := maps.Clone(sc.budgets), maps.Clone(sc.sources)
		if budgets == nil {
			budgets = map[string]float64{}
		}
		if sources == nil {
			sources = map[string]string{}
		}
		budgets[budgetPython] = sc.share * sc.real.Wall.CI.Center
		sources[budgetPython] = sc.real.budgetSource(sc.share)
		sc.budgets, sc.sources = budgets, sources
	}
}

// realClientFallbacks say, for each scenario of a's rows judged against
// budgetPython that states it as a share of a real client's time, when no
// real client's message was taken in its run: the budget is then the
// figure the scenario states, and the note says how to measure one.
func realClientFallbacks(a *Answer, scs []*scenario) []string {
	var out []string
	for _, sc := range scs {
		if sc.share <= 0 || sc.real.ok() || !judgedIn(a, sc.name, budgetPython) {
			continue
		}
		why := fmt.Sprintf("No real `cylc message` was measured in %s", sc.name)
		if u := sc.real; u != nil {
			why = fmt.Sprintf("Every real `cylc message` measured in %s failed (%d processes in %d rounds; the first: %s)", sc.name, u.Failed, u.Rounds, u.FirstError)
		}
		stated := "no figure"
		if b, ok := sc.budgets[budgetPython]; ok {
			stated = fmtValue(b, Duration, false)
		}
		if src := sc.sources[budgetPython]; src != "" {
			stated += " (source: " + src + ")"
		}
		out = append(out, fmt.Sprintf("%s: its budget `%s` is the one the scenario states, %s, not %s of a real client's median wall time measured in the same run. To measure one, run the scenario against a real Cylc scheduler: `authbench run -scenario %s -schemes %s -cylc CONTACT`, CONTACT being the scheduler's contact file (`scripts/cylc/peer.sh run CMD...` stands one up and runs CMD against it).",
			why, budgetPython, stated, shareWords(sc.share), sc.name, schemeList(sc)))
	}
	return out
}

// judgedIn reports whether a judges a row of scenario against budget.
func judgedIn(a *Answer, scenario, budget string) bool {
	for _, r := range a.Rows {
		if r.Scenario == scenario && r.Judged >= 0 && r.BudgetName == budget {
			return true
		}
	}
	return false
}

// schemeList is sc's schemes as -schemes takes them.
func schemeList(sc *scenario) string {
	var names []string
	for _, s := range sc.schemes {
		names = append(names, s.name)
	}
	return strings.Join(names, ",")
}
