package issuerload

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/issuer"
)

// TestProfileLifetimes: the defaults are package issuer's.
func TestProfileLifetimes(t *testing.T) {
	if AccessLifetimeV10 != issuer.DefaultAccessLifetime || RefreshLifetimeV10 != issuer.DefaultRefreshLifetime ||
		AccessLifetimeLater != issuer.DefaultAccessLifetimeLate || RefreshLifetimeLater != issuer.DefaultRefreshLifetimeLate {
		t.Error("profile lifetimes differ from package issuer's")
	}
	if err := DefaultInputs(1, fourWaits()).Validate(); err != nil {
		t.Errorf("DefaultInputs: %v", err)
	}
}

// TestRefreshes: refresh counts at the window's boundaries. V = L − M.
func TestRefreshes(t *testing.T) {
	tests := []struct {
		name          string
		policy        string
		l, m, r, wait time.Duration
		n             int64
		expired       bool
	}{
		{"keep-fresh no wait", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 0, 0, false},
		{"keep-fresh just under V", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 15*minute - 1, 0, false},
		{"keep-fresh exactly V", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 15 * minute, 0, false},
		{"keep-fresh just over V", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 15*minute + 1, 1, false},
		{"keep-fresh exactly 2V", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 30 * minute, 1, false},
		{"keep-fresh just over 2V", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 30*minute + 1, 2, false},
		{"keep-fresh 40m", RefreshKeepFresh, 20 * minute, 5 * minute, 240 * hr, 40 * minute, 2, false},
		{"keep-fresh past R never expires", RefreshKeepFresh, 20 * minute, 5 * minute, 1 * hr, 3 * hr, 11, false},
		// No margin: a wait of exactly one lifetime needs none, just over one.
		{"no margin exactly L", RefreshKeepFresh, 20 * minute, 0, 240 * hr, 20 * minute, 0, false},
		{"no margin just over L", RefreshKeepFresh, 20 * minute, 0, 240 * hr, 20*minute + 1, 1, false},
		{"no margin just under 3L", RefreshKeepFresh, time.Hour, 0, 720 * hr, 3*hr - 1, 2, false},
		{"no margin just over 3L", RefreshKeepFresh, time.Hour, 0, 720 * hr, 3*hr + 1, 3, false},
		{"at-start exactly V", RefreshAtStart, 20 * minute, 5 * minute, 240 * hr, 15 * minute, 0, false},
		{"at-start just over V", RefreshAtStart, 20 * minute, 5 * minute, 240 * hr, 15*minute + 1, 1, false},
		{"at-start long wait", RefreshAtStart, 20 * minute, 5 * minute, 240 * hr, 100 * hr, 1, false},
		{"at-start exactly R", RefreshAtStart, 20 * minute, 5 * minute, 240 * hr, 240 * hr, 1, false},
		{"at-start just over R", RefreshAtStart, 20 * minute, 5 * minute, 240 * hr, 240*hr + 1, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			in.RefreshPolicy, in.AccessLifetime, in.Margin, in.RefreshLifetime = tc.policy, tc.l, tc.m, tc.r
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			n, exp := in.Refreshes(tc.wait)
			if n != tc.n || exp != tc.expired {
				t.Errorf("Refreshes(%v) = %d, %v; want %d, %v", tc.wait, n, exp, tc.n, tc.expired)
			}
			// The model's mean over a one-point list is the same count.
			in.Waits = Waits{Empirical: []time.Duration{tc.wait}}
			u := compute(t, in).Flow(FlowUser)
			near(t, "refreshes/transfer", u.PerTransfer.Refreshes, float64(tc.n))
		})
	}
}

