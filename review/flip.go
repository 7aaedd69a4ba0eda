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
	const eps = 1e-9
	// Below: the nearest end under 1 whose far side changes the outcome,
	// and past an inconclusive one the nearest decided one.
	for i := len(ends) - 1; i >= 0; i-- {
		if ends[i] > 1 {
			continue
		}
		f := at(ends[i], ends[i]*(1-eps))
		if f.Outcome == a.Verdict.Outcome || (below != nil && f.Outcome == below.Outcome) {
			continue
		}
		if below == nil {
			below = f
		} else {
			below.Then = f
		}
		if f.Outcome != "inconclusive" {
			break
		}
	}
	for i := 0; i < len(ends); i++ {
		if ends[i] < 1 {
			continue
		}
		f := at(ends[i], ends[i]*(1+eps))
		if f.Outcome == a.Verdict.Outcome || (above != nil && f.Outcome == above.Outcome) {
			continue
		}
		if above == nil {
			above = f
		} else {
			above.Then = f
		}
		if f.Outcome != "inconclusive" {
			break
		}
	}
	return below, above
}

// outcomeAt is the outcome q's rule gives a's rows with every budget
// scaled by k.
func (q *Question) outcomeAt(a *Answer, k float64) string {
	c := *a
	c.Rows = make([]*Row, len(a.Rows))
	for i, r := range a.Rows {
		x := *r
		if x.Judged >= 0 && x.Decision != Failed && x.Budget > 0 {
			x.Budget *= k
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
