package compare

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/resultstest"
)

// roundsRun makes a run of n rounds of plain and jwt; jwt's latencies are
// scaled by factor.
func roundsRun(n int, factor float64, seed uint64) *results.Run {
	r := &results.Run{Schema: results.SchemaVersion, Command: "authbench run -repeat"}
	for round := 1; round <= n; round++ {
		for i, scheme := range []string{"plain", "jwt"} {
			f := 1.0
			if scheme == "jwt" {
				f = factor
			}
			base := time.Duration(f * float64(time.Millisecond))
			r.Results = append(r.Results, resultstest.SynthResult("s", scheme, []string{"null", "null+jwt/HS256:workflow"}[i], round, time.Second,
				map[string][]time.Duration{"cli.command_total": resultstest.Latencies(seed+uint64(round*10+i), 200, base)}))
		}
	}
	return r
}

// tiedRateRun makes a run of n identical rounds of plain and jwt; jwt's
// rounds last d, so its rate is the same in every round.
func tiedRateRun(n int, d time.Duration) *results.Run {
	r := &results.Run{Schema: results.SchemaVersion, Command: "authbench run -repeat"}
	for round := 1; round <= n; round++ {
		for i, scheme := range []string{"plain", "jwt"} {
			dur := time.Second
			if scheme == "jwt" {
				dur = d
			}
			r.Results = append(r.Results, resultstest.SynthResult("s", scheme, []string{"null", "null+jwt/HS256:workflow"}[i], round, dur,
				map[string][]time.Duration{"cli.command_total": resultstest.Latencies(uint64(i), 200, time.Millisecond)}))
		}
	}
	return r
}

// TestCompareChangeP checks the p-values Compare takes from stats.Compare
// (benchmath's Mann-Whitney U test) and how Testable, Significant and
// Regression follow from them.
func TestCompareChangeP(t *testing.T) {
	tests := []struct {
		name             string
		old, new         *results.Run
		scheme, metric   string
		wantP            float64
		testable, signif bool
		regression       bool
		wantCell         string
	}{
		// Every new round slower than every old one: p is the smallest
		// possible, 2/C(10,5) for 5+5.
		{"5+5 slower", roundsRun(5, 1, 1), roundsRun(5, 2, 7), "jwt", MetricP50, 2.0 / 252, true, true, true, "(p=0.008 n=5+5) **regression**"},
		// 3+3 cannot reach 0.05 (p >= 0.1), but every round is worse.
		{"3+3 slower", roundsRun(3, 1, 1), roundsRun(3, 2, 7), "jwt", MetricP99, 0.1, false, false, true, "(every round) (p=0.100 n=3+3) **regression**"},
		{"3+3 unchanged", roundsRun(3, 1, 1), roundsRun(3, 2, 7), "plain", MetricP50, 1, false, false, false, "~ (p=1.000 n=3+3)"},
		// Each run's rates tied, the runs apart: benchmath's exact test
		// with ties gives 2/C(6,3) = 0.1 as for untied values (the former
		// hand-written normal approximation gave p = 0.047, "significant"
		// at 3+3); still a regression as every round is worse.
		{"3+3 tied rates", tiedRateRun(3, time.Second), tiedRateRun(3, 2*time.Second), "jwt", MetricRate, 0.1, false, false, true, "-50.00% (every round) (p=0.100 n=3+3) **regression**"},
		{"5+5 tied rates", tiedRateRun(5, time.Second), tiedRateRun(5, 2*time.Second), "jwt", MetricRate, 2.0 / 252, true, true, true, "-50.00% (p=0.008 n=5+5) **regression**"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Runs(tc.old, tc.new, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ch *Change
			for i := range c.Changes {
				if c.Changes[i].Scheme == tc.scheme && c.Changes[i].Metric == tc.metric {
					ch = &c.Changes[i]
				}
			}
			if ch == nil {
				t.Fatalf("no %s %s change in %+v", tc.scheme, tc.metric, c.Changes)
			}
			if math.Abs(ch.P-tc.wantP) > 1e-9 || ch.Testable != tc.testable || ch.Significant != tc.signif || ch.Regression != tc.regression {
				t.Errorf("change = %+v, want P %v testable %v significant %v regression %v", *ch, tc.wantP, tc.testable, tc.signif, tc.regression)
			}
			if got := ch.cellText(); !strings.HasSuffix(got, tc.wantCell) {
				t.Errorf("cell %q, want suffix %q", got, tc.wantCell)
			}
		})
	}
}

func TestCompareRuns(t *testing.T) {
	tests := []struct {
		name      string
		old, new  *results.Run
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
			c, err := Runs(tc.old, tc.new, Options{Threshold: tc.threshold})
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
	r, err := results.Read("../results/testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Runs(r, r, Options{Threshold: -1})
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

// TestCompareRefusesOtherModels: a run on another file-system model or
// server model is refused, naming both (its +428 % was called a
// regression).
func TestCompareRefusesOtherModels(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(r *results.Result)
		want string
	}{
		{"fs model", func(r *results.Result) { r.FSModel = "model=nfs-lan,metadata_rtt=1ms,fsync=5ms" }, "file-system model none (the run directory's own disk) in OLD and model=nfs-lan"},
		{"server model", func(r *results.Result) { r.ServerModel = "cylc" }, "server model fast in OLD and cylc in NEW"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, cur := roundsRun(3, 1, 1), roundsRun(3, 1, 1)
			for _, r := range cur.Results {
				tc.edit(r)
			}
			if _, err := Runs(old, cur, Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
