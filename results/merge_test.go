package results_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/resultstest"
)

func TestMergeNodesExact(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		startB     time.Time // node B's window start (A starts at t0, both last 10 s)
		wantDur    time.Duration
		wantRateOf float64 // merged rate of cli.command_total
	}{
		// Nodes running at once: one window, the longer duration, rates add up.
		{"concurrent", t0.Add(time.Second), 3 * time.Second, float64(300+500) / 3},
		// Runs one after the other: the windows add up.
		{"sequential", t0.Add(time.Minute), 5 * time.Second, float64(300+500) / 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sa := resultstest.Latencies(1, 300, time.Millisecond)
			sb := resultstest.Latencies(2, 500, 3*time.Millisecond)
			ra := resultstest.SynthResult("s", "jwt:command", "null+jwt/HS256:command", 1, 3*time.Second, map[string][]time.Duration{"cli.command_total": sa})
			rb := resultstest.SynthResult("s", "jwt:command", "null+jwt/HS256:command", 1, 2*time.Second, map[string][]time.Duration{"cli.command_total": sb})
			ra.Ops[0].Errors = map[string]int64{"timeout": 2}
			rb.Ops[0].Errors = map[string]int64{"timeout": 1, "rejected": 4}
			ra.Ops[0].Asked, rb.Ops[0].Asked = 100, 250
			a := &results.Run{Schema: results.SchemaVersion, Command: "node a", Started: t0, Ended: t0.Add(10 * time.Second), Results: []*results.Result{ra}}
			b := &results.Run{Schema: results.SchemaVersion, Command: "node b", Started: tc.startB, Ended: tc.startB.Add(10 * time.Second), Results: []*results.Result{rb}}

			m, err := results.MergeRuns(a, b)
			if err != nil {
				t.Fatal(err)
			}
			union := results.NewHistogram()
			for _, s := range append(append([]time.Duration(nil), sa...), sb...) {
				union.Record(s)
			}
			if len(m.Results) != 1 {
				t.Fatalf("got %d results, want 1", len(m.Results))
			}
			r := m.Results[0]
			o := r.Op("cli.command_total")
			if o.Count != 800 || o.Hist.Count() != union.Count() {
				t.Errorf("count %d, histogram %d; want 800, %d", o.Count, o.Hist.Count(), union.Count())
			}
			for _, p := range []float64{0, 50, 90, 99, 99.9, 100} {
				if got, want := o.Hist.Percentile(p), union.Percentile(p); got != want {
					t.Errorf("p%v = %v, want %v (the union's)", p, got, want)
				}
			}
			if o.Hist.Max() != union.Max() {
				t.Errorf("max %v, want %v", o.Hist.Max(), union.Max())
			}
			if o.Uncorrected.Count() != 800 {
				t.Errorf("uncorrected count %d", o.Uncorrected.Count())
			}
			if o.Errors["timeout"] != 3 || o.Errors["rejected"] != 4 {
				t.Errorf("errors %v", o.Errors)
			}
			if r.Duration != tc.wantDur {
				t.Errorf("duration %v, want %v", r.Duration, tc.wantDur)
			}
			if got := o.Rate(r.Duration); abs(got-tc.wantRateOf) > 1e-9 {
				t.Errorf("rate %v, want %v", got, tc.wantRateOf)
			}
			wantAsked := (100*3.0 + 250*2.0) / tc.wantDur.Seconds()
			if abs(o.Asked-wantAsked) > 1e-9 {
				t.Errorf("asked %v, want %v", o.Asked, wantAsked)
			}
			if r.Jobs != 20 || r.Commands != 40 || r.Files.Created != 24 || r.Server.Requests != 60 || abs(r.CPU-0.2) > 1e-12 {
				t.Errorf("counters not summed: %+v", r)
			}
			if !m.Started.Equal(t0) || !m.Ended.Equal(tc.startB.Add(10*time.Second)) {
				t.Errorf("window %v to %v", m.Started, m.Ended)
			}
			if len(m.Sources) != 2 || m.Sources[1].Command != "node b" {
				t.Errorf("sources %+v", m.Sources)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestMergeBadInput(t *testing.T) {
	mk := func(schema int, scenario string) *results.Run {
		return &results.Run{Schema: schema, Command: "authbench run -scenario " + scenario, Results: []*results.Result{
			resultstest.SynthResult(scenario, "plain", "null", 1, time.Second, map[string][]time.Duration{"cli.command_total": {time.Millisecond}}),
		}}
	}
	canonA, canonB := mk(results.SchemaVersion, "s"), mk(results.SchemaVersion, "s")
	canonB.Results[0].Canonical = "curve"
	tests := []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"none", nil, "no runs"},
		{"mixed scenarios", []*results.Run{mk(results.SchemaVersion, "a"), mk(results.SchemaVersion, "b")}, "mixed scenarios"},
		{"schema", []*results.Run{mk(results.SchemaVersion, "a"), mk(results.SchemaVersion+1, "a")}, "results schema"},
		{"canonical", []*results.Run{canonA, canonB}, "canonical forms differ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := results.MergeRuns(tc.runs...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func TestMergeSingleKeepsResults(t *testing.T) {
	r, err := results.Read("testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	r.Stop = "every question these results answer is decisive after 6 rounds"
	m, err := results.MergeRuns(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Results) != len(r.Results) || m.Command != r.Command || len(m.Sources) != 1 || m.Stop != r.Stop {
		t.Fatalf("merged single run differs: %d results, %q, %d sources, stop %q", len(m.Results), m.Command, len(m.Sources), m.Stop)
	}
}

// TestReadRefusesEmpty: results with no results (or null ones) are one
// clear error naming the file, not an empty report.
func TestReadRefusesEmpty(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"null", `{"schema":` + strconv.Itoa(results.SchemaVersion) + `,"results":null}`, "no results"},
		{"empty", `{"schema":` + strconv.Itoa(results.SchemaVersion) + `,"results":[]}`, "no results"},
		{"null entry", `{"schema":` + strconv.Itoa(results.SchemaVersion) + `,"results":[null]}`, "result 1 is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "results.json")
			if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := results.Read(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want %q naming %s", err, tc.want, p)
			}
		})
	}
}

// TestSummaryRoundColumn: with several rounds the stdout table says which
// round each row is (it repeated rows without one).
func TestSummaryRoundColumn(t *testing.T) {
	r, err := results.Read("testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := results.WriteSummary(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.TrimSpace(b.String()), "| round ") || !strings.Contains(b.String(), "| 2     |") {
		t.Fatalf("no round column:\n%.600s", b.String())
	}
}

// TestResultDirs: a results dir stands for itself; a dir of results dirs
// for each of them; anything else is a one-line error.
func TestResultDirs(t *testing.T) {
	root := t.TempDir()
	run := &results.Run{Schema: results.SchemaVersion}
	for _, d := range []string{"jobs", "cli"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := run.Write(filepath.Join(root, d, "results.json")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "plots"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := results.ResultDirs(root)
	if err != nil || strings.Join(got, ",") != filepath.Join(root, "cli")+","+filepath.Join(root, "jobs") {
		t.Fatalf("results.ResultDirs(root) = %v, %v", got, err)
	}
	if got, err := results.ResultDirs(filepath.Join(root, "cli")); err != nil || len(got) != 1 {
		t.Fatalf("results.ResultDirs(cli) = %v, %v", got, err)
	}
	for _, bad := range []string{filepath.Join(root, "plots"), filepath.Join(root, "none"), filepath.Join(root, "cli", "results.json")} {
		if _, err := results.ResultDirs(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("results.ResultDirs(%s): %v, want a one-line error", bad, err)
		}
	}
}

// TestMergeFlowRatios: merging rounds of a token flow keeps its figures per
// transfer per transfer (weighted by each round's transfers), counts add
// up, and the model's predictions (equal in every round) are unchanged.
func TestMergeFlowRatios(t *testing.T) {
	tests := []struct {
		name string
		a, b map[string]float64
		want map[string]float64
	}{
		{"weighted by transfers",
			map[string]float64{"flow.transfers": 30, "issuer.round_trips": 33, "issuer.round_trips_per_transfer": 1.1, "model.round_trips_per_transfer": 1.05, "flow.queue_wait_mean_s": 1, "issuer.access_live_end": 4},
			map[string]float64{"flow.transfers": 10, "issuer.round_trips": 20, "issuer.round_trips_per_transfer": 2, "model.round_trips_per_transfer": 1.05, "flow.queue_wait_mean_s": 3, "issuer.access_live_end": 2},
			map[string]float64{"flow.transfers": 40, "issuer.round_trips": 53, "issuer.round_trips_per_transfer": 53.0 / 40, "model.round_trips_per_transfer": 1.05, "flow.queue_wait_mean_s": 1.5, "issuer.access_live_end": 4}},
		{"a round with no transfers adds nothing to a ratio",
			map[string]float64{"flow.transfers": 0, "issuer.refresh_per_transfer": 0},
			map[string]float64{"flow.transfers": 5, "issuer.refresh_per_transfer": 0.4},
			map[string]float64{"flow.transfers": 5, "issuer.refresh_per_transfer": 0.4}},
		{"no denominator keeps the first",
			map[string]float64{"issuer.refresh_per_transfer": 0.2},
			map[string]float64{"issuer.refresh_per_transfer": 0.4},
			map[string]float64{"issuer.refresh_per_transfer": 0.2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := results.MergeStats(tc.a, tc.b)
			for k, w := range tc.want {
				if abs(got[k]-w) > 1e-12 {
					t.Errorf("%s = %v, want %v", k, got[k], w)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d keys, want %d: %v", len(got), len(tc.want), got)
			}
		})
	}
	// Three rounds fold one at a time as one weighted mean.
	m := map[string]float64{}
	for _, r := range []struct{ n, rt float64 }{{10, 1}, {20, 2}, {30, 3}} {
		m = results.MergeStats(m, map[string]float64{"flow.transfers": r.n, "issuer.round_trips_per_transfer": r.rt})
	}
	if want := (10*1 + 20*2 + 30*3) / 60.0; abs(m["issuer.round_trips_per_transfer"]-want) > 1e-12 {
		t.Fatalf("three rounds: %v, want %v", m["issuer.round_trips_per_transfer"], want)
	}
}

// TestMergeRefusesDuplicateShards: two copies of one shard of a WFS's load
// are refused (they were merged, counting the shard twice); shards 0 and 1
// merge.
func TestMergeRefusesDuplicateShards(t *testing.T) {
	read := func(i int) *results.Run {
		r, err := results.Read("testdata/smoke")
		if err != nil {
			t.Fatal(err)
		}
		r.Shard = &results.Shard{Index: i, Count: 2, Node: "n", Server: "host:123"}
		return r
	}
	_, err := results.MergeRuns(read(0), read(1), read(1))
	if err == nil || !strings.Contains(err.Error(), "shard 1/2 of the WFS host:123 appears twice (run 2") {
		t.Fatalf("err %v, want a duplicate shard named", err)
	}
	if _, err := results.MergeRuns(read(0), read(1)); err != nil {
		t.Fatalf("two shards: %v", err)
	}
}
