package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	zmq "github.com/pebbe/zmq4"
)

// clientMaxSockets is the in-process clients' ZMQ context socket limit.
const clientMaxSockets = 16384

// maxJobRecorders bounds the recorders a job group's workers share.
const maxJobRecorders = 32

// lateThreshold is how late past its intended time a send may start before
// it is counted as late.
const lateThreshold = time.Millisecond

// Config is one engine run: a scenario over a list of schemes.
type Config struct {
	Scenario *Scenario
	Schemes  []*schemes.Scheme
	// Repeat runs every scheme Repeat times, interleaved (A B C A B C ...).
	Repeat int
	// WorkDir is a scratch directory the engine owns; run directories are
	// made under it.
	WorkDir string
	// ServerWorkers is the WFS's worker pool size (0 serves inline).
	ServerWorkers int
	// Server starts each scheme's WFS as a process of its own.
	Server ServerLauncher
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
	// OnResult, if set, is called after each (scheme, round) completes.
	OnResult func(*results.Result)
}

// Run runs the scenario for every scheme and round. On cancellation it
// returns the results finished so far (and the interrupted one, partial)
// with ctx's error.
func Run(ctx context.Context, cfg Config) ([]*results.Result, error) {
	if cfg.Repeat <= 0 {
		cfg.Repeat = 1
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	var out []*results.Result
	for round := 1; round <= cfg.Repeat; round++ {
		for i, sc := range cfg.Schemes {
			label := fmt.Sprintf("%s %s (scheme %d of %d, round %d of %d)", cfg.Scenario.Name, sc.Name(), i+1, len(cfg.Schemes), round, cfg.Repeat)
			r, err := runOne(ctx, cfg, sc, round, label)
			if r != nil {
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
	}
	return out, nil
}

// runner is one (scheme, round) run.
type runner struct {
	cfg    Config
	sc     *Scenario
	scheme *schemes.Scheme
	// run is the run directory as the clients see it (the WFS process owns
	// it; the clients' file operations are counted in their own layer).
	run      *wfs.RunDir
	srv      *serverProcess
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

	mu   sync.Mutex
	recs []*recorder
	jobs atomic.Int64
	cmds atomic.Int64
}

func (r *runner) recorder() *recorder {
	rec := newRecorder(r.warmEnd, r.prog)
	rec.series = r.series
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
	root := filepath.Join(cfg.WorkDir, fmt.Sprintf("%s-%s-r%d", safeName(sc.Name), safeName(scheme.Name()), round))
	ss, err := openSession(ctx, cfg, scheme, root, "authbench-"+safeName(sc.Name), sc.Server)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
	}
	res, runErr := ss.measure(ctx, sc, label)
	// The handshake probe runs after the load (its requests and files are
	// kept out of the run's figures), unless the run failed or was cut.
	var probeFiles []wfs.FileStats
	if cfg.HandshakeProbe > 0 && runErr == nil && ctx.Err() == nil && res != nil && res.ServerProcess != nil {
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
			res.Files = subtractFiles(res.Files, pf)
		}
	}
	return res, errors.Join(runErr, closeErr)
}

// session is one scheme's WFS process and the client side that drives it:
// one per engine run, or one for a whole capacity search.
type session struct {
	cfg      Config
	scheme   *schemes.Scheme
	files    *wfs.Files // the clients' counted file layer
	run      *wfs.RunDir
	stateDir string
	statsOut string
	srv      *serverProcess
	zctx     *zmq.Context
	workflow string
	// statusFiles is the job clients' layer for their own job.status
	// appends (cylc model): counted, never fsynced, as cylc message does.
	statusFiles *wfs.Files
	last        ServerReport
	// idle is the WFS's CPU share with no load (measureIdle), 0 if not
	// measured.
	idle float64
}

// openSession makes root (the run directory, the clients' state) and
// starts the scheme's WFS process for workflow.
func openSession(ctx context.Context, cfg Config, scheme *schemes.Scheme, root, workflow string, model *ServerModel) (*session, error) {
	files := wfs.NewFiles(true)
	if err := files.MkdirAll(root); err != nil {
		return nil, err
	}
	ss := &session{cfg: cfg, scheme: scheme, files: files, stateDir: filepath.Join(root, "client-state"),
		statsOut: filepath.Join(root, "wfs-stats.json"), workflow: workflow, statusFiles: wfs.NewFiles(false)}
	if err := files.MkdirAll(ss.stateDir); err != nil {
		return nil, err
	}
	runRoot := filepath.Join(root, "run")
	ss.run = &wfs.RunDir{Root: runRoot, Files: files}
	scfg := ServeConfig{Scheme: scheme, RunDir: runRoot, Workflow: workflow,
		Workers: cfg.ServerWorkers, Leeway: cfg.Leeway, StatsOut: ss.statsOut}
	if model != nil {
		scfg.Model = model.Model
		if model.ServiceCPU != nil {
			scfg.ServiceCPU = model.ServiceCPU.D()
			if scfg.ServiceCPU == 0 {
				scfg.ServiceCPU = -1 // none, explicitly
			}
		}
	}
	srv, err := cfg.Server.start(ctx, scfg)
	if err != nil {
		return nil, err
	}
	ss.srv = srv
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("client zmq context: %w", err), srv.stop())
	}
	// Hundreds of in-process clients, each a fresh REQ socket and its
	// monitor, open and close sockets faster than libzmq's reaper retires
	// them under load: lift the default limit of 1023 sockets per context
	// so a busy run does not fail with "too many open files".
	if err := zctx.SetMaxSockets(clientMaxSockets); err != nil {
		_ = zctx.Term()
		return nil, errors.Join(fmt.Errorf("client zmq context: max sockets: %w", err), srv.stop())
	}
	ss.zctx = zctx
	return ss, nil
}

