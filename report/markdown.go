package report

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/review"
)

// Markdown writes the page as a markdown report: the header, the design
// review's summary, a section per scenario, the capacity search, the site
// projection, the conformance matrix, the Cylc model against a real Cylc (when calibrated), the environment and the commands.
// It computes nothing, and prints no time but those in the runs, so one
// page always renders alike.
func (p *Page) Markdown(w io.Writer) error {
	mw := mdtable.NewWriter(w)
	p.header(mw)
	if p.Summary != nil {
		var b bytes.Buffer
		if err := review.Markdown(&b, p.Summary); err != nil {
			return err
		}
		mw.Printf("\n%s\n", strings.TrimSpace(b.String()))
	}
	for _, s := range p.Sections {
		s.markdown(mw, p.PlotLink)
	}
	if p.Capacity != nil {
		var b bytes.Buffer
		if err := results.WriteCapacity(&b, p.Capacity, p.PlotLink); err != nil {
			return err
		}
		mw.Printf("\n%s\n", strings.TrimSpace(b.String()))
	}
	if p.Projection != nil {
		var b bytes.Buffer
		if err := p.Projection.WriteMarkdown(&b); err != nil {
			return err
		}
		mw.Printf("\n%s\n", strings.TrimSpace(b.String()))
	}
	if c := p.Conformance; c != nil && c.Matrix != nil {
		var b bytes.Buffer
		if err := c.Matrix.WriteMarkdown(&b); err != nil {
			return err
		}
		if c.File != "" {
			fmt.Fprintf(&b, "\nMade by: `authbench conform -format json > %s`\n", c.File)
		}
		mw.Printf("\n%s\n", strings.TrimSpace(b.String()))
	}
	if c := p.CylcCalibration; c != nil && c.Calibration != nil {
		var b bytes.Buffer
		if err := c.Calibration.WriteSection(&b, c.File); err != nil {
			return err
		}
		mw.Printf("\n%s\n", strings.TrimSpace(b.String()))
	}
	p.environment(mw)
	p.commands(mw)
	if err := mw.Err(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func (p *Page) header(w *mdtable.Writer) {
	w.Printf("# authbench report\n\n")
	w.Printf("Scenarios: %s. Up to %s per scheme; figures are medians over rounds with their range (min–max) beside them.\n",
		strings.Join(p.Scenarios, ", "), fmtRounds(p.MaxRounds))
	w.Printf("Each WFS ran as a process of its own on the CPUs the Environment section names, apart from its clients; its whole CPU is reported apart from the clients', per operation (a command, a job message: every request the operation took) and, as a secondary figure, per request. Verdicts judge each scheme against the budgets its scenario states, from paired per-round differences with their 95 %% intervals (the Summary says how). In the scenario sections below, rows from closed-loop groups measure throughput at saturation (they are labelled) and a section flags a WFS that was saturated: there the latencies describe the machine, not a scheme's cost.\n")
	for _, n := range p.Notices {
		switch n.Kind {
		case NoticeMissingShards:
			w.Printf("\n**Missing shards**: %s of the loaders of %s did not report (a loader killed or failed): the figures cover only the shards that did.\n",
				n.Detail, mdtable.Code(n.Command))
		case NoticeStop:
			w.Printf("\nRounds of %s: %s.\n", mdtable.Code(n.Command), n.Detail)
		case NoticePartial:
			w.Printf("\n**Partial run**: %s was interrupted; its figures cover only what finished.\n", mdtable.Code(n.Command))
		}
	}
}

// markdown writes one scenario's tables and links its plots.
func (s *Section) markdown(w *mdtable.Writer, plotLink string) {
	w.Printf("\n## Scenario %s\n\n", s.Name)
	var cmds []string
	for _, c := range s.Commands {
		cmds = append(cmds, mdtable.Code(c))
	}
	w.Printf("%s of %d schemes, interleaved. Made by %s", fmtRounds(s.Rounds), s.Schemes, strings.Join(cmds, " and "))
	if !s.Started.IsZero() {
		w.Printf(", %s to %s", s.Started.UTC().Format(time.RFC3339), s.Ended.UTC().Format(time.RFC3339))
	}
	w.Printf(".\n")
	if s.Sources > 1 {
		w.Printf("Merged from %d runs (see Environment).\n", s.Sources)
	}

	w.Printf("\n### Latency by operation\n\n")
	w.Printf("Latency from the intended send time (corrected for coordinated omission); `p99 uncorr.` from the actual send. Count and errors are totals over rounds; percentiles and ops/s are medians over rounds (range in parentheses); max is the largest of any round. A p99 is quoted only where every round had 1,000 operations or more (a p99.9, 10,000).\n")
	var rows [][]string
	for _, r := range s.Latency {
		label := r.Op
		if r.ClosedLoop {
			label += " (closed loop: throughput)"
		}
		p99, p999, p99u := fmtDurSpread(r.P99), fmtDur(r.P999), fmtDur(r.UncorrectedP99)
		if r.Fewest < results.MinOps(99) {
			p99, p99u = tooFew(99), tooFew(99)
		}
		if r.Fewest < results.MinOps(99.9) {
			p999 = tooFew(99.9)
		}
		rows = append(rows, []string{r.Scheme, label, fmt.Sprint(r.Count), fmtErrors(r.Errors, r.ErrorKinds),
			fmtDurSpread(r.P50), fmtDurSpread(r.P90), p99, p999, fmtDur(r.Max), p99u, fmtNumSpread(r.Rate, 1)})
	}
	w.Table([]string{"scheme", "op", "count", "errors", "p50", "p90", "p99", "p99.9", "max", "p99 uncorr.", "ops/s"}, rows)
	if s.ClosedLoop {
		w.Printf("\nOps marked closed loop come from a group whose workers send as soon as their last request returns: their latencies follow Little's law (wait = concurrency ÷ throughput) and measure throughput at saturation, not the cost of one request.\n")
	}
	if len(s.Saturated) > 0 {
		var notes []string
		for _, x := range s.Saturated {
			notes = append(notes, fmt.Sprintf("%s's WFS used %.0f%% of its CPU", mdtable.Code(x.Scheme), 100*x.Share))
		}
		w.Printf("\n**Saturated:** %s. Latencies taken while a side was saturated describe the machine, not the scheme's cost: judge these schemes by WFS CPU per operation (below) and the capacity search (`authbench capacity`).\n", strings.Join(notes, "; "))
	}

	w.Printf("\n### Resources by scheme\n\n")
	w.Printf("Per round, median over rounds. WFS CPU is the WFS process's own CPU (every thread: libzmq's I/O threads, the ZAP handler, the request workers; getrusage(RUSAGE_SELF) in the WFS process) over the measured window after the warm-up")
	switch {
	case len(s.Works) == 0 && !s.Mixed:
		w.Printf(", per 1,000 requests it served (no WFS process measured a unit of work here), ")
	case len(s.Works) == 0:
		w.Printf(". This scenario's clients sent more than one kind of operation, whose shares of the WFS's CPU cannot be told apart, so it has no figure per operation: WFS CPU is per 1,000 requests it served, ")
	default:
		w.Printf(", ")
		var ws []string
		for _, x := range s.Works {
			ws = append(ws, string(x))
		}
		w.Printf("first per %s sent in that window (every request it took: a scheme that asks for a token first pays for both), with the WFS requests per %s and the file operations per %s over the run; then, as secondary columns, per 1,000 requests it served, ", strings.Join(ws, " or "), strings.Join(ws, " or "), filesWords(s.Works))
	}
	w.Printf("with the CPUs it was pinned to and the share of one CPU it used; at low rates (a command a second) it is mostly the WFS's idle CPU (timers, polls) spread over few operations, so read the marginal cost from the capacity search or the handshake probe; its CPU per handshake is a probe after the load (100 pings one after another on a fresh connection each, less 100 on one reused connection, on the idle WFS; none under the cylc model, whose drain-and-sleep wakes swamp it); client CPU is the load generator and its client processes, apart. (In results made before the WFS ran as a process of its own, client CPU is both and WFS CPU is its request threads only.) Bytes added is per request over the same request under plain; files are those the counted file layers (WFS and clients) saw.\n")
	header := []string{"scheme", "requests"}
	for _, x := range s.Works {
		header = append(header, "WFS CPU/"+string(x), "requests/"+string(x), "file ops/"+string(filesPer(x)))
	}
	header = append(header, "WFS CPU ms/1k req (secondary)", "WFS CPUs", "WFS CPU share", "WFS CPU ms/handshake (probe)", "client CPU ms/1k req (secondary)",
		"bytes added/msg", "files created/1k jobs", "peak live files", "fsyncs/1k jobs", "file ops/request (secondary)", "peak RSS MB")
	rows = rows[:0]
	for _, r := range s.Resources {
		row := []string{r.Scheme, fmtNumSpread(r.Requests, 0)}
		for _, c := range r.PerOp {
			row = append(row, fmtDurSpread(c.CPU), fmtNumSpread(c.Requests, 2), fmtNumSpread(c.FileOps, 2))
		}
		rows = append(rows, append(row,
			fmtNumSpread(scaled(r.CPUPerRequest, 1e-3), 1), // ns per request = µs per 1k requests ÷ 1,000 = ms per 1k
			r.Placement,
			fmtNumSpread(r.Share, 2),
			fmtNumSpread(scaled(r.Handshake, 1e-6), 2),
			fmtNumSpread(scaled(r.ClientPerRequest, 1e-3), 1),
			fmtNumSpread(r.BytesAdded, 0),
			fmtNumSpread(scaled(r.FilesPerJob, 1000), 0),
			fmtNumSpread(r.PeakLive, 0),
			fmtNumSpread(scaled(r.FsyncsPerJob, 1000), 0),
			fmtNumSpread(r.FileOpsPerRequest, 2),
			fmtNum(r.PeakRSSMB, 0)))
	}
	w.Table(header, rows)

	switch {
	case s.Baseline == "":
		w.Printf("\nNo `plain` scheme in this scenario: no overhead ratios.\n")
	case s.Schemes > 1:
		w.Printf("\n### Overhead against %s\n\n", mdtable.Code(s.Baseline))
		w.Printf("Ratios of medians over rounds; `tail added` is the median of per-round differences (each round pairs the scheme with plain's run of the same round). The tail is p99 where every round had 1,000 operations or more, else p90, as marked; the Summary gives these differences with their intervals. The WFS CPU rows are ratios of WFS CPU per operation (where the scenario has one kind), then per request.\n")
		rows = rows[:0]
		for _, r := range s.Overheads {
			if r.Op == "" {
				rows = append(rows, []string{r.Scheme, "(WFS CPU per " + string(r.Per) + ")", "", "", "", fmtRatio(r.CPURatio)})
				continue
			}
			tl := " (" + r.Tail + ")"
			rows = append(rows, []string{r.Scheme, r.Op, fmtRatio(r.P50Ratio), fmtRatio(r.TailRatio) + tl, fmtDeltaSpread(r.TailAdded) + tl, fmtRatio(r.RateRatio)})
		}
		w.Table([]string{"scheme", "op", "p50 ×plain", "tail ×plain", "tail added", "ops/s ×plain"}, rows)
	}

	if plotLink != "" && len(s.Plots) > 0 {
		w.Printf("\n### Plots\n\n")
		for _, p := range s.Plots {
			w.Printf("![%s](%s)\n\n", p.Title, path.Join(plotLink, p.File))
		}
	}
}

// filesWords names the units of work file operations are counted per.
func filesWords(works []figures.Work) string {
	var ws []string
	for _, x := range works {
		if f := string(filesPer(x)); !contains(ws, f) {
			ws = append(ws, f)
		}
	}
	return strings.Join(ws, " or ")
}

// environment writes one column per source run.
func (p *Page) environment(w *mdtable.Writer) {
	w.Printf("\n## Environment\n")
	srcs := p.Environment
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
		get  func(s results.Source) string
	}{
		{"host", func(s results.Source) string { return s.Env.Host }},
		{"cpu", func(s results.Source) string { return s.Env.CPU }},
		{"cores", func(s results.Source) string { return fmt.Sprint(s.Env.Cores) }},
		{"GOMAXPROCS", func(s results.Source) string { return fmt.Sprint(s.Env.GOMAXPROCS) }},
		{"kernel", func(s results.Source) string { return s.Env.Kernel }},
		{"go", func(s results.Source) string { return s.Env.Go }},
		{"libzmq", func(s results.Source) string { return s.Env.Libzmq }},
		{"libsodium", func(s results.Source) string { return s.Env.Libsodium }},
		{"pinned CPUs (both sides)", func(s results.Source) string { return s.Env.Pin }},
		{"WFS process CPUs", func(s results.Source) string {
			if s.Env.ServerCPUs == "" && s.Env.ClientCPUs == "" {
				return ""
			}
			if s.Env.ServerCPUs == "" {
				return "unpinned"
			}
			return s.Env.ServerCPUs
		}},
		{"WFS CPU quota", func(s results.Source) string {
			if s.Env.ServerQuota <= 0 {
				return ""
			}
			return fmt.Sprintf("%.2g CPU (cgroup CFS)", s.Env.ServerQuota)
		}},
		{"load generator CPUs", func(s results.Source) string { return s.Env.ClientCPUs }},
		{"started", func(s results.Source) string { return fmtTime(s.Started) }},
		{"ended", func(s results.Source) string { return fmtTime(s.Ended) }},
		{"partial", func(s results.Source) string {
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

// commands lists the exact command lines behind every figure.
func (p *Page) commands(w *mdtable.Writer) {
	w.Printf("\n## Commands\n\nEvery figure above comes from these command lines; run them again to reproduce it.\n\n```sh\n")
	for _, c := range p.Commands {
		w.Printf("%s\n", c)
	}
	w.Printf("```\n")
}
