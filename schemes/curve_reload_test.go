package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// startReload runs spec's WFS with Env.ReloadAllKeys set to reload; with
// reload it serves as the cylc model does, as `authbench serve -model cylc`
// runs it.
func startReload(t *testing.T, spec string, reload bool) *harness {
	t.Helper()
	sc, err := schemes.Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(true))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	guard, err := sc.Server(ctx, schemes.Env{Run: run, Workflow: "wf", ReloadAllKeys: reload})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	cfg := wfs.ServerConfig{Run: run, Workflow: "wf", Guard: guard}
	if reload {
		cylc, err := wfs.ParseModel("cylc")
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		cfg.Model, cfg.OperateSleep, cfg.ServiceCPU = cylc, 5*time.Millisecond, -1
	}
	srv, err := wfs.NewServer(cfg)
	if err != nil {
		cancel()
		_ = guard.Close()
		t.Fatal(err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	h := &harness{t: t, scheme: sc, run: run, srv: srv, guard: guard, zctx: zctx, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx) }()
	t.Cleanup(h.stop)
	return h
}

// TestCurveReloadAllKeys checks that with Env.ReloadAllKeys every key added
// re-reads every key file in client_public_keys/ (the counted reads grow
// with the keys installed), that the reloaded list is what the ZAP handler
// allows, and that without it keys are added one at a time with no reads.
func TestCurveReloadAllKeys(t *testing.T) {
	const n = 4
	for _, tc := range []struct {
		spec   string
		reload bool
		// reads is the file reads the k-th key added (k from 1) costs.
		reads func(k int) int64
	}{
		// A target's first job reads the target's public key as it comes
		// back from the remote, then (reload) every installed key:
		// localhost's and k targets'.
		{"curve", true, func(k int) int64 { return 1 + int64(k+1) }},
		{"curve", false, func(int) int64 { return 1 }},
		// A job's key is made on the server: (reload) every installed key,
		// localhost's and k jobs'.
		{"curve-job", true, func(k int) int64 { return int64(k + 1) }},
		{"curve-job", false, func(int) int64 { return 0 }},
	} {
		t.Run(fmt.Sprintf("%s reload=%v", tc.spec, tc.reload), func(t *testing.T) {
			h := startReload(t, tc.spec, tc.reload)
			var jobs []wfs.JobID
			var targets []string
			for k := 1; k <= n; k++ {
				id := mustJob(t, fmt.Sprintf("1/t%d/01", k))
				target := fmt.Sprintf("hpc%d", k)
				before := h.run.Files.Stats().Read
				h.submit(id, target)
				if got, want := h.run.Files.Stats().Read-before, tc.reads(k); got != want {
					t.Fatalf("key %d added: %d file reads, want %d", k, got, want)
				}
				jobs, targets = append(jobs, id), append(targets, target)
			}
			for i, id := range jobs {
				if err := h.message(h.zctx, h.jobEnv(id, targets[i]), id.String(), "started"); err != nil {
					t.Fatalf("job %s: %v", id, err)
				}
			}
			st := h.guard.Stats()
			if want := float64(n + 1); st["zap.allowed_end"] != want {
				t.Fatalf("allow-list of %v keys, want %v (stats %v)", st["zap.allowed_end"], want, st)
			}
			if !tc.reload {
				if _, ok := st["zap.reloads"]; ok {
					t.Fatalf("reload stats without reload mode: %v", st)
				}
				return
			}
			if st["zap.reloads"] != n+1 || st["zap.reload_errors"] != 0 {
				t.Fatalf("stats %v: want %d reloads (start and each key), no errors", st, n+1)
			}
			if tc.spec != "curve-job" {
				return
			}
			// Job end: the key leaves the directory and the rest is re-read.
			before := h.run.Files.Stats().Read
			h.end(jobs[0], targets[0])
			if got := h.run.Files.Stats().Read - before; got != n {
				t.Fatalf("job end: %d file reads, want %d (localhost and %d jobs)", got, n, n-1)
			}
			if _, err := os.Stat(schemes.CurveJobPublicKeyPath(h.run, jobs[0])); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("ended job's installed key: %v", err)
			}
			t.Run("revoked", func(t *testing.T) {
				cl, err := h.scheme.Client(context.Background(), h.jobEnv(jobs[1], targets[1]))
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				h.end(jobs[1], targets[1])
				_, _, err = h.callWith(freshContext(t), cl, wfs.CmdMessage, wfs.MessageArgs{TaskJob: jobs[1].String(), EventTime: "t", Messages: [][2]string{{"INFO", "late"}}})
				wantFailed(t, "message after job end", err)
			})
			if err := h.message(h.zctx, h.jobEnv(jobs[2], targets[2]), jobs[2].String(), "succeeded"); err != nil {
				t.Fatalf("job %s after others ended: %v", jobs[2], err)
			}
		})
	}
}

// TestCurveReloadBadFile checks pyzmq's behaviour on a key file that does
// not load: the reload fails (counted), the allowed set stays as it was, so
// the key added with it is not allowed until a later reload succeeds.
func TestCurveReloadBadFile(t *testing.T) {
	h := startReload(t, "curve", true)
	h.submit(mustJob(t, "1/a/01"), "hpc1")
	bad := filepath.Join(h.run.Service(schemes.CurveClientPublicKeys), "broken.key")
	if err := os.WriteFile(bad, []byte("curve\n    no-key-here = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.submit(mustJob(t, "1/b/01"), "hpc2")
	if st := h.guard.Stats(); st["zap.reload_errors"] != 1 || st["zap.allowed_end"] != 2 {
		t.Fatalf("stats %v: want 1 reload error and the 2 keys of before", st)
	}
	t.Run("not yet allowed", func(t *testing.T) {
		err := h.message(freshContext(t), h.jobEnv(mustJob(t, "1/b/01"), "hpc2"), "1/b/01", "started")
		wantFailed(t, "hpc2 before a good reload", err)
	})
	if err := h.message(h.zctx, h.jobEnv(mustJob(t, "1/a/01"), "hpc1"), "1/a/01", "started"); err != nil {
		t.Fatalf("hpc1, allowed before the bad file: %v", err)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	h.submit(mustJob(t, "1/c/01"), "hpc3")
	if err := h.message(h.zctx, h.jobEnv(mustJob(t, "1/b/01"), "hpc2"), "1/b/01", "started"); err != nil {
		t.Fatalf("hpc2 after a good reload: %v", err)
	}
}
