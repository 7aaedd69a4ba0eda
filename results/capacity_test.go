package results

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// curve makes steps along a synthetic M/M/1-like latency curve: service
// time svc, so latency grows as svc/(1-rho) and explodes near capacity.
func curve(rates []float64, capacity float64, svc time.Duration, ops int64) []CapacityStep {
	var out []CapacityStep
	for _, r := range rates {
		rho := r / capacity
		lat := time.Duration(float64(svc) / math.Max(1-rho, 0.01))
		out = append(out, CapacityStep{Offered: r, Achieved: r, Count: ops, P50: lat / 2, P90: lat, P99: 2 * lat / 1, ServerUtil: rho, ClientUtil: 0.3})
	}
	return out
}

func TestFindKnee(t *testing.T) {
	rates := []float64{50, 75, 112, 169, 253, 380, 570, 854}
	rule := DefaultKneeRule
	tests := []struct {
		name          string
		steps         []CapacityStep
		serverCPUs    float64
		wantFound     bool
		wantRate      float64
		wantSustained float64
		wantWhy       string
		wantInvalid   string
	}{
		{
			// capacity 500/s: latency doubles past rho 0.5+; 380/s is rho 0.76
			// (4.2x the 50/s latency), 253/s is rho 0.51 (1.8x).
			name: "latency knee", steps: curve(rates, 500, time.Millisecond, 2000), serverCPUs: 0.5,
			wantFound: true, wantRate: 380, wantSustained: 253, wantWhy: "p99",
		},
		{
			name: "error knee", steps: func() []CapacityStep {
				s := curve(rates, 1e6, time.Millisecond, 2000)
				s[3].Errors = 3 // 0.15 %
				s[4].Errors = 5
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 169, wantSustained: 112, wantWhy: "errors",
		},
		{
			name: "one noisy step is not a knee", steps: func() []CapacityStep {
				s := curve(rates, 1e6, time.Millisecond, 2000)
				s[3].P99 *= 5
				s[4].Errors = 1
				return s
			}(), serverCPUs: 1, wantFound: false, wantSustained: 854, wantWhy: "not reached",
		},
		{
			name: "a crossing last step is an unconfirmed knee", steps: func() []CapacityStep {
				s := curve(rates, 1e6, time.Millisecond, 2000)
				s[7].P99 *= 5
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 854, wantSustained: 570, wantWhy: "unconfirmed",
		},
		{
			name: "a slow lowest step does not hide the knee", steps: func() []CapacityStep {
				s := curve(rates, 500, time.Millisecond, 2000)
				s[0].P99 *= 3 // noise at the lowest rate: later steps are the baseline
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 380, wantSustained: 253, wantWhy: "at 75/s",
		},
		{
			name: "errors at the threshold are not a knee", steps: func() []CapacityStep {
				s := curve(rates, 1e6, time.Millisecond, 2000)
				s[3].Errors = 2 // 0.0999 %
				return s
			}(), serverCPUs: 1, wantFound: false, wantSustained: 854, wantWhy: "not reached",
		},
		{
			name: "not reached", steps: curve(rates, 1e6, time.Millisecond, 2000), serverCPUs: 2,
			wantFound: false, wantSustained: 854, wantWhy: "not reached by 854/s",
		},
		{
			name: "few ops compare p90", steps: curve(rates, 500, time.Millisecond, 300), serverCPUs: 1,
			wantFound: true, wantRate: 380, wantSustained: 253, wantWhy: "p90",
		},
		{
			name: "saturated generator invalidates", steps: func() []CapacityStep {
				s := curve(rates, 500, time.Millisecond, 2000)
				s[5].ClientUtil = 0.97
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 380, wantSustained: 253, wantInvalid: "load generator used 97%",
		},
		{
			name: "dropped sends invalidate", steps: func() []CapacityStep {
				s := curve(rates, 500, time.Millisecond, 2000)
				s[5].Dropped = 10
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 380, wantInvalid: "dropped 10",
		},
		{
			name: "late sends alone do not invalidate", steps: func() []CapacityStep {
				s := curve(rates, 500, time.Millisecond, 2000)
				s[5].Late = 200
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 380,
		},
		{
			name: "first step already failing", steps: func() []CapacityStep {
				s := curve(rates, 500, time.Millisecond, 2000)
				s[0].Errors = 100
				s[1].Errors = 100
				return s
			}(), serverCPUs: 1, wantFound: true, wantRate: 50, wantSustained: 0, wantInvalid: "start lower",
		},
		{name: "no steps", wantWhy: "no steps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := FindKnee(tc.steps, rule, tc.serverCPUs)
			if k.Found != tc.wantFound || (tc.wantFound && k.Rate != tc.wantRate) || k.Sustained != tc.wantSustained && tc.wantSustained != 0 {
				t.Fatalf("knee %+v, want found=%v rate=%g sustained=%g", k, tc.wantFound, tc.wantRate, tc.wantSustained)
			}
			if !strings.Contains(k.Why, tc.wantWhy) {
				t.Errorf("why %q, want %q", k.Why, tc.wantWhy)
			}
			if (tc.wantInvalid == "") != (k.Invalid == "") || !strings.Contains(k.Invalid, tc.wantInvalid) {
				t.Errorf("invalid %q, want %q", k.Invalid, tc.wantInvalid)
			}
			if tc.serverCPUs > 0 && k.Sustained > 0 && k.PerServerCPU != k.Sustained/tc.serverCPUs {
				t.Errorf("per server CPU %g, want %g", k.PerServerCPU, k.Sustained/tc.serverCPUs)
			}
		})
	}
}

// TestCapacityRender: the markdown names each knee and step, and the
// plots are written as SVG.
func TestCapacityRender(t *testing.T) {
	rates := []float64{50, 75, 112, 169, 253, 380}
	c := &CapacityRun{Command: "authbench capacity -schemes plain,curve", Rule: DefaultKneeRule}
	for _, s := range []struct {
		name string
		cap  float64
	}{{"plain", 2000}, {"curve", 400}} {
		steps := curve(rates, s.cap, time.Millisecond, 2000)
		c.Curves = append(c.Curves, &CapacityCurve{Scheme: s.name, Op: "command", ServerCPUs: "0", Quota: 0.5,
			Steps: steps, Knee: FindKnee(steps, c.Rule, 0.5)})
	}
	var b bytes.Buffer
	if err := WriteCapacity(&b, c, "plots"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"`plain`", "`curve`", "not reached", "**253** (knee)", "quota 0.5 CPU", "capacity-latency.svg"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
