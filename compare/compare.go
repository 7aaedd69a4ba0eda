// Package compare compares two runs as benchstat compares benchmark runs:
// per (scenario, scheme, op), the change of p50, p99 and throughput over
// the rounds' values, with a Mann-Whitney U test, and the regressions past
// a threshold.
package compare

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/results"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/stats"
	"github.com/authbench/authbench/vocab"
)

// Runs' defaults.
const (
	// DefaultAlpha is the significance level of the Mann-Whitney U test.
	DefaultAlpha = 0.05
	// DefaultThreshold is the change, in percent, beyond which a
	// significant worsening is a regression.
	DefaultThreshold = 10.0
)

// Options tune Runs.
type Options struct {
	// Alpha is the significance level (DefaultAlpha if 0).
	Alpha float64
	// Threshold is the worsening in percent beyond which a change is a
	// regression (DefaultThreshold if 0; negative means any worsening).
	Threshold float64
}

// Metric names of a Change.
const (
	MetricP50  = "p50"
	MetricP99  = "p99"
	MetricRate = "ops/s"
)

// Change is the change of one metric of one (scenario, scheme, op) from
// an old run to a new one, over the values of their rounds.
type Change struct {
	Scenario, Scheme, Op, Metric string
	Old, New                     vocab.Spread
	// DeltaPct is the change of the median in percent of the old median.
	DeltaPct float64
	// P is the two-sided Mann-Whitney U p-value over the per-round values.
	P float64
	// Testable is false when the rounds are too few for any difference to
	// reach significance (for example 3 against 3: p is at least 0.1).
	Testable bool
	// Significant is P below Alpha.
	Significant bool
	// Worse is true when the change goes the bad way (latency up,
	// throughput down) by more than the threshold.
	Worse bool
	// Regression is a worse change that is significant, or, when the
	// rounds are too few for the test, one where every new round is on the
	// bad side of every old round.
	Regression bool
}

// Comparison is the outcome of Runs.
type Comparison struct {
	Old, New *results.Run
	Alpha    float64
	// Threshold is the regression threshold in percent.
	Threshold float64
	Changes   []Change
	// OnlyOld and OnlyNew list "scenario/scheme/op" present on one side.
	OnlyOld, OnlyNew []string
}