// close stops the WFS process and returns its file operations as its final
// report (written at its exit) gives them: those of its shutdown included.
func (ss *session) close() (wfs.FileStats, error) {
	err := ss.srv.stop()
	_ = ss.zctx.Term()
	final := ss.last.Files
	if b, rerr := os.ReadFile(ss.statsOut); rerr == nil {
		_ = os.Remove(ss.statsOut)
		var f ServerReport
		if json.Unmarshal(b, &f) == nil {
			final = f.Files
		}
	}
	return final, err
}

// measure drives sc once against the session's WFS: the clients' figures
// from this process, the WFS's cost over the window after the warm-up from
// its own reports. The result's Files are left to the caller.
func (ss *session) measure(ctx context.Context, sc *Scenario, label string) (*results.Result, error) {
	cfg, scheme, srv := ss.cfg, ss.scheme, ss.srv
	r := &runner{cfg: cfg, sc: sc, scheme: scheme, run: ss.run, srv: srv, zctx: ss.zctx, workflow: ss.workflow,
		statusFiles: ss.statusFiles, prog: &progress{}, stateDir: ss.stateDir}
	s0, err := srv.stats(ctx)
	if err != nil {
		return nil, err
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	// Process-mode clients (authbench client, Python) are children: their
	// CPU counts with the clients'.
	var ch0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch0)
	r.start = time.Now()
	r.warmEnd = r.start.Add(sc.Warmup.D())
	if sc.Duration > 0 {
		r.deadline = r.start.Add(sc.Warmup.D() + sc.Duration.D())
	}
	r.series = newSeriesRecorder(r.start, sc.Warmup.D()+sc.Duration.D())
	loadCtx, cancelLoad := context.WithCancelCause(ctx)
	if !r.deadline.IsZero() {
		var cancel context.CancelFunc
		loadCtx, cancel = context.WithDeadline(loadCtx, r.deadline)
		defer cancel()
	}
	// The window the WFS's cost is measured over starts when the warm-up
	// ends; a WFS process that dies ends the run at once.
	warm := s0
	warmTaken := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		var warmC <-chan time.Time
		if sc.Warmup > 0 {
			t := time.NewTimer(sc.Warmup.D())
			defer t.Stop()
			warmC = t.C
		} else {
			close(warmTaken)
		}
		for {
			select {
			case <-warmC:
				if s, err := srv.stats(loadCtx); err == nil {
					warm = s
				}
				close(warmTaken)
				warmC = nil
			case <-srv.exited:
				cancelLoad(srv.exitError())
				return
			case <-loadCtx.Done():
				return
			}
		}
	}()
	stopProg := r.prog.start(cfg.Progress, cfg.ProgressEvery, label, r.start, r.deadline)

	sampleCtx, stopSampling := context.WithCancel(loadCtx)
	cpuSeries := make(chan *results.ServerCPUSeries, 1)
	go func() { cpuSeries <- sampleServerCPU(sampleCtx, srv, s0, r.series.interval) }()
	r.drive(loadCtx)
	stopSampling()
	end := time.Now()
	stopProg()
	died := context.Cause(loadCtx)
	cancelLoad(nil)
	<-watchDone

	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	var ch1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch1)
	var runErr error
	s1, err := srv.stats(context.WithoutCancel(ctx))
	if err != nil {
		runErr = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
		s1 = warm
	}
	select {
	case <-warmTaken:
	default: // the run ended inside its warm-up
		warm = s0
	}
	if died != nil && !srv.alive() {
		runErr = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), died)
	}
	ss.last = s1

	ops, added := merge(r.recs)
	if sc.CLI != nil {
		for _, o := range ops {
			if o.Name == OpCLICommand {
				o.Asked = askedRate(cliPacer(sc.CLI), end.Sub(r.start))
			}
		}
	}
	dur := end.Sub(r.warmEnd)
	if dur < 0 {
		dur = 0
	}
	res := &results.Result{
		Scenario: sc.Name, ScenarioSource: sc.Source, ScenarioHash: sc.Hash,
		Scheme: scheme.Name(), Canonical: scheme.Spec().Canonical(),
		Duration: dur, Ops: ops, Jobs: r.jobs.Load(), Commands: r.cmds.Load(),
		CPU:           cpuSeconds(ru1) - cpuSeconds(ru0) + cpuSeconds(ch1) - cpuSeconds(ch0),
		PeakRSSKB:     ru1.Maxrss,
		BytesAdded:    added,
		Server:        serverStats(s1.Server, s1.Overload),
		ServerProcess: serverProcessResult(warm, s1, cfg.Server, connectionOf(sc)),
		Series:        r.series.result(),
		SchemeStats:   s1.Scheme,
		ServerModel:   s1.Model,
		ClosedLoop:    closedLoop(sc),
		ServerCPU:     <-cpuSeries,
	}
	if s1.Model == wfs.ModelCylc {
		res.ServerModelStats = cylcStats(s1.Cylc)
	}
	if srv.quota != nil {
		res.ServerProcess.Throttled = srv.quota.throttled()
	}
	if ctx.Err() != nil || runErr != nil {
		res.Partial = true
	}
	return res, runErr
}

