package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/plots"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/resultstest"
	"github.com/authbench/authbench/vocab"
)

// TestSplitPlots: up to MaxPlotSeries lines stay in one plot; more are
// spread evenly over as few plots as hold them, the baseline in each.
func TestSplitPlots(t *testing.T) {
	type item struct {
		name string
		base bool
	}
	mk := func(n int, base bool) []item {
		var out []item
		if base {
			out = append(out, item{"plain", true})
		}
		for i := range n {
			out = append(out, item{string(rune('a' + i)), false})
		}
		return out
	}
	for _, tc := range []struct {
		n     int
		base  bool
		sizes []int
	}{{7, true, []int{8}}, {13, true, []int{8, 7}}, {8, false, []int{8}}, {9, false, []int{5, 4}}, {20, true, []int{8, 8, 7}}} {
		parts := split(mk(tc.n, tc.base), func(x item) bool { return x.base })
		var sizes []int
		for _, p := range parts {
			sizes = append(sizes, len(p.items))
			if tc.base && p.items[0].name != "plain" {
				t.Errorf("n=%d: a part without the baseline first: %v", tc.n, p.items)
			}
			if len(parts) > 1 && (p.file == "" || !strings.Contains(p.title, "with the baseline")) {
				t.Errorf("n=%d: part %q/%q does not say it is one of several", tc.n, p.file, p.title)
			}
		}
		if len(sizes) != len(tc.sizes) {
			t.Errorf("n=%d base=%v: parts %v, want %v", tc.n, tc.base, sizes, tc.sizes)
			continue
		}
		for i := range sizes {
			if sizes[i] != tc.sizes[i] {
				t.Errorf("n=%d base=%v: parts %v, want %v", tc.n, tc.base, sizes, tc.sizes)
			}
		}
	}
}

// TestManySchemesPlots: a scenario of 14 schemes draws its spectrum in
// two plots of at most MaxPlotSeries lines, plain in each, marked as the
// baseline.
func TestManySchemesPlots(t *testing.T) {
	run := &results.Run{Schema: results.SchemaVersion}
	names := []string{"plain", "passphrase", "jwt", "jwt:command", "jwt:shared=10s", "jwt:timed=60s/6s", "jwt:job=file",
		"jwt:job=combined", "jwt:job=status", "jwe", "curve", "curve-job", "curve+jwt:command", "jwe/ECDH-ES:job=file"}
	for i, n := range names {
		r := resultstest.SynthResult("smoke", n, n, 1, time.Second, map[string][]time.Duration{"job.message": resultstest.Latencies(uint64(i+1), 200, time.Millisecond)})
		sp, err := vocab.ParseSpec(n)
		if err != nil {
			t.Fatal(err)
		}
		c := vocab.Claims{Authenticates: n != "plain"}
		r.Spec, r.Claims = &sp, &c
		run.Results = append(run.Results, r)
	}
	dir := t.TempDir()
	if err := WritePlots(dir, Inputs{Runs: []*results.Run{run}}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "smoke-job.message-spectrum*.svg"))
	if len(files) != 2 {
		t.Fatalf("spectrum files %v, want 2", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), plots.BaselineSuffix); n != 1 {
			t.Errorf("%s: the baseline's legend entry appears %d times, want 1", filepath.Base(f), n)
		}
	}
}
