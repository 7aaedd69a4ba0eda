// Q-wlcg's verdict: the token flows' issuer costs and the issuer load model.

package review

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authbench/authbench/issuerload"
)

// ruleWLCG states each flow's issuer cost per transfer and judges the time
// a transfer spends on tokens. The issuer load model at a site's rate and
// at several token lifetimes is a note of its own (wlcgSiteNotes), from
// the site file the report is given.
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
	return Verdict{Outcome: outcome, Decisive: true, Text: text}
}

// wlcgSiteNotes are the issuer load model's figures at site s's transfer
// rate and queue waits, at each access-token lifetime it names: for each
// flow the issuer's requests an hour and the tokens it holds; then, at the
// first lifetime, what one token scoped to both storage elements saves
// against one per element in the service flow (the notes' [N9]).
func wlcgSiteNotes(s *issuerload.Site) []string {
	ms, err := s.Models()
	if err != nil {
		return []string{"The issuer load model could not be computed for site " + s.Name + ": " + err.Error()}
	}
	var out []string
	intro := fmt.Sprintf("The issuer load model (package issuerload) at WLCG site `%s` (%s: %s transfers an hour; queue waits exponential, mean %s; refresh tokens %s; a token reused while it has more than %s left; source: %s), at %d access-token lifetimes:",
		s.Name, s.Origin, trimFloat(s.TransfersPerHour), humanDur(s.QueueWaitMean.D()), humanDur(s.RefreshLifetime.D()), humanDur(s.Margin.D()), s.Source, len(ms))
	out = append(out, intro)
	for _, f := range []issuerload.Flow{issuerload.FlowService, issuerload.FlowUser, issuerload.FlowGroups} {
		var parts []string
		for _, m := range ms {
			fl := m.Flow(f)
			if fl == nil {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s access tokens: %s requests an hour (%.3g per transfer), %s tokens held",
				humanDur(m.Inputs.AccessLifetime), trimFloat(roundSig(fl.Requests.Total())), fl.PerTransfer.RoundTrips, trimFloat(roundSig(fl.Rows()))))
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("- %s flow: %s.", f, strings.Join(parts, "; ")))
		}
	}
	if half := bothSEsTradeOff(s.Inputs(s.AccessLifetimes[0].D())); half != "" {
		out = append(out, half)
	}
	return out
}

// roundSig rounds x to 3 significant figures.
func roundSig(x float64) float64 {
	if x == 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(math.Abs(x)))-2)
	return math.Round(x/p) * p
}

// bothSEsTradeOff is the issuer load model's service flow at in, with one
// token scoped to both storage elements against one per element (package
// issuerload, the notes' [N9]).
func bothSEsTradeOff(in issuerload.Inputs) string {
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
	return fmt.Sprintf("At %s access tokens, one token scoped to both storage elements stores %s access tokens an hour in the service flow against %s with one per element, and holds %s against %s: %s.",
		humanDur(in.AccessLifetime), trimFloat(roundSig(b.AccessPerHour)), trimFloat(roundSig(e.AccessPerHour)), trimFloat(roundSig(b.Rows())), trimFloat(roundSig(e.Rows())), fewer)
}

// humanDur prints a lifetime in its largest whole unit: "20 min", "6 h",
// "10 d"; else as Go prints it.
func humanDur(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d d", d/(24*time.Hour))
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d > 0 && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}
