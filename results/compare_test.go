package results

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestCompareMannWhitneyU(t *testing.T) {
	tests := []struct {
		name  string
		x, y  []float64
		wantU float64
		wantP float64
	}{
		// Exact: complete separation. R: wilcox.test(1:3, 4:6)$p.value = 0.1;
		// benchstat prints p=0.100 n=3+3 and p=0.008 n=5+5.
		{"3+3 separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 0, 0.1},
		{"5+5 separated", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 0, 2.0 / 252},
		{"2+2 separated", []float64{5, 6}, []float64{1, 2}, 4, 1.0 / 3},
		// Exact, interleaved: U = 4 of 9 for 3+3, p = 1 (R gives 1).
		{"3+3 interleaved", []float64{1, 4, 5}, []float64{2, 3, 6}, 4, 1},
		// U = 6: by enumerating all C(10,4) = 210 arrangements, 27 have
		// U <= 6, so p = 2*27/210.
		{"4+6 exact", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8, 9, 10}, 6, 54.0 / 210},
		// Every value equal: no evidence of change.
		{"identical", []float64{3, 3, 3}, []float64{3, 3, 3}, 4.5, 1},
		// Ties, normal approximation with tie and continuity corrections:
		// x ranks 1, 3, 3 (sum 7), U = 1; sigma^2 = 9/12*(7 - 24/30) = 4.65;
		// z = (|1-4.5| - 0.5)/sqrt(4.65).
		{"ties", []float64{1, 2, 2}, []float64{2, 3, 4}, 1, math.Erfc(3 / math.Sqrt(4.65) / math.Sqrt2)},
		{"empty", nil, []float64{1}, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, p := MannWhitneyU(tc.x, tc.y)
			if math.Abs(u-tc.wantU) > 1e-9 {
				t.Errorf("U = %v, want %v", u, tc.wantU)
			}
			if math.Abs(p-tc.wantP) > 1e-5 {
				t.Errorf("p = %v, want %v", p, tc.wantP)
			}
		})
	}
}

func TestCompareMinPValue(t *testing.T) {
	tests := []struct {
		n1, n2 int
		want   float64
	}{{3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 5, 2.0 / 252}, {1, 1, 1}, {0, 3, 1}}
	for _, tc := range tests {
		if got := MinPValue(tc.n1, tc.n2); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("MinPValue(%d, %d) = %v, want %v", tc.n1, tc.n2, got, tc.want)
		}
	}
}

// roundsRun makes a run of n rounds of plain and jwt; jwt's latencies are
// scaled by factor.
func roundsRun(n int, factor float64, seed uint64) *Run {
	r := &Run{Schema: SchemaVersion, Command: "authbench run -repeat"}
	for round := 1; round <= n; round++ {
		for i, scheme := range []string{"plain", "jwt"} {
			f := 1.0
			if scheme == "jwt" {
				f = factor
			}
			base := time.Duration(f * float64(time.Millisecond))
			r.Results = append(r.Results, synthResult("s", scheme, []string{"null", "null+jwt/HS256:workflow"}[i], round, time.Second,
				map[string][]time.Duration{"cli.command_total": latencies(seed+uint64(round*10+i), 200, base)}))
		}
	}
	return r
}

func TestCompareRuns(t *testing.T) {
	tests := []struct {
		name      string
		old, new  *Run
		threshold float64
		wantRegs  int
		wantText  string
	}{
		{"self", roundsRun(5, 1, 1), roundsRun(5, 1, 1), 5, 0, "no significant change"},
		{"self with 3 rounds", roundsRun(3, 1, 1), roundsRun(3, 1, 1), 5, 0, "no significant change"},
		// jwt twice as slow in every round: p50 and p99 regress, throughput
		// (count fixed) does not.
		{"slower", roundsRun(5, 1, 1), roundsRun(5, 2, 7), 10, 2, "2 regression(s) beyond 10%"},
		// Three rounds cannot reach p < 0.05, but every round is worse.
		{"slower 3 rounds", roundsRun(3, 1, 1), roundsRun(3, 2, 7), 10, 2, "regression"},
		{"faster", roundsRun(5, 2, 1), roundsRun(5, 1, 7), 10, 0, "significant change"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(tc.old, tc.new, CompareOptions{Threshold: tc.threshold})
			if err != nil {
				t.Fatal(err)
			}
			regs := c.Regressions()
			if len(regs) != tc.wantRegs {
				t.Errorf("%d regressions, want %d: %+v", len(regs), tc.wantRegs, regs)
			}
			for _, r := range regs {
				if r.Scheme != "jwt" || r.Metric == MetricRate {
					t.Errorf("unexpected regression %+v", r)
				}
			}
			var buf bytes.Buffer
			if err := c.WriteMarkdown(&buf); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tc.wantText) {
				t.Errorf("markdown lacks %q:\n%s", tc.wantText, buf.String())
			}
		})
	}
}

func TestCompareFixtureWithItself(t *testing.T) {
	r, err := Read("testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(r, r, CompareOptions{Threshold: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range c.Changes {
		if ch.Significant || ch.Regression || ch.DeltaPct != 0 {
			t.Errorf("self-compare changed: %+v", ch)
		}
	}
	if len(c.OnlyOld)+len(c.OnlyNew) != 0 {
		t.Errorf("only-old %v only-new %v", c.OnlyOld, c.OnlyNew)
	}
}
