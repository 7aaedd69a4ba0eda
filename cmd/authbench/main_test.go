package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"golang.org/x/sys/unix"
)

// TestMain lets tests run this binary as the real authbench (to send it
// real signals).
func TestMain(m *testing.M) {
	if os.Getenv("AUTHBENCH_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestRunEndToEnd(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-schemes", "plain,passphrase", "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	r, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 2 {
		t.Fatalf("got %d results, want 2", len(r.Results))
	}
	for _, res := range r.Results {
		if len(res.Ops) == 0 {
			t.Fatalf("%s: no ops", res.Scheme)
		}
		for _, op := range res.Ops {
			if op.Count == 0 || op.Hist.Count() != op.Count {
				t.Errorf("%s %s: count %d, histogram %d", res.Scheme, op.Name, op.Count, op.Hist.Count())
			}
			if op.ErrorCount() != 0 {
				t.Errorf("%s %s: errors %v", res.Scheme, op.Name, op.Errors)
			}
		}
		if c := res.Op("cli.command_total"); c == nil || c.Count != 200 {
			t.Errorf("%s: want 200 CLI commands, got %+v", res.Scheme, c)
		}
		if m := res.Op("job.message"); m == nil || m.Count != 150 {
			t.Errorf("%s: want 150 job messages (50 jobs x 3), got %+v", res.Scheme, m)
		}
		// Every job message is one fsynced append to a job.status file.
		if res.Files.Appended != 150 {
			t.Errorf("%s: %d appends, want 150", res.Scheme, res.Files.Appended)
		}
		// The WFS ran as a process of its own, on the CPUs the run names,
		// and accounted for its own CPU.
		sp := res.ServerProcess
		if sp == nil || sp.PID <= 0 || sp.PID == os.Getpid() || sp.Requests <= 0 || sp.CPUSeconds() <= 0 {
			t.Fatalf("%s: server process %+v", res.Scheme, sp)
		}
		if h := sp.Handshake; h == nil || h.Ops != 100 || h.Fresh <= 0 || h.Reused <= 0 {
			t.Errorf("%s: handshake probe %+v", res.Scheme, h)
		}
		if sp.CPUs != r.Env.ServerCPUs && r.Env.ServerCPUs != "" {
			t.Errorf("%s: WFS ran on CPUs %q, environment says %q", res.Scheme, sp.CPUs, r.Env.ServerCPUs)
		}
	}
	if runtime.NumCPU() >= 2 && (r.Env.ServerCPUs == "" || r.Env.ClientCPUs == "" || r.Env.ServerCPUs == r.Env.ClientCPUs) {
		t.Errorf("default CPU split on %d CPUs: server %q clients %q", runtime.NumCPU(), r.Env.ServerCPUs, r.Env.ClientCPUs)
	}
	// run pinned itself to the clients' CPUs for the run only.
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() != runtime.NumCPU() {
		t.Errorf("after run the process may use %d CPUs, want all %d back (%v)", set.Count(), runtime.NumCPU(), err)
	}
	if !strings.Contains(stdout.String(), "| passphrase") || !strings.Contains(stdout.String(), "cli.command_total") {
		t.Errorf("table missing rows:\n%s", stdout.String())
	}
	// The run directories (holding secrets) are gone.
	if m, _ := filepath.Glob(filepath.Join(out, "work-*")); len(m) != 0 {
		t.Errorf("scratch left behind: %v", m)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"bogus scheme", []string{"run", "-schemes", "plain,bogus"}, []string{`"bogus"`, "plain", "passphrase"}},
		{"bad policy", []string{"run", "-schemes", "passphrase:command"}, []string{"policy", "workflow"}},
		{"unknown scenario", []string{"run", "-scenario", "nope"}, []string{`"nope"`, "smoke"}},
		{"missing scenario file", []string{"run", "-scenario", "./nope.yaml"}, []string{"nope.yaml"}},
		{"bad repeat", []string{"run", "-repeat", "0"}, []string{"-repeat"}},
		{"stray argument", []string{"run", "extra"}, []string{"extra"}},
		{"serve without scheme", []string{"serve", "-run-dir", "x"}, []string{"-scheme"}},
		{"unknown command", []string{"frob"}, []string{"frob"}},
		{"overlapping CPUs", []string{"run", "-server-cpus", "0", "-client-cpus", "0"}, []string{"-server-cpus", "share CPU 0"}},
		{"pin and split", []string{"run", "-pin", "0", "-server-cpus", "0"}, []string{"-pin", "not both"}},
		{"bad server CPUs", []string{"run", "-server-cpus", "x"}, []string{"-server-cpus"}},
		{"negative quota", []string{"run", "-server-quota", "-1"}, []string{"-server-quota"}},
		{"bad serve model", []string{"serve", "-scheme", "plain", "-run-dir", "x", "-model", "slow"}, []string{"-model", "slow"}},
		{"negative service CPU", []string{"serve", "-scheme", "plain", "-run-dir", "x", "-service-cpu", "-1ms"}, []string{"-service-cpu"}},
		{"bad capacity op", []string{"capacity", "-op", "frob", "-schemes", "plain"}, []string{"-op", "frob"}},
		{"bad capacity model", []string{"capacity", "-model", "bogus"}, []string{"-model"}},
		{"bad capacity factor", []string{"capacity", "-factor", "1"}, []string{"-factor"}},
		{"bad capacity step", []string{"capacity", "-step", "10ms"}, []string{"-step"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), c.args, &stdout, &stderr)
			if err == nil {
				t.Fatal("want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if code := exitCode(err, &stderr); code == 0 {
				t.Error("exit code 0")
			}
		})
	}
}

