package results

import (
	"fmt"
	"github.com/authbench/authbench/vocab"
	"io"
	"path"
	"strings"
	"time"
)

// DefaultBudget is the p99 latency a scheme may add to an operation over
// the plain baseline when the report is given no budget.
const DefaultBudget = 50 * time.Millisecond

// ReportOptions tune Report.
type ReportOptions struct {
	// Budget is the p99 latency a scheme may add to a command or job
	// message over plain and still be sustainable (DefaultBudget if 0).
	Budget time.Duration
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
}

// reporter renders one report.
type reporter struct {
	scenarios []*scenarioData
	runs      []*Run
	opts      ReportOptions
	budget    time.Duration
}

// Report writes a markdown design-review report of runs to w: a summary
// with a verdict per design question of DESIGN.md section 1 that the data
// covers (and what would answer the others), then per scenario the
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
	rp := &reporter{scenarios: scs, runs: runs, opts: opts, budget: opts.Budget}
	if rp.budget <= 0 {
		rp.budget = DefaultBudget
	}
	ew := &errWriter{w: w}
	rp.header(ew)
	rp.summary(ew)
	for _, sc := range scs {
		if err := rp.scenario(ew, sc); err != nil {
			return err
		}
	}
	if opts.Capacity != "" {
		ew.printf("\n%s\n", strings.TrimSpace(opts.Capacity))
	}
	if opts.Conformance != "" {
		ew.printf("\n%s\n", strings.TrimSpace(opts.Conformance))
	}
	rp.environment(ew)
	rp.commands(ew)
	if ew.err != nil {
		return fmt.Errorf("report: %w", ew.err)
	}
	return nil
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, nil
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// table renders rows under header as a markdown table, with blank lines
// around it.
func (e *errWriter) table(header []string, rows [][]string) {
	e.printf("\n")
	t := Markdown(e, header...)
	for _, r := range rows {
		if err := t.Append(r); err != nil && e.err == nil {
			e.err = err
		}
	}
	if err := t.Render(); err != nil && e.err == nil {
		e.err = err
	}
	e.printf("\n")
}

func (rp *reporter) header(w *errWriter) {
	w.printf("# authbench report\n\n")
	var names []string
	rounds := 0
	for _, sc := range rp.scenarios {
		names = append(names, sc.name)
		rounds = max(rounds, sc.rounds)
	}
	w.printf("Scenarios: %s. Up to %s per scheme; figures are medians over rounds with their range (min–max) beside them.\n",
		strings.Join(names, ", "), fmtRounds(rounds))
	w.printf("Budget: a scheme is sustainable if it adds less than %s to an operation's p99 over `plain`", rp.budget)
	if rp.opts.Budget <= 0 {
		w.printf(" (the default; set it with -budget)")
	}
	w.printf(".\n")
	w.printf("Read with care: each WFS ran as a process of its own on the CPUs the Environment section names, apart from its clients, and its own CPU per request is in each scenario's Resources table; but rows from closed-loop groups measure throughput at saturation (they are labelled), a scenario section flags a WFS that was saturated, and there the latencies describe the machine, not a scheme's cost: the capacity section and WFS CPU are the figures to judge cost by. The verdicts below still lean on client-side latency. A p99 from fewer than 100 ops is close to their maximum; one round is one sample of a noisy machine (use -repeat).\n")
	for _, run := range rp.runs {
		for _, s := range run.sources() {
			if s.Partial {
				w.printf("\n**Partial run**: %s was interrupted; its figures cover only what finished.\n", code(s.Command))
			}
		}
	}
}

// summary writes one section per design question.
func (rp *reporter) summary(w *errWriter) {
	w.printf("\n## Summary\n")
	for _, q := range []*question{rp.qAB(), rp.qJob(), rp.q10(), rp.qCurve(), rp.qKeys(), rp.qJose(), rp.qPython(), rp.qWLCG()} {
		q.write(w)
	}
}

// question is one design question's section of the summary.
type question struct {
	id, title string
	// settles names what answers the question (DESIGN.md section 1).
	settles string
	header  []string
	rows    [][]string
	// findings are sentences with a figure, its spread and a verdict.
	findings []string
	decision string
	notes    []string
	// need says which scenario and schemes would answer the question,
	// when the data does not.
	need     string
	commands []string
}

func (q *question) write(w *errWriter) {
	w.printf("\n### %s: %s\n\n", q.id, q.title)
	w.printf("Settled by: %s.\n", q.settles)
	if len(q.rows) == 0 {
		w.printf("\n**No data.** %s\n", q.need)
		for _, n := range q.notes {
			w.printf("\n%s\n", n)
		}
		return
	}
	w.table(q.header, q.rows)
	shaky := false
	for _, r := range q.rows {
		shaky = shaky || strings.Contains(r[len(r)-1], "worst round exceeds")
	}
	if shaky {
		q.notes = append([]string{"Some schemes stay within the budget only in the median round; their worst round exceeds it. Run more rounds (-repeat 5 or more) before relying on the verdict."}, q.notes...)
	}
	for _, f := range q.findings {
		w.printf("- %s\n", f)
	}
	if q.decision != "" {
		w.printf("\n**Verdict:** %s\n", q.decision)
	}
	for _, n := range q.notes {
		w.printf("\n%s\n", n)
	}
	if len(q.commands) > 0 {
		w.printf("\nMade by:")
		for _, c := range q.commands {
			w.printf(" %s", code(c))
		}
		w.printf("\n")
	}
}

// addCommand records the commands of sc's run on q, once each.
func (q *question) addCommand(sc *scenarioData) {
	for _, s := range sc.run.sources() {
		if !containsString(q.commands, s.Command) {
			q.commands = append(q.commands, s.Command)
		}
	}
}

