package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// Timeouts of the suite's clients. A refused CURVE handshake is reported at
// once by the socket monitor; attackTimeout bounds the wait for a server
// that drops a peer without a word (an oversized frame, say).
const (
	validTimeout  = 5 * time.Second
	attackTimeout = 1500 * time.Millisecond
)

// DefaultWorkflow is the workflow id of the WFS a case attacks.
const DefaultWorkflow = "wf"

// Clock is a WFS's clock: real time plus an offset the cases move to age
// tokens without waiting.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Who is a client identity: a CLI user, a job (with its install target) or
// the UI server.
type Who struct {
	Kind   schemes.ClientKind
	ID     string
	Target string
}

// CLI is the workflow owner's command-line client.
func CLI() Who { return Who{Kind: schemes.KindCLI, ID: "owner"} }

// Job is the `cylc message` client of a job, on the WFS host.
func Job(id string) Who { return Who{Kind: schemes.KindJob, ID: id} }

// ErrProvision wraps the error of a scheme that refused to start (its server
// side could not be provisioned): at-rest cases expect it.
var ErrProvision = errors.New("scheme refused to start")

// TargetConfig configures a Target.
type TargetConfig struct {
	// Workflow is the workflow id; "" means DefaultWorkflow.
	Workflow string
	// Dir is the scratch directory the target's run directory and client
	// state live in; it must exist.
	Dir string
	// Plant, when set, runs on the fresh run directory before the scheme
	// provisions it (to leave files there as an earlier run or an attacker
	// would).
	Plant func(run *wfs.RunDir) error
}

// Target is a live WFS for one scheme on loopback: a run directory in a
// scratch directory, the scheme's server side as the WFS's guard, an
// adjustable clock, and a ZMQ context for valid clients. Attackers use
// contexts of their own.
type Target struct {
	Scheme   *schemes.Scheme
	Workflow string
	Dir      string
	Run      *wfs.RunDir
	Server   *wfs.Server
	Guard    *schemes.Server
	Clock    *Clock

	zctx   *zmq.Context
	wfs    *schemes.WFS
	mu     sync.Mutex
	closed bool
}

// StartTarget provisions sc in a new run directory under cfg.Dir and serves
// it on an ephemeral loopback port. A scheme that refuses to provision gives
// an error wrapping ErrProvision.
func StartTarget(sc *schemes.Scheme, cfg TargetConfig) (*Target, error) {
	if cfg.Workflow == "" {
		cfg.Workflow = DefaultWorkflow
	}
	run, err := wfs.NewRunDir(filepath.Join(cfg.Dir, "run"), wfs.NewFiles(false))
	if err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if cfg.Plant != nil {
		if err := cfg.Plant(run); err != nil {
			return nil, fmt.Errorf("plant files: %w", err)
		}
	}
	t := &Target{Scheme: sc, Workflow: cfg.Workflow, Dir: cfg.Dir, Run: run, Clock: &Clock{}}
	w, err := schemes.StartWFS(context.Background(), schemes.WFSConfig{Scheme: sc,
		Env:    schemes.Env{Run: run, Workflow: cfg.Workflow, Now: t.Clock.Now},
		Server: wfs.ServerConfig{Listen: "tcp://127.0.0.1:*", Workers: 2}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProvision, err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("zmq context: %w", err), w.Stop())
	}
	t.Server, t.Guard, t.zctx, t.wfs = w.Server, w.Guard, zctx, w
	return t, nil
}

// Running reports whether the target has not been stopped.
func (t *Target) Running() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.closed
}

// Stop stops serving, tears the scheme's server side down (removing its
// keys and tokens, as at shutdown) and terminates the clients' context.
func (t *Target) Stop() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	err := t.wfs.Stop()
	_ = t.zctx.Term()
	if err != nil {
		return fmt.Errorf("stop target: %w", err)
	}
	return nil
}

// Endpoint is the WFS's endpoint, tcp://127.0.0.1:PORT.
func (t *Target) Endpoint() string { return t.Server.Endpoint() }

// Addr is the WFS's TCP address, 127.0.0.1:PORT.
func (t *Target) Addr() string { return strings.TrimPrefix(t.Server.Endpoint(), "tcp://") }

// StateDir is the private state directory of a client identity.
func (t *Target) StateDir(w Who) string {
	id := strings.NewReplacer("/", "_", "\\", "_", ".", "_").Replace(w.ID)
	return filepath.Join(t.Dir, "state", string(w.Kind)+"-"+id)
}

// ClientEnv is the environment a genuine client of identity w starts from.
func (t *Target) ClientEnv(w Who) schemes.ClientEnv {
	return schemes.ClientEnv{
		Run: t.Run, Contact: t.Server.Contact(), Kind: w.Kind, Identity: w.ID, Target: w.Target,
		StateDir: t.StateDir(w), Now: t.Clock.Now,
	}
}