func TestList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"list"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"null+passphrase:workflow", "smoke", "authn"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("list lacks %q:\n%s", w, stdout.String())
		}
	}
}

// TestServeSIGINT runs `authbench serve` as a real process, stops it with
// SIGINT, and checks that no contact or passphrase file is left.
func TestServeSIGINT(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wf")
	cmd := exec.Command(os.Args[0], "serve", "-scheme", "passphrase", "-run-dir", dir)
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
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "contact file: ") {
				ready <- strings.TrimPrefix(sc.Text(), "contact file: ")
			}
		}
		close(ready)
	}()
	var contact string
	select {
	case contact = <-ready:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("serve did not start: %s", stderr.String())
	}
	for _, f := range []string{contact, filepath.Join(dir, ".service", "passphrase")} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("while serving: %v", err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("serve did not stop on SIGINT")
	}
	left, _ := os.ReadDir(filepath.Join(dir, ".service"))
	if len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Fatalf("left behind in .service: %v", names)
	}
}

// TestThresholdExit3: a crossed threshold exits 3 and names it.
func TestThresholdExit3(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tight.yaml")
	sc := "name: tight\ncli:\n  count: 20\n  concurrency: 2\nthresholds:\n  cli.command_total.p50: 1us\n"
	if err := os.WriteFile(file, []byte(sc), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-scenario", file, "-schemes", "plain", "-out", dir}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != 3 {
		t.Fatalf("exit %d (%v), want 3", code, err)
	}
	if !strings.Contains(err.Error(), "cli.command_total.p50") {
		t.Errorf("%q does not name the threshold", err)
	}
}

// TestRunBenchFormat: -format bench prints benchstat-readable lines.
func TestRunBenchFormat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-format", "bench", "-schemes", "plain", "-out", t.TempDir()}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "BenchmarkAuth/scenario=smoke/scheme=plain/op=cli.command_total") {
		t.Errorf("no benchmark line:\n%s", stdout.String())
	}
}

// TestKeys: `authbench keys` writes a pair that pyzmq's zmq.auth loads
// (Debian's /usr/bin/python3), with the secret 0600.
func TestKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"keys", dir, "client"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "client.key_secret"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st, err)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import zmq").Run(); err != nil {
		t.Skip("no python3-zmq in /usr/bin/python3")
	}
	out, err := exec.Command("/usr/bin/python3", "-c",
		"import sys, zmq.auth; p, s = zmq.auth.load_certificate(sys.argv[1]); print(p.decode())",
		filepath.Join(dir, "client.key_secret")).CombinedOutput()
	if err != nil {
		t.Fatalf("pyzmq: %v: %s", err, out)
	}
	if !strings.Contains(stdout.String(), strings.TrimSpace(string(out))) {
		t.Errorf("pyzmq read public key %q; authbench printed %q", out, stdout.String())
	}
	if err := run(context.Background(), []string{"keys", dir}, &stdout, &stderr); err == nil {
		t.Error("keys with one argument succeeded")
	}
}

// TestCapacityEndToEnd: a short capacity search writes capacity.json with a
// curve per scheme, its steps measured by the WFS process (CPU per op), a
// markdown table and the plots; with root and a cgroup CPU controller it
// runs the WFS under a quota.
func TestCapacityEndToEnd(t *testing.T) {
	out := t.TempDir()
	quota := "0"
	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); err == nil && os.Geteuid() == 0 {
		quota = "0.5"
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"capacity", "-quiet", "-schemes", "plain,curve", "-start", "40", "-factor", "2",
		"-max-steps", "2", "-step", "1s", "-max-step", "1s", "-server-quota", quota, "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("capacity: %v\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "capacity.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c results.CapacityRun
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Curves) != 2 {
		t.Fatalf("%d curves, want 2", len(c.Curves))
	}
	for _, cv := range c.Curves {
		if len(cv.Steps) == 0 {
			t.Fatalf("%s: no steps", cv.Scheme)
		}
		s := cv.Steps[0]
		if s.Offered != 40 || s.Count == 0 || s.ServerCPUPerOp <= 0 || s.ServerUtil <= 0 {
			t.Errorf("%s: first step %+v", cv.Scheme, s)
		}
		if quota != "0" && cv.Quota != 0.5 {
			t.Errorf("%s: quota %g, want 0.5", cv.Scheme, cv.Quota)
		}
	}
	for _, f := range []string{"CAPACITY.md", "capacity-plots/capacity-latency.svg", "capacity-plots/capacity-cpu.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "`curve`") {
		t.Errorf("no table on stdout:\n%s", stdout.String())
	}
	if m, _ := filepath.Glob(filepath.Join(out, "work-*")); len(m) != 0 {
		t.Errorf("scratch left behind: %v", m)
	}
	if m, _ := filepath.Glob("/sys/fs/cgroup/cpu/authbench-wfs-*"); len(m) != 0 {
		t.Errorf("cgroups left behind: %v", m)
	}
}
