package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
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
	// A refused serve must not leave its -run-dir behind in the package
	// directory (it left cmd/authbench/x): give it one under the test's.
	runDir := filepath.Join(t.TempDir(), "x")
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
		// -max-time without -until-decisive was ignored (issue 24 #19).
		{"max-time alone", []string{"run", "-max-time", "1m"}, []string{"-max-time 1m0s", "-until-decisive"}},
		// Issue 24 #10: NaN passed every range check.
		{"capacity start NaN", []string{"capacity", "-start", "NaN"}, []string{"-start NaN"}},
		{"capacity factor NaN", []string{"capacity", "-factor", "NaN"}, []string{"-factor NaN"}},
		{"capacity quota NaN", []string{"capacity", "-server-quota", "NaN"}, []string{"-server-quota NaN"}},
		// Issue 24 #7: a quota above the WFS's pinned CPUs caps nothing.
		{"capacity quota past its CPUs", []string{"capacity", "-server-quota", "3", "-server-cpus", "0", "-out", runDir}, []string{"-server-quota 3", "pinned to 1 CPU(s) (0)"}},
		{"stray argument", []string{"run", "extra"}, []string{"extra"}},
		{"serve without scheme", []string{"serve", "-run-dir", runDir}, []string{"-scheme"}},
		{"unknown command", []string{"frob"}, []string{"frob"}},
		{"overlapping CPUs", []string{"run", "-server-cpus", "0", "-client-cpus", "0"}, []string{"-server-cpus", "share CPU 0"}},
		{"pin and split", []string{"run", "-pin", "0", "-server-cpus", "0"}, []string{"-pin", "not both"}},
		{"bad server CPUs", []string{"run", "-server-cpus", "x"}, []string{"-server-cpus"}},
		{"negative quota", []string{"run", "-server-quota", "-1"}, []string{"-server-quota"}},
		{"bad serve model", []string{"serve", "-scheme", "plain", "-run-dir", runDir, "-model", "slow"}, []string{"-model", "slow"}},
		{"negative service CPU", []string{"serve", "-scheme", "plain", "-run-dir", runDir, "-service-cpu", "-1ms"}, []string{"-service-cpu"}},
		// Issue 24 #20: a service CPU past the scenarios' cap, and a
		// -stats-out that cannot be written, are refused at start.
		{"service CPU past the cap", []string{"serve", "-scheme", "plain", "-run-dir", runDir, "-service-cpu", "5s"}, []string{"-service-cpu 5s", "want 0 to 1s"}},
		{"stats-out unwritable", []string{"serve", "-scheme", "plain", "-run-dir", runDir, "-stats-out", "/nonexistent/x.json"}, []string{"-stats-out", "/nonexistent/x.json"}},
		{"bad capacity op", []string{"capacity", "-op", "frob", "-schemes", "plain"}, []string{"-op", "frob"}},
		{"bad capacity model", []string{"capacity", "-model", "bogus"}, []string{"-model"}},
		{"bad capacity factor", []string{"capacity", "-factor", "1"}, []string{"-factor"}},
		{"bad capacity step", []string{"capacity", "-step", "10ms"}, []string{"-step"}},
		{"flag after argument", []string{"report", "somedir", "-o", "F"}, []string{"-o", "flags come before arguments"}},
		{"compare three", []string{"compare", "a", "b", "c"}, []string{`"c"`, "two arguments"}},
		{"pin a missing CPU", []string{"run", "-pin", "99"}, []string{"-pin", "no such CPU", "this machine has CPUs"}},
		{"client zero timeout", []string{"client", "-contact", "x", "-timeout", "0s"}, []string{"-timeout", "positive"}},
		{"same scheme twice", []string{"run", "-schemes", "plain,null"}, []string{"same scheme"}},
		{"show unknown", []string{"show", "nope"}, []string{`"nope"`, "smoke"}},
		{"show no name", []string{"show"}, []string{"NAME"}},
		{"scenario named twice", []string{"run", "-scenario", "smoke", "-scenario", "smoke"}, []string{`"smoke"`, "built-in smoke"}},
		{"serve port past 65535", []string{"serve", "-scheme", "plain", "-run-dir", runDir, "-listen", "tcp://127.0.0.1:99999"}, []string{"99999", "1-65535"}},
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

// TestServeSignals: serve stops cleanly on SIGINT, SIGTERM and SIGHUP and
// leaves nothing in .service; while it serves, a second serve on the same
// run directory is refused (it would overwrite and later delete the first's
// contact file and keys).
func TestServeSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) { testServeSignal(t, sig) })
	}
}

