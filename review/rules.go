package review

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/stats"
)

// status is an option's standing over every scenario it ran in.
type status struct {
	option   string
	decision Decision
	// rounds is the most rounds any inconclusive row needs (0 unknown).
	rounds int
	rows   []*Row
	// baseline marks the scheme the rows are paired with, weighed as an
	// option of its own (baselineStatus).
	baseline bool
}

// statusOf aggregates rows: within budget only when within in every
// scenario; over when over in any; failed when operations failed (and
// none is over); inconclusive otherwise.
func statusOf(option string, rows []*Row) status {
	st := status{option: option, rows: rows, decision: Within}
	if len(rows) == 0 {
		st.decision = Inconclusive
		return st
	}
	for _, r := range rows {
		switch r.Decision {
		case Over:
			st.decision = Over
		case Failed:
			if st.decision != Over {
				st.decision = Failed
			}
		case Inconclusive, "":
			if st.decision == Within {
				st.decision = Inconclusive
			}
			st.rounds = max(st.rounds, r.RoundsNeeded)
		}
	}
	return st
}

// byOption groups an answer's rows by option, in first-seen order (a
// store, a plan: every scheme of the option counts against it).
func byOption(a *Answer, keep func(*Row) bool) []status {
	return groupRows(a, keep, func(r *Row) string { return r.Option })
}

// bySchemes groups rows by scheme (a scheme is a candidate in its own
// right: two plan-B schemes are two choices).
func bySchemes(a *Answer, keep func(*Row) bool) []status {
	return groupRows(a, keep, func(r *Row) string { return r.Scheme })
}

// groupRows groups the rows keep selects by key, in first-seen order.
func groupRows(a *Answer, keep func(*Row) bool, key func(*Row) string) []status {
	var order []string
	rows := map[string][]*Row{}
	for _, r := range a.Rows {
		if keep != nil && !keep(r) {
			continue
		}
		k := key(r)
		if _, ok := rows[k]; !ok {
			order = append(order, k)
		}
		rows[k] = append(rows[k], r)
	}
	var out []status
	for _, k := range order {
		out = append(out, statusOf(rows[k][0].Option, rows[k]))
	}
	return out
}

// scheme is the status's scheme.
func (s status) scheme() string { return s.rows[0].Scheme }

// worst is the row whose judged median is highest.
func (s status) worst() *Row {
	w := s.rows[0]
	for _, r := range s.rows[1:] {
		if r.judged().CI.Center > w.judged().CI.Center {
			w = r
		}
	}
	return w
}

// inconclusive is the verdict when the deciding rows are not decisive. It
// names each undecided scheme with its figure and budget, and says what
// would decide it: failed operations fixed, more rounds, or none (its
// median on the budget, or more rounds than maxRounds).
func inconclusive(sts ...status) Verdict {
	rounds := 0
	var failed, straddle []string
	onBudget := false
	for _, s := range sts {
		if s.decision != Inconclusive && s.decision != Failed {
			continue
		}
		rounds = max(rounds, s.rounds)
		r := s.undecidedRow()
		if s.decision == Failed {
			failed = append(failed, fmt.Sprintf("`%s` (%d failed in %s)", s.scheme(), r.Errors, r.Scenario))
			continue
		}
		st := r.judged()
		switch {
		case r.Budget <= 0:
			straddle = append(straddle, fmt.Sprintf("`%s` (%s states no budget)", s.scheme(), r.Scenario))
		case !st.Valid:
			straddle = append(straddle, fmt.Sprintf("`%s` (not measured in %s)", s.scheme(), r.Scenario))
		default:
			straddle = append(straddle, fmt.Sprintf("`%s` (%s at %s in %s, %s)", s.scheme(), st.Cell(), st.what(), r.Scenario, r.budgetWords()))
			onBudget = onBudget || st.CI.Center == r.Budget
		}
	}
	v := Verdict{Outcome: "inconclusive", RoundsNeeded: rounds}
	if len(failed) > 0 {
		v.Text = fmt.Sprintf("inconclusive, as operations failed under %s: fix them and run again (see the table)", strings.Join(failed, ", "))
		return v
	}
	v.Text = fmt.Sprintf("inconclusive, as the interval of %s still straddles the budget", strings.Join(straddle, ", "))
	if few := fewestRounds(sts); few > 0 {
		v.Text = fmt.Sprintf("inconclusive, as %d rounds are too few for a %.0f %% interval of %s", few, 100*Confidence, strings.Join(straddle, ", "))
	}
	switch {
	case rounds > 0:
		v.Text += fmt.Sprintf(": about %d rounds in all would decide it (`authbench run -until-decisive` adds rounds until it is)", rounds)
	case onBudget:
		v.Text += ": more rounds would not decide it, as its median sits on the budget"
	default:
		v.Text += fmt.Sprintf(": no number of rounds up to %d would decide it at this spread", maxRounds)
	}
	return v
}

