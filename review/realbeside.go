// The real client beside authbench's Python stand-in: per scenario, the
// real `cylc message`'s wall and CPU per process beside the stand-in's
// under each scheme, and whether the verdict holds across the real
// client's interval.

package review

import (
	"fmt"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"
)

// realClientUses are, for each scenario of a's rows whose run measured a
// real client, that client beside the stand-in, with the verdict at the
// budgets from both ends of its interval where a budget is a share of it.
func (q *Question) realClientUses(a *Answer, scs []*scenario) []*RealClientUse {
	var out []*RealClientUse
	for _, sc := range scs {
		if !sc.real.ok() || !hasRowIn(a, sc.name) {
			continue
		}
		u := *sc.real
		u.StandIns = standIns(sc, &u)
		if u.Share > 0 && judgedIn(a, sc.name, budgetPython) {
			u.Ends = q.ends(a, &u)
		}
		out = append(out, &u)
	}
	return out
}

// hasRowIn reports whether a has a judged row of scenario.
func hasRowIn(a *Answer, scenario string) bool {
	for _, r := range a.Rows {
		if r.Scenario == scenario {
			return true
		}
	}
	return false
}

// standIns are the stand-in's wall and CPU p50 per process under each of
// sc's schemes that ran it, over rounds, with their ratios to u's.
func standIns(sc *scenario, u *RealClientUse) []StandIn {
	var out []StandIn
	for _, s := range sc.schemes {
		if !hasOps(s, []string{opPyProc}) {
			continue
		}
		si := StandIn{Scheme: s.name, Server: sc.server, Processes: opCount(s, opPyProc),
			Wall: Measure{Label: "stand-in wall p50", Figure: figures.P50(opPyProc)}.stat(s, nil, 0),
			CPU:  Measure{Label: "stand-in CPU p50", Figure: figures.P50(vocab.OpJobProcessCPU)}.stat(s, nil, 0)}
		si.WallRatio = ratio(si.Wall, u.Wall)
		si.CPURatio = ratio(si.CPU, u.CPU)
		out = append(out, si)
	}
	return out
}

// opCount is how many of op s recorded over its rounds.
func opCount(s *scheme, op string) int64 {
	var n int64
	for _, r := range s.rounds {
		if o := r.Op(op); o != nil {
			n += o.Count
		}
	}
	return n
}

// ratio is x's median over y's (0 when either is not measured).
func ratio(x, y Stat) float64 {
	if !x.Valid || !y.Valid || y.CI.Center <= 0 {
		return 0
	}
	return x.CI.Center / y.CI.Center
}

// ends judges a's rows of u's scenario at u.Share of each end of u's
// wall interval, every other row at its own budget.
func (q *Question) ends(a *Answer, u *RealClientUse) *Ends {
	if !u.Wall.decidable() {
		return &Ends{}
	}
	e := &Ends{Bounded: true, Low: u.Share * u.Wall.CI.Lo, High: u.Share * u.Wall.CI.Hi}
	at := func(b float64) func(*Row) float64 {
		return func(r *Row) float64 {
			if r.Scenario == u.Scenario && r.BudgetName == budgetPython {
				return b
			}
			return r.Budget
		}
	}
	e.AtLow, e.AtHigh = q.outcomeWith(a, at(e.Low)), q.outcomeWith(a, at(e.High))
	return e
}

// writeRealClient writes u beside the stand-in: a table per process, and
// whether the verdict (outcome) holds across u's interval.
func writeRealClient(w *mdtable.Writer, u *RealClientUse, outcome string) {
	w.Printf("\n**The real client beside the stand-in** in %s, per process, median [%.0f %% interval]: the real `cylc message` against %s, over every process whose message was taken pooled over rounds, its interval over the per-round medians; authbench's Python stand-in (scripts/cylc_message.py) against authbench's server model under each scheme, the median over rounds of each round's p50 (wall: `%s`, CPU: `%s`). A ratio is the stand-in's median over the real one's.\n",
		u.Scenario, 100*Confidence, u.Server, opPyProc, vocab.OpJobProcessCPU)
	rows := [][]string{{"real `cylc message`", u.Server, fmt.Sprintf("%d in %d rounds (%d failed)", u.Processes, u.Rounds, u.Failed), u.Wall.Cell(), u.CPU.Cell(), "–", "–"}}
	for _, si := range u.StandIns {
		rows = append(rows, []string{"stand-in, `" + si.Scheme + "`", "`" + si.Server + "` model", fmt.Sprintf("%d in %d rounds", si.Processes, si.Wall.CI.N), si.Wall.Cell(), si.CPU.Cell(), ratioCell(si.WallRatio), ratioCell(si.CPURatio)})
	}
	w.Table([]string{"client", "server", "processes", "wall p50", "CPU p50", "wall ÷ real", "CPU ÷ real"}, rows)
	if e := u.Ends; e != nil {
		w.Printf("%s\n", e.words(u, outcome))
	}
}

// ratioCell prints a ratio ("–" when not measured).
func ratioCell(x float64) string {
	if x <= 0 {
		return "–"
	}
	return trimFloat(x) + "×"
}

// words say whether the verdict (outcome) holds at both ends' budgets.
func (e *Ends) words(u *RealClientUse, outcome string) string {
	if !e.Bounded {
		return fmt.Sprintf("The real client's median has no %.0f %% interval (%d rounds with a message taken are too few): whether the verdict holds across it is not known.", 100*Confidence, u.Wall.CI.N)
	}
	s := fmt.Sprintf("At the budgets from both ends of the real median's interval, %s (%g × %s) and %s (%g × %s), the verdict would read `%s` and `%s`",
		fmtValue(e.Low, Duration, false), u.Share, fmtValue(u.Wall.CI.Lo, Duration, false),
		fmtValue(e.High, Duration, false), u.Share, fmtValue(u.Wall.CI.Hi, Duration, false), e.AtLow, e.AtHigh)
	if e.AtLow == outcome && e.AtHigh == outcome {
		return s + ": it holds across the interval."
	}
	return s + fmt.Sprintf(" against `%s` at the median's: it does not hold across the interval, so where in it the real client's median lies decides the verdict.", outcome)
}