// sampleServerCPU asks the WFS for its CPU every interval from the start
// of the run (warm-up included) until ctx ends: its CPU share and requests
// per interval, for the over-time plots. At most maxPoints intervals.
func sampleServerCPU(ctx context.Context, srv *serverProcess, from ServerReport, interval time.Duration) *results.ServerCPUSeries {
	out := &results.ServerCPUSeries{Interval: interval}
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := from
	for len(out.Share) < maxPoints {
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		cur, err := srv.stats(ctx)
		if err != nil {
			return out
		}
		if w := cur.At.Sub(prev.At).Seconds(); w > 0 {
			out.Share = append(out.Share, (cur.CPUSeconds()-prev.CPUSeconds())/w)
			out.Requests = append(out.Requests, cur.Server.Requests-prev.Server.Requests)
		}
		prev = cur
	}
	return out
}

// serverStats converts the WFS's counters to the results model.
func serverStats(s wfs.ServerStats, o wfs.OverloadStats) results.ServerStats {
	return results.ServerStats{Requests: s.Requests, OK: s.OK, Rejected: s.Rejected, Protocol: s.Protocol,
		Unknown: s.Unknown, Internal: s.Internal, Malformed: s.Malformed, Shed: o.Shed,
		DroppedReplies: o.DroppedReplies, CPUSeconds: s.CPUSeconds}
}

