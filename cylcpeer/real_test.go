package cylcpeer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/wfs"
)

// realContact is the contact file of a real Cylc scheduler to test
// against: AUTHBENCH_CYLC_CONTACT, which `make cylc-test` sets after
// scripts/cylc/peer.sh up. Without it the tests skip, saying why and how
// to run them.
func realContact(t *testing.T) *Contact {
	t.Helper()
	path := os.Getenv("AUTHBENCH_CYLC_CONTACT")
	if path == "" {
		_, file, _, _ := runtime.Caller(0)
		peers := filepath.Join(filepath.Dir(file), "..", "..", "shared", "peers")
		switch {
		case os.Getuid() != 0:
			t.Skip("no real Cylc scheduler: make cylc-test stands one up, as root (it installs Debian packages); or set AUTHBENCH_CYLC_CONTACT to a running scheduler's contact file")
		case !exists(peers):
			t.Skipf("no real Cylc scheduler: %s (a cylc-flow tarball) is missing; set AUTHBENCH_CYLC_CONTACT to a running scheduler's contact file, or AUTHBENCH_CYLC_SRC/AUTHBENCH_CYLC for make cylc-test", peers)
		default:
			t.Skip("no real Cylc scheduler: make cylc-test runs these tests against one it stands up (scripts/cylc/peer.sh up), or set AUTHBENCH_CYLC_CONTACT")
		}
	}
	c, err := ReadContact(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Alive(); err != nil {
		t.Fatal(err)
	}
	return c
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestRealPingAndMessage(t *testing.T) {
	c := realContact(t)
	keys, err := LoadKeys(c.ServiceDir)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewClient(c, keys, Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	t0 := time.Now()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	t.Logf("ping: %v", time.Since(t0))
	jobs, err := LiveJobs(c)
	if err != nil || len(jobs) == 0 {
		t.Fatalf("live jobs: %v %v", jobs, err)
	}
	if err := cl.SendMessages(ctx, jobs[0], Message{SeverityInfo, "authbench test message"}); err != nil {
		t.Fatalf("message: %v", err)
	}
}

// The ways of failing against the real scheduler: each a one-line error
// of its own kind within the timeout.
func TestRealFailures(t *testing.T) {
	c := realContact(t)
	keys, err := LoadKeys(c.ServiceDir)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := wfs.GenerateKeyPair()
	t.Run("wrong client key", func(t *testing.T) {
		checkFails(t, c, Keys{Server: keys.Server, Client: other}, 2*time.Second, KindHandshake, "refused this client's CURVE key")
	})
	t.Run("wrong server key", func(t *testing.T) {
		checkFails(t, c, Keys{Server: other.Public, Client: keys.Client}, 2*time.Second, KindHandshake, "")
	})
	t.Run("unreachable port", func(t *testing.T) {
		d := *c
		d.Port = c.PubPort + 1000 // in no scheduler's range (43001-43101)
		if d.Port == c.Port {
			d.Port++
		}
		checkFails(t, &d, keys, 1500*time.Millisecond, KindUnreachable, "nothing listens on port")
	})
	t.Run("dead scheduler", func(t *testing.T) {
		d := *c
		d.PID = deadPID(t)
		checkFails(t, &d, keys, 2*time.Second, KindStale, "the contact file is stale")
	})
	// The scheduler still answers its own keys after the failures.
	cl, err := NewClient(c, keys, Config{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()); err != nil {
		t.Fatalf("ping after the failures: %v", err)
	}
}

func TestRealProc(t *testing.T) {
	c := realContact(t)
	if !c.Local() {
		t.Skipf("scheduler on %s, not this host", c.Host)
	}
	w, err := StartWatch(c.PID, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	win, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	s := win.To
	if s.Threads < 2 || s.RSSKB < 10_000 || s.CPUs == "" || s.HWMKB < s.RSSKB || len(s.RunNS) != s.Threads {
		t.Errorf("sample: %+v", s)
	}
	if _, ok := win.RunCPU(); !ok {
		t.Errorf("no schedstat CPU over the window: %+v", win)
	}
	t.Logf("idle scheduler: %.1f%% of a CPU over %v, RSS %d kB, %d threads, CPUs %s",
		100*win.Share(), win.Wall().Round(time.Millisecond), win.PeakRSSKB, s.Threads, s.CPUs)
}

// TestRealCylcMessage: the real `cylc message` runs as a job runs it, for
// a live job, and the scheduler takes the message: it appends it to the
// job's job.status itself.
func TestRealCylcMessage(t *testing.T) {
	c := realContact(t)
	jobs, err := LiveJobs(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) == 0 {
		t.Fatal(NeedJobs(c))
	}
	text := "authbench-realtest-" + runTag()
	run, err := CylcMessage(context.Background(), c, jobs[0], text)
	if err != nil {
		t.Fatal(err)
	}
	if run.Wall <= 0 || run.CPU <= 0 {
		t.Errorf("cylc message: wall %v, CPU %v: want both", run.Wall, run.CPU)
	}
	b, err := os.ReadFile(filepath.Join(c.RunDir, "log", "job", jobs[0], "job.status"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), text) {
		t.Errorf("job.status lacks %s", text)
	}
	t.Logf("cylc message: wall %v, CPU %v", run.Wall, run.CPU)
}
