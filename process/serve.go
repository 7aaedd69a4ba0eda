package process

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// ServeConfig is a standalone WFS (`authbench serve`): the process every
// engine run starts for each scheme, or one an operator starts on a node.
type ServeConfig struct {
	Scheme *schemes.Scheme
	RunDir string
	// Workflow is the workflow id (credentials' audience); "" means the run
	// directory's base name.
	Workflow string
	Listen   string
	Workers  int
	// Model is the WFS's serving model (wfs.ParseModel); nil means the
	// default, fast. Under cylc (cylc-flow 8's: serial drain then 0.2 s
	// sleep, job messages queued for a 1 s main loop, job.status left to
	// the client) the CURVE schemes' ZAP allow-list is also reloaded from
	// the key directory on every key change (Model.ReloadAllKeys). See
	// wfs.ServerConfig.Model.
	Model wfs.Model
	// ServiceCPU is the CPU the WFS burns per request: 0 means the model's
	// default (2 ms for cylc, none for fast), a negative value none. See
	// wfs.ServerConfig.ServiceCPU.
	ServiceCPU time.Duration
	// Leeway is the token schemes' clock-skew allowance (0: their default).
	Leeway time.Duration
	// Control is the control channel's listen endpoint; "" means a free
	// loopback port.
	Control string
	// Pin restricts the process to these CPUs ("" leaves it unpinned).
	Pin string
	// KeysDir, if set, holds the token schemes' keys to use instead of
	// fresh ones (schemes.KeyFileName names the files).
	KeysDir string
	// StatsOut, if set, is where the process writes its final ServerReport
	// (JSON) once it has shut down: the file operations of its teardown
	// included.
	StatsOut string
	// Ready is called once the contact and control files are written.
	Ready func(contactPath, endpoint, controlPath string)
	// Log, if set, receives notices (a stale contact file cleaned up).
	Log io.Writer
	// FS, if set, is the file-system latency model the WFS's file layer
	// applies; the contact file names it for the clients.
	FS *wfs.FSModel
	// Publish, DeltaSize and PublishRate are the WFS's publisher (cylc
	// model only); see wfs.ServerConfig.
	Publish     bool
	DeltaSize   int
	PublishRate float64
}

// MaxServiceCPU bounds the CPU a WFS may burn per request (serve
// -service-cpu, a scenario's server.service_cpu): past it the stand-in
// measures nothing a real server does.
const MaxServiceCPU = time.Second

// MaxServerWorkers bounds a WFS's verification workers (serve
// -server-workers, run -server-workers). Each is an OS thread holding a
// ZeroMQ socket, and libzmq gives a context 1023 sockets: past about a
// thousand the WFS failed after printing its contact file, then ignored
// SIGTERM. A 2-CPU or 64-CPU node gains nothing from more threads than this.
const MaxServerWorkers = 256

// CheckServerWorkers refuses a worker count outside 0 to MaxServerWorkers,
// naming the flag.
func CheckServerWorkers(flag string, n int) error {
	if n < 0 || n > MaxServerWorkers {
		return fmt.Errorf("%s %d: want 0 to %d (0 serves inline; each worker is an OS thread with a ZeroMQ socket of its own)", flag, n, MaxServerWorkers)
	}
	return nil
}

