package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/authbench/authbench/wfs"
	"golang.org/x/sys/unix"
)

// readyTimeout bounds how long a WFS process may take to bind and write its
// contact and control files.
const readyTimeout = 30 * time.Second

// stopTimeout is how long a WFS process has to exit after SIGTERM before it
// is killed. A WFS stops in well under a second; the engine's own exit on
// a signal (within 5 s) includes this wait.
const stopTimeout = 3 * time.Second

// ServerLauncher starts each scheme's WFS as a process of its own (the
// `authbench serve` code path), so that its CPU is its own: pinned to its
// own CPUs, optionally under a CPU quota, and measured across all of its
// threads apart from the load generator's.
type ServerLauncher struct {
	// Command runs `authbench serve`: the program and its leading arguments,
	// for example {"/usr/local/bin/authbench", "serve"}. ServeArgs follow.
	Command []string
	// Env is added to the process's environment.
	Env []string
	// CPUs pins the WFS process ("" leaves it unpinned).
	CPUs string
	// Quota caps the WFS process's CPU (in CPUs: 0.5 is half of one) with a
	// cgroup v1 CPU controller; 0 means no cap.
	Quota float64
}

// WFSProcess is a running WFS process and its control channel.
type WFSProcess struct {
	cmd         *exec.Cmd
	ctl         *wfs.ControlClient
	contact     wfs.Contact
	contactPath string
	endpoint    string
	quota       *cpuQuota

	exited  chan struct{} // closed when the process has exited
	waitErr error
	stderr  *tailBuffer
	// unwatch stops the watch on an attached process (watchAttached).
	unwatch func()
}

// Watching a WFS process someone else started: how often, how long a
// control call may take, and how many in a row must fail before it is
// taken for dead (one slow answer under load is not a death).
const (
	attachedProbeEvery  = 500 * time.Millisecond
	attachedCallTimeout = 2 * time.Second
	attachedFailures    = 3
)

// Contact is the WFS's contact file, as the process wrote it.
func (p *WFSProcess) Contact() wfs.Contact { return p.contact }

// Exited is closed when the process has exited.
func (p *WFSProcess) Exited() <-chan struct{} { return p.exited }

// Throttled is the number of CFS periods the process's CPU quota
// throttled it in (0 without a quota).
func (p *WFSProcess) Throttled() int64 {
	if p.quota == nil {
		return 0
	}
	return p.quota.throttled()
}

// Endpoint is the WFS's request endpoint.
func (p *WFSProcess) Endpoint() string { return p.endpoint }

// Start runs the WFS process for cfg and waits until it is ready (its
// contact and control files written), then connects the control channel.
func (l ServerLauncher) Start(ctx context.Context, cfg ServeConfig) (*WFSProcess, error) {
	if len(l.Command) == 0 {
		return nil, errors.New("wfs process: no serve command (ServerLauncher.Command)")
	}
	cfg.Pin = l.CPUs
	args := append(append([]string{}, l.Command[1:]...), ServeArgs(cfg)...)
	cmd := exec.Command(l.Command[0], args...)
	cmd.Env = append(os.Environ(), l.Env...)
	// Its own process group: a terminal's SIGINT reaches the engine, which
	// stops the WFS itself after collecting its figures. Should the engine
	// die without stopping it (SIGKILL, `timeout -k`), the kernel sends the
	// WFS SIGTERM, so that no orphan serve outlives it (Pdeathsig follows
	// the thread that forked; Go keeps its threads, except those of
	// goroutines that exit locked to one, which the engine never does).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("wfs process: %w", err)
	}
	p := &WFSProcess{cmd: cmd, exited: make(chan struct{}), stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("wfs process: start %s: %w", l.Command[0], err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if path, ok := strings.CutPrefix(sc.Text(), ControlLinePrefix); ok {
				ready <- path
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if l.Quota > 0 {
		q, err := newCPUQuota(cmd.Process.Pid, l.Quota)
		if err != nil {
			p.Kill()
			return nil, err
		}
		p.quota = q
	}
	var ctlPath string
	select {
	case ctlPath = <-ready:
	case <-p.exited:
		return nil, fmt.Errorf("wfs process exited before it was ready: %v: %s", p.waitErr, oneLine(p.stderr.String()))
	case <-time.After(readyTimeout):
		p.Kill()
		return nil, fmt.Errorf("wfs process not ready within %s: %s", readyTimeout, oneLine(p.stderr.String()))
	case <-ctx.Done():
		p.Kill()
		return nil, ctx.Err()
	}
	fail := func(err error) (*WFSProcess, error) {
		p.Kill()
		return nil, fmt.Errorf("wfs process: %w", err)
	}
	runDir := cfg.RunDir
	p.contactPath = (&wfs.RunDir{Root: runDir}).ContactPath()
	if p.contact, err = wfs.ReadContact(p.contactPath); err != nil {
		return fail(err)
	}
	if p.endpoint, err = p.contact.Endpoint(); err != nil {
		return fail(err)
	}
	if p.ctl, err = wfs.DialControl(ctlPath); err != nil {
		return fail(err)
	}
	return p, nil
}

// stale reports a contact file whose WFS process is gone: one on this host
// whose pid no longer runs (a stopped serve left it; load then timed out
// after 10 s on "control stats: timeout"). A WFS on another host is not
// checked here.
func stale(c wfs.Contact) error {
	pid, err := strconv.Atoi(c[wfs.ContactPID])
	if err != nil || pid <= 0 {
		return nil
	}
	host, _ := os.Hostname()
	switch c[wfs.ContactHost] {
	case host, "localhost", "127.0.0.1", "::1":
	default:
		return nil
	}
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("the WFS it names (pid %d on %s) is not running: the contact file is stale; start authbench serve again", pid, c[wfs.ContactHost])
	}
	return nil
}

// Attach connects to a WFS process someone else started (authbench serve
// in a Slurm step, say) through its contact file and the owner-only
// control file beside it, on the shared file system. Such a process is
// never stopped from here: stop only closes the control channel. It is
// watched (watchAttached): Exited closes once it is seen to be gone.
func Attach(contactPath string) (*WFSProcess, error) {
	p := &WFSProcess{exited: make(chan struct{}), stderr: &tailBuffer{max: 4096}, contactPath: contactPath}
	var err error
	if p.contact, err = wfs.ReadContact(contactPath); err != nil {
		return nil, err
	}
	if p.endpoint, err = p.contact.Endpoint(); err != nil {
		return nil, fmt.Errorf("%s: %w", contactPath, err)
	}
	if err := stale(p.contact); err != nil {
		return nil, fmt.Errorf("%s: %w", contactPath, err)
	}
	ctl := filepath.Join(filepath.Dir(contactPath), wfs.ControlFile)
	if p.ctl, err = wfs.DialControl(ctl); err != nil {
		return nil, fmt.Errorf("control channel of %s: %w", contactPath, err)
	}
	p.watchAttached()
	return p, nil
}

// watchAttached watches an attached process until Stop, and marks it
// exited (Exited closes, Alive is false, ExitError says why) when it is
// seen to be gone: its pid no longer exists, where its contact file names
// this host, or its control channel has not answered attachedFailures
// calls in a row, wherever it runs.
func (p *WFSProcess) watchAttached() {
	ctl := p.ctl
	pid := p.PID()
	host, _ := os.Hostname()
	switch h := p.contact[wfs.ContactHost]; h {
	case "127.0.0.1", "::1", "localhost":
		host = h
	}
	local := pid > 0 && p.contact[wfs.ContactHost] == host
	stop, done := make(chan struct{}), make(chan struct{})
	p.unwatch = func() { close(stop); <-done }
	go func() {
		defer close(done)
		t := time.NewTicker(attachedProbeEvery)
		defer t.Stop()
		failed := 0
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if local && errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
				p.waitErr = fmt.Errorf("pid %d on %s is gone", pid, host)
				close(p.exited)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), attachedCallTimeout)
			err := ctl.Call(ctx, CtlStats, nil, nil)
			cancel()
			if err == nil {
				failed = 0
				continue
			}
			if failed++; failed >= attachedFailures {
				p.waitErr = fmt.Errorf("its control channel did not answer %d calls in a row: %v", failed, err)
				close(p.exited)
				return
			}
		}
	}()
}