// TestService: λ = 12/h, V = 0.25 h, L = 1/3 h. T_fts is reused:
// reuse(12) = 3/h; T_xfer is a·12/h; rows = requests × 1/3.
func TestService(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Inputs)
		want flowWant
	}{
		{"both SEs, at start", func(*Inputs) {},
			flowWant{cc: 15, access: 15, accRows: 5, roundTrips: 1.25}},
		{"one per SE", func(in *Inputs) { in.BothSEs = false },
			flowWant{cc: 27, access: 27, accRows: 9, roundTrips: 2.25}},
		// Fetched at submit: half the transfers wait past 15 min and get
		// a new token at the start: 3 + 12 + 6.
		{"at submit", func(in *Inputs) { in.ServiceTokens = ServiceAtSubmit },
			flowWant{cc: 21, access: 21, accRows: 7, roundTrips: 1.75}},
		{"at submit, one per SE", func(in *Inputs) { in.ServiceTokens, in.BothSEs = ServiceAtSubmit, false },
			flowWant{cc: 39, access: 39, accRows: 13, roundTrips: 3.25}},
		{"no reuse", func(in *Inputs) { in.NoReuse = true },
			flowWant{cc: 24, access: 24, accRows: 8, roundTrips: 2}},
		// Later profile: L = 1 h, V = 55 min: reuse(12) = 12/12 = 1/h.
		{"later profile", func(in *Inputs) { in.AccessLifetime, in.RefreshLifetime = AccessLifetimeLater, RefreshLifetimeLater },
			flowWant{cc: 13, access: 13, accRows: 13, roundTrips: 13.0 / 12}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.set(&in)
			f := compute(t, in).Flow(FlowService)
			tc.want.check(t, f)
			if f.RefreshRows != 0 || f.Requests.Refresh != 0 || f.Requests.TokenExchange != 0 {
				t.Errorf("service flow has refresh or exchange: %+v", f)
			}
		})
	}
}

// TestUser: λ = 12/h, one user (exchange 1 reused: 3/h), fourWaits(), R =
// 240 h.
func TestUser(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Inputs)
		want flowWant
	}{
		// Exchange 2: 12/h; refreshes 12 × 0.75 = 9/h. Refresh rows
		// 12 × (E[n]·V + R) = 12 × (0.75 × 0.25 + 240) = 2882.25.
		{"keep-fresh", func(*Inputs) {},
			flowWant{te: 15, ref: 9, access: 24, refresh: 21, accRows: 8, refRows: 2882.25, roundTrips: 2, refPer: 0.75}},
		// Refreshes 12 × 0.5 = 6/h. Refresh rows 12 × (R + E[W·1{V<W<=R}])
		// = 12 × (240 + 14/60) = 2882.8.
		{"at-start", func(in *Inputs) { in.RefreshPolicy = RefreshAtStart },
			flowWant{te: 15, ref: 6, access: 21, refresh: 18, accRows: 7, refRows: 2882.8, roundTrips: 1.75, refPer: 0.5}},
		// R = 30 min: the 40 min wait expires; 16 min is refreshed.
		// Exchange 2 rows 12 × (16/60/4 + 0.5 × 0.75) = 5.3, refresh
		// rows 12 × 0.25 × 0.5 = 1.5.
		{"at-start, short refresh lifetime", func(in *Inputs) { in.RefreshPolicy, in.RefreshLifetime = RefreshAtStart, 30*minute },
			flowWant{te: 15, ref: 3, access: 18, refresh: 15, accRows: 6, refRows: 6.8, roundTrips: 1.5, refPer: 0.25, expired: 0.25}},
		{"one per SE", func(in *Inputs) { in.BothSEs = false },
			flowWant{te: 27, ref: 18, access: 45, refresh: 42, accRows: 15, refRows: 5764.5, roundTrips: 3.75, refPer: 1.5}},
		// Three users: 3 × reuse(4) = 3 × 4/2 = 6.
		{"three users", func(in *Inputs) { in.Users = 3 },
			flowWant{te: 18, ref: 9, access: 27, refresh: 21, accRows: 9, refRows: 2882.25, roundTrips: 2.25, refPer: 0.75}},
		{"joint Rucio and FTS audience", func(in *Inputs) { in.JointRucioFTS = true },
			flowWant{te: 12, ref: 9, access: 21, refresh: 21, accRows: 7, refRows: 2882.25, roundTrips: 1.75, refPer: 0.75}},
		{"no reuse", func(in *Inputs) { in.NoReuse = true },
			flowWant{te: 24, ref: 9, access: 33, refresh: 21, accRows: 11, refRows: 2882.25, roundTrips: 2.75, refPer: 0.75}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.set(&in)
			tc.want.check(t, compute(t, in).Flow(FlowUser))
		})
	}
}

