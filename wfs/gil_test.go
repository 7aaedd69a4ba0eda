package wfs

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGILExcludes: two threads never hold the lock at once.
func TestGILExcludes(t *testing.T) {
	g := NewGIL(time.Millisecond)
	var in atomic.Int32
	var wg sync.WaitGroup
	for id := 1; id <= 3; id++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				g.Take(id)
				if in.Add(1) != 1 {
					t.Error("two holders at once")
				}
				in.Add(-1)
				g.Drop(id)
			}
		}()
	}
	wg.Wait()
}

// TestGILForcesSwitch: a holder that burns CPU without releasing is made
// to drop the lock after about the switch interval, as CPython's
// gil_drop_request does, and the waiter's forced take is counted.
func TestGILForcesSwitch(t *testing.T) {
	g := NewGIL(5 * time.Millisecond)
	g.Take(GILServer)
	done := make(chan time.Duration)
	go func() {
		t0 := time.Now()
		g.Take(GILZAP)
		g.Drop(GILZAP)
		done <- time.Since(t0)
	}()
	time.Sleep(time.Millisecond) // the waiter waits
	g.Burn(GILServer, 60*time.Millisecond)
	g.Drop(GILServer)
	wait := <-done
	if wait >= 50*time.Millisecond {
		t.Errorf("waiter took the lock after %v: the holder's burn did not drop it", wait)
	}
	st := g.Stats()
	if st.Forced < 1 || st.Waits < 1 {
		t.Errorf("stats %+v: want a forced switch and a wait", st)
	}
}

// TestGILNil: a nil lock does nothing, and its Burn still burns.
func TestGILNil(t *testing.T) {
	var g *GIL
	g.Take(GILServer)
	g.Check(GILServer)
	g.Drop(GILServer)
	g.Burn(GILServer, time.Millisecond)
	if g.Stats() != (GILStats{}) {
		t.Error("nil lock has stats")
	}
}