// PID is the WFS process's pid (as its contact file gives it, for one
// attached to).
func (p *WFSProcess) PID() int {
	if p.cmd == nil {
		n, _ := strconv.Atoi(p.contact[wfs.ContactPID])
		return n
	}
	return p.cmd.Process.Pid
}

// Alive reports whether the process is still running (for an attached
// one, whether it has not been seen to be gone).
func (p *WFSProcess) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// ExitError describes how the process ended (for a run it died in).
func (p *WFSProcess) ExitError() error {
	if e := oneLine(p.stderr.String()); e != "" {
		return fmt.Errorf("wfs process %d exited mid-run (%v): %s", p.PID(), p.waitErr, e)
	}
	return fmt.Errorf("wfs process %d exited mid-run (%v)", p.PID(), p.waitErr)
}

// Call makes a control request, failing fast if the process has died.
func (p *WFSProcess) Call(ctx context.Context, op string, args, out any) error {
	if !p.Alive() {
		return p.ExitError()
	}
	return p.ctl.Call(ctx, op, args, out)
}

// Stats asks the WFS process for its ServerReport.
func (p *WFSProcess) Stats(ctx context.Context) (ServerReport, error) {
	var r ServerReport
	err := p.Call(ctx, CtlStats, nil, &r)
	return r, err
}

// Stop sends SIGTERM, waits for the process to exit (killing it after
// stopTimeout) and releases the control channel and CPU quota. It returns
// the process's error if it did not exit cleanly.
func (p *WFSProcess) Stop() error {
	if p.unwatch != nil {
		p.unwatch()
		p.unwatch = nil
	}
	if p.ctl != nil {
		p.ctl.Close()
		p.ctl = nil
	}
	if p.cmd == nil {
		return nil // attached: its owner stops it
	}
	var err error
	if p.Alive() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			if p.waitErr != nil {
				err = fmt.Errorf("wfs process: %v: %s", p.waitErr, strings.TrimSpace(p.stderr.String()))
			}
		case <-time.After(stopTimeout):
			p.Kill()
			err = fmt.Errorf("wfs process %d did not stop within %s of SIGTERM; killed", p.PID(), stopTimeout)
		}
	}
	if p.quota != nil {
		err = errors.Join(err, p.quota.remove())
	}
	return err
}

func (p *WFSProcess) Kill() {
	if p.ctl != nil {
		p.ctl.Close()
		p.ctl = nil
	}
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	if p.quota != nil {
		_ = p.quota.remove()
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// oneLine is a process's stderr as part of a one-line error: trimmed, its
// lines joined by "; ".
func oneLine(stderr string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(stderr), "\n", " ; ")), " ")
}
