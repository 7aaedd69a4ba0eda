package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authbench/authbench/process"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/flows"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// clientMaxSockets is the in-process clients' ZMQ context socket limit.
const clientMaxSockets = 16384

// maxJobRecorders bounds the recorders a job group's workers share.
const maxJobRecorders = 32

// lateThreshold is how late past its intended time a send may start before
// it is counted as late.
const lateThreshold = time.Millisecond

// Config is one engine run: a scenario over a list of schemes, in one
// round (Run) or in rounds (RunRounds, which sets Scenario to each of its
// scenarios in turn).
type Config struct {
	Scenario *Scenario
	Schemes  []*schemes.Scheme
	// WorkDir is a scratch directory the engine owns; run directories are
	// made under it.
	WorkDir string
	// ServerWorkers is the WFS's worker pool size (0 serves inline).
	ServerWorkers int
	// Server starts each scheme's WFS as a process of its own.
	Server process.ServerLauncher
	// HandshakeProbe, if positive, is how many pings each half of the
	// handshake probe makes after each run's load (reused connection,
	// then fresh ones): the WFS's CPU per handshake.
	HandshakeProbe int
	// Progress receives a progress line every ProgressEvery; nil is quiet.
	Progress      io.Writer
	ProgressEvery time.Duration
	// ClientBinary is the authbench executable, for process-mode clients.
	ClientBinary string
	// PythonClient is scripts/cylc_message.py, for `process: python`.
	PythonClient string
	// Leeway is the token schemes' clock-skew allowance (0: their default).
	Leeway time.Duration
	// ShipRemote makes jobs on install targets without the WFS's file
	// system (shared_fs: false) receive their files over the owner channel
	// at submit (process.JobFiles) and read them from this loader's own copy, as a
	// remote host does; otherwise every job reads the run directory.
	// Drive (authbench load) sets it.
	ShipRemote bool
	// JobPrefix starts every job's task name, so that loaders sharing one
	// WFS (authbench load -shard) never submit the same job.
	JobPrefix string
	// OnResult, if set, is called after each (scheme, round) completes.
	OnResult func(*results.Result)
	// RealClient, if set, runs the scenario's cylc_jobs (a real client
	// against a real scheduler) once a round; OnRealClients, if set, is
	// handed each round's processes.
	RealClient    *RealClient
	OnRealClients func(*results.RealClients)
	// FS, if set, is the file-system latency model the WFS's and the
	// clients' file layers apply, over the scenario's own (fs:).
	FS *wfs.FSModel
}

// Run runs the scenario once for every scheme: one round. On cancellation
// it returns the results finished so far (and the interrupted one,
// partial) with ctx's error.
func Run(ctx context.Context, cfg Config) ([]*results.Result, error) {
	return runRound(ctx, cfg, 1, 1)
}

// runRound runs round round (of the rounds planned so far) of
// cfg.Scenario: every scheme once, in the round's random order (seeded by
// the scenario's seed and the round, RoundOrder), so that no scheme always
// follows another or always runs first on a cold machine. Each result is
// handed to cfg.OnResult as it is finished. On cancellation it returns the
// results finished so far (and the interrupted one, partial) with ctx's
// error.
func runRound(ctx context.Context, cfg Config, round, of int) ([]*results.Result, error) {
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	if t := cfg.Scenario.Together; t != nil && (len(cfg.Schemes) > 1 || realArm(cfg)) {
		return runTogether(ctx, cfg, round, of, t.Stagger.D())
	}
	var out []*results.Result
	n := len(cfg.Schemes)
	if realArm(cfg) {
		n++
	}
	for i, k := range RoundOrder(cfg.Scenario.Seed, round, n) {
		if k == len(cfg.Schemes) {
			rc := runCylcJobs(ctx, cfg, round)
			rc.Position = i + 1
			if cfg.OnRealClients != nil {
				cfg.OnRealClients(rc)
			}
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			continue
		}
		sc := cfg.Schemes[k]
		label := fmt.Sprintf("%s %s (scheme %d of %d, round %d of %d)", cfg.Scenario.Name, sc.Name(), i+1, len(cfg.Schemes), round, of)
		r, err := runOne(ctx, cfg, sc, round, label)
		if r != nil {
			r.Position = i + 1
			out = append(out, r)
			if cfg.OnResult != nil {
				cfg.OnResult(r)
			}
		}
		if err != nil {
			return out, err
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// runTogether runs round round of cfg.Scenario with every scheme at once,
// each against its own WFS (scenario together:): the scheme at place i of
// the round's random order starts i×stagger after the first. Results are
// handed to cfg.OnResult in that order once all have finished, each
// recording how many ran at once. The first error is returned, with every
// result finished.
func runTogether(ctx context.Context, cfg Config, round, of int, stagger time.Duration) ([]*results.Result, error) {
	n := len(cfg.Schemes)
	if realArm(cfg) {
		n++
	}
	order := RoundOrder(cfg.Scenario.Seed, round, n)
	rs := make([]*results.Result, len(order))
	errs := make([]error, len(order))
	var real *results.RealClients
	var wg sync.WaitGroup
	for i, k := range order {
		if k == len(cfg.Schemes) {
			// The real client's job group: a place of its own in the
			// round, started at its stagger like a scheme.
			wg.Add(1)
			go func() {
				defer wg.Done()
				if sleepCtx(ctx, time.Duration(i)*stagger) {
					real = runCylcJobs(ctx, cfg, round)
					real.Position, real.Together = i+1, len(order)
				}
			}()
			continue
		}
		sc := cfg.Schemes[k]
		label := fmt.Sprintf("%s %s (scheme %d of %d at once, round %d of %d)", cfg.Scenario.Name, sc.Name(), i+1, len(cfg.Schemes), round, of)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := time.Duration(i) * stagger; d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					errs[i] = ctx.Err()
					return
				case <-t.C:
				}
			}
			rs[i], errs[i] = runOne(ctx, cfg, sc, round, label)
		}()
	}
	wg.Wait()
	if real != nil && cfg.OnRealClients != nil {
		cfg.OnRealClients(real)
	}
	var out []*results.Result
	for i, r := range rs {
		if r == nil {
			continue
		}
		r.Position, r.Together = i+1, len(order)
		out = append(out, r)
		if cfg.OnResult != nil {
			cfg.OnResult(r)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	return out, ctx.Err()
}

// RoundOrder is the order the n schemes run in, in a round: a permutation
// drawn from the scenario's seed and the round number, so a run is
// reproducible and every round is shuffled afresh.
func RoundOrder(seed int64, round, n int) []int {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(round)))
	return rng.Perm(n)
}

