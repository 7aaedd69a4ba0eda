package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/flows"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/review"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/stats"
	"github.com/authbench/authbench/wfs"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

var _ flag.Value = (*listFlag)(nil)

// runRun is `authbench run`: every scheme through each scenario on
// loopback, results.json in -out, and a table on stdout.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	var scenarioNames listFlag
	fs.Var(&scenarioNames, "scenario", "built-in scenario `NAME` or YAML FILE; repeat for several (default smoke)")
	list := fs.String("schemes", "plain,passphrase", "comma-separated scheme `SPECS` (see authbench list)")
	out := fs.String("out", "out", "output `DIR` for results.json")
	repeat := fs.Int("repeat", 1, "run every scheme `N` times, in interleaved rounds of random order")
	untilDecisive := fs.Bool("until-decisive", false, "after -repeat rounds (at least 6, the fewest a 95 % interval needs) keep adding rounds until every design question the run answers has a decisive verdict, or -max-time")
	maxTime := fs.Duration("max-time", 10*time.Minute, "with -until-decisive, add no round that would end past `D` from the start (judged by the last round's length)")
	workers := fs.Int("server-workers", 2, "WFS verification worker `goroutines` (0 serves inline)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	keep := fs.Bool("keep", false, "keep the run directories (under -work's work-* directory)")
	workDir := fs.String("work", "", "make the run's scratch directory (work-*: the run directories and their secrets) under `DIR` (default -out)")
	pin := fs.String("pin", "", "pin the WFS and its clients both to `CPUS` (e.g. 0, 0-1); prefer -server-cpus and -client-cpus")
	serverCPUs := fs.String("server-cpus", "", "pin each WFS process to `CPUS` (default 0 on a machine with 2 or more CPUs)")
	clientCPUs := fs.String("client-cpus", "", "pin the load generator to `CPUS` (default every CPU but the server's)")
	probe := fs.Int("probe", 100, "after each run's load, `N` pings on a reused connection then N on fresh ones, for the WFS's CPU per handshake (0: none)")
	quota := fs.Float64("server-quota", 0, "cap each WFS process at `CPUS` of CPU time (cgroup CFS quota, e.g. 0.5; needs root)")
	format := fs.String("format", "md", "stdout `FORMAT`: md (a table) or bench (Go benchmark lines for benchstat)")
	leeway := fs.Duration("leeway", 0, "token schemes' clock-skew allowance on exp, nbf and iat (default 30s)")
	fsFlag := fs.String("fs", "", "file-system latency `MODEL` for the run directory, over each scenario's fs: a preset ("+strings.Join(wfs.FSPresetNames(), ", ")+") or model=NAME,metadata_rtt=1ms,fsync=5ms; both the WFS's and the clients' file operations sleep for it")
	pyClient := fs.String("python-client", "", "`PATH` of scripts/cylc_message.py for process: python (default: found beside the binary or in ./scripts)")
	cylcContact := fs.String("cylc", "", "a real Cylc scheduler's contact `FILE` (~/cylc-run/WF/.service/contact): scenarios' cylc_jobs send its live jobs' messages with the real `cylc message`, once a round")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *repeat < 1 || *repeat > scenarios.MaxRounds {
		return fmt.Errorf("-repeat %d: want 1 to %d", *repeat, scenarios.MaxRounds)
	}
	if *maxTime <= 0 {
		return fmt.Errorf("-max-time %s: want a positive duration", *maxTime)
	}
	if flagSet(fs, "max-time") && !*untilDecisive {
		return fmt.Errorf("-max-time %s: it bounds -until-decisive's added rounds; give -until-decisive too, or -repeat N for a fixed number of rounds", *maxTime)
	}
	if err := process.CheckServerWorkers("-server-workers", *workers); err != nil {
		return err
	}
	if *leeway < 0 {
		return fmt.Errorf("-leeway %s: must not be negative", *leeway)
	}
	if *format != "md" && *format != "bench" {
		return fmt.Errorf("-format %q: want md or bench", *format)
	}
	var fsModel *wfs.FSModel
	if *fsFlag != "" {
		m, err := wfs.ParseFSModel(*fsFlag)
		if err != nil {
			return fmt.Errorf("-fs: %w", err)
		}
		fsModel = &m
	}
	schs, err := schemes.Builtin().ParseList(*list)
	if err != nil {
		return fmt.Errorf("-schemes: %w", err)
	}
	scs, err := loadScenarios(scenarioNames)
	if err != nil {
		return err
	}
	real, err := realClient(*cylcContact, scs, stderr)
	if err != nil {
		return err
	}
	if *probe < 0 || *probe > 100000 {
		return fmt.Errorf("-probe %d: want 0 to 100000", *probe)
	}
	if *quota < 0 {
		return fmt.Errorf("-server-quota %g: want a positive number of CPUs (or 0 for none)", *quota)
	}
	if *workDir == "" {
		*workDir = *out
	}
	split, work, unpin, err := prepareLoad(*pin, *serverCPUs, *clientCPUs, *out, *workDir)
	if err != nil {
		return err
	}
	defer unpin()
	if !*keep {
		defer os.RemoveAll(work)
	}
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("run: locate the authbench binary for process-mode clients: %w", err)
	}
	runRec := &results.Run{
		Schema: results.SchemaVersion, Tool: "authbench", Started: time.Now().UTC(),
		Command: "authbench run " + strings.Join(args, " "),
		Env:     scenarios.Environment(),
	}
	runRec.Env.Pin = *pin
	runRec.Env.ServerCPUs, runRec.Env.ClientCPUs, runRec.Env.ServerQuota = split.Server, split.Client, *quota
	// Each finished (scheme, round) is written at once, atomically, marked
	// partial until the run ends: a run cut short (a signal, a full disk)
	// keeps every round it finished. A failed write stops the run.
	rf := &resultsFile{run: runRec, path: filepath.Join(*out, "results.json")}
	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var saveErr error
	cfg := scenarios.Config{Schemes: schs, WorkDir: work,
		ServerWorkers: *workers, Progress: progress, ClientBinary: self,
		Server: serverLauncher(self, split.Server, *quota), HandshakeProbe: *probe,
		PythonClient: findPythonClient(*pyClient, self), Leeway: *leeway, FS: fsModel,
		RealClient: real,
	}
	// Each finished result, and each round of a real client, is saved.
	save := func() {
		if saveErr == nil {
			if saveErr = rf.save(true); saveErr != nil {
				stopRun()
			}
		}
	}
	cfg.OnResult = func(*results.Result) { save() }
	cfg.OnRealClients = func(*results.RealClients) { save() }
	// -until-decisive runs at least the rounds a 95 % interval needs, then
	// adds rounds while the review has questions its intervals do not
	// decide yet (decisiveStop); the line it prints each round is shown
	// even with -quiet.
	rounds := scenarios.Rounds{N: *repeat, UntilDecisive: *untilDecisive, MaxTime: *maxTime, Stop: decisiveStop, Log: stderr}
	if *untilDecisive {
		rounds.N = max(rounds.N, stats.MinRounds(review.Confidence))
		// Said up front: -max-time bounds only the rounds added after these
		// (-max-time 1ns ran six rounds without a word).
		fmt.Fprintf(stderr, "run: -until-decisive: %d rounds first (the fewest a %.0f %% interval needs, whatever -max-time), then a round at a time until every question is decisive or another round would end past -max-time %s\n",
			rounds.N, 100*review.Confidence, *maxTime)
	}
	runErr := scenarios.RunRounds(rctx, cfg, scs, rounds, runRec)
	interrupted := ctx.Err() != nil
	if saveErr != nil {
		if !interrupted && errors.Is(runErr, context.Canceled) {
			runErr = nil // the run stopped because the write failed
		}
		if runErr != nil {
			// One line: why the run stopped, then the write and what the
			// file still holds.
			return fmt.Errorf("run: %w; %w", runErr, saveErr)
		}
		return saveErr
	}
	if runErr != nil && !interrupted && len(runRec.Results) == 0 {
		// Nothing was measured: -out keeps whatever it held (a refused run
		// replaced a finished results.json with an empty, partial one).
		return fmt.Errorf("%w (nothing was written to %s)", runErr, rf.path)
	}
	if err := rf.save(interrupted || runErr != nil); err != nil {
		if runErr != nil {
			return fmt.Errorf("run: %w; %w", runErr, err)
		}
		return err
	}
	if err := printRun(stdout, *format, runRec, rf.path); err != nil {
		return err
	}
	if interrupted {
		return &exitError{code: 130, err: fmt.Errorf("interrupted: partial results written to %s", rf.path)}
	}
	if runErr != nil {
		return fmt.Errorf("run: %w; %s", runErr, heldText(rf.path, runRec))
	}
	return crossedThresholds(scs, runRec)
}