// addFiles sums file layers' operations: the WFS's and the clients'. Peak
// live files are summed too: an upper bound, as the peaks need not
// coincide.
func addFiles(fs ...wfs.FileStats) results.FileStats {
	var o results.FileStats
	for _, a := range fs {
		o.Created += a.Created
		o.Written += a.Written
		o.Appended += a.Appended
		o.Read += a.Read
		o.Deleted += a.Deleted
		o.Renamed += a.Renamed
		o.Fsyncs += a.Fsyncs
		o.Live += a.Live
		o.PeakLive += a.PeakLive
	}
	return o
}

// subtractFiles takes d's counts (not peak live files) out of f.
func subtractFiles(f results.FileStats, d wfs.FileStats) results.FileStats {
	f.Created -= d.Created
	f.Written -= d.Written
	f.Appended -= d.Appended
	f.Read -= d.Read
	f.Deleted -= d.Deleted
	f.Renamed -= d.Renamed
	f.Fsyncs -= d.Fsyncs
	f.Live -= d.Live
	return f
}

// serverProcessResult is the WFS process's cost between two of its reports.
func serverProcessResult(a, b ServerReport, l ServerLauncher, conn string) *results.ServerProcess {
	return &results.ServerProcess{
		PID: b.PID, CPUs: b.CPUs, Quota: l.Quota, Window: b.At.Sub(a.At),
		UserSeconds: b.UserSeconds - a.UserSeconds, SysSeconds: b.SysSeconds - a.SysSeconds,
		Requests: b.Server.Requests - a.Server.Requests, MaxRSSKB: b.MaxRSSKB, Threads: b.Threads,
		Connection: conn,
	}
}

// closedLoop names sc's client groups that run closed loop: a CLI group
// with no pacer, a job group with neither a rate nor cycle points.
func closedLoop(sc *Scenario) []string {
	var out []string
	if sc.CLI != nil && cliPacer(sc.CLI) == nil {
		out = append(out, "cli")
	}
	if sc.Job != nil && sc.Job.Rate <= 0 && sc.Job.CyclePoints == 0 {
		out = append(out, "job")
	}
	return out
}

// cylcStats turns the cylc model's counters into results' figures.
func cylcStats(c wfs.CylcStats) map[string]float64 {
	return map[string]float64{
		"wakes": float64(c.Wakes), "drains": float64(c.Drains), "max_drain": float64(c.MaxDrain),
		"drains_capped": float64(c.DrainsCapped), "main_loops": float64(c.MainLoops),
		"messages_queued": float64(c.MessagesQueued), "messages_processed": float64(c.MessagesProcessed),
		"messages_shed": float64(c.MessagesShed), "queue_peak": float64(c.QueuePeak),
	}
}

// connectionOf says how a scenario's clients connect: every job message
// and process-mode command is a fresh connection, as is a CLI command
// unless the group reuses one; UI servers keep theirs.
func connectionOf(sc *Scenario) string {
	kinds := map[string]bool{}
	if sc.CLI != nil {
		if sc.CLI.Connection == "reuse" {
			kinds["reuse"] = true
		} else {
			kinds["fresh"] = true
		}
	}
	if sc.Job != nil {
		kinds["fresh"] = true
	}
	if sc.UIS != nil {
		kinds["reuse"] = true
	}
	if len(kinds) > 1 {
		return "mixed"
	}
	for k := range kinds {
		return k
	}
	return ""
}

func cpuSeconds(ru syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// drive runs every client group of the scenario until each is done or ctx
// ends (DESIGN.md: a run ends when every group is done or the duration is
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

// mixer picks CLI commands by weight, deterministically from the seed.
type mixer struct {
	cmds    []string
	weights []int
	total   int
}

func newMixer(mix map[string]int) *mixer {
	m := &mixer{}
	if len(mix) == 0 {
		mix = map[string]int{wfs.CmdPing: 1}
	}
	for c := range mix {
		m.cmds = append(m.cmds, c)
	}
	sort.Strings(m.cmds)
	for _, c := range m.cmds {
		m.weights = append(m.weights, mix[c])
		m.total += mix[c]
	}
	return m
}

func (m *mixer) pick(rng *rand.Rand) string {
	n := rng.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.cmds[i]
		}
		n -= w
	}
	return m.cmds[len(m.cmds)-1]
}

