package issuerload

import (
	"math"
	"testing"
	"time"
)

const (
	minute = time.Minute
	hr     = time.Hour
)

// fourWaits are the empirical waits most tests use: with the 15 min
// window, n(W) keep-fresh is 0, 0, 1, 2 (mean 0.75), S(15m) = 0.5, and
// E[W·1{15m < W <= R}] = (16+40)/4 min = 14 min for R >= 40 min.
func fourWaits() Waits {
	return Waits{Empirical: []time.Duration{0, 10 * minute, 16 * minute, 40 * minute}}
}

// base is 12 transfers/h, the profile 1.0 lifetimes (20 min, 10 d = 240
// h), a 5 min margin (window V = 15 min = 0.25 h, so reuse(12) =
// 12/(1+3) = 3/h), one token for both SEs, fourWaits().
func base() Inputs { return DefaultInputs(12, fourWaits()) }

// near fails unless got is want to a relative 1e-9.
func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// within fails unless got is want to a relative tol.
func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s = %.6g, want %.6g ± %.1f %%", what, got, want, 100*tol)
	}
}

// compute is Compute that fails the test on error.
func compute(t *testing.T, in Inputs) *Model {
	t.Helper()
	m, err := Compute(in)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return m
}

// flowWant is the hand-computed figures of a flow.
type flowWant struct {
	cc, te, ref        float64 // requests per hour by grant
	access, refresh    float64 // tokens stored per hour
	accRows, refRows   float64 // rows live
	roundTrips, refPer float64 // per transfer
	expired            float64
}

// check compares f with w.
func (w flowWant) check(t *testing.T, f *FlowLoad) {
	t.Helper()
	near(t, "client_credentials/h", f.Requests.ClientCredentials, w.cc)
	near(t, "token_exchange/h", f.Requests.TokenExchange, w.te)
	near(t, "refresh/h", f.Requests.Refresh, w.ref)
	near(t, "access stored/h", f.AccessPerHour, w.access)
	near(t, "refresh stored/h", f.RefreshPerHour, w.refresh)
	near(t, "access rows", f.AccessRows, w.accRows)
	near(t, "refresh rows", f.RefreshRows, w.refRows)
	near(t, "round trips/transfer", f.PerTransfer.RoundTrips, w.roundTrips)
	near(t, "refreshes/transfer", f.PerTransfer.Refreshes, w.refPer)
	near(t, "expired share", f.ExpiredShare, w.expired)
	lam := 0.0
	if w.roundTrips > 0 {
		lam = f.Requests.Total() / f.PerTransfer.RoundTrips
	}
	if lam > 0 {
		near(t, "access tokens/transfer", f.PerTransfer.AccessTokens, f.AccessPerHour/lam)
		near(t, "refresh tokens/transfer", f.PerTransfer.RefreshTokens, f.RefreshPerHour/lam)
	}
}
