package review

import (
	"encoding/json"
	"math"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/stats"
)

// statJSON is Stat as JSON: an interval bound that is infinite (too few
// rounds for one) is null.
type statJSON struct {
	Label      string       `json:"label"`
	Unit       Unit         `json:"unit"`
	Per        figures.Work `json:"per,omitempty"`
	Tail       string       `json:"tail,omitempty"`
	Paired     bool         `json:"paired,omitempty"`
	Secondary  bool         `json:"secondary,omitempty"`
	Valid      bool         `json:"valid"`
	Center     float64      `json:"median"`
	Lo         *float64     `json:"lo"`
	Hi         *float64     `json:"hi"`
	Confidence float64      `json:"confidence"`
	N          int          `json:"rounds"`
	Exact      bool         `json:"exact,omitempty"`
	Values     []float64    `json:"values,omitempty"`
}

// MarshalJSON writes st with null for an infinite bound (JSON has no
// infinity).
func (st Stat) MarshalJSON() ([]byte, error) {
	finite := func(x float64) *float64 {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil
		}
		return &x
	}
	return json.Marshal(statJSON{Label: st.Label, Unit: st.Unit, Per: st.Per, Tail: st.Tail, Paired: st.Paired, Secondary: st.Secondary, Valid: st.Valid,
		Center: st.CI.Center, Lo: finite(st.CI.Lo), Hi: finite(st.CI.Hi), Confidence: st.CI.Confidence, N: st.CI.N,
		Exact: st.CI.Exact, Values: st.Diffs})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (st *Stat) UnmarshalJSON(b []byte) error {
	var j statJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	bound := func(p *float64, inf float64) float64 {
		if p == nil {
			return inf
		}
		return *p
	}
	*st = Stat{Label: j.Label, Unit: j.Unit, Per: j.Per, Tail: j.Tail, Paired: j.Paired, Secondary: j.Secondary, Valid: j.Valid, Diffs: j.Values,
		CI: stats.Interval{Center: j.Center, Lo: bound(j.Lo, math.Inf(-1)), Hi: bound(j.Hi, math.Inf(1)),
			Confidence: j.Confidence, N: j.N, Exact: j.Exact}}
	return nil
}
