package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/report"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/review"
)

const fixture = "../../results/testdata/smoke"

// writeRun copies the fixture into a new dir, after edit.
func writeRun(t *testing.T, edit func(r *results.Run)) string {
	t.Helper()
	r, err := results.Read(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(r)
	}
	dir := t.TempDir()
	if err := r.Write(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "REPORT.md")
	nodeB := writeRun(t, func(r *results.Run) { r.Env.Host = "node-b" })
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-o", out, fixture, nodeB}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{"# authbench report", "## Summary", "### Q-A/B:", "](REPORT-plots/smoke-files.svg)", "Merged from 2 runs", "node-b",
		"authbench report -o " + out} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A spectrum of more than 8 schemes is split over several plots.
	for _, p := range []string{"smoke-files.svg", "smoke-cli.command_total-spectrum*.svg"} {
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "REPORT-plots", p)); len(m) == 0 {
			t.Errorf("no plot %s", p)
		}
	}
	// Two identical nodes merged: every count doubles.
	r, _ := results.Read(fixture)
	want := r.Results[0].Ops[0].Count * 2
	if !regexp.MustCompile(`\| plain +\| cli\.command_total[^|]*\| ` + itoa64(want*2) + ` `).MatchString(md) {
		t.Errorf("merged count of plain cli.command_total (2 rounds x 2 nodes) is not %d", want*2)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestReportBenchFormat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-format", "bench", fixture}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "BenchmarkAuth/scenario=smoke/scheme=jwt:timed=60s%2F6s/op=cli.command_total-2\t") {
		t.Errorf("no benchstat-safe line for jwt:timed=60s/6s:\n%.500s", stdout.String())
	}
}

func TestReportCommandBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	otherScenario := writeRun(t, func(r *results.Run) {
		extra := *r.Results[0]
		extra.Scenario = "cli-burst"
		r.Results = append(r.Results, &extra)
	})
	copied := writeRun(t, nil)
	if err := os.WriteFile(filepath.Join(copied, "x"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	schemaDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(schemaDir, "results.json"), []byte(`{"schema": 99, "results": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no dir", []string{"report"}, "want at least one results DIR"},
		{"missing dir", []string{"report", missing}, "no such directory"},
		{"schema", []string{"report", schemaDir}, "results schema 99"},
		{"mixed scenarios", []string{"report", fixture, otherScenario}, "mixed scenarios"},
		{"format", []string{"report", "-format", "html", fixture}, "want md, json or bench"},
		{"compare one arg", []string{"compare", fixture}, "want OLD and NEW"},
		{"compare missing", []string{"compare", fixture, missing}, "no such file or directory"},
		// report -o DIR/results.json DIR destroyed its own input.
		{"output is the input", []string{"report", "-o", filepath.Join(copied, "results.json"), copied}, "overwrite a data file"},
		{"output is an input file", []string{"report", "-o", filepath.Join(copied, "x"), filepath.Join(copied, "x")}, "is an input"},
		{"output is a directory", []string{"report", "-o", copied, copied}, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			var line bytes.Buffer
			exitCode(err, &line)
			if n := strings.Count(line.String(), "\n"); n != 1 {
				t.Errorf("want one line on stderr, got %q", line.String())
			}
		})
	}
	// The refused reports touched nothing: the input is intact and no
	// plot directory was made beside it.
	if _, err := results.Read(copied); err != nil {
		t.Errorf("input damaged: %v", err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(copied), "*-plots")); len(m) != 0 {
		t.Errorf("plot directories made: %v", m)
	}
}

func TestCompareCommand(t *testing.T) {
	slower := writeRun(t, func(r *results.Run) {
		for _, res := range r.Results {
			if res.Scheme != "plain" {
				continue
			}
			for _, o := range res.Ops {
				h := results.NewHistogram()
				for i := int64(0); i < o.Count; i++ {
					h.Record(2 * o.Hist.Percentile(float64(i)*100/float64(o.Count)))
				}
				o.Hist = h
			}
		}
	})
	otherScenario := writeRun(t, func(r *results.Run) {
		for _, res := range r.Results {
			res.Scenario = "other"
		}
	})
	hashed := func(src, hash string) string {
		return writeRun(t, func(r *results.Run) {
			for _, res := range r.Results {
				res.ScenarioSource, res.ScenarioHash = src, hash
			}
		})
	}
	builtin, unlike := hashed("built-in smoke", "sha256:aaaa"), hashed("mine.yaml", "sha256:bbbb")
	partial := writeRun(t, func(r *results.Run) { r.Partial = true })
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"self", []string{"compare", "-fail-on-regression", "5", fixture, fixture}, 0, "no significant change"},
		// Nothing in common is no verdict: an error, gated or not.
		{"nothing matched", []string{"compare", "-fail-on-regression", "5", fixture, otherScenario}, 1, ""},
		{"unlike scenarios of one name", []string{"compare", builtin, unlike}, 1, ""},
		{"partial NEW flagged", []string{"compare", fixture, partial}, 0, "**Partial:** NEW"},
		{"self no flag", []string{"compare", fixture, fixture}, 0, "no significant change"},
		// Twice as slow in both rounds: 2 against 2 rounds cannot be
		// significant, but every round is worse.
		{"regression", []string{"compare", "-fail-on-regression", "10", fixture, slower}, 1, "**regression**"},
		// With rounds too few for the test, a regression shows its change,
		// never "~" beside "regression".
		{"regression shows its change", []string{"compare", fixture, slower}, 0, "% (every round)"},
		{"regression not gated", []string{"compare", fixture, slower}, 0, "**regression**"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := run(ctx, tc.args, &stdout, &stderr)
			code := 0
			if err != nil {
				code = exitCode(err, io.Discard)
			}
			if code != tc.wantCode {
				t.Errorf("exit %d (%v), want %d", code, err, tc.wantCode)
			}
			if !strings.Contains(stdout.String(), tc.wantOut) {
				t.Errorf("output lacks %q:\n%.2000s", tc.wantOut, stdout.String())
			}
		})
	}
}

// TestReportIncludesConformance: a DIR/conformance.json written by
// `authbench conform -format json` becomes the report's conformance section.
func TestReportIncludesConformance(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"run", "-quiet", "-schemes", "plain", "-out", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := run(context.Background(), []string{"conform", "-schemes", "plain,passphrase", "-cases", "transport/no-credential", "-format", "json"}, &js, &stderr); err != nil {
		t.Fatalf("conform: %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(filepath.Join(dir, "conformance.json"), js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := run(context.Background(), []string{"report", dir}, &md, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Conformance", "transport/no-credential", "authbench conform -format json"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestReportIncludesCapacity: DIR/capacity.json is rendered into the
// report with its plots; a capacity file of another schema is refused.
func TestReportIncludesCapacity(t *testing.T) {
	dir := writeRun(t, nil)
	steps := []results.CapacityStep{
		{Offered: 50, Count: 1000, P90: time.Millisecond, P99: 2 * time.Millisecond, ServerCPUPerOp: time.Millisecond},
		{Offered: 75, Count: 1100, P90: 5 * time.Millisecond, P99: 9 * time.Millisecond, ServerCPUPerOp: time.Millisecond},
		{Offered: 112, Count: 1200, P90: 9 * time.Millisecond, P99: 20 * time.Millisecond, ServerCPUPerOp: time.Millisecond},
	}
	c := &results.CapacityRun{Schema: results.SchemaVersion, Command: "authbench capacity -schemes curve", Rule: results.DefaultKneeRule,
		Curves: []*results.CapacityCurve{{Scheme: "curve", Op: "command", ServerCPUs: "0", Quota: 0.5, Steps: steps,
			Knee: results.FindKnee(steps, results.DefaultKneeRule, 0.5)}}}
	if err := c.Write(filepath.Join(dir, "capacity.json")); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "REPORT.md")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-o", out, dir}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Capacity: command", "**75** (knee)", "REPORT-plots/capacity-latency.svg"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(out), "REPORT-plots", "capacity-cpu.svg")); err != nil {
		t.Error(err)
	}
	c.Schema = 999
	if err := c.Write(filepath.Join(dir, "capacity.json")); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"report", "-o", out, dir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "capacity.json") || !strings.Contains(err.Error(), "schema 999") {
		t.Fatalf("got %v, want a schema error naming the file", err)
	}
	// A results file where a capacity file belongs rendered an empty
	// "## Capacity:" section and exited 0.
	resFile := filepath.Join(fixture, "results.json")
	err = run(context.Background(), []string{"report", "-capacity", resFile, "-o", out, fixture}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), resFile+" holds no capacity curves") {
		t.Fatalf("got %v, want a refusal naming %s", err, resFile)
	}
}

// TestReportJSON: -format json is the whole report as data: the design
// review, one answer per question of the catalogue, and the scenario
// tables.
func TestReportJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-format", "json", fixture}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	var p report.Page
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if len(p.Sections) != 1 || len(p.Sections[0].Latency) == 0 || len(p.Sections[0].Resources) == 0 {
		t.Fatalf("JSON lacks the scenario tables: %d sections", len(p.Sections))
	}
	m := p.Summary
	if len(m.Questions) != len(review.Catalogue()) {
		t.Fatalf("%d answers, want one per question (%d)", len(m.Questions), len(review.Catalogue()))
	}
	for _, a := range m.Questions {
		if a.ID == "" || a.Verdict.Outcome == "" {
			t.Errorf("answer %+v lacks an id or an outcome", a)
		}
	}
}

// TestReportNoResultsAnywhere: directories that hold no results at all are
// still one clear error naming them.
func TestReportNoResultsAnywhere(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"report", a, b}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "none of "+a+", "+b+" holds a results.json") {
		t.Fatalf("got %v, want an error naming both directories", err)
	}
}
