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
	"github.com/authbench/authbench/vocab"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// res builds a synthetic result of one round: the WFS served req requests
// with cpu seconds of CPU in its window; ops are op counts.
func res(scenario, scheme, security, credential string, round int, req int64, cpu float64, ops map[string]int64, jobs, cmds int64, files counters.FileStats) *results.Result {
	r := &results.Result{Scenario: scenario, Scheme: scheme, Canonical: "canon-" + scheme, Round: round, Jobs: jobs, Commands: cmds,
		Spec: &vocab.Spec{Raw: scheme, Security: security, Credential: credential}, Files: files, ServerModel: vocab.ServerModelCylc,
		ServerProcess: &results.ServerProcess{Requests: req, UserSeconds: cpu / 2, SysSeconds: cpu / 2, Window: 10 * time.Second}}
	for _, name := range []string{vocab.OpJobMessage, vocab.OpCLICommand, vocab.OpUISPoll} {
		if n, ok := ops[name]; ok {
			r.Ops = append(r.Ops, &results.Op{Name: name, Count: n, Hist: results.NewHistogram()})
		}
	}
	return r
}

// cli and jobs are a scheme's rounds in review-cli (100 commands a round)
// and review-jobs (50 jobs of 2 messages a round) at the given CPU per
// operation (one per round) and requests per operation.
func cli(scheme, security, credential string, reqPerOp float64, msPerOp ...float64) []*results.Result {
	var out []*results.Result
	for i, ms := range msPerOp {
		out = append(out, res("review-cli", scheme, security, credential, i+1, int64(100*reqPerOp), 100*ms/1000,
			map[string]int64{vocab.OpCLICommand: 100}, 0, 100, counters.FileStats{Created: 10, Fsyncs: 20}))
	}
	return out
}

func jobs(scheme, security, credential string, reqPerOp float64, msPerOp ...float64) []*results.Result {
	var out []*results.Result
	for i, ms := range msPerOp {
		out = append(out, res("review-jobs", scheme, security, credential, i+1, int64(100*reqPerOp), 100*ms/1000,
			map[string]int64{vocab.OpJobMessage: 100}, 50, 0, counters.FileStats{Created: 150, Fsyncs: 50}))
	}
	return out
}

func polls(scheme, security, credential string, ms float64) *results.Result {
	return res("review-uis", scheme, security, credential, 1, 60, 60*ms/1000, map[string]int64{vocab.OpUISPoll: 60}, 0, 0, counters.FileStats{})
}

func run(command string, rs ...[]*results.Result) *results.Run {
	r := &results.Run{Schema: results.SchemaVersion, Command: command}
	for _, x := range rs {
		r.Results = append(r.Results, x...)
	}
	return r
}

// reviewInputs are set review's results in two directories:
//   - plain (null, no credential): 1 ms a command (median of 0.9, 1, 3),
//     2 ms a message;
//   - jwt:command (null+jwt): 2 requests and 2 ms a command, 2 requests
//     and 3 ms a message;
//   - curve: 3 ms a command, 4 ms a message;
//   - jwe: commands only (not projected at a site with jobs);
//   - curve-job: messages only.
func reviewInputs() []Input {
	c := run("authbench run -scenario review-cli -out data/cli",
		cli("plain", "null", "", 1, 0.9, 1, 3), cli("jwt:command", "null", "jwt", 2, 2), cli("curve", "curve", "", 1, 3), cli("jwe", "null", "jwe", 1, 1.5))
	j := run("authbench run -scenario review-jobs -out data/jobs",
		jobs("plain", "null", "", 1, 2), jobs("jwt:command", "null", "jwt", 2, 3), jobs("curve", "curve", "", 1, 4), jobs("curve-job", "curve-job", "", 1, 5))
	return []Input{{Dir: "data/cli", Run: c}, {Dir: "data/jobs", Run: j}}
}

// testSite is goodSite: 10 workflows on 2 CPUs; 1 job/s (86,400 a day)
// of 2 messages, 1 command/s, one UI server (3 updates a job, 3,600
// queries an hour), a burst of 10 jobs × 1 message within 5 s, and a
// budget of 0.75 % of a CPU per WFS. Per WFS: 0.1 jobs/s, 0.2 messages/s,
// 0.1 commands/s, 0.4 updates/s (0.1 × 3 + 0.1), so 1 − e^−0.4 = 0.3297
// deltas/s, 1 query/s; at the peak 2.2 messages/s and 1 − e^−2.4 = 0.9093
// deltas/s.
func testSite(t *testing.T) *Site {
	t.Helper()
	s, err := Parse("test.yaml", []byte(goodSite))
	if err != nil {
		t.Fatal(err)
	}
	s.Origin = "test.yaml"
	return s
}

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

