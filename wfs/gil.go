package wfs

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// GIL stands for CPython's global interpreter lock, which a real Cylc
// scheduler's Python threads share: the server thread that drains the
// socket and serves each request (cylc/flow/network/server.py, operate;
// replier.py, listener), the scheduler's main loop (cylc/flow/scheduler.py)
// and pyzmq's ZAP authenticator thread (cylc-flow server.py start():
// ThreadAuthenticator(self.zmq_context).start(); pyzmq
// zmq/auth/thread.py, AuthenticationThread.run), which answers every CURVE
// handshake. The cylc model holds it while it serves a request and its
// CURVE ZAP handler takes it to answer a handshake, so that a handshake
// made during a drain waits for the server thread as it does in Cylc.
//
// It follows CPython 3.11's take_gil and drop_gil (Python/ceval_gil.h, as
// Debian 12's python3 runs cylc-flow 8.4.4): a thread that finds the lock
// held waits on a condition for the switch interval
// (sys.getswitchinterval(), 5 ms); if it timed out and no other thread
// took the lock meanwhile, it asks the holder to drop it (gil_drop_request),
// which the holder does at its next eval-breaker check and then waits
// until another thread has taken it (FORCE_SWITCHING). A holder that
// releases the lock of its own accord, around a blocking call (pyzmq's
// recv and send release it: zmq/backend/cython/socket.pyx, `with nogil`),
// only signals the condition: a woken waiter that finds the lock taken
// again waits a whole interval more. A thread serving request after
// request, each shorter than the interval with a release between them,
// therefore keeps the lock for a whole drain unless a waiter wins the race
// when it is released (the convoy effect of CPython issue 7946): Cylc's
// handshakes stall while the scheduler drains, its clients' next requests
// arrive late, and a drain that would go on with a fast handshake ends.
//
// Threads name themselves by a small integer (GILServer, GILZAP,
// GILMainLoop); each takes and drops the lock from one goroutine.
type GIL struct {
	interval time.Duration

	mu       sync.Mutex
	locked   bool
	last     int
	switches uint64
	// wake is the condition take_gil waits on (a signal with no waiter
	// is lost, as a condition variable's is); switched is closed when a
	// thread other than the last holder takes the lock (switch_cond).
	wake     chan struct{}
	switched chan struct{}
	drop     atomic.Bool

	// waiting counts the threads waiting in Take; handoff, set by a
	// voluntary Drop, reserves the lock for one of them.
	waiting int
	handoff bool
	rng     *rand.Rand

	waits, waitNanos, forced, handoffs atomic.Int64
	// burnt is the CPU each thread burnt in Burn, by thread id.
	burnt [gilThreads]atomic.Int64
}

// GILWakeWins is the chance that a thread waiting for the lock, woken by
// the holder's voluntary release, takes it before the holder takes it
// back. CPython leaves this race to the operating system (the waiter
// must be woken and scheduled while the holder is in its system call);
// Go's scheduler would all but always let the holder win, as it keeps a
// goroutine it readied queued on the holder's own P. The figure is fitted:
// with a release every GILReleaseEvery it gives a handshake made during a
// drain about the wait a real Cylc 8.4.4 scheduler's ZAP thread had here
// (fresh-connection handshakes: median 2 ms when it slept, 5-6 ms, 90th
// percentile 11-15 ms, while 8 clients kept it draining).
const GILWakeWins = 0.05

// Threads of a Cylc scheduler that take the GIL.
const (
	GILServer = 1 + iota
	GILZAP
	GILMainLoop
	gilThreads
)

// CPythonSwitchInterval is CPython's default switch interval
// (sys.getswitchinterval() = 0.005 on Debian 12's python3 3.11).
const CPythonSwitchInterval = 5 * time.Millisecond

// NewGIL returns a released lock with the given switch interval
// (CPythonSwitchInterval if 0).
func NewGIL(interval time.Duration) *GIL {
	if interval <= 0 {
		interval = CPythonSwitchInterval
	}
	return &GIL{interval: interval, wake: make(chan struct{}), switched: make(chan struct{}),
		rng: rand.New(rand.NewPCG(22, 7946))}
}

// GILStats counts the waits for the lock.
type GILStats struct {
	// Waits is the takes that found the lock held; WaitNanos their total
	// wait; Forced the drops a waiter forced (gil_drop_request).
	Waits, WaitNanos, Forced int64
	// ZAPBurnt is the CPU the ZAP handler burnt holding the lock.
	ZAPBurnt time.Duration
}

