package site

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// MainLoopInterval is how often Cylc 8's scheduler runs its main loop when
// idle (cylc-flow cylc/flow/scheduler.py, Scheduler.INTERVAL_MAIN_LOOP =
// 1.0). Each iteration that changed the data store publishes its deltas
// once (scheduler.py _main_loop → update_data_structure →
// _publish_deltas), so changes within one iteration share a publish.
const MainLoopInterval = time.Second

// Publishes is the main-loop iterations a second that publish deltas when
// data-store updates arrive at updatesPerSecond, as a Poisson stream: the
// share of MainLoopInterval windows holding at least one update,
// (1 - e^(-λT)) / T. It is about λ at a low rate and tends to one publish
// an iteration in a burst.
func Publishes(updatesPerSecond float64) float64 {
	t := MainLoopInterval.Seconds()
	return -math.Expm1(-updatesPerSecond*t) / t
}

// ComputeWorkload works out a site's load.
func ComputeWorkload(s *Site) Workload {
	var l Workload
	w := float64(s.Workflows)
	perWFS := func(host float64) Pair { return Pair{host / w, host} }
	var jobs float64
	if s.TasksPerDay > 0 {
		jobs = s.TasksPerDay / Day.Seconds()
		l.JobRateFrom = fmt.Sprintf("%s tasks a day ÷ 86,400 s", num(s.TasksPerDay))
		if d := s.MeanJobDuration.D(); d > 0 {
			l.ActiveJobs = perWFS(jobs * d.Seconds())
		}
	} else {
		jobs = float64(s.ActiveJobs) / s.MeanJobDuration.D().Seconds()
		l.JobRateFrom = fmt.Sprintf("%s active jobs ÷ %s mean job duration", num(float64(s.ActiveJobs)), s.MeanJobDuration.D())
		l.ActiveJobs = perWFS(float64(s.ActiveJobs))
	}
	l.JobsPerSecond = perWFS(jobs)
	l.JobsPerDay = l.JobsPerSecond.scale(Day.Seconds())
	l.MessagesPerSecond = l.JobsPerSecond.scale(s.MessagesPerJob)
	l.CommandsPerSecond = perWFS(s.CLICommandsPerHour / 3600)
	l.CommandsPerDay = l.CommandsPerSecond.scale(Day.Seconds())
	if b := s.CyclePointBurst; b != nil {
		l.BurstMessagesPerSecond = float64(b.Jobs) * b.Messages / b.Within.D().Seconds()
	}
	burst := Pair{l.BurstMessagesPerSecond, l.BurstMessagesPerSecond}
	l.PeakMessagesPerSecond = l.MessagesPerSecond.add(burst)
	if u := s.UIServers; u != nil {
		n := float64(u.Count)
		l.UpdatesPerSecond = l.JobsPerSecond.scale(u.UpdatesPerJob).add(l.CommandsPerSecond)
		pub := Publishes(l.UpdatesPerSecond.PerWFS)
		l.PublishesPerSecond = Pair{pub, pub * w}
		l.DeltasPerSecond = l.PublishesPerSecond.scale(n)
		q := n * u.QueriesPerHour / 3600
		l.QueriesPerSecond = Pair{q, q * w}
		peak := Publishes(l.UpdatesPerSecond.PerWFS+l.BurstMessagesPerSecond) * n
		l.PeakDeltasPerSecond = Pair{peak, l.DeltasPerSecond.Host + peak - l.DeltasPerSecond.PerWFS}
	}
	return l
}

