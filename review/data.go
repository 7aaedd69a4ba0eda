package review

import (
	"sort"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// scenario is one scenario's results: its schemes in the order the run
// lists them, each with its rounds.
type scenario struct {
	name     string
	budgets  map[string]float64
	commands []string
	schemes  []*scheme
}

// scheme is one scheme's rounds in one scenario.
type scheme struct {
	name   string
	spec   vocab.Spec
	claims vocab.Claims
	// known is false when the results carry no declared claims (made
	// before authbench recorded them): such a scheme matches no question.
	known  bool
	rounds map[int]*results.Result
}

// roundNumbers returns s's round numbers in order.
func (s *scheme) roundNumbers() []int {
	var ns []int
	for n := range s.rounds {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	return ns
}

// collect groups the runs' results by scenario and scheme.
func collect(runs []*results.Run) []*scenario {
	var out []*scenario
	byName := map[string]*scenario{}
	for _, run := range runs {
		for _, r := range run.Results {
			sc := byName[r.Scenario]
			if sc == nil {
				sc = &scenario{name: r.Scenario}
				byName[r.Scenario] = sc
				out = append(out, sc)
			}
			for _, c := range runCommands(run) {
				if !contains(sc.commands, c) {
					sc.commands = append(sc.commands, c)
				}
			}
			if len(r.Budgets) > 0 && sc.budgets == nil {
				sc.budgets = map[string]float64{}
				for k, v := range r.Budgets {
					sc.budgets[k] = float64(v)
				}
			}
			var s *scheme
			for _, x := range sc.schemes {
				if x.name == r.Scheme {
					s = x
				}
			}
			if s == nil {
				s = &scheme{name: r.Scheme, rounds: map[int]*results.Result{}}
				s.spec, s.claims, s.known = specOf(r)
				sc.schemes = append(sc.schemes, s)
			}
			if r.Partial {
				continue // an interrupted round is no sample
			}
			s.rounds[r.Round] = r
		}
	}
	return out
}

// specOf returns a result's parsed spec and declared claims.
func specOf(r *results.Result) (vocab.Spec, vocab.Claims, bool) {
	var sp vocab.Spec
	if r.Spec != nil {
		sp = *r.Spec
	} else {
		raw := r.Canonical
		if raw == "" {
			raw = r.Scheme
		}
		sp, _ = vocab.ParseSpec(raw)
	}
	if r.Claims == nil {
		return sp, vocab.Claims{}, false
	}
	return sp, *r.Claims, true
}

// runCommands lists the commands that made a run (its sources' when merged).
func runCommands(run *results.Run) []string {
	if len(run.Sources) == 0 {
		return []string{run.Command}
	}
	var cs []string
	for _, s := range run.Sources {
		cs = append(cs, s.Command)
	}
	return cs
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