// writableFile checks that path can be created or replaced: its directory
// exists and takes a new file, and path is not a directory.
func writableFile(path string) error {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".authbench-check-*")
	if err != nil {
		return fmt.Errorf("cannot write beside %s: %w", path, err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// ServeFlags defines serve's flags on fs and returns a function that,
// after fs.Parse, checks them and returns the config. cmd/authbench's serve
// and the engine's own server processes in tests share it, so the flags the
// engine passes (ServeArgs) are the flags serve reads.
// reg is the registry -scheme is parsed in (schemes.Builtin() for the CLI).
func ServeFlags(fs *flag.FlagSet, reg *schemes.Registry) func() (ServeConfig, error) {
	spec := fs.String("scheme", "", "scheme `SPEC` (see authbench list)")
	runDir := fs.String("run-dir", "", "workflow run `DIR` (made 0700 if missing)")
	workflow := fs.String("workflow", "", "workflow `ID`, the audience of its credentials (default: the run directory's name)")
	listen := fs.String("listen", "", "`ENDPOINT` to bind (tcp://*:PORT or ipc://PATH); default a free port in 43001-43101 on 127.0.0.1")
	workers := fs.Int("server-workers", 2, "verification worker `goroutines` (0 serves inline)")
	model := fs.String("model", "", "serving `MODEL`: "+wfs.ModelUsage()+" (default "+wfs.ModelNames()[0]+")")
	var serviceCPU optDuration
	fs.Var(&serviceCPU, "service-cpu", "CPU `D` the WFS burns per request, a stand-in for the Python server's work; 0 for none (default with -model cylc: 1.3ms per query, 1.5ms per job message, fitted to Cylc 8.4.4; none with fast)")
	leeway := fs.Duration("leeway", 0, "token schemes' clock-skew allowance on exp, nbf and iat (default 30s)")
	control := fs.String("control", "", "control channel `ENDPOINT` (job lifecycle and stats, owner-only); default a free loopback port")
	pin := fs.String("pin", "", "pin the WFS process to `CPUS` (e.g. 0 or 0-1)")
	keysDir := fs.String("keys", "", "use the token keys in `DIR` (jwt-HS256.key, jwt-ES256.pem, jwt-EdDSA.pem, jwe-dir.key, jwe-ECDH-ES.pem) instead of fresh ones")
	statsOut := fs.String("stats-out", "", "write the final server report (JSON: CPU, counters, files) to `FILE` at exit")
	publish := fs.Bool("publish", false, "publish data-store deltas on a PUB socket, as Cylc 8 does (-model cylc only)")
	deltaSize := fs.Int("delta-size", 0, "published delta's payload `BYTES` (default 2000)")
	publishRate := fs.Float64("publish-rate", 0, "deltas a `second` published whatever happens, at most one a main-loop iteration (default 0: on data-store changes only)")
	fsModel := fs.String("fs", "", "file-system latency `MODEL` the run directory's file operations are costed with: a preset ("+strings.Join(wfs.FSPresetNames(), ", ")+") or model=NAME,metadata_rtt=1ms,fsync=5ms (default none)")
	return func() (ServeConfig, error) {
		switch {
		case *spec == "":
			return ServeConfig{}, errors.New("serve: -scheme is required")
		case *runDir == "":
			return ServeConfig{}, errors.New("serve: -run-dir is required")
		case *leeway < 0:
			return ServeConfig{}, fmt.Errorf("serve: -leeway %s: must not be negative", *leeway)
		case serviceCPU.d < 0 || serviceCPU.d > MaxServiceCPU:
			return ServeConfig{}, fmt.Errorf("serve: -service-cpu %s: want 0 to %s", serviceCPU.d, MaxServiceCPU)
		}
		if err := CheckServerWorkers("-server-workers", *workers); err != nil {
			return ServeConfig{}, fmt.Errorf("serve: %w", err)
		}
		if *statsOut != "" {
			// Checked now: a -stats-out that cannot be written failed only
			// at exit, and the stats were lost.
			if err := writableFile(*statsOut); err != nil {
				return ServeConfig{}, fmt.Errorf("serve: -stats-out: %w", err)
			}
		}
		cpu := serviceCPU.d
		if serviceCPU.set && cpu == 0 {
			cpu = -1 // none, explicitly
		}
		m, err := wfs.ParseModel(*model)
		if err != nil {
			return ServeConfig{}, fmt.Errorf("serve: -model: %w", err)
		}
		sc, err := reg.Parse(*spec)
		if err != nil {
			return ServeConfig{}, fmt.Errorf("-scheme: %w", err)
		}
		var fsm *wfs.FSModel
		if *fsModel != "" {
			m, err := wfs.ParseFSModel(*fsModel)
			if err != nil {
				return ServeConfig{}, fmt.Errorf("serve: -fs: %w", err)
			}
			fsm = &m
		}
		return ServeConfig{Scheme: sc, RunDir: *runDir, Workflow: *workflow, Listen: *listen, Workers: *workers,
			Model: m, ServiceCPU: cpu, FS: fsm,
			Leeway: *leeway, Control: *control, Pin: *pin, StatsOut: *statsOut, KeysDir: *keysDir,
			Publish: *publish, DeltaSize: *deltaSize, PublishRate: *publishRate}, nil
	}
}

// optDuration is a duration flag that knows whether it was given, so that
// "-service-cpu 0" (none) differs from leaving it out (the model's default).
type optDuration struct {
	d   time.Duration
	set bool
}

func (o *optDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a duration such as 2ms")
	}
	o.d, o.set = d, true
	return nil
}

// ServeArgs is the argument list (after "serve") that makes ServeFlags
// return cfg (less Ready).
func ServeArgs(cfg ServeConfig) []string {
	args := []string{"-scheme", cfg.Scheme.Name(), "-run-dir", cfg.RunDir, "-server-workers", fmt.Sprint(cfg.Workers)}
	add := func(flag, v string) {
		if v != "" {
			args = append(args, flag, v)
		}
	}
	add("-workflow", cfg.Workflow)
	add("-listen", cfg.Listen)
	if cfg.Model != nil {
		add("-model", cfg.Model.Name())
	}
	switch {
	case cfg.ServiceCPU > 0:
		args = append(args, "-service-cpu", cfg.ServiceCPU.String())
	case cfg.ServiceCPU < 0:
		args = append(args, "-service-cpu", "0")
	}
	add("-control", cfg.Control)
	add("-pin", cfg.Pin)
	add("-stats-out", cfg.StatsOut)
	add("-keys", cfg.KeysDir)
	if cfg.Leeway > 0 {
		args = append(args, "-leeway", cfg.Leeway.String())
	}
	if cfg.FS != nil {
		args = append(args, "-fs", cfg.FS.String())
	}
	if cfg.Publish {
		args = append(args, "-publish", "-delta-size", fmt.Sprint(cfg.DeltaSize), "-publish-rate", strconv.FormatFloat(cfg.PublishRate, 'g', -1, 64))
	}
	return args
}

// Serve runs a WFS for one scheme until ctx is cancelled, then removes its
// contact and control files and the scheme's credentials. Beside the WFS it
// serves the owner-only control channel (see ControlOps).
func Serve(ctx context.Context, cfg ServeConfig) error {
	if err := CheckServerWorkers("workers", cfg.Workers); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if cfg.Pin != "" {
		if err := Pin(cfg.Pin); err != nil {
			return err
		}
	}
	root, err := filepath.Abs(cfg.RunDir)
	if err != nil {
		return fmt.Errorf("-run-dir: %w", err)
	}
	files := wfs.NewFiles(true)
	contact := map[string]string{wfs.ContactScheme: cfg.Scheme.Name()}
	if cfg.FS != nil {
		files.Model = *cfg.FS
		contact[wfs.ContactFSModel] = cfg.FS.String()
	}
	run, err := wfs.NewRunDir(root, files)
	if err != nil {
		return fmt.Errorf("-run-dir: %w", err)
	}
	if err := claimRunDir(run, cfg.Log); err != nil {
		return err
	}
	workflow := cfg.Workflow
	if workflow == "" {
		workflow = filepath.Base(root)
	}
	model := cfg.Model
	if model == nil {
		if model, err = wfs.ParseModel(""); err != nil {
			return err
		}
	}
	// The model says whether the CURVE allow-list is reloaded from the key
	// directory on every key change, as Cylc 8's pyzmq authenticator is.
	w, err := schemes.StartWFS(ctx, schemes.WFSConfig{Scheme: cfg.Scheme,
		Env: schemes.Env{Run: run, Workflow: workflow, Leeway: cfg.Leeway, KeysDir: cfg.KeysDir,
			ReloadAllKeys: model.ReloadAllKeys()},
		Server: wfs.ServerConfig{Listen: cfg.Listen, Workers: cfg.Workers,
			Contact: contact,
			Model:   model, ServiceCPU: cfg.ServiceCPU,
			Publish: cfg.Publish, DeltaSize: cfg.DeltaSize, PublishRate: cfg.PublishRate}})
	if err != nil {
		return err
	}
	p := &serverProc{run: run, wfs: w, pin: cfg.Pin, start: time.Now()}
	ctl, err := wfs.NewControlServer(run, cfg.Control, p.control)
	if err != nil {
		return errors.Join(err, w.Stop())
	}
	cctx, stopCtl := context.WithCancel(context.WithoutCancel(ctx))
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Serve(cctx) }()
	if cfg.Ready != nil {
		cfg.Ready(run.ContactPath(), w.Server.Endpoint(), ctl.Path())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-w.Done():
		serveErr = fmt.Errorf("wfs stopped: %w", serveErr)
	case serveErr = <-ctlDone:
		ctlDone <- serveErr
	}
	stopCtl()
	err = errors.Join(serveErr, <-ctlDone, w.Stop())
	if cfg.StatsOut != "" {
		b, jerr := json.Marshal(p.report())
		if jerr == nil {
			jerr = os.WriteFile(cfg.StatsOut, b, 0o600)
		}
		if jerr != nil {
			err = errors.Join(err, fmt.Errorf("-stats-out: %w", jerr))
		}
	}
	return err
}

