package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/results"
)

// ProjectRuns projects the site's load onto the schemes in runs, with the
// capacity knees in caps, from the default scenario set: the report's
// section "Capacity projection: SITE". It names no results directory (the
// report lists its inputs). When the runs lack the set's scenarios it
// returns a projection that says so (Unavailable), not an error, so that
// the report shows why there is no projection.
func ProjectRuns(s *Site, runs []*results.Run, caps []*results.CapacityRun) (*Projection, error) {
	var in []Input
	for _, r := range runs {
		in = append(in, Input{Run: r})
	}
	for _, c := range caps {
		in = append(in, Input{Capacity: c})
	}
	p, err := Project(s, in, Options{})
	if errors.Is(err, ErrSetMissing) {
		set, _ := LookupSet("")
		return &Projection{Site: s, Set: set, Load: ComputeWorkload(s), Unavailable: strings.TrimPrefix(err.Error(), "project: ")}, nil
	}
	return p, err
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

// WriteMarkdown renders the projection: the scenario set, the site's load,
// each scheme's WFS CPU per operation, its CPU share against the site's
// budget and its headroom, its file operations a day, where every figure
// came from, a reading, and the commands that reproduce it.
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
	s := p.Site
	fmt.Fprintf(w, "## Capacity projection: %s\n\n", s.Name)
	if s.Description != "" {
		fmt.Fprintf(w, "%s (%s). ", strings.TrimSuffix(s.Description, "."), s.Origin)
	} else if s.Origin != "" {
		fmt.Fprintf(w, "Site model %s. ", s.Origin)
	}
	fmt.Fprintf(w, "Source: %s.\n\n", strings.TrimSuffix(s.Source, "."))
	if p.Unavailable != "" {
		fmt.Fprintf(w, "**Not projected.** %s.\n", capital(strings.TrimSuffix(p.Unavailable, ".")))
		p.renderCommands(w)
		return nil
	}
	fmt.Fprintf(w, "**Scenario set.** Every scheme's costs come from the set %s. Its results here ran under the **%s** server model on %s.",
		p.Set.describe(), p.ServerModel, fsName(p.FSModel))
	for _, n := range p.Notes {
		fmt.Fprintf(w, " %s", n)
	}
	w.WriteString("\n\n")
	if err := p.renderLoad(w); err != nil {
		return err
	}
	if err := p.renderCosts(w); err != nil {
		return err
	}
	if err := p.renderShares(w); err != nil {
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
		fmt.Fprintf(w, "\nNot projected (the set lacks a figure the site needs): %s.\n", strings.Join(sk, "; "))
	}
	fmt.Fprintf(w, "\n%s\n", p.Reading())
	p.renderCommands(w)
	return nil
}