// settled is "" when op ran without errors for s, else why it did not.
func settled(s *schemeData, op, what string) string {
	n, errs, _ := s.totals(op)
	if errs == 0 && n > 0 {
		return ""
	}
	if n == 0 && errs == 0 {
		return fmt.Sprintf("not settled: no %s recorded", what)
	}
	return fmt.Sprintf("not settled: %d of %d %s failed", errs, n+errs, what)
}

// verdict judges an added p99 against the budget.
func (rp *reporter) verdict(added vocab.Spread) string {
	b := float64(rp.budget)
	switch {
	case added.N == 0:
		return "not settled: no paired rounds"
	case added.Median < b && added.Max >= b:
		return "sustainable in the median round; the worst round exceeds it"
	case added.Median < b:
		return "sustainable"
	default:
		return "not sustainable"
	}
}

// budgetText is "budget 50ms".
func (rp *reporter) budgetText() string { return "budget " + rp.budget.String() }

// missingScenarios lists wanted scenarios that the data lacks.
func (rp *reporter) missingScenarios(want ...string) []string {
	var miss []string
	for _, w := range want {
		found := false
		for _, sc := range rp.scenarios {
			if sc.name == w {
				found = true
			}
		}
		if !found {
			miss = append(miss, w)
		}
	}
	return miss
}

// runHint is the command that would add the missing data.
func runHint(scenarios []string, schemes string) string {
	var b strings.Builder
	b.WriteString("authbench run")
	for _, s := range scenarios {
		b.WriteString(" -scenario " + s)
	}
	b.WriteString(" -schemes " + schemes + " -repeat 5")
	return code(b.String())
}

// completeNote says which scenarios the question still needs, if any.
func (rp *reporter) completeNote(q *question, schemes string, want ...string) {
	if miss := rp.missingScenarios(want...); len(miss) > 0 {
		q.notes = append(q.notes, fmt.Sprintf("To complete: the question asks for scenarios %s, not in this data: %s.",
			strings.Join(want, ", "), runHint(miss, schemes)))
	}
}

func (rp *reporter) noBaseline(q *question) {
	for _, sc := range rp.scenarios {
		if sc.baseline == nil {
			q.notes = append(q.notes, fmt.Sprintf("Scenario %s has no `plain` scheme, so nothing in it is measured against the baseline: add `plain` to -schemes.", sc.name))
		}
	}
}

const (
	abSchemes   = "plain,jwt:command,jwt:shared=10s,jwt:timed=60s/6s"
	jobSchemes  = "plain,jwt:job=file,jwt:job=combined,jwt:job=status"
	q10Schemes  = "plain,jwt:command,jwt:job=file"
	curveScheme = "plain,curve"
	keysSchemes = "plain,curve,curve-job"
	joseSchemes = "plain,jwt,jwe,curve"
)

func (rp *reporter) qAB() *question {
	q := &question{
		id: "Q-A/B", title: "plan A (one-command tokens) or plan B (shared or timed tokens)?",
		settles: "per-command latency added over plain (`cli.command_total`, paired by round) at interactive and burst command rates; file operations per command",
		header:  []string{"scenario", "scheme", "plan", "added p50", "added p99", "file ops/request over plain", "commands", "verdict"},
		need: "Run scenarios cli-interactive and cli-burst with a plan A scheme (`jwt:command`), plan B schemes (`jwt:shared=10s`, `jwt:timed=60s/6s`) and `plain`: " +
			runHint([]string{"cli-interactive", "cli-burst"}, abSchemes) + ".",
	}
	type planRow struct {
		plan    string
		scheme  string
		sc      string
		added   vocab.Spread
		fops    vocab.Spread
		problem string
	}
	var rowsA, rowsB []planRow
	fewNoted := false
	for _, sc := range rp.scenarios {
		base := sc.baseline
		if base == nil || len(base.pct(vocab.OpCLICommand, 99)) == 0 {
			continue
		}
		for _, s := range sc.schemes {
			var plan string
			switch s.spec.policy {
			case "command":
				plan = "A"
			case "shared":
				plan = "B1 (shared)"
			case "timed":
				plan = "B2 (timed)"
			default:
				continue
			}
			if s.spec.credential == "" {
				continue
			}
			a50 := vocab.SpreadOf(paired(s, base, opPct(vocab.OpCLICommand, 50)))
			a99 := vocab.SpreadOf(paired(s, base, opPct(vocab.OpCLICommand, 99)))
			fops := vocab.SpreadOf(paired(s, base, func(r *Result) (float64, bool) {
				if r.Server.Requests <= 0 {
					return 0, false
				}
				return float64(fileOps(r.Files)) / float64(r.Server.Requests), true
			}))
			n, errs, kinds := s.totals(vocab.OpCLICommand)
			v := settled(s, vocab.OpCLICommand, "commands")
			if v == "" {
				v = rp.verdict(a99)
			}
			q.rows = append(q.rows, []string{sc.name, s.name, plan, fmtDeltaSpread(a50), fmtDeltaSpread(a99), fmtNumSpread(fops, 2),
				fmt.Sprintf("%d, errors %s", n, fmtErrors(errs, kinds)), v})
			if n < 100 && !fewNoted {
				fewNoted = true
				q.notes = append(q.notes, "Rows from fewer than 100 commands have a p99 that is close to their single worst command: weigh them less than the burst rows, or run longer.")
			}
			pr := planRow{plan: plan, scheme: s.name, sc: sc.name, added: a99, fops: fops, problem: settled(s, vocab.OpCLICommand, "commands")}
			planName := "Plan A"
			if plan != "A" {
				planName = "Plan " + plan
				rowsB = append(rowsB, pr)
			} else {
				rowsA = append(rowsA, pr)
			}
			if pr.problem != "" {
				q.findings = append(q.findings, fmt.Sprintf("%s (%s) in %s: %s.", planName, code(s.name), sc.name, pr.problem))
			} else {
				q.findings = append(q.findings, fmt.Sprintf("%s (%s) %s at p99 per command over plain in %s (%s); %s: %s.",
					planName, code(s.name), adds(a99.Median), sc.name, spreadWords(a99), rp.budgetText(), rp.verdict(a99)))
			}
			q.addCommand(sc)
		}
	}
	rp.noBaseline(q)
	if len(q.rows) == 0 {
		return q
	}
	sustainable := func(rows []planRow) (ok bool, any bool, worst vocab.Spread, fops float64) {
		ok = true
		for _, r := range rows {
			if r.problem != "" {
				return false, false, worst, 0
			}
			any = true
			if r.added.Median >= float64(rp.budget) {
				ok = false
			}
			if r.added.Median > worst.Median || worst.N == 0 {
				worst = r.added
			}
			fops = max(fops, r.fops.Median)
		}
		return ok && any, any, worst, fops
	}
	aOK, aAny, aWorst, aF := sustainable(rowsA)
	bOK, bAny, _, bF := sustainable(rowsB)
	switch {
	case len(rowsA) == 0:
		q.decision = "undecided: no plan A scheme was measured (add `jwt:command` to -schemes)."
	case len(rowsB) == 0 && aOK:
		q.decision = fmt.Sprintf("plan A is sustainable (worst scenario adds %s at p99, %s); no plan B scheme was measured to weigh it against.", fmtDelta(aWorst.Median), rp.budgetText())
	case !aAny:
		q.decision = "undecided: plan A's commands failed (see the table); fix the errors and run again."
	case aOK:
		q.decision = fmt.Sprintf("choose plan A. One-command tokens stay within the budget (worst scenario adds %s at p99, %s) and cannot be replayed, which plan B tokens can within their window; the price is file operations: %.2f per request against %.2f for plan B, over plain.",
			fmtDelta(aWorst.Median), rp.budgetText(), aF, bF)
	case bOK:
		q.decision = fmt.Sprintf("choose plan B. Plan A adds %s at p99 per command, over the %s; plan B stays within it.", fmtDelta(aWorst.Median), rp.budgetText())
	case !bAny:
		q.decision = "plan A exceeds the budget and plan B's commands failed: undecided."
	default:
		q.decision = "neither plan stays within the budget at p99: rethink token handling before choosing."
	}
	rp.completeNote(q, abSchemes, "cli-interactive", "cli-burst")
	return q
}

