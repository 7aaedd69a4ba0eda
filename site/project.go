package site

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/results"
)

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
	if u := s.UIServers; u != nil {
		p := float64(u.Count) / u.PollInterval.D().Seconds()
		l.PollsPerSecond = Pair{p, p * w}
	}
	l.MeanOpsPerSecond = l.MessagesPerSecond.add(l.CommandsPerSecond).add(l.PollsPerSecond)
	if b := s.CyclePointBurst; b != nil {
		l.BurstOpsPerSecond = float64(b.Jobs) * b.Messages / b.Within.D().Seconds()
	}
	l.PeakOpsPerSecond = l.MeanOpsPerSecond.add(Pair{l.BurstOpsPerSecond, l.BurstOpsPerSecond})
	return l
}

// group is one scenario's results for one scheme in one input (its rounds).
type group struct {
	input    int
	dir      string
	command  string
	scenario string
	rs       []*results.Result
}

func (g *group) openLoop() bool {
	for _, r := range g.rs {
		if len(r.ClosedLoop) > 0 {
			return false
		}
	}
	return true
}

func (g *group) requests() int64 {
	var n int64
	for _, r := range g.rs {
		if r.ServerProcess != nil {
			n += r.ServerProcess.Requests
		}
	}
	return n
}

func (g *group) sum(f func(*results.Result) int64) int64 {
	var n int64
	for _, r := range g.rs {
		n += f(r)
	}
	return n
}

func (g *group) from() From {
	f := From{Dir: g.dir, Scenario: g.scenario, OpenLoop: g.openLoop(), Rounds: len(g.rs), Requests: g.requests(),
		Jobs: g.sum(func(r *results.Result) int64 { return r.Jobs }), Commands: g.sum(func(r *results.Result) int64 { return r.Commands }),
		Command: g.command}
	f.ServerModel = g.rs[0].ServerModel
	if f.Jobs > 0 {
		if m := g.sum(func(r *results.Result) int64 { return opCount(r, vocab.OpJobMessage) }); m > 0 {
			f.MessagesPerJob = float64(m) / float64(f.Jobs)
		}
	}
	return f
}

// opCount is an op's count with its errors (each was a request).
func opCount(r *results.Result, name string) int64 {
	if o := r.Op(name); o != nil {
		return o.Count + o.ErrorCount()
	}
	return 0
}

// siteOps are the result's operations of the kinds a site model counts.
func siteOps(r *results.Result) int64 {
	return opCount(r, vocab.OpJobMessage) + opCount(r, vocab.OpCLICommand) + opCount(r, vocab.OpUISPoll)
}

func median(xs []float64) float64 { return vocab.SpreadOf(xs).Median }

// Project projects the site's load onto every scheme the inputs measured.
func Project(s *Site, inputs []Input, opts Options) (*Projection, error) {
	if s == nil {
		return nil, errors.New("project: no site")
	}
	p := &Projection{Site: s, Command: opts.Command, Load: ComputeWorkload(s)}
	// Every scheme's groups, in the order the inputs first name them.
	var order []string
	canonical := map[string]string{}
	groups := map[string][]*group{}
	nRuns := 0
	for i, in := range inputs {
		src := Source{Dir: in.Dir, CapacityFile: in.CapacityFile}
		if in.Run != nil {
			src.Command = in.Run.Command
		}
		if in.Capacity != nil {
			src.CapacityCommand = in.Capacity.Command
		}
		p.Sources = append(p.Sources, src)
		if in.Run == nil {
			continue
		}
		nRuns++
		for _, r := range in.Run.Results {
			if r == nil {
				continue
			}
			if _, ok := groups[r.Scheme]; !ok {
				order = append(order, r.Scheme)
				groups[r.Scheme] = nil
			}
			if canonical[r.Scheme] == "" {
				canonical[r.Scheme] = r.Canonical
			}
			var g *group
			for _, x := range groups[r.Scheme] {
				if x.input == i && x.scenario == r.Scenario {
					g = x
				}
			}
			if g == nil {
				g = &group{input: i, dir: in.Dir, command: in.Run.Command, scenario: r.Scenario}
				groups[r.Scheme] = append(groups[r.Scheme], g)
			}
			g.rs = append(g.rs, r)
		}
	}
	if nRuns == 0 {
		return nil, errors.New("project: no results to project")
	}
	for _, scheme := range order {
		sp, why := projectScheme(s, p.Load, scheme, canonical[scheme], groups[scheme], inputs, opts)
		if sp == nil {
			p.Skipped = append(p.Skipped, Skipped{Scheme: scheme, Why: why})
			continue
		}
		p.Schemes = append(p.Schemes, sp)
	}
	if len(p.Schemes) == 0 {
		var dirs []string
		for _, src := range p.Sources {
			if src.Dir != "" {
				dirs = append(dirs, src.Dir)
			}
		}
		where := ""
		if len(dirs) > 0 {
			where = " in " + strings.Join(dirs, ", ")
		}
		if opts.Scenario != "" {
			return nil, fmt.Errorf("project: %w%s in scenario %q (a server_process with requests)", ErrNoCPUFigure, where, opts.Scenario)
		}
		return nil, fmt.Errorf("project: %w%s (results made before the WFS ran as a process of its own lack server_process)", ErrNoCPUFigure, where)
	}
	return p, nil
}