// claimRunDir refuses a run directory a live WFS serves, as Cylc refuses
// to start a workflow whose contact file names a running scheduler
// (cylc-flow cylc/flow/workflow_files.py, detect_old_contact_file): a
// second server would overwrite the first's contact file and keys, and
// delete them at its exit. A contact file left by a dead server is removed,
// with a notice.
func claimRunDir(run *wfs.RunDir, log io.Writer) error {
	path := run.ContactPath()
	c, err := wfs.ReadContact(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("-run-dir: %w", err)
	}
	pid, _ := strconv.Atoi(c[wfs.ContactPID])
	if pid > 0 && processAlive(pid) && pid != os.Getpid() {
		return fmt.Errorf("-run-dir %s: a WFS (pid %d, %s) already serves it (contact file %s); stop it first", run.Root, pid, c[wfs.ContactEndpoint], path)
	}
	for _, p := range []string{path, run.Service(wfs.ControlFile)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("-run-dir: remove stale %s: %w", p, err)
		}
	}
	if log != nil {
		fmt.Fprintf(log, "removed the stale contact file %s of pid %d, which is no longer running\n", path, pid)
	}
	return nil
}

// processAlive reports whether a process with pid exists (kill 0: no
// error, or EPERM for another user's).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Control operations a WFS process serves on its control channel.
const (
	CtlJobSubmit = "job-submit" // make the job's directory and script, mint its credential
	CtlJobStart  = "job-start"
	CtlJobEnd    = "job-end" // revoke the job's credential
	CtlTick      = "tick"    // rotate timed credentials
	CtlStats     = "stats"   // the process's ServerReport
)