var (
	deltasMean = 1 - math.Exp(-0.4)
	deltasPeak = 1 - math.Exp(-2.4)
)

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
		{"updates/s", l.UpdatesPerSecond, 0.4, 4},
		{"publishes/s", l.PublishesPerSecond, deltasMean, 10 * deltasMean},
		{"deltas/s", l.DeltasPerSecond, deltasMean, 10 * deltasMean},
		{"queries/s", l.QueriesPerSecond, 1, 10},
		{"peak messages/s", l.PeakMessagesPerSecond, 2.2, 4},
		{"peak deltas/s", l.PeakDeltasPerSecond, deltasPeak, 9*deltasMean + deltasPeak},
		{"active jobs", l.ActiveJobs, 0, 0},
	} {
		check(t, c.what+" per WFS", c.got.PerWFS, c.wfs)
		check(t, c.what+" host", c.got.Host, c.host)
	}
	check(t, "burst messages/s", l.BurstMessagesPerSecond, 2)

	// Active jobs and a duration: 600 jobs of 10 minutes = 1 job/s.
	s := testSite(t)
	s.TasksPerDay, s.ActiveJobs, s.MeanJobDuration = 0, 600, Duration(10*time.Minute)
	l = ComputeWorkload(s)
	check(t, "jobs/s from active jobs", l.JobsPerSecond.Host, 1)
	check(t, "active jobs per WFS", l.ActiveJobs.PerWFS, 60)

	// Two UI servers each receive every publish.
	s = testSite(t)
	s.UIServers.Count = 2
	l = ComputeWorkload(s)
	check(t, "deltas/s with 2 UI servers", l.DeltasPerSecond.PerWFS, 2*deltasMean)
	check(t, "queries/s with 2 UI servers", l.QueriesPerSecond.PerWFS, 2)
}

// TestPublishes: about one publish an update at a low rate, at most one a
// main-loop iteration in a burst.
func TestPublishes(t *testing.T) {
	for _, c := range []struct{ rate, lo, hi float64 }{
		{0, 0, 0}, {0.001, 0.000999, 0.001}, {0.1, 0.095, 0.0952}, {20, 0.99999, 1}, {1e6, 1, 1},
	} {
		if got := Publishes(c.rate); got < c.lo || got > c.hi {
			t.Errorf("Publishes(%g) = %g, want %g to %g", c.rate, got, c.lo, c.hi)
		}
	}
}

