package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// startServe runs `authbench serve` (this test binary as authbench) and
// returns its contact file once its control file is written.
func startServe(t *testing.T, scheme, dir string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "-scheme", scheme, "-run-dir", dir)
	cmd.Env = append(os.Environ(), "AUTHBENCH_AS_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("serve %s did not stop on SIGTERM", scheme)
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "control file: ") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve %s did not start: %s", scheme, stderr.String())
	}
	return filepath.Join(dir, ".service", "contact")
}

// opCount sums op's count over a run's results.
func opCount(r *results.Run, op string) int64 {
	var n int64
	for _, res := range r.Results {
		if o := res.Op(op); o != nil {
			n += o.Count
		}
	}
	return n
}

// TestLoadShards: two loaders at once against one serve of each scheme
// family; merged, their counts are the scenario's (smoke: 200 commands,
// 50 jobs of 3 messages), as a single loader's are, the server's own
// figures are taken once, and every job was its own.
func TestLoadShards(t *testing.T) {
	for _, scheme := range []string{"plain", "jwt:command", "jwt:job=file", "curve-job"} {
		t.Run(scheme, func(t *testing.T) {
			dir := t.TempDir()
			contact := startServe(t, scheme, filepath.Join(dir, "wf"))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var out, errOut bytes.Buffer
					errs[i] = run(context.Background(), []string{"load", "-quiet", "-contact", contact, "-scenario", "smoke",
						"-shard", fmt.Sprintf("%d/2", i), "-out", filepath.Join(dir, fmt.Sprintf("shard-%d", i))}, &out, &errOut)
					if errs[i] != nil {
						errs[i] = fmt.Errorf("%w: %s", errs[i], errOut.String())
					}
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("loader %d: %v", i, err)
				}
			}
			var runs []*results.Run
			for i := range 2 {
				r, err := results.Read(filepath.Join(dir, fmt.Sprintf("shard-%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 2 || r.Shard.Node == "" || r.Shard.Server == "" {
					t.Fatalf("shard %d: %+v", i, r.Shard)
				}
				runs = append(runs, r)
			}
			m, err := results.MergeRuns(runs...)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Missing) != 0 || len(m.Results) != 1 {
				t.Fatalf("merged: missing %v, %d results", m.Missing, len(m.Results))
			}
			if c, j := opCount(m, vocab.OpCLICommand), opCount(m, vocab.OpJobMessage); c != 200 || j != 150 {
				t.Errorf("merged counts: %d commands, %d job messages; want smoke's 200 and 150", c, j)
			}
			res := m.Results[0]
			if res.Jobs != 50 {
				t.Errorf("merged jobs %d, want 50", res.Jobs)
			}
			// One server: its requests are counted once (not once per loader),
			// and cover both loaders' requests.
			top := max(runs[0].Results[0].Server.Requests, runs[1].Results[0].Server.Requests)
			if res.Server.Requests != top || res.Server.Requests < 350 {
				t.Errorf("merged server requests %d, want the larger loader's view %d (>= 350)", res.Server.Requests, top)
			}
			for _, o := range res.Ops {
				if o.ErrorCount() != 0 {
					t.Errorf("%s: errors %v", o.Name, o.Errors)
				}
			}
		})
	}
}