// Project projects the site's load onto every scheme the set's scenarios
// measured. A set whose required scenarios the inputs lack is an error
// wrapping ErrSetMissing; results that mix server or file-system models
// within the set are refused.
func Project(s *Site, inputs []Input, opts Options) (*Projection, error) {
	if s == nil {
		return nil, errors.New("project: no site")
	}
	set, err := LookupSet(opts.Set)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	p := &Projection{Site: s, Command: opts.Command, Set: set, Load: ComputeWorkload(s)}
	nRuns := 0
	for _, in := range inputs {
		src := Source{Dir: in.Dir, CapacityFile: in.CapacityFile}
		if in.Run != nil {
			src.Command = in.Run.Command
			nRuns++
		}
		if in.Capacity != nil {
			src.CapacityCommand = in.Capacity.Command
		}
		p.Sources = append(p.Sources, src)
	}
	if nRuns == 0 {
		return nil, errors.New("project: no results to project")
	}
	sr, err := collect(set, inputs)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	var missing []string
	for _, sc := range []string{set.Commands, set.Messages} {
		if !sr.present[sc] {
			missing = append(missing, sc)
		}
	}
	if len(missing) > 0 {
		have := "none"
		if len(sr.all) > 0 {
			have = strings.Join(sr.all, ", ")
		}
		return nil, &setMissingError{fmt.Sprintf("project: set %s takes commands from %s and job messages from %s, and the results hold no %s (they hold %s); run it, or name another set with -set (%s)",
			set.Name, set.Commands, set.Messages, strings.Join(missing, " or "), have, strings.Join(SetNames(), ", "))}
	}
	// The sources are the inputs the set used, and the capacity searches.
	used := map[string]bool{}
	for _, d := range sr.where {
		used[d] = true
	}
	var srcs []Source
	for _, src := range p.Sources {
		if src.CapacityCommand != "" || used[src.Dir] {
			if !used[src.Dir] {
				src.Command = ""
			}
			srcs = append(srcs, src)
		}
	}
	p.Sources = srcs
	if p.ServerModel, p.FSModel, err = sr.models(set); err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	if p.ServerModel != set.ServerModel || p.FSModel != set.FSModel {
		p.Notes = append(p.Notes, fmt.Sprintf("**These figures are not on the set's terms**: re-run its scenarios under the %s server model on %s to project on them.",
			set.ServerModel, fsName(set.FSModel)))
	}
	if set.Queries != "" && !sr.present[set.Queries] {
		p.Notes = append(p.Notes, fmt.Sprintf("The results hold no %s, so UI-server queries are charged from the command scenario (see each figure's basis).", code(set.Queries)))
	}

	costs := map[string]*CPUFigures{}
	why := map[string]string{}
	partial := map[string]*CPUFigures{}
	for _, scheme := range sr.order {
		c, w := schemeCosts(s, p.Load, set, sr, scheme)
		if w != "" {
			why[scheme], partial[scheme] = w, c
			continue
		}
		costs[scheme] = c
	}
	// A delta's cost is measured in the query scenario where its UI
	// servers subscribed (measureDelta), else estimated from the scheme's
	// transport's query cost (deltaCost), which needs every scheme's query
	// cost first.
	for _, scheme := range sr.order {
		if c := costs[scheme]; c != nil {
			if d, ok := measureDelta(sr.groups[scheme][set.Queries]); ok {
				c.Delta = d
			} else {
				c.Delta = deltaCost(scheme, sr, costs)
			}
		}
	}
	for _, scheme := range sr.order {
		c := costs[scheme]
		if c == nil {
			p.Skipped = append(p.Skipped, Skipped{Scheme: scheme, Why: why[scheme], CPU: partial[scheme]})
			continue
		}
		sp := projectScheme(s, p.Load, scheme, sr.canonical[scheme], *c, sr.groups[scheme], set)
		p.Schemes = append(p.Schemes, sp)
	}
	if len(p.Schemes) == 0 {
		var ws []string
		for _, sk := range p.Skipped {
			ws = append(ws, sk.Scheme+": "+sk.Why)
		}
		return nil, fmt.Errorf("project: %w in set %s (%s)", ErrNoCPUFigure, set.Name, strings.Join(ws, "; "))
	}
	p.kneesFor(inputs)
	return p, nil
}

// schemeCosts are the scheme's measured costs per command, job message and
// query; why says what is missing when a kind the site loads has none.
func schemeCosts(s *Site, l Workload, set ScenarioSet, sr *setResults, scheme string) (*CPUFigures, string) {
	gs := sr.groups[scheme]
	var c CPUFigures
	var w string
	if c.Command, w = measure(gs[set.Commands], OpCommand, vocab.OpCLICommand); w != "" {
		return nil, w
	}
	if c.Message, w = measure(gs[set.Messages], OpMessage, vocab.OpJobMessage); w != "" {
		return nil, w
	}
	if l.CommandsPerSecond.Host > 0 && !c.Command.Measured {
		return &c, fmt.Sprintf("no per-command figure: %s has no results for it", set.Commands)
	}
	if l.MessagesPerSecond.Host > 0 && !c.Message.Measured {
		return &c, fmt.Sprintf("no per-message figure: %s has no results for it", set.Messages)
	}
	q, w := measure(gs[set.Queries], OpQuery, vocab.OpUISPoll)
	switch {
	case w != "":
		return nil, w
	case q.Measured:
		q.Basis = "measured: a UI-server poll on one long-lived connection (no handshake)"
	default:
		if d, n, ok := probeReused(gs[set.Commands]); ok {
			f := gs[set.Commands].from("")
			f.Rounds = n
			q = OpCost{Op: OpQuery, CPU: d, Measured: true, From: f,
				Basis: "measured: the handshake probe after the command load, a ping on one reused connection (no handshake)"}
		} else if c.Command.Measured {
			q = OpCost{Op: OpQuery, CPU: c.Command.CPU, From: c.Command.From,
				Basis: "estimate, an upper bound: the CPU per command on a fresh connection (no query scenario or handshake probe in the results)"}
		}
	}
	c.Query = q
	if l.QueriesPerSecond.Host > 0 && c.Query.CPU <= 0 {
		return nil, "no per-query figure: no query scenario, handshake probe or command figure for it"
	}
	return &c, ""
}

