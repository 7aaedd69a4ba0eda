package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/process"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// Calibration targets: the engine's plain-scheme loop against a bare
// pebbe/zmq4 REQ/REP loop in the same process.
const (
	// TargetP50Ratio is the most the engine's p50 may be, as a multiple of
	// the bare loop's.
	TargetP50Ratio = 1.10
	// TargetRateRatio is the least the engine's throughput may be, as a
	// fraction of the bare loop's.
	TargetRateRatio = 0.90
)

// Calibration defaults.
const (
	DefaultCalibrateN       = 2000
	DefaultCalibrateRounds  = 5
	DefaultCalibratePayload = 100
	DefaultCalibrateWarmup  = 500
	DefaultCalibratePython  = "/usr/bin/python3"
)

// CalibrateConfig configures Calibrate; zero fields take the defaults.
type CalibrateConfig struct {
	// N is the round trips each loop makes per round.
	N int
	// Rounds is how many times each loop runs, interleaved and alternating
	// in order (bare, engine; engine, bare; ...).
	Rounds int
	// Payload is the bare loops' message size in bytes.
	Payload int
	// Warmup is the untimed round trips each loop makes before round 1.
	Warmup int
	// Python is the interpreter for the pyzmq loop; it is skipped when it
	// cannot import zmq. "-" skips it.
	Python string
	// WorkDir is a scratch directory for the WFS's run directory; "" makes
	// and removes a temporary one.
	WorkDir string
	// Timeout bounds every send and receive.
	Timeout time.Duration
}