// TestProjectSet: every scheme's costs come from the set's scenarios, a
// command from review-cli and a message from review-jobs; the UI server is
// charged per delta and per query, not per poll.
func TestProjectSet(t *testing.T) {
	p, err := Project(testSite(t), reviewInputs(), Options{Command: "authbench project -site test.yaml data"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Set.Name != "review" || p.ServerModel != "cylc" || p.FSModel != "" || len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "review-uis") {
		t.Errorf("set %s, models %q %q, notes %q; want review under cylc on the local disk, noting that review-uis is missing", p.Set.Name, p.ServerModel, p.FSModel, p.Notes)
	}
	ms := func(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }
	cases := []struct {
		scheme                      string
		cmd, msg, delta, query      time.Duration
		reqCmd, reqMsg              float64
		deltaFrom                   string // whose query the delta is
		meanShare, peakShare, uiPct float64
	}{
		{"plain", ms(1), ms(2), ms(1), ms(1), 1, 1, "plain", 0, 0, 0},
		{"jwt:command", ms(2), ms(3), ms(1), ms(2), 2, 2, "plain", 0, 0, 0},
		{"curve", ms(3), ms(4), ms(3), ms(3), 1, 1, "curve", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			sp := find(t, p, c.scheme)
			cpu := sp.CPU
			if cpu.Command.CPU != c.cmd || cpu.Message.CPU != c.msg || cpu.Delta.CPU != c.delta || cpu.Query.CPU != c.query {
				t.Errorf("costs command %v message %v delta %v query %v; want %v %v %v %v", cpu.Command.CPU, cpu.Message.CPU, cpu.Delta.CPU, cpu.Query.CPU, c.cmd, c.msg, c.delta, c.query)
			}
			check(t, "requests/command", cpu.Command.RequestsPerOp, c.reqCmd)
			check(t, "requests/message", cpu.Message.RequestsPerOp, c.reqMsg)
			if !cpu.Command.Measured || !cpu.Message.Measured || cpu.Delta.Measured || cpu.Query.Measured {
				t.Errorf("measured: command %v message %v delta %v query %v; want measured, measured, estimated, estimated",
					cpu.Command.Measured, cpu.Message.Measured, cpu.Delta.Measured, cpu.Query.Measured)
			}
			if cpu.Command.From.Scenario != "review-cli" || cpu.Command.From.Dir != "data/cli" || cpu.Message.From.Scenario != "review-jobs" || cpu.Message.From.Dir != "data/jobs" {
				t.Errorf("command from %+v, message from %+v", cpu.Command.From, cpu.Message.From)
			}
			if !strings.Contains(cpu.Delta.Basis, "`"+c.deltaFrom+"`'s query") || !strings.Contains(cpu.Query.Basis, "upper bound") {
				t.Errorf("delta basis %q (want %s's query), query basis %q", cpu.Delta.Basis, c.deltaFrom, cpu.Query.Basis)
			}
			cm, cc, cd, cq := c.msg.Seconds(), c.cmd.Seconds(), c.delta.Seconds(), c.query.Seconds()
			ui := deltasMean*cd + 1*cq
			mean := 0.2*cm + 0.1*cc + ui
			peak := 2.2*cm + 0.1*cc + deltasPeak*cd + cq
			check(t, "mean CPU per WFS", sp.MeanCPU.PerWFS, mean)
			check(t, "peak CPU per WFS", sp.PeakCPU.PerWFS, peak)
			check(t, "mean CPU host", sp.MeanCPU.Host, 10*mean)
			check(t, "peak CPU host", sp.PeakCPU.Host, 9*mean+peak)
			check(t, "mean host share", sp.MeanHostShare, 10*mean/2)
			check(t, "UI share", sp.UIShare, ui/mean)
			if b := sp.Budget; b == nil || b.Budget != 0.0075 || b.Within != (peak <= 0.0075) {
				t.Errorf("budget %+v at a peak of %v", b, peak)
			}
			if !sp.Knee.Estimated || sp.Knee.Op != OpMessage {
				t.Errorf("knee %+v, want estimated from job messages", sp.Knee)
			}
			check(t, "knee", sp.Knee.OpsPerSecond, 1/cm)
			check(t, "headroom", sp.Headroom, 1/peak)
			check(t, "host headroom", sp.HostHeadroom, 2/(9*mean+peak))
		})
	}
	// jwe has only commands and curve-job only messages: not projected,
	// saying which figure is missing and keeping the one there is.
	why := map[string]string{}
	for _, sk := range p.Skipped {
		why[sk.Scheme] = sk.Why
		if sk.CPU == nil {
			t.Errorf("%s skipped without its partial figures", sk.Scheme)
		}
	}
	if !strings.Contains(why["jwe"], "no per-message figure") || !strings.Contains(why["curve-job"], "no per-command figure") || len(why) != 2 {
		t.Errorf("skipped %v, want jwe (no message figure) and curve-job (no command figure)", why)
	}

	// Files: per job from review-jobs (3 created, 1 fsync a job), per
	// command from review-cli (0.1 and 0.2).
	f := find(t, p, "plain").Files
	if f == nil || f.JobsFrom.Scenario != "review-jobs" || f.CommandsFrom.Scenario != "review-cli" {
		t.Fatalf("files %+v", f)
	}
	check(t, "created/day host", f.PerDayHost.Created, 86400*3+86400*0.1)
	check(t, "fsyncs/day host", f.PerDayHost.Fsyncs, 86400*1+86400*0.2)
	check(t, "fs seconds/day host", f.FSSecondsPerDay.Host, (86400*4+86400*0.3)*0.001)

	// The model is JSON.
	var buf bytes.Buffer
	if err := p.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Projection
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("JSON does not decode: %v", err)
	}
	if len(back.Schemes) != 3 || back.Set.Commands != "review-cli" || back.Schemes[0].CPU.Delta.Op != OpDelta {
		t.Errorf("JSON round trip lost data: %+v", back)
	}
}