// adds is "adds +3.10ms", or for a negative median "adds nothing
// measurable (-1.20ms)": the scheme ran faster than plain, which is noise.
func adds(ns float64) string {
	if ns <= 0 {
		return "adds nothing measurable (" + fmtDelta(ns) + ")"
	}
	return "adds " + fmtDelta(ns)
}

// spreadWords is "median of 3 rounds, range +2.80ms to +3.50ms" or "1 round".
func spreadWords(s vocab.Spread) string {
	if s.N <= 1 {
		return "1 round"
	}
	return fmt.Sprintf("median of %d rounds, range %s to %s", s.N, fmtDelta(s.Min), fmtDelta(s.Max))
}

func (rp *reporter) qJob() *question {
	q := &question{
		id: "Q-job", title: "one-job tokens in a file per job, one combined file per workflow, or inside `job.status`?",
		settles: "files created and peak live files per 1,000 jobs, fsyncs, job message latency under contention on the combined file",
		header:  []string{"scenario", "scheme", "store", "files created/1k jobs", "over plain", "peak live files", "fsyncs/1k jobs", "job.message p99", "added p99", "verdict"},
		need: "Run a job scenario (job-storm) with the job-token stores `jwt:job=file`, `jwt:job=combined`, `jwt:job=status` and `plain`: " +
			runHint([]string{"job-storm"}, jobSchemes) + ".",
	}
	type storeRow struct {
		scheme, store, sc string
		files, added      vocab.Spread
		problem           string
	}
	var rows []storeRow
	for _, sc := range rp.scenarios {
		base := sc.baseline
		if base == nil || len(base.pct(vocab.OpJobMessage, 99)) == 0 {
			continue
		}
		for _, s := range sc.schemes {
			if s.spec.policy != "job" || s.spec.credential == "" {
				continue
			}
			store := s.spec.arg
			if store == "" {
				store = "file"
			}
			files := vocab.SpreadOf(s.roundValues(filesPerKJobs))
			over := vocab.SpreadOf(paired(s, base, filesPerKJobs))
			peak := vocab.SpreadOf(s.roundValues(peakLive))
			fs := vocab.SpreadOf(s.roundValues(func(r *Result) (float64, bool) { return perJobs(r.Files.Fsyncs, r) }))
			p99 := vocab.SpreadOf(s.pct(vocab.OpJobMessage, 99))
			added := vocab.SpreadOf(paired(s, base, opPct(vocab.OpJobMessage, 99)))
			v := settled(s, vocab.OpJobMessage, "job messages")
			problem := v
			if v == "" {
				v = rp.verdict(added)
			}
			q.rows = append(q.rows, []string{sc.name, s.name, store, fmtNumSpread(files, 0), fmtNumSpread(over, 0), fmtNumSpread(peak, 0),
				fmtNumSpread(fs, 0), fmtDurSpread(p99), fmtDeltaSpread(added), v})
			rows = append(rows, storeRow{scheme: s.name, store: store, sc: sc.name, files: over, added: added, problem: problem})
			if problem == "" {
				q.findings = append(q.findings, fmt.Sprintf("%s (%s store) in %s creates %.0f files per 1,000 jobs over plain and %s at job-message p99 (%s); %s: %s.",
					code(s.name), store, sc.name, over.Median, adds(added.Median), spreadWords(added), rp.budgetText(), rp.verdict(added)))
			}
			q.addCommand(sc)
		}
	}
	rp.noBaseline(q)
	if len(q.rows) == 0 {
		return q
	}
	var best *storeRow
	for i := range rows {
		r := &rows[i]
		if r.problem != "" || r.added.Median >= float64(rp.budget) {
			continue
		}
		if best == nil || r.files.Median < best.files.Median {
			best = r
		}
	}
	stores := map[string]bool{}
	for _, r := range rows {
		stores[r.store] = true
	}
	switch {
	case best == nil:
		q.decision = "undecided: no job-token store ran without errors within the budget."
	default:
		q.decision = fmt.Sprintf("store one-job tokens as %s (%s): the fewest files created (%.0f per 1,000 jobs over plain) among the stores within the budget, adding %s at job-message p99.",
			storeWords(best.store), code(best.scheme), best.files.Median, fmtDelta(best.added.Median))
		if len(stores) < 3 {
			q.decision += " Not every store was measured (file, combined, status): the choice is among those present."
		}
	}
	rp.completeNote(q, jobSchemes, "job-storm")
	return q
}

