package scenarios

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// stallPart is a test credential whose server stalls once, for a second,
// two seconds after its first request: a WFS pausing (a GC, a full disk).
type stallPart struct{ stall time.Duration }

func (stallPart) Claims() schemes.Claims { return schemes.Claims{} }

func (p stallPart) Server(context.Context, schemes.Env) (schemes.ServerPart, error) {
	return &stallServer{stall: p.stall}, nil
}

func (stallPart) Client(context.Context, schemes.ClientEnv) (schemes.ClientPart, error) {
	return schemes.NopClient{}, nil
}

type stallServer struct {
	schemes.NopServer
	stall   time.Duration
	first   atomic.Int64
	stalled atomic.Bool
}

func (s *stallServer) Verify(context.Context, *wfs.Inbound) (wfs.Principal, error) {
	now := time.Now().UnixNano()
	s.first.CompareAndSwap(0, now)
	if time.Duration(now-s.first.Load()) > 2*time.Second && !s.stalled.Swap(true) {
		time.Sleep(s.stall)
	}
	return wfs.Principal{}, nil
}

func stallScheme(t *testing.T) *schemes.Scheme {
	sc, err := testRegistry().Parse("null+stall")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestCoordinatedOmission: a server stalled for 1 s once during a 5 s
// open-loop run at 200 requests/s shows a corrected p99 at least 10x the
// uncorrected p99; a closed-loop run of the same server does not.
func TestCoordinatedOmission(t *testing.T) {
	if testing.Short() {
		t.Skip("5 s runs")
	}
	cases := []struct {
		name     string
		cli      CLIGroup
		wantSkew bool
	}{
		{"open loop", CLIGroup{Rate: 200, Concurrency: 4, Connection: "reuse"}, true},
		{"closed loop", CLIGroup{Concurrency: 4, Connection: "reuse"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := &Scenario{Name: "co", Duration: Duration(5 * time.Second), CLI: &c.cli}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{stallScheme(t)}, WorkDir: t.TempDir(), Server: testLauncher(t)})
			if err != nil {
				t.Fatal(err)
			}
			op := res[0].Op(vocab.OpCLICommand)
			if op == nil || op.Count < 500 {
				t.Fatalf("too few commands: %+v", op)
			}
			corr, unc := op.Hist.Percentile(99), op.Uncorrected.Percentile(99)
			t.Logf("%s: %d ops, corrected p99 %v, uncorrected p99 %v, max %v", c.name, op.Count, corr, unc, op.Hist.Max())
			if op.Hist.Max() < 900*time.Millisecond {
				t.Fatalf("the stall did not show: max %v", op.Hist.Max())
			}
			skew := corr >= 10*unc
			if skew != c.wantSkew {
				t.Errorf("corrected p99 %v vs uncorrected %v: skew %v, want %v", corr, unc, skew, c.wantSkew)
			}
			if c.wantSkew && op.Late == 0 {
				t.Error("open loop behind a stall counted no late sends")
			}
		})
	}
}