// JobEvent is the argument of the job control operations.
type JobEvent struct {
	Job    string `json:"job"`
	Target string `json:"target,omitempty"`
	// Ship asks, at submit, for the files a job on a target without the
	// WFS's file system receives (JobFiles): a loader on another node
	// installs them itself.
	Ship bool `json:"ship,omitempty"`
	// RemoteInit, with Ship, adds what remote-init installs on the
	// target (<run>/remote/<target>/, the contact file and the scheme's
	// schemes.RemoteInstaller files): a loader asks
	// for it with its first job on a target.
	RemoteInit bool `json:"remote_init,omitempty"`
	// Retrying, at job end, says the job failed and its task will be
	// submitted again (schemes.Event.Retrying).
	Retrying bool `json:"retrying,omitempty"`
}

// JobFiles are the files a job on an install target without the WFS's
// file system receives, by path relative to the run directory: the job's
// directory (its script and credential), what remote-init installed for
// its target (<run>/remote/<target>/: keys), the contact file and the
// scheme's own (schemes.RemoteInstaller: .service/wlcg-job), as
// Cylc's remote-init and job submission copy them to a remote host.
type JobFiles struct {
	Files map[string][]byte `json:"files"`
}

// maxJobFiles bounds the bytes a job's shipped files may hold.
const maxJobFiles = 1 << 20