// TestGroups: λ = 12/h, exchange 1 as in the user flow (3/h).
func TestGroups(t *testing.T) {
	e := math.Exp(-1.5)
	tests := []struct {
		name string
		set  func(*Inputs)
		want flowWant
	}{
		// 2 groups × 1 pair: 2 keys of demand 6/h, each renewed at
		// 6/(1+1.5) = 2.4/h, by refresh (e = exp(−6 × 239.75) = 0).
		// Refresh rows per key 2.4 × (0.25 + 1/6) = 1.
		{"two groups, both SEs", func(in *Inputs) { in.Groups = 2 },
			flowWant{te: 3, ref: 4.8, access: 7.8, refresh: 4.8, accRows: 2.6, refRows: 2, roundTrips: 0.65, refPer: 0.4}},
		// 2 groups × 2 SEs: 4 keys of demand 2 × 12/4 = 6/h.
		{"two groups, one per SE", func(in *Inputs) { in.Groups, in.BothSEs = 2, false },
			flowWant{te: 3, ref: 9.6, access: 12.6, refresh: 9.6, accRows: 4.2, refRows: 4, roundTrips: 1.05, refPer: 0.8}},
		// λ = 2, R = 1 h: one key of demand 2/h renewed at 2/1.5 = 4/3 per
		// hour; exchange 1 reuse(2) = 4/3 too. The refresh token has
		// expired at a renewal with e = exp(−2 × 0.75): exchange then.
		// Refresh tokens are stored 0.25 + (1−e)/2 h on average.
		{"refresh token expiring between renewals", func(in *Inputs) { in.TransfersPerHour, in.RefreshLifetime = 2, hr },
			flowWant{te: 4.0/3 + 4.0/3*e, ref: 4.0 / 3 * (1 - e), access: 8.0 / 3, refresh: 4.0 / 3,
				accRows: 8.0 / 9, refRows: 4.0 / 3 * (0.25 + (1-e)/2), roundTrips: 4.0 / 3, refPer: 2.0 / 3 * (1 - e)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.set(&in)
			tc.want.check(t, compute(t, in).Flow(FlowGroups))
		})
	}
}

// TestGroupsNoReuseIsUser: without reuse the groups flow is the user
// flow, token for token.
func TestGroupsNoReuseIsUser(t *testing.T) {
	for _, policy := range []string{RefreshKeepFresh, RefreshAtStart} {
		in := base()
		in.NoReuse, in.RefreshPolicy, in.Groups = true, policy, 3
		m := compute(t, in)
		u, g := *m.Flow(FlowUser), *m.Flow(FlowGroups)
		g.Flow = u.Flow
		if !reflect.DeepEqual(u, g) {
			t.Errorf("%s: groups %+v, user %+v", policy, g, u)
		}
	}
}

// storageLegs are a flow's legs for the transfer's storage tokens (all
// but Rucio's).
func storageLegs(f *FlowLoad) []Leg {
	var out []Leg
	for _, lg := range f.Legs {
		if lg.By == "FTS" || strings.HasPrefix(lg.Name, "T_xfer") {
			out = append(out, lg)
		}
	}
	return out
}

// TestBothSEsHalves: one token with both SEs as audience stores exactly
// half the storage tokens of one per SE, per hour and live, in the
// service flow (and in the user flow's exchange 2 and refreshes), for any
// waits and policy. The Rucio-side tokens are the same.
func TestBothSEsHalves(t *testing.T) {
	for _, w := range []Waits{fourWaits(), {ExponentialMean: 25 * minute}, {Histogram: []WaitShare{{0, 1}, {2 * hr, 3}}}} {
		for _, st := range []string{ServiceAtStart, ServiceAtSubmit} {
			for _, rp := range []string{RefreshKeepFresh, RefreshAtStart} {
				in := DefaultInputs(1000, w)
				in.ServiceTokens, in.RefreshPolicy = st, rp
				both := compute(t, in)
				in.BothSEs = false
				per := compute(t, in)
				for _, fl := range []Flow{FlowService, FlowUser} {
					b, p := storageLegs(both.Flow(fl)), storageLegs(per.Flow(fl))
					if len(b) == 0 || len(b) != len(p) {
						t.Fatalf("%s: legs %d and %d", fl, len(b), len(p))
					}
					for i := range b {
						if 2*b[i].AccessPerHour != p[i].AccessPerHour || 2*b[i].AccessRows != p[i].AccessRows ||
							2*b[i].RefreshPerHour != p[i].RefreshPerHour || 2*b[i].RefreshRows != p[i].RefreshRows ||
							2*b[i].RequestsPerHour != p[i].RequestsPerHour {
							t.Errorf("%+v %s %s %s: both SEs %+v, per SE %+v", w, st, rp, b[i].Name, b[i], p[i])
						}
					}
					if both.Flow(fl).Legs[0] != per.Flow(fl).Legs[0] {
						t.Errorf("%s: the Rucio leg changed", fl)
					}
				}
			}
		}
	}
}