// LoopRound is one round of one loop.
type LoopRound struct {
	Count int64         `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Rate  float64       `json:"ops_per_s"`
}

// LoopResult is one loop over every round.
type LoopResult struct {
	Name string `json:"name"`
	// RequestBytes is the size of the request frames sent.
	RequestBytes int         `json:"request_bytes"`
	Rounds       []LoopRound `json:"rounds"`
	// Count is the round trips completed over all rounds.
	Count int64 `json:"count"`
	// P50 (ns) and Rate (round trips/s) are medians over rounds.
	P50  vocab.Spread `json:"p50_ns"`
	Rate vocab.Spread `json:"ops_per_s"`
	// P99 is from all rounds' round trips merged (nil for pyzmq).
	P99  time.Duration      `json:"p99_ns"`
	Hist *results.Histogram `json:"hist,omitempty"`
}

func (l *LoopResult) add(r LoopRound, h *results.Histogram) {
	l.Rounds = append(l.Rounds, r)
	l.Count += r.Count
	if h != nil {
		if l.Hist == nil {
			l.Hist = results.NewHistogram()
		}
		l.Hist.Merge(h)
	}
}

func (l *LoopResult) finish() {
	var p50s, rates, p99s []float64
	for _, r := range l.Rounds {
		p50s = append(p50s, float64(r.P50))
		rates = append(rates, r.Rate)
		p99s = append(p99s, float64(r.P99))
	}
	l.P50, l.Rate = vocab.SpreadOf(p50s), vocab.SpreadOf(rates)
	if l.Hist != nil {
		l.P99 = l.Hist.Percentile(99)
	} else {
		l.P99 = time.Duration(vocab.SpreadOf(p99s).Median)
	}
}

// Ratio is a measured ratio against its target.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target string  `json:"target,omitempty"`
	// Met is whether Value is within Target (always true without one).
	Met bool `json:"met"`
}

// CalibrateResult is what Calibrate measured.
type CalibrateResult struct {
	N, Rounds, Payload int
	GOMAXPROCS         int    `json:"gomaxprocs"`
	Affinity           string `json:"affinity"`
	Bare               LoopResult
	Engine             LoopResult
	// Python is the pyzmq loop; nil when skipped (PythonSkipped says why).
	Python        *LoopResult `json:"python,omitempty"`
	PythonSkipped string      `json:"python_skipped,omitempty"`
	// P50Ratio is engine/bare p50 (target <= TargetP50Ratio); RateRatio is
	// engine/bare throughput (target >= TargetRateRatio).
	P50Ratio, RateRatio Ratio
	// BarePyP50, BarePyRate compare bare zmq4 with pyzmq (no target).
	BarePyP50, BarePyRate *Ratio `json:",omitempty"`
}

// Met reports whether both engine targets were met.
func (r *CalibrateResult) Met() bool { return r.P50Ratio.Met && r.RateRatio.Met }

// Calibrate measures, in this process and interleaved over rounds, a bare
// pebbe/zmq4 REQ/REP loop and the plain scheme through the engine's path (a
// real inline wfs.Server, a reused wfs.Client and the exchange the engine
// times), plus a pyzmq loop when Python can import zmq.
func Calibrate(ctx context.Context, cfg CalibrateConfig) (CalibrateResult, error) {
	cfg = calibrateDefaults(cfg)
	res := CalibrateResult{N: cfg.N, Rounds: cfg.Rounds, Payload: cfg.Payload, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	res.Affinity, _ = process.Affinity()
	res.Bare.Name, res.Engine.Name = "bare zmq4 REQ/REP", "engine plain ping"

	bare, err := newBareLoop(cfg)
	if err != nil {
		return res, err
	}
	defer bare.close()
	eng, err := newEngineLoop(ctx, cfg)
	if err != nil {
		return res, err
	}
	defer eng.close()
	res.Bare.RequestBytes, res.Engine.RequestBytes = cfg.Payload, eng.requestBytes

	py := cfg.Python
	if py != "-" {
		if err := exec.CommandContext(ctx, py, "-c", "import zmq").Run(); err != nil {
			res.PythonSkipped = fmt.Sprintf("%s cannot import zmq (%v)", py, err)
			py = "-"
		} else {
			res.Python = &LoopResult{Name: "pyzmq REQ/REP", RequestBytes: cfg.Payload}
		}
	} else {
		res.PythonSkipped = "disabled"
	}

	if _, err := bare.round(ctx, cfg.Warmup); err != nil {
		return res, fmt.Errorf("calibrate: bare warm-up: %w", err)
	}
	if _, err := eng.round(ctx, cfg.Warmup); err != nil {
		return res, fmt.Errorf("calibrate: engine warm-up: %w", err)
	}
	type loop struct {
		out *LoopResult
		run func(context.Context, int) (*results.Histogram, error)
	}
	loops := []loop{{&res.Bare, bare.round}, {&res.Engine, eng.round}}
	for round := 0; round < cfg.Rounds; round++ {
		order := loops
		if round%2 == 1 {
			order = []loop{loops[1], loops[0]}
		}
		for _, l := range order {
			t0 := time.Now()
			h, err := l.run(ctx, cfg.N)
			wall := time.Since(t0)
			if err != nil {
				return res, fmt.Errorf("calibrate: %s round %d: %w", l.out.Name, round+1, err)
			}
			l.out.add(LoopRound{Count: h.Count(), P50: h.Percentile(50), P99: h.Percentile(99),
				Rate: float64(h.Count()) / wall.Seconds()}, h)
		}
		if res.Python != nil {
			r, err := pyzmqRound(ctx, py, cfg)
			if err != nil {
				return res, fmt.Errorf("calibrate: pyzmq round %d: %w", round+1, err)
			}
			res.Python.add(r, nil)
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("calibrate: %w", err)
		}
	}
	res.Bare.finish()
	res.Engine.finish()
	res.P50Ratio = Ratio{Name: "engine/bare p50", Value: res.Engine.P50.Median / res.Bare.P50.Median,
		Target: fmt.Sprintf("<= %.2f", TargetP50Ratio)}
	res.P50Ratio.Met = res.P50Ratio.Value <= TargetP50Ratio
	res.RateRatio = Ratio{Name: "engine/bare throughput", Value: res.Engine.Rate.Median / res.Bare.Rate.Median,
		Target: fmt.Sprintf(">= %.2f", TargetRateRatio)}
	res.RateRatio.Met = res.RateRatio.Value >= TargetRateRatio
	if res.Python != nil {
		res.Python.finish()
		res.BarePyP50 = &Ratio{Name: "bare-zmq4/pyzmq p50", Value: res.Bare.P50.Median / res.Python.P50.Median, Met: true}
		res.BarePyRate = &Ratio{Name: "bare-zmq4/pyzmq throughput", Value: res.Bare.Rate.Median / res.Python.Rate.Median, Met: true}
	}
	return res, nil
}

func calibrateDefaults(cfg CalibrateConfig) CalibrateConfig {
	if cfg.N <= 0 {
		cfg.N = DefaultCalibrateN
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = DefaultCalibrateRounds
	}
	if cfg.Payload <= 0 {
		cfg.Payload = DefaultCalibratePayload
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = DefaultCalibrateWarmup
	}
	if cfg.Python == "" {
		cfg.Python = DefaultCalibratePython
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	return cfg
}

// bareLoop is a REP socket served by one goroutine and a REQ client, on
// loopback tcp in its own ZMQ context.
type bareLoop struct {
	zctx    *zmq.Context
	req     *zmq.Socket
	payload []byte
	stop    chan struct{}
	done    sync.WaitGroup
}

func newBareLoop(cfg CalibrateConfig) (_ *bareLoop, err error) {
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("calibrate: zmq context: %w", err)
	}
	b := &bareLoop{zctx: zctx, payload: bytes.Repeat([]byte("x"), cfg.Payload), stop: make(chan struct{})}
	var rep *zmq.Socket
	defer func() {
		if err != nil {
			if rep != nil {
				_ = rep.Close()
			}
			if b.req != nil {
				_ = b.req.Close()
			}
			_ = zctx.Term()
		}
	}()
	if rep, err = newTimedSocket(zctx, zmq.REP, 100*time.Millisecond, cfg.Timeout); err != nil {
		return nil, err
	}
	if err = rep.Bind("tcp://127.0.0.1:*"); err != nil {
		return nil, fmt.Errorf("calibrate: bind REP: %w", err)
	}
	ep, err := rep.GetLastEndpoint()
	if err != nil {
		return nil, fmt.Errorf("calibrate: REP endpoint: %w", err)
	}
	if b.req, err = newTimedSocket(zctx, zmq.REQ, cfg.Timeout, cfg.Timeout); err != nil {
		return nil, err
	}
	if err = b.req.Connect(ep); err != nil {
		return nil, fmt.Errorf("calibrate: connect REQ %s: %w", ep, err)
	}
	b.done.Add(1)
	go b.serve(rep)
	return b, nil
}

// newTimedSocket returns a socket with linger 0 and the given receive and
// send timeouts.
func newTimedSocket(zctx *zmq.Context, t zmq.Type, rcv, snd time.Duration) (*zmq.Socket, error) {
	s, err := zctx.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %v socket: %w", t, err)
	}
	for _, set := range []func() error{
		func() error { return s.SetLinger(0) },
		func() error { return s.SetRcvtimeo(rcv) },
		func() error { return s.SetSndtimeo(snd) },
	} {
		if err := set(); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("calibrate: configure %v socket: %w", t, err)
		}
	}
	return s, nil
}

// serve echoes every request until stop is closed; the short receive
// timeout lets it notice stop while idle.
func (b *bareLoop) serve(rep *zmq.Socket) {
	defer b.done.Done()
	defer rep.Close()
	for {
		select {
		case <-b.stop:
			return
		default:
		}
		msg, err := rep.RecvBytes(0)
		if err != nil {
			if isAgain(err) || zmq.AsErrno(err) == zmq.Errno(4) {
				continue
			}
			return // the REQ side then times out and reports it
		}
		if _, err := rep.SendBytes(msg, 0); err != nil {
			return
		}
	}
}

func isAgain(err error) bool { return zmq.AsErrno(err) == zmq.Errno(11) }

func (b *bareLoop) round(ctx context.Context, n int) (*results.Histogram, error) {
	h := results.NewHistogram()
	for i := 0; i < n; i++ {
		if i&255 == 0 && ctx.Err() != nil {
			return h, ctx.Err()
		}
		t0 := time.Now()
		if _, err := b.req.SendBytes(b.payload, 0); err != nil {
			return h, fmt.Errorf("REQ send: %w", err)
		}
		rep, err := b.req.RecvBytes(0)
		if err != nil {
			return h, fmt.Errorf("REQ receive: %w", err)
		}
		h.Record(time.Since(t0))
		if len(rep) != len(b.payload) {
			return h, fmt.Errorf("echo of %d bytes came back as %d", len(b.payload), len(rep))
		}
	}
	return h, nil
}

func (b *bareLoop) close() {
	close(b.stop)
	b.done.Wait()
	_ = b.req.Close()
	_ = b.zctx.Term()
}

// engineLoop is the plain scheme through the engine's path: a real inline
// WFS, one reused wfs.Client and schemes client, and exchange.
//
// What it shares with the bare loop, so that the ratio is the engine's own
// cost: loopback tcp, one ZMQ context (one libzmq I/O thread carries both
// ends; the client uses the server's context, where `authbench run` gives its
// clients a context of their own to stand in for other processes: a second
// context adds an I/O-thread hand-off each way, about 5 µs a round trip with
// everything pinned to one CPU, which is libzmq's topology, not the
// engine's work), the same socket options (linger, send and receive
// timeouts), one request in flight and a histogram record per round trip.
//
// What remains structurally different, and why it stays:
//   - The WFS is a ROUTER (issue 2: it serves many REQ clients at once), so a
//     request arrives as three frames (routing id, empty delimiter, body) and
//     the reply leaves as three, where REP hands the bare loop one frame each
//     way. pebbe/zmq4 costs five cgo calls per frame received, one per frame
//     sent and one per RCVMORE query: the server makes about 24 cgo calls a
//     request against the bare REP's 6, and the client 7 against 6 (it asks
//     RCVMORE so that a multi-frame reply is a protocol error, not a
//     desynchronised socket).
//   - The server reads the connection's User-Id and Peer-Address metadata on
//     every request (three cgo calls each), because schemes authenticate on
//     them; caching them by routing id would trust a reused id.
//   - Each request goes through the guard (Open, Authorize, Handle,
//     SealReply), JSON decoding and encoding of the envelope on both sides,
//     the scheme client's Begin, Wrap, Unwrap and End, and the engine's
//     recorder (two histograms per op): that is what is being measured.
type engineLoop struct {
	tmp          string
	wfs          *schemes.WFS
	cl           *schemes.Client
	zc           *wfs.Client
	body         []byte
	requestBytes int
}

func newEngineLoop(ctx context.Context, cfg CalibrateConfig) (_ *engineLoop, err error) {
	e := &engineLoop{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	root := cfg.WorkDir
	if root == "" {
		if e.tmp, err = os.MkdirTemp("", "authbench-calibrate-"); err != nil {
			return nil, fmt.Errorf("calibrate: work dir: %w", err)
		}
		root = e.tmp
	}
	scheme, err := schemes.Builtin().Parse("plain")
	if err != nil {
		return nil, fmt.Errorf("calibrate: plain scheme: %w", err)
	}
	files := wfs.NewFiles(true)
	run, err := wfs.NewRunDir(filepath.Join(root, "run"), files)
	if err != nil {
		return nil, fmt.Errorf("calibrate: run dir: %w", err)
	}
	stateDir := filepath.Join(root, "client-state")
	if err := files.MkdirAll(stateDir); err != nil {
		return nil, fmt.Errorf("calibrate: state dir: %w", err)
	}
	const workflow = "authbench/calibrate"
	if e.wfs, err = schemes.StartWFS(ctx, schemes.WFSConfig{Scheme: scheme,
		Env: schemes.Env{Run: run, Workflow: workflow}, Server: wfs.ServerConfig{Workers: 0}}); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	srv := e.wfs.Server
	if e.cl, err = scheme.Client(ctx, schemes.ClientEnv{Run: run, Contact: srv.Contact(), Kind: schemes.KindCLI,
		Identity: "calibrate", StateDir: stateDir}); err != nil {
		return nil, fmt.Errorf("calibrate: plain client: %w", err)
	}
	// The client shares the server's ZMQ context, as the bare loop's REQ and
	// REP share one (see engineLoop).
	e.zc = wfs.NewClient(srv.Context(), srv.Endpoint(), wfs.ClientConfig{Timeout: cfg.Timeout, Configure: e.cl.Configure})
	if err := e.zc.Connect(); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	if e.body, err = wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"}); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	frames, err := e.cl.Wrap(e.body)
	if err != nil {
		return nil, fmt.Errorf("calibrate: wrap: %w", err)
	}
	for _, f := range frames {
		e.requestBytes += len(f)
	}
	return e, nil
}

// round makes n pings through exchange, timing each whole exchange (Begin,
// Wrap, round trip, Unwrap, End and the engine's recording).
func (e *engineLoop) round(ctx context.Context, n int) (*results.Histogram, error) {
	h := results.NewHistogram()
	rec := newRecorder(time.Time{}, nil)
	for i := 0; i < n; i++ {
		if i&255 == 0 && ctx.Err() != nil {
			return h, ctx.Err()
		}
		t0 := time.Now()
		if err := exchange(ctx, rec, e.cl, e.zc, e.body, vocab.OpCLIAcquire, vocab.OpCLIRoundTrip); err != nil {
			return h, fmt.Errorf("exchange: %w", err)
		}
		h.Record(time.Since(t0))
	}
	if o := rec.ops.Op(vocab.OpCLIRoundTrip); o == nil || o.Count != int64(n) {
		return h, fmt.Errorf("engine recorded fewer round trips than the %d made", n)
	}
	return h, nil
}

func (e *engineLoop) close() {
	if e.zc != nil {
		e.zc.Close()
	}
	if e.cl != nil {
		_ = e.cl.Close()
	}
	if e.wfs != nil {
		_ = e.wfs.Stop()
	}
	if e.tmp != "" {
		_ = os.RemoveAll(e.tmp)
	}
}

// pyzmqScript is the pyzmq loop: a REP socket served by a thread and a REQ
// client, as the bare Go loop; it prints one JSON line.
const pyzmqScript = `
import json, sys, threading, time, zmq
n, payload, warmup, timeout = (int(a) for a in sys.argv[1:5])
ctx = zmq.Context()
rep = ctx.socket(zmq.REP)
rep.setsockopt(zmq.LINGER, 0); rep.setsockopt(zmq.RCVTIMEO, 100); rep.setsockopt(zmq.SNDTIMEO, timeout)
port = rep.bind_to_random_port("tcp://127.0.0.1")
stop = threading.Event()
def serve():
    while not stop.is_set():
        try:
            m = rep.recv()
        except zmq.Again:
            continue
        rep.send(m)
    rep.close()
t = threading.Thread(target=serve); t.start()
req = ctx.socket(zmq.REQ)
req.setsockopt(zmq.LINGER, 0); req.setsockopt(zmq.RCVTIMEO, timeout); req.setsockopt(zmq.SNDTIMEO, timeout)
req.connect("tcp://127.0.0.1:%d" % port)
msg = b"x" * payload
try:
    for _ in range(warmup):
        req.send(msg); req.recv()
    lat = [0] * n
    pc = time.perf_counter_ns
    start = pc()
    for i in range(n):
        t0 = pc(); req.send(msg); r = req.recv(); lat[i] = pc() - t0
    wall = pc() - start
finally:
    stop.set(); t.join(); req.close(); ctx.term()
lat.sort()
pick = lambda q: lat[min(n - 1, int(q * n))]
print(json.dumps({"count": n, "p50_ns": pick(0.5), "p99_ns": pick(0.99), "ops_per_s": n / (wall / 1e9)}))
`

// pyzmqRound runs one round of the pyzmq loop in a Python process.
func pyzmqRound(ctx context.Context, python string, cfg CalibrateConfig) (LoopRound, error) {
	limit := time.Duration(cfg.N+cfg.Warmup)*cfg.Timeout/100 + 30*time.Second
	rctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(rctx, python, "-c", pyzmqScript, strconv.Itoa(cfg.N), strconv.Itoa(cfg.Payload),
		strconv.Itoa(min(cfg.Warmup, cfg.N)), strconv.FormatInt(cfg.Timeout.Milliseconds(), 10))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return LoopRound{}, fmt.Errorf("%s: %w (%s)", python, err, strings.TrimSpace(errb.String()))
	}
	var r struct {
		Count int64   `json:"count"`
		P50   int64   `json:"p50_ns"`
		P99   int64   `json:"p99_ns"`
		Rate  float64 `json:"ops_per_s"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &r); err != nil {
		return LoopRound{}, fmt.Errorf("%s: bad report %q: %w", python, out.String(), err)
	}
	if r.Count <= 0 || r.P50 <= 0 || r.Rate <= 0 || math.IsInf(r.Rate, 0) {
		return LoopRound{}, errors.New(python + ": empty report " + strings.TrimSpace(out.String()))
	}
	return LoopRound{Count: r.Count, P50: time.Duration(r.P50), P99: time.Duration(r.P99), Rate: r.Rate}, nil
}