func storeWords(store string) string {
	switch store {
	case "file":
		return "a file per job"
	case "combined":
		return "one combined file per workflow"
	case "status":
		return "lines inside `job.status`"
	}
	return store
}

func (rp *reporter) q10() *question {
	q := &question{
		id: "Q10", title: "shared-file-system jobs: treat like interactive commands (1i) or like remote jobs (2i)?",
		settles: "the two policies run on the same job load, side by side",
		header:  []string{"scenario", "scheme", "policy", "job.message p99", "added p99", "files created/1k jobs", "verdict"},
		need: "Run one job load under the interactive-command policy (`jwt:command`: a token per message, as 1i) and the remote-job policy (`jwt:job=file`: a token per job, as 2i): " +
			runHint([]string{"job-storm"}, q10Schemes) + ".",
	}
	type polRow struct {
		scheme, policy string
		added, files   vocab.Spread
		problem        string
	}
	for _, sc := range rp.scenarios {
		base := sc.baseline
		if base == nil || len(base.pct(vocab.OpJobMessage, 99)) == 0 {
			continue
		}
		var cmd, job []polRow
		var rows [][]string
		for _, s := range sc.schemes {
			if s.spec.credential == "" || (s.spec.policy != "command" && s.spec.policy != "job") {
				continue
			}
			p99 := vocab.SpreadOf(s.pct(vocab.OpJobMessage, 99))
			added := vocab.SpreadOf(paired(s, base, opPct(vocab.OpJobMessage, 99)))
			files := vocab.SpreadOf(s.roundValues(filesPerKJobs))
			problem := settled(s, vocab.OpJobMessage, "job messages")
			v := problem
			if v == "" {
				v = rp.verdict(added)
			}
			label := "1i: token per message"
			r := polRow{scheme: s.name, policy: s.spec.policy, added: added, files: files, problem: problem}
			if s.spec.policy == "job" {
				label = "2i: token per job"
				job = append(job, r)
			} else {
				cmd = append(cmd, r)
			}
			rows = append(rows, []string{sc.name, s.name, label, fmtDurSpread(p99), fmtDeltaSpread(added), fmtNumSpread(files, 0), v})
		}
		if len(cmd) == 0 || len(job) == 0 {
			continue // the question needs both policies on the same load
		}
		q.rows = append(q.rows, rows...)
		q.addCommand(sc)
		pick := func(rs []polRow) *polRow {
			var b *polRow
			for i := range rs {
				if rs[i].problem == "" && (b == nil || rs[i].added.Median < b.added.Median) {
					b = &rs[i]
				}
			}
			return b
		}
		c, j := pick(cmd), pick(job)
		if c == nil || j == nil {
			q.findings = append(q.findings, fmt.Sprintf("In %s one policy's job messages failed: undecided.", sc.name))
			continue
		}
		q.findings = append(q.findings, fmt.Sprintf("In %s, per-message tokens (%s) add %s at job-message p99 and create %.0f files per 1,000 jobs; per-job tokens (%s) add %s and create %.0f.",
			sc.name, code(c.scheme), fmtDelta(c.added.Median), c.files.Median, code(j.scheme), fmtDelta(j.added.Median), j.files.Median))
		b := float64(rp.budget)
		switch {
		case j.added.Median < b && (j.files.Median <= c.files.Median || c.added.Median >= b):
			q.decision = fmt.Sprintf("treat shared-file-system jobs like remote jobs (2i): per-job tokens stay within the %s and create no more files than per-message tokens.", rp.budgetText())
		case c.added.Median < b:
			q.decision = fmt.Sprintf("treat shared-file-system jobs like interactive commands (1i): per-message tokens stay within the %s with fewer files.", rp.budgetText())
		default:
			q.decision = "neither policy stays within the budget at job-message p99."
		}
	}
	return q
}

