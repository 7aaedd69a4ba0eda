package review

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// keyScale is a Q-keys scenario at a stated live-key count (its YAML:
// review-keys-100, review-keys-1000).
type keyScale struct {
	scenario string
	live     float64
}

// keyScales are the Q-keys scenarios that hold the live-key count at a
// stated level, in order.
func keyScales() []keyScale {
	return []keyScale{{"review-keys-100", 100}, {"review-keys-1000", 1000}}
}

// keysScaleNotes says how per-job keys' extra WFS CPU grows with the
// live-key count (per job message, the WFS's CPU over the measured window
// divided by the messages in it: a job's start, its key and the re-reads
// it causes are shared among its messages, two in these scenarios), from the rows of the scenarios that hold it at a
// stated level (keyScales), and what one re-read of the key folder cost
// there (the scheme's zap.reload_ns_mean over zap.reload_files_read per
// reload): the growth law, as an exponent fitted between the two counts.
func keysScaleNotes(a *Answer, scs []*scenario) []string {
	type point struct {
		live, extra float64
		perReload   string
		errors      int64
	}
	pts := map[string][]point{}
	for _, ks := range keyScales() {
		for _, r := range a.Reference {
			if r.Scenario != ks.scenario {
				continue
			}
			st := r.stat("WFS CPU/job message")
			if !st.Valid {
				continue
			}
			pts[r.Scheme] = append(pts[r.Scheme], point{live: ks.live, extra: st.CI.Center, perReload: reloadWords(scs, r.Scenario, r.Scheme), errors: r.Errors})
		}
	}
	var schemes []string
	for s := range pts {
		schemes = append(schemes, s)
	}
	sort.Strings(schemes)
	var out []string
	for _, s := range schemes {
		ps := pts[s]
		var parts []string
		for _, p := range ps {
			w := fmt.Sprintf("%s WFS CPU per job message over per-target keys at about %.0f live keys", fmtValue(p.extra, Duration, true), p.live)
			if p.perReload != "" {
				w += " (" + p.perReload + ")"
			}
			if p.errors > 0 {
				w += fmt.Sprintf(", with %d job messages failed", p.errors)
			}
			parts = append(parts, w)
		}
		text := fmt.Sprintf("Q-keys at scale, `%s` under the cylc model's key-folder re-read: %s.", s, strings.Join(parts, "; "))
		if len(ps) == 2 && ps[0].extra > 0 && ps[1].extra > 0 {
			k := math.Log(ps[1].extra/ps[0].extra) / math.Log(ps[1].live/ps[0].live)
			text += fmt.Sprintf(" From %.0f to %.0f live keys it grew %.3g-fold: as the live-key count to the power %.2f (1 is linear).",
				ps[0].live, ps[1].live, ps[1].extra/ps[0].extra, k)
		}
		out = append(out, text)
	}
	return out
}

// reloadWords is what one re-read of the key folder cost scheme s in
// scenario sc, from its rounds' scheme figures ("" when it did none).
func reloadWords(scs []*scenario, sc, s string) string {
	for _, x := range scs {
		if x.name != sc {
			continue
		}
		for _, sch := range x.schemes {
			if sch.name != s {
				continue
			}
			var ns, reloads, files float64
			for _, r := range sch.rounds {
				n := r.SchemeStats["zap.reloads"]
				ns += r.SchemeStats["zap.reload_ns_mean"] * n
				reloads += n
				files += r.SchemeStats["zap.reload_files_read"]
			}
			if reloads <= 0 {
				return ""
			}
			return fmt.Sprintf("%.0f re-reads, each %s for %.0f key files on average", reloads, fmtValue(ns/reloads, Duration, false), files/reloads)
		}
	}
	return ""
}