// TestUIServerPerDelta: with a query scenario (a poll on one long-lived
// connection) the UI server is charged that measured cost per query and
// per delta, with no handshake: far less than charging each poll as a
// fresh command, as the projection did before.
func TestUIServerPerDelta(t *testing.T) {
	in := reviewInputs()
	q := run("authbench run -scenario review-uis -out data/uis", []*results.Result{
		polls("plain", "null", "", 0.25), polls("jwt:command", "null", "jwt", 0.5), polls("curve", "curve", "", 0.4)})
	in = append(in, Input{Dir: "data/uis", Run: q})
	// A handshake probe in review-cli is not used when the query scenario
	// measured the reused connection.
	for _, r := range in[0].Run.Results {
		r.ServerProcess.Handshake = &results.HandshakeProbe{Ops: 50, Fresh: 5 * time.Millisecond, Reused: 100 * time.Microsecond}
	}
	p, err := Project(testSite(t), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		scheme       string
		query, delta time.Duration
		freshCommand time.Duration
	}{
		{"plain", 250 * time.Microsecond, 250 * time.Microsecond, time.Millisecond},
		{"jwt:command", 500 * time.Microsecond, 250 * time.Microsecond, 2 * time.Millisecond}, // a delta carries no token: plain's
		{"curve", 400 * time.Microsecond, 400 * time.Microsecond, 3 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.scheme, func(t *testing.T) {
			sp := find(t, p, c.scheme)
			cpu := sp.CPU
			if cpu.Query.CPU != c.query || !cpu.Query.Measured || cpu.Query.From.Scenario != "review-uis" {
				t.Errorf("query %+v, want %v measured in review-uis", cpu.Query, c.query)
			}
			if cpu.Delta.CPU != c.delta || cpu.Delta.Measured || !strings.HasPrefix(cpu.Delta.Basis, "estimate") {
				t.Errorf("delta %+v, want an estimate of %v", cpu.Delta, c.delta)
			}
			ui := sp.UIShare * sp.MeanCPU.PerWFS
			check(t, "UI-server CPU per WFS", ui, deltasMean*c.delta.Seconds()+1*c.query.Seconds())
			// Charged as fresh commands, each of the deltas and queries
			// would have cost a handshake's connection too.
			if fresh := (deltasMean + 1) * c.freshCommand.Seconds(); ui >= fresh {
				t.Errorf("UI-server CPU %v not below the fresh-connection charge %v", ui, fresh)
			}
		})
	}
	if len(p.Notes) != 0 {
		t.Errorf("notes %q, want none", p.Notes)
	}

	// Without a query scenario, a handshake probe's reused connection is
	// the measured query cost.
	p, err = Project(testSite(t), in[:2], Options{})
	if err != nil {
		t.Fatal(err)
	}
	if q := find(t, p, "curve").CPU.Query; q.CPU != 100*time.Microsecond || !q.Measured || !strings.Contains(q.Basis, "handshake probe") {
		t.Errorf("query from the probe: %+v", q)
	}
}