// deltaCost estimates the WFS's CPU per published delta sent to one UI
// server when the set's query scenario did not measure one (measureDelta:
// its UI servers subscribed and the WFS metered its publishing). It is
// taken as a query on a
// reused connection by the scheme's transport: the scheme of the same
// security with no credential (plain for null+jwt, curve for curve). A
// delta carries no credential (cylc-flow cylc/flow/network/publisher.py,
// WorkflowPublisher.send_multi, sends [topic, serialised delta] on the PUB
// socket), so a token scheme costs what its transport does, and CURVE
// encrypts it per subscriber as it does a reply. Building the delta
// (data_store_mgr.py, get_publish_deltas) is Cylc's own work, the same
// for every scheme, and not counted.
func deltaCost(scheme string, sr *setResults, costs map[string]*CPUFigures) OpCost {
	security := securityOf(scheme, sr.spec[scheme])
	base := ""
	for _, other := range sr.order {
		sp := sr.spec[other]
		if securityOf(other, sp) == security && credentialOf(other, sp) == "" && costs[other] != nil {
			base = other
			break
		}
	}
	src := scheme
	if base != "" {
		src = base
	}
	q := costs[src].Query
	how := "measured"
	if !q.Measured {
		how = "itself an estimate"
	}
	basis := fmt.Sprintf("estimate: %s's query on a reused connection (%s)", code(src), how)
	if base == "" {
		basis += fmt.Sprintf("; no scheme of its transport (%s, no credential) in the set, so its own, token and all: an upper bound", security)
	}
	return OpCost{Op: OpDelta, CPU: q.CPU, Basis: basis, From: q.From}
}

// securityOf and credentialOf read a scheme's transport and credential
// from its recorded spec, or from its short name in results that lack one.
func securityOf(scheme string, sp *vocab.Spec) string {
	if sp != nil {
		return sp.Security
	}
	switch {
	case scheme == "plain" || !strings.Contains(scheme, "curve"):
		return "null"
	case strings.HasPrefix(scheme, "curve-job"):
		return "curve-job"
	}
	return "curve"
}

func credentialOf(scheme string, sp *vocab.Spec) string {
	if sp != nil {
		return sp.Credential
	}
	if scheme == "plain" || scheme == "null" || scheme == "curve" || scheme == "curve-job" {
		return ""
	}
	return "unknown"
}

func projectScheme(s *Site, l Workload, scheme, canon string, c CPUFigures, gs map[string]*group, set ScenarioSet) *SchemeProjection {
	sp := &SchemeProjection{Scheme: scheme, Canonical: canon, CPU: c}
	cm, cc, cd, cq := c.Message.CPU.Seconds(), c.Command.CPU.Seconds(), c.Delta.CPU.Seconds(), c.Query.CPU.Seconds()
	ui := l.DeltasPerSecond.PerWFS*cd + l.QueriesPerSecond.PerWFS*cq
	mean := l.MessagesPerSecond.PerWFS*cm + l.CommandsPerSecond.PerWFS*cc + ui
	peak := l.PeakMessagesPerSecond.PerWFS*cm + l.CommandsPerSecond.PerWFS*cc + l.PeakDeltasPerSecond.PerWFS*cd + l.QueriesPerSecond.PerWFS*cq
	w := float64(s.Workflows)
	sp.MeanCPU = Pair{mean, mean * w}
	sp.PeakCPU = Pair{peak, mean*w + peak - mean}
	if mean > 0 {
		sp.UIShare = ui / mean
	}
	if s.HostCPUs > 0 {
		sp.MeanHostShare = sp.MeanCPU.Host / float64(s.HostCPUs)
		sp.PeakHostShare = sp.PeakCPU.Host / float64(s.HostCPUs)
	}
	if b := s.WFSCPUShareBudget; b != nil {
		sp.Budget = &BudgetVerdict{Share: peak, Budget: b.Value, Within: peak <= b.Value}
	}
	// The estimated knee counts the kind that takes most of the peak's
	// CPU (of commands and messages); headroom is 1 CPU ÷ the peak's.
	kind, cpu := OpMessage, c.Message.CPU
	if l.CommandsPerSecond.PerWFS*cc > l.PeakMessagesPerSecond.PerWFS*cm || cpu <= 0 {
		kind, cpu = OpCommand, c.Command.CPU
	}
	sp.Knee = Knee{Op: kind, Estimated: true}
	if cpu > 0 {
		sp.Knee.OpsPerSecond = 1 / cpu.Seconds()
		sp.Knee.EstimateOpsPerSecond = sp.Knee.OpsPerSecond
	}
	sp.setHeadroom(s)
	sp.Files = files(s, l, gs[set.Commands], gs[set.Messages])
	return sp
}

