// Which rows a question judges: those of the cylc model where any ran
// (the others are reference rows), with the budgets and drains they were
// judged under.

package review

import "github.com/authbench/authbench/vocab"

// splitByServer keeps as judged the rows that ran under the cylc model
// when any did (Cylc's server as shipped is the one verdicts are about),
// and returns the others as reference rows, not judged; when none did,
// every row is judged, and server says which model they hold for.
func splitByServer(rows []*Row) (judged, reference []*Row, server string) {
	var kept []*Row
	for _, r := range rows {
		if r.Decision == NoBudget {
			r.P = 1
			reference = append(reference, r)
			continue
		}
		kept = append(kept, r)
	}
	rows = kept
	for _, r := range rows {
		if r.Server == vocab.ServerModelCylc {
			server = vocab.ServerModelCylc
		}
	}
	if server == "" {
		for _, r := range rows {
			if server == "" {
				server = r.Server
			} else if r.Server != server {
				server = "mixed"
			}
		}
		return rows, reference, server
	}
	for _, r := range rows {
		if r.Server == server {
			judged = append(judged, r)
			continue
		}
		r.Decision, r.RoundsNeeded, r.P = Reference, 0, 1
		reference = append(reference, r)
	}
	return judged, reference, server
}

// drainUses gives, once for each scenario of rows that ran under the cylc
// model, its requests per drain over every scheme's rounds.
func drainUses(rows []*Row, scs []*scenario) []DrainUse {
	var out []DrainUse
	seen := map[string]bool{}
	for _, r := range rows {
		if r.Server != vocab.ServerModelCylc || seen[r.Scenario] {
			continue
		}
		seen[r.Scenario] = true
		for _, sc := range scs {
			if sc.name != r.Scenario {
				continue
			}
			var per []float64
			most := 0.0
			for _, s := range sc.schemes {
				for _, res := range s.rounds {
					d := res.ServerModelStats["drains"]
					if d > 0 {
						per = append(per, float64(res.Server.Requests)/d)
						most = max(most, res.ServerModelStats["max_drain"])
					}
				}
			}
			if len(per) > 0 {
				out = append(out, DrainUse{Scenario: sc.name, PerDrain: vocab.SpreadOf(per).Median, MaxDrain: most})
			}
		}
	}
	return out
}

// budgetUses lists, once each, the budgets rows were judged against with
// their sources.
func budgetUses(rows []*Row, scs []*scenario) []BudgetUse {
	var out []BudgetUse
	seen := map[string]bool{}
	for _, r := range rows {
		if r.BudgetName == "" || seen[r.Scenario+"\x00"+r.BudgetName] {
			continue
		}
		seen[r.Scenario+"\x00"+r.BudgetName] = true
		u := BudgetUse{Scenario: r.Scenario, Name: r.BudgetName, Value: r.Budget}
		for _, sc := range scs {
			if sc.name == r.Scenario {
				u.Source = sc.sources[r.BudgetName]
			}
		}
		out = append(out, u)
	}
	return out
}
