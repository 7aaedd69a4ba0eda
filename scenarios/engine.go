package scenarios

import (
	"context"
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
		for _, sc := range cfg.Schemes {
			r, err := runOne(ctx, cfg, sc, round)
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
	cfg      Config
	sc       *Scenario
	scheme   *schemes.Scheme
	run      *wfs.RunDir
	guard    *schemes.Server
	srv      *wfs.Server
	zctx     *zmq.Context
	start    time.Time
	warmEnd  time.Time
	deadline time.Time
	prog     *progress
	stateDir string
	series   *seriesRecorder

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

func runOne(ctx context.Context, cfg Config, scheme *schemes.Scheme, round int) (*results.Result, error) {
	sc := cfg.Scenario
	root := filepath.Join(cfg.WorkDir, fmt.Sprintf("%s-%s-r%d", safeName(sc.Name), safeName(scheme.Name()), round))
	files := wfs.NewFiles(true)
	run, err := wfs.NewRunDir(filepath.Join(root, "run"), files)
	if err != nil {
		return nil, err
	}
	stateDir := filepath.Join(root, "client-state")
	if err := files.MkdirAll(stateDir); err != nil {
		return nil, err
	}
	workflow := "authbench/" + safeName(sc.Name)
	guard, err := scheme.Server(ctx, schemes.Env{Run: run, Workflow: workflow, Leeway: cfg.Leeway})
	if err != nil {
		return nil, err
	}
	srv, err := wfs.NewServer(wfs.ServerConfig{Run: run, Workflow: workflow, Guard: guard, Workers: cfg.ServerWorkers})
	if err != nil {
		_ = guard.Close()
		return nil, err
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		srv.Close()
		_ = guard.Close()
		return nil, fmt.Errorf("client zmq context: %w", err)
	}
	// Hundreds of in-process clients, each a fresh REQ socket and its
	// monitor, open and close sockets faster than libzmq's reaper retires
	// them under load: lift the default limit of 1023 sockets per context
	// so a busy run does not fail with "too many open files".
	if err := zctx.SetMaxSockets(clientMaxSockets); err != nil {
		srv.Close()
		_ = guard.Close()
		_ = zctx.Term()
		return nil, fmt.Errorf("client zmq context: max sockets: %w", err)
	}
	srvCtx, stopSrv := context.WithCancel(context.Background())
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(srvCtx) }()

	r := &runner{cfg: cfg, sc: sc, scheme: scheme, run: run, guard: guard, srv: srv, zctx: zctx,
		prog: &progress{}, stateDir: stateDir}
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
	loadCtx := ctx
	var cancel context.CancelFunc = func() {}
	if !r.deadline.IsZero() {
		loadCtx, cancel = context.WithDeadline(ctx, r.deadline)
	}
	stopProg := r.prog.start(cfg.Progress, cfg.ProgressEvery, fmt.Sprintf("%s %s r%d", sc.Name, scheme.Name(), round), r.start, r.deadline)

	r.drive(loadCtx)
	cancel()
	end := time.Now()
	stopProg()

	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	var ch1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch1)
	schemeStats := guard.Stats()
	stopSrv()
	serveErr := <-srvDone
	closeErr := guard.Close()
	_ = zctx.Term()

	ops, added := merge(r.recs)
	if sc.CLI != nil {
		for _, o := range ops {
			if o.Name == OpCLICommand {
				o.Asked = askedRate(cliPacer(sc.CLI), end.Sub(r.start))
			}
		}
	}
	fs := files.Stats()
	res := &results.Result{
		Scenario: sc.Name, Scheme: scheme.Name(), Canonical: scheme.Spec().Canonical(), Round: round,
		Duration: end.Sub(r.warmEnd), Ops: ops, Jobs: r.jobs.Load(), Commands: r.cmds.Load(),
		CPU:        cpuSeconds(ru1) - cpuSeconds(ru0) + cpuSeconds(ch1) - cpuSeconds(ch0),
		PeakRSSKB:  ru1.Maxrss,
		BytesAdded: added,
		Files: results.FileStats{Created: fs.Created, Written: fs.Written, Appended: fs.Appended, Read: fs.Read,
			Deleted: fs.Deleted, Renamed: fs.Renamed, Fsyncs: fs.Fsyncs, Live: fs.Live, PeakLive: fs.PeakLive},
		Server:      results.ServerStats(srv.Stats()),
		Series:      r.series.result(),
		SchemeStats: schemeStats,
	}
	if ctx.Err() != nil {
		res.Partial = true
	}
	return res, errors.Join(serveErr, closeErr)
}

