package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// result builds a synthetic result: the WFS served req requests with cpu
// seconds of CPU in its window; ops are op counts.
func result(scenario, scheme string, round int, req int64, cpu float64, ops map[string]int64, jobs, cmds int64, files counters.FileStats, closed ...string) *results.Result {
	r := &results.Result{Scenario: scenario, Scheme: scheme, Canonical: "canon-" + scheme, Round: round, Jobs: jobs, Commands: cmds,
		Files: files, ClosedLoop: closed, ServerModel: "fast",
		ServerProcess: &results.ServerProcess{Requests: req, UserSeconds: cpu / 2, SysSeconds: cpu / 2, Window: 10 * time.Second}}
	for _, name := range []string{"job.message", "cli.command_total", "uis.poll"} {
		if n, ok := ops[name]; ok {
			r.Ops = append(r.Ops, &results.Op{Name: name, Count: n, Hist: results.NewHistogram()})
		}
	}
	return r
}

// testSite is goodSite: 10 workflows on 2 CPUs; 1 job/s (86,400 a day) of
// 2 messages, 1 command/s and 1 UI server polling each workflow every 2 s,
// so per WFS 0.2 + 0.1 + 0.5 = 0.8 operations/s and for the host 2 + 1 + 5
// = 8; a burst of 10 jobs × 1 message within 5 s adds 2/s: peaks 2.8 and
// 10.
func testSite(t *testing.T) *Site {
	t.Helper()
	s, err := Parse("test.yaml", []byte(goodSite))
	if err != nil {
		t.Fatal(err)
	}
	s.Origin = "test.yaml"
	return s
}

// testRun holds:
//   - scheme a: mix (open loop, 3 rounds of 1,000 requests for 1,000
//     operations at 0.9, 1.0 and 3.0 ms: median 1 ms), storm (closed loop,
//     more requests, 2 ms: not chosen), jobs-only scenarios of 4 and of 2
//     messages a job, and a commands-only one;
//   - scheme b: mix only, 2 requests per operation (a token fetch) at
//     0.5 ms;
//   - scheme c: no WFS CPU figure.
func testRun() *results.Run {
	mixOps := map[string]int64{"job.message": 600, "cli.command_total": 200, "uis.poll": 200}
	mixFiles := counters.FileStats{Created: 400, Fsyncs: 800}
	rs := []*results.Result{
		result("mix", "a", 1, 1000, 0.9, mixOps, 300, 200, mixFiles),
		result("mix", "a", 2, 1000, 1.0, mixOps, 300, 200, mixFiles),
		result("mix", "a", 3, 1000, 3.0, mixOps, 300, 200, mixFiles),
		result("storm", "a", 1, 10000, 20, map[string]int64{"job.message": 10000}, 2500, 0, counters.FileStats{Created: 5000, Fsyncs: 12500}, "job"),
		result("small", "a", 1, 200, 0.2, map[string]int64{"job.message": 200}, 100, 0, counters.FileStats{Created: 300, Fsyncs: 100}),
		result("cli", "a", 1, 100, 0.1, map[string]int64{"cli.command_total": 100}, 0, 100, counters.FileStats{Created: 10, Fsyncs: 20}),
		result("mix", "b", 1, 2000, 1.0, mixOps, 300, 200, mixFiles),
		{Scenario: "mix", Scheme: "c", Round: 1},
	}
	return &results.Run{Schema: results.SchemaVersion, Command: "authbench run -scenario mix -out data", Results: rs}
}

func testCapacity(k results.Knee) *results.CapacityRun {
	return &results.CapacityRun{Schema: results.SchemaVersion, Command: "authbench capacity -schemes b -out data",
		Curves: []*results.CapacityCurve{{Scheme: "b", Canonical: "canon-b", Op: "command", ServerCPUs: "0", Quota: 0.5, Knee: k}}}
}

var goodKnee = results.Knee{Found: true, Step: 3, Rate: 300, Sustained: 200, PerServerCPU: 400, Why: "p99 past 2×"}

