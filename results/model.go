package results

import (
	"fmt"
	"github.com/authbench/authbench/vocab"
	"sort"
	"strconv"
	"strings"
)

// specOf is a result's parsed spec: recorded, or parsed from its
// canonical form or its name in results made before specs were recorded.
func specOf(r *Result) vocab.Spec {
	if r.Spec != nil {
		return *r.Spec
	}
	raw := r.Canonical
	if raw == "" {
		raw = r.Scheme
	}
	sp, _ := vocab.ParseSpec(raw) // a spec that no longer parses classifies as nothing
	return sp
}

// isBaseline reports whether sp is the no-auth baseline.
func isBaseline(sp vocab.Spec) bool { return sp.Security == "null" && sp.Credential == "" }

// scenarioData is one scenario of the report, its schemes in the order the
// run lists them.
type scenarioData struct {
	name     string
	run      *Run
	schemes  []*schemeData
	baseline *schemeData
	rounds   int
}

// schemeData is one scheme of a scenario with its results by round.
type schemeData struct {
	name      string // as the user wrote it
	canonical string
	spec      vocab.Spec
	rounds    []*Result // by round number
	ops       []string  // op names, in recorded order
}

// collect groups the runs' results by scenario and scheme. A scenario may
// appear in one run only (merge node runs first).
func collect(runs []*Run) ([]*scenarioData, error) {
	var out []*scenarioData
	byName := map[string]*scenarioData{}
	for _, run := range runs {
		if run.Schema != SchemaVersion {
			return nil, fmt.Errorf("report: results schema %d, this authbench reads %d", run.Schema, SchemaVersion)
		}
		mine := map[string]bool{}
		for _, r := range run.Results {
			sc := byName[r.Scenario]
			if sc == nil {
				sc = &scenarioData{name: r.Scenario, run: run}
				byName[r.Scenario] = sc
				out = append(out, sc)
				mine[r.Scenario] = true
			} else if !mine[r.Scenario] {
				return nil, fmt.Errorf("report: scenario %s appears in two runs (%q and %q); merge them first", r.Scenario, sc.run.Command, run.Command)
			}
			var s *schemeData
			for _, x := range sc.schemes {
				if x.name == r.Scheme {
					s = x
				}
			}
			if s == nil {
				sp := specOf(r)
				s = &schemeData{name: r.Scheme, canonical: sp.Canonical(), spec: sp}
				sc.schemes = append(sc.schemes, s)
			}
			for _, x := range s.rounds {
				if x.Round == r.Round {
					return nil, fmt.Errorf("report: scenario %s scheme %s round %d appears twice", r.Scenario, r.Scheme, r.Round)
				}
			}
			s.rounds = append(s.rounds, r)
			for _, o := range r.Ops {
				if !containsString(s.ops, o.Name) {
					s.ops = append(s.ops, o.Name)
				}
			}
		}
	}
	for _, sc := range out {
		for _, s := range sc.schemes {
			sort.SliceStable(s.rounds, func(i, j int) bool { return s.rounds[i].Round < s.rounds[j].Round })
			sc.rounds = max(sc.rounds, len(s.rounds))
		}
		for _, s := range sc.schemes {
			if s.name == "plain" {
				sc.baseline = s
			}
		}
		if sc.baseline == nil {
			for _, s := range sc.schemes {
				if isBaseline(s.spec) {
					sc.baseline = s
					break
				}
			}
		}
	}
	return out, nil
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// roundOp returns round r's op, or nil.
func roundOp(r *Result, op string) *Op {
	if o := r.Op(op); o != nil && o.Hist != nil {
		return o
	}
	return nil
}

// perRound evaluates f on every round that has op with at least one
// success.
func (s *schemeData) perRound(op string, f func(r *Result, o *Op) float64) []float64 {
	var xs []float64
	for _, r := range s.rounds {
		if o := roundOp(r, op); o != nil && o.Count > 0 {
			xs = append(xs, f(r, o))
		}
	}
	return xs
}

// roundValues evaluates f on every round.
func (s *schemeData) roundValues(f func(r *Result) (float64, bool)) []float64 {
	var xs []float64
	for _, r := range s.rounds {
		if v, ok := f(r); ok {
			xs = append(xs, v)
		}
	}
	return xs
}

// pct returns the per-round percentile p of op in nanoseconds.
func (s *schemeData) pct(op string, p float64) []float64 {
	return s.perRound(op, func(_ *Result, o *Op) float64 { return float64(o.Hist.Percentile(p)) })
}

// rate returns the per-round achieved rate of op.
func (s *schemeData) rate(op string) []float64 {
	return s.perRound(op, func(r *Result, o *Op) float64 { return o.Rate(r.Duration) })
}

// totals sums count and errors of op over rounds.
func (s *schemeData) totals(op string) (count, errs int64, kinds map[string]int64) {
	kinds = map[string]int64{}
	for _, r := range s.rounds {
		if o := r.Op(op); o != nil {
			count += o.Count
			errs += o.ErrorCount()
			for k, v := range o.Errors {
				kinds[k] += v
			}
		}
	}
	return count, errs, kinds
}

// hist merges op's histogram over rounds (nil when no round has it).
func (s *schemeData) hist(op string, uncorrected bool) *Histogram {
	var h *Histogram
	for _, r := range s.rounds {
		o := roundOp(r, op)
		if o == nil {
			continue
		}
		src := o.Hist
		if uncorrected {
			src = o.Uncorrected
		}
		if src == nil {
			continue
		}
		if h == nil {
			h = NewHistogram()
		}
		h.Merge(src)
	}
	return h
}

// paired returns, per round of s, f(s) - f(base) with base's round of the
// same number (schemes are interleaved in rounds, so a pair shares the
// machine's state), or base's median when base lacks that round.
func paired(s, base *schemeData, f func(r *Result) (float64, bool)) []float64 {
	baseBy := map[int]float64{}
	var baseAll []float64
	for _, r := range base.rounds {
		if v, ok := f(r); ok {
			baseBy[r.Round] = v
			baseAll = append(baseAll, v)
		}
	}
	if len(baseAll) == 0 {
		return nil
	}
	baseMed := vocab.SpreadOf(baseAll).Median
	var xs []float64
	for _, r := range s.rounds {
		v, ok := f(r)
		if !ok {
			continue
		}
		b, ok := baseBy[r.Round]
		if !ok {
			b = baseMed
		}
		xs = append(xs, v-b)
	}
	return xs
}

// opPct is a per-round extractor for paired: percentile p of op.
func opPct(op string, p float64) func(r *Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		o := roundOp(r, op)
		if o == nil || o.Count == 0 {
			return 0, false
		}
		return float64(o.Hist.Percentile(p)), true
	}
}