// TestGroupsTradeOff: in the groups flow one token for both SEs halves
// the requests at low demand but costs P/N times the per-SE requests at
// high demand (every key renewed once per window).
func TestGroupsTradeOff(t *testing.T) {
	for _, tc := range []struct {
		rate, ratio, tol float64
	}{{0.001, 0.5, 0.01}, {1e6, 2, 0.01}} {
		in := DefaultInputs(tc.rate, fourWaits())
		in.SEs, in.SEPairs, in.JointRucioFTS = 3, 6, true
		both := compute(t, in).Flow(FlowGroups).Requests.Total()
		in.BothSEs = false
		per := compute(t, in).Flow(FlowGroups).Requests.Total()
		within(t, "both/per-SE requests", both/per, tc.ratio, tc.tol)
	}
}

// TestLittle: every leg's access rows are its issue rate times the
// access lifetime, in every flow and configuration.
func TestLittle(t *testing.T) {
	for _, w := range []Waits{fourWaits(), {ExponentialMean: 3 * hr}} {
		for _, both := range []bool{true, false} {
			for _, rp := range []string{RefreshKeepFresh, RefreshAtStart} {
				in := DefaultInputs(500, w)
				in.BothSEs, in.RefreshPolicy, in.Groups, in.SEs, in.SEPairs = both, rp, 4, 5, 7
				in.AccessLifetime, in.RefreshLifetime = AccessLifetimeLater, RefreshLifetimeLater
				for _, f := range compute(t, in).Flows {
					for _, lg := range f.Legs {
						near(t, string(f.Flow)+" "+lg.Name+" access rows", lg.AccessRows, lg.AccessPerHour*1)
					}
					near(t, string(f.Flow)+" access rows", f.AccessRows, f.AccessPerHour)
				}
			}
		}
	}
}

// TestWaitForms: a histogram is its empirical list; an exponential wait
// of mean V has S(V) = 1/e and E[n] = 1/(e − 1).
func TestWaitForms(t *testing.T) {
	in := base()
	want := compute(t, in)
	in.Waits = Waits{Histogram: []WaitShare{{40 * minute, 0.5}, {0, 0.5}, {16 * minute, 0.5}, {10 * minute, 0.5}}}
	got := compute(t, in)
	for i := range want.Flows {
		for j, lg := range want.Flows[i].Legs {
			g := got.Flows[i].Legs[j]
			near(t, lg.Name+" requests", g.RequestsPerHour, lg.RequestsPerHour)
			near(t, lg.Name+" refresh rows", g.RefreshRows, lg.RefreshRows)
		}
	}
	if got.WaitMean != 16*minute+30*time.Second {
		t.Errorf("histogram mean %v", got.WaitMean)
	}

	in.Waits = Waits{ExponentialMean: 15 * minute}
	in.ServiceTokens = ServiceAtSubmit
	m := compute(t, in)
	near(t, "user refreshes", m.Flow(FlowUser).Requests.Refresh, 12/(math.E-1))
	near(t, "service refetches", m.Flow(FlowService).Requests.ClientCredentials, 3+12+12/math.E)
	// At-start rows need E[W·1{V < W <= R}] = (V+μ)e^(−1) − (R+μ)e^(−R/μ).
	in.RefreshPolicy, in.RefreshLifetime = RefreshAtStart, 30*minute
	m = compute(t, in)
	pm := 0.5/math.E - 0.75*math.Exp(-2)
	p := 1/math.E - math.Exp(-2)
	near(t, "at-start refresh rows", m.Flow(FlowUser).RefreshRows, 12*(pm+0.5*(1-p))+12*p*0.5)
	near(t, "expired share", m.Flow(FlowUser).ExpiredShare, math.Exp(-2))
}