func find(t *testing.T, p *Projection, scheme string) *SchemeProjection {
	t.Helper()
	for _, sp := range p.Schemes {
		if sp.Scheme == scheme {
			return sp
		}
	}
	t.Fatalf("no scheme %s in the projection", scheme)
	return nil
}

func check(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestComputeWorkload(t *testing.T) {
	l := ComputeWorkload(testSite(t))
	for _, c := range []struct {
		what      string
		got       Pair
		wfs, host float64
	}{
		{"jobs/s", l.JobsPerSecond, 0.1, 1},
		{"jobs/day", l.JobsPerDay, 8640, 86400},
		{"messages/s", l.MessagesPerSecond, 0.2, 2},
		{"commands/s", l.CommandsPerSecond, 0.1, 1},
		{"polls/s", l.PollsPerSecond, 0.5, 5},
		{"mean ops/s", l.MeanOpsPerSecond, 0.8, 8},
		{"peak ops/s", l.PeakOpsPerSecond, 2.8, 10},
		{"active jobs", l.ActiveJobs, 0, 0},
	} {
		check(t, c.what+" per WFS", c.got.PerWFS, c.wfs)
		check(t, c.what+" host", c.got.Host, c.host)
	}
	check(t, "burst ops/s", l.BurstOpsPerSecond, 2)

	// Active jobs and a duration: 600 jobs of 10 minutes = 1 job/s.
	s := testSite(t)
	s.TasksPerDay, s.ActiveJobs, s.MeanJobDuration = 0, 600, Duration(10*time.Minute)
	l = ComputeWorkload(s)
	check(t, "jobs/s from active jobs", l.JobsPerSecond.Host, 1)
	check(t, "active jobs per WFS", l.ActiveJobs.PerWFS, 60)
}

func TestProject(t *testing.T) {
	s := testSite(t)
	p, err := Project(s, []Input{{Dir: "data", Run: testRun(), Capacity: testCapacity(goodKnee), CapacityFile: "data/capacity.json"}}, Options{Command: "authbench project -site test.yaml data"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Schemes) != 2 || len(p.Skipped) != 1 || p.Skipped[0].Scheme != "c" {
		t.Fatalf("schemes %d, skipped %+v; want a and b projected, c skipped", len(p.Schemes), p.Skipped)
	}

	a := find(t, p, "a")
	if a.CPU.From.Scenario != "mix" || !a.CPU.From.OpenLoop || a.CPU.From.Rounds != 3 || a.CPU.From.Dir != "data" {
		t.Errorf("a's CPU figure from %+v, want the open-loop mix (3 rounds) over the closed-loop storm", a.CPU.From)
	}
	if a.CPU.PerRequest != time.Millisecond || a.CPU.RequestsPerOp != 1 {
		t.Errorf("a: %v per request, %v requests/op; want the median 1ms and 1", a.CPU.PerRequest, a.CPU.RequestsPerOp)
	}
	check(t, "a mean requests/s per WFS", a.MeanRequestsPerSecond.PerWFS, 0.8)
	check(t, "a mean CPU per WFS", a.MeanCPU.PerWFS, 0.0008)
	check(t, "a peak CPU per WFS", a.PeakCPU.PerWFS, 0.0028)
	check(t, "a mean host CPUs", a.MeanCPU.Host, 0.008)
	check(t, "a mean host share", a.MeanHostShare, 0.004)
	check(t, "a peak host share", a.PeakHostShare, 0.005)
	if !a.Knee.Estimated || a.Knee.Note != "" {
		t.Errorf("a's knee %+v, want estimated (no capacity curve)", a.Knee)
	}
	check(t, "a estimated knee", a.Knee.OpsPerSecond, 1000)
	check(t, "a headroom", a.Headroom, 1000/2.8)
	check(t, "a host headroom", a.HostHeadroom, 1000*2/10.0)

	// a's files: per job from the jobs-only scenario whose jobs send the
	// site's 2 messages (small: 3 created, 1 fsync, 4 ops a job), per
	// command from cli (0.1, 0.2, 0.3 a command).
	f := a.Files
	if f == nil || f.JobsFrom == nil || f.JobsFrom.Scenario != "small" || f.CommandsFrom == nil || f.CommandsFrom.Scenario != "cli" || f.PerRequest != nil {
		t.Fatalf("a's files %+v, want per job from small and per command from cli", f)
	}
	check(t, "a created/day host", f.PerDayHost.Created, 86400*3+86400*0.1)
	check(t, "a fsyncs/day host", f.PerDayHost.Fsyncs, 86400*1+86400*0.2)
	check(t, "a ops/day host", f.PerDayHost.Ops, 86400*4+86400*0.3)
	check(t, "a ops/day per WFS", f.PerDayWFS.Ops, (86400*4+86400*0.3)/10)
	check(t, "a fs seconds/day host", f.FSSecondsPerDay.Host, (86400*4+86400*0.3)*0.001)

	b := find(t, p, "b")
	if b.CPU.PerRequest != 500*time.Microsecond || b.CPU.RequestsPerOp != 2 || b.CPU.PerOp != time.Millisecond {
		t.Errorf("b: %v per request, %v requests/op, %v per op; want 0.5ms, 2, 1ms", b.CPU.PerRequest, b.CPU.RequestsPerOp, b.CPU.PerOp)
	}
	check(t, "b mean requests/s per WFS", b.MeanRequestsPerSecond.PerWFS, 1.6)
	check(t, "b peak requests/s per WFS", b.PeakRequestsPerSecond.PerWFS, 5.6)
	check(t, "b mean CPU per WFS", b.MeanCPU.PerWFS, 0.0008)
	if b.Knee.Estimated || b.Knee.Op != "command" || b.Knee.File != "data/capacity.json" || b.Knee.Quota != 0.5 {
		t.Errorf("b's knee %+v, want the capacity search's", b.Knee)
	}
	check(t, "b knee", b.Knee.OpsPerSecond, 400)
	check(t, "b knee estimate kept", b.Knee.EstimateOpsPerSecond, 1000)
	check(t, "b headroom", b.Headroom, 400/2.8)
	// b's files: only the mixed scenario, apportioned per WFS request
	// (400 created, 800 fsyncs ÷ 2,000 requests) over the site's message
	// and command requests (2 a operation).
	f = b.Files
	if f == nil || f.PerRequest == nil || f.PerJob != nil || f.PerCommand != nil || f.RequestsFrom.Scenario != "mix" {
		t.Fatalf("b's files %+v, want apportioned per request from mix", f)
	}
	check(t, "b created/day host", f.PerDayHost.Created, (2*86400+1*86400)*2*0.2)
	check(t, "b fsyncs/day host", f.PerDayHost.Fsyncs, (2*86400+1*86400)*2*0.4)

	// The model is JSON.
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Projection
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("JSON does not decode: %v", err)
	}
	if len(back.Schemes) != 2 || back.Site.Name != "test-site" || back.Site.CyclePointBurst.Within.D() != 5*time.Second {
		t.Errorf("JSON round trip lost data: %+v", back)
	}
}

// TestKnee: a capacity knee when there is a valid one, else the estimate,
// saying why.
func TestKnee(t *testing.T) {
	cases := []struct {
		name      string
		knee      results.Knee
		estimated bool
		lower     bool
		rate      float64
		note      string
	}{
		{"capacity", goodKnee, false, false, 400, ""},
		{"invalid", results.Knee{Found: true, PerServerCPU: 400, Invalid: "the load generator used 95% of its CPUs"}, true, false, 1000, "invalid: the load generator used 95%"},
		{"not reached", results.Knee{Found: false, Sustained: 300, PerServerCPU: 600, Why: "not reached by 300/s"}, false, true, 600, "lower bound"},
		{"no rate per CPU", results.Knee{Found: true, Sustained: 200}, true, false, 1000, "no rate per WFS CPU"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Project(testSite(t), []Input{{Run: testRun()}, {Capacity: testCapacity(c.knee), CapacityFile: "cap.json"}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			k := find(t, p, "b").Knee
			if k.Estimated != c.estimated || k.LowerBound != c.lower || !strings.Contains(k.Note, c.note) {
				t.Errorf("knee %+v; want estimated %v, lower bound %v, note %q", k, c.estimated, c.lower, c.note)
			}
			check(t, "knee", k.OpsPerSecond, c.rate)
			var md bytes.Buffer
			if err := p.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			if c.lower && !strings.Contains(md.String(), "≥ ") {
				t.Errorf("a lower-bound knee is not marked ≥:\n%s", md.String())
			}
			if c.estimated && !strings.Contains(md.String(), "estimated from CPU per request") {
				t.Errorf("an estimated knee is not labelled:\n%s", md.String())
			}
		})
	}
	// A curve matches by canonical form too, and a message curve beats a
	// command curve.
	c := testCapacity(goodKnee)
	c.Curves[0].Scheme = "other-name"
	msg := *c.Curves[0]
	msg.Op, msg.Knee.PerServerCPU = "message", 700
	c.Curves = append(c.Curves, &msg)
	p, err := Project(testSite(t), []Input{{Run: testRun(), Capacity: c}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := find(t, p, "b").Knee; k.Op != "message" || k.OpsPerSecond != 700 {
		t.Errorf("knee %+v, want the message curve matched by canonical form", k)
	}
}

func TestProjectScenarioOption(t *testing.T) {
	p, err := Project(testSite(t), []Input{{Run: testRun()}}, Options{Scenario: "storm"})
	if err != nil {
		t.Fatal(err)
	}
	a := find(t, p, "a")
	if a.CPU.From.Scenario != "storm" || a.CPU.From.OpenLoop || a.CPU.PerRequest != 2*time.Millisecond {
		t.Errorf("a from %+v at %v, want storm (closed loop) at 2ms", a.CPU.From, a.CPU.PerRequest)
	}
	if len(p.Skipped) != 2 { // b has no storm, c no figure
		t.Errorf("skipped %+v, want b and c", p.Skipped)
	}
	if _, err := Project(testSite(t), []Input{{Run: testRun()}}, Options{Scenario: "nope"}); !errors.Is(err, ErrNoCPUFigure) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown scenario: got %v", err)
	}
}

func TestProjectErrors(t *testing.T) {
	if _, err := Project(testSite(t), nil, Options{}); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Errorf("no inputs: got %v", err)
	}
	old := &results.Run{Schema: results.SchemaVersion, Results: []*results.Result{{Scenario: "mix", Scheme: "plain", Round: 1}}}
	_, err := Project(testSite(t), []Input{{Run: old}}, Options{})
	if !errors.Is(err, ErrNoCPUFigure) || strings.Contains(err.Error(), "\n") {
		t.Errorf("no CPU figure: got %v", err)
	}
	if _, err := Project(nil, []Input{{Run: testRun()}}, Options{}); err == nil {
		t.Error("no site: want an error")
	}
}

// TestRender compares the markdown with a golden file (go test ./site
// -update rewrites it) and checks that every figure says where it came
// from.
func TestRender(t *testing.T) {
	p, err := Project(testSite(t), []Input{{Dir: "data", Run: testRun(), Capacity: testCapacity(goodKnee), CapacityFile: "data/capacity.json"}}, Options{Command: "authbench project -site test.yaml data"})
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := p.WriteMarkdown(&got); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "projection.md")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./site -update writes it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("markdown differs from %s (go test ./site -update rewrites it); got:\n%s", golden, got.String())
	}
	md := got.String()
	for _, w := range []string{
		"## Capacity projection: test-site",
		"| `a`", "| `b`", "0.08 %", "0.28 %", "357×", "143×", // CPU shares and headroom
		"1,000/s (estimated)", "400/s (capacity, command)",
		"`mix` in `data`", "`small` in `data`", "`cli` in `data`", "data/capacity.json",
		"apportioned per WFS request",
		"`authbench run -scenario mix -out data`", "`authbench capacity -schemes b -out data`", "`authbench project -site test.yaml data`",
		"Not projected: `c`", "**Reading.**",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q", w)
		}
	}
}