func (rp *reporter) qCurve() *question {
	q := &question{
		id: "Q-curve", title: "what does CurveZMQ cost, and should an unencrypted option stay?",
		settles: "handshake time per fresh connection, round-trip and throughput ratios CURVE/NULL, CPU per message",
		header:  []string{"scenario", "scheme", "handshake p50", "handshake p99", "plain handshake p99", "round trip p50 ×plain", "p99 added", "throughput ×plain", "WFS CPU/1k req ×plain", "verdict"},
		need:    "Run a CLI scenario with `curve` and `plain`: " + runHint([]string{"cli-interactive", "cli-burst"}, curveScheme) + ".",
	}
	var worst *vocab.Spread
	var worstScheme string
	failed := false
	for _, sc := range rp.scenarios {
		base := sc.baseline
		if base == nil {
			continue
		}
		// CLI commands when the scenario has them, else job messages (each
		// a fresh connection too, as cylc message is).
		total, hsOp, rtOp, what := vocab.OpCLICommand, vocab.OpCLIHandshake, vocab.OpCLIRoundTrip, "commands"
		if len(base.pct(vocab.OpCLICommand, 99)) == 0 {
			total, hsOp, rtOp, what = vocab.OpJobMessage, vocab.OpJobHandshake, vocab.OpJobRoundTrip, "job messages"
			if len(base.pct(vocab.OpJobMessage, 99)) == 0 {
				continue
			}
		}
		for _, s := range sc.schemes {
			if s.spec.credential != "" || (s.spec.security != "curve" && s.spec.security != "curve-job") {
				continue
			}
			hs50, hs99 := vocab.SpreadOf(s.pct(hsOp, 50)), vocab.SpreadOf(s.pct(hsOp, 99))
			bhs99 := vocab.SpreadOf(base.pct(hsOp, 99))
			rt := fmtRatio(vocab.SpreadOf(s.pct(rtOp, 50)), vocab.SpreadOf(base.pct(rtOp, 50)))
			added := vocab.SpreadOf(paired(s, base, opPct(total, 99)))
			thr := fmtRatio(vocab.SpreadOf(s.rate(total)), vocab.SpreadOf(base.rate(total)))
			cpu := fmtRatio(vocab.SpreadOf(s.roundValues(serverCPUPerKReq)), vocab.SpreadOf(base.roundValues(serverCPUPerKReq)))
			problem := settled(s, total, what)
			v := problem
			if v == "" {
				v = rp.verdict(added)
				if worst == nil || added.Median > worst.Median {
					a := added
					worst, worstScheme = &a, s.name
				}
				q.findings = append(q.findings, fmt.Sprintf("%s in %s: a fresh connection's handshake takes %s at p50 and %s at p99 (plain: %s); the p99 of %s grows by %s (%s); %s: %s.",
					code(s.name), sc.name, fmtDur(hs50.Median), fmtDur(hs99.Median), fmtDur(bhs99.Median), what, fmtDelta(added.Median), spreadWords(added), rp.budgetText(), v))
			} else {
				failed = true
				q.findings = append(q.findings, fmt.Sprintf("%s in %s: %s.", code(s.name), sc.name, problem))
			}
			q.rows = append(q.rows, []string{sc.name, s.name, fmtDurSpread(hs50), fmtDurSpread(hs99), fmtDurSpread(bhs99), rt, fmtDeltaSpread(added), thr, cpu, v})
			q.addCommand(sc)
		}
	}
	rp.noBaseline(q)
	switch {
	case len(q.rows) == 0:
	case worst == nil:
		q.decision = "undecided: every CURVE run had failed commands; fix them and run again."
	case worst.Median < float64(rp.budget):
		q.decision = fmt.Sprintf("CURVE is affordable: at worst (%s) it adds %s to a request's p99, within the %s. Make CURVE the default; an unencrypted option buys no latency that matters and need not stay for speed.",
			code(worstScheme), fmtDelta(worst.Median), rp.budgetText())
	default:
		q.decision = fmt.Sprintf("CURVE adds %s to a request's p99 (%s), over the %s: keep an unencrypted option for sites that do not need confidentiality.",
			fmtDelta(worst.Median), code(worstScheme), rp.budgetText())
	}
	if failed && worst != nil {
		q.decision += " Some CURVE runs had failed commands (see the table): those rows do not count."
	}
	if len(q.rows) > 0 {
		rp.completeNote(q, curveScheme, "cli-interactive", "cli-burst")
	}
	return q
}

func (rp *reporter) qKeys() *question {
	q := &question{
		id: "Q-keys", title: "client keys per job, or per install target (as Cylc 8 ships)?",
		settles: "files per 1,000 jobs, ZAP allow-list size and lookup cost, handshake rate, revocation at job end",
		header:  []string{"scenario", "scheme", "key scope", "files created/1k jobs", "peak live files", "left at end over plain", "ZAP allow-list peak", "ZAP lookup mean", "keygen mean", "job handshake p99", "job.message p99", "added p99", "verdict"},
		need:    "Run a job scenario with both key scopes, `curve` (per install target) and `curve-job` (per job), and `plain`: " + runHint([]string{"job-storm"}, keysSchemes) + ".",
	}
	statsSeen := false
	for _, sc := range rp.scenarios {
		var target, job *schemeData
		for _, s := range sc.schemes {
			if s.spec.credential != "" {
				continue
			}
			if s.spec.security == "curve" && target == nil {
				target = s
			}
			if s.spec.security == "curve-job" && job == nil {
				job = s
			}
		}
		if target == nil || job == nil || target.totals2(vocab.OpJobMessage)+job.totals2(vocab.OpJobMessage) == 0 {
			continue
		}
		type fig struct {
			files, peak, added vocab.Spread
			problem            string
		}
		figs := map[*schemeData]fig{}
		for _, x := range []struct {
			s     *schemeData
			scope string
		}{{target, "per install target"}, {job, "per job"}} {
			s := x.s
			f := fig{
				files:   vocab.SpreadOf(s.roundValues(filesPerKJobs)),
				peak:    vocab.SpreadOf(s.roundValues(peakLive)),
				problem: settled(s, vocab.OpJobMessage, "job messages"),
			}
			hs := vocab.SpreadOf(s.pct(vocab.OpJobHandshake, 99))
			p99 := vocab.SpreadOf(s.pct(vocab.OpJobMessage, 99))
			if sc.baseline != nil {
				f.added = vocab.SpreadOf(paired(s, sc.baseline, opPct(vocab.OpJobMessage, 99)))
			}
			v := f.problem
			if v == "" {
				v = rp.verdict(f.added)
			}
			figs[s] = f
			allowPeak := vocab.SpreadOf(s.roundValues(schemeStat("zap.allowed_peak")))
			lookup := vocab.SpreadOf(s.roundValues(schemeStat("zap.lookup_ns_mean")))
			keygen := vocab.SpreadOf(s.roundValues(schemeStat("keys.gen_ns_mean")))
			if allowPeak.N > 0 {
				statsSeen = true
			}
			liveAtEnd := func(r *Result) (float64, bool) { return float64(r.Files.Live), true }
			left := vocab.SpreadOf(s.roundValues(liveAtEnd))
			if sc.baseline != nil {
				// Job scripts and job.status files stay, as in Cylc: count
				// only what the scheme leaves beyond them.
				left = vocab.SpreadOf(paired(s, sc.baseline, liveAtEnd))
			}
			q.rows = append(q.rows, []string{sc.name, s.name, x.scope, fmtNumSpread(f.files, 0), fmtNumSpread(f.peak, 0),
				fmtNumSpread(left, 0), fmtNumSpread(allowPeak, 0), fmtDurSpread(lookup), fmtDurSpread(keygen), fmtDurSpread(hs), fmtDurSpread(p99), fmtDeltaSpread(f.added), v})
		}
		q.addCommand(sc)
		ft, fj := figs[target], figs[job]
		if ft.problem != "" || fj.problem != "" {
			q.findings = append(q.findings, fmt.Sprintf("In %s job messages failed (%s: %s; %s: %s): undecided.", sc.name,
				code(target.name), orOK(ft.problem), code(job.name), orOK(fj.problem)))
			continue
		}
		q.findings = append(q.findings, fmt.Sprintf("In %s, per-job keys create %.0f files per 1,000 jobs against %.0f per install target, and add %s at job-message p99 over plain against %s (%s).",
			sc.name, fj.files.Median, ft.files.Median, fmtDelta(fj.added.Median), fmtDelta(ft.added.Median), rp.budgetText()))
		// The question is per job against per install target: judge the
		// difference between the two key scopes against the budget.
		diff := fj.added.Median - ft.added.Median
		switch {
		case fj.added.N == 0 || ft.added.N == 0:
			q.decision = "undecided: no plain baseline to pair the key scopes with."
		case diff < float64(rp.budget):
			cost := "cost " + fmtDelta(diff)
			if diff <= 0 {
				cost = "cost nothing measurable (" + fmtDelta(diff) + ")"
			}
			q.decision = fmt.Sprintf("per-job keys %s at job-message p99 over per-target keys (%s) and give revocation at job end: choose per-job keys if that revocation is wanted, at %.0f extra files per 1,000 jobs.",
				cost, rp.budgetText(), fj.files.Median-ft.files.Median)
		default:
			q.decision = fmt.Sprintf("per-job keys add %s at job-message p99 over per-target keys, beyond the %s: keep a key per install target.", fmtDelta(diff), rp.budgetText())
		}
		if ft.added.N > 0 && ft.added.Median >= float64(rp.budget) {
			q.decision += fmt.Sprintf(" Note that CURVE itself (either scope) adds %s over plain here, beyond the budget: see Q-curve.", fmtDelta(ft.added.Median))
		}
	}
	if len(q.rows) > 0 {
		if !statsSeen {
			q.notes = append(q.notes, "These results carry no ZAP allow-list figures (made before authbench recorded them); files and handshakes stand in.")
		}
		if q.decision == "" {
			q.decision = "undecided: job messages failed under a key scope (see the table)."
		}
	}
	return q
}