// setHeadroom is the knee × the CPU per operation of its kind (1 for an
// estimate) ÷ the peak's CPU share, per WFS and for the host.
func (sp *SchemeProjection) setHeadroom(s *Site) {
	factor := 1.0
	if k := sp.Knee; !k.Estimated {
		factor = k.OpsPerSecond * sp.CPU.of(k.Op).Seconds()
	}
	sp.Headroom, sp.HostHeadroom = 0, 0
	if sp.PeakCPU.PerWFS > 0 && factor > 0 {
		sp.Headroom = factor / sp.PeakCPU.PerWFS
		if s.HostCPUs > 0 && sp.PeakCPU.Host > 0 {
			sp.HostHeadroom = factor * float64(min(s.HostCPUs, s.Workflows)) / sp.PeakCPU.Host
		}
	}
}

// of is the cost of one kind.
func (c CPUFigures) of(kind string) time.Duration {
	switch kind {
	case OpCommand:
		return c.Command.CPU
	case OpMessage:
		return c.Message.CPU
	case OpDelta:
		return c.Delta.CPU
	case OpQuery:
		return c.Query.CPU
	}
	return 0
}

// capacityKind is the projection's kind for a capacity search's op
// ("" for one it does not charge, such as handshake).
func capacityKind(op string) string {
	switch op {
	case "message":
		return OpMessage
	case "command":
		return OpCommand
	}
	return ""
}

// capacityModel is the server model a capacity search ran under: its
// command line's -model, else the default (capacity.json does not record
// it).
func capacityModel(command string) string {
	fs := strings.Fields(command)
	for i, f := range fs {
		f = strings.TrimPrefix(f, "-")
		if v, ok := strings.CutPrefix(f, "-model="); ok {
			return v
		}
		if v, ok := strings.CutPrefix(f, "model="); ok {
			return v
		}
		if (f == "model" || f == "-model") && i+1 < len(fs) {
			return fs[i+1]
		}
	}
	return vocab.DefaultServerModel
}

// kneesFor replaces each scheme's estimated knee with a capacity search's
// when one ran under the set's results' server model, and records every
// measured knee's ratio to its estimate.
func (p *Projection) kneesFor(inputs []Input) {
	type cand struct {
		cv    *results.CapacityCurve
		file  string
		cmd   string
		model string
		kind  string
	}
	for _, sp := range p.Schemes {
		var cs []cand
		for _, in := range inputs {
			if in.Capacity == nil {
				continue
			}
			for _, cv := range in.Capacity.Curves {
				if cv == nil || (cv.Scheme != sp.Scheme && (sp.Canonical == "" || cv.Canonical != sp.Canonical)) {
					continue
				}
				if k := capacityKind(cv.Op); k != "" && sp.CPU.of(k) > 0 {
					cs = append(cs, cand{cv, in.CapacityFile, in.Capacity.Command, capacityModel(in.Capacity.Command), k})
				}
			}
		}
		usable := func(c cand) bool { return c.cv.Knee.Invalid == "" && c.cv.Knee.PerServerCPU > 0 }
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			if usable(a) != usable(b) {
				return usable(a)
			}
			if (a.model == p.ServerModel) != (b.model == p.ServerModel) {
				return a.model == p.ServerModel
			}
			if a.cv.Knee.Found != b.cv.Knee.Found {
				return a.cv.Knee.Found
			}
			return a.kind == OpMessage && b.kind != OpMessage
		})
		for _, c := range cs {
			if usable(c) && c.cv.Knee.Found {
				est := 1 / sp.CPU.of(c.kind).Seconds()
				p.KneeRatios = append(p.KneeRatios, KneeRatio{Scheme: sp.Scheme, Op: c.kind, ServerModel: c.model,
					Ratio: c.cv.Knee.PerServerCPU / est, Used: c.model == p.ServerModel})
				break
			}
		}
		if len(cs) == 0 {
			continue
		}
		c := cs[0]
		k := c.cv.Knee
		where := c.file
		if where == "" {
			where = "the capacity search"
		}
		switch {
		case k.Invalid != "":
			sp.Knee.Note = fmt.Sprintf("the capacity knee (%s) is invalid: %s", where, k.Invalid)
			continue
		case k.PerServerCPU <= 0:
			sp.Knee.Note = fmt.Sprintf("the capacity search (%s) gives no rate per WFS CPU", where)
			continue
		case c.model != p.ServerModel:
			sp.Knee.Note = fmt.Sprintf("the capacity search (%s) ran under the %s server model (from its command line), the set's results under %s: not used", where, c.model, p.ServerModel)
			continue
		}
		est := 1 / sp.CPU.of(c.kind).Seconds()
		sp.Knee = Knee{Op: c.kind, OpsPerSecond: k.PerServerCPU, ServerModel: c.model, File: c.file, Command: c.cmd, Quota: c.cv.Quota,
			EstimateOpsPerSecond: est}
		if !k.Found {
			sp.Knee.LowerBound = true
			sp.Knee.Note = "the search did not reach the knee (" + k.Why + "): a lower bound"
		}
		sp.setHeadroom(p.Site)
	}
}

