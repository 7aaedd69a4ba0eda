package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/authbench/authbench/process"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// session is one scheme's WFS process and the client side that drives it:
// one per engine run, or one for a whole capacity search.
type session struct {
	cfg      Config
	scheme   *schemes.Scheme
	files    *wfs.Files // the clients' counted file layer
	run      *wfs.RunDir
	stateDir string
	statsOut string
	srv      *process.WFSProcess
	// model is the WFS's serving model.
	model    wfs.Model
	zctx     *zmq.Context
	workflow string
	// statusFiles is the job clients' layer for their own job.status
	// appends (cylc model): counted, never fsynced, as cylc message does.
	statusFiles *wfs.Files
	last        process.ServerReport
	// idle is the WFS's CPU share with no load (measureIdle), 0 if not
	// measured.
	idle float64
	// fs is the file-system model both sides' file layers apply
	// (wfs.FSModel.String), "" for none: the result records it.
	fs string
}

// openSession makes root (the run directory, the clients' state) and
// starts the scheme's WFS process for workflow.
func openSession(ctx context.Context, cfg Config, scheme *schemes.Scheme, root, workflow string, model *ServerModel) (*session, error) {
	fsm, err := cfg.fsModel()
	if err != nil {
		return nil, err
	}
	wm, err := model.WFSModel()
	if err != nil {
		return nil, err
	}
	files := wfs.NewFiles(true)
	if err := files.MkdirAll(root); err != nil {
		return nil, err
	}
	ss := &session{cfg: cfg, scheme: scheme, files: files, stateDir: filepath.Join(root, "client-state"),
		statsOut: filepath.Join(root, "wfs-stats.json"), workflow: workflow, statusFiles: wfs.NewFiles(false), model: wm}
	if fsm != nil {
		ss.files.Model, ss.statusFiles.Model, ss.fs = *fsm, *fsm, fsm.String()
	}
	if err := files.MkdirAll(ss.stateDir); err != nil {
		return nil, err
	}
	runRoot := filepath.Join(root, "run")
	ss.run = &wfs.RunDir{Root: runRoot, Files: files}
	scfg := process.ServeConfig{Scheme: scheme, RunDir: runRoot, Workflow: workflow,
		Workers: cfg.ServerWorkers, Leeway: cfg.Leeway, StatsOut: ss.statsOut, FS: fsm, Model: wm}
	if model != nil {
		if model.ServiceCPU != nil {
			scfg.ServiceCPU = model.ServiceCPU.D()
			if scfg.ServiceCPU == 0 {
				scfg.ServiceCPU = -1 // none, explicitly
			}
		}
	}
	if sc := cfg.Scenario; sc != nil && sc.UIS != nil && sc.UIS.Subscribe {
		scfg.Publish, scfg.DeltaSize, scfg.PublishRate = true, sc.UIS.DeltaSize, sc.UIS.PublishRate
	}
	srv, err := cfg.Server.Start(ctx, scfg)
	if err != nil {
		return nil, err
	}
	ss.srv = srv
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("client zmq context: %w", err), srv.Stop())
	}
	// Hundreds of in-process clients, each a fresh REQ socket and its
	// monitor, open and close sockets faster than libzmq's reaper retires
	// them under load: lift the default limit of 1023 sockets per context
	// so a busy run does not fail with "too many open files".
	if err := zctx.SetMaxSockets(clientMaxSockets); err != nil {
		_ = zctx.Term()
		return nil, errors.Join(fmt.Errorf("client zmq context: max sockets: %w", err), srv.Stop())
	}
	ss.zctx = zctx
	return ss, nil
}