type hit struct {
	n        uint64
	intended time.Time
}

// cli drives the CLI group: open loop at a rate (latency from the intended
// send time) or closed loop with a concurrency.
func (r *runner) cli(ctx context.Context) {
	g := r.sc.CLI
	mix := newMixer(g.Mix)
	pacer := cliPacerSeeded(g, r.sc.Seed)
	workers := g.Concurrency
	if workers <= 0 {
		workers = 32
	}
	fresh := g.Connection != "reuse"
	var sent atomic.Int64
	count := int64(g.Count)
	hits := make(chan hit, 4096)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		rec := r.recorder()
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cw := &cliWorker{r: r, rec: rec, fresh: fresh, user: fmt.Sprintf("user%d", w%max(1, g.Users))}
			defer cw.close()
			if pacer != nil {
				for h := range hits {
					now := time.Now()
					if now.Sub(h.intended) > lateThreshold {
						rec.late(OpCLICommand)
					}
					rec.ok(OpCLISendLag, h.intended, h.intended, now)
					cw.command(context.WithoutCancel(ctx), mix.pick(rng), h.intended, now)
				}
				return
			}
			for ctx.Err() == nil {
				if count > 0 && sent.Add(1) > count {
					return
				}
				now := time.Now()
				cw.command(context.WithoutCancel(ctx), mix.pick(rng), now, now)
			}
		}()
	}
	if pacer != nil {
		r.dispatch(ctx, pacer, count, hits, OpCLICommand)
	}
	close(hits)
	wg.Wait()
}

// dispatch sends intended send times to the workers as the pacer asks; when
// the queue is full the hit is dropped and counted.
func (r *runner) dispatch(ctx context.Context, p Pacer, count int64, out chan<- hit, op string) {
	rec := r.recorder()
	start := time.Now()
	var n uint64
	for ctx.Err() == nil {
		if count > 0 && int64(n) >= count {
			return
		}
		elapsed := time.Since(start)
		wait, stop := p.Pace(elapsed, n)
		if stop {
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		intended := start.Add(elapsed + wait)
		select {
		case out <- hit{n: n, intended: intended}:
		default:
			rec.dropped(op)
		}
		n++
	}
}

// cliWorker runs CLI commands, each as a fresh CLI process would: load the
// credential, connect (fresh, or reuse the worker's connection), one round
// trip.
type cliWorker struct {
	r     *runner
	rec   *recorder
	fresh bool
	user  string
	zc    *wfs.Client
	cl    *schemes.Client
}

func (w *cliWorker) close() {
	if w.zc != nil {
		w.zc.Close()
	}
	if w.cl != nil {
		_ = w.cl.Close()
	}
}

func (w *cliWorker) command(ctx context.Context, cmd string, intended, start time.Time) {
	r := w.r
	r.cmds.Add(1)
	err := w.commandErr(ctx, cmd)
	end := time.Now()
	if err != nil {
		w.rec.fail(OpCLICommand, intended, err)
		return
	}
	w.rec.ok(OpCLICommand, intended, start, end)
}

func (w *cliWorker) commandErr(ctx context.Context, cmd string) error {
	r := w.r
	if r.sc.CLI.Process.Mode() == "python" {
		t0 := time.Now()
		rep, err := r.pythonRequest(ctx, schemes.KindCLI, w.user, "", "--command", cmd)
		recordPython(w.rec, rep, t0, err, OpCLIProcess, OpCLIInterp, OpCLIHandshake, OpCLIRoundTrip)
		return err
	}
	if r.sc.CLI.Process.Mode() == "go" {
		t0 := time.Now()
		rep, err := r.processRequest(ctx, "-kind", "cli", "-id", w.user, "-command", cmd)
		w.recordProcess(rep, t0, err, OpCLIProcess, OpCLIAcquire, OpCLIHandshake, OpCLIRoundTrip)
		return err
	}
	if w.fresh || w.cl == nil {
		if w.cl != nil {
			_ = w.cl.Close()
		}
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.contact, Kind: schemes.KindCLI,
			Identity: w.user, StateDir: r.stateDir})
		if err != nil {
			return err
		}
		w.cl = cl
		if w.zc != nil {
			w.zc.Close()
		}
		w.zc = wfs.NewClient(r.zctx, r.srv.endpoint, wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
		t0 := time.Now()
		if _, err := w.zc.Handshake(ctx); err != nil {
			w.rec.fail(OpCLIHandshake, t0, err)
			return err
		}
		w.rec.ok(OpCLIHandshake, t0, t0, time.Now())
	}
	body, err := wfs.EncodeRequest(cmd, nil, wfs.Meta{Prog: "cylc-" + cmd, Host: "localhost", CommsMethod: "zmq"})
	if err != nil {
		return err
	}
	return exchange(ctx, w.rec, w.cl, w.zc, body, OpCLIAcquire, OpCLIRoundTrip)
}