func cpuSeconds(ru syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// drive runs every client group of the scenario until each is done or ctx
// ends. Groups with a natural end (a job group, a CLI count or ramp) define
// the run; open-ended groups (a CLI at a rate with no count, the UI pollers)
// run beside them and stop when they are done.
func (r *runner) drive(ctx context.Context) {
	var wg sync.WaitGroup
	others, stopOthers := context.WithCancel(ctx)
	defer stopOthers()
	var bwg sync.WaitGroup // background groups
	if c := r.sc.CLI; c != nil {
		background := r.sc.Job != nil && c.Count == 0 && len(c.Stages) == 0
		if background {
			bwg.Add(1)
			go func() { defer bwg.Done(); r.cli(others) }()
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
			uisCtx = others
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
	pacer := cliPacer(g)
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
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.Contact(), Kind: schemes.KindCLI,
			Identity: w.user, StateDir: r.stateDir})
		if err != nil {
			return err
		}
		w.cl = cl
		if w.zc != nil {
			w.zc.Close()
		}
		w.zc = wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
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
	rec.bytesAdded += int64(rep.BytesAdded)
	rec.wrapped++
}

// exchange is one credentialed request: Begin (timed as acquisition when the
// scheme acquires), Wrap, the round trip, Unwrap, End.
func exchange(ctx context.Context, rec *recorder, cl *schemes.Client, zc *wfs.Client, body []byte, opAcquire, opRT string) error {
	a0 := time.Now()
	acquired, err := cl.Begin(ctx, zc.Call)
	if err != nil {
		rec.fail(opAcquire, a0, err)
		return err
	}
	if acquired {
		rec.ok(opAcquire, a0, a0, time.Now())
	}
	frames, err := cl.Wrap(body)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	rec.bytesAdded += int64(n - len(body))
	rec.wrapped++
	t0 := time.Now()
	rep, err := zc.Call(ctx, frames...)
	if err == nil {
		rep, err = cl.Unwrap(rep)
	}
	if err == nil {
		_, err = wfs.DecodeReply(rep)
	}
	if err != nil {
		rec.fail(opRT, t0, err)
		_ = cl.End(ctx)
		return err
	}
	rec.ok(opRT, t0, t0, time.Now())
	return cl.End(ctx)
}

// jobGroup submits jobs, at most Concurrency running at once.
func (r *runner) jobGroup(ctx context.Context) {
	g := r.sc.Job
	ids := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < g.Concurrency; w++ {
		rec := r.recorder()
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(1000+w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ids {
				r.job(ctx, rec, rng, i)
			}
		}()
	}
	defer func() { close(ids); wg.Wait() }()
	var pacer Pacer
	if g.Rate > 0 {
		pacer = ConstantPacer{PerSecond: g.Rate}
	}
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
		case ids <- i:
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
func (r *runner) job(ctx context.Context, rec *recorder, rng *rand.Rand, i int) {
	g := r.sc.Job
	cycle := 1
	if g.CyclePoints > 0 {
		cycle = 1 + i/g.TasksPerCycle
	}
	id := wfs.JobID{Cycle: fmt.Sprint(cycle), Task: fmt.Sprintf("t%05d", i), Submit: 1}
	target := r.target(rng)
	now := time.Now()
	if err := r.run.MakeJobDir(id); err != nil {
		rec.fail(OpJobMessage, now, err)
		return
	}
	script := filepath.Join(r.run.JobDir(id), "job")
	if err := r.run.Files.WriteFile(script, []byte("#!/bin/bash\n# authbench job "+id.String()+"\n"), 0o700); err != nil {
		rec.fail(OpJobMessage, now, err)
		return
	}
	if err := r.guard.Event(ctx, schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: target, Now: now}); err != nil {
		rec.fail(OpJobMessage, now, err)
		return
	}
	r.jobs.Add(1)
	defer func() {
		_ = r.guard.Event(context.WithoutCancel(ctx), schemes.Event{Kind: schemes.EventJobEnd, Job: id, Target: target, Now: time.Now()})
	}()
	_ = r.guard.Event(ctx, schemes.Event{Kind: schemes.EventJobStart, Job: id, Target: target, Now: time.Now()})
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
		r.message(context.WithoutCancel(ctx), rec, id, target, sev, text)
	}
}

