package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/conformance"
	"github.com/authbench/authbench/cylccal"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/resultstest"
	"github.com/authbench/authbench/review"
	"github.com/authbench/authbench/site"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// only keeps the results of the named schemes.
func only(r *results.Run, schemes ...string) *results.Run {
	c := *r
	c.Results = nil
	for _, res := range r.Results {
		if slices.Contains(schemes, res.Scheme) {
			c.Results = append(c.Results, res)
		}
	}
	return &c
}

func readSmoke(t *testing.T) *results.Run {
	t.Helper()
	r, err := results.Read("../results/testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// full is a page with every part: the smoke run, its review, a capacity
// search, a projection onto metoffice-2016 and a conformance matrix.
func full(t *testing.T) Inputs {
	t.Helper()
	smoke := readSmoke(t)
	runs := []*results.Run{smoke}
	model, err := review.Evaluate(runs, review.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var c results.CapacityRun
	b, err := os.ReadFile("testdata/capacity.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	st, err := site.Load("metoffice-2016")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := site.ProjectRuns(st, runs, []*results.CapacityRun{&c})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/conformance.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := conformance.ReadMatrix(f)
	if err != nil {
		t.Fatal(err)
	}
	return Inputs{Runs: runs, Summary: model, Capacity: &c, Projection: proj, Conformance: m,
		ConformanceFile: "testdata/conformance.json", Command: "authbench report -o REPORT.md results/testdata/smoke", PlotLink: "REPORT-plots"}
}

// render builds in's page and renders it to markdown and JSON.
func render(t *testing.T, in Inputs) (md, js []byte) {
	t.Helper()
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var m, j bytes.Buffer
	if err := p.Markdown(&m); err != nil {
		t.Fatal(err)
	}
	if err := p.JSON(&j); err != nil {
		t.Fatal(err)
	}
	return m.Bytes(), j.Bytes()
}

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test ./report -update rewrites it):\n%s", file, firstDiff(string(want), string(got)))
	}
}

func TestGolden(t *testing.T) {
	smoke := readSmoke(t)
	tests := []struct {
		name string
		in   Inputs
		json bool
	}{
		{"smoke", Inputs{Runs: []*results.Run{smoke}, Command: "authbench report -o REPORT.md results/testdata/smoke", PlotLink: "REPORT-plots"}, true},
		{"baseline-only", Inputs{Runs: []*results.Run{only(smoke, "plain", "passphrase")}}, false},
		{"no-plain", Inputs{Runs: []*results.Run{only(smoke, "jwt:command", "jwt:shared=10s")}}, false},
		{"full", full(t), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md, js := render(t, tc.in)
			again, _ := render(t, tc.in)
			if !bytes.Equal(md, again) {
				t.Fatal("two renderings of the same input differ")
			}
			golden(t, tc.name+".md", md)
			if tc.json {
				golden(t, tc.name+".json", js)
			}
		})
	}
}