// recordProcess records a client process's wall time and the ops it timed
// itself.
func (w *cliWorker) recordProcess(rep ClientReport, t0 time.Time, err error, opProc, opAcq, opHS, opRT string) {
	recordProcess(w.rec, rep, t0, err, opProc, opAcq, opHS, opRT)
}

func recordProcess(rec *recorder, rep ClientReport, t0 time.Time, err error, opProc, opAcq, opHS, opRT string) {
	end := time.Now()
	if err != nil {
		rec.fail(opProc, t0, err)
		return
	}
	rec.ok(opProc, t0, t0, end)
	at := func(op string, ns int64) {
		if ns > 0 {
			rec.ok(op, t0, t0, t0.Add(time.Duration(ns)))
		}
	}
	at(opAcq, rep.AcquireNS)
	at(opHS, rep.HandshakeNS)
	at(opRT, rep.RoundTripNS)
	rec.added(rep.BytesAdded)
}

// exchange is one credentialed request (schemes.Request), recorded: the
// acquisition when the scheme acquired one, the round trip, bytes added.
func exchange(ctx context.Context, rec *recorder, cl *schemes.Client, zc *wfs.Client, body []byte, opAcquire, opRT string) error {
	a0 := time.Now()
	x, err := schemes.Request(ctx, cl, zc, body)
	switch x.Stage {
	case "acquire":
		rec.fail(opAcquire, a0, err)
		return err
	case "wrap":
		return err
	}
	if x.Acquired {
		rec.ok(opAcquire, a0, a0, a0.Add(x.Acquire))
	}
	rec.added(x.BytesAdded)
	t0 := time.Now().Add(-x.RoundTrip)
	if x.Stage == "round_trip" {
		rec.fail(opRT, t0, err)
		return err
	}
	rec.ok(opRT, t0, t0, t0.Add(x.RoundTrip))
	return err
}

