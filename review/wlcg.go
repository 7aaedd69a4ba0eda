// Q-wlcg's verdict: the token flows' issuer costs and the issuer load model.

package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/authbench/authbench/issuerload"
)

// ruleWLCG states each flow's issuer cost per transfer and judges the time
// a transfer spends on tokens; it adds the issuer load model's trade-off
// the token-flow notes name: one token scoped to both storage elements
// halves the storage tokens the issuer stores.
func ruleWLCG(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if anyUndecided(sts) {
		return inconclusive(sts...)
	}
	var parts []string
	for _, r := range a.Rows {
		rt, acc, ref := r.stat("issuer round trips/transfer"), r.stat("access tokens stored/transfer"), r.stat("refresh tokens stored/transfer")
		parts = append(parts, fmt.Sprintf("%s: %s issuer round trips, %s access and %s refresh tokens stored per transfer",
			r.Scenario, rt.Cell(), acc.Cell(), ref.Cell()))
	}
	text := strings.Join(parts, "; ") + "."
	outcome := "within"
	if over := filter(sts, Over); len(over) > 0 {
		outcome = "over"
		text = "the token flows are over budget: " + summaryOf(over[0].worst()) + ". " + text
	} else {
		text = "the token flows are within budget: " + text
	}
	if half := bothSEsTradeOff(); half != "" {
		text += " " + half
	}
	return Verdict{Outcome: outcome, Decisive: true, Text: text}
}

// bothSEsTradeOff is the issuer load model's service flow at 1,000
// transfers an hour, with one token scoped to both storage elements against
// one per element (package issuerload, the notes' [N9]).
func bothSEsTradeOff() string {
	in := issuerload.DefaultInputs(1000, issuerload.Waits{ExponentialMean: 10 * time.Minute})
	in.BothSEs = true
	both, err := issuerload.Compute(in)
	if err != nil {
		return ""
	}
	in.BothSEs = false
	each, err := issuerload.Compute(in)
	if err != nil {
		return ""
	}
	b, e := both.Flow(issuerload.FlowService), each.Flow(issuerload.FlowService)
	fewer := "one token for both stores fewer, as the notes propose"
	switch {
	case b.Rows() > e.Rows():
		fewer = "one token per element stores fewer, against the notes' proposal"
	case b.Rows() == e.Rows():
		fewer = "the two store as many"
	}
	return fmt.Sprintf("The issuer load model (1,000 transfers an hour, profile 1.0 lifetimes, 10 min mean queue wait): one token scoped to both storage elements stores %.0f access tokens an hour in the service flow against %.0f with one per element, and holds %.0f rows against %.0f: %s.",
		b.AccessPerHour, e.AccessPerHour, b.Rows(), e.Rows(), fewer)
}
