package results

import (
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"
)

// ReportOptions tune Report.
type ReportOptions struct {
	// Summary, when set, is the rendered design review (markdown, from
	// package review): its verdicts come first, after the header.
	Summary string
	// Command is the command line that made the report, listed with the
	// run commands.
	Command string
	// PlotDir, when set, is where Report writes its SVG plots; PlotLink is
	// the path the markdown links them by (relative to the report).
	PlotDir  string
	PlotLink string
	// Conformance, when set, is a rendered conformance matrix (markdown,
	// from `authbench conform`) placed after the scenarios.
	Conformance string
	// Capacity, when set, is a rendered capacity search (markdown, from
	// WriteCapacity) placed after the scenarios, before the conformance.
	Capacity string
	// Projection, when set, is a rendered capacity projection to a site
	// (markdown, from package site), placed after the capacity search.
	Projection string
}

// reporter renders one report.
type reporter struct {
	scenarios []*scenarioData
	runs      []*Run
	opts      ReportOptions
}

// Report writes a markdown design-review report of runs to w: the design
// review's summary (opts.Summary, from package review), then per scenario the
// scheme-by-op latency table, resources per scheme and overheads against
// plain, then the environment and the exact commands. Each scenario must
// appear in one run only: merge node runs first (MergeRuns). When
// opts.PlotDir is set, SVG plots are written there and linked. Report
// prints no time but those in the runs, so the same input gives the same
// report.
func Report(w io.Writer, runs []*Run, opts ReportOptions) error {
	if len(runs) == 0 {
		return fmt.Errorf("report: no runs")
	}
	scs, err := collect(runs)
	if err != nil {
		return err
	}
	rp := &reporter{scenarios: scs, runs: runs, opts: opts}
	ew := mdtable.NewWriter(w)
	rp.header(ew)
	if opts.Summary != "" {
		ew.Printf("\n%s\n", strings.TrimSpace(opts.Summary))
	}
	for _, sc := range scs {
		if err := rp.scenario(ew, sc); err != nil {
			return err
		}
	}
	if opts.Capacity != "" {
		ew.Printf("\n%s\n", strings.TrimSpace(opts.Capacity))
	}
	if opts.Projection != "" {
		ew.Printf("\n%s\n", strings.TrimSpace(opts.Projection))
	}
	if opts.Conformance != "" {
		ew.Printf("\n%s\n", strings.TrimSpace(opts.Conformance))
	}
	rp.environment(ew)
	rp.commands(ew)
	if ew.Err() != nil {
		return fmt.Errorf("report: %w", ew.Err())
	}
	return nil
}

func (rp *reporter) header(w *mdtable.Writer) {
	w.Printf("# authbench report\n\n")
	var names []string
	rounds := 0
	for _, sc := range rp.scenarios {
		names = append(names, sc.name)
		rounds = max(rounds, sc.rounds)
	}
	w.Printf("Scenarios: %s. Up to %s per scheme; figures are medians over rounds with their range (min–max) beside them.\n",
		strings.Join(names, ", "), fmtRounds(rounds))
	w.Printf("Each WFS ran as a process of its own on the CPUs the Environment section names, apart from its clients; its whole CPU per request is reported apart from the clients'. Verdicts judge each scheme against the budgets its scenario states, from paired per-round differences with their 95 %% intervals (the Summary says how). In the scenario sections below, rows from closed-loop groups measure throughput at saturation (they are labelled) and a section flags a WFS that was saturated: there the latencies describe the machine, not a scheme's cost.\n")
	for _, run := range rp.runs {
		if len(run.Missing) > 0 {
			w.Printf("\n**Missing shards**: %s of the loaders of %s did not report (a loader killed or failed): the figures cover only the shards that did.\n",
				strings.Join(run.Missing, ", "), code(run.Command))
		}
		if run.Stop != "" {
			w.Printf("\nRounds of %s: %s.\n", code(run.Command), run.Stop)
		}
		for _, s := range run.sources() {
			if s.Partial {
				w.Printf("\n**Partial run**: %s was interrupted; its figures cover only what finished.\n", code(s.Command))
			}
		}
	}
}