// jobGroup submits jobs, at most Concurrency running at once.
func (r *runner) jobGroup(ctx context.Context) {
	g := r.sc.Job
	ids := make(chan jobHit)
	var wg sync.WaitGroup
	shared := make([]*recorder, min(g.Concurrency, maxJobRecorders))
	for i := range shared {
		shared[i] = r.recorder()
	}
	for w := 0; w < g.Concurrency; w++ {
		rec := shared[w%len(shared)]
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(1000+w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range ids {
				// How far behind its arrival time the job started: the
				// load generator's own lag (all workers busy, or itself
				// short of CPU).
				if h.paced {
					rec.ok(OpJobSendLag, h.intended, h.intended, time.Now())
				}
				r.job(ctx, rec, rng, h)
			}
		}()
	}
	defer func() { close(ids); wg.Wait() }()
	pacer := jobPacer(g, r.sc.Seed)
	start := time.Now()
	for i := 0; i < g.Jobs() && ctx.Err() == nil; i++ {
		if g.CyclePoints > 0 && i > 0 && i%g.TasksPerCycle == 0 {
			// The next cycle point's tasks are all submitted at its time.
			due := start.Add(time.Duration(i/g.TasksPerCycle) * g.CycleInterval.D())
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		if pacer != nil {
			if wait, _ := pacer.Pace(time.Since(start), uint64(i)); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		select {
		case ids <- jobHit{i: i, intended: r.arrival(start, pacer, i), paced: pacer != nil}:
		case <-ctx.Done():
			return
		}
	}
}

func (r *runner) target(rng *rand.Rand) string {
	ts := r.sc.Job.Targets
	if len(ts) == 0 {
		return "localhost"
	}
	total := 0.0
	for _, t := range ts {
		total += t.Share
	}
	x := rng.Float64() * total
	for _, t := range ts {
		if x < t.Share {
			return t.Name
		}
		x -= t.Share
	}
	return ts[len(ts)-1].Name
}

// job runs one job: submit (the WFS writes the job script and mints
// credentials), its messages (each a fresh client, as `cylc message` is),
// then job end (credentials revoked).
// jobHit is one job's arrival: its index and when it was due.
type jobHit struct {
	i        int
	intended time.Time
	paced    bool
}

// arrival is when job i was due: its pacer's time when the group is paced
// (open loop), else now (jobs start as fast as concurrency allows).
func (r *runner) arrival(start time.Time, p Pacer, i int) time.Time {
	now := time.Now()
	if p == nil {
		return now
	}
	wait, _ := p.Pace(now.Sub(start), uint64(i))
	return now.Add(wait)
}

func (r *runner) job(ctx context.Context, rec *recorder, rng *rand.Rand, h jobHit) {
	i := h.i
	g := r.sc.Job
	cycle := 1
	if g.CyclePoints > 0 {
		cycle = 1 + i/g.TasksPerCycle
	}
	id := wfs.JobID{Cycle: fmt.Sprint(cycle), Task: fmt.Sprintf("t%05d", i), Submit: 1}
	target := r.target(rng)
	now := time.Now()
	// The WFS makes the job's directory and script and mints its
	// credential; at job end it revokes it (over its control channel).
	ev := JobEvent{Job: id.String(), Target: target}
	if err := r.srv.call(ctx, CtlJobSubmit, ev, nil); err != nil {
		rec.fail(OpJobMessage, now, err)
		return
	}
	r.jobs.Add(1)
	defer func() { _ = r.srv.call(context.WithoutCancel(ctx), CtlJobEnd, ev, nil) }()
	_ = r.srv.call(ctx, CtlJobStart, ev, nil)
	final := "succeeded"
	if rng.Float64() < g.FailRatio {
		final = "failed"
	}
	pad := strings.Repeat("x", max(0, g.MessageSize))
	for m := 0; m < g.Messages && ctx.Err() == nil; m++ {
		sev, text := "INFO", "custom "+pad
		switch m {
		case 0:
			text = "started"
		case g.Messages - 1:
			text = final
			if final == "failed" {
				sev = "CRITICAL"
			}
		}
		if m > 0 && g.Think > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(g.Think.D()):
			}
		}
		// A message in flight is drained, not cut, when the run ends; the
		// client's own timeout bounds it.
		// The first message is due at the job's arrival (open loop: its
		// latency counts any wait for a free worker); later ones when sent.
		intended := time.Now()
		if m == 0 {
			intended = h.intended
		}
		r.message(context.WithoutCancel(ctx), rec, id, target, sev, text, intended)
	}
}

