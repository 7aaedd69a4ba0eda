package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/wfs"
)

// TestLoadWFSKilled (issue 23 #5, a local shard): the WFS a loader drives
// is killed mid-run. The loader stops with one error line naming the dead
// process, exits non-zero well before its scenario's 30 s, and keeps its
// partial results, which the report marks partial and names by shard.
func TestLoadWFSKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a WFS and a loader for some seconds")
	}
	dir := t.TempDir()
	contact := startServe(t, "plain", filepath.Join(dir, "wf"))
	c, err := wfs.ReadContact(contact)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(c[wfs.ContactPID])
	if err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(dir, "slow.yaml")
	if err := os.WriteFile(slow, []byte("name: slow\ndescription: open loop for 30 s\nduration: 30s\ncli: {rate: 20, count: 600}\njob: {rate: 5, total: 100, messages: 3, concurrency: 4}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "shard-0")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	loader := exec.CommandContext(ctx, os.Args[0], "load", "-quiet", "-contact", contact, "-scenario", slow, "-shard", "0/2", "-out", out)
	loader.Env = append(os.Environ(), "AUTHBENCH_AS_MAIN=1")
	var stderr bytes.Buffer
	loader.Stderr = &stderr
	if err := loader.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the WFS (pid %d): %v", pid, err)
	}
	killed := time.Now()
	err = loader.Wait()
	took := time.Since(killed)
	line := strings.TrimSuffix(stderr.String(), "\n")
	t.Logf("loader ended %s after the kill: %v: %s", took.Round(100*time.Millisecond), err, line)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || ee.ExitCode() == -1 {
		t.Fatalf("loader: %v, want a non-zero exit of its own", err)
	}
	// In-flight control calls wait out their timeout (wfs.ControlTimeout).
	if limit := wfs.ControlTimeout + 5*time.Second; took > limit {
		t.Errorf("the loader took %s after the kill to stop, want at most %s", took, limit)
	}
	if strings.Contains(line, "\n") || !strings.Contains(line, "wfs process "+strconv.Itoa(pid)+" exited mid-run") {
		t.Errorf("want one line naming the dead WFS (pid %d), got:\n%s", pid, line)
	}
	r, err := results.Read(out)
	if err != nil {
		t.Fatalf("the loader's partial results: %v", err)
	}
	if !r.Partial || r.Shard == nil || r.Shard.Index != 0 {
		t.Errorf("results: partial %v, shard %+v; want partial, shard 0", r.Partial, r.Shard)
	}
	var rep, rerr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-site", "none", "-wlcg-site", "none", filepath.Dir(out)}, &rep, &rerr); err != nil {
		t.Fatalf("report: %v\n%s", err, rerr.String())
	}
	if !strings.Contains(rep.String(), "**Partial run**") || !strings.Contains(rep.String(), "-shard 0/2") {
		t.Errorf("the report does not name the partial shard:\n%s", rep.String())
	}
}