// loadScenarios loads the -scenario names (smoke when none is given) and
// checks that no two share a name.
func loadScenarios(names []string) ([]*scenarios.Scenario, error) {
	if len(names) == 0 {
		names = []string{"smoke"}
	}
	var scs []*scenarios.Scenario
	for _, name := range names {
		sc, err := scenarios.Load(name)
		if err != nil {
			return nil, err
		}
		scs = append(scs, sc)
	}
	if err := scenarios.CheckUnique(scs); err != nil {
		return nil, err
	}
	return scs, nil
}

// resultsFile is a run's results.json: written whole, atomically, each
// time a result is finished and once more when the run ends.
type resultsFile struct {
	run  *results.Run
	path string
	// saved is the results the last good write held.
	saved int
}

// save writes the run, marked partial or not; an error says what the file
// still holds.
func (f *resultsFile) save(partial bool) error {
	f.run.Ended, f.run.Partial = time.Now().UTC(), partial
	if err := f.run.Write(f.path); err != nil {
		return fmt.Errorf("%w; %s", err, keptText(f.path, f.saved))
	}
	f.saved = len(f.run.Results)
	return nil
}

// printRun prints the run on stdout: Go benchmark lines (-format bench),
// or the summary table, the token flows' per-transfer tables and where the
// results are.
func printRun(stdout io.Writer, format string, run *results.Run, path string) error {
	if format == "bench" {
		return results.FormatBench(stdout, run)
	}
	if err := results.WriteSummary(stdout, run); err != nil {
		return err
	}
	if len(run.RealClients) > 0 {
		fmt.Fprintln(stdout)
		if err := results.WriteRealClients(stdout, run); err != nil {
			return err
		}
	}
	// The token flows' per-transfer figures, beside the model's.
	for _, r := range run.Results {
		if r.Op(flows.OpTransfer) == nil {
			continue
		}
		fmt.Fprintln(stdout)
		if err := flows.WriteTable(stdout, r); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nresults: %s\n", path)
	return nil
}

// crossedThresholds is an exit error (code 3) naming every threshold a
// scenario states that the run's results crossed, nil when none is.
func crossedThresholds(scs []*scenarios.Scenario, run *results.Run) error {
	var crossed []string
	for _, sc := range scs {
		cs, err := scenarios.CheckThresholds(sc, run.Results)
		if err != nil {
			return err
		}
		for _, c := range cs {
			crossed = append(crossed, sc.Name+": "+c.String())
		}
	}
	if len(crossed) > 0 {
		return &exitError{code: 3, err: fmt.Errorf("thresholds crossed: %s", strings.Join(crossed, "; "))}
	}
	return nil
}

// decisiveStop is -until-decisive's stop rule (scenarios.Rounds.Stop): it
// stops when every question the results answer is decisive, when no
// pending question can be decided by more rounds (or by as many as fit in
// -max-time), when another round as long as the last would end past
// -max-time, or at the round limit.
func decisiveStop(run *results.Run, st scenarios.RoundState) (bool, string) {
	round, fit, maxTime := st.Round, st.Fit, st.MaxTime
	m, err := review.Evaluate([]*results.Run{run}, review.Options{})
	if err != nil {
		return true, err.Error()
	}
	ok, pending := m.Decisive()
	if ok {
		return true, fmt.Sprintf("every question these results answer is decisive after %d rounds", round)
	}
	hopeless := true
	var parts []string
	for _, a := range m.Questions {
		if !contains(pending, a.ID) {
			continue
		}
		switch n := a.Verdict.RoundsNeeded; {
		case n == 0:
			parts = append(parts, a.ID+" (more rounds would not decide it)")
		case n > fit:
			parts = append(parts, fmt.Sprintf("%s (about %d rounds, more than fit in -max-time %s)", a.ID, n, maxTime))
		default:
			hopeless = false
			parts = append(parts, fmt.Sprintf("%s (about %d rounds)", a.ID, n))
		}
	}
	list := strings.Join(parts, ", ")
	switch {
	case hopeless:
		return true, fmt.Sprintf("stopped after %d rounds, still inconclusive: %s", round, list)
	case st.OutOfTime:
		return true, fmt.Sprintf("stopped after %d rounds at -max-time %s, still inconclusive: %s", round, maxTime, list)
	case st.AtLimit:
		return true, fmt.Sprintf("stopped at the %d-round limit, still inconclusive: %s", round, list)
	}
	return false, fmt.Sprintf("after %d rounds still inconclusive: %s; adding round %d", round, list, round+1)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// findPythonClient returns the Python client script: the flag's value, else
// scripts/cylc_message.py beside the binary's directory or in the working
// directory; "" when none is found (process: python then fails clearly).
func findPythonClient(flagValue, self string) string {
	if flagValue != "" {
		return flagValue
	}
	for _, p := range []string{
		filepath.Join(filepath.Dir(self), "..", "scripts", "cylc_message.py"),
		filepath.Join("scripts", "cylc_message.py"),
	} {
		if _, err := os.Stat(p); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
		}
	}
	return ""
}

// serverLauncher runs each scheme's WFS as `authbench serve` from this
// binary. (AUTHBENCH_AS_MAIN makes a test binary act as authbench; the real
// binary ignores it.)
func serverLauncher(self, cpus string, quota float64) process.ServerLauncher {
	return process.ServerLauncher{Command: []string{self, "serve"}, Env: []string{"AUTHBENCH_AS_MAIN=1"},
		CPUs: cpus, Quota: quota}
}

// prepareLoad splits the CPUs between the WFS processes and this load
// generator, pins this process to its share, and makes a private (0700)
// scratch directory under out for the run directories. unpin restores the
// process's CPU affinity (run is an entry point: a caller in the same
// process, a test say, keeps its CPUs).
func prepareLoad(pin, serverCPUs, clientCPUs, out, workParent string) (split process.CPUSplit, work string, unpin func(), err error) {
	unpin = func() {}
	split, err = process.SplitCPUs(pin, serverCPUs, clientCPUs)
	if err != nil {
		return split, "", unpin, err
	}
	if split.Client != "" {
		orig, err := process.Affinity()
		if err != nil {
			return split, "", unpin, err
		}
		if err := process.Pin(split.Client); err != nil {
			return split, "", unpin, fmt.Errorf("-client-cpus: %w", err)
		}
		unpin = func() { _ = process.Pin(orig) }
	}
	fail := func(flag string, err error) (process.CPUSplit, string, func(), error) {
		unpin()
		return split, "", func() {}, fmt.Errorf("%s: %w", flag, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail("-out", err)
	}
	flag := "-out"
	if workParent != out {
		flag = "-work"
		if err := os.MkdirAll(workParent, 0o755); err != nil {
			return fail(flag, err)
		}
	}
	work, err = os.MkdirTemp(workParent, "work-")
	if err != nil {
		return fail(flag, err)
	}
	if err := os.Chmod(work, 0o700); err != nil {
		_ = os.RemoveAll(work)
		return fail(flag, err)
	}
	return split, work, unpin, nil
}

// heldText says what a run that stopped on an error wrote: path's results,
// the run marked partial.
func heldText(path string, run *results.Run) string {
	n, partial := len(run.Results), 0
	for _, r := range run.Results {
		if r.Partial {
			partial++
		}
	}
	switch {
	case partial == 0:
		return fmt.Sprintf("%s holds the %d result(s) finished before it, the run marked partial", path, n)
	case n == partial:
		return fmt.Sprintf("%s holds no finished result, only the %d cut short, marked partial", path, partial)
	}
	return fmt.Sprintf("%s holds the %d result(s) finished before it and the %d cut short, marked partial", path, n-partial, partial)
}

// keptText says what a failed results write left behind.
func keptText(path string, saved int) string {
	if saved == 0 {
		return "no results were kept"
	}
	return fmt.Sprintf("%s still holds the %d result(s) finished before it", path, saved)
}