func projectScheme(s *Site, l Workload, scheme, canon string, gs []*group, inputs []Input, opts Options) (*SchemeProjection, string) {
	// The CPU figure: open-loop groups first, then the most WFS requests.
	var cands []*group
	for _, g := range gs {
		if opts.Scenario != "" && g.scenario != opts.Scenario {
			continue
		}
		for _, r := range g.rs {
			if _, ok := r.ServerProcess.CPUPerRequest(); ok {
				cands = append(cands, g)
				break
			}
		}
	}
	if len(cands) == 0 {
		if opts.Scenario != "" {
			return nil, fmt.Sprintf("no WFS CPU figure in scenario %s", opts.Scenario)
		}
		return nil, "no WFS CPU figure (no server_process with requests)"
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.openLoop() != b.openLoop() {
			return a.openLoop()
		}
		if a.requests() != b.requests() {
			return a.requests() > b.requests()
		}
		if a.input != b.input {
			return a.input < b.input
		}
		return a.scenario < b.scenario
	})
	g := cands[0]
	var perReq, reqPerOp []float64
	counted := true
	for _, r := range g.rs {
		c, ok := r.ServerProcess.CPUPerRequest()
		if !ok {
			continue
		}
		perReq = append(perReq, float64(c))
		if ops := siteOps(r); ops > 0 {
			reqPerOp = append(reqPerOp, float64(r.ServerProcess.Requests)/float64(ops))
		} else {
			counted = false
		}
	}
	cpu := CPUFigure{PerRequest: time.Duration(math.Round(median(perReq))), RequestsPerOp: 1, From: g.from(), OpsCounted: counted && len(reqPerOp) > 0}
	cpu.From.Rounds = len(perReq)
	if cpu.OpsCounted {
		cpu.RequestsPerOp = median(reqPerOp)
	}
	cpu.PerOp = time.Duration(math.Round(float64(cpu.PerRequest) * cpu.RequestsPerOp))

	sp := &SchemeProjection{Scheme: scheme, Canonical: canon, CPU: cpu}
	sp.MeanRequestsPerSecond = l.MeanOpsPerSecond.scale(cpu.RequestsPerOp)
	sp.PeakRequestsPerSecond = l.PeakOpsPerSecond.scale(cpu.RequestsPerOp)
	sec := cpu.PerRequest.Seconds()
	sp.MeanCPU = sp.MeanRequestsPerSecond.scale(sec)
	sp.PeakCPU = sp.PeakRequestsPerSecond.scale(sec)
	if s.HostCPUs > 0 {
		sp.MeanHostShare = sp.MeanCPU.Host / float64(s.HostCPUs)
		sp.PeakHostShare = sp.PeakCPU.Host / float64(s.HostCPUs)
	}
	sp.Knee = knee(scheme, canon, cpu, inputs)
	if sp.Knee.OpsPerSecond > 0 && l.PeakOpsPerSecond.PerWFS > 0 {
		sp.Headroom = sp.Knee.OpsPerSecond / l.PeakOpsPerSecond.PerWFS
		if s.HostCPUs > 0 && l.PeakOpsPerSecond.Host > 0 {
			sp.HostHeadroom = sp.Knee.OpsPerSecond * float64(min(s.HostCPUs, s.Workflows)) / l.PeakOpsPerSecond.Host
		}
	}
	sp.Files = files(s, l, cpu, g, gs)
	return sp, ""
}

// opRank orders capacity ops by how well they stand for a site's load,
// which is mostly job messages.
func opRank(op string) int {
	switch op {
	case "message":
		return 0
	case "command":
		return 1
	case "handshake":
		return 2
	}
	return 3
}