// TestProjectRuns: the report's entry point projects runs and capacity
// searches without directories.
func TestProjectRuns(t *testing.T) {
	var b bytes.Buffer
	p, err := ProjectRuns(testSite(t), []*results.Run{testRun()}, []*results.CapacityRun{testCapacity(goodKnee)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"## Capacity projection: test-site", "400/s (capacity, command)", "`authbench project -site test-site` with the results directories above"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("section lacks %q:\n%s", w, b.String())
		}
	}
	if _, err := ProjectRuns(testSite(t), nil, nil); err == nil {
		t.Error("no runs: want an error")
	}
}

func TestNum(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {0.000744, "0.000744"}, {0.2241, "0.224"}, {1, "1"}, {2.5, "2.5"}, {20.22, "20.2"}, {357.14, "357"},
		{18000, "18,000"}, {1234567, "1,234,567"}, {math.NaN(), "-"},
	} {
		if got := num(c.x); got != c.want {
			t.Errorf("num(%v) = %q, want %q", c.x, got, c.want)
		}
	}
}

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadInput(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := ReadInput(dir); err == nil || !strings.Contains(err.Error(), "no results.json") {
		t.Errorf("empty dir: %v", err)
	}
	if err := testRun().Write(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	in, err := ReadInput(dir)
	if err != nil || in.Run == nil || in.Capacity != nil {
		t.Fatalf("ReadInput: %+v, %v", in, err)
	}
	if err := testCapacity(goodKnee).Write(filepath.Join(dir, "capacity.json")); err != nil {
		t.Fatal(err)
	}
	if in, err = ReadInput(dir); err != nil || in.Capacity == nil || in.CapacityFile != filepath.Join(dir, "capacity.json") {
		t.Fatalf("ReadInput with capacity: %+v, %v", in, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity.json"), []byte(`{"schema": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadInput(dir); err == nil || !strings.Contains(err.Error(), "schema 99") {
		t.Errorf("bad capacity schema: %v", err)
	}
}

// TestMergeInputs: two directories holding shards of one run become one
// input (project read only the first: issue 24 #6); a capacity search
// passes through; runs of other scenario sets stay apart, and two sets
// sharing a scenario are refused.
func TestMergeInputs(t *testing.T) {
	a, b := testRun(), testRun()
	a.Shard = &results.Shard{Index: 0, Count: 2, Node: "n0", Server: "h:1"}
	b.Shard = &results.Shard{Index: 1, Count: 2, Node: "n1", Server: "h:1"}
	c := testCapacity(goodKnee)
	out, err := MergeInputs([]Input{{Dir: "c0", Run: a}, {Dir: "c1", Run: b}, {Capacity: c}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Capacity != c || out[1].Dir != "c0 + c1" || len(out[1].Run.Sources) != 2 {
		t.Fatalf("merged inputs %+v", out)
	}
	other := testRun()
	for _, r := range other.Results {
		r.Scenario = "elsewhere"
	}
	if out, err := MergeInputs([]Input{{Dir: "c0", Run: testRun()}, {Dir: "x", Run: other}}); err != nil || len(out) != 2 {
		t.Fatalf("two scenario sets: %v, %d inputs", err, len(out))
	}
	mixed := testRun()
	mixed.Results = append(mixed.Results, other.Results...)
	if _, err := MergeInputs([]Input{{Dir: "c0", Run: testRun()}, {Dir: "m", Run: mixed}}); err == nil || !strings.Contains(err.Error(), "mixed scenarios") {
		t.Fatalf("sets sharing a scenario: %v, want a refusal", err)
	}
}
