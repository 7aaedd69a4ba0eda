package cylcpeer

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's own HZ.
const userHZ = 100

// ProcSample is a process's CPU and memory at one moment, from /proc.
type ProcSample struct {
	At time.Time
	// UserTicks and SysTicks are utime and stime from /proc/PID/stat, in
	// USER_HZ ticks: the whole process (every thread, live or exited),
	// children not included.
	UserTicks, SysTicks uint64
	// RSSKB is VmRSS and HWMKB VmHWM (peak RSS since start) from
	// /proc/PID/status; Threads its thread count and CPUs the CPUs it may
	// run on (Cpus_allowed_list).
	RSSKB, HWMKB int64
	Threads      int
	CPUs         string
	// RunNS is each live thread's time on a CPU in nanoseconds, by thread
	// id (/proc/PID/task/TID/schedstat, first field): finer than the
	// ticks, but a thread that has exited is no longer there.
	RunNS map[int]uint64
	// Libzmq is the threads libzmq started (comm ZMQbg/IO/N, ZMQbg/Reaper:
	// its I/O threads, where CURVE's handshakes and encryption run); the
	// others run Python, holding the GIL in turn.
	Libzmq map[int]bool
}

// CPU is the sample's user plus system CPU (ticks).
func (s ProcSample) CPU() time.Duration {
	return time.Duration(s.UserTicks+s.SysTicks) * time.Second / userHZ
}

// readRunNS reads each thread's schedstat run time, and which threads are
// libzmq's.
func readRunNS(pid int) (map[int]uint64, map[int]bool) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil
	}
	m := make(map[int]uint64, len(ents))
	zmq := map[int]bool{}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(dir + "/" + e.Name() + "/schedstat")
		if err != nil {
			continue // the thread has just exited
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		if ns, err := strconv.ParseUint(f[0], 10, 64); err == nil {
			m[tid] = ns
		}
		if comm, err := os.ReadFile(dir + "/" + e.Name() + "/comm"); err == nil && strings.HasPrefix(string(comm), "ZMQbg/") {
			zmq[tid] = true
		}
	}
	return m, zmq
}

// ReadProc samples process pid from /proc.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("scheduler pid %d: %w", pid, err)
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so the fields start after the last ')'. utime and stime are fields
	// 14 and 15 (proc(5)), the 12th and 13th after comm.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return s, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: %d fields after comm, want 13 or more", pid, len(f))
	}
	if s.UserTicks, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: utime: %w", pid, err)
	}
	if s.SysTicks, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return s, fmt.Errorf("/proc/%d/stat: stime: %w", pid, err)
	}
	s.RunNS, s.Libzmq = readRunNS(pid)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("scheduler pid %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(st), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "VmRSS":
			s.RSSKB = kb(v)
		case "VmHWM":
			s.HWMKB = kb(v)
		case "Threads":
			s.Threads, _ = strconv.Atoi(v)
		case "Cpus_allowed_list":
			s.CPUs = v
		}
	}
	return s, nil
}

func kb(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return n
}

// ProcWindow is a process's cost between two samples.
type ProcWindow struct {
	From, To ProcSample
	// PeakRSSKB is the largest VmRSS seen in the window (sampled).
	PeakRSSKB int64
}

// Wall is the window's wall time.
func (w ProcWindow) Wall() time.Duration { return w.To.At.Sub(w.From.At) }

// CPU is the process's CPU in the window: from the threads' schedstat
// run times (nanoseconds) when every thread of the first sample is still
// there at the last, else from utime+stime (10 ms ticks).
func (w ProcWindow) CPU() time.Duration {
	if d, ok := w.RunCPU(); ok {
		return d
	}
	return w.TickCPU()
}

// TickCPU is the window's utime+stime, all threads, in USER_HZ ticks.
func (w ProcWindow) TickCPU() time.Duration { return w.To.CPU() - w.From.CPU() }

// RunCPU is the window's CPU from the threads' schedstat run times; ok is
// false when they were not read or a thread of the first sample had
// exited by the last (its time in the window is lost).
func (w ProcWindow) RunCPU() (time.Duration, bool) {
	if len(w.From.RunNS) == 0 || len(w.To.RunNS) == 0 {
		return 0, false
	}
	var ns uint64
	for tid, to := range w.To.RunNS {
		from := w.From.RunNS[tid] // 0 for a thread started in the window
		if to < from {
			return 0, false
		}
		ns += to - from
	}
	for tid := range w.From.RunNS {
		if _, ok := w.To.RunNS[tid]; !ok {
			return 0, false
		}
	}
	return time.Duration(ns), true
}

// PythonCPU is the window's CPU, from schedstat, of the threads that run
// Python (all but libzmq's, ProcSample.Libzmq): a Cylc scheduler's main
// loop, its server thread and pyzmq's ZAP authenticator thread. ok is
// false as for RunCPU.
func (w ProcWindow) PythonCPU() (time.Duration, bool) {
	if _, ok := w.RunCPU(); !ok {
		return 0, false
	}
	var ns uint64
	for tid, to := range w.To.RunNS {
		if !w.To.Libzmq[tid] {
			ns += to - w.From.RunNS[tid]
		}
	}
	return time.Duration(ns), true
}

// UserSeconds and SysSeconds split CPU.
func (w ProcWindow) UserSeconds() float64 {
	return float64(w.To.UserTicks-w.From.UserTicks) / userHZ
}

// SysSeconds is the window's system CPU in seconds.
func (w ProcWindow) SysSeconds() float64 {
	return float64(w.To.SysTicks-w.From.SysTicks) / userHZ
}

// Share is the share of one CPU the process used in the window.
func (w ProcWindow) Share() float64 {
	if w.Wall() <= 0 {
		return 0
	}
	return w.CPU().Seconds() / w.Wall().Seconds()
}

// Watch samples a process's RSS every interval, between Start and Stop,
// for the window's peak.
type Watch struct {
	pid  int
	from ProcSample
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	peak int64
}

// StartWatch takes the window's first sample and samples RSS every
// interval (100 ms if 0) until Stop.
func StartWatch(pid int, interval time.Duration) (*Watch, error) {
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	s, err := ReadProc(pid)
	if err != nil {
		return nil, err
	}
	w := &Watch{pid: pid, from: s, peak: s.RSSKB, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				if s, err := ReadProc(pid); err == nil {
					w.mu.Lock()
					w.peak = max(w.peak, s.RSSKB)
					w.mu.Unlock()
				}
			}
		}
	}()
	return w, nil
}

// Stop takes the window's last sample and returns the window.
func (w *Watch) Stop() (ProcWindow, error) {
	close(w.stop)
	<-w.done
	s, err := ReadProc(w.pid)
	if err != nil {
		return ProcWindow{}, err
	}
	return ProcWindow{From: w.from, To: s, PeakRSSKB: max(w.peak, s.RSSKB)}, nil
}