// totals2 is the number of successful and failed ops.
func (s *schemeData) totals2(op string) int64 {
	n, e, _ := s.totals(op)
	return n + e
}

func orOK(s string) string {
	if s == "" {
		return "ok"
	}
	return s
}

// eavesdropper says what a passive listener on the wire reads.
func eavesdropper(p specParts) string {
	switch {
	case p.security == "curve" || p.security == "curve-job":
		return "nothing: the connection is encrypted"
	case p.credential == "jwe":
		return "the JWE header only"
	case p.credential == "jwt":
		return "the token's claims and the request: signed, not encrypted"
	case p.credential == "passphrase":
		return "the passphrase itself and the request"
	case p.credential == "wlcg":
		return "the access token (a bearer token) and the request"
	case p.credential == "":
		return "everything"
	}
	return "unknown"
}

func (rp *reporter) qJose() *question {
	q := &question{
		id: "Q-jose", title: "JWT (signed, payload readable) versus JWE (encrypted) versus CURVE for confidentiality?",
		settles: "bytes added per message, sign/verify and encrypt/decrypt cost per message, what an eavesdropper on the wire can read",
		header:  []string{"scenario", "scheme", "bytes added/msg", "round trip p50 added", "command p99 added", "WFS CPU/1k req ×plain", "an eavesdropper reads", "verdict"},
		need:    "Run a CLI scenario with `jwt`, `jwe`, `curve` and `plain`: " + runHint([]string{"cli-interactive"}, joseSchemes) + ".",
	}
	type opt struct {
		scheme string
		added  vocab.Spread
	}
	var confidential []opt
	have := map[string]bool{}
	for _, sc := range rp.scenarios {
		base := sc.baseline
		if base == nil || len(base.pct(vocab.OpCLICommand, 99)) == 0 {
			continue
		}
		for _, s := range sc.schemes {
			p := s.spec
			isJose := (p.credential == "jwt" || p.credential == "jwe") && p.policy == "workflow"
			isCurve := p.credential == "" && p.security == "curve"
			if !isJose && !isCurve {
				continue
			}
			bytes := vocab.SpreadOf(s.roundValues(bytesAdded))
			rt := vocab.SpreadOf(paired(s, base, opPct(vocab.OpCLIRoundTrip, 50)))
			added := vocab.SpreadOf(paired(s, base, opPct(vocab.OpCLICommand, 99)))
			cpu := fmtRatio(vocab.SpreadOf(s.roundValues(serverCPUPerKReq)), vocab.SpreadOf(base.roundValues(serverCPUPerKReq)))
			problem := settled(s, vocab.OpCLICommand, "commands")
			v := problem
			if v == "" {
				v = rp.verdict(added)
			}
			bytesCell := fmtNumSpread(bytes, 0)
			if isCurve {
				bytesCell += " (transport framing not counted)"
			}
			q.rows = append(q.rows, []string{sc.name, s.name, bytesCell, fmtDeltaSpread(rt), fmtDeltaSpread(added), cpu, eavesdropper(p), v})
			q.addCommand(sc)
			kind := p.credential
			if isCurve {
				kind = "curve"
			}
			have[kind] = true
			if problem == "" {
				q.findings = append(q.findings, fmt.Sprintf("%s in %s adds %.0f bytes per message and %s at command p99 (%s); %s: %s; on the wire an eavesdropper reads %s.",
					code(s.name), sc.name, bytes.Median, fmtDelta(added.Median), spreadWords(added), rp.budgetText(), v, eavesdropper(p)))
				if kind != "jwt" && added.Median < float64(rp.budget) {
					confidential = append(confidential, opt{s.name, added})
				}
			} else {
				q.findings = append(q.findings, fmt.Sprintf("%s in %s: %s.", code(s.name), sc.name, problem))
			}
		}
	}
	rp.noBaseline(q)
	if len(q.rows) == 0 {
		return q
	}
	if len(confidential) == 0 {
		q.decision = "no confidential scheme (JWE or CURVE) ran within the budget without errors: JWT alone leaves the request readable on the wire."
	} else {
		best := confidential[0]
		for _, c := range confidential[1:] {
			if c.added.Median < best.added.Median {
				best = c
			}
		}
		q.decision = fmt.Sprintf("for confidentiality use %s: the cheapest confidential scheme measured (%s at command p99, within the %s). JWT signs but an eavesdropper reads its claims and the request.",
			code(best.scheme), fmtDelta(best.added.Median), rp.budgetText())
	}
	var miss []string
	for _, k := range []string{"jwt", "jwe", "curve"} {
		if !have[k] {
			miss = append(miss, k)
		}
	}
	if len(miss) > 0 {
		q.notes = append(q.notes, fmt.Sprintf("To complete: not measured here: %s. Sign/verify and encrypt/decrypt cost per message are read from round-trip time and CPU; they are not timed apart.", strings.Join(miss, ", ")))
	}
	return q
}

