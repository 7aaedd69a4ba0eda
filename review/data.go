package review

import (
	"sort"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// scenario is one scenario's results as the review weighs them (from
// figures.Collect): its schemes in the order the run lists them, each
// with the rounds that ran to the end.
type scenario struct {
	name    string
	budgets map[string]float64
	// sources say where each budget's figure comes from, by name.
	sources map[string]string
	// server is the WFS's serving model its rounds ran against
	// (vocab.ServerModelFast when the results name none).
	server   string
	commands []string
	schemes  []*scheme
	// real is the real client measured in its run (nil: none ran), and
	// share the share of it its budgetPython is stated as (0: none).
	real  *RealClientUse
	share float64
}

// scheme is one scheme's complete rounds in one scenario.
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

// collect groups the runs' results by scenario and scheme (figures.Collect),
// keeping each scheme's complete rounds: an interrupted round is no sample.
func collect(runs []*results.Run) ([]*scenario, error) {
	scs, err := figures.Collect(runs)
	if err != nil {
		return nil, err
	}
	var out []*scenario
	for _, fsc := range scs {
		sc := &scenario{name: fsc.Name, commands: fsc.Commands(), sources: fsc.BudgetSources, server: serverModelOf(fsc)}
		if fsc.Budgets != nil {
			sc.budgets = map[string]float64{}
			for k, v := range fsc.Budgets {
				sc.budgets[k] = float64(v)
			}
		}
		for _, fs := range fsc.Schemes {
			sc.schemes = append(sc.schemes, &scheme{name: fs.Name, spec: fs.Spec, claims: fs.Claims, known: fs.Known, rounds: fs.Complete()})
		}
		out = append(out, sc)
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// serverModelOf is the serving model sc's results ran against: the first
// result's that names one, else the fast model (results made before the
// model was recorded ran against it), or "" where no WFS ran.
func serverModelOf(sc *figures.Scenario) string {
	wfs := false
	for _, s := range sc.Schemes {
		for _, r := range s.Rounds {
			if r.ServerModel != "" {
				return r.ServerModel
			}
			wfs = wfs || r.ServerProcess != nil || r.Server.Requests > 0
		}
	}
	if !wfs {
		return "" // no WFS ran (a WLCG token flow)
	}
	return vocab.ServerModelFast
}