func (r *runner) message(ctx context.Context, rec *recorder, id wfs.JobID, target, sev, text string, intended time.Time) {
	start := time.Now()
	if r.sc.Job.Process.Mode() == "python" {
		rep, err := r.pythonRequest(ctx, schemes.KindJob, id.String(), target, "--job", id.String(), "--severity", sev, "--text", text)
		recordPython(rec, rep, start, err, OpJobProcess, OpJobInterp, OpJobHandshake, OpJobRoundTrip)
		if err != nil {
			rec.fail(OpJobMessage, start, err)
			return
		}
		rec.ok(OpJobMessage, intended, start, time.Now())
		return
	}
	if r.sc.Job.Process.Mode() == "go" {
		rep, err := r.processRequest(ctx, "-kind", "job", "-id", id.String(), "-target", target, "-message", sev+"|"+text,
			"-state-dir", r.run.JobDir(id))
		recordProcess(rec, rep, start, err, OpJobProcess, OpJobAcquire, OpJobHandshake, OpJobRoundTrip)
		if err != nil {
			rec.fail(OpJobMessage, start, err)
			return
		}
		rec.ok(OpJobMessage, intended, start, time.Now())
		return
	}
	err := func() error {
		// A job keeps client state (plan B1's shared token) in its own job
		// directory, as a job on a remote host would.
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.contact, Kind: schemes.KindJob,
			Identity: id.String(), Target: target, StateDir: r.run.JobDir(id)})
		if err != nil {
			return err
		}
		defer cl.Close()
		zc := wfs.NewClient(r.zctx, r.srv.endpoint, wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
		defer zc.Close()
		t0 := time.Now()
		if _, err := zc.Handshake(ctx); err != nil {
			rec.fail(OpJobHandshake, t0, err)
			return err
		}
		rec.ok(OpJobHandshake, t0, t0, time.Now())
		body, err := r.messageBody(id, sev, text)
		if err != nil {
			return err
		}
		return exchange(ctx, rec, cl, zc, body, OpJobAcquire, OpJobRoundTrip)
	}()
	if err != nil {
		rec.fail(OpJobMessage, start, err)
		return
	}
	rec.ok(OpJobMessage, intended, start, time.Now())
}

// messageBody is a job message as the WFS's model takes it (see
// wfs.JobMessageRequest: against the cylc model the client appends to
// job.status itself, unsynced, and sends cylc's GraphQL mutation).
func (r *runner) messageBody(id wfs.JobID, sev, text string) ([]byte, error) {
	a := wfs.MessageArgs{Workflow: r.workflow, TaskJob: id.String(), EventTime: time.Now().UTC().Format(time.RFC3339),
		Messages: [][2]string{{sev, text}}}
	meta := wfs.Meta{Prog: "cylc-message", Host: "localhost", CommsMethod: "zmq"}
	return wfs.JobMessageRequest(r.sc.Server.ModelName(), r.run, r.statusFiles, a, meta)
}

// uis polls the WFS for data every interval on one long-lived connection,
// timing each poll from its intended time.
func (r *runner) uis(ctx context.Context, n int) {
	g := r.sc.UIS
	rec := r.recorder()
	cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.contact, Kind: schemes.KindUIS,
		Identity: fmt.Sprintf("uis%d", n), StateDir: r.stateDir})
	if err != nil {
		rec.fail(OpUISPoll, time.Now(), err)
		return
	}
	defer cl.Close()
	zc := wfs.NewClient(r.zctx, r.srv.endpoint, wfs.ClientConfig{Configure: cl.Configure})
	defer zc.Close()
	body, err := wfs.EncodeRequest(wfs.CmdData, wfs.DataArgs{Size: g.ReplySize}, wfs.Meta{Prog: "cylc-uiserver", CommsMethod: "zmq"})
	if err != nil {
		rec.fail(OpUISPoll, time.Now(), err)
		return
	}
	start := time.Now()
	for k := 0; ctx.Err() == nil; k++ {
		intended := start.Add(time.Duration(k) * g.Interval.D())
		if wait := time.Until(intended); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		t0 := time.Now()
		// A poll in flight when the run ends is drained, not cut.
		pctx := context.WithoutCancel(ctx)
		_, err := schemes.Request(pctx, cl, zc, body)
		if err != nil {
			if ctx.Err() == nil {
				rec.fail(OpUISPoll, intended, err)
			}
			continue
		}
		rec.ok(OpUISPoll, intended, t0, time.Now())
	}
}

// hostname is used in environment records.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
