package schemes_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// harness runs a real WFS for a scheme on loopback. Every test and
// benchmark of this package starts its server through startWith.
type harness struct {
	t      testing.TB
	scheme *schemes.Scheme
	run    *wfs.RunDir
	srv    *wfs.Server
	guard  *schemes.Server
	zctx   *zmq.Context
	cancel context.CancelFunc
	done   chan error
}

// harnessOpts vary the server: its clock, fsync, worker pool and workflow.
type harnessOpts struct {
	now      func() time.Time // nil: time.Now
	noSync   bool             // benchmarks measure the wire, not the disk
	workers  int              // 0 serves inline
	workflow string           // "" means "wf"
	// server, if set, adjusts the server's config (the publisher's tests
	// run the cylc model).
	server func(*wfs.ServerConfig)
}

// start runs the scheme's WFS as the tests do: fsync on, two workers.
func start(t *testing.T, spec string) *harness {
	t.Helper()
	return startWith(t, spec, harnessOpts{workers: 2})
}

func startWith(tb testing.TB, spec string, o harnessOpts) *harness {
	tb.Helper()
	if o.workflow == "" {
		o.workflow = "wf"
	}
	sc, err := schemes.Builtin().Parse(spec)
	if err != nil {
		tb.Fatal(err)
	}
	run, err := wfs.NewRunDir(filepath.Join(tb.TempDir(), "run"), wfs.NewFiles(!o.noSync))
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	guard, err := sc.Server(ctx, schemes.Env{Run: run, Workflow: o.workflow, Now: o.now})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	scfg := wfs.ServerConfig{Run: run, Workflow: o.workflow, Guard: guard, Workers: o.workers}
	if o.server != nil {
		o.server(&scfg)
	}
	srv, err := wfs.NewServer(scfg)
	if err != nil {
		cancel()
		_ = guard.Close()
		tb.Fatal(err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	h := &harness{t: tb, scheme: sc, run: run, srv: srv, guard: guard, zctx: zctx, cancel: cancel, done: make(chan error, 1)}
	go func() { h.done <- srv.Serve(ctx) }()
	tb.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Error(err)
	}
	if err := h.guard.Close(); err != nil {
		h.t.Error(err)
	}
	_ = h.zctx.Term()
}

// call runs one command as a fresh CLI client would.
func (h *harness) call(cmd string, args any) (json.RawMessage, error) {
	return h.tkCall(tkCLI(), cmd, args)
}

func TestRoundTripEachScheme(t *testing.T) {
	for _, spec := range []string{"plain", "null", "passphrase", "null+passphrase:workflow"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			data, err := h.call(wfs.CmdPing, nil)
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil || got["pong"] != true {
				t.Fatalf("ping reply %s (%v)", data, err)
			}
		})
	}
}

func TestPassphraseRejections(t *testing.T) {
	h := start(t, "passphrase")
	path := h.run.Service(schemes.PassphraseFile)
	body, _ := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{})
	cases := []struct {
		name   string
		frames [][]byte
	}{
		{"missing", [][]byte{body}},
		{"wrong", [][]byte{body, []byte("not-the-passphrase")}},
		{"empty", [][]byte{body, {}}},
		{"stale", [][]byte{body, []byte("c3RhbGUtcGFzc3BocmFzZS1mcm9tLWxhc3QtcnVu")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second})
			defer zc.Close()
			rep, err := zc.Call(context.Background(), c.frames...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := wfs.DecodeReply(rep); !errors.Is(err, wfs.ErrRejected) {
				t.Fatalf("got %v, want a rejection", err)
			}
			// The server keeps serving a valid client.
			if _, err := h.call(wfs.CmdPing, nil); err != nil {
				t.Fatalf("valid client after %s: %v", c.name, err)
			}
		})
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("passphrase file mode: %v %v", st, err)
	}
	if h.srv.Stats().Rejected != int64(len(cases)) {
		t.Fatalf("server counted %d rejections, want %d", h.srv.Stats().Rejected, len(cases))
	}
}