// files works out the scheme's file operations at the site from the set's
// command and job scenarios.
func files(s *Site, l Workload, cmds, jobs *group) *Files {
	perUnit := func(g *group, div func(*results.Result) int64) *FileRates {
		if g == nil {
			return nil
		}
		var c, f, o []float64
		for _, r := range g.rs {
			d := div(r)
			if d <= 0 {
				continue
			}
			fs := r.Files
			c = append(c, float64(fs.Created)/float64(d))
			f = append(f, float64(fs.Fsyncs)/float64(d))
			o = append(o, float64(fs.Created+fs.Written+fs.Appended+fs.Read+fs.Deleted+fs.Renamed+fs.Fsyncs)/float64(d))
		}
		if len(c) == 0 {
			return nil
		}
		return &FileRates{median(c), median(f), median(o)}
	}
	f := &Files{}
	if f.PerJob = perUnit(jobs, func(r *results.Result) int64 { return r.Jobs }); f.PerJob != nil {
		f.JobsFrom = jobs.from(vocab.OpJobMessage)
	}
	if f.PerCommand = perUnit(cmds, func(r *results.Result) int64 { return r.Commands }); f.PerCommand != nil {
		f.CommandsFrom = cmds.from(vocab.OpCLICommand)
	}
	if f.PerJob == nil && f.PerCommand == nil {
		return nil
	}
	day := Day.Seconds()
	wfs := func(pick func(Pair) float64) FileRates {
		var out FileRates
		if f.PerJob != nil {
			out = out.add(f.PerJob.scale(pick(l.JobsPerSecond) * day))
		}
		if f.PerCommand != nil {
			out = out.add(f.PerCommand.scale(pick(l.CommandsPerSecond) * day))
		}
		return out
	}
	f.PerDayWFS = wfs(func(p Pair) float64 { return p.PerWFS })
	f.PerDayHost = wfs(func(p Pair) float64 { return p.Host })
	if lat := s.FSOpLatency.D(); lat > 0 {
		f.FSSecondsPerDay = Pair{f.PerDayWFS.Ops * lat.Seconds(), f.PerDayHost.Ops * lat.Seconds()}
	}
	return f
}

// describe is a From in words: "`review-cli` in `REPORT-data/cli` (cylc
// model, local disk, open loop, median of 6 rounds)".
func (f *From) describe() string {
	var b strings.Builder
	b.WriteString(code(f.Scenario))
	if f.Dir != "" {
		b.WriteString(" in " + code(f.Dir))
	}
	parts := []string{f.ServerModel + " model"}
	if f.FSModel != "" {
		parts = append(parts, f.FSModel)
	} else {
		parts = append(parts, "local disk")
	}
	if f.OpenLoop {
		parts = append(parts, "open loop")
	} else {
		parts = append(parts, "closed loop")
	}
	rounds := "1 round"
	if f.Rounds != 1 {
		rounds = fmt.Sprintf("median of %d rounds", f.Rounds)
	}
	parts = append(parts, rounds)
	b.WriteString(" (" + strings.Join(parts, ", ") + ")")
	return b.String()
}

func code(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
