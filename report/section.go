package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// saturatedShare is the share of its CPUs past which a side of a run is
// called saturated.
const saturatedShare = 0.9

// section computes sc's tables.
func section(sc *figures.Scenario) *Section {
	s := &Section{Name: sc.Name, Rounds: sc.Rounds, Schemes: len(sc.Schemes), Commands: sc.Commands(),
		Sources: len(sc.Run.Inputs()), Started: sc.Run.Started, Ended: sc.Run.Ended, Works: sc.Works(), Mixed: sc.Mixed()}
	for _, sch := range sc.Schemes {
		for _, op := range sch.Ops {
			row := latencyRow(sch, op)
			s.ClosedLoop = s.ClosedLoop || row.ClosedLoop
			s.Latency = append(s.Latency, row)
		}
		s.Resources = append(s.Resources, resourceRow(sch, s.Works))
	}
	s.Saturated = saturation(sc)
	if base := sc.Baseline; base != nil {
		s.Baseline = base.Name
		for _, sch := range sc.Schemes {
			if sch != base {
				s.Overheads = append(s.Overheads, overheads(sch, base, s.Works)...)
			}
		}
	}
	return s
}

// latencyRow is op's latencies in sch: counts over rounds, percentiles
// and rates as medians over rounds.
func latencyRow(sch *figures.Scheme, op string) LatencyRow {
	row := LatencyRow{Scheme: sch.Name, Op: op, ClosedLoop: closedLoop(sch, op), ErrorKinds: map[string]int64{},
		P50: sch.Spread(figures.Pct(op, 50)), P90: sch.Spread(figures.Pct(op, 90)), P99: sch.Spread(figures.Pct(op, 99)),
		P999: sch.Spread(figures.Pct(op, 99.9)).Median, Max: sch.Spread(figures.Max(op)).Max,
		UncorrectedP99: sch.Spread(figures.UncorrectedPct(op, 99)).Median,
		Rate:           sch.Spread(figures.Rate(op)), Fewest: sch.FewestOps(op)}
	for _, r := range sch.Rounds {
		if o := r.Op(op); o != nil {
			row.Count += o.Count
			row.Errors += o.ErrorCount()
			for k, v := range o.Errors {
				row.ErrorKinds[k] += v
			}
		}
	}
	if len(row.ErrorKinds) == 0 {
		row.ErrorKinds = nil
	}
	return row
}

// closedLoop reports whether op came from a closed-loop group in any round.
func closedLoop(sch *figures.Scheme, op string) bool {
	group, _, _ := strings.Cut(op, ".")
	for _, r := range sch.Rounds {
		if contains(r.ClosedLoop, group) {
			return true
		}
	}
	return false
}

// resourceRow is sch's resources, with a cost per operation of each of
// works.
func resourceRow(sch *figures.Scheme, works []figures.Work) ResourceRow {
	row := ResourceRow{Scheme: sch.Name,
		Requests:          sch.Spread(figures.RequestsServed()),
		CPUPerRequest:     sch.Spread(figures.ServerCPU(figures.Request)),
		Placement:         placement(sch.Rounds),
		Share:             sch.Spread(figures.ServerUtilisation()),
		Handshake:         sch.Spread(figures.HandshakeCPU()),
		ClientPerRequest:  sch.Spread(figures.ClientCPU(figures.Request)),
		BytesAdded:        sch.Spread(figures.BytesAdded()),
		FilesPerJob:       sch.Spread(figures.FilesCreated(figures.Job)),
		PeakLive:          sch.Spread(figures.PeakLiveFiles()),
		FsyncsPerJob:      sch.Spread(figures.Fsyncs(figures.Job)),
		FileOpsPerRequest: sch.Spread(figures.FileOps(figures.Request)),
		PeakRSSMB:         sch.Spread(figures.ClientPeakRSS()),
	}
	for _, w := range works {
		row.PerOp = append(row.PerOp, OpCost{Work: w, CPU: sch.Spread(figures.ServerCPU(w)),
			Requests: sch.Spread(figures.Requests(w)), Files: filesPer(w), FileOps: sch.Spread(figures.FileOps(filesPer(w)))})
	}
	return row
}

// filesPer is the unit of work w's file operations are counted per: w,
// or the job for a job message (files are counted over the whole run, job
// messages only over the measured window).
func filesPer(w figures.Work) figures.Work {
	if w.CountedOverRun() {
		return w
	}
	return figures.Job
}

// overheads are sch's rows against base: per op both recorded, then the
// ratio of WFS CPU per request and per unit of work of works.
func overheads(sch, base *figures.Scheme, works []figures.Work) []OverheadRow {
	var out []OverheadRow
	for _, op := range sch.Ops {
		if !contains(base.Ops, op) {
			continue
		}
		// The tail is p99 where every round of both had 1,000
		// operations, else p90.
		p, tail := 99.0, "p99"
		if min(sch.FewestOps(op), base.FewestOps(op)) < results.MinOps(99) {
			p, tail = 90, "p90"
		}
		out = append(out, OverheadRow{Scheme: sch.Name, Op: op, Tail: tail,
			P50Ratio:  ratio(sch.Spread(figures.Pct(op, 50)), base.Spread(figures.Pct(op, 50))),
			TailRatio: ratio(sch.Spread(figures.Pct(op, p)), base.Spread(figures.Pct(op, p))),
			TailAdded: vocab.SpreadOf(sch.Paired(base, figures.Pct(op, p))),
			RateRatio: ratio(sch.Spread(figures.Rate(op)), base.Spread(figures.Rate(op)))})
	}
	for _, w := range append(works, figures.Request) {
		f := figures.ServerCPU(w)
		out = append(out, OverheadRow{Scheme: sch.Name, Per: w, CPURatio: ratio(sch.Spread(f), base.Spread(f))})
	}
	return out
}

// ratio is a's median over b's, nil where undefined.
func ratio(a, b vocab.Spread) *float64 {
	if a.N == 0 || b.N == 0 || b.Median == 0 {
		return nil
	}
	r := a.Median / b.Median
	return &r
}

// placement names the CPUs (and quota) the WFS processes of rs ran on, or
// "in-process" for results made before the WFS had its own.
func placement(rs []*results.Result) string {
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

// saturation lists the schemes whose WFS used more than saturatedShare of
// the CPU it was allowed (its quota, else one CPU per pinned CPU) in their
// median round.
func saturation(sc *figures.Scenario) []Saturation {
	var out []Saturation
	for _, sch := range sc.Schemes {
		var xs []float64
		for _, r := range sch.Rounds {
			sp := r.ServerProcess
			if sp == nil || sp.Window <= 0 {
				continue
			}
			allowed := sp.Quota
			if allowed <= 0 {
				allowed = float64(max(1, cpuCount(sp.CPUs)))
			}
			xs = append(xs, sp.Utilisation()/allowed)
		}
		if v := vocab.SpreadOf(xs); v.N > 0 && v.Median > saturatedShare {
			out = append(out, Saturation{Scheme: sch.Name, Share: v.Median})
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

// joinComma joins xs with ", ".
func joinComma(xs []string) string { return strings.Join(xs, ", ") }
