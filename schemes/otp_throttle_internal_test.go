package schemes

import (
	"fmt"
	"testing"
	"time"
)

// TestOTPThrottleSchedule: an identity's first OTPFreeFailures wrong codes
// cost nothing; the k-th failure beyond them holds its codes off for
// k × OTPDelayStep, at most OTPMaxDelay; failures are forgotten one per
// OTPForget, not at a success.
func TestOTPThrottleSchedule(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	a := otpAttempt{key: "k", label: "cli x", source: "127.0.0.1"}
	for _, c := range []struct {
		name     string
		failures int           // at t0, each at the end of the previous hold-off
		wantHold time.Duration // after the last
	}{
		{"within the free failures", OTPFreeFailures, 0},
		{"first beyond", OTPFreeFailures + 1, OTPDelayStep},
		{"third beyond", OTPFreeFailures + 3, 3 * OTPDelayStep},
		{"capped", OTPFreeFailures + 40, OTPMaxDelay},
	} {
		t.Run(c.name, func(t *testing.T) {
			th := newOTPThrottle()
			th.accepted(a) // known: only its own failures count
			now := t0
			for range c.failures {
				if b, ok := th.ids.get(a.key); ok && now.Before(b.until) {
					now = b.until
				}
				if _, ok := th.admit(a, now); !ok {
					t.Fatalf("refused at %s, after its hold-off", now.Sub(t0))
				}
				th.failed(a, now)
			}
			b, _ := th.ids.get(a.key)
			hold := time.Duration(0)
			if b.until.After(now) {
				hold = b.until.Sub(now)
			}
			if hold != c.wantHold {
				t.Fatalf("hold-off after %d failures = %s, want %s", c.failures, hold, c.wantHold)
			}
			if hold > 0 {
				if msg, ok := th.admit(a, now.Add(hold-time.Millisecond)); ok {
					t.Fatal("admitted inside the hold-off")
				} else {
					t.Log(msg)
				}
				if _, ok := th.admit(a, now.Add(hold)); !ok {
					t.Fatal("refused at the end of the hold-off")
				}
			}
		})
	}
	t.Run("forgotten in time, not at a success", func(t *testing.T) {
		th := newOTPThrottle()
		for range OTPFreeFailures {
			th.failed(a, t0)
		}
		th.accepted(a)
		th.failed(a, t0) // the first beyond, though a success came between
		if b, _ := th.ids.get(a.key); !b.until.Equal(t0.Add(OTPDelayStep)) {
			t.Fatalf("hold-off until %s, want %s", b.until.Sub(t0), OTPDelayStep)
		}
		later := t0.Add(time.Duration(OTPFreeFailures+1) * OTPForget)
		th.failed(a, later) // all forgotten: free again
		if b, _ := th.ids.get(a.key); b.until.After(later) {
			t.Fatalf("held off %s after the failures were forgotten", b.until.Sub(later))
		}
	})
}

// TestOTPThrottleSources: failures of identities never accepted count per
// source, and past OTPSourceFreeFailures that source's unknown identities
// are held off; known identities, identities with a live job secret and
// other sources are not.
func TestOTPThrottleSources(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	th := newOTPThrottle()
	known := otpAttempt{key: "known", label: "cli owner", source: "10.0.0.1"}
	th.accepted(known)
	for i := range OTPSourceFreeFailures + 1 {
		a := otpAttempt{key: fmt.Sprint("spray", i), label: "cli x", source: "10.0.0.1"}
		if _, ok := th.admit(a, t0); !ok {
			t.Fatalf("fresh identity %d refused before the source's free failures were spent", i)
		}
		th.failed(a, t0)
	}
	for _, c := range []struct {
		name string
		a    otpAttempt
		ok   bool
	}{
		{"a fresh identity from the source", otpAttempt{key: "fresh", label: "cli y", source: "10.0.0.1"}, false},
		{"a known identity from the source", known, true},
		{"a job with a live secret from the source", otpAttempt{key: "job", label: "job 1/a/01", source: "10.0.0.1", liveJob: true}, true},
		{"a fresh identity from another source", otpAttempt{key: "fresh", label: "cli y", source: "10.0.0.2"}, true},
	} {
		msg, ok := th.admit(c.a, t0.Add(time.Millisecond))
		if ok != c.ok {
			t.Errorf("%s: admitted %v (%s), want %v", c.name, ok, msg, c.ok)
		}
	}
	if _, ok := th.admit(otpAttempt{key: "fresh", source: "10.0.0.1"}, t0.Add(OTPDelayStep)); !ok {
		t.Error("a fresh identity from the source refused after the source's hold-off")
	}
}

// TestOTPThrottleBounded: the identities and sources tracked and the
// identities remembered as known are bounded, the least recently used
// evicted first.
func TestOTPThrottleBounded(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	th := newOTPThrottle()
	for i := range 2 * otpMaxIdentities {
		a := otpAttempt{key: fmt.Sprint("id", i), source: fmt.Sprint("src", i)}
		th.failed(a, t0)
		th.accepted(a)
	}
	if th.ids.len() != otpMaxIdentities || th.sources.len() != otpMaxSources || th.known.len() != otpMaxKnown {
		t.Fatalf("tracked %d identities, %d sources, %d known; want at most %d, %d, %d",
			th.ids.len(), th.sources.len(), th.known.len(), otpMaxIdentities, otpMaxSources, otpMaxKnown)
	}
	if _, ok := th.ids.get("id0"); ok {
		t.Error("the oldest identity was kept")
	}
	if _, ok := th.ids.get(fmt.Sprint("id", 2*otpMaxIdentities-1)); !ok {
		t.Error("the newest identity was evicted")
	}
}
