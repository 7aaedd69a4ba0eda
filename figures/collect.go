package figures

import (
	"fmt"
	"sort"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// Scenario is one scenario's results: its schemes in the order the run
// lists them, each with its rounds.
type Scenario struct {
	Name string
	// Run is the run it came from (a scenario appears in one run only:
	// merge node runs first).
	Run     *results.Run
	Schemes []*Scheme
	// Baseline is the no-authentication baseline (plain, else the first
	// scheme with no credential on the null transport), or nil.
	Baseline *Scheme
	// Rounds is the most rounds any scheme has.
	Rounds int
	// Budgets are the scenario's stated budgets (budgets: in its YAML).
	Budgets map[string]time.Duration
	// BudgetSources say where each budget comes from, by name.
	BudgetSources map[string]string
}

// Scheme is one scheme's rounds in one scenario.
type Scheme struct {
	Name      string // as the user wrote it
	Canonical string
	Spec      vocab.Spec
	// Claims are the security properties it declared; Known is false when
	// the results carry none (made before authbench recorded them).
	Claims vocab.Claims
	Known  bool
	// Rounds are its results by round number, interrupted ones included.
	Rounds []*results.Result
	// Ops are the op names it recorded, in recorded order.
	Ops []string
}

// Collect groups the runs' results by scenario and scheme. It refuses
// results of another schema, a scenario in two runs (merge them first) and
// a round that appears twice.
func Collect(runs []*results.Run) ([]*Scenario, error) {
	var out []*Scenario
	byName := map[string]*Scenario{}
	for _, run := range runs {
		if run.Schema != results.SchemaVersion {
			return nil, fmt.Errorf("results schema %d, this authbench reads %d", run.Schema, results.SchemaVersion)
		}
		for _, r := range run.Results {
			sc := byName[r.Scenario]
			if sc == nil {
				sc = &Scenario{Name: r.Scenario, Run: run}
				byName[r.Scenario] = sc
				out = append(out, sc)
			} else if sc.Run != run {
				return nil, fmt.Errorf("scenario %s appears in two runs (%q and %q); merge them first", r.Scenario, sc.Run.Command, run.Command)
			}
			if len(r.Budgets) > 0 && sc.Budgets == nil {
				sc.Budgets, sc.BudgetSources = r.Budgets, r.BudgetSources
			}
			s := sc.Scheme(r.Scheme)
			if s == nil {
				sp, claims, known := SpecOf(r)
				s = &Scheme{Name: r.Scheme, Canonical: sp.Canonical(), Spec: sp, Claims: claims, Known: known}
				sc.Schemes = append(sc.Schemes, s)
			}
			for _, x := range s.Rounds {
				if x.Round == r.Round {
					return nil, fmt.Errorf("scenario %s scheme %s round %d appears twice", r.Scenario, r.Scheme, r.Round)
				}
			}
			s.Rounds = append(s.Rounds, r)
			for _, o := range r.Ops {
				if !contains(s.Ops, o.Name) {
					s.Ops = append(s.Ops, o.Name)
				}
			}
		}
	}
	for _, sc := range out {
		for _, s := range sc.Schemes {
			sort.SliceStable(s.Rounds, func(i, j int) bool { return s.Rounds[i].Round < s.Rounds[j].Round })
			sc.Rounds = max(sc.Rounds, len(s.Rounds))
		}
		sc.Baseline = sc.Scheme("plain")
		for _, s := range sc.Schemes {
			if sc.Baseline == nil && IsBaseline(s.Spec) {
				sc.Baseline = s
			}
		}
	}
	return out, nil
}

// Scheme returns the scheme of that name, or nil.
func (sc *Scenario) Scheme(name string) *Scheme {
	for _, s := range sc.Schemes {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Commands lists the command lines that made the scenario's run (its
// sources' when merged), each once.
func (sc *Scenario) Commands() []string {
	var cs []string
	for _, s := range sc.Run.Inputs() {
		if !contains(cs, s.Command) {
			cs = append(cs, s.Command)
		}
	}
	return cs
}

// SpecOf is a result's parsed spec (recorded, or parsed from its canonical
// form or its name in results made before specs were recorded) and its
// declared claims; known is false when it declared none.
func SpecOf(r *results.Result) (sp vocab.Spec, c vocab.Claims, known bool) {
	if r.Spec != nil {
		sp = *r.Spec
	} else {
		raw := r.Canonical
		if raw == "" {
			raw = r.Scheme
		}
		sp, _ = vocab.ParseSpec(raw) // a spec that no longer parses classifies as nothing
	}
	if r.Claims == nil {
		return sp, vocab.Claims{}, false
	}
	return sp, *r.Claims, true
}

// IsBaseline reports whether sp is the no-authentication baseline.
func IsBaseline(sp vocab.Spec) bool { return sp.Security == "null" && sp.Credential == "" }

// Complete are s's rounds that ran to the end, by round number: an
// interrupted round is no sample for a verdict.
func (s *Scheme) Complete() map[int]*results.Result {
	out := map[int]*results.Result{}
	for _, r := range s.Rounds {
		if !r.Partial {
			out[r.Round] = r
		}
	}
	return out
}

// Values are f's values in s's rounds, in round order (rounds that lack
// it are left out).
func (s *Scheme) Values(f Figure) []float64 {
	var xs []float64
	for _, r := range s.Rounds {
		if v, ok := f.Of(r); ok {
			xs = append(xs, v)
		}
	}
	return xs
}

// Spread is f's median over s's rounds with its range.
func (s *Scheme) Spread(f Figure) vocab.Spread { return vocab.SpreadOf(s.Values(f)) }

// Paired are, per round of s, f(s) - f(base) with base's round of the same
// number (schemes are interleaved in rounds, so a pair shares the machine's
// state), or base's median where base lacks that round.
func (s *Scheme) Paired(base *Scheme, f Figure) []float64 {
	baseBy := map[int]float64{}
	var baseAll []float64
	for _, r := range base.Rounds {
		if v, ok := f.Of(r); ok {
			baseBy[r.Round] = v
			baseAll = append(baseAll, v)
		}
	}
	if len(baseAll) == 0 {
		return nil
	}
	baseMed := vocab.SpreadOf(baseAll).Median
	var xs []float64
	for _, r := range s.Rounds {
		v, ok := f.Of(r)
		if !ok {
			continue
		}
		b, ok := baseBy[r.Round]
		if !ok {
			b = baseMed
		}
		xs = append(xs, v-b)
	}
	return xs
}

// FewestOps is the fewest successful operations op had in any of s's
// rounds: what decides whether a tail can be quoted (results.MinOps).
func (s *Scheme) FewestOps(op string) int64 { return FewestOps(s.Rounds, op) }

// FewestOps is the fewest successful operations op had in any of rounds (0
// when a round lacks it).
func FewestOps(rounds []*results.Result, op string) int64 {
	n := int64(-1)
	for _, r := range rounds {
		var c int64
		if o := r.Op(op); o != nil {
			c = o.Count
		}
		if n < 0 || c < n {
			n = c
		}
	}
	return max(n, 0)
}

// Works are the units of work of Operations() whose operations some
// scheme of sc recorded as its only ones (Work.Alone): the per-operation
// figures a scenario has. A scenario that mixes commands and job messages
// has none.
func (sc *Scenario) Works() []Work {
	var ws []Work
	for _, w := range Operations() {
		for _, s := range sc.Schemes {
			if containsOp(s, w.Op()) && len(s.Values(ServerCPU(w))) > 0 {
				ws = append(ws, w)
				break
			}
		}
	}
	return ws
}

// Mixed reports whether sc's clients sent more than one kind of operation
// (commands and job messages, say) in some round: then no unit of work is
// alone (Work.Alone).
func (sc *Scenario) Mixed() bool {
	for _, s := range sc.Schemes {
		for _, r := range s.Rounds {
			n := 0
			for _, w := range Operations() {
				if o := r.Op(w.Op()); o != nil && o.Count+o.ErrorCount() > 0 {
					n++
				}
			}
			if o := r.Op(vocab.OpUISPoll); o != nil && o.Count+o.ErrorCount() > 0 {
				n++
			}
			if n > 1 {
				return true
			}
		}
	}
	return false
}

// containsOp reports whether some round of s recorded op.
func containsOp(s *Scheme, op string) bool {
	for _, r := range s.Rounds {
		if o := r.Op(op); o != nil && o.Count+o.ErrorCount() > 0 {
			return true
		}
	}
	return false
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