// runner is one (scheme, round) run.
type runner struct {
	cfg    Config
	sc     *Scenario
	scheme *schemes.Scheme
	// abort is the run's own context, which ends only when the run is
	// abandoned (a signal, a failed write), not when its load ends. A
	// request in flight when the load ends is drained under it, so that it
	// completes; on a signal it is cut at once, whatever its scheme is
	// waiting for (a TOTP code a step away held a drained request, and the
	// run, for up to 118 s after SIGINT: issue 24 #2).
	abort context.Context
	// run is the run directory as the clients see it (the WFS process owns
	// it; the clients' file operations are counted in their own layer).
	run *wfs.RunDir
	srv *process.WFSProcess
	// model is the WFS's serving model: job messages are sent as its
	// clients send them.
	model    wfs.Model
	zctx     *zmq.Context
	workflow string
	// statusFiles counts the job clients' own job.status appends (no
	// fsync), made against the cylc model.
	statusFiles *wfs.Files
	start       time.Time
	warmEnd     time.Time
	deadline    time.Time
	prog        *progress
	stateDir    string
	series      *seriesRecorder
	// diskFull stops the load on the first failure that is a full file
	// system (recorder.full).
	diskFull func(error)

	mu   sync.Mutex
	recs []*recorder
	// shipMu guards remoteInit: the targets whose remote-init files this
	// loader has installed (Config.ShipRemote).
	shipMu     sync.Mutex
	remoteInit map[string]bool
	jobs       atomic.Int64
	cmds       atomic.Int64
}

func (r *runner) recorder() *recorder {
	rec := newRecorder(r.warmEnd, r.prog)
	rec.series, rec.full = r.series, r.diskFull
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	return rec
}

func safeName(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			return c
		}
		return '_'
	}, s)
}

// runOne starts the scheme's WFS as a process of its own, drives the
// scenario's clients against it from this process, and collects both
// sides' figures: the clients' latencies and CPU here, the WFS's whole CPU
// and counters from its control channel.
func runOne(ctx context.Context, cfg Config, scheme *schemes.Scheme, round int, label string) (*results.Result, error) {
	sc := cfg.Scenario
	if sc.WLCG != nil {
		return runFlow(ctx, cfg, scheme, round, label)
	}
	root := filepath.Join(cfg.WorkDir, fmt.Sprintf("%s-%s-r%d", safeName(sc.Name), safeName(scheme.Name()), round))
	ss, err := openSession(ctx, cfg, scheme, root, "authbench-"+safeName(sc.Name), sc.Server)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
	}
	res, runErr := ss.measure(ctx, sc, label)
	// The handshake probe runs after the load (its requests and files are
	// kept out of the run's figures), unless the run failed or was cut.
	var probeFiles []counters.FileStats
	// Only where the model says it measures a handshake: not under cylc,
	// where sequential pings span its drain-and-sleep wakes, whose CPU
	// swamps a handshake's.
	if cfg.HandshakeProbe > 0 && ss.model.HandshakeProbe() && runErr == nil && ctx.Err() == nil && res != nil && res.ServerProcess != nil {
		probe, pf, err := ss.probeHandshake(ctx, cfg.HandshakeProbe)
		if err != nil {
			runErr = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
		}
		res.ServerProcess.Handshake, probeFiles = probe, pf
	}
	final, closeErr := ss.close()
	if res != nil {
		res.Round = round
		res.Files = addFiles(final, ss.files.Stats(), ss.statusFiles.Stats())
		for _, pf := range probeFiles {
			res.Files = res.Files.Sub(pf)
		}
	}
	return res, errors.Join(runErr, closeErr)
}

