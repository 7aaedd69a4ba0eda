package cylcpeer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// addJob writes a job.status for job (CYCLE/TASK/NN) under the fake run
// directory: started, and exited if exit is set; its pid is this process.
func addJob(t *testing.T, c *Contact, job, exit string) {
	t.Helper()
	dir := filepath.Join(c.RunDir, "log", "job", filepath.FromSlash(job))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	st := fmt.Sprintf("CYLC_JOB_RUNNER_NAME=background\nCYLC_JOB_ID=%d\nCYLC_JOB_PID=%d\nCYLC_JOB_INIT_TIME=2026-01-01T00:00:00Z\nCYLC_MESSAGE=2026-01-01T00:00:01Z|INFO|hello\n", os.Getpid(), os.Getpid())
	if exit != "" {
		st += "CYLC_JOB_EXIT=" + exit + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "job.status"), []byte(st), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLiveJobs(t *testing.T) {
	path, _ := newRunDir(t, 43010, os.Getpid())
	c := readTestContact(t, path)
	if jobs, err := LiveJobs(c); err != nil || len(jobs) != 0 {
		t.Fatalf("no jobs: %v %v", jobs, err)
	}
	addJob(t, c, "1/t02/01", "")
	addJob(t, c, "1/t01/01", "")
	addJob(t, c, "1/t03/01", "SUCCEEDED")
	// The NN link to the latest submit is not a job of its own.
	if err := os.Symlink("01", filepath.Join(c.RunDir, "log", "job", "1", "t01", "NN")); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(c.RunDir, "log", "job", "1", "t04", "01")
	_ = os.MkdirAll(dead, 0o755)
	_ = os.WriteFile(filepath.Join(dead, "job.status"), fmt.Appendf(nil, "CYLC_JOB_PID=%d\nCYLC_JOB_INIT_TIME=x\n", deadPID(t)), 0o644)
	jobs, err := LiveJobs(c)
	if err != nil || strings.Join(jobs, " ") != "1/t01/01 1/t02/01" {
		t.Fatalf("live jobs %v %v, want 1/t01/01 1/t02/01", jobs, err)
	}
}

func TestRunAgainstFake(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	addJob(t, c, "1/t01/01", "")
	addJob(t, c, "1/t02/01", "")
	plan := Plan{Scenario: "fake", Idle: 200 * time.Millisecond, Settle: 50 * time.Millisecond,
		Pings:    &Group{Count: 6, Concurrency: 2},
		Messages: &Group{Count: 5, Rate: 50, Concurrency: 2}, MessageSize: 64}
	res, rep, err := Run(context.Background(), RunConfig{Contact: c, Keys: f.keys, Plan: plan, Timeout: 2 * time.Second, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	ping, msg := res.Op(vocab.OpCLICommand), res.Op(vocab.OpJobMessage)
	if ping == nil || ping.Count != 6 || ping.ErrorCount() != 0 || msg == nil || msg.Count != 5 || msg.ErrorCount() != 0 || msg.Asked != 50 {
		t.Fatalf("ops: %+v %+v", ping, msg)
	}
	if res.ServerModel != "cylc-flow 8.4.4" || res.Scheme != "curve" || res.Jobs != 2 || res.Commands != 6 {
		t.Errorf("result: model %q scheme %q jobs %d commands %d", res.ServerModel, res.Scheme, res.Jobs, res.Commands)
	}
	sp := res.ServerProcess
	if sp == nil || sp.PID != os.Getpid() || sp.Requests != 11 || sp.CPUs == "" || sp.MaxRSSKB <= 0 || sp.Connection != "fresh" || sp.Window <= 0 {
		t.Fatalf("server process: %+v", sp)
	}
	if len(rep.Phases) != 2 || res.ServerModelStats["ping.requests"] != 6 || res.ServerModelStats["message.requests"] != 5 || res.ServerModelStats["live_jobs"] != 2 {
		t.Errorf("phases %+v, stats %v", rep.Phases, res.ServerModelStats)
	}
	if res.Shard == nil || res.Shard.Count != 1 || !strings.Contains(res.Shard.Server, fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("shard %+v", res.Shard)
	}
	// The mutations went to the live jobs in turn, tagged and padded.
	var jobs []string
	for _, r := range f.requests() {
		args := r["args"].(map[string]any)
		if strings.HasPrefix(args["request_string"].(string), "mutation") {
			v := args["variables"].(map[string]any)
			jobs = append(jobs, v["taskJob"].(string))
			text := v["messages"].([]any)[0].([]any)[1].(string)
			if len(text) != 64 || !strings.HasPrefix(text, "authbench-load-"+rep.Tag+"-") {
				t.Errorf("message text %q", text)
			}
		}
	}
	if len(jobs) != 5 || jobs[0] == jobs[1] {
		t.Errorf("message jobs %v", jobs)
	}
}

func TestRunRefusesWithoutLiveJobs(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	_, _, err := Run(context.Background(), RunConfig{Contact: c, Keys: f.keys,
		Plan: Plan{Messages: &Group{Count: 1}}})
	if err == nil || !strings.Contains(err.Error(), "has no live jobs") {
		t.Fatalf("got %v", err)
	}
}

func TestRunWrongKeysIsOneError(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	keys := f.keys
	other, err := wfs.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	keys.Client = other
	_, _, err = Run(context.Background(), RunConfig{Contact: c, Keys: keys, Timeout: time.Second,
		Plan: Plan{Pings: &Group{Count: 5}}})
	if KindOf(err) != KindHandshake {
		t.Fatalf("got %v", err)
	}
}

func TestPlanFromScenario(t *testing.T) {
	sc, err := scenarios.Parse("t.yaml", []byte(`name: t
warmup: 1s
duration: 10s
cli: {rate: 2, concurrency: 3, connection: reuse, mix: {ping: 1}}
job: {total: 5, messages: 3, rate: 1, concurrency: 2, message_size: 100}
`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanFromScenario(sc)
	if err != nil {
		t.Fatal(err)
	}
	if *p.Pings != (Group{Rate: 2, Concurrency: 3, Duration: 10 * time.Second, Reuse: true}) ||
		*p.Messages != (Group{Count: 15, Rate: 3, Concurrency: 2, Duration: 10 * time.Second}) ||
		p.MessageSize != 100 || p.Warmup != time.Second {
		t.Errorf("plan %+v pings %+v messages %+v", p, p.Pings, p.Messages)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"cli: {count: 3, concurrency: 1, mix: {ping: 1, trigger: 1}}", "cli.mix trigger"},
		{"cli: {count: 3, concurrency: 1, process: true, mix: {ping: 1}}", "cli.process"},
		{"job: {total: 3, concurrency: 1, messages: 2, fail_ratio: 0.5}", "job.fail_ratio"},
		{"cli: {count: 3, concurrency: 1, mix: {ping: 1}}\nuis: {pollers: 1, interval: 1s, reply_size: 10}", "uis"},
	} {
		sc, err := scenarios.Parse("t.yaml", []byte("name: t\n"+tc.yaml+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		if _, err := PlanFromScenario(sc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