// undecidedRow is the first row of s that is neither within nor over
// (its worst row when every one is).
func (s status) undecidedRow() *Row {
	for _, r := range s.rows {
		if r.Decision != Within && r.Decision != Over {
			return r
		}
	}
	return s.worst()
}

// within filters statuses by decision.
func filter(sts []status, d Decision) []status {
	var out []status
	for _, s := range sts {
		if s.decision == d {
			out = append(out, s)
		}
	}
	return out
}

// anyUndecided reports whether some status is neither within nor over.
func anyUndecided(sts []status) bool {
	for _, s := range sts {
		if s.decision != Within && s.decision != Over {
			return true
		}
	}
	return false
}

// stat is a named measure of a status: its worst scenario's (the highest
// median), or an invalid Stat.
func (s status) stat(label string) Stat {
	st, _ := s.statRow(label)
	return st
}

// statRow is stat with the row it comes from (the status's first row when
// none has a valid one).
func (s status) statRow(label string) (Stat, *Row) {
	var best Stat
	row := s.rows[0]
	for _, r := range s.rows {
		for _, st := range r.Stats {
			if st.Label == label && st.Valid && (!best.Valid || st.CI.Center > best.CI.Center) {
				best, row = st, r
			}
		}
	}
	return best, row
}

// claims are the claims the status's scheme declared.
func (s status) claims() []string { return s.rows[0].Claims }

// baselineStatus stands for the scheme a's rows are paired with, weighed
// as an option of its own: one row per scenario, every paired figure 0
// by definition (an exact interval), unpaired ones unknown, judged
// against the same budget, and declaring no claims (the claims of a
// baseline are not in the rows: a rule that reads them says what the
// question's Baseline picks).
func baselineStatus(a *Answer, option string) (status, bool) {
	var rows []*Row
	seen := map[string]bool{}
	for _, r := range a.Rows {
		if r.Baseline == "" || seen[r.Scenario] {
			continue
		}
		seen[r.Scenario] = true
		b := &Row{Scenario: r.Scenario, Scheme: r.Baseline, Option: option, Judged: r.Judged, Budget: r.Budget, P: 1}
		for _, st := range r.Stats {
			z := Stat{Label: st.Label, Unit: st.Unit, Per: st.Per, Tail: st.Tail, Paired: st.Paired, Secondary: st.Secondary}
			if st.Valid && st.Paired {
				z.Valid = true
				z.CI = stats.Interval{Confidence: 1, N: st.CI.N, Exact: true}
			}
			b.Stats = append(b.Stats, z)
		}
		b.Decision = Inconclusive
		if j := b.judged(); j.Valid {
			b.Decision = decide(j.CI, b.Budget)
		}
		rows = append(rows, b)
	}
	if len(rows) == 0 {
		return status{}, false
	}
	st := statusOf(option, rows)
	st.baseline = true
	return st, true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// names lists statuses' schemes.
func names(sts []status) string {
	var ns []string
	for _, s := range sts {
		ns = append(ns, "`"+s.scheme()+"`")
	}
	return strings.Join(ns, ", ")
}

// summaryOf is "adds X (CI) at command p90 over plain, budget B".
func summaryOf(r *Row) string {
	st := r.judged()
	yard := ""
	if st.Unit == Duration && st.Valid && st.Paired && st.CI.Center > 0 {
		yard = r.yardstick(st.CI.Center)
	}
	if r.Baseline == "" {
		return fmt.Sprintf("%s in %s (%s%s)", st.level(), r.Scenario, r.budgetWords(), yard)
	}
	return fmt.Sprintf("%s over `%s` in %s (%s%s)", st.cost(), r.Baseline, r.Scenario, r.budgetWords(), yard)
}

// fewestRounds is the fewest rounds of an undecided status's judged
// figure when that figure has no finite interval yet (too few rounds), else 0.
func fewestRounds(sts []status) int {
	few := 0
	for _, s := range sts {
		if s.decision != Inconclusive {
			continue
		}
		for _, r := range s.rows {
			if st := r.judged(); st.Valid && !st.decidable() && (few == 0 || st.CI.N < few) {
				few = st.CI.N
			}
		}
	}
	return few
}

// stat is the row's measure with the label, or an invalid Stat.
func (r *Row) stat(label string) Stat {
	for _, st := range r.Stats {
		if st.Label == label {
			return st
		}
	}
	return Stat{}
}
