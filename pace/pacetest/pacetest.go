// Package pacetest plays a pacer as the dispatcher does, for tests of
// package pace and of the code that builds pacers.
package pacetest

import (
	"testing"
	"time"

	"github.com/authbench/authbench/pace"
)

// Simulate asks p for hits 0, 1, 2, ... as the dispatcher does, advancing
// elapsed to each hit's due time (timers that fire exactly on time, no wall
// clock), and returns the due times until p stops (stopped) or a hit would be
// due at or after horizon. It fails t past two million hits or on a negative
// wait.
func Simulate(t testing.TB, p pace.Pacer, horizon time.Duration) (due []time.Duration, stopped bool) {
	t.Helper()
	const limit = 2_000_000
	var elapsed time.Duration
	for n := uint64(0); ; n++ {
		if n >= limit {
			t.Fatalf("more than %d hits before %v", limit, horizon)
		}
		wait, stop := p.Pace(elapsed, n)
		if stop {
			return due, true
		}
		if wait < 0 {
			t.Fatalf("hit %d: negative wait %v", n, wait)
		}
		d := elapsed + wait
		if d >= horizon {
			return due, false
		}
		due = append(due, d)
		elapsed = d
	}
}