// TestMarkdownFromJSON: the markdown of a page read back from its JSON is
// the page's markdown, so every number the markdown shows is in the JSON
// model (rendering computes nothing). Checked on a page with every part.
func TestMarkdownFromJSON(t *testing.T) {
	md, js := render(t, full(t))
	p, err := ReadJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := p.Markdown(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(md, again.Bytes()) {
		t.Fatalf("markdown from the JSON model differs:\n%s", firstDiff(string(md), again.String()))
	}
	// And the check can fail: a figure changed in the JSON shows.
	changed := bytes.Replace(js, []byte(`"count": `), []byte(`"count": 9`), 1)
	q, err := ReadJSON(bytes.NewReader(changed))
	if err != nil {
		t.Fatal(err)
	}
	var other bytes.Buffer
	if err := q.Markdown(&other); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(md, other.Bytes()) {
		t.Fatal("a count changed in the JSON model left the markdown as it was")
	}
}

// cliOnly is r with its results' ops cut to the CLI's: a scenario whose
// clients sent commands alone.
func cliOnly(r *results.Run) *results.Run {
	c := *r
	c.Results = nil
	for _, res := range r.Results {
		x := *res
		x.Ops = nil
		for _, o := range res.Ops {
			if strings.HasPrefix(o.Name, "cli.") {
				x.Ops = append(x.Ops, o)
			}
		}
		c.Results = append(c.Results, &x)
	}
	return &c
}

// TestJSONHoldsTables: the JSON has the scenario tables, not only the
// summary; a scenario of mixed operations has no per-operation figure,
// one of commands alone has WFS CPU per command, and plan A's counts
// both its requests.
func TestJSONHoldsTables(t *testing.T) {
	_, js := render(t, full(t))
	var p Page
	if err := json.Unmarshal(js, &p); err != nil {
		t.Fatal(err)
	}
	if p.Summary == nil || len(p.Sections) != 1 || len(p.Sections[0].Latency) == 0 || len(p.Sections[0].Resources) == 0 {
		t.Fatalf("page lacks a part: summary %v, %d sections", p.Summary != nil, len(p.Sections))
	}
	if w := worksOf(p.Sections[0]); len(w) != 0 {
		t.Errorf("smoke mixes commands, job messages and polls, yet has per-operation figures per %v", w)
	}

	pg, err := Build(Inputs{Runs: []*results.Run{cliOnly(readSmoke(t))}})
	if err != nil {
		t.Fatal(err)
	}
	s := pg.Sections[0]
	if !slices.Equal(worksOf(s), []string{"command"}) {
		t.Fatalf("works %v, want command", s.Works)
	}
	for _, r := range s.Resources {
		if len(r.PerOp) != 1 || r.PerOp[0].CPU.N == 0 || r.PerOp[0].Requests.N == 0 {
			t.Fatalf("%s: per-operation costs %+v", r.Scheme, r.PerOp)
		}
		if r.Scheme == "jwt:command" {
			perCmd, perReq, reqs := r.PerOp[0].CPU.Median, r.CPUPerRequest.Median, r.PerOp[0].Requests.Median
			// The fixture's plan A makes two requests per command.
			if reqs < 1.9 || perCmd < 1.8*perReq {
				t.Errorf("jwt:command: %.2f requests/command, CPU %.0f ns/command against %.0f ns/request; want about 2 and twice", reqs, perCmd, perReq)
			}
		}
	}
}

func worksOf(s *Section) []string {
	var out []string
	for _, w := range s.Works {
		out = append(out, string(w))
	}
	return out
}

// TestPlots: WritePlots draws every plot the page links, as SVG, and
// nothing else.
func TestPlots(t *testing.T) {
	in := full(t)
	p, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	if err := p.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePlots(dir, in); err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, m := range regexp.MustCompile(`\]\(REPORT-plots/([^)]+)\)`).FindAllStringSubmatch(md.String(), -1) {
		linked[m[1]] = true
	}
	if len(linked) < 5 {
		t.Fatalf("only %d plots linked", len(linked))
	}
	written, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	if len(written) != len(linked) {
		t.Errorf("%d plots written, %d linked", len(written), len(linked))
	}
	for f := range linked {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestBuildBadInput(t *testing.T) {
	mk := func(scenario string) *results.Run {
		return &results.Run{Schema: results.SchemaVersion, Command: "run " + scenario, Results: []*results.Result{
			resultstest.SynthResult(scenario, "plain", "null", 1, time.Second, map[string][]time.Duration{"cli.command_total": {time.Millisecond}}),
		}}
	}
	old := mk("a")
	old.Schema = 0
	dup := mk("a")
	dup.Results = append(dup.Results, dup.Results[0])
	tests := []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"none", nil, "no runs"},
		{"scenario in two runs", []*results.Run{mk("a"), mk("a")}, "merge them first"},
		{"schema", []*results.Run{old}, "results schema 0"},
		{"round twice", []*results.Run{dup}, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(Inputs{Runs: tc.runs})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return ""
}

// TestCylcCalibrationSection: a calibration of the cylc model against a
// real Cylc (authbench calibrate -cylc) is the section "The Cylc model
// against Cylc VERSION", after the conformance matrix; without one there
// is none, and the page's JSON carries it.
func TestCylcCalibrationSection(t *testing.T) {
	in := full(t)
	md, _ := render(t, in)
	if bytes.Contains(md, []byte("## The Cylc model against")) {
		t.Fatal("a section without a calibration")
	}
	c, err := cylccal.Read("testdata/cylc-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	in.CylcCalibration, in.CylcCalibrationFile = c, "REPORT-data/cylc-calibration.json"
	md, js := render(t, in)
	text := string(md)
	i := strings.Index(text, "## The Cylc model against cylc-flow 8.4.4")
	if i < 0 {
		t.Fatalf("no section:\n%s", md)
	}
	if j := strings.Index(text, "## Conformance"); j < 0 || j > i {
		t.Errorf("the section is not after the conformance matrix")
	}
	section := text[i:]
	if k := strings.Index(section[3:], "\n## "); k >= 0 {
		section = section[:k+4]
	}
	golden(t, "cylc-calibration.md", []byte(section))
	if !bytes.Contains(js, []byte(`"cylc_calibration"`)) {
		t.Error("the page's JSON has no cylc_calibration")
	}
}
