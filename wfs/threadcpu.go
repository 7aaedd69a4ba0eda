// The CPU time of the server's own threads: counting it, and burning
// the service CPU a model charges per request.

package wfs

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// threadMeter adds one OS thread's CPU time to the server's count.
type threadMeter struct {
	s    *Server
	last time.Duration
}

// meterThread locks the calling goroutine to its OS thread and starts
// counting the thread's CPU time.
func (s *Server) meterThread() *threadMeter {
	runtime.LockOSThread()
	return &threadMeter{s: s, last: threadCPU()}
}

// flush adds the thread's CPU time since the last flush to the server's
// count, so that Stats sees it while the server runs. Only the metered
// goroutine calls it.
func (m *threadMeter) flush() {
	now := threadCPU()
	m.s.cpuNanos.Add(int64(now - m.last))
	m.last = now
}

// stop flushes and unlocks the goroutine from its thread.
func (m *threadMeter) stop() {
	m.flush()
	runtime.UnlockOSThread()
}

// countThreadCPU locks the calling goroutine to its OS thread and returns
// a func that adds the thread's CPU time since then to the server's count
// and unlocks it.
func (s *Server) countThreadCPU() func() { return s.meterThread().stop }

// burnThreadCPU keeps the calling thread busy until it has used d of CPU
// time (CLOCK_THREAD_CPUTIME_ID), locking the goroutine to its thread
// meanwhile so that the clock it reads is its own.
func burnThreadCPU(d time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPUClock()
	if !ok {
		return
	}
	for {
		now, ok := threadCPUClock()
		if !ok || now-start >= d {
			return
		}
	}
}

// threadCPUClock reads the calling thread's CPU clock.
func threadCPUClock() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// threadCPU is the calling thread's user and system CPU time.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