// qPython weighs the seed's claim (CurveZMQ issue) that "the Python
// overheads vastly outstrip the ZMQ overheads": a Python client process's
// interpreter start and import against its handshake and round trip.
func (rp *reporter) qPython() *question {
	q := &question{
		id: "Q-python", title: "do a Python client's own overheads outstrip the ZMQ (and CURVE) ones, as the CurveZMQ issue says?",
		settles: "interpreter start and `import zmq`, handshake and round trip of a new Python client process per message, timed separately",
		header:  []string{"scenario", "scheme", "interpreter+import p50", "handshake p50", "round trip p50", "whole process p50", "import / (handshake+round trip)"},
		need:    "Run a job scenario with `process: python`: `authbench run -scenario python-message -schemes plain,curve,curve-job`.",
	}
	minRatio := 0.0
	for _, sc := range rp.scenarios {
		for _, s := range sc.schemes {
			imp := vocab.SpreadOf(s.pct("job.interpreter_import", 50))
			if imp.N == 0 {
				continue
			}
			hs := vocab.SpreadOf(s.pct(vocab.OpJobHandshake, 50))
			rt := vocab.SpreadOf(s.pct(vocab.OpJobRoundTrip, 50))
			whole := vocab.SpreadOf(s.pct("job.process_total", 50))
			ratio := 0.0
			if zmqCost := hs.Median + rt.Median; zmqCost > 0 {
				ratio = imp.Median / zmqCost
			}
			if minRatio == 0 || ratio < minRatio {
				minRatio = ratio
			}
			q.rows = append(q.rows, []string{sc.name, s.name, fmtDurSpread(imp), fmtDurSpread(hs), fmtDurSpread(rt), fmtDurSpread(whole), fmt.Sprintf("%.0f×", ratio)})
			q.addCommand(sc)
		}
	}
	if len(q.rows) > 0 {
		if minRatio >= 10 {
			q.decision = fmt.Sprintf("the claim holds: starting the interpreter and importing zmq costs at least %.0f× the handshake and round trip together, CURVE included; CURVE's own cost is not what a Python job client waits for.", minRatio)
		} else {
			q.decision = fmt.Sprintf("the claim does not hold here: interpreter start and import cost only %.1f× the handshake and round trip in the closest case.", minRatio)
		}
	}
	return q
}

func (rp *reporter) qWLCG() *question {
	q := &question{
		id: "Q-wlcg", title: "WLCG capability tokens: issuer round trips and stored tokens per transfer, and the issuer load a token lifetime makes",
		settles: "token-exchange chains run against an issuer, counted; issuer requests per hour for a job-duration mix and access-token lifetime",
		header:  []string{"scenario", "scheme", "command p99 added", "verdict"},
		need:    "Needs the `wlcg` credential and a scenario that runs token-exchange chains against the issuer, counting issuer requests; neither is in these results.",
	}
	for _, sc := range rp.scenarios {
		if sc.baseline == nil {
			continue
		}
		for _, s := range sc.schemes {
			if s.spec.credential != "wlcg" {
				continue
			}
			added := vocab.SpreadOf(paired(s, sc.baseline, opPct(vocab.OpCLICommand, 99)))
			v := settled(s, vocab.OpCLICommand, "commands")
			if v == "" {
				v = rp.verdict(added)
			}
			q.rows = append(q.rows, []string{sc.name, s.name, fmtDeltaSpread(added), v})
			q.addCommand(sc)
		}
	}
	if len(q.rows) > 0 {
		q.notes = append(q.notes, "Issuer round trips and stored tokens per transfer are not in the results yet: the table gives only the per-command cost of a WLCG token.")
	}
	return q
}