func (r *runner) message(ctx context.Context, rec *recorder, id wfs.JobID, target, sev, text string) {
	start := time.Now()
	if r.sc.Job.Process.Mode() == "python" {
		rep, err := r.pythonRequest(ctx, schemes.KindJob, id.String(), target, "--job", id.String(), "--severity", sev, "--text", text)
		recordPython(rec, rep, start, err, OpJobProcess, OpJobInterp, OpJobHandshake, OpJobRoundTrip)
		if err != nil {
			rec.fail(OpJobMessage, start, err)
			return
		}
		rec.ok(OpJobMessage, start, start, time.Now())
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
		rec.ok(OpJobMessage, start, start, time.Now())
		return
	}
	err := func() error {
		// A job keeps client state (plan B1's shared token) in its own job
		// directory, as a job on a remote host would.
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.Contact(), Kind: schemes.KindJob,
			Identity: id.String(), Target: target, StateDir: r.run.JobDir(id)})
		if err != nil {
			return err
		}
		defer cl.Close()
		zc := wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
		defer zc.Close()
		t0 := time.Now()
		if _, err := zc.Handshake(ctx); err != nil {
			rec.fail(OpJobHandshake, t0, err)
			return err
		}
		rec.ok(OpJobHandshake, t0, t0, time.Now())
		body, err := wfs.EncodeRequest(wfs.CmdMessage, wfs.MessageArgs{
			TaskJob: id.String(), EventTime: time.Now().UTC().Format(time.RFC3339),
			Messages: [][2]string{{sev, text}},
		}, wfs.Meta{Prog: "cylc-message", Host: "localhost", CommsMethod: "zmq"})
		if err != nil {
			return err
		}
		return exchange(ctx, rec, cl, zc, body, OpJobAcquire, OpJobRoundTrip)
	}()
	if err != nil {
		rec.fail(OpJobMessage, start, err)
		return
	}
	rec.ok(OpJobMessage, start, start, time.Now())
}

// uis polls the WFS for data every interval on one long-lived connection,
// timing each poll from its intended time.
func (r *runner) uis(ctx context.Context, n int) {
	g := r.sc.UIS
	rec := r.recorder()
	cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.Contact(), Kind: schemes.KindUIS,
		Identity: fmt.Sprintf("uis%d", n), StateDir: r.stateDir})
	if err != nil {
		rec.fail(OpUISPoll, time.Now(), err)
		return
	}
	defer cl.Close()
	zc := wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure})
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
		err := func() error {
			if _, err := cl.Begin(pctx, zc.Call); err != nil {
				return err
			}
			frames, err := cl.Wrap(body)
			if err != nil {
				return err
			}
			rep, err := zc.Call(pctx, frames...)
			if err == nil {
				rep, err = cl.Unwrap(rep)
			}
			if err == nil {
				_, err = wfs.DecodeReply(rep)
			}
			return errors.Join(err, cl.End(pctx))
		}()
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