// TestFileLayerMatchesDisk: a job storm under plain makes exactly the file
// operations the counted layer reports, and a walk of the run directories
// after the run finds as many files as the layer says are live.
func TestFileLayerMatchesDisk(t *testing.T) {
	const jobs, msgs = 200, 4
	sc := &Scenario{Name: "job-storm-small", Job: &JobGroup{Total: jobs, Concurrency: 50, Messages: msgs, MessageSize: 50}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{plain}, WorkDir: work, Server: testLauncher(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if m := r.Op(vocab.OpJobMessage); m == nil || m.Count != jobs*msgs || m.ErrorCount() != 0 {
		t.Fatalf("job messages: %+v", m)
	}
	// The over-time series accounts for every message.
	var inSeries int64
	for _, sr := range r.Series {
		if sr.Op == vocab.OpJobMessage {
			for _, p := range sr.Points {
				inSeries += p.Count
			}
		}
	}
	if inSeries != jobs*msgs {
		t.Errorf("series holds %d messages, want %d", inSeries, jobs*msgs)
	}
	f := r.Files
	// Each message is one fsynced append to its job's job.status; each job
	// also has its job script written; the contact file and the control
	// channel's file are written once each, and removed at shutdown.
	want := counters.FileStats{
		Created:  2 + 2*jobs,
		Written:  2 + jobs,
		Appended: jobs * msgs,
		Deleted:  2,
		Fsyncs:   2 + jobs + jobs*msgs,
		Live:     2 * jobs,
		PeakLive: 2 + 2*jobs,
	}
	if f != want {
		t.Errorf("file stats\n got  %+v\n want %+v", f, want)
	}
	n := 0
	err = filepath.WalkDir(work, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if int64(n) != f.Live {
		t.Errorf("walk found %d files, layer says %d live", n, f.Live)
	}
}

// TestCylcModelRun: against the cylc model, job clients append to
// job.status themselves (counted, never fsynced) and send GraphQL message
// mutations, which the WFS queues for its main loop; per-job CURVE keys
// authorise the mutation for their own job.
func TestCylcModelRun(t *testing.T) {
	const jobs, msgs = 20, 2
	sc := &Scenario{Name: "cylc-small", Server: &ServerModel{Model: "cylc"},
		Job: &JobGroup{Total: jobs, Rate: 40, Arrival: ArrivalPoisson, Concurrency: jobs, Messages: msgs}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	var schs []*schemes.Scheme
	for _, spec := range []string{"plain", "curve-job"} {
		s, err := schemes.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		schs = append(schs, s)
	}
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: schs, WorkDir: t.TempDir(), Server: testLauncher(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if m := r.Op(vocab.OpJobMessage); m == nil || m.Count != jobs*msgs || m.ErrorCount() != 0 {
			t.Fatalf("%s: job messages %+v", r.Scheme, m)
		}
		if r.ServerModel != "cylc" || r.ServerModelStats["messages_queued"] != jobs*msgs {
			t.Errorf("%s: model %q stats %v, want cylc with %d messages queued", r.Scheme, r.ServerModel, r.ServerModelStats, jobs*msgs)
		}
		if r.Files.Appended != jobs*msgs {
			t.Errorf("%s: %d job.status appends, want %d (one per message, by the client)", r.Scheme, r.Files.Appended, jobs*msgs)
		}
	}
	// Under plain nothing else is fsynced: the contact and control files
	// and the job scripts; the clients' appends are not. (Each round runs
	// its schemes in a random order: find plain by name.)
	var plain *results.Result
	for _, r := range res {
		if r.Scheme == "plain" {
			plain = r
		}
	}
	if plain == nil {
		t.Fatal("no plain result")
	}
	if f := plain.Files; f.Fsyncs != 2+jobs {
		t.Errorf("plain: %d fsyncs, want %d (appends unsynced)", f.Fsyncs, 2+jobs)
	}
}

// TestGroupFinishingEarly: a job group that finishes early does not cut a
// CLI group at a rate short; both run to the duration, after the warm-up,
// and the result's duration is the measured window.
func TestGroupFinishingEarly(t *testing.T) {
	const rate, warm, dur = 20, time.Second, 3 * time.Second
	sc := &Scenario{Name: "early", Warmup: Duration(warm), Duration: Duration(dur),
		CLI: &CLIGroup{Rate: rate, Concurrency: 2, Connection: "reuse"},
		Job: &JobGroup{Total: 5, Concurrency: 5, Messages: 2}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{plain}, WorkDir: t.TempDir(), Server: testLauncher(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Duration < dur*9/10 {
		t.Errorf("measured window %s, want about %s (the job group finished early)", r.Duration, dur)
	}
	c := r.Op(vocab.OpCLICommand)
	if c == nil || c.Count < int64(rate*dur.Seconds()*0.8) {
		t.Fatalf("CLI commands %+v, want about %.0f after the warm-up", c, rate*dur.Seconds())
	}
}

// TestCylcModelProcessClients: client processes (Debian's Python with
// python3-zmq, and authbench's own client) read the cylc model from the
// contact file, append to job.status themselves and send cylc's GraphQL
// mutation, which the WFS queues.
func TestCylcModelProcessClients(t *testing.T) {
	if out, err := exec.Command("/usr/bin/python3", "-c", "import zmq").CombinedOutput(); err != nil {
		t.Skipf("/usr/bin/python3 cannot import zmq (install python3-zmq): %v: %s", err, out)
	}
	script, err := filepath.Abs("../scripts/cylc_message.py")
	if err != nil {
		t.Fatal(err)
	}
	const jobs, msgs = 3, 2
	sc := &Scenario{Name: "cylc-python", Server: &ServerModel{Model: "cylc"},
		Job: &JobGroup{Total: jobs, Concurrency: jobs, Messages: msgs, Process: "python"}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	curve, err := schemes.Builtin().Parse("curve")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{curve}, WorkDir: work,
		Server: testLauncher(t), PythonClient: script})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if m := r.Op(vocab.OpJobMessage); m == nil || m.Count != jobs*msgs || m.ErrorCount() != 0 {
		t.Fatalf("job messages %+v", m)
	}
	if r.ServerModelStats["messages_queued"] != jobs*msgs {
		t.Errorf("WFS queued %v messages, want %d (as GraphQL mutations)", r.ServerModelStats["messages_queued"], jobs*msgs)
	}
	var lines int
	err = filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "job.status" {
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				return rerr
			}
			lines += strings.Count(string(b), "CYLC_MESSAGE=")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if lines != jobs*msgs {
		t.Errorf("job.status files hold %d messages, want %d (appended by the Python client)", lines, jobs*msgs)
	}
}

// TestRoundOrder: every round is a permutation of the schemes, the same
// for the same seed and round, and rounds are not all in one order.
func TestRoundOrder(t *testing.T) {
	const n = 7
	orders := map[string]bool{}
	for round := 1; round <= 20; round++ {
		o := RoundOrder(42, round, n)
		seen := make([]bool, n)
		for _, k := range o {
			if k < 0 || k >= n || seen[k] {
				t.Fatalf("round %d: %v is not a permutation of 0..%d", round, o, n-1)
			}
			seen[k] = true
		}
		if again := RoundOrder(42, round, n); fmt.Sprint(again) != fmt.Sprint(o) {
			t.Fatalf("round %d: %v then %v from the same seed", round, o, again)
		}
		orders[fmt.Sprint(o)] = true
	}
	if len(orders) < 10 {
		t.Errorf("20 rounds gave only %d distinct orders", len(orders))
	}
}

// TestRetriesShareTaskTokens: with every job failing and one retry, each
// task runs two jobs (cycle/task/01, then /02); under jwt:task they share
// the task's token (one minted per task), under jwt:job each job has its
// own, and under jwt:cycle the two cycle points have one each. Every
// message is accepted under each.
func TestRetriesShareTaskTokens(t *testing.T) {
	const points, tasks, msgs = 2, 5, 2
	tests := []struct {
		spec  string
		mints float64
	}{
		{"jwt:task=file", points * tasks},
		{"jwt:job=file", 2 * points * tasks},
		{"jwt:cycle=file", points},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			sc := &Scenario{Name: "retries", Job: &JobGroup{CyclePoints: points, TasksPerCycle: tasks, CycleInterval: Duration(300 * time.Millisecond),
				Concurrency: tasks, Messages: msgs, FailRatio: 1, Retries: 1}}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			s, err := schemes.Builtin().Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{s}, WorkDir: t.TempDir(), Server: testLauncher(t)})
			if err != nil {
				t.Fatal(err)
			}
			r := res[0]
			if m := r.Op(vocab.OpJobMessage); m == nil || m.Count != 2*points*tasks*msgs || m.ErrorCount() != 0 {
				t.Fatalf("job messages: %+v", m)
			}
			if r.Jobs != 2*points*tasks {
				t.Errorf("jobs %d, want %d (each task retried once)", r.Jobs, 2*points*tasks)
			}
			if got := r.SchemeStats["token.job_minted"]; got != tc.mints {
				t.Errorf("job tokens minted %v, want %v", got, tc.mints)
			}
			if got := r.SchemeStats["token.units_live"]; got != 0 {
				t.Errorf("%v tokens live at the end, want 0", got)
			}
		})
	}
}