// scenario writes one scenario's tables and plots.
func (rp *reporter) scenario(w *errWriter, sc *scenarioData) error {
	w.printf("\n## Scenario %s\n\n", sc.name)
	var cmds []string
	for _, s := range sc.run.sources() {
		if !containsString(cmds, code(s.Command)) {
			cmds = append(cmds, code(s.Command))
		}
	}
	w.printf("%s of %d schemes, interleaved. Made by %s", fmtRounds(sc.rounds), len(sc.schemes), strings.Join(cmds, " and "))
	if !sc.run.Started.IsZero() {
		w.printf(", %s to %s", sc.run.Started.UTC().Format(time.RFC3339), sc.run.Ended.UTC().Format(time.RFC3339))
	}
	w.printf(".\n")
	if n := len(sc.run.sources()); n > 1 {
		w.printf("Merged from %d runs (see Environment).\n", n)
	}

	w.printf("\n### Latency by operation\n\n")
	w.printf("Latency from the intended send time (corrected for coordinated omission); `p99 uncorr.` from the actual send. Count and errors are totals over rounds; percentiles and ops/s are medians over rounds (range in parentheses); max is the largest of any round.\n")
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
			rows = append(rows, []string{s.name, label, fmt.Sprint(n), fmtErrors(errs, kinds),
				fmtDurSpread(vocab.SpreadOf(s.pct(op, 50))), fmtDurSpread(vocab.SpreadOf(s.pct(op, 99))), fmtDur(vocab.SpreadOf(s.pct(op, 99.9)).Median),
				fmtDur(maxs.Max), fmtDur(unc.Median), fmtNumSpread(vocab.SpreadOf(s.rate(op)), 1)})
		}
	}
	w.table([]string{"scheme", "op", "count", "errors", "p50", "p99", "p99.9", "max", "p99 uncorr.", "ops/s"}, rows)
	if sc.anyClosedLoop() {
		w.printf("\nOps marked closed loop come from a group whose workers send as soon as their last request returns: their latencies follow Little's law (wait = concurrency ÷ throughput) and measure throughput at saturation, not the cost of one request.\n")
	}
	if notes := saturation(sc); len(notes) > 0 {
		w.printf("\n**Saturated:** %s. Latencies taken while a side was saturated describe the machine, not the scheme's cost: judge these schemes by WFS CPU per request (below) and the capacity search (`authbench capacity`).\n", strings.Join(notes, "; "))
	}

	w.printf("\n### Resources by scheme\n\n")
	w.printf("Per round, median over rounds. WFS CPU is the WFS process's own CPU (every thread: libzmq's I/O threads, the ZAP handler, the request workers; getrusage(RUSAGE_SELF) in the WFS process) per 1,000 requests it served after the warm-up, with the CPUs it was pinned to and the share of one CPU it used; at low rates (a command a second) it is mostly the WFS's idle CPU (timers, polls) spread over few requests, so read the marginal cost from the capacity search or the handshake probe; its CPU per handshake is a probe after the load (100 pings one after another on a fresh connection each, less 100 on one reused connection, on the idle WFS; none under the cylc model, whose drain-and-sleep wakes swamp it); client CPU is the load generator and its client processes, apart. (In results made before the WFS ran as a process of its own, client CPU is both and WFS CPU is its request threads only.) Bytes added is per request over the same request under plain; files are those the counted file layers (WFS and clients) saw.\n")
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
	w.table([]string{"scheme", "requests", "WFS CPU ms/1k req", "WFS CPUs", "WFS CPU share", "WFS CPU ms/handshake (probe)", "client CPU ms/1k req", "bytes added/msg", "files created/1k jobs", "peak live files", "fsyncs/1k jobs", "file ops/request", "peak RSS MB"}, rows)

	base := sc.baseline
	if base == nil {
		w.printf("\nNo `plain` scheme in this scenario: no overhead ratios.\n")
	} else if len(sc.schemes) > 1 {
		w.printf("\n### Overhead against %s\n\n", code(base.name))
		w.printf("Ratios of medians over rounds; `p99 added` is the median of per-round differences (each round pairs the scheme with plain's run of the same round).\n")
		rows = rows[:0]
		for _, s := range sc.schemes {
			if s == base {
				continue
			}
			for _, op := range s.ops {
				if !containsString(base.ops, op) {
					continue
				}
				rows = append(rows, []string{s.name, op,
					fmtRatio(vocab.SpreadOf(s.pct(op, 50)), vocab.SpreadOf(base.pct(op, 50))),
					fmtRatio(vocab.SpreadOf(s.pct(op, 99)), vocab.SpreadOf(base.pct(op, 99))),
					fmtDeltaSpread(vocab.SpreadOf(paired(s, base, opPct(op, 99)))),
					fmtRatio(vocab.SpreadOf(s.rate(op)), vocab.SpreadOf(base.rate(op))),
				})
			}
			rows = append(rows, []string{s.name, "(WFS CPU per request)", "", "", "",
				fmtRatio(vocab.SpreadOf(s.roundValues(serverCPUPerKReq)), vocab.SpreadOf(base.roundValues(serverCPUPerKReq)))})
		}
		w.table([]string{"scheme", "op", "p50 ×plain", "p99 ×plain", "p99 added", "ops/s ×plain"}, rows)
	}

	if rp.opts.PlotDir != "" {
		plots, err := writeScenarioPlots(rp.opts.PlotDir, sc)
		if err != nil {
			return err
		}
		if len(plots) > 0 {
			w.printf("\n### Plots\n\n")
			for _, p := range plots {
				w.printf("![%s](%s)\n\n", p.title, path.Join(rp.opts.PlotLink, p.file))
			}
		}
	}
	return nil
}

// environment writes one column per source run.
func (rp *reporter) environment(w *errWriter) {
	w.printf("\n## Environment\n")
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
	w.table(header, rows)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// commands lists the exact command lines behind every figure.
func (rp *reporter) commands(w *errWriter) {
	w.printf("\n## Commands\n\nEvery figure above comes from these command lines; run them again to reproduce it.\n\n```sh\n")
	var seen []string
	for _, run := range rp.runs {
		for _, s := range run.sources() {
			if !containsString(seen, s.Command) {
				seen = append(seen, s.Command)
				w.printf("%s\n", s.Command)
			}
		}
	}
	if rp.opts.Command != "" {
		w.printf("%s\n", rp.opts.Command)
	}
	w.printf("```\n")
}