// scenario writes one scenario's tables and plots.
func (rp *reporter) scenario(w *mdtable.Writer, sc *scenarioData) error {
	w.Printf("\n## Scenario %s\n\n", sc.name)
	var cmds []string
	for _, s := range sc.run.sources() {
		if !containsString(cmds, code(s.Command)) {
			cmds = append(cmds, code(s.Command))
		}
	}
	w.Printf("%s of %d schemes, interleaved. Made by %s", fmtRounds(sc.rounds), len(sc.schemes), strings.Join(cmds, " and "))
	if !sc.run.Started.IsZero() {
		w.Printf(", %s to %s", sc.run.Started.UTC().Format(time.RFC3339), sc.run.Ended.UTC().Format(time.RFC3339))
	}
	w.Printf(".\n")
	if n := len(sc.run.sources()); n > 1 {
		w.Printf("Merged from %d runs (see Environment).\n", n)
	}

	w.Printf("\n### Latency by operation\n\n")
	w.Printf("Latency from the intended send time (corrected for coordinated omission); `p99 uncorr.` from the actual send. Count and errors are totals over rounds; percentiles and ops/s are medians over rounds (range in parentheses); max is the largest of any round. A p99 is quoted only where every round had 1,000 operations or more (a p99.9, 10,000).\n")
	var rows [][]string
	for _, s := range sc.schemes {
		for _, op := range s.ops {
			n, errs, kinds := s.totals(op)
			maxs := vocab.SpreadOf(s.perRound(op, func(_ *Result, o *Op) float64 { return float64(o.Hist.Max()) }))
			unc := vocab.SpreadOf(s.perRound(op, func(_ *Result, o *Op) float64 {
				if o.Uncorrected == nil {
					return 0
				}
				return float64(o.Uncorrected.Percentile(99))
			}))
			label := op
			if s.closedLoop(op) {
				label += " (closed loop: throughput)"
			}
			// A tail is quoted only where every round had the operations
			// for it (MinOps): else the cell says so.
			fewest := s.minCount(op)
			p99, p999, p99u := fmtDurSpread(vocab.SpreadOf(s.pct(op, 99))), fmtDur(vocab.SpreadOf(s.pct(op, 99.9)).Median), fmtDur(unc.Median)
			if fewest < MinOps(99) {
				p99, p99u = tooFew(99), tooFew(99)
			}
			if fewest < MinOps(99.9) {
				p999 = tooFew(99.9)
			}
			rows = append(rows, []string{s.name, label, fmt.Sprint(n), fmtErrors(errs, kinds),
				fmtDurSpread(vocab.SpreadOf(s.pct(op, 50))), fmtDurSpread(vocab.SpreadOf(s.pct(op, 90))), p99, p999,
				fmtDur(maxs.Max), p99u, fmtNumSpread(vocab.SpreadOf(s.rate(op)), 1)})
		}
	}
	w.Table([]string{"scheme", "op", "count", "errors", "p50", "p90", "p99", "p99.9", "max", "p99 uncorr.", "ops/s"}, rows)
	if sc.anyClosedLoop() {
		w.Printf("\nOps marked closed loop come from a group whose workers send as soon as their last request returns: their latencies follow Little's law (wait = concurrency ÷ throughput) and measure throughput at saturation, not the cost of one request.\n")
	}
	if notes := saturation(sc); len(notes) > 0 {
		w.Printf("\n**Saturated:** %s. Latencies taken while a side was saturated describe the machine, not the scheme's cost: judge these schemes by WFS CPU per request (below) and the capacity search (`authbench capacity`).\n", strings.Join(notes, "; "))
	}

	w.Printf("\n### Resources by scheme\n\n")
	w.Printf("Per round, median over rounds. WFS CPU is the WFS process's own CPU (every thread: libzmq's I/O threads, the ZAP handler, the request workers; getrusage(RUSAGE_SELF) in the WFS process) per 1,000 requests it served after the warm-up, with the CPUs it was pinned to and the share of one CPU it used; at low rates (a command a second) it is mostly the WFS's idle CPU (timers, polls) spread over few requests, so read the marginal cost from the capacity search or the handshake probe; its CPU per handshake is a probe after the load (100 pings one after another on a fresh connection each, less 100 on one reused connection, on the idle WFS; none under the cylc model, whose drain-and-sleep wakes swamp it); client CPU is the load generator and its client processes, apart. (In results made before the WFS ran as a process of its own, client CPU is both and WFS CPU is its request threads only.) Bytes added is per request over the same request under plain; files are those the counted file layers (WFS and clients) saw.\n")
	rows = rows[:0]
	for _, s := range sc.schemes {
		rows = append(rows, []string{s.name,
			fmtNumSpread(vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) { return float64(r.Server.Requests), true })), 0),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(serverCPUPerKReq)), 1),
			serverPlacement(s.rounds),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(serverUtilisation)), 2),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(handshakeCPU)), 2),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(cpuPerKReq)), 1),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(bytesAdded)), 0),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(filesPerKJobs)), 0),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(peakLive)), 0),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) { return perJobs(r.Files.Fsyncs, r) })), 0),
			fmtNumSpread(vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) {
				if r.Server.Requests <= 0 {
					return 0, false
				}
				return float64(fileOps(r.Files)) / float64(r.Server.Requests), true
			})), 2),
			fmtNum(vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) { return float64(r.PeakRSSKB) / 1024, r.PeakRSSKB > 0 })), 0),
		})
	}
	w.Table([]string{"scheme", "requests", "WFS CPU ms/1k req", "WFS CPUs", "WFS CPU share", "WFS CPU ms/handshake (probe)", "client CPU ms/1k req", "bytes added/msg", "files created/1k jobs", "peak live files", "fsyncs/1k jobs", "file ops/request", "peak RSS MB"}, rows)

	base := sc.baseline
	if base == nil {
		w.Printf("\nNo `plain` scheme in this scenario: no overhead ratios.\n")
	} else if len(sc.schemes) > 1 {
		w.Printf("\n### Overhead against %s\n\n", code(base.name))
		w.Printf("Ratios of medians over rounds; `tail added` is the median of per-round differences (each round pairs the scheme with plain's run of the same round). The tail is p99 where every round had 1,000 operations or more, else p90, as marked; the Summary gives these differences with their intervals.\n")
		rows = rows[:0]
		for _, s := range sc.schemes {
			if s == base {
				continue
			}
			for _, op := range s.ops {
				if !containsString(base.ops, op) {
					continue
				}
				// The tail is p99 where every round of both had 1,000
				// operations, else p90.
				p, tl := 99.0, " (p99)"
				if min(s.minCount(op), base.minCount(op)) < MinOps(99) {
					p, tl = 90, " (p90)"
				}
				rows = append(rows, []string{s.name, op,
					fmtRatio(vocab.SpreadOf(s.pct(op, 50)), vocab.SpreadOf(base.pct(op, 50))),
					fmtRatio(vocab.SpreadOf(s.pct(op, p)), vocab.SpreadOf(base.pct(op, p))) + tl,
					fmtDeltaSpread(vocab.SpreadOf(paired(s, base, opPct(op, p)))) + tl,
					fmtRatio(vocab.SpreadOf(s.rate(op)), vocab.SpreadOf(base.rate(op))),
				})
			}
			rows = append(rows, []string{s.name, "(WFS CPU per request)", "", "", "",
				fmtRatio(vocab.SpreadOf(s.roundValues(serverCPUPerKReq)), vocab.SpreadOf(base.roundValues(serverCPUPerKReq)))})
		}
		w.Table([]string{"scheme", "op", "p50 ×plain", "tail ×plain", "tail added", "ops/s ×plain"}, rows)
	}

	if rp.opts.PlotDir != "" {
		plots, err := writeScenarioPlots(rp.opts.PlotDir, sc)
		if err != nil {
			return err
		}
		if len(plots) > 0 {
			w.Printf("\n### Plots\n\n")
			for _, p := range plots {
				w.Printf("![%s](%s)\n\n", p.title, path.Join(rp.opts.PlotLink, p.file))
			}
		}
	}
	return nil
}