// TestProjectRefusesMixedModels: a set's results under two server models,
// or two file-system models, are refused in one line naming both.
func TestProjectRefusesMixedModels(t *testing.T) {
	cases := []struct {
		name   string
		change func([]Input)
		want   []string
	}{
		{"server models", func(in []Input) {
			for _, r := range in[1].Run.Results {
				r.ServerModel = "fast"
			}
		}, []string{"set review mixes server models", "review-cli ran under cylc (data/cli)", "review-jobs under fast (data/jobs"}},
		{"one round", func(in []Input) { in[0].Run.Results[1].ServerModel = "fast" }, []string{"mixes server models", "review-cli under fast"}},
		{"unrecorded is fast", func(in []Input) { in[0].Run.Results[0].ServerModel = "" }, []string{"mixes server models", "under fast"}},
		{"file-system models", func(in []Input) {
			for _, r := range in[1].Run.Results {
				r.FSModel = "model=nfs-lan,metadata_rtt=1ms,fsync=5ms"
			}
		}, []string{"set review mixes file-system models", "the local disk", "the nfs-lan file-system model"}},
		{"query scenario", func(in []Input) {
			r := polls("plain", "null", "", 0.2)
			r.ServerModel = "fast"
			in[1].Run.Results = append(in[1].Run.Results, r)
		}, []string{"mixes server models", "review-uis under fast"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := reviewInputs()
			c.change(in)
			_, err := Project(testSite(t), in, Options{})
			if err == nil {
				t.Fatal("want a refusal")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// One model throughout, but not the set's: projected, with a note.
	in := reviewInputs()
	for _, x := range in {
		for _, r := range x.Run.Results {
			r.ServerModel = "fast"
		}
	}
	p, err := Project(testSite(t), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.ServerModel != "fast" || len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "not on the set's terms") {
		t.Errorf("model %s, notes %q; want fast, noted as not the set's terms", p.ServerModel, p.Notes)
	}
}

// TestProjectSetMissing: a set whose scenarios the results lack is an
// error naming what is missing; the report's entry point says so in its
// section instead.
func TestProjectSetMissing(t *testing.T) {
	in := reviewInputs()[:1]
	_, err := Project(testSite(t), in, Options{})
	if !errors.Is(err, ErrSetMissing) {
		t.Fatalf("got %v, want ErrSetMissing", err)
	}
	for _, w := range []string{"set review", "no review-jobs", "they hold review-cli", "-set (review, review-burst, review-nfs)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	p, err := ProjectRuns(testSite(t), []*results.Run{in[0].Run}, nil)
	if err != nil || p.Unavailable == "" || len(p.Schemes) != 0 {
		t.Fatalf("ProjectRuns: %+v, %v; want an unavailable projection", p, err)
	}
	var md bytes.Buffer
	if err := p.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**Not projected.** Set review takes commands from review-cli") {
		t.Errorf("section:\n%s", md.String())
	}

	// A named set: review-nfs takes its own scenarios.
	nfs := reviewInputs()
	for _, x := range nfs {
		for _, r := range x.Run.Results {
			r.Scenario += "-nfs"
			r.FSModel = "model=nfs-lan,metadata_rtt=1ms,fsync=5ms"
		}
	}
	p, err = Project(testSite(t), append(reviewInputs(), nfs...), Options{Set: "review-nfs"})
	if err != nil {
		t.Fatal(err)
	}
	if sp := find(t, p, "plain"); sp.CPU.Command.From.Scenario != "review-cli-nfs" || p.FSModel != "nfs-lan" || len(p.Notes) != 0 {
		t.Errorf("review-nfs: command from %s, fs %q, notes %q", sp.CPU.Command.From.Scenario, p.FSModel, p.Notes)
	}
	if _, err := Project(testSite(t), in, Options{Set: "nope"}); err == nil || !strings.Contains(err.Error(), `no scenario set "nope" (have review, review-burst, review-nfs)`) {
		t.Errorf("unknown set: %v", err)
	}
	// A scenario that mixes kinds gives no per-operation figure.
	mixed := reviewInputs()
	mixed[0].Run.Results[0].Ops = append(mixed[0].Run.Results[0].Ops, &results.Op{Name: vocab.OpJobMessage, Count: 5, Hist: results.NewHistogram()})
	p, err = Project(testSite(t), mixed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sk := range p.Skipped {
		if sk.Scheme == "plain" && !strings.Contains(sk.Why, "mixes") {
			t.Errorf("plain skipped for %q", sk.Why)
		}
	}
}

func capacity(command string, curves ...*results.CapacityCurve) *results.CapacityRun {
	return &results.CapacityRun{Schema: results.SchemaVersion, Command: command, Curves: curves}
}

func curve(scheme, op string, k results.Knee) *results.CapacityCurve {
	return &results.CapacityCurve{Scheme: scheme, Canonical: "canon-" + scheme, Op: op, ServerCPUs: "0", Quota: 0.5, Knee: k}
}

var goodKnee = results.Knee{Found: true, Step: 3, Rate: 300, Sustained: 200, PerServerCPU: 400, Why: "p99 past 2×"}

// TestKnee: a capacity knee under the set's results' server model is
// used and its ratio to the estimate kept; one under another model, an
// invalid one or one with no rate per CPU leaves the estimate, saying why;
// an estimate is labelled with the measured ratios.
func TestKnee(t *testing.T) {
	cylc := "authbench capacity -model cylc -schemes curve -out data"
	cases := []struct {
		name      string
		cap       *results.CapacityRun
		estimated bool
		lower     bool
		rate      float64
		note      string
		ratios    int
	}{
		{"measured", capacity(cylc, curve("curve", "command", goodKnee)), false, false, 400, "", 1},
		{"by canonical form", capacity(cylc, &results.CapacityCurve{Scheme: "other", Canonical: "canon-curve", Op: "command", Knee: goodKnee}), false, false, 400, "", 1},
		{"message beats command", capacity(cylc, curve("curve", "command", goodKnee), curve("curve", "message", results.Knee{Found: true, PerServerCPU: 200})), false, false, 200, "", 1},
		{"other model", capacity("authbench capacity -schemes curve -out data", curve("curve", "command", goodKnee)), true, false, 250, "ran under the fast server model (from its command line), the set's results under cylc: not used", 1},
		{"model=", capacity("authbench capacity --model=cylc -out data", curve("curve", "command", goodKnee)), false, false, 400, "", 1},
		{"invalid", capacity(cylc, curve("curve", "command", results.Knee{Found: true, PerServerCPU: 400, Invalid: "the load generator used 95% of its CPUs"})), true, false, 250, "invalid: the load generator used 95%", 0},
		{"not reached", capacity(cylc, curve("curve", "command", results.Knee{Sustained: 300, PerServerCPU: 600, Why: "not reached by 300/s"})), false, true, 600, "lower bound", 0},
		{"no rate per CPU", capacity(cylc, curve("curve", "command", results.Knee{Found: true, Sustained: 200})), true, false, 250, "no rate per WFS CPU", 0},
		{"handshake only", capacity(cylc, curve("curve", "handshake", goodKnee)), true, false, 250, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append(reviewInputs(), Input{Capacity: c.cap, CapacityFile: "data/capacity.json"})
			p, err := Project(testSite(t), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			sp := find(t, p, "curve")
			k := sp.Knee
			if k.Estimated != c.estimated || k.LowerBound != c.lower || !strings.Contains(k.Note, c.note) {
				t.Errorf("knee %+v; want estimated %v, lower bound %v, note %q", k, c.estimated, c.lower, c.note)
			}
			check(t, "knee", k.OpsPerSecond, c.rate)
			if len(p.KneeRatios) != c.ratios {
				t.Errorf("ratios %+v, want %d", p.KneeRatios, c.ratios)
			}
			if !k.Estimated {
				check(t, "headroom", sp.Headroom, k.OpsPerSecond*sp.CPU.of(k.Op).Seconds()/sp.PeakCPU.PerWFS)
			}
			var md bytes.Buffer
			if err := p.WriteMarkdown(&md); err != nil {
				t.Fatal(err)
			}
			if c.lower && !strings.Contains(md.String(), "≥ ") {
				t.Errorf("a lower-bound knee is not marked ≥")
			}
			if c.name == "measured" {
				// 400/s against 1 CPU ÷ 3 ms = 333/s: 120 %; plain's
				// estimate is labelled with it.
				check(t, "ratio", p.KneeRatios[0].Ratio, 400*0.003)
				for _, w := range []string{"400/s commands (measured, cylc model)", "120 % of its estimate", "measured knees on this machine were 120 % (`curve`, command, cylc model)"} {
					if !strings.Contains(md.String(), w) {
						t.Errorf("markdown lacks %q", w)
					}
				}
			}
		})
	}
}

// TestBudget: the peak share against the site's budget, and the budget at
// which the verdict flips.
func TestBudget(t *testing.T) {
	cases := []struct {
		budget float64
		within map[string]bool
	}{
		{1, map[string]bool{"plain": true, "jwt:command": true, "curve": true}},
		{0.0075, map[string]bool{"plain": true, "jwt:command": false, "curve": false}},
		{0.001, map[string]bool{"plain": false, "jwt:command": false, "curve": false}},
	}
	for _, c := range cases {
		s := testSite(t)
		s.WFSCPUShareBudget.Value = c.budget
		p, err := Project(s, reviewInputs(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for scheme, within := range c.within {
			b := find(t, p, scheme).Budget
			if b.Within != within || b.Budget != c.budget {
				t.Errorf("budget %g, %s: %+v, want within %v", c.budget, scheme, b, within)
			}
			cell := budgetCell(b)
			if !strings.Contains(cell, pct(b.Share)) || (within && !strings.Contains(cell, "over below "+pct(b.Share))) || (!within && !strings.Contains(cell, "within at "+pct(b.Share))) {
				t.Errorf("cell %q does not give the flip at %s", cell, pct(b.Share))
			}
		}
	}
	s := testSite(t)
	s.WFSCPUShareBudget = nil
	p, err := Project(s, reviewInputs(), Options{})
	if err != nil || find(t, p, "plain").Budget != nil {
		t.Errorf("no budget: %v", err)
	}
}

func TestProjectErrors(t *testing.T) {
	if _, err := Project(testSite(t), nil, Options{}); err == nil || !strings.Contains(err.Error(), "no results") {
		t.Errorf("no inputs: got %v", err)
	}
	old := reviewInputs()
	for _, x := range old {
		for _, r := range x.Run.Results {
			r.ServerProcess = nil
		}
	}
	_, err := Project(testSite(t), old, Options{})
	if !errors.Is(err, ErrNoCPUFigure) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "no server_process") {
		t.Errorf("no CPU figure: got %v", err)
	}
	if _, err := Project(nil, reviewInputs(), Options{}); err == nil {
		t.Error("no site: want an error")
	}
	twice := append(reviewInputs(), Input{Dir: "again", Run: run("x", cli("plain", "null", "", 1, 1))})
	if _, err := Project(testSite(t), twice, Options{}); err == nil || !strings.Contains(err.Error(), "review-cli is in two inputs (data/cli and again)") {
		t.Errorf("a scenario twice: %v", err)
	}
}

// TestRender compares the markdown with a golden file (go test ./site
// -update rewrites it) and checks that every figure says where it came
// from.
func TestRender(t *testing.T) {
	in := append(reviewInputs(), Input{Dir: "data", Capacity: capacity("authbench capacity -model cylc -schemes curve -out data", curve("curve", "command", goodKnee)), CapacityFile: "data/capacity.json"})
	p, err := Project(testSite(t), in, Options{Command: "authbench project -site test.yaml data"})
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
		"**Scenario set.** Every scheme's costs come from the set `review`", "ran under the **cylc** server model on the local disk",
		"| `plain`", "| `jwt:command`", "| `curve`", "`jwe` (not projected)",
		"UI-server deltas", "cylc/flow/network/publisher.py", "cylc/uiserver/data_store_mgr.py", "INTERVAL_MAIN_LOOP",
		"(estimate)", "estimate: `plain`'s query on a reused connection",
		"`review-cli` in `data/cli` (cylc model, local disk, open loop, median of 3 rounds)", "`review-jobs` in `data/jobs`",
		"made up for the tests", "over below", "**over**",
		"400/s commands (measured, cylc model)", "estimated: 1 CPU ÷ 2.00ms per job message; measured knees on this machine were 120 %",
		"`authbench run -scenario review-cli -out data/cli`", "`authbench capacity -model cylc -schemes curve -out data`", "`authbench project -site test.yaml data`",
		"Not projected (the set lacks a figure the site needs): `jwe`", "**Reading.**",
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
	var runs []*results.Run
	for _, in := range reviewInputs() {
		runs = append(runs, in.Run)
	}
	p, err := ProjectRuns(testSite(t), runs, []*results.CapacityRun{capacity("authbench capacity -model cylc -out data", curve("curve", "command", goodKnee))})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"## Capacity projection: test-site", "400/s commands (measured, cylc model)", "`authbench project -site test-site -set review` with the results directories above"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("section lacks %q:\n%s", w, b.String())
		}
	}
	if _, err := ProjectRuns(testSite(t), nil, nil); err == nil {
		t.Error("no runs: want an error")
	}
}

func TestScenarioSets(t *testing.T) {
	sets := ScenarioSets()
	if sets[0].Name != DefaultSet || sets[0].ServerModel != vocab.ServerModelCylc || sets[0].FSModel != "" {
		t.Errorf("default set %+v, want review under cylc on the local disk, first", sets[0])
	}
	seen := map[string]bool{}
	for _, s := range sets {
		if seen[s.Name] || s.Commands == "" || s.Messages == "" || s.Description == "" {
			t.Errorf("set %+v: a repeated name or a missing scenario", s)
		}
		seen[s.Name] = true
		if got, err := LookupSet(s.Name); err != nil || got.Name != s.Name {
			t.Errorf("LookupSet(%s): %+v, %v", s.Name, got, err)
		}
	}
	if s, err := LookupSet(""); err != nil || s.Name != DefaultSet {
		t.Errorf(`LookupSet(""): %+v, %v`, s, err)
	}
	sets[0].Name = "changed"
	if ScenarioSets()[0].Name != DefaultSet {
		t.Error("ScenarioSets shares its slice")
	}
	for _, c := range []struct{ in, want string }{{"model=nfs-lan,metadata_rtt=1ms,fsync=5ms", "nfs-lan"}, {"", ""}} {
		if got := fsModelName(c.in); got != c.want {
			t.Errorf("fsModelName(%q) = %q, want %q", c.in, got, c.want)
		}
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
	if err := reviewInputs()[0].Run.Write(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	in, err := ReadInput(dir)
	if err != nil || in.Run == nil || in.Capacity != nil {
		t.Fatalf("ReadInput: %+v, %v", in, err)
	}
	if err := capacity("c", curve("curve", "command", goodKnee)).Write(filepath.Join(dir, "capacity.json")); err != nil {
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
	a, b := reviewInputs()[0].Run, reviewInputs()[0].Run
	a.Shard = &results.Shard{Index: 0, Count: 2, Node: "n0", Server: "h:1"}
	b.Shard = &results.Shard{Index: 1, Count: 2, Node: "n1", Server: "h:1"}
	c := capacity("c", curve("curve", "command", goodKnee))
	out, err := MergeInputs([]Input{{Dir: "c0", Run: a}, {Dir: "c1", Run: b}, {Capacity: c}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].Capacity != c || out[1].Dir != "c0 + c1" || len(out[1].Run.Sources) != 2 {
		t.Fatalf("merged inputs %+v", out)
	}
	other := reviewInputs()[0].Run
	for _, r := range other.Results {
		r.Scenario = "elsewhere"
	}
	if out, err := MergeInputs([]Input{{Dir: "c0", Run: reviewInputs()[0].Run}, {Dir: "x", Run: other}}); err != nil || len(out) != 2 {
		t.Fatalf("two scenario sets: %v, %d inputs", err, len(out))
	}
	mixed := reviewInputs()[0].Run
	mixed.Results = append(mixed.Results, other.Results...)
	if _, err := MergeInputs([]Input{{Dir: "c0", Run: reviewInputs()[0].Run}, {Dir: "m", Run: mixed}}); err == nil || !strings.Contains(err.Error(), "mixed scenarios") {
		t.Fatalf("sets sharing a scenario: %v, want a refusal", err)
	}
}

// subscribed is polls with the UI server subscribed: deltas received and
// the WFS's metered publish CPU over the deltas it sent.
func subscribed(scheme, security, credential string, ms, publishCPU float64, deltas int64) *results.Result {
	r := polls(scheme, security, credential, ms)
	r.ServerProcess.UserSeconds += publishCPU / 2
	r.ServerProcess.SysSeconds += publishCPU / 2
	r.Ops = append(r.Ops, &results.Op{Name: vocab.OpUISDelta, Count: deltas, Hist: results.NewHistogram()})
	r.ServerModelStats = map[string]float64{"publish_cpu_s": publishCPU, "delta_sends": float64(deltas), "deltas_published": float64(deltas)}
	return r
}

// TestUIServerMeasuredDelta: where the query scenario's UI servers
// subscribed, the delta is the WFS's metered publish CPU per delta sent,
// and the query is the rest of its CPU per poll; a scheme without it keeps
// the estimate.
func TestUIServerMeasuredDelta(t *testing.T) {
	in := reviewInputs()
	q := run("authbench run -scenario review-uis -out data/uis", []*results.Result{
		subscribed("plain", "null", "", 0.25, 60*30e-6, 60), polls("jwt:command", "null", "jwt", 0.5), subscribed("curve", "curve", "", 0.4, 60*80e-6, 60)})
	in = append(in, Input{Dir: "data/uis", Run: q})
	p, err := Project(testSite(t), in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		scheme       string
		query, delta time.Duration
		measured     bool
	}{
		{"plain", 250 * time.Microsecond, 30 * time.Microsecond, true},
		{"jwt:command", 500 * time.Microsecond, 250 * time.Microsecond, false}, // no deltas: plain's query, the estimate
		{"curve", 400 * time.Microsecond, 80 * time.Microsecond, true},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			cpu := find(t, p, c.scheme).CPU
			if cpu.Query.CPU != c.query || !cpu.Query.Measured {
				t.Errorf("query %+v, want %v measured, net of the publish CPU", cpu.Query, c.query)
			}
			if cpu.Delta.CPU != c.delta || cpu.Delta.Measured != c.measured {
				t.Errorf("delta %+v, want %v, measured %v", cpu.Delta, c.delta, c.measured)
			}
			if c.measured && (!strings.HasPrefix(cpu.Delta.Basis, "measured: the WFS's metered publish CPU") || cpu.Delta.From.Scenario != "review-uis") {
				t.Errorf("delta basis %q from %+v, want measured in review-uis", cpu.Delta.Basis, cpu.Delta.From)
			}
			if !c.measured && !strings.HasPrefix(cpu.Delta.Basis, "estimate: `plain`'s query") {
				t.Errorf("delta basis %q, want the estimate's words", cpu.Delta.Basis)
			}
		})
	}
	for _, tc := range []struct {
		name string
		p    *Projection
		want []string
	}{
		{"some measured", p, []string{"A published delta's cost is measured for `plain`, `curve`:", "For `jwt:command` no scenario measures one: its cost is an estimate"}},
	} {
		if got := tc.p.deltaWords(); !strings.Contains(got, tc.want[0]) || !strings.Contains(got, tc.want[1]) {
			t.Errorf("%s: words %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := p.deltaCaveat(); !strings.Contains(got, "an estimate for some schemes") {
		t.Errorf("caveat %q, want it to say some deltas are estimates", got)
	}
	p.Schemes = p.Schemes[:0]
	if got := p.deltaWords(); !strings.HasPrefix(got, "No scenario measures a published delta: its cost is an estimate") {
		t.Errorf("no scheme measured: words %q", got)
	}
}
