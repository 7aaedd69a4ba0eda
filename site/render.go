package site

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/results"
)

// ProjectRuns projects the site's load onto the schemes in runs, with the
// capacity knees in caps: the report's section "Capacity projection:
// SITE". It names no results directory (the report lists its inputs).
func ProjectRuns(s *Site, runs []*results.Run, caps []*results.CapacityRun) (*Projection, error) {
	var in []Input
	for _, r := range runs {
		in = append(in, Input{Run: r})
	}
	for _, c := range caps {
		in = append(in, Input{Capacity: c})
	}
	return Project(s, in, Options{})
}

// WriteJSON writes the projection as indented JSON.
func (p *Projection) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode projection: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write projection: %w", err)
	}
	return nil
}

// WriteMarkdown renders the projection: the site's load, each scheme's CPU
// share and headroom, its file operations a day, where every figure came
// from, a reading, and the commands that reproduce it.
func (p *Projection) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	if err := p.render(&b); err != nil {
		return err
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write projection: %w", err)
	}
	return nil
}

func (p *Projection) render(w *bytes.Buffer) error {
	s, l := p.Site, p.Load
	fmt.Fprintf(w, "## Capacity projection: %s\n\n", s.Name)
	if s.Description != "" {
		fmt.Fprintf(w, "%s (%s). ", strings.TrimSuffix(s.Description, "."), s.Origin)
	} else if s.Origin != "" {
		fmt.Fprintf(w, "Site model %s. ", s.Origin)
	}
	fmt.Fprintf(w, "Source: %s.\n\n", strings.TrimSuffix(s.Source, "."))
	host := fmt.Sprintf("%s workflows", num(float64(s.Workflows)))
	if s.Workflows == 1 {
		host = "1 workflow"
	}
	cpus := "a host whose CPUs the site does not give"
	if s.HostCPUs > 0 {
		cpus = fmt.Sprintf("a host of %s CPUs", num(float64(s.HostCPUs)))
	}
	fmt.Fprintf(w, "**Load** (operations a second: a job message, a CLI command or a UI poll, before a scheme adds requests of its own). "+
		"%s, each with a WFS process of its own, on %s; \"per WFS\" is the average workflow (the site's load ÷ %d), \"host\" all of them. "+
		"The peak is one workflow's cycle-point burst on top of the mean.\n\n", capital(host), cpus, s.Workflows)
	t := mdtable.New(w, "load", "per WFS", "host", "from")
	burst := "none given"
	if b := s.CyclePointBurst; b != nil {
		burst = fmt.Sprintf("%d jobs × %s message(s) within %s, in one workflow", b.Jobs, num(b.Messages), b.Within.D())
	}
	polls := "no UI server"
	if u := s.UIServers; u != nil {
		polls = fmt.Sprintf("%d UI server(s), each polling every workflow every %s", u.Count, u.PollInterval.D())
	}
	rows := [][]string{
		{"jobs starting", rate(l.JobsPerSecond.PerWFS) + "/s", rate(l.JobsPerSecond.Host) + "/s", l.JobRateFrom},
		{"jobs a day", num(l.JobsPerDay.PerWFS), num(l.JobsPerDay.Host), "jobs starting × 86,400 s"},
	}
	if l.ActiveJobs.Host > 0 {
		from := "given (active_jobs)"
		if s.ActiveJobs == 0 {
			from = "jobs starting × mean_job_duration (Little's law)"
		}
		rows = append(rows, []string{"active jobs", num(l.ActiveJobs.PerWFS), num(l.ActiveJobs.Host), from})
	}
	rows = append(rows,
		[]string{"job messages", rate(l.MessagesPerSecond.PerWFS) + "/s", rate(l.MessagesPerSecond.Host) + "/s", fmt.Sprintf("jobs starting × %s messages a job", num(s.MessagesPerJob))},
		[]string{"CLI commands", rate(l.CommandsPerSecond.PerWFS) + "/s", rate(l.CommandsPerSecond.Host) + "/s", fmt.Sprintf("%s an hour ÷ 3,600 s", num(s.CLICommandsPerHour))},
		[]string{"UI polls", rate(l.PollsPerSecond.PerWFS) + "/s", rate(l.PollsPerSecond.Host) + "/s", polls},
		[]string{"**mean**", "**" + rate(l.MeanOpsPerSecond.PerWFS) + "/s**", "**" + rate(l.MeanOpsPerSecond.Host) + "/s**", "messages + commands + polls"},
		[]string{"cycle-point burst", rate(l.BurstOpsPerSecond) + "/s", rate(l.BurstOpsPerSecond) + "/s", burst},
		[]string{"**peak**", "**" + rate(l.PeakOpsPerSecond.PerWFS) + "/s**", "**" + rate(l.PeakOpsPerSecond.Host) + "/s**", "mean + one workflow's burst"},
	)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	hostShare := "host CPUs used"
	if s.HostCPUs > 0 {
		hostShare = fmt.Sprintf("share of the host's %d CPUs", s.HostCPUs)
	}
	fmt.Fprintf(w, "\n**WFS CPU and headroom per scheme.** WFS requests/s are operations/s × the scheme's requests per operation; "+
		"a WFS's CPU share is its requests/s × WFS CPU per request, as a share of one CPU; the host's is all %s WFSs' together, as %s. "+
		"The knee is the sustained operations/s per WFS CPU; headroom is the knee ÷ one WFS's peak operations/s (below 1× the WFS is past its knee at the peak).\n\n",
		num(float64(s.Workflows)), strings.TrimPrefix(hostShare, "share of "))
	hdr := []string{"scheme", "WFS CPU/request", "requests/op", "WFS requests/s mean / peak", "WFS CPU share mean", "WFS CPU share peak",
		"host mean (" + hostShare + ")", "host peak", "knee (ops/s per WFS CPU)", "headroom at peak"}
	if s.HostCPUs > 0 {
		hdr = append(hdr, "host headroom")
	}
	t = mdtable.New(w, hdr...)
	for _, sp := range p.Schemes {
		hostMean, hostPeak := cpusUsed(sp.MeanCPU.Host), cpusUsed(sp.PeakCPU.Host)
		if s.HostCPUs > 0 {
			hostMean, hostPeak = pct(sp.MeanHostShare), pct(sp.PeakHostShare)
		}
		row := []string{code(sp.Scheme), mdtable.Duration(sp.CPU.PerRequest), num(sp.CPU.RequestsPerOp),
			rate(sp.MeanRequestsPerSecond.PerWFS) + " / " + rate(sp.PeakRequestsPerSecond.PerWFS),
			pct(sp.MeanCPU.PerWFS), pct(sp.PeakCPU.PerWFS), hostMean, hostPeak, kneeCell(sp.Knee), headroom(sp.Headroom, sp.Knee)}
		if s.HostCPUs > 0 {
			row = append(row, headroom(sp.HostHeadroom, sp.Knee))
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	if err := p.renderFiles(w); err != nil {
		return err
	}
	if err := p.renderSources(w); err != nil {
		return err
	}
	if len(p.Skipped) > 0 {
		var sk []string
		for _, x := range p.Skipped {
			sk = append(sk, code(x.Scheme)+": "+x.Why)
		}
		fmt.Fprintf(w, "\nNot projected: %s.\n", strings.Join(sk, "; "))
	}
	fmt.Fprintf(w, "\n%s\n", p.Reading())
	p.renderCommands(w)
	return nil
}

func (p *Projection) renderFiles(w *bytes.Buffer) error {
	some := false
	for _, sp := range p.Schemes {
		some = some || sp.Files != nil
	}
	if !some {
		return nil
	}
	s := p.Site
	lat := "no fs_op_latency given"
	if d := s.FSOpLatency.D(); d > 0 {
		lat = "at " + d.String() + " an operation"
	}
	fmt.Fprintf(w, "\n**Files a day per scheme** (the host: all %s workflows; per WFS in brackets). File operations are files created, written, appended, read, deleted, renamed and fsynced; "+
		"shared-fs time is those operations × the site's fs_op_latency (%s). Per job and per command are as the results counted them.\n\n", num(float64(s.Workflows)), lat)
	t := mdtable.New(w, "scheme", "files created a day", "fsyncs a day", "file ops a day", "shared-fs time a day", "per job (created / fsyncs)", "per command (created / fsyncs)")
	for _, sp := range p.Schemes {
		f := sp.Files
		if f == nil {
			if err := t.Append([]string{code(sp.Scheme), "-", "-", "-", "-", "-", "-"}); err != nil {
				return err
			}
			continue
		}
		fsTime := "-"
		if s.FSOpLatency > 0 {
			fsTime = span(f.FSSecondsPerDay.Host) + " (" + span(f.FSSecondsPerDay.PerWFS) + ")"
		}
		perJob, perCmd := "-", "-"
		switch {
		case f.PerJob != nil:
			perJob = num(f.PerJob.Created) + " / " + num(f.PerJob.Fsyncs)
		case f.PerRequest != nil:
			perJob = "per request: " + num(f.PerRequest.Created) + " / " + num(f.PerRequest.Fsyncs)
		}
		switch {
		case f.PerCommand != nil:
			perCmd = num(f.PerCommand.Created) + " / " + num(f.PerCommand.Fsyncs)
		case f.PerRequest != nil:
			perCmd = "per request: " + num(f.PerRequest.Created) + " / " + num(f.PerRequest.Fsyncs)
		}
		if err := t.Append([]string{code(sp.Scheme),
			num(f.PerDayHost.Created) + " (" + num(f.PerDayWFS.Created) + ")",
			num(f.PerDayHost.Fsyncs) + " (" + num(f.PerDayWFS.Fsyncs) + ")",
			num(f.PerDayHost.Ops) + " (" + num(f.PerDayWFS.Ops) + ")",
			fsTime, perJob, perCmd}); err != nil {
			return err
		}
	}
	return t.Render()
}

func (p *Projection) renderSources(w *bytes.Buffer) error {
	fmt.Fprintf(w, "\n**Where each figure came from.** WFS CPU per request is the WFS process's whole CPU (every thread) over a scenario's measured window ÷ the requests it served there, "+
		"median over rounds, from the open-loop scenario with the most WFS requests")
	if p.Command != "" && strings.Contains(p.Command, "-scenario") {
		fmt.Fprintf(w, " (or the scenario -scenario names)")
	}
	fmt.Fprintf(w, "; requests per operation are that scenario's WFS requests ÷ its job messages, commands and polls. "+
		"Files per job come from a scenario of jobs only (the one whose jobs send the site's messages a job, or nearest it, then the most jobs), per command from the scenario of commands only with the most commands; "+
		"without one, files are apportioned per WFS request (files ÷ WFS requests) from the CPU figure's scenario and applied to the site's job-message and command requests.\n\n")
	t := mdtable.New(w, "scheme", "CPU/request from", "knee from", "files from")
	for _, sp := range p.Schemes {
		k := sp.Knee
		var kneeFrom string
		if k.Estimated {
			kneeFrom = "estimated from CPU per request: 1 CPU ÷ " + mdtable.Duration(sp.CPU.PerOp) + " per operation"
		} else {
			from := k.File
			if from == "" {
				from = k.Command
			}
			kneeFrom = fmt.Sprintf("capacity search %s, op %s", code(from), k.Op)
			if k.Quota > 0 {
				kneeFrom += fmt.Sprintf(", WFS under a %s-CPU quota, scaled per CPU", num(k.Quota))
			}
		}
		if k.Note != "" {
			kneeFrom += " (" + k.Note + ")"
		}
		cpuFrom := sp.CPU.From.describe() + fmt.Sprintf(", %s WFS requests", num(float64(sp.CPU.From.Requests)))
		if !sp.CPU.OpsCounted {
			cpuFrom += "; it counted no operations, so 1 request per operation is assumed"
		}
		filesFrom := "-"
		if f := sp.Files; f != nil {
			var parts []string
			if f.JobsFrom != nil {
				parts = append(parts, "per job: "+f.JobsFrom.describe()+fmt.Sprintf(", %s jobs of %s messages", num(float64(f.JobsFrom.Jobs)), num(f.JobsFrom.MessagesPerJob)))
			}
			if f.CommandsFrom != nil {
				parts = append(parts, "per command: "+f.CommandsFrom.describe()+fmt.Sprintf(", %s commands", num(float64(f.CommandsFrom.Commands))))
			}
			if f.RequestsFrom != nil {
				parts = append(parts, "apportioned per WFS request: "+f.RequestsFrom.describe())
			}
			filesFrom = strings.Join(parts, "; ")
		}
		if err := t.Append([]string{code(sp.Scheme), cpuFrom, kneeFrom, filesFrom}); err != nil {
			return err
		}
	}
	return t.Render()
}

func (p *Projection) renderCommands(w *bytes.Buffer) {
	fmt.Fprintf(w, "\nReproduce:\n\n")
	seen := map[string]bool{}
	for _, src := range p.Sources {
		if src.Command != "" && !seen[src.Command] {
			seen[src.Command] = true
			where := ""
			if src.Dir != "" {
				where = " (" + code(src.Dir) + ")"
			}
			fmt.Fprintf(w, "- results%s: %s\n", where, code(src.Command))
		}
		if src.CapacityCommand != "" && !seen[src.CapacityCommand] {
			seen[src.CapacityCommand] = true
			where := ""
			if src.CapacityFile != "" {
				where = " (" + code(src.CapacityFile) + ")"
			}
			fmt.Fprintf(w, "- capacity%s: %s\n", where, code(src.CapacityCommand))
		}
	}
	if p.Command != "" {
		fmt.Fprintf(w, "- this projection: %s\n", code(p.Command))
	} else {
		fmt.Fprintf(w, "- this projection: %s with the results directories above\n", code("authbench project -site "+p.Site.Name))
	}
}

// Reading is the projection in one paragraph: the range of CPU shares at
// the mean and the peak, the least headroom, and how far to trust it.
func (p *Projection) Reading() string {
	s, l := p.Site, p.Load
	if len(p.Schemes) == 0 {
		return ""
	}
	lo, hi := p.Schemes[0], p.Schemes[0]
	tight := p.Schemes[0]
	var past []string
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
	}
	peakLo, peakHi := lo.PeakCPU.PerWFS, hi.PeakCPU.PerWFS
	for _, sp := range p.Schemes {
		peakLo, peakHi = math.Min(peakLo, sp.PeakCPU.PerWFS), math.Max(peakHi, sp.PeakCPU.PerWFS)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Reading.** At %s's mean load an average WFS serves %s operations/s, which takes ", s.Name, rate(l.MeanOpsPerSecond.PerWFS))
	if pct(lo.MeanCPU.PerWFS) == pct(hi.MeanCPU.PerWFS) {
		fmt.Fprintf(&b, "%s of one CPU under every scheme; ", pct(lo.MeanCPU.PerWFS))
	} else {
		fmt.Fprintf(&b, "from %s of one CPU (%s) to %s (%s); ", pct(lo.MeanCPU.PerWFS), code(lo.Scheme), pct(hi.MeanCPU.PerWFS), code(hi.Scheme))
	}
	if l.BurstOpsPerSecond > 0 {
		fmt.Fprintf(&b, "during a cycle-point burst (%s operations/s) it takes %s. ", rate(l.PeakOpsPerSecond.PerWFS), between(pct(peakLo), pct(peakHi)))
	} else {
		b.WriteString("the site gives no burst, so the peak is the mean. ")
	}
	kind := "its capacity knee"
	if tight.Knee.Estimated {
		kind = "its knee estimated from CPU per request"
	}
	fmt.Fprintf(&b, "The least headroom at the peak is %s's: %s %s. ", code(tight.Scheme), headroom(tight.Headroom, tight.Knee), kind)
	if len(past) > 0 {
		fmt.Fprintf(&b, "Past the knee at the peak: %s. ", strings.Join(past, ", "))
	} else {
		b.WriteString("No scheme is past its knee at the peak. ")
	}
	var ratios []float64
	var measured []string
	for _, sp := range p.Schemes {
		if k := sp.Knee; !k.Estimated && !k.LowerBound && k.EstimateOpsPerSecond > 0 {
			ratios = append(ratios, k.OpsPerSecond/k.EstimateOpsPerSecond)
			measured = append(measured, code(sp.Scheme))
		}
	}
	if len(ratios) > 0 {
		rlo, rhi := ratios[0], ratios[0]
		for _, r := range ratios {
			rlo, rhi = math.Min(rlo, r), math.Max(rhi, r)
		}
		fmt.Fprintf(&b, "Where a capacity search measured the knee (%s), it is %s of the estimate from CPU per request, so the estimated knees overstate headroom. ",
			strings.Join(measured, ", "), between(pct(rlo), pct(rhi)))
	}
	if s.HostCPUs > 0 {
		fmt.Fprintf(&b, "Host-wide, the %s workflows' WFSs take %s of the host's %d CPUs at the mean. ",
			num(float64(s.Workflows)), between(pct(lo.MeanHostShare), pct(hi.MeanHostShare)), s.HostCPUs)
	} else {
		fmt.Fprintf(&b, "Host-wide, the %s workflows' WFSs use %s at the mean. ",
			num(float64(s.Workflows)), between(cpusUsed(lo.MeanCPU.Host), cpusUsed(hi.MeanCPU.Host)))
	}
	b.WriteString("Read these as the schemes' relative cost, not a site's absolute one: the CPU per request is authbench's WFS on the benchmark machine " +
		"(its server model, its idle CPU over the window included, which overstates it in low-rate scenarios), every operation is charged the scenario's average request, " +
		"and a real scheduler adds its own work per request; a knee estimated from CPU per request is an upper bound, since latency passes the knee rule before the CPU is full.")
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
		return v + " (estimated)"
	case k.LowerBound:
		return "≥ " + v + " (capacity, not reached)"
	}
	return v + " (capacity, " + k.Op + ")"
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
