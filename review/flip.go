package review

import (
	"math"
	"sort"

	"github.com/authbench/authbench/stats"
)

// Flip is a budget at which a question's verdict would change: the
// nearest below the stated one (Below) or above it, and what the verdict
// would then be. Rows of different scenarios may state different budgets:
// Factor scales every row's budget alike, and Budget is the scaled budget
// when every row states the same one (0 otherwise).
type Flip struct {
	Factor  float64 `json:"factor"`
	Budget  float64 `json:"budget_ns,omitempty"`
	Outcome string  `json:"outcome"`
	// Then is, past an inconclusive flip, the nearest budget further out
	// at which the verdict is decided otherwise.
	Then *Flip `json:"then,omitempty"`
}

// flips finds where a's verdict would change if every budget were scaled
// by one factor: a row's decision changes only where the scaled budget
// crosses an end of its interval, so the rule is run again just either
// side of each end. below and above are nil where no factor in that
// direction changes the outcome.
func (q *Question) flips(a *Answer) (below, above *Flip) {
	var ends []float64 // factors at which some row's decision changes
	same := true
	var budget float64
	for _, r := range a.Rows {
		if r.Judged < 0 || r.Budget <= 0 {
			continue
		}
		if budget == 0 {
			budget = r.Budget
		}
		same = same && r.Budget == budget
		st := r.judged()
		if !st.Valid || !st.CI.Decidable() {
			continue
		}
		for _, x := range []float64{st.CI.Lo, st.CI.Hi} {
			if k := x / r.Budget; k > 0 && !math.IsInf(k, 0) {
				ends = append(ends, k)
			}
		}
	}
	if len(ends) == 0 {
		return nil, nil
	}
	sort.Float64s(ends)
	at := func(end, k float64) *Flip {
		f := &Flip{Factor: end, Outcome: q.outcomeAt(a, k)}
		if same {
			f.Budget = end * budget
		}
		return f
	}
	// nearest walks ends away from the stated budget (factor 1) on one
	// side (sign -1 below, +1 above), trying the rule just past each end:
	// the first that changes the outcome, and past an inconclusive one the
	// nearest decided one.
	nearest := func(sign float64) *Flip {
		const eps = 1e-9
		var first *Flip
		for n := range ends {
			end := ends[n]
			if sign < 0 {
				end = ends[len(ends)-1-n]
			}
			if (end-1)*sign < 0 {
				continue
			}
			f := at(end, end*(1+sign*eps))
			if f.Outcome == a.Verdict.Outcome || (first != nil && f.Outcome == first.Outcome) {
				continue
			}
			if first == nil {
				first = f
			} else {
				first.Then = f
			}
			if f.Outcome != "inconclusive" {
				break
			}
		}
		return first
	}
	return nearest(-1), nearest(+1)
}

// outcomeAt is the outcome q's rule gives a's rows with every budget
// scaled by k.
func (q *Question) outcomeAt(a *Answer, k float64) string {
	return q.outcomeWith(a, func(r *Row) float64 { return r.Budget * k })
}

// outcomeWith is the outcome q's rule gives a's rows with each judged
// row's budget replaced by budget(row), its decision and the rounds that
// would decide it taken again.
func (q *Question) outcomeWith(a *Answer, budget func(*Row) float64) string {
	c := *a
	c.Rows = make([]*Row, len(a.Rows))
	for i, r := range a.Rows {
		x := *r
		if x.Judged >= 0 && x.Decision != Failed && x.Budget > 0 {
			x.Budget = budget(r)
			st := x.judged()
			x.Decision = Inconclusive
			if st.Valid {
				x.Decision = decide(st.CI, x.Budget)
			}
			x.RoundsNeeded = 0
			if x.Decision == Inconclusive {
				if n, ok := stats.RoundsToDecide(st.Diffs, x.Budget, Confidence, maxRounds); ok {
					x.RoundsNeeded = n
				}
			}
		}
		c.Rows[i] = &x
	}
	return q.Rule(&c).Outcome
}
