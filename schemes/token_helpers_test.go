package schemes_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// tkClock is an injected clock for Env.Now and ClientEnv.Now.
type tkClock struct {
	mu sync.Mutex
	t  time.Time
}

func tkNewClock() *tkClock {
	return &tkClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *tkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *tkClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *tkClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startClock is start with an injected server clock (nil: the real one).
func tkStart(t *testing.T, spec string, clock *tkClock) *harness {
	t.Helper()
	o := harnessOpts{workers: 2}
	if clock != nil {
		o.now = clock.Now
	}
	return startWith(t, spec, o)
}

// tkWho describes a client for callAs.
type tkWho struct {
	kind     schemes.ClientKind
	identity string
	stateDir string
	clock    *tkClock
}

func tkCLI() tkWho { return tkWho{kind: schemes.KindCLI, identity: "owner"} }

func tkJobClient(id string) tkWho { return tkWho{kind: schemes.KindJob, identity: id} }

// client loads a client side as w.
func (h *harness) tkClient(w tkWho) *schemes.Client {
	h.t.Helper()
	env := schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: w.kind, Identity: w.identity, StateDir: w.stateDir}
	if env.StateDir == "" {
		env.StateDir = filepath.Join(h.run.Root, "..", "client-state")
	}
	if w.clock != nil {
		env.Now = w.clock.Now
	}
	cl, err := h.scheme.Client(context.Background(), env)
	if err != nil {
		h.t.Fatal(err)
	}
	return cl
}

// prepare runs Begin and Wrap as w would for cmd, and returns the frames
// without sending them.
func (h *harness) tkPrepare(w tkWho, cmd string, args any) [][]byte {
	h.t.Helper()
	cl := h.tkClient(w)
	defer cl.Close()
	zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: cl.Configure})
	defer zc.Close()
	if _, err := cl.Begin(context.Background(), zc.Call); err != nil {
		h.t.Fatalf("begin: %v", err)
	}
	body, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	frames, err := cl.Wrap(body)
	if err != nil {
		h.t.Fatalf("wrap: %v", err)
	}
	return frames
}

// callAs runs one command as a fresh client w.
func (h *harness) tkCall(w tkWho, cmd string, args any) (json.RawMessage, error) {
	ctx := context.Background()
	cl := h.tkClient(w)
	defer cl.Close()
	zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: cl.Configure})
	defer zc.Close()
	if _, err := cl.Begin(ctx, zc.Call); err != nil {
		return nil, err
	}
	body, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "test"})
	if err != nil {
		return nil, err
	}
	frames, err := cl.Wrap(body)
	if err != nil {
		return nil, err
	}
	rep, err := zc.Call(ctx, frames...)
	if err != nil {
		return nil, err
	}
	if rep, err = cl.Unwrap(rep); err != nil {
		return nil, err
	}
	return wfs.DecodeReply(rep)
}

// send sends raw frames and decodes the reply.
func (h *harness) tkSend(frames ...[]byte) (json.RawMessage, error) {
	zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second})
	defer zc.Close()
	rep, err := zc.Call(context.Background(), frames...)
	if err != nil {
		return nil, err
	}
	return wfs.DecodeReply(rep)
}

// event delivers a lifecycle event to the scheme's server side.
func (h *harness) tkEvent(kind schemes.EventKind, job string) {
	h.t.Helper()
	id, err := wfs.ParseJobID(job)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.run.MakeJobDir(id); err != nil {
		h.t.Fatal(err)
	}
	if err := h.guard.Event(context.Background(), schemes.Event{Kind: kind, Job: id}); err != nil {
		h.t.Fatalf("%s %s: %v", kind, job, err)
	}
}

// msg are the args of a job message for job.
func tkMsg(job, text string) wfs.MessageArgs {
	return wfs.MessageArgs{TaskJob: job, EventTime: "2030-01-02T03:04:05Z", Messages: [][2]string{{"INFO", text}}}
}

// readService reads a file in the run's .service directory.
func (h *harness) tkService(name string) []byte {
	h.t.Helper()
	b, err := h.run.Files.ReadFile(h.run.Service(name))
	if err != nil {
		h.t.Fatal(err)
	}
	return b
}