// canRun refuses a scheme a scenario cannot run: a WLCG token flow needs
// the wlcg credential, whose tokens it issues.
func canRun(sc *Scenario, scheme *schemes.Scheme) error {
	if sc.WLCG != nil && scheme.Spec().Credential != "wlcg" {
		return fmt.Errorf("scenario %s runs WLCG token flows: use -schemes wlcg (not %s)", sc.Name, scheme.Name())
	}
	return nil
}

// runFlow runs a scenario's WLCG token flow (package flows: an issuer and
// two storage elements in this process, no WFS) for a scheme with the
// wlcg credential, whose algorithm the issuer signs with. Its per-transfer
// figures are printed with the progress lines.
func runFlow(ctx context.Context, cfg Config, scheme *schemes.Scheme, round int, label string) (*results.Result, error) {
	sc := cfg.Scenario
	spec := scheme.Spec()
	if err := canRun(sc, scheme); err != nil {
		return nil, err
	}
	fc := sc.WLCG.FlowConfig(sc.Seed, sc.Duration.D())
	fc.Alg, fc.Leeway = spec.Alg, cfg.Leeway
	prog := &progress{}
	fc.OnTransfer = func(err error) {
		if err != nil {
			prog.errs.Add(1)
		} else {
			prog.ops.Add(1)
		}
	}
	start := time.Now()
	var deadline time.Time
	if sc.Duration > 0 {
		deadline = start.Add(sc.Duration.D())
	}
	stopProg := prog.start(cfg.Progress, cfg.ProgressEvery, label, start, deadline)
	res, err := flows.Run(ctx, fc)
	stopProg()
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil // the result is marked partial; Run returns ctx's error
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
	}
	if res == nil {
		return nil, err
	}
	claims := scheme.Claims()
	res.Scenario, res.ScenarioSource, res.ScenarioHash = sc.Name, sc.Source, sc.Hash
	res.Scheme, res.Canonical, res.Spec, res.Claims = scheme.Name(), spec.Canonical(), &spec, &claims
	res.Budgets, res.BudgetSources, res.Round = budgetsOf(sc), budgetSourcesOf(sc), round
	res.BudgetShares = budgetSharesOf(sc)
	if cfg.Progress != nil {
		if werr := flows.WriteTable(cfg.Progress, res); werr != nil {
			err = errors.Join(err, werr)
		}
	}
	return res, err
}

func cpuSeconds(ru syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// drive runs every client group of the scenario until each is done or ctx
// ends (docs/design.md section 5: a run ends when every group is done or the duration is
// reached; one group finishing early never cuts the others short). Groups
// with a natural end (a job group, a CLI count or ramp) end on their own;
// open-ended groups (a CLI at a rate with no count, the UI pollers) run to
// the scenario's duration. A scenario with no duration is bounded by its
// counted groups alone, so its open-ended groups stop when those are done.
func (r *runner) drive(ctx context.Context) {
	var wg sync.WaitGroup
	others, stopOthers := context.WithCancel(ctx)
	defer stopOthers()
	openEnded := ctx
	if r.sc.Duration <= 0 {
		openEnded = others
	}
	var bwg sync.WaitGroup // open-ended groups
	if c := r.sc.CLI; c != nil {
		background := r.sc.Job != nil && c.Count == 0 && len(c.Stages) == 0
		if background {
			bwg.Add(1)
			go func() { defer bwg.Done(); r.cli(openEnded) }()
		} else {
			wg.Add(1)
			go func() { defer wg.Done(); r.cli(ctx) }()
		}
	}
	if r.sc.Job != nil {
		wg.Add(1)
		go func() { defer wg.Done(); r.jobGroup(ctx) }()
	}
	var uwg sync.WaitGroup
	if r.sc.UIS != nil {
		uisCtx := ctx
		if r.sc.CLI != nil || r.sc.Job != nil {
			uisCtx = openEnded
		}
		for i := 0; i < r.sc.UIS.Pollers; i++ {
			uwg.Add(1)
			go func() { defer uwg.Done(); r.uis(uisCtx, i) }()
		}
	}
	wg.Wait()
	stopOthers()
	bwg.Wait()
	uwg.Wait()
}

// hostname is used in environment records.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
