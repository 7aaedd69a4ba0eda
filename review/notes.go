// Notes a question's answer carries beside its verdict: the file-system
// model its figures hold for, capacity knees, an in-process issuer's share.

package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/authbench/authbench/results"
)

// fsClause says which file-system model the answer's figures hold for: the
// models (results.Result.FSModel) of the rounds its rows were taken from,
// the run directory's own disk when none was applied.
func fsClause(a *Answer, scs []*scenario) string {
	seen := map[string]bool{}
	var models []string
	for _, r := range a.Rows {
		for _, sc := range scs {
			if sc.name != r.Scenario {
				continue
			}
			for _, s := range sc.schemes {
				if s.name != r.Scheme && s.name != r.Baseline {
					continue
				}
				for _, res := range s.rounds {
					if !seen[res.FSModel] {
						seen[res.FSModel] = true
						models = append(models, res.FSModel)
					}
				}
			}
		}
	}
	sort.Strings(models)
	var named []string
	for _, m := range models {
		if m == "" {
			named = append(named, "the run directory's own disk, no latency model")
		} else {
			named = append(named, "the file-system model `"+m+"`")
		}
	}
	if len(named) == 0 {
		return ""
	}
	return "File system: these figures hold for " + strings.Join(named, " and ") + "."
}

// kneeNote gives the capacity knee of the rows' schemes, when measured.
func kneeNote(a *Answer, caps []*results.CapacityRun) string {
	var parts []string
	seen := map[string]bool{}
	for _, c := range caps {
		for _, cv := range c.Curves {
			if seen[cv.Scheme] || !cv.Knee.Found || cv.Knee.Invalid != "" {
				continue
			}
			want := false
			for _, r := range a.Rows {
				want = want || r.Scheme == cv.Scheme || r.Baseline == cv.Scheme
			}
			if !want {
				continue
			}
			seen[cv.Scheme] = true
			parts = append(parts, fmt.Sprintf("`%s` %.0f %s/s per WFS CPU", cv.Scheme, cv.Knee.PerServerCPU, cv.Op))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Capacity knee (sustained rate per WFS CPU, from the capacity search): " + strings.Join(parts, ", ") + "."
}

// issuerNotes say, for each row whose scheme runs its token issuer inside
// the WFS process (the wlcg credential: package issuer), how much of the
// WFS CPU measured was the issuer's work: its requests against the WFS's
// over the rounds used. The issuer's CPU cannot be told apart from the
// WFS's in one process, so the note bounds it by its share of requests.
func issuerNotes(a *Answer, scs []*scenario) []string {
	var out []string
	for _, r := range a.Rows {
		for _, sc := range scs {
			if sc.name != r.Scenario {
				continue
			}
			for _, s := range sc.schemes {
				if s.name != r.Scheme {
					continue
				}
				var issued, discovery, wfsReqs float64
				found := false
				for _, res := range s.rounds {
					st := res.SchemeStats
					v, ok := st["wlcg.issuer.token_requests"]
					if !ok {
						continue
					}
					found = true
					issued += v
					discovery += st["wlcg.issuer.discovery"] + st["wlcg.issuer.jwks"]
					wfsReqs += float64(res.Server.Requests)
				}
				if !found || wfsReqs <= 0 {
					continue
				}
				out = append(out, fmt.Sprintf("`%s` in %s runs its issuer inside the WFS process, so its WFS CPU includes the issuer's: %.0f token requests (and %.0f discovery and JWKS requests) against %.0f WFS requests over %d rounds, %.1f per 1,000 (clients cache their tokens until shortly before exp).",
					r.Scheme, r.Scenario, issued, discovery, wfsReqs, len(s.rounds), 1000*(issued+discovery)/wfsReqs))
			}
		}
	}
	return out
}