func testServeSignal(t *testing.T, sig syscall.Signal) {
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
	// A client with no -scheme takes the one the contact file names
	// (passphrase): with plain it would be refused.
	var cout, cerr bytes.Buffer
	if err := run(context.Background(), []string{"client", "-contact", contact}, &cout, &cerr); err != nil {
		t.Fatalf("client without -scheme: %v: %s %s", err, cout.String(), cerr.String())
	}
	var out2, err2 bytes.Buffer
	second := run(context.Background(), []string{"serve", "-scheme", "plain", "-run-dir", dir}, &out2, &err2)
	if second == nil || !strings.Contains(second.Error(), "already serves it") {
		t.Fatalf("a second serve on a served run dir: %v", second)
	}
	if _, err := os.Stat(contact); err != nil {
		t.Fatalf("the refused second serve disturbed the first's contact file: %v", err)
	}
	if err := cmd.Process.Signal(sig); err != nil {
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
		t.Fatalf("serve did not stop on %s", sig)
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

// TestServeStaleContact: a contact file left by a dead server is removed,
// with a notice, and the new server starts.
func TestServeStaleContact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wf")
	if err := os.MkdirAll(filepath.Join(dir, ".service"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A pid past pid_max is no live process.
	stale := "CYLC_WORKFLOW_PID=4194399\nAUTHBENCH_ENDPOINT=tcp://127.0.0.1:43001\n"
	if err := os.WriteFile(filepath.Join(dir, ".service", "contact"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "-scheme", "plain", "-run-dir", dir}, &stdout, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "control file:") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve over a stale contact file: %v", err)
	}
	if !strings.Contains(stderr.String(), "stale contact file") || !strings.Contains(stderr.String(), "4194399") {
		t.Errorf("no notice of the stale contact file: %q", stderr.String())
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
	// A second keys of the same name would replace the secret key.
	secret, _ := os.ReadFile(filepath.Join(dir, "client.key_secret"))
	err = run(context.Background(), []string{"keys", dir, "client"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "-force") {
		t.Fatalf("keys over an existing keypair: %v, want a refusal naming -force", err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "client.key_secret")); !bytes.Equal(again, secret) {
		t.Fatal("the refused keys replaced the secret key")
	}
	if err := run(context.Background(), []string{"keys", "-force", dir, "client"}, &stdout, &stderr); err != nil {
		t.Fatalf("keys -force: %v", err)
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "client.key_secret")); bytes.Equal(again, secret) {
		t.Fatal("keys -force kept the old secret key")
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
	if left := deadCgroups(); len(left) != 0 {
		t.Errorf("cgroups left behind: %v", left)
	}
}

// deadCgroups are the WFS CPU cgroups (process/quota.go: authbench-wfs-PID)
// whose process has exited: left behind. A cgroup of a live process may be
// another test's, running at the same time.
func deadCgroups() []string {
	m, _ := filepath.Glob("/sys/fs/cgroup/cpu/authbench-wfs-*")
	var dead []string
	for _, d := range m {
		pid := strings.TrimPrefix(filepath.Base(d), "authbench-wfs-")
		if _, err := os.Stat(filepath.Join("/proc", pid)); err != nil {
			dead = append(dead, d)
		}
	}
	return dead
}

// lockedBuffer is a bytes.Buffer safe to write from one goroutine while
// another reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestShow: show prints a built-in scenario that parses back to itself, so
// a user can start a scenario of their own from it.
func TestShow(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"show", "site-day"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(f, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Load(f)
	if err != nil || sc.Name != "site-day" || sc.Job == nil {
		t.Fatalf("shown scenario: %+v, %v", sc, err)
	}
}

// TestHelpAgrees: the README's command list is the commands' synopses,
// every flag a synopsis names exists in that command's -h, and every
// command answers -h with its synopsis and an example.
func TestHelpAgrees(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	flagRE := regexp.MustCompile(`\[?(-[a-z][a-z0-9-]*)`)
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(readme), c.synopsis()+"\n") {
				t.Errorf("README lacks the line %q", c.synopsis())
			}
			var stdout, stderr bytes.Buffer
			err := c.run(context.Background(), []string{"-h"}, &stdout, &stderr)
			if err == nil && c.name != "version" && c.name != "list" {
				t.Errorf("-h: want the usage error, got nil")
			}
			help := stderr.String()
			for _, want := range []string{"usage: " + c.synopsis(), "example: authbench " + c.name} {
				if !strings.Contains(help, want) {
					t.Errorf("-h lacks %q:\n%s", want, help)
				}
			}
			for _, m := range flagRE.FindAllStringSubmatch(c.args, -1) {
				if !strings.Contains(help, "  "+m[1]+" ") && !strings.Contains(help, "  "+m[1]+"\n") {
					t.Errorf("synopsis names %s, which -h does not list", m[1])
				}
			}
		})
	}
}

// TestRunCannotWriteResults: when results.json cannot be written (here a
// directory stands in its way; a full disk behaves alike) run fails at the
// first finished round with one line saying what was kept, and leaves no
// temporary file or work directory behind.
func TestRunCannotWriteResults(t *testing.T) {
	out := t.TempDir()
	if err := os.Mkdir(filepath.Join(out, "results.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(sc, []byte("name: tiny\ncli:\n  count: 5\n  concurrency: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-probe", "0", "-scenario", sc, "-schemes", "plain,passphrase", "-out", out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "no results were kept") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v, want one line saying no results were kept", err)
	}
	left, _ := filepath.Glob(filepath.Join(out, "*"))
	if len(left) != 1 {
		t.Errorf("left in -out: %v, want only the blocking results.json", left)
	}
}