// fileOps is the number of file operations of a round (fsyncs apart).
func fileOps(f FileStats) int64 {
	return f.Created + f.Written + f.Appended + f.Read + f.Deleted + f.Renamed
}

// perJobs returns n per 1,000 jobs of r.
func perJobs(n int64, r *Result) (float64, bool) {
	if r.Jobs <= 0 {
		return 0, false
	}
	return float64(n) * 1000 / float64(r.Jobs), true
}

// cpuPerKReq is CPU milliseconds per 1,000 WFS requests.
func cpuPerKReq(r *Result) (float64, bool) {
	if r.Server.Requests <= 0 || r.CPU <= 0 {
		return 0, false
	}
	return r.CPU * 1e6 / float64(r.Server.Requests), true
}

// filesPerKJobs is files created per 1,000 jobs.
func filesPerKJobs(r *Result) (float64, bool) { return perJobs(r.Files.Created, r) }

// serverCPUPerKReq is the WFS's CPU milliseconds per 1,000 requests: the
// whole WFS process (every thread) where it ran as a process of its own,
// else its request-handling threads (results made before that).
func serverCPUPerKReq(r *Result) (float64, bool) {
	if d, ok := r.ServerProcess.CPUPerRequest(); ok {
		return d.Seconds() * 1e6, true
	}
	if r.Server.Requests <= 0 || r.Server.CPUSeconds <= 0 {
		return 0, false
	}
	return r.Server.CPUSeconds * 1e6 / float64(r.Server.Requests), true
}

