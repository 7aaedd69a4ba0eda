package schemes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/authbench/authbench/wfs"
)

// WFSConfig is a guarded WFS to stand up: a scheme's server side provisioned
// in Env.Run, and a wfs.Server that runs with it as its guard.
type WFSConfig struct {
	Scheme *Scheme
	// Env is what the scheme's server side is provisioned with (run
	// directory, workflow, clock, leeway).
	Env Env
	// Server configures the socket (listen endpoint, workers, message size,
	// extra contact entries); its Run, Workflow and Guard are filled in from
	// Env and the scheme.
	Server wfs.ServerConfig
}

// WFS is a guarded WFS serving in the background. It is the one place a
// scheme's server side and a wfs.Server are put together: `authbench serve`
// (and so every engine run, whose WFS is a serve process), calibration and
// the conformance targets all stand their WFS up through StartWFS.
type WFS struct {
	Server *wfs.Server
	Guard  *Server

	cancel context.CancelFunc
	// done holds Serve's error once, for Done; finished is closed when
	// Serve has returned, with its error in serveErr, so that Stop never
	// waits on done, which a caller of Done may have emptied.
	done     chan error
	finished chan struct{}
	serveErr error
	err      error
	ended    bool
}

// StartWFS provisions cfg.Scheme's server side, binds the WFS (writing its
// contact file) and serves it until Stop. The serving goroutine does not
// inherit ctx's cancellation: call Stop (or watch Done) to end it.
func StartWFS(ctx context.Context, cfg WFSConfig) (*WFS, error) {
	if cfg.Scheme == nil {
		return nil, errors.New("start wfs: no scheme")
	}
	if cfg.Env.Interpreter == nil && cfg.Server.Interpreter == nil {
		// Under the cylc model the ZAP handler and the server share one
		// interpreter lock, as a Cylc scheduler's threads share its GIL.
		cfg.Env.Interpreter = wfs.NewInterpreterLock(cfg.Server.Model)
	}
	if cfg.Server.Interpreter == nil {
		cfg.Server.Interpreter = cfg.Env.Interpreter
	}
	guard, err := cfg.Scheme.Server(ctx, cfg.Env)
	if err != nil {
		return nil, err
	}
	sc := cfg.Server
	sc.Run, sc.Workflow, sc.Guard = cfg.Env.Run, cfg.Env.Workflow, guard
	srv, err := wfs.NewServer(sc)
	if err != nil {
		return nil, errors.Join(err, guard.Close())
	}
	w := &WFS{Server: srv, Guard: guard, done: make(chan error, 1), finished: make(chan struct{})}
	var sctx context.Context
	sctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		w.serveErr = srv.Serve(sctx)
		w.done <- w.serveErr
		close(w.finished)
	}()
	return w, nil
}

// Done yields Serve's error if the server stops on its own (a socket
// failure); after a receive from it, Stop still tears the guard down but
// returns only the guard's error.
func (w *WFS) Done() <-chan error { return w.done }

// Stop stops serving (removing the contact file) and tears the scheme's
// server side down (removing its keys and tokens). It is safe to call more
// than once; later calls return the first call's error.
func (w *WFS) Stop() error {
	if w.ended {
		return w.err
	}
	w.ended = true
	w.cancel()
	<-w.finished
	var serveErr error
	select {
	case serveErr = <-w.done: // not yet taken through Done
	default: // taken through Done: the caller has it already
	}
	w.err = errors.Join(serveErr, w.Guard.Close())
	return w.err
}

// Exchange is what one authenticated request did: whether the client part
// acquired a credential (and how long that took), the wire bytes the scheme
// added to the body, and the round trip.
type Exchange struct {
	Acquired   bool
	Acquire    time.Duration
	BytesAdded int
	RoundTrip  time.Duration
	// Stage names the step that failed: "acquire", "wrap", "round_trip" or
	// "end"; empty on success.
	Stage string
	// Reply is the reply's data.
	Reply json.RawMessage
}

// Request is the one place an authenticated request is made: Begin (the
// credential, with its own round trip when the policy needs one), Wrap, the
// round trip through zc, Unwrap, decode, End. Its error is the first step's
// that failed, named in Exchange.Stage.
func Request(ctx context.Context, cl *Client, zc *wfs.Client, body []byte) (Exchange, error) {
	var x Exchange
	a0 := time.Now()
	acquired, err := cl.Begin(ctx, zc.Call)
	if err != nil {
		x.Stage, x.Acquire = "acquire", time.Since(a0)
		return x, err
	}
	if acquired {
		x.Acquired, x.Acquire = true, time.Since(a0)
	}
	frames, err := cl.Wrap(body)
	if err != nil {
		x.Stage = "wrap"
		_ = cl.End(ctx)
		return x, fmt.Errorf("wrap: %w", err)
	}
	for _, f := range frames {
		x.BytesAdded += len(f)
	}
	x.BytesAdded -= len(body)
	t0 := time.Now()
	rep, err := zc.Call(ctx, frames...)
	if err == nil {
		rep, err = cl.Unwrap(rep)
	}
	if err == nil {
		x.Reply, err = wfs.DecodeReply(rep)
	}
	x.RoundTrip = time.Since(t0)
	if err != nil {
		x.Stage = "round_trip"
		_ = cl.End(ctx)
		return x, err
	}
	if err := cl.End(ctx); err != nil {
		x.Stage = "end"
		return x, err
	}
	return x, nil
}
