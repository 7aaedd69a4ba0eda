package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/results"
)

// TestRunOnFullDisk fills a real file system during a run (issue 23 #3): a
// size-limited tmpfs holding -out, the run directories (-work), or both,
// filled to the last page by a ballast file once the run has saved its
// first round. The run must stop with one line naming the full path and
// what was kept, exit non-zero, leave no WFS process behind, and leave a
// results.json that authbench report reads, holding the round it finished.
// It needs root to mount the tmpfs, and skips, saying so, without.
func TestRunOnFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs authbench three times against a filled tmpfs")
	}
	// Two rounds of 20 jobs at 20 a second, each job a script and a
	// job.status in the run directory: about a second a round.
	scenario := filepath.Join(t.TempDir(), "fill.yaml")
	if err := os.WriteFile(scenario, []byte("name: fill\nseed: 1\njob:\n  total: 20\n  rate: 20\n  concurrency: 4\n  messages: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// tmpfs holds "out", "work", or "both" (-out, with the run
		// directories under it as by default).
		tmpfs string
		size  string
		// fillAt is the glob, under the tmpfs or -out, whose first match
		// fills the tmpfs: after round 1 is saved, or once round 2's WFS
		// has submitted a job.
		fillAt string
		want   []string // in the error line; OUT and TMP stand for the dirs
	}{
		{"results on a full -out", "out", "256k", "OUT/results.json",
			[]string{"write OUT/results.json: no space left on device", "OUT/results.json still holds the 1 result(s) finished before it"}},
		// Once round 2's WFS has written a job's script: it is up, and
		// the load is under way (its contact file alone raced the WFS's
		// own start-up writes on a loaded machine).
		{"run directory on a full -work", "work", "1m", "TMP/work-*/fill-plain-r2/run/log/job/1/*/01/job",
			[]string{"run directory TMP/work-", "/fill-plain-r2/run is full, load stopped", "no space left on device",
				"OUT/results.json holds the 1 result(s) finished before it and the 1 cut short, marked partial"}},
		{"both on a full -out", "both", "1m", "OUT/results.json",
			[]string{"no space left on device", "OUT/", "1 result(s) finished before it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmp := mountTmpfs(t, c.size)
			out, work := tmp, t.TempDir()
			switch c.tmpfs {
			case "work":
				out, work = t.TempDir(), tmp
			case "both":
				work = tmp
			}
			expand := func(s string) string {
				return strings.NewReplacer("OUT", out, "TMP", tmp).Replace(s)
			}
			args := []string{"run", "-quiet", "-probe", "0", "-scenario", scenario, "-schemes", "plain", "-repeat", "2", "-out", out}
			if c.tmpfs != "both" {
				args = append(args, "-work", work)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], args...)
			cmd.Env = append(os.Environ(), "AUTHBENCH_AS_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			err := fillWhen(t, expand(c.fillAt), tmp, exited)

			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Fatalf("run on a full disk: %v, want a non-zero exit; stderr:\n%s", err, stderr.String())
			}
			line := strings.TrimSuffix(stderr.String(), "\n")
			t.Logf("exit %d: %s", ee.ExitCode(), line)
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "authbench: ") {
				t.Errorf("stderr is not one error line:\n%s", line)
			}
			for _, w := range c.want {
				if !strings.Contains(line, expand(w)) {
					t.Errorf("error line lacks %q:\n%s", expand(w), line)
				}
			}
			if left := processesNaming(t, tmp, work); len(left) > 0 {
				t.Errorf("processes left behind: %v", left)
			}
			// The temp file of the failed write is gone; the last good
			// results.json is whole, holds round 1, and report reads it.
			if m, _ := filepath.Glob(filepath.Join(out, ".results-*")); len(m) != 0 {
				t.Errorf("temp files left in -out: %v", m)
			}
			r, err := results.Read(out)
			if err != nil {
				t.Fatalf("the surviving results.json: %v", err)
			}
			if !r.Partial || len(r.Results) == 0 || r.Results[0].Round != 1 || r.Results[0].Partial {
				t.Errorf("surviving run: partial %v, %d results (first %+v); want a partial run whose first result is round 1, whole", r.Partial, len(r.Results), r.Results[0])
			}
			var rep, rerr bytes.Buffer
			if err := run(context.Background(), []string{"report", "-site", "none", "-wlcg-site", "none", out}, &rep, &rerr); err != nil {
				t.Fatalf("report of the surviving results: %v\n%s", err, rerr.String())
			}
			// A run directory filled mid-load: the failures that stopped
			// the round are counted as disk_full in its partial result.
			if last := r.Results[len(r.Results)-1]; c.tmpfs == "work" {
				if o := last.Op("job.message"); !last.Partial || o == nil || o.Errors["disk_full"] == 0 {
					t.Errorf("round cut by the full run directory: partial %v, job.message %+v; want disk_full errors", last.Partial, o)
				}
			}
			if !strings.Contains(rep.String(), "fill") {
				t.Errorf("report does not show the fill scenario:\n%s", rep.String())
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of size (mount's size=) on a fresh directory,
// unmounted when the test ends; it skips the test where that cannot be done.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skipf("needs root to mount a size-limited tmpfs (mount -t tmpfs -o size=%s tmpfs DIR); running as uid %d", size, os.Geteuid())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here (mount -t tmpfs -o size=%s tmpfs %s): %v", size, dir, err)
	}
	// Registered after TempDir's removal, so run before it.
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillWhen waits for glob to match, then fills the tmpfs at dir to its last
// page with a ballast file, and returns the run's exit; the run must end
// within the test's wait.
func fillWhen(t *testing.T, glob, dir string, exited <-chan error) error {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(60 * time.Second)
	filled := false
	for {
		select {
		case err := <-exited:
			if !filled {
				t.Fatalf("the run ended (%v) before %s appeared: nothing was filled", err, glob)
			}
			return err
		case <-timeout:
			t.Fatalf("the run did not end within 60 s (filled: %v)", filled)
		case <-tick.C:
		}
		if filled {
			continue
		}
		if m, _ := filepath.Glob(glob); len(m) == 0 {
			continue
		}
		fill(t, filepath.Join(dir, "ballast"))
		filled = true
	}
}

// fill writes zeros to path until its file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", path, err)
			}
			return
		}
	}
}

// processesNaming lists the running processes whose command line names any
// of dirs (a WFS's -run-dir, a loader's -out), as "PID: command line".
func processesNaming(t *testing.T, dirs ...string) []string {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		for _, d := range dirs {
			if strings.Contains(cl, d) {
				left = append(left, filepath.Base(filepath.Dir(p))+": "+cl)
				break
			}
		}
	}
	return left
}