// schemeStat returns a figure the scheme reported about itself.
func schemeStat(name string) func(r *Result) (float64, bool) {
	return func(r *Result) (float64, bool) {
		v, ok := r.SchemeStats[name]
		return v, ok
	}
}

// peakLive is the peak number of live files.
func peakLive(r *Result) (float64, bool) { return float64(r.Files.PeakLive), true }

// bytesAdded is the scheme's bytes added per message.
func bytesAdded(r *Result) (float64, bool) { return r.BytesAdded, true }

// serverUtilisation is the share of one CPU the WFS process used over the
// measured window.
func serverUtilisation(r *Result) (float64, bool) {
	if r.ServerProcess == nil || r.ServerProcess.Window <= 0 {
		return 0, false
	}
	return r.ServerProcess.Utilisation(), true
}

// serverPlacement names the CPUs (and quota) the WFS processes of rs ran
// on, or "in-process" for results made before the WFS had its own.
func serverPlacement(rs []*Result) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		p := "in-process"
		if sp := r.ServerProcess; sp != nil {
			p = sp.CPUs
			if p == "" {
				p = "unpinned"
			}
			if sp.Quota > 0 {
				p += fmt.Sprintf(" (quota %.2g)", sp.Quota)
			}
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

// closedLoop reports whether op came from a closed-loop group in any round.
func (s *schemeData) closedLoop(op string) bool {
	group, _, _ := strings.Cut(op, ".")
	for _, r := range s.rounds {
		if containsString(r.ClosedLoop, group) {
			return true
		}
	}
	return false
}

// anyClosedLoop reports whether any scheme ran a closed-loop group.
func (sc *scenarioData) anyClosedLoop() bool {
	for _, s := range sc.schemes {
		for _, r := range s.rounds {
			if len(r.ClosedLoop) > 0 {
				return true
			}
		}
	}
	return false
}

// saturatedShare is the share of its CPUs past which a side of a run is
// called saturated.
const saturatedShare = 0.9

// saturation names the schemes whose WFS used more than saturatedShare of
// the CPU it was allowed (its quota, else one CPU per pinned CPU) in their
// median round.
func saturation(sc *scenarioData) []string {
	var out []string
	for _, s := range sc.schemes {
		v := vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) {
			sp := r.ServerProcess
			if sp == nil || sp.Window <= 0 {
				return 0, false
			}
			allowed := sp.Quota
			if allowed <= 0 {
				allowed = float64(max(1, cpuCount(sp.CPUs)))
			}
			return sp.Utilisation() / allowed, true
		}))
		if v.N > 0 && v.Median > saturatedShare {
			out = append(out, fmt.Sprintf("%s's WFS used %.0f%% of its CPU", code(s.name), 100*v.Median))
		}
	}
	return out
}

// cpuCount counts the CPUs in a list such as "0", "0-1" or "0,2-3" (0 when
// it cannot tell).
func cpuCount(list string) int {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0
			}
		}
		n += b - a + 1
	}
	return n
}

// handshakeCPU is the WFS's CPU milliseconds per handshake from the probe
// after the load (fresh minus reused).
func handshakeCPU(r *Result) (float64, bool) {
	// Under the cylc model each sequential ping spans drain-and-sleep
	// wakes, whose CPU swamps a handshake's: no figure.
	if r.ServerProcess == nil || r.ServerProcess.Handshake == nil || r.ServerModel == "cylc" {
		return 0, false
	}
	return float64(r.ServerProcess.Handshake.PerHandshake()) / 1e6, true
}

// minCount is the fewest successful op of any round of s.
func (s *schemeData) minCount(op string) int64 { return FewestOps(s.rounds, op) }

// FewestOps is the fewest successful operations op had in any of rounds (0
// when a round lacks it): what decides whether a tail can be quoted
// (MinOps).
func FewestOps(rounds []*Result, op string) int64 {
	n := int64(-1)
	for _, r := range rounds {
		var c int64
		if o := r.Op(op); o != nil {
			c = o.Count
		}
		if n < 0 || c < n {
			n = c
		}
	}
	return max(n, 0)
}