func (p *Projection) renderLoad(w *bytes.Buffer) error {
	s, l := p.Site, p.Load
	host := fmt.Sprintf("%s workflows", num(float64(s.Workflows)))
	if s.Workflows == 1 {
		host = "1 workflow"
	}
	cpus := "a host whose CPUs the site does not give"
	if s.HostCPUs > 0 {
		cpus = fmt.Sprintf("a host of %s CPUs", num(float64(s.HostCPUs)))
	}
	fmt.Fprintf(w, "**Load.** %s, each with a WFS process of its own, on %s; \"per WFS\" is the average workflow (the site's load ÷ %d), \"host\" all of them. "+
		"Job messages and commands are operations before a scheme adds requests of its own. The peak is one workflow's cycle-point burst on top of the mean.",
		capital(host), cpus, s.Workflows)
	if u := s.UIServers; u != nil {
		fmt.Fprintf(w, " The UI servers are charged as Cylc 8 runs them, not as polls: each holds one long-lived connection to every workflow "+
			"(cylc-uiserver cylc/uiserver/workflows_mgr.py, one WorkflowRuntimeClient a workflow) and subscribes to the deltas its WFS publishes, topic \"all\" "+
			"(cylc/uiserver/data_store_mgr.py); it sends a request on that connection only to fetch the workflow on (re)connect, a topic whose checksum disagrees, or a user's mutation. "+
			"The WFS publishes once per main-loop iteration that changed its data store (cylc-flow cylc/flow/scheduler.py: INTERVAL_MAIN_LOOP = 1 s, _publish_deltas; "+
			"cylc/flow/network/publisher.py), so with updates arriving at λ a second (Poisson), 1 − e^(−λ·1 s) iterations a second publish, and each UI server receives one delta per publish. "+
			"Stated assumptions of the site file: %s data-store update(s) a job (its submission and its messages) plus one per command, and %s queries an hour per UI server per workflow.",
			num(u.UpdatesPerJob), num(u.QueriesPerHour))
	}
	w.WriteString("\n\n")
	t := mdtable.New(w, "load", "per WFS", "host", "from")
	burst := "none given"
	if b := s.CyclePointBurst; b != nil {
		burst = fmt.Sprintf("%d jobs × %s message(s) within %s, in one workflow", b.Jobs, num(b.Messages), b.Within.D())
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
		[]string{"CLI commands", rate(l.CommandsPerSecond.PerWFS) + "/s", rate(l.CommandsPerSecond.Host) + "/s", fmt.Sprintf("%s an hour ÷ 3,600 s", num(s.CLICommandsPerHour))})
	if u := s.UIServers; u != nil {
		rows = append(rows,
			[]string{"data-store updates", rate(l.UpdatesPerSecond.PerWFS) + "/s", rate(l.UpdatesPerSecond.Host) + "/s", fmt.Sprintf("jobs starting × %s + commands", num(u.UpdatesPerJob))},
			[]string{"UI-server deltas", rate(l.DeltasPerSecond.PerWFS) + "/s", rate(l.DeltasPerSecond.Host) + "/s", fmt.Sprintf("publishes (1 − e^(−updates·1 s) a second) × %d UI server(s)", u.Count)},
			[]string{"UI-server queries", rate(l.QueriesPerSecond.PerWFS) + "/s", rate(l.QueriesPerSecond.Host) + "/s", fmt.Sprintf("%d UI server(s) × %s an hour, on the open connection", u.Count, num(u.QueriesPerHour))})
	} else {
		rows = append(rows, []string{"UI servers", "0", "0", "none given"})
	}
	rows = append(rows,
		[]string{"cycle-point burst", rate(l.BurstMessagesPerSecond) + " messages/s", rate(l.BurstMessagesPerSecond) + " messages/s", burst},
		[]string{"**peak job messages**", "**" + rate(l.PeakMessagesPerSecond.PerWFS) + "/s**", "**" + rate(l.PeakMessagesPerSecond.Host) + "/s**", "mean + one workflow's burst"})
	if s.UIServers != nil {
		rows = append(rows, []string{"**peak UI-server deltas**", "**" + rate(l.PeakDeltasPerSecond.PerWFS) + "/s**", "**" + rate(l.PeakDeltasPerSecond.Host) + "/s**",
			"the burst's messages are updates too, published once a main-loop iteration"})
	}
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

// costCell is an operation's cost: its CPU, marked when estimated.
func costCell(c OpCost) string {
	if c.CPU <= 0 {
		return "-"
	}
	v := mdtable.Duration(c.CPU)
	if !c.Measured {
		v += " (estimate)"
	}
	return v
}

func reqCell(c OpCost) string {
	if c.RequestsPerOp <= 0 {
		return "-"
	}
	return num(c.RequestsPerOp)
}

func (p *Projection) renderCosts(w *bytes.Buffer) error {
	fmt.Fprintf(w, "\n**WFS CPU per operation** (the WFS process's whole CPU, every thread, per operation of the kind, median over rounds; "+
		"requests per operation are its WFS requests ÷ its operations). Where each came from is below.\n\n")
	t := mdtable.New(w, "scheme", "per command", "requests/command", "per job message", "requests/message", "per UI-server delta", "per UI-server query")
	row := func(name string, c CPUFigures) error {
		return t.Append([]string{name, costCell(c.Command), reqCell(c.Command), costCell(c.Message), reqCell(c.Message), costCell(c.Delta), costCell(c.Query)})
	}
	for _, sp := range p.Schemes {
		if err := row(code(sp.Scheme), sp.CPU); err != nil {
			return err
		}
	}
	for _, sk := range p.Skipped {
		if sk.CPU != nil && (sk.CPU.Command.Measured || sk.CPU.Message.Measured) {
			if err := row(code(sk.Scheme)+" (not projected)", *sk.CPU); err != nil {
				return err
			}
		}
	}
	return t.Render()
}

// budgetCell is the peak share against the budget, and the budget at
// which the verdict flips.
func budgetCell(b *BudgetVerdict) string {
	if b == nil {
		return "-"
	}
	if b.Within {
		return fmt.Sprintf("within: %s ≤ %s (over below %s)", pct(b.Share), pct(b.Budget), pct(b.Share))
	}
	return fmt.Sprintf("**over**: %s > %s (within at %s or more)", pct(b.Share), pct(b.Budget), pct(b.Share))
}

func (p *Projection) renderShares(w *bytes.Buffer) error {
	s := p.Site
	hostShare := "host CPUs used"
	if s.HostCPUs > 0 {
		hostShare = fmt.Sprintf("share of the host's %d CPUs", s.HostCPUs)
	}
	budget := "The site gives no WFS CPU budget (wfs_cpu_share_budget)."
	if b := s.WFSCPUShareBudget; b != nil {
		budget = fmt.Sprintf("The budget is %s of one CPU per WFS at the peak. Its source: %s.", pct(b.Value), strings.TrimSuffix(b.Source, "."))
	}
	fmt.Fprintf(w, "\n**WFS CPU share, budget and headroom per scheme.** A WFS's CPU share is Σ operations/s × WFS CPU per operation, as a share of one CPU; "+
		"the host's is all %s WFSs' together, as %s. %s The knee is the sustained operations/s of one kind per WFS CPU; "+
		"headroom is how many times one WFS's peak it could carry (the knee × that kind's CPU per operation ÷ the peak share; 1 ÷ the peak share for an estimated knee; below 1× the WFS is past its knee at the peak).\n\n",
		num(float64(s.Workflows)), strings.TrimPrefix(hostShare, "share of "), budget)
	hdr := []string{"scheme", "WFS CPU share mean", "UI servers' part of the mean", "WFS CPU share peak", "budget at the peak",
		"host mean (" + hostShare + ")", "host peak", "knee (ops/s per WFS CPU)", "headroom at peak"}
	if s.HostCPUs > 0 {
		hdr = append(hdr, "host headroom")
	}
	t := mdtable.New(w, hdr...)
	for _, sp := range p.Schemes {
		hostMean, hostPeak := cpusUsed(sp.MeanCPU.Host), cpusUsed(sp.PeakCPU.Host)
		if s.HostCPUs > 0 {
			hostMean, hostPeak = pct(sp.MeanHostShare), pct(sp.PeakHostShare)
		}
		row := []string{code(sp.Scheme), pct(sp.MeanCPU.PerWFS), pct(sp.UIShare), pct(sp.PeakCPU.PerWFS), budgetCell(sp.Budget),
			hostMean, hostPeak, kneeCell(sp.Knee), headroom(sp.Headroom, sp.Knee)}
		if s.HostCPUs > 0 {
			row = append(row, headroom(sp.HostHeadroom, sp.Knee))
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
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
		"shared-fs time is those operations × the site's fs_op_latency (%s). Per job from the set's job scenario (at its messages a job), per command from its command scenario; "+
		"UI-server deltas and queries touch no files.\n\n", num(float64(s.Workflows)), lat)
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
		if f.PerJob != nil {
			perJob = num(f.PerJob.Created) + " / " + num(f.PerJob.Fsyncs)
		}
		if f.PerCommand != nil {
			perCmd = num(f.PerCommand.Created) + " / " + num(f.PerCommand.Fsyncs)
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

// ratios words the measured knees' ratios to their estimates: "77.3 %
// (`curve`, command, fast model)".
func (p *Projection) ratios() string {
	var parts []string
	for _, r := range p.KneeRatios {
		parts = append(parts, fmt.Sprintf("%s (%s, %s, %s model)", pct(r.Ratio), code(r.Scheme), r.Op, r.ServerModel))
	}
	return strings.Join(parts, ", ")
}

func (p *Projection) renderSources(w *bytes.Buffer) error {
	fmt.Fprintf(w, "\n**Where each figure came from.** Measured figures are the WFS process's whole CPU over a scenario's measured window ÷ its operations of the kind, median over rounds, "+
		"from the set's scenario for that kind. %sA query is charged as measured on one long-lived connection where the results hold one (the set's query scenario, or the handshake probe's reused connection), else as a command on a fresh connection, an upper bound.\n\n", p.deltaWords())
	t := mdtable.New(w, "scheme", "per command from", "per job message from", "per UI-server delta", "per UI-server query", "knee from")
	for _, sp := range p.Schemes {
		k := sp.Knee
		var kneeFrom string
		if k.Estimated {
			kneeFrom = fmt.Sprintf("estimated: 1 CPU ÷ %s per %s", mdtable.Duration(sp.CPU.of(k.Op)), k.Op)
			if r := p.ratios(); r != "" {
				kneeFrom += "; measured knees on this machine were " + r + " of their estimates"
			}
		} else {
			from := k.File
			if from == "" {
				from = k.Command
			}
			kneeFrom = fmt.Sprintf("measured: capacity search %s, op %s, %s server model", code(from), k.Op, k.ServerModel)
			if k.Quota > 0 {
				kneeFrom += fmt.Sprintf(", WFS under a %s-CPU quota, scaled per CPU", num(k.Quota))
			}
			if !k.LowerBound && k.EstimateOpsPerSecond > 0 {
				kneeFrom += fmt.Sprintf("; %s of its estimate (1 CPU ÷ %s)", pct(k.Ratio()), mdtable.Duration(sp.CPU.of(k.Op)))
			}
		}
		if k.Note != "" {
			kneeFrom += " (" + k.Note + ")"
		}
		src := func(c OpCost) string {
			if c.From == nil {
				return "-"
			}
			return c.From.describe() + fmt.Sprintf(", %s operations", num(float64(c.From.Ops)))
		}
		est := func(c OpCost) string {
			if c.CPU <= 0 {
				return "-"
			}
			if c.From == nil {
				return c.Basis
			}
			return c.Basis + ", " + c.From.describe()
		}
		if err := t.Append([]string{code(sp.Scheme), src(sp.CPU.Command), src(sp.CPU.Message), est(sp.CPU.Delta), est(sp.CPU.Query), kneeFrom}); err != nil {
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
		fmt.Fprintf(w, "- this projection: %s with the results directories above\n", code("authbench project -site "+p.Site.Name+" -set "+p.Set.Name))
	}
}

// deltaWords say where the per-delta figures came from: measured where
// every scheme's is, an estimate where none is, else which.
func (p *Projection) deltaWords() string {
	var measured, estimated []string
	for _, sp := range p.Schemes {
		if sp.CPU.Delta.Measured {
			measured = append(measured, code(sp.Scheme))
		} else {
			estimated = append(estimated, code(sp.Scheme))
		}
	}
	const est = "a query on a reused connection by the scheme's transport " +
		"(the scheme of the same security with no credential: `plain` for a null+token scheme), because a delta carries no credential (cylc-flow cylc/flow/network/publisher.py, " +
		"WorkflowPublisher.send_multi, sends [topic, serialised delta] on the PUB socket) and CURVE encrypts it per subscriber as it does a reply. " +
		"It is an upper bound for the transport's part, since a query also receives and parses a request; building the delta (data_store_mgr.py, get_publish_deltas) is Cylc's own work, the same for every scheme, and not counted. "
	const meas = "the WFS's own meter of its publishing (the CPU of its server thread's publish sections, which serialise and send a delta holding the GIL as cylc-flow's publish_queued_items does, " +
		"and of its publisher's libzmq threads, which encrypt and write it to each subscriber) ÷ the deltas it sent, one per subscriber, in the query scenario, whose UI servers subscribed; " +
		"that CPU is taken out of the scenario's whole before its per-query figure. "
	switch {
	case len(measured) == 0:
		return "No scenario measures a published delta: its cost is an estimate, " + est
	case len(estimated) == 0:
		return "A published delta's cost is measured: " + meas
	}
	return fmt.Sprintf("A published delta's cost is measured for %s: %sFor %s no scenario measures one: its cost is an estimate, %s",
		strings.Join(measured, ", "), meas, strings.Join(estimated, ", "), est)
}