// Stats returns a snapshot of the counters; zero for a nil lock.
func (g *GIL) Stats() GILStats {
	if g == nil {
		return GILStats{}
	}
	return GILStats{Waits: g.waits.Load(), WaitNanos: g.waitNanos.Load(), Forced: g.forced.Load(),
		ZAPBurnt: time.Duration(g.burnt[GILZAP].Load())}
}

// Take acquires the lock for thread id (take_gil). A nil lock does nothing.
func (g *GIL) Take(id int) {
	if g == nil {
		return
	}
	g.mu.Lock()
	// A lock handed off by id's own release is another thread's to take.
	held := func() bool { return g.locked || g.handoff && g.last == id }
	if held() {
		t0 := time.Now()
		timer := time.NewTimer(g.interval)
		g.waiting++
		for held() {
			saved := g.switches
			g.mu.Unlock()
			timedOut := false
			select {
			case <-g.wake:
				timer.Stop() // (Go 1.23 timers: no stale tick after Stop)
			case <-timer.C:
				timedOut = true
			}
			timer.Reset(g.interval)
			g.mu.Lock()
			if timedOut && g.locked && g.switches == saved {
				g.drop.Store(true)
			}
		}
		g.waiting--
		timer.Stop()
		g.waits.Add(1)
		g.waitNanos.Add(int64(time.Since(t0)))
	}
	g.locked = true
	g.handoff = false
	if g.last != id {
		g.last = id
		g.switches++
		close(g.switched)
		g.switched = make(chan struct{})
	}
	// take_gil resets a pending drop request once it holds the lock.
	g.drop.Store(false)
	g.mu.Unlock()
}

// Drop releases the lock (drop_gil). If a waiter asked for it, the caller
// waits until another thread has taken it. A nil lock does nothing.
func (g *GIL) Drop(id int) {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.locked = false
	select {
	case g.wake <- struct{}{}:
	default:
	}
	forced := g.drop.Load() && g.last == id
	if !forced && g.waiting > 0 && g.rng.Float64() < GILWakeWins {
		// The woken waiter wins the race for the lock.
		g.handoff = true
		g.handoffs.Add(1)
	}
	if forced {
		g.drop.Store(false)
		g.forced.Add(1)
		ch := g.switched
		g.mu.Unlock()
		<-ch
		return
	}
	g.mu.Unlock()
}

// Check is an eval-breaker check by the holder id: if a waiter asked for
// the lock, drop it, let the waiter run, and take it back.
func (g *GIL) Check(id int) {
	if g == nil || !g.drop.Load() {
		return
	}
	g.Drop(id)
	g.Take(id)
}

// gilCheckEvery is how much CPU a holder burns between eval-breaker
// checks (CPython checks between bytecodes, far more often).
const gilCheckEvery = 50 * time.Microsecond

// GILReleaseEvery is how much CPU a holder burns between voluntary
// releases of the lock around a short system call. A Cylc 8.4.4
// scheduler's server thread made about ten epoll_wait calls per cylc ping
// served (strace -c on it here: 278 over 20 pings and 39 wakes): its
// graphql endpoint (network/server.py, WorkflowRuntimeServer.graphql)
// executes with graphql-core's AsyncioExecutor, whose event loop polls its
// selector on each iteration, and Python's select.epoll.poll releases the
// GIL around the call; with 1.3-1.7 ms of CPU per request that is one
// release every 150 us or so. Each release is a chance for a waiting
// thread (the ZAP handler) to win the lock.
const GILReleaseEvery = 150 * time.Microsecond

// Burn keeps the holder id's thread busy until it has used d of CPU,
// checking for drop requests as CPython's eval loop does. With a nil lock
// it is burnThreadCPU.
func (g *GIL) Burn(id int, d time.Duration) {
	if g == nil {
		burnThreadCPU(d)
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPUClock()
	if !ok {
		return
	}
	next, release := start+gilCheckEvery, start+GILReleaseEvery
	for {
		now, ok := threadCPUClock()
		if !ok || now-start >= d {
			if id >= 0 && id < gilThreads {
				g.burnt[id].Add(int64(now - start))
			}
			return
		}
		// The CPU the thread spends waiting is none: the wait blocks.
		switch {
		case now >= release:
			// A poll with no timeout, the lock released around it, as
			// asyncio's selector does.
			g.Drop(id)
			_, _ = unix.Poll(nil, 0)
			g.Take(id)
			release = now + GILReleaseEvery
			next = now + gilCheckEvery
		case now >= next:
			g.Check(id)
			next = now + gilCheckEvery
		}
	}
}