// TestLoadKilledShard: a loader killed mid-run leaves the other's results
// intact, and the merged report names the missing shard.
func TestLoadKilledShard(t *testing.T) {
	dir := t.TempDir()
	contact := startServe(t, "plain", filepath.Join(dir, "wf"))
	out := filepath.Join(dir, "out")
	slow := filepath.Join(dir, "slow.yaml")
	if err := os.WriteFile(slow, []byte("name: slow\ndescription: open loop for 30 s\nduration: 30s\ncli: {rate: 20, count: 600}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	victim := exec.Command(os.Args[0], "load", "-quiet", "-contact", contact, "-scenario", slow, "-shard", "1/2", "-out", filepath.Join(out, "shard-1"))
	victim.Env = append(os.Environ(), "AUTHBENCH_AS_MAIN=1")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	_ = victim.Process.Kill()
	_ = victim.Wait()
	// The survivor runs a short scenario of the same name.
	short := filepath.Join(dir, "short.yaml")
	if err := os.WriteFile(short, []byte("name: slow\ndescription: open loop, short\ncli: {rate: 20, count: 20}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"load", "-quiet", "-contact", contact, "-scenario", short, "-shard", "0/2", "-out", filepath.Join(out, "shard-0")}, &stdout, &stderr); err != nil {
		t.Fatalf("load: %v\n%s", err, stderr.String())
	}
	report := filepath.Join(dir, "REPORT.md")
	if err := run(context.Background(), []string{"report", "-site", "none", "-o", report, out}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "**Missing shards**: 1/2") {
		t.Errorf("the report does not name the missing shard:\n%s", b)
	}
	// The shard directories given one by one: the killed loader's holds
	// no results.json; it is left out, said so, and named missing (it
	// failed with "no results.json": issue 24 #18).
	stderr.Reset()
	if err := run(context.Background(), []string{"report", "-site", "none", "-o", report, filepath.Join(out, "shard-0"), filepath.Join(out, "shard-1")}, &stdout, &stderr); err != nil {
		t.Fatalf("report of both shard directories: %v\n%s", err, stderr.String())
	}
	if b, err = os.ReadFile(report); err != nil || !strings.Contains(string(b), "**Missing shards**: 1/2") || !strings.Contains(stderr.String(), "shard-1 holds no results.json") {
		t.Errorf("report of both shard directories: %v; stderr %q; missing shard named: %v", err, stderr.String(), strings.Contains(string(b), "**Missing shards**: 1/2"))
	}
	r, err := results.Read(filepath.Join(out, "shard-0"))
	if err != nil || opCount(r, vocab.OpCLICommand) != 10 {
		t.Errorf("the surviving shard's results: %v, %v", r, err)
	}
}

// TestLoadBadInput: one-line errors naming the flag or file.
func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"load", "-out", dir}, "-contact is required"},
		{[]string{"load", "-contact", filepath.Join(dir, "none"), "-out", dir}, "-contact"},
		{[]string{"load", "-contact", "x", "-out", dir, "-shard", "2/2"}, "-shard"},
		{[]string{"load", "-contact", "x"}, "-out is required"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", tc.args, err, tc.want)
		}
	}
}

// TestLoadRemoteTarget: jobs on an install target without the WFS's file
// system get their files over the owner channel and read this loader's
// copy of their remote host: every job-scoped scheme works there, except
// the combined store, whose one file stays on the WFS's host.
func TestLoadRemoteTarget(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "remote.yaml")
	yaml := "name: remote\ndescription: jobs on a remote target, open loop\nduration: 10s\n" +
		"job: {total: 12, rate: 20, concurrency: 6, messages: 2, targets: [{name: hpc-remote, share: 1, shared_fs: false}]}\n"
	if err := os.WriteFile(sc, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scheme string
		works  bool
	}{{"plain", true}, {"curve", true}, {"curve-job", true}, {"jwt:job=file", true}, {"wlcg", true}, {"curve+wlcg", true}, {"jwt:job=combined", false}} {
		t.Run(tc.scheme, func(t *testing.T) {
			d := filepath.Join(dir, strings.NewReplacer(":", "_", "=", "_").Replace(tc.scheme))
			contact := startServe(t, tc.scheme, filepath.Join(d, "wf"))
			out := filepath.Join(d, "out")
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"load", "-quiet", "-contact", contact, "-scenario", sc, "-out", out}, &stdout, &stderr); err != nil {
				t.Fatalf("load: %v\n%s", err, stderr.String())
			}
			r, err := results.Read(out)
			if err != nil {
				t.Fatal(err)
			}
			res := r.Results[0]
			m := res.Op(vocab.OpJobMessage)
			if tc.works && (m == nil || m.Count != 24 || m.ErrorCount() != 0) {
				t.Fatalf("job messages %+v", m)
			}
			if !tc.works && (m == nil || m.ErrorCount() != 24) {
				t.Fatalf("the combined store worked on a remote target: %+v", m)
			}
			// What was shipped was installed by the loader: its own file
			// operations (beyond the WFS's) include a job script per job.
			if res.ServerFiles == nil || res.Files.Created-res.ServerFiles.Created < 12 {
				t.Errorf("loader created %d files (WFS %+v): nothing installed?", res.Files.Created, res.ServerFiles)
			}
		})
	}
}

// TestClientSchemeMismatch: a client of another scheme than the WFS's is
// told so (it got "handshake refused" or "server.key: no such file" and
// nothing of the cause: issue 24 #13); one of the WFS's own scheme is not.
func TestClientSchemeMismatch(t *testing.T) {
	contact := startServe(t, "curve", t.TempDir())
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"client", "-contact", contact, "-scheme", "plain", "-timeout", "1s"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "the WFS serves curve, its contact file says, not -scheme plain") {
		t.Fatalf("client -scheme plain against curve: %v", err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"client", "-contact", contact, "-state-dir", t.TempDir()}, &stdout, &stderr); err != nil {
		t.Fatalf("client of the WFS's own scheme: %v", err)
	}
}