// ServerReport is a WFS process's account of itself, from the stats control
// operation: its whole CPU (every thread: libzmq's I/O threads, the ZAP
// handler, the request workers, the control channel), the server's request
// counters, its file operations and its scheme's figures.
type ServerReport struct {
	PID  int    `json:"pid"`
	CPUs string `json:"cpus"`
	// At is when the report was taken (process-local wall clock).
	At time.Time `json:"at"`
	// UserSeconds and SysSeconds are getrusage(RUSAGE_SELF): all threads.
	UserSeconds float64              `json:"user_s"`
	SysSeconds  float64              `json:"sys_s"`
	MaxRSSKB    int64                `json:"max_rss_kb"`
	Threads     int                  `json:"threads"`
	Server      counters.ServerStats `json:"server"`
	Overload    wfs.OverloadStats    `json:"overload"`
	// Model is the serving model's name; ModelStats its own figures
	// (wfs.Server.ModelStats: the cylc model's counters, none under fast).
	Model      string             `json:"model"`
	ModelStats map[string]float64 `json:"model_stats,omitempty"`
	Files      counters.FileStats `json:"files"`
	Scheme     map[string]float64 `json:"scheme,omitempty"`
}

// CPUSeconds is the process's user plus system CPU.
func (r ServerReport) CPUSeconds() float64 { return r.UserSeconds + r.SysSeconds }

// serverProc is the serve process's state for its control handler.
type serverProc struct {
	run   *wfs.RunDir
	wfs   *schemes.WFS
	pin   string
	start time.Time
}

func (p *serverProc) control(ctx context.Context, op string, args json.RawMessage) (any, error) {
	switch op {
	case CtlStats:
		return p.report(), nil
	case CtlTick:
		return nil, p.wfs.Guard.Event(ctx, schemes.Event{Kind: schemes.EventTick, Now: time.Now()})
	case CtlJobSubmit, CtlJobStart, CtlJobEnd:
		var ev JobEvent
		if err := json.Unmarshal(args, &ev); err != nil {
			return nil, &wfs.Error{Kind: wfs.KindProtocol, Msg: op + ": " + err.Error()}
		}
		id, err := wfs.ParseJobID(ev.Job)
		if err != nil {
			return nil, &wfs.Error{Kind: wfs.KindProtocol, Msg: op + ": " + err.Error()}
		}
		if err := p.jobEvent(ctx, op, id, ev.Target, ev.Retrying); err != nil {
			return nil, err
		}
		if op == CtlJobSubmit && ev.Ship {
			return p.jobFiles(id, ev.Target, ev.RemoteInit)
		}
		return nil, nil
	}
	return nil, &wfs.Error{Kind: wfs.KindUnknown, Msg: fmt.Sprintf("control: unknown operation %q", op)}
}

