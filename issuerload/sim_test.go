package issuerload

import (
	"math/rand/v2"
	"testing"
	"time"
)

// These tests check the model's equations against event-by-event
// simulations written independently of them.

// window is the time-averaging window [from, to).
type window struct{ from, to time.Duration }

// live adds the share of the window during which a token stored over
// [a, b) is held, i.e. its contribution to the mean rows live.
func (w window) live(sum *float64, a, b time.Duration) {
	a, b = max(a, w.from), min(b, w.to)
	if b > a {
		*sum += float64(b-a) / float64(w.to-w.from)
	}
}

// perHour counts an event at t in the window, per hour.
func (w window) perHour(sum *float64, t time.Duration) {
	if t >= w.from && t < w.to {
		*sum += 1 / (w.to - w.from).Hours()
	}
}

// TestSimUserLittle: periodic arrivals, each transfer waiting the next
// wait of a list, token by token: the mean rows live over whole periods
// at steady state are the model's (Little's law), and so are the
// requests per hour, for both policies and both token shapes.
func TestSimUserLittle(t *testing.T) {
	waits := []time.Duration{0, 10 * minute, 15 * minute, 15*minute + 1, 16 * minute, 40 * minute, 3 * hr}
	const gap = 5 * minute // 12 transfers/h
	for _, policy := range []string{RefreshKeepFresh, RefreshAtStart} {
		for _, both := range []bool{true, false} {
			in := DefaultInputs(12, Waits{Empirical: waits})
			in.RefreshLifetime, in.RefreshPolicy, in.BothSEs, in.NoReuse = 2*hr, policy, both, true
			l, r, v := in.AccessLifetime, in.RefreshLifetime, in.Window()
			perTransfer := 2
			if both {
				perTransfer = 1
			}
			// Steady state from 6 h (past the longest wait plus R); 12
			// periods of 7 waits × 5 min.
			w := window{6 * hr, 6*hr + 12*time.Duration(len(waits))*gap}
			var acc, ref, exch, refreshes, expired float64
			for i := 0; time.Duration(i)*gap < w.to; i++ {
				at, wait := time.Duration(i)*gap, waits[i%len(waits)]
				w.perHour(&exch, at) // exchange 1, no reuse
				w.live(&acc, at, at+l)
				for range perTransfer {
					w.perHour(&exch, at) // exchange 2: access and refresh
					w.live(&acc, at, at+l)
					issued := at // the live refresh token's issue
					switch {
					case policy == RefreshKeepFresh:
						for issued+v < at+wait {
							next := issued + v
							w.perHour(&refreshes, next)
							w.live(&ref, issued, next) // rotated
							w.live(&acc, next, next+l)
							issued = next
						}
					case wait > r:
						if at >= w.from && at < w.to {
							expired++
						}
					case wait > v:
						w.perHour(&refreshes, at+wait)
						w.live(&ref, issued, at+wait)
						w.live(&acc, at+wait, at+wait+l)
						issued = at + wait
					}
					w.live(&ref, issued, issued+r) // the last one expires
				}
			}
			f := compute(t, in).Flow(FlowUser)
			name := policy
			if !both {
				name += " per SE"
			}
			near(t, name+" access rows", f.AccessRows, acc)
			near(t, name+" refresh rows", f.RefreshRows, ref)
			near(t, name+" exchanges/h", f.Requests.TokenExchange, exch)
			near(t, name+" refreshes/h", f.Requests.Refresh, refreshes)
			near(t, name+" expired share", f.ExpiredShare, expired/float64(perTransfer)/(12*w.to.Hours()-12*w.from.Hours()))
		}
	}
}

// TestSimReuse: a token fetched on demand and reused within the window,
// under Poisson demand, is fetched ReuseRate times per hour.
func TestSimReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 5))
	for _, tc := range []struct {
		rate   float64
		window time.Duration
	}{{4, 15 * minute}, {60, 55 * minute}, {0.5, 15 * minute}} {
		now, issued, fetches := 0.0, -1e9, 0
		for range 200000 {
			now += rng.ExpFloat64() / tc.rate
			if now-issued > tc.window.Hours() {
				fetches++
				issued = now
			}
		}
		within(t, "fetches/h", float64(fetches)/now, ReuseRate(tc.rate, tc.window), 0.02)
	}
}

// TestSimGroupKey: one group key under Poisson demand with a refresh
// lifetime short enough for the refresh token to expire between
// renewals: exchanges, refreshes and refresh rows as the model says.
func TestSimGroupKey(t *testing.T) {
	in := DefaultInputs(2, fourWaits())
	in.RefreshLifetime, in.JointRucioFTS = hr, true
	v, r := in.Window().Hours(), in.RefreshLifetime.Hours()
	rng := rand.New(rand.NewPCG(14, 6))
	now, renewed := 0.0, 0.0
	var exch, refreshes, refRows float64 // refRows: hours of refresh tokens
	exch++                               // the first exchange, at 0
	for range 200000 {
		now += rng.ExpFloat64() / in.TransfersPerHour
		if now-renewed <= v {
			continue // the access token is reused
		}
		if now-renewed > r {
			exch++
			refRows += r
		} else {
			refreshes++
			refRows += now - renewed
		}
		renewed = now
	}
	f := compute(t, in).Flow(FlowGroups)
	ex, ref := f.Legs[0], f.Legs[1]
	within(t, "exchanges/h", exch/now, ex.RequestsPerHour, 0.03)
	within(t, "refreshes/h", refreshes/now, ref.RequestsPerHour, 0.03)
	within(t, "refresh rows", refRows/now, f.RefreshRows, 0.03)
	within(t, "access rows", (exch+refreshes)/now*in.AccessLifetime.Hours(), f.AccessRows, 0.03)
}