// Runs compares every (scenario, scheme, op) present in both runs: the
// change of p50, p99 and throughput, with a Mann-Whitney U test over the
// per-round values, as benchstat does over repeated benchmark runs.
func Runs(old, new *results.Run, opts Options) (*Comparison, error) {
	if old == nil || new == nil {
		return nil, fmt.Errorf("compare: need two runs")
	}
	c := &Comparison{Old: old, New: new, Alpha: opts.Alpha, Threshold: opts.Threshold}
	if c.Alpha <= 0 {
		c.Alpha = DefaultAlpha
	}
	if c.Threshold == 0 {
		c.Threshold = DefaultThreshold
	}
	if c.Threshold < 0 {
		c.Threshold = 0
	}
	oldSc, err := figures.Collect([]*results.Run{old})
	if err != nil {
		return nil, fmt.Errorf("compare OLD: %w", err)
	}
	newSc, err := figures.Collect([]*results.Run{new})
	if err != nil {
		return nil, fmt.Errorf("compare NEW: %w", err)
	}
	find := func(scs []*figures.Scenario, sc, scheme string) *figures.Scheme {
		for _, x := range scs {
			if x.Name != sc {
				continue
			}
			for _, s := range x.Schemes {
				if s.Name == scheme {
					return s
				}
			}
		}
		return nil
	}
	for _, osc := range oldSc {
		for _, nsc := range newSc {
			if nsc.Name == osc.Name {
				if err := sameScenario(osc, nsc); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, osc := range oldSc {
		for _, os := range osc.Schemes {
			ns := find(newSc, osc.Name, os.Name)
			for _, op := range os.Ops {
				if ns == nil || !slices.Contains(ns.Ops, op) {
					c.OnlyOld = append(c.OnlyOld, osc.Name+"/"+os.Name+"/"+op)
					continue
				}
				c.Changes = append(c.Changes,
					c.change(osc.Name, os.Name, op, MetricP50, os.Values(figures.Pct(op, 50)), ns.Values(figures.Pct(op, 50)), false),
					c.change(osc.Name, os.Name, op, MetricP99, os.Values(figures.Pct(op, 99)), ns.Values(figures.Pct(op, 99)), false),
					c.change(osc.Name, os.Name, op, MetricRate, os.Values(figures.Rate(op)), ns.Values(figures.Rate(op)), true))
			}
		}
	}
	for _, nsc := range newSc {
		for _, ns := range nsc.Schemes {
			os := find(oldSc, nsc.Name, ns.Name)
			for _, op := range ns.Ops {
				if os == nil || !slices.Contains(os.Ops, op) {
					c.OnlyNew = append(c.OnlyNew, nsc.Name+"/"+ns.Name+"/"+op)
				}
			}
		}
	}
	if len(c.Changes) == 0 {
		return nil, fmt.Errorf("compare: OLD and NEW share no (scenario, scheme, op), so nothing was compared: OLD has %s; NEW has %s",
			scenarioList(oldSc), scenarioList(newSc))
	}
	return c, nil
}

// sameScenario refuses to compare two runs of one scenario name whose
// scenarios differ (their YAML hashes), naming both sources. Results made
// before scenarios were hashed carry none and pass.
func sameScenario(a, b *figures.Scenario) error {
	src := func(sc *figures.Scenario) (string, string) {
		for _, s := range sc.Schemes {
			for _, r := range s.Rounds {
				if r.ScenarioHash != "" {
					return r.ScenarioSource, r.ScenarioHash
				}
			}
		}
		return "", ""
	}
	as, ah := src(a)
	bs, bh := src(b)
	if ah != "" && bh != "" && ah != bh {
		return fmt.Errorf("compare: scenario %q differs: OLD ran %s (%.19s), NEW ran %s (%.19s); compare runs of one scenario", a.Name, as, ah, bs, bh)
	}
	// A run on another file-system model or server model measures
	// another system: its differences are no regression of the schemes.
	for _, m := range []struct {
		what string
		of   func(r *results.Result) string
	}{
		{"file-system model", func(r *results.Result) string { return orNone(r.FSModel, "none (the run directory's own disk)") }},
		{"server model", func(r *results.Result) string { return orNone(r.ServerModel, "fast") }},
	} {
		if ao, bo := models(a, m.of), models(b, m.of); ao != bo {
			return fmt.Errorf("compare: scenario %q ran on %s %s in OLD and %s in NEW; compare runs of one %s", a.Name, m.what, ao, bo, m.what)
		}
	}
	return nil
}

// models lists the values of of over sc's results, each once, sorted.
func models(sc *figures.Scenario, of func(r *results.Result) string) string {
	var ms []string
	for _, s := range sc.Schemes {
		for _, r := range s.Rounds {
			if m := of(r); !slices.Contains(ms, m) {
				ms = append(ms, m)
			}
		}
	}
	slices.Sort(ms)
	return strings.Join(ms, " and ")
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func scenarioList(scs []*figures.Scenario) string {
	var names []string
	for _, sc := range scs {
		names = append(names, sc.Name)
	}
	if len(names) == 0 {
		return "no scenarios"
	}
	return "scenarios " + strings.Join(names, ", ")
}

// change compares one metric; higherBetter is true for throughput.
func (c *Comparison) change(sc, scheme, op, metric string, old, new []float64, higherBetter bool) Change {
	ch := Change{Scenario: sc, Scheme: scheme, Op: op, Metric: metric, Old: vocab.SpreadOf(old), New: vocab.SpreadOf(new)}
	if ch.Old.N == 0 || ch.New.N == 0 {
		ch.P = 1
		return ch
	}
	if ch.Old.Median != 0 {
		ch.DeltaPct = (ch.New.Median - ch.Old.Median) / ch.Old.Median * 100
	}
	ch.P, ch.Significant = stats.Compare(old, new, c.Alpha)
	minP := stats.MinP(len(old), len(new))
	ch.Testable = minP < c.Alpha
	worse := ch.DeltaPct
	if higherBetter {
		worse = -worse
	}
	ch.Worse = worse > c.Threshold
	// With too few rounds for the test to reach Alpha, a worsening counts
	// only when the samples do not overlap (p at its smallest possible).
	extreme := !ch.Testable && ch.P <= minP*(1+1e-9)
	ch.Regression = ch.Worse && (ch.Significant || extreme)
	return ch
}

// Regressions returns the changes that are regressions.
func (c *Comparison) Regressions() []Change {
	var out []Change
	for _, ch := range c.Changes {
		if ch.Regression {
			out = append(out, ch)
		}
	}
	return out
}

// cellText is benchstat-like: "1.20ms → 1.30ms +8.33% (p=0.008 n=5+5)",
// with "~" for a change that is not significant.
func (ch Change) cellText() string {
	if ch.Old.N == 0 || ch.New.N == 0 {
		return "-"
	}
	val := func(s vocab.Spread) string {
		if ch.Metric == MetricRate {
			return fmt.Sprintf("%.1f", s.Median)
		}
		return mdtable.Duration(time.Duration(math.Round(s.Median)))
	}
	delta := fmt.Sprintf("%+.2f%%", ch.DeltaPct)
	if !ch.Significant && !ch.Regression {
		delta = "~"
	} else if !ch.Significant {
		// Too few rounds for the test, every new round worse than every
		// old one: show the change, not "~" beside "regression".
		delta += " (every round)"
	}
	mark := ""
	if ch.Regression {
		mark = " **regression**"
	}
	return fmt.Sprintf("%s → %s %s (p=%.3f n=%d+%d)%s", val(ch.Old), val(ch.New), delta, ch.P, ch.Old.N, ch.New.N, mark)
}

// WriteMarkdown writes the comparison as markdown: one row per (scenario,
// scheme, op) with the p50, p99 and throughput changes, then the verdict.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	ew := mdtable.NewWriter(w)
	ew.Printf("# authbench compare\n\n")
	ew.Printf("OLD: %s\n\nNEW: %s\n\n", mdtable.Code(c.Old.Command), mdtable.Code(c.New.Command))
	ew.Printf("Per-round values, two-sided Mann-Whitney U test at α = %g; `~` is no significant change. A regression is a change the bad way (latency up, throughput down) of more than %g%% that is significant or, when the rounds are too few for the test, has every new round on the bad side of every old one.\n",
		c.Alpha, c.Threshold)
	type key struct{ sc, scheme, op string }
	var order []key
	cells := map[key]map[string]Change{}
	untestable := false
	for _, ch := range c.Changes {
		k := key{ch.Scenario, ch.Scheme, ch.Op}
		if cells[k] == nil {
			cells[k] = map[string]Change{}
			order = append(order, k)
		}
		cells[k][ch.Metric] = ch
		if !ch.Testable && ch.Old.N > 0 && ch.New.N > 0 {
			untestable = true
		}
	}
	var rows [][]string
	for _, k := range order {
		m := cells[k]
		rows = append(rows, []string{k.sc, k.scheme, k.op, m[MetricP50].cellText(), m[MetricP99].cellText(), m[MetricRate].cellText()})
	}
	if len(rows) == 0 {
		ew.Printf("\nNothing to compare: the runs share no (scenario, scheme, op).\n")
	} else {
		ew.Table([]string{"scenario", "scheme", "op", "p50", "p99", "ops/s"}, rows)
	}
	if len(c.OnlyOld) > 0 {
		ew.Printf("\nOnly in OLD: %s.\n", strings.Join(c.OnlyOld, ", "))
	}
	if len(c.OnlyNew) > 0 {
		ew.Printf("\nOnly in NEW: %s.\n", strings.Join(c.OnlyNew, ", "))
	}
	if c.New.Partial || c.Old.Partial {
		ew.Printf("\n**Partial:** %s was interrupted; its figures cover only the rounds it finished.\n", partialSide(c))
	}
	if untestable {
		ew.Printf("\nToo few rounds for the test to reach α = %g on some rows (3 against 3 gives p ≥ 0.1): run with -repeat 5 or more.\n", c.Alpha)
	}
	regs := c.Regressions()
	sig := 0
	for _, ch := range c.Changes {
		if ch.Significant {
			sig++
		}
	}
	switch {
	case len(regs) > 0:
		var names []string
		for _, r := range regs {
			names = append(names, fmt.Sprintf("%s/%s/%s %s %+.1f%%", r.Scenario, r.Scheme, r.Op, r.Metric, r.DeltaPct))
		}
		ew.Printf("\n**Verdict:** %d regression(s) beyond %g%%: %s.\n", len(regs), c.Threshold, strings.Join(names, "; "))
	case sig == 0:
		ew.Printf("\n**Verdict:** no significant change.\n")
	default:
		ew.Printf("\n**Verdict:** %d significant change(s), none a regression beyond %g%%.\n", sig, c.Threshold)
	}
	if ew.Err() != nil {
		return fmt.Errorf("compare: %w", ew.Err())
	}
	return nil
}

func partialSide(c *Comparison) string {
	switch {
	case c.Old.Partial && c.New.Partial:
		return "each run"
	case c.Old.Partial:
		return "OLD"
	}
	return "NEW"
}