// environment writes one column per source run.
func (rp *reporter) environment(w *mdtable.Writer) {
	w.Printf("\n## Environment\n")
	var srcs []Source
	for _, run := range rp.runs {
		srcs = append(srcs, run.sources()...)
	}
	header := []string{"", "run 1"}
	if len(srcs) == 1 {
		header = []string{"key", "value"}
	} else {
		for i := 2; i <= len(srcs); i++ {
			header = append(header, fmt.Sprintf("run %d", i))
		}
	}
	fields := []struct {
		name string
		get  func(s Source) string
	}{
		{"host", func(s Source) string { return s.Env.Host }},
		{"cpu", func(s Source) string { return s.Env.CPU }},
		{"cores", func(s Source) string { return fmt.Sprint(s.Env.Cores) }},
		{"GOMAXPROCS", func(s Source) string { return fmt.Sprint(s.Env.GOMAXPROCS) }},
		{"kernel", func(s Source) string { return s.Env.Kernel }},
		{"go", func(s Source) string { return s.Env.Go }},
		{"libzmq", func(s Source) string { return s.Env.Libzmq }},
		{"libsodium", func(s Source) string { return s.Env.Libsodium }},
		{"pinned CPUs (both sides)", func(s Source) string { return s.Env.Pin }},
		{"WFS process CPUs", func(s Source) string {
			if s.Env.ServerCPUs == "" && s.Env.ClientCPUs == "" {
				return ""
			}
			if s.Env.ServerCPUs == "" {
				return "unpinned"
			}
			return s.Env.ServerCPUs
		}},
		{"WFS CPU quota", func(s Source) string {
			if s.Env.ServerQuota <= 0 {
				return ""
			}
			return fmt.Sprintf("%.2g CPU (cgroup CFS)", s.Env.ServerQuota)
		}},
		{"load generator CPUs", func(s Source) string { return s.Env.ClientCPUs }},
		{"started", func(s Source) string { return fmtTime(s.Started) }},
		{"ended", func(s Source) string { return fmtTime(s.Ended) }},
		{"partial", func(s Source) string {
			if s.Partial {
				return "yes: interrupted"
			}
			return "no"
		}},
	}
	var rows [][]string
	for _, f := range fields {
		row := []string{f.name}
		empty := true
		for _, s := range srcs {
			v := f.get(s)
			if v != "" {
				empty = false
			} else {
				v = "-"
			}
			row = append(row, v)
		}
		if !empty {
			rows = append(rows, row)
		}
	}
	w.Table(header, rows)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// commands lists the exact command lines behind every figure.
func (rp *reporter) commands(w *mdtable.Writer) {
	w.Printf("\n## Commands\n\nEvery figure above comes from these command lines; run them again to reproduce it.\n\n```sh\n")
	var seen []string
	for _, run := range rp.runs {
		for _, s := range run.sources() {
			if !containsString(seen, s.Command) {
				seen = append(seen, s.Command)
				w.Printf("%s\n", s.Command)
			}
		}
	}
	if rp.opts.Command != "" {
		w.Printf("%s\n", rp.opts.Command)
	}
	w.Printf("```\n")
}