// jobEvent is what the scheduler does at a job's submit, start and end: at
// submit it makes the job's log directory and writes its job script (as
// cylc-flow's job file writer does), then the scheme mints the job's
// credential; at end the scheme revokes it.
func (p *serverProc) jobEvent(ctx context.Context, op string, id wfs.JobID, target string, retrying bool) error {
	now := time.Now()
	switch op {
	case CtlJobSubmit:
		if err := p.run.MakeJobDir(id); err != nil {
			return err
		}
		script := filepath.Join(p.run.JobDir(id), "job")
		if err := p.run.Files.WriteFile(script, []byte("#!/bin/bash\n# authbench job "+id.String()+"\n"), 0o700); err != nil {
			return err
		}
		return p.wfs.Guard.Event(ctx, schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: target, Now: now})
	case CtlJobStart:
		return p.wfs.Guard.Event(ctx, schemes.Event{Kind: schemes.EventJobStart, Job: id, Target: target, Now: now})
	default:
		return p.wfs.Guard.Event(ctx, schemes.Event{Kind: schemes.EventJobEnd, Job: id, Target: target, Now: now, Retrying: retrying})
	}
}

// jobFiles collects the files a job on a target without the WFS's file
// system receives (JobFiles), reading them through the WFS's counted file
// layer, as a copy to the remote host reads them.
func (p *serverProc) jobFiles(id wfs.JobID, target string, remoteInit bool) (*JobFiles, error) {
	out := &JobFiles{Files: map[string][]byte{}}
	total := 0
	add := func(path string) error {
		rel, err := filepath.Rel(p.run.Root, path)
		if err != nil {
			return err
		}
		b, err := p.run.Files.ReadFile(path)
		if err != nil {
			return err
		}
		if total += len(b); total > maxJobFiles {
			return fmt.Errorf("job %s: files to ship exceed %d bytes", id, maxJobFiles)
		}
		out.Files[filepath.ToSlash(rel)] = b
		return nil
	}
	dirs := []string{p.run.JobDir(id)}
	if remoteInit && target != "" && validShipTarget(target) {
		dirs = append(dirs, filepath.Join(p.run.Root, "remote", target))
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.Type().IsRegular() {
				return add(path)
			}
			return nil
		})
		if err != nil {
			return nil, &wfs.Error{Kind: wfs.KindInternal, Msg: "ship: " + err.Error()}
		}
	}
	if remoteInit {
		for _, f := range append([]string{p.run.ContactPath()}, p.wfs.Guard.RemoteInitFiles()...) {
			if err := add(f); err != nil {
				return nil, &wfs.Error{Kind: wfs.KindInternal, Msg: "ship: " + err.Error()}
			}
		}
	}
	return out, nil
}

// validShipTarget is an install target name that stays one path element.
func validShipTarget(t string) bool {
	return t != "." && t != ".." && !strings.ContainsAny(t, "/\\\x00")
}

func (p *serverProc) report() ServerReport {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	cpus, _ := Affinity()
	return ServerReport{
		PID: os.Getpid(), CPUs: cpus, At: time.Now(),
		UserSeconds: time.Duration(ru.Utime.Nano()).Seconds(),
		SysSeconds:  time.Duration(ru.Stime.Nano()).Seconds(),
		MaxRSSKB:    ru.Maxrss, Threads: threadCount(),
		Server: p.wfs.Server.Stats(), Overload: p.wfs.Server.Overload(), Model: p.wfs.Server.Model().Name(), ModelStats: p.wfs.Server.ModelStats(), Files: p.run.Files.Stats(), Scheme: p.wfs.Guard.Stats(),
	}
}

// threadCount is the process's number of threads (/proc/self/status).
func threadCount() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			var n int
			fmt.Sscan(strings.TrimSpace(v), &n)
			return n
		}
	}
	return 0
}

// ControlLinePrefix starts the line of serve's output that names the
// control file; it is the last line serve prints once it is ready, and the
// engine waits for it.
const ControlLinePrefix = "control file: "