// close stops the WFS process and returns its file operations as its final
// report (written at its exit) gives them: those of its shutdown included.
func (ss *session) close() (counters.FileStats, error) {
	err := ss.srv.Stop()
	_ = ss.zctx.Term()
	final := ss.last.Files
	if b, rerr := os.ReadFile(ss.statsOut); rerr == nil {
		_ = os.Remove(ss.statsOut)
		var f process.ServerReport
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
	r := &runner{cfg: cfg, sc: sc, scheme: scheme, abort: ctx, run: ss.run, srv: srv, model: ss.model, zctx: ss.zctx, workflow: ss.workflow,
		statusFiles: ss.statusFiles, prog: &progress{}, stateDir: ss.stateDir}
	s0, err := srv.Stats(ctx)
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
	// A full run directory stops the load at once: every request after
	// would fail alike, counted as the scheme's errors.
	r.diskFull = func(err error) {
		cancelLoad(&DiskFullError{Dir: ss.run.Root, Err: err})
	}
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
				if s, err := srv.Stats(loadCtx); err == nil {
					warm = s
				}
				close(warmTaken)
				warmC = nil
			case <-srv.Exited():
				cancelLoad(srv.ExitError())
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
	s1, err := srv.Stats(context.WithoutCancel(ctx))
	if err != nil {
		runErr = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), err)
		s1 = warm
	}
	select {
	case <-warmTaken:
	default: // the run ended inside its warm-up
		warm = s0
	}
	var full *DiskFullError
	if died != nil && (!srv.Alive() || errors.As(died, &full)) {
		runErr = fmt.Errorf("%s %s: %w", sc.Name, scheme.Name(), died)
	}
	ss.last = s1

	ops, added := merge(r.recs)
	if sc.CLI != nil {
		for _, o := range ops {
			if o.Name == vocab.OpCLICommand {
				o.Asked = pace.AskedRate(cliPacer(sc.CLI), end.Sub(r.start))
			}
		}
	}
	dur := end.Sub(r.warmEnd)
	if dur < 0 {
		dur = 0
	}
	spec, claims := scheme.Spec(), scheme.Claims()
	res := &results.Result{
		Scenario: sc.Name, ScenarioSource: sc.Source, ScenarioHash: sc.Hash,
		Scheme: scheme.Name(), Canonical: spec.Canonical(), Spec: &spec, Claims: &claims, Budgets: budgetsOf(sc), BudgetSources: budgetSourcesOf(sc),
		BudgetShares: budgetSharesOf(sc),
		Duration:     dur, Ops: ops, Jobs: r.jobs.Load(), Commands: r.cmds.Load(),
		CPU:           cpuSeconds(ru1) - cpuSeconds(ru0) + cpuSeconds(ch1) - cpuSeconds(ch0),
		PeakRSSKB:     ru1.Maxrss,
		BytesAdded:    added,
		Server:        s1.Server,
		ServerProcess: serverProcessResult(warm, s1, cfg.Server, connectionOf(sc)),
		Series:        r.series.result(),
		SchemeStats:   s1.Scheme,
		ServerModel:   s1.Model,
		// The model's own figures (the cylc model's counters), none under fast.
		ServerModelStats: s1.ModelStats,
		FSModel:          ss.fs,
		ClosedLoop:       closedLoop(sc),
		ServerCPU:        <-cpuSeries,
	}
	res.ServerProcess.Throttled = srv.Throttled()
	if ctx.Err() != nil || runErr != nil {
		res.Partial = true
	}
	return res, runErr
}

// DiskFullError is the error a run stops with when a file operation of its
// run directory (the WFS's, replied as wfs.KindDiskFull, or a client's)
// finds the file system full.
type DiskFullError struct {
	// Dir is the run directory.
	Dir string
	// Err is the first failure, naming its operation and file.
	Err error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("run directory %s is full, load stopped: %v", e.Dir, e.Err)
}

func (e *DiskFullError) Unwrap() error { return e.Err }

// sampleServerCPU asks the WFS for its CPU every interval from the start
// of the run (warm-up included) until ctx ends: its CPU share and requests
// per interval, for the over-time plots. At most maxPoints intervals.
func sampleServerCPU(ctx context.Context, srv *process.WFSProcess, from process.ServerReport, interval time.Duration) *results.ServerCPUSeries {
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
		cur, err := srv.Stats(ctx)
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

// addFiles sums file layers' operations: the WFS's and the clients'. Peak
// live files are summed too: an upper bound, as the peaks need not
// coincide.
func addFiles(fs ...counters.FileStats) counters.FileStats {
	var o counters.FileStats
	for _, a := range fs {
		o = o.Add(a)
		o.PeakLive += a.PeakLive
	}
	return o
}

// serverProcessResult is the WFS process's cost between two of its reports.
func serverProcessResult(a, b process.ServerReport, l process.ServerLauncher, conn string) *results.ServerProcess {
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

// budgetsOf is the scenario's budgets as a result records them.
func budgetsOf(sc *Scenario) map[string]time.Duration {
	if len(sc.Budgets) == 0 {
		return nil
	}
	out := make(map[string]time.Duration, len(sc.Budgets))
	for k, v := range sc.Budgets {
		out[k] = v.Value.D()
	}
	return out
}

// budgetSharesOf is the scenario's budgets stated as a share of the real
// client's time (of_real), as a result records them (nil when none is).
func budgetSharesOf(sc *Scenario) map[string]float64 {
	var out map[string]float64
	for k, v := range sc.Budgets {
		if v.OfReal <= 0 {
			continue
		}
		if out == nil {
			out = map[string]float64{}
		}
		out[k] = v.OfReal
	}
	return out
}

// budgetSourcesOf is where the scenario's budgets come from, as a result
// records it (nil when no budget names a source).
func budgetSourcesOf(sc *Scenario) map[string]string {
	var out map[string]string
	for k, v := range sc.Budgets {
		if v.Source == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v.Source
	}
	return out
}