// knee finds the scheme's capacity knee, else estimates it from the CPU
// per operation.
func knee(scheme, canon string, cpu CPUFigure, inputs []Input) Knee {
	type cand struct {
		cv   *results.CapacityCurve
		file string
		cmd  string
	}
	var cs []cand
	for _, in := range inputs {
		if in.Capacity == nil {
			continue
		}
		for _, cv := range in.Capacity.Curves {
			if cv == nil {
				continue
			}
			if cv.Scheme == scheme || (canon != "" && cv.Canonical == canon) {
				cs = append(cs, cand{cv, in.CapacityFile, in.Capacity.Command})
			}
		}
	}
	usable := func(c cand) bool { return c.cv.Knee.Invalid == "" && c.cv.Knee.PerServerCPU > 0 }
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if usable(a) != usable(b) {
			return usable(a)
		}
		if a.cv.Knee.Found != b.cv.Knee.Found {
			return a.cv.Knee.Found
		}
		return opRank(a.cv.Op) < opRank(b.cv.Op)
	})
	est := Knee{Estimated: true}
	if cpu.PerOp > 0 {
		est.OpsPerSecond = 1 / cpu.PerOp.Seconds()
		est.EstimateOpsPerSecond = est.OpsPerSecond
	}
	if len(cs) == 0 {
		return est
	}
	c := cs[0]
	k := c.cv.Knee
	switch {
	case k.Invalid != "":
		est.Note = fmt.Sprintf("the capacity knee (%s) is invalid: %s", c.file, k.Invalid)
		return est
	case k.PerServerCPU <= 0:
		est.Note = fmt.Sprintf("the capacity search (%s) gives no rate per WFS CPU", c.file)
		return est
	}
	out := Knee{OpsPerSecond: k.PerServerCPU, Op: c.cv.Op, File: c.file, Command: c.cmd, Quota: c.cv.Quota,
		EstimateOpsPerSecond: est.EstimateOpsPerSecond}
	if !k.Found {
		out.LowerBound = true
		out.Note = "the search did not reach the knee (" + k.Why + "): a lower bound"
	}
	return out
}

// files works out the scheme's file operations at the site.
func files(s *Site, l Workload, cpu CPUFigure, cpuGroup *group, gs []*group) *Files {
	perUnit := func(g *group, div func(*results.Result) int64) *FileRates {
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
	polls := func(g *group) bool {
		return g.sum(func(r *results.Result) int64 { return opCount(r, vocab.OpUISPoll) }) > 0
	}
	// best is the kept group ranked first by closeness (0 for all when
	// nil), then by size.
	best := func(keep func(*group) bool, size func(*group) int64, distance func(*group) float64) *group {
		var out *group
		for _, g := range gs {
			if !keep(g) || size(g) <= 0 {
				continue
			}
			if out == nil {
				out = g
				continue
			}
			if distance != nil {
				if d, o := distance(g), distance(out); d != o {
					if d < o {
						out = g
					}
					continue
				}
			}
			if size(g) > size(out) {
				out = g
			}
		}
		return out
	}
	jobs := func(r *results.Result) int64 { return r.Jobs }
	cmds := func(r *results.Result) int64 { return r.Commands }
	f := &Files{}
	// A job's files depend on its messages (each is appended to
	// job.status): the scenario whose jobs send the site's number of
	// messages, or nearest it, then the one with the most jobs.
	msgDistance := func(g *group) float64 { return math.Abs(g.from().MessagesPerJob - s.MessagesPerJob) }
	if g := best(func(g *group) bool { return g.sum(cmds) == 0 && !polls(g) }, func(g *group) int64 { return g.sum(jobs) }, msgDistance); g != nil {
		f.PerJob = perUnit(g, jobs)
		from := g.from()
		f.JobsFrom = &from
	}
	if g := best(func(g *group) bool { return g.sum(jobs) == 0 && !polls(g) }, func(g *group) int64 { return g.sum(cmds) }, nil); g != nil {
		f.PerCommand = perUnit(g, cmds)
		from := g.from()
		f.CommandsFrom = &from
	}
	needJobs := f.PerJob == nil && l.JobsPerSecond.Host > 0
	needCmds := f.PerCommand == nil && l.CommandsPerSecond.Host > 0
	if needJobs || needCmds {
		f.PerRequest = perUnit(cpuGroup, func(r *results.Result) int64 {
			if r.ServerProcess == nil {
				return 0
			}
			return r.ServerProcess.Requests
		})
		if f.PerRequest != nil {
			from := cpuGroup.from()
			f.RequestsFrom = &from
		}
	}
	if f.PerJob == nil && f.PerCommand == nil && f.PerRequest == nil {
		return nil
	}
	day := Day.Seconds()
	perDay := func(perSecond float64, per *FileRates, perOp float64) FileRates {
		if per == nil {
			return FileRates{}
		}
		return per.scale(perSecond * day * perOp)
	}
	wfs := func(pick func(Pair) float64) FileRates {
		var out FileRates
		if f.PerJob != nil {
			out = out.add(perDay(pick(l.JobsPerSecond), f.PerJob, 1))
		} else {
			out = out.add(perDay(pick(l.MessagesPerSecond), f.PerRequest, cpu.RequestsPerOp))
		}
		if f.PerCommand != nil {
			out = out.add(perDay(pick(l.CommandsPerSecond), f.PerCommand, 1))
		} else {
			out = out.add(perDay(pick(l.CommandsPerSecond), f.PerRequest, cpu.RequestsPerOp))
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

// describe is a From in words: "cycle-point in REPORT-data (fast model,
// open loop, 1 round, 6,114 WFS requests)".
func (f From) describe() string {
	var b strings.Builder
	b.WriteString(code(f.Scenario))
	if f.Dir != "" {
		b.WriteString(" in " + code(f.Dir))
	}
	var parts []string
	if f.ServerModel != "" {
		parts = append(parts, f.ServerModel+" model")
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