// TestValidate: invalid inputs give a one-line error naming the field.
func TestValidate(t *testing.T) {
	tests := []struct {
		field string
		set   func(*Inputs)
	}{
		{"transfers_per_hour", func(in *Inputs) { in.TransfersPerHour = -1 }},
		{"transfers_per_hour", func(in *Inputs) { in.TransfersPerHour = 0 }},
		{"transfers_per_hour", func(in *Inputs) { in.TransfersPerHour = math.NaN() }},
		{"transfers_per_hour", func(in *Inputs) { in.TransfersPerHour = math.Inf(1) }},
		{"waits: empty", func(in *Inputs) { in.Waits = Waits{} }},
		{"waits: empty", func(in *Inputs) { in.Waits = Waits{Empirical: []time.Duration{}} }},
		{"waits: give only one", func(in *Inputs) { in.Waits.ExponentialMean = hr }},
		{"waits.empirical_ns[1]", func(in *Inputs) { in.Waits = Waits{Empirical: []time.Duration{0, -1}} }},
		{"waits.exponential_mean_ns", func(in *Inputs) { in.Waits = Waits{ExponentialMean: -hr} }},
		{"waits.histogram[0].share", func(in *Inputs) { in.Waits = Waits{Histogram: []WaitShare{{hr, -1}}} }},
		{"waits.histogram[0].share", func(in *Inputs) { in.Waits = Waits{Histogram: []WaitShare{{hr, math.NaN()}}} }},
		{"waits.histogram[1].wait_ns", func(in *Inputs) { in.Waits = Waits{Histogram: []WaitShare{{hr, 1}, {-hr, 1}}} }},
		{"waits.histogram: shares sum to 0", func(in *Inputs) { in.Waits = Waits{Histogram: []WaitShare{{hr, 0}}} }},
		{"access_lifetime_ns", func(in *Inputs) { in.AccessLifetime = 0 }},
		{"access_lifetime_ns", func(in *Inputs) { in.AccessLifetime = -minute }},
		{"refresh_lifetime_ns: must be > 0", func(in *Inputs) { in.RefreshLifetime = 0 }},
		{"refresh_lifetime_ns: must be at least", func(in *Inputs) { in.RefreshLifetime = 10 * minute }},
		{"margin_ns: must be >= 0", func(in *Inputs) { in.Margin = -1 }},
		{"margin_ns: must be less", func(in *Inputs) { in.Margin = 20 * minute }},
		{"margin_ns: must be less", func(in *Inputs) { in.Margin = hr }},
		{"users", func(in *Inputs) { in.Users = 0 }},
		{"groups", func(in *Inputs) { in.Groups = -2 }},
		{"ses", func(in *Inputs) { in.SEs = 1 }},
		{"se_pairs", func(in *Inputs) { in.SEPairs = 0 }},
		{"se_pairs: must be at most", func(in *Inputs) { in.SEs, in.SEPairs = 3, 7 }},
		{"refresh_policy", func(in *Inputs) { in.RefreshPolicy = "lazy" }},
		{"service_tokens", func(in *Inputs) { in.ServiceTokens = "never" }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			in := base()
			tc.set(&in)
			_, err := Compute(in)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "issuerload: "+tc.field) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting %q", msg, "issuerload: "+tc.field)
			}
			if err.Error() != in.Validate().Error() {
				t.Errorf("Validate and Compute disagree")
			}
		})
	}
	// Empty policies are the defaults.
	in := base()
	in.RefreshPolicy, in.ServiceTokens = "", ""
	m := compute(t, in)
	if m.Inputs.RefreshPolicy != RefreshKeepFresh || m.Inputs.ServiceTokens != ServiceAtStart {
		t.Errorf("defaults %q %q", m.Inputs.RefreshPolicy, m.Inputs.ServiceTokens)
	}
	if !reflect.DeepEqual(m.Flows, compute(t, base()).Flows) {
		t.Error("empty policies differ from the defaults")
	}
	// Margin 0 is allowed; a margin a nanosecond short of L too.
	in.Margin = 0
	compute(t, in)
	in.Margin = in.AccessLifetime - 1
	compute(t, in)
}

// TestJSON: the model survives a JSON round trip, with durations in ns.
func TestJSON(t *testing.T) {
	in := base()
	in.RefreshPolicy = RefreshAtStart
	m := compute(t, in)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*m, back) {
		t.Errorf("round trip differs:\n%+v\n%+v", *m, back)
	}
	for _, key := range []string{`"transfers_per_hour":12`, `"access_lifetime_ns":1200000000000`, `"window_ns":900000000000`,
		`"requests_per_hour":{"client_credentials":`, `"access_rows_live":`, `"refresh_rows_live":`, `"per_transfer":{"round_trips":`,
		`"flow":"groups"`, `"grant":"refresh_token"`, `"empirical_ns":[0,600000000000,`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	// The inputs alone decode from JSON and compute the same model.
	var in2 Inputs
	ib, _ := json.Marshal(in)
	if err := json.Unmarshal(ib, &in2); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(compute(t, in2), m) {
		t.Error("inputs from JSON give another model")
	}
}
