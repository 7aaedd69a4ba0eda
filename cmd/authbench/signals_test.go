package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// longScenario is a scenario that runs for a minute unless stopped: CLI
// commands at a rate and a UI-server poller, so that requests are in
// flight whenever a signal comes.
const longScenario = `name: long
duration: 60s
cli:
  rate: 20
  concurrency: 2
  connection: fresh
uis:
  pollers: 1
  interval: 200ms
`

// startChild starts this test binary as authbench with args.
func startChild(t *testing.T, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "AUTHBENCH_AS_MAIN=1")
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitFor polls until ok or the timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// servingUnder reports whether a WFS is serving under dir (a contact file
// in any run directory below it).
func servingUnder(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "work-*", "*", "run", ".service", "contact"))
	return len(m) > 0
}

// pidsNaming lists the pids of the processes whose command line names
// dir (a WFS a run started, say), this test's own excepted.
func pidsNaming(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") {
			continue // a zombie is gone, bar its parent's wait
		}
		if strings.Contains(string(b), dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noneLeft fails the test if a process naming dir is still running after
// a few seconds, killing it so that it does not outlive the test.
func noneLeft(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsNaming(dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := pidsNaming(dir); len(left) > 0 {
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Errorf("processes left behind: %v", left)
	}
}

// exitWithin waits for cmd to exit after a signal, failing past limit, and
// returns its exit code and how long it took.
func exitWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration, out *lockedBuffer) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(start)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), took
		}
		if err != nil {
			t.Fatalf("wait: %v", err)
		}
		return 0, took
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("still running %s after the signal: %s", limit, out.String())
	}
	return 0, 0
}

// TestRunExitsOnSignal: `run` stops within seconds of SIGINT or SIGTERM
// mid-load, exits 130 with its partial results, and leaves no WFS process
// and no work-* directory (issue 24, Signals: 118 s after SIGINT under
// totp, an orphan serve and a work-* directory under `timeout -k 10`). A
// run killed outright leaves no WFS either: the kernel stops it.
func TestRunExitsOnSignal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "long.yaml")
	if err := os.WriteFile(file, []byte(longScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			out := t.TempDir()
			cmd, log := startChild(t, "run", "-quiet", "-scenario", file, "-schemes", "plain", "-probe", "0", "-out", out)
			waitFor(t, "a WFS serving", 30*time.Second, func() bool { return servingUnder(out) })
			time.Sleep(time.Second) // mid-load
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, took := exitWithin(t, cmd, 10*time.Second, log)
			t.Logf("exited %d, %s after %s", code, took.Round(time.Millisecond), sig)
			noneLeft(t, out)
			if sig == syscall.SIGKILL {
				return // it had no chance to tidy its work directory
			}
			if code != 130 {
				t.Errorf("exit %d, want 130: %s", code, log.String())
			}
			if m, _ := filepath.Glob(filepath.Join(out, "work-*")); len(m) > 0 {
				t.Errorf("left behind: %v", m)
			}
			if b, err := os.ReadFile(filepath.Join(out, "results.json")); err != nil || !bytes.Contains(b, []byte(`"partial": true`)) {
				t.Errorf("no partial results.json: %v", err)
			}
		})
	}
}

// TestLoadExitsOnSignal: `load` against a running serve stops within
// seconds of SIGINT or SIGTERM mid-load, exits 130 with its partial
// results and removes its work-* directory; the serve goes on serving,
// then stops within seconds of its own SIGTERM.
func TestLoadExitsOnSignal(t *testing.T) {
	file := filepath.Join(t.TempDir(), "long.yaml")
	if err := os.WriteFile(file, []byte(longScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			contact := startServe(t, "plain", t.TempDir())
			out := t.TempDir()
			cmd, log := startChild(t, "load", "-quiet", "-contact", contact, "-scenario", file, "-out", out)
			waitFor(t, "a work directory", 30*time.Second, func() bool {
				m, _ := filepath.Glob(filepath.Join(out, "work-*"))
				return len(m) > 0
			})
			time.Sleep(2 * time.Second) // mid-load
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			code, took := exitWithin(t, cmd, 10*time.Second, log)
			t.Logf("exited %d, %s after %s", code, took.Round(time.Millisecond), sig)
			if code != 130 {
				t.Errorf("exit %d, want 130: %s", code, log.String())
			}
			if m, _ := filepath.Glob(filepath.Join(out, "work-*")); len(m) > 0 {
				t.Errorf("left behind: %v", m)
			}
			if _, err := os.Stat(contact); err != nil {
				t.Errorf("the serve it loaded stopped with it: %v", err)
			}
		})
	}
}
