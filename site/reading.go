package site

// The projection in words (Reading) and the number formats its tables and
// words share.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Reading is the projection in one paragraph: the range of CPU shares at
// the mean and the peak, the UI servers' part, the budget verdicts, the
// least headroom, and how far to trust it.
func (p *Projection) Reading() string {
	s, l := p.Site, p.Load
	if len(p.Schemes) == 0 {
		return ""
	}
	lo, hi, tight := p.Schemes[0], p.Schemes[0], p.Schemes[0]
	peakMin, peakMax := p.Schemes[0], p.Schemes[0]
	var past, over, within []string
	uiLo, uiHi := p.Schemes[0].UIShare, p.Schemes[0].UIShare
	peakLo, peakHi := p.Schemes[0].PeakCPU.PerWFS, p.Schemes[0].PeakCPU.PerWFS
	for _, sp := range p.Schemes {
		if sp.MeanCPU.PerWFS < lo.MeanCPU.PerWFS {
			lo = sp
		}
		if sp.MeanCPU.PerWFS > hi.MeanCPU.PerWFS {
			hi = sp
		}
		if sp.Headroom < tight.Headroom {
			tight = sp
		}
		if sp.Headroom > 0 && sp.Headroom < 1 && !sp.Knee.LowerBound {
			past = append(past, code(sp.Scheme))
		}
		if b := sp.Budget; b != nil {
			if b.Within {
				within = append(within, code(sp.Scheme))
			} else {
				over = append(over, code(sp.Scheme))
			}
		}
		if sp.PeakCPU.PerWFS < peakMin.PeakCPU.PerWFS {
			peakMin = sp
		}
		if sp.PeakCPU.PerWFS > peakMax.PeakCPU.PerWFS {
			peakMax = sp
		}
		uiLo, uiHi = math.Min(uiLo, sp.UIShare), math.Max(uiHi, sp.UIShare)
		peakLo, peakHi = math.Min(peakLo, sp.PeakCPU.PerWFS), math.Max(peakHi, sp.PeakCPU.PerWFS)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Reading.** From set %s (%s model, %s): at %s's mean load an average WFS takes ", code(p.Set.Name), p.ServerModel, fsName(p.FSModel), s.Name)
	if pct(lo.MeanCPU.PerWFS) == pct(hi.MeanCPU.PerWFS) {
		fmt.Fprintf(&b, "%s of one CPU under every scheme", pct(lo.MeanCPU.PerWFS))
	} else {
		fmt.Fprintf(&b, "from %s of one CPU (%s) to %s (%s)", pct(lo.MeanCPU.PerWFS), code(lo.Scheme), pct(hi.MeanCPU.PerWFS), code(hi.Scheme))
	}
	if s.UIServers != nil {
		fmt.Fprintf(&b, ", of which the UI servers' deltas and queries are %s", between(pct(uiLo), pct(uiHi)))
	}
	b.WriteString("; ")
	if l.BurstMessagesPerSecond > 0 {
		fmt.Fprintf(&b, "during a cycle-point burst (%s job messages/s) it takes %s. ", rate(l.PeakMessagesPerSecond.PerWFS), between(pct(peakLo), pct(peakHi)))
	} else {
		b.WriteString("the site gives no burst, so the peak is the mean. ")
	}
	if bd := s.WFSCPUShareBudget; bd != nil {
		switch {
		case len(over) == 0:
			fmt.Fprintf(&b, "Every scheme is within the budget of %s at the peak; the first to pass it would be %s, below a budget of %s. ", pct(bd.Value), code(peakMax.Scheme), pct(peakHi))
		case len(within) == 0:
			fmt.Fprintf(&b, "Every scheme is over the budget of %s at the peak; the first within it would be %s, at a budget of %s. ", pct(bd.Value), code(peakMin.Scheme), pct(peakLo))
		default:
			fmt.Fprintf(&b, "Over the budget of %s at the peak: %s; within: %s. ", pct(bd.Value), strings.Join(over, ", "), strings.Join(within, ", "))
		}
	}
	kind := "its measured knee"
	if tight.Knee.Estimated {
		kind = "its knee estimated from CPU per operation"
	}
	fmt.Fprintf(&b, "The least headroom at the peak is %s's: %s by %s. ", code(tight.Scheme), headroom(tight.Headroom, tight.Knee), kind)
	if len(past) > 0 {
		fmt.Fprintf(&b, "Past the knee at the peak: %s. ", strings.Join(past, ", "))
	} else {
		b.WriteString("No scheme is past its knee at the peak. ")
	}
	if r := p.ratios(); r != "" {
		under, over := 0, 0
		for _, x := range p.KneeRatios {
			if x.Ratio < 1 {
				under++
			} else {
				over++
			}
		}
		effect := "so an estimated knee is off by about that factor, either way"
		switch {
		case over == 0:
			effect = "so an estimated knee overstates headroom by about that factor"
		case under == 0:
			effect = "so an estimated knee understates headroom by about that factor"
		}
		fmt.Fprintf(&b, "Measured knees on this machine were %s of their estimates, %s. ", r, effect)
	}
	if s.HostCPUs > 0 {
		fmt.Fprintf(&b, "Host-wide, the %s workflows' WFSs take %s of the host's %d CPUs at the mean. ",
			num(float64(s.Workflows)), between(pct(lo.MeanHostShare), pct(hi.MeanHostShare)), s.HostCPUs)
	} else {
		fmt.Fprintf(&b, "Host-wide, the %s workflows' WFSs use %s at the mean. ",
			num(float64(s.Workflows)), between(cpusUsed(lo.MeanCPU.Host), cpusUsed(hi.MeanCPU.Host)))
	}
	fmt.Fprintf(&b, "Read these as the schemes' relative cost, not a site's absolute one: the CPU per operation is authbench's WFS on the benchmark machine "+
		"(its server model, its idle CPU over the window included, which overstates it in low-rate scenarios, the cylc model's wake-ups most), "+
		"%s, and a real scheduler adds its own work per request; a knee estimated from CPU per operation assumes the CPU is the only limit.", p.deltaCaveat())
	return b.String()
}

// between is "lo to hi", or lo alone when they print the same.
func between(lo, hi string) string {
	if lo == hi {
		return lo
	}
	return lo + " to " + hi
}

// rate prints an operations-a-second figure to about three significant
// digits.
func rate(x float64) string { return num(x) }

// num prints a figure: whole numbers of 100 or more with thousands
// separators, smaller ones to three significant digits.
func num(x float64) string {
	if x != x || math.IsInf(x, 0) {
		return "-"
	}
	if x == 0 {
		return "0"
	}
	ax := math.Abs(x)
	if ax >= 100 {
		return thousands(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	}
	digits := 2 - int(math.Floor(math.Log10(ax)))
	s := strconv.FormatFloat(x, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// thousands puts thousands separators into a whole number.
func thousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct prints a share as a percentage.
func pct(x float64) string { return num(100*x) + " %" }

// cpusUsed prints CPUs used.
func cpusUsed(x float64) string {
	if x == 1 {
		return "1 CPU"
	}
	return num(x) + " CPUs"
}

func kneeCell(k Knee) string {
	v := num(k.OpsPerSecond) + "/s"
	switch {
	case k.Estimated:
		return v + " " + k.Op + "s (estimated)"
	case k.LowerBound:
		return "≥ " + v + " " + k.Op + "s (measured, " + k.ServerModel + " model, not reached)"
	}
	return v + " " + k.Op + "s (measured, " + k.ServerModel + " model)"
}

func headroom(h float64, k Knee) string {
	if h <= 0 {
		return "-"
	}
	v := num(h) + "×"
	if k.LowerBound {
		return "≥ " + v
	}
	return v
}

// span prints seconds as a duration suited to its size.
func span(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case sec <= 0:
		return "0"
	case d < time.Minute:
		return num(sec) + " s"
	case d < time.Hour:
		return num(sec/60) + " min"
	default:
		return num(sec/3600) + " h"
	}
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// deltaCaveat is the reading's caveat on the per-delta figures: an
// estimate, or measured without the Python work of serialising a delta.
func (p *Projection) deltaCaveat() string {
	measured := 0
	for _, sp := range p.Schemes {
		if sp.CPU.Delta.Measured {
			measured++
		}
	}
	switch {
	case measured == 0:
		return "the UI-server delta is an estimate"
	case measured < len(p.Schemes):
		return "the UI-server delta is an estimate for some schemes and for the rest measured without the Python work of serialising it"
	}
	return "the UI-server delta is measured without the Python work of serialising it (the stand-in burns none)"
}