// Client loads the scheme's genuine client side for w.
func (t *Target) Client(w Who) (*schemes.Client, error) {
	cl, err := t.Scheme.Client(context.Background(), t.ClientEnv(w))
	if err != nil {
		return nil, fmt.Errorf("client %s %s: %w", w.Kind, w.ID, err)
	}
	return cl, nil
}

// Prepared is a request a genuine client has prepared (credential acquired,
// frames wrapped) but not sent, and the client that prepared it, whose
// Configure sets up a socket's transport as that client's.
type Prepared struct {
	Frames [][]byte
	Client *schemes.Client
}

// Close releases the client.
func (p *Prepared) Close() {
	if p != nil && p.Client != nil {
		_ = p.Client.Close()
	}
}

// Body is the request encoded as a client sends it.
func Body(cmd string, args any) ([]byte, error) {
	b, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "authbench-conform", Host: "localhost", CommsMethod: "zmq"})
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", cmd, err)
	}
	return b, nil
}

// Prepare runs a genuine client's Begin (with its own round trip when the
// policy needs one) and Wrap for one request as w, without sending it.
func (t *Target) Prepare(ctx context.Context, w Who, cmd string, args any) (*Prepared, error) {
	cl, err := t.Client(w)
	if err != nil {
		return nil, err
	}
	p := &Prepared{Client: cl}
	zc := wfs.NewClient(t.zctx, t.Endpoint(), wfs.ClientConfig{Timeout: validTimeout, Configure: cl.Configure})
	defer zc.Close()
	if _, err := cl.Begin(ctx, zc.Call); err != nil {
		p.Close()
		return nil, fmt.Errorf("begin as %s %s: %w", w.Kind, w.ID, err)
	}
	body, err := Body(cmd, args)
	if err != nil {
		p.Close()
		return nil, err
	}
	if p.Frames, err = cl.Wrap(body); err != nil {
		p.Close()
		return nil, fmt.Errorf("wrap: %w", err)
	}
	return p, nil
}

// Call runs one request as a genuine client w would: load, Begin, Wrap,
// round trip, Unwrap, decode.
func (t *Target) Call(ctx context.Context, w Who, cmd string, args any) (json.RawMessage, error) {
	return t.callVia(ctx, t.zctx, t.Endpoint(), w, cmd, args)
}

// callVia is Call through endpoint (a relay, say) in zctx.
func (t *Target) callVia(ctx context.Context, zctx *zmq.Context, endpoint string, w Who, cmd string, args any) (json.RawMessage, error) {
	cl, err := t.Client(w)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	zc := wfs.NewClient(zctx, endpoint, wfs.ClientConfig{Timeout: validTimeout, Configure: cl.Configure})
	defer zc.Close()
	body, err := Body(cmd, args)
	if err != nil {
		return nil, err
	}
	x, err := schemes.Request(ctx, cl, zc, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", x.Stage, err)
	}
	return x.Reply, nil
}

// Healthy checks that the WFS still serves a valid client: a CLI ping.
func (t *Target) Healthy(ctx context.Context) error {
	if _, err := t.Call(ctx, CLI(), wfs.CmdPing, nil); err != nil {
		return fmt.Errorf("valid client's ping: %w", err)
	}
	return nil
}

// Submit delivers a job-submit event for id on target (and makes the job's
// directory, as job submission does whatever the scheme).
func (t *Target) Submit(ctx context.Context, w Who) error {
	id, err := wfs.ParseJobID(w.ID)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if err := t.Run.MakeJobDir(id); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	if err := t.Guard.Event(ctx, schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: w.Target, Now: t.Clock.Now()}); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	return nil
}

// End delivers a job-end event.
func (t *Target) End(ctx context.Context, w Who) error {
	id, err := wfs.ParseJobID(w.ID)
	if err != nil {
		return fmt.Errorf("end: %w", err)
	}
	if err := t.Guard.Event(ctx, schemes.Event{Kind: schemes.EventJobEnd, Job: id, Target: w.Target, Now: t.Clock.Now()}); err != nil {
		return fmt.Errorf("end: %w", err)
	}
	return nil
}

// Tick delivers a clock tick (timed tokens rotate on it).
func (t *Target) Tick(ctx context.Context) error {
	if err := t.Guard.Event(ctx, schemes.Event{Kind: schemes.EventTick, Now: t.Clock.Now()}); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	return nil
}

// Message is the args of a job message from job id.
func Message(id, text string) wfs.MessageArgs {
	return wfs.MessageArgs{TaskJob: id, EventTime: time.Now().UTC().Format(time.RFC3339), Messages: [][2]string{{"INFO", text}}}
}

// readService reads a file in the run's .service directory.
func (t *Target) readService(name string) ([]byte, error) {
	b, err := os.ReadFile(t.Run.Service(name))
	if err != nil {
		return nil, fmt.Errorf("read .service/%s: %w", name, err)
	}
	return b, nil
}
