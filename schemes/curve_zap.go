package schemes

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// ZAPEndpoint is where libzmq looks for a context's ZAP handler (RFC 27).
const ZAPEndpoint = "inproc://zeromq.zap.01"

// CurveZAPDomain is the ZAP domain authbench's CURVE servers use.
const CurveZAPDomain = "authbench"

// zapPoll bounds how long CloseTransport waits for the handler to notice it
// must stop.
const zapPoll = 50 * time.Millisecond

// allowList is the ZAP handler's set of allowed client public keys, each
// with the User-Id the handler gives it. Lookups are O(1) map reads. By
// default keys are added and removed one at a time (allow, revoke). In
// reload mode (Env.ReloadAllKeys) allow and revoke only record whose key is
// whose; the handler allows the set last read from the key directory
// (replace), as pyzmq's Authenticator allows the certs its configure_curve
// last loaded.
type allowList struct {
	mu     sync.RWMutex
	byKey  map[wfs.CurveKey]string
	byName map[string]wfs.CurveKey
	peak   int // largest size reached

	// reloading selects reload mode; loaded is the set last read from the
	// directory, each key with its name (see curveServer.reloadKeys).
	reloading bool
	loaded    map[wfs.CurveKey]string

	lookups, lookupNanos atomic.Int64
}

func newAllowList() *allowList {
	return &allowList{byKey: map[wfs.CurveKey]string{}, byName: map[string]wfs.CurveKey{}}
}

// allow adds key under name, replacing any key name had.
func (a *allowList) allow(key wfs.CurveKey, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.byName[name]; ok {
		delete(a.byKey, old)
	}
	if oldName, ok := a.byKey[key]; ok {
		delete(a.byName, oldName)
	}
	a.byKey[key] = name
	a.byName[name] = key
	if !a.reloading {
		a.peak = max(a.peak, len(a.byKey))
	}
}

// replace makes keys the allowed set (reload mode).
func (a *allowList) replace(keys map[wfs.CurveKey]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.loaded = keys
	a.peak = max(a.peak, len(keys))
}

// nameOf is the name key was allowed under, if any.
func (a *allowList) nameOf(key wfs.CurveKey) (string, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	name, ok := a.byKey[key]
	return name, ok
}

// peakLen is the largest number of keys the list has held.
func (a *allowList) peakLen() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.peak
}

// revoke removes name's key; it reports whether there was one.
func (a *allowList) revoke(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	key, ok := a.byName[name]
	if ok {
		delete(a.byName, name)
		delete(a.byKey, key)
	}
	return ok
}

// lookup returns the name of an allowed key.
func (a *allowList) lookup(key wfs.CurveKey) (string, bool) {
	a.mu.RLock()
	set := a.byKey
	if a.reloading {
		set = a.loaded
	}
	name, ok := set[key]
	a.mu.RUnlock()
	return name, ok
}

// allowed reports whether name still has an allowed key.
func (a *allowList) allowed(name string) bool {
	a.mu.RLock()
	_, ok := a.byName[name]
	a.mu.RUnlock()
	return ok
}

// len is the number of keys the handler allows.
func (a *allowList) len() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.reloading {
		return len(a.loaded)
	}
	return len(a.byKey)
}

func (a *allowList) clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.byKey)
	clear(a.byName)
	a.loaded = nil
}

// ZAPStats counts the ZAP handler's answers.
type ZAPStats struct {
	Allowed   int64 `json:"allowed"`
	Denied    int64 `json:"denied"`
	Malformed int64 `json:"malformed"`
}

// zapHandler is an RFC 27 ZAP handler: a REP socket bound to ZAPEndpoint in
// one server's own ZMQ context, served by one goroutine. It is written here,
// not taken from pebbe/zmq4, whose handler is package-global state and
// panics on a malformed request.
type zapHandler struct {
	allow *allowList
	// gil, when set, is taken to answer each request, as pyzmq's
	// AuthenticationThread (zmq/auth/thread.py) runs Python holding the
	// scheduler's GIL between its poll and its send, which release it.
	gil  *wfs.GIL
	stop chan struct{}
	done chan struct{}
	once sync.Once

	allowed, denied, malformed atomic.Int64
}

// startZAP binds the handler in zctx and starts serving. The socket is
// opened, used and closed by the serving goroutine alone.
func startZAP(zctx *zmq.Context, allow *allowList, gil *wfs.GIL) (*zapHandler, error) {
	h := &zapHandler{allow: allow, gil: gil, stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan error, 1)
	go h.serve(zctx, ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return h, nil
}

func (h *zapHandler) open(zctx *zmq.Context) (*zmq.Socket, error) {
	sock, err := zctx.NewSocket(zmq.REP)
	if err != nil {
		return nil, fmt.Errorf("zap: socket: %w", err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetSndtimeo(time.Second) },
		func() error { return sock.SetRcvtimeo(time.Second) },
		func() error { return sock.Bind(ZAPEndpoint) },
	} {
		if err := set(); err != nil {
			_ = sock.Close()
			return nil, fmt.Errorf("zap: bind %s: %w", ZAPEndpoint, err)
		}
	}
	return sock, nil
}

func (h *zapHandler) serve(zctx *zmq.Context, ready chan<- error) {
	defer close(h.done)
	sock, err := h.open(zctx)
	ready <- err
	if err != nil {
		return
	}
	defer sock.Close()
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		polled, err := poller.Poll(zapPoll)
		if terminated(err) {
			return
		}
		if err != nil || len(polled) == 0 {
			continue
		}
		h.gil.Take(wfs.GILZAP)
		req, err := sock.RecvMessageBytes(zmq.DONTWAIT)
		if terminated(err) {
			h.gil.Drop(wfs.GILZAP)
			return
		}
		if err != nil {
			h.gil.Drop(wfs.GILZAP)
			continue
		}
		reply := h.answer(req)
		if h.gil != nil {
			h.gil.Burn(wfs.GILZAP, wfs.CylcZAPCPU)
		}
		h.gil.Drop(wfs.GILZAP)
		parts := make([]any, len(reply))
		for i, p := range reply {
			parts[i] = p
		}
		_, _ = sock.SendMessage(parts...)
	}
}

// terminated reports whether err says the context is being terminated: a
// server that fails after ConfigureServer may terminate its context without
// CloseTransport, and the handler must then close its socket so that the
// termination can finish.
func terminated(err error) bool {
	return err != nil && zmq.AsErrno(err) == zmq.ETERM
}

// answer turns one ZAP request into its reply. Request frames (RFC 27):
// version, request id, domain, address, routing id, mechanism, credentials.
// Reply: version, request id, status code, status text, user id, metadata.
func (h *zapHandler) answer(req [][]byte) [][]byte {
	reply := func(id []byte, code, text, user string) [][]byte {
		return [][]byte{[]byte("1.0"), id, []byte(code), []byte(text), []byte(user), {}}
	}
	var id []byte
	if len(req) > 1 {
		id = req[1]
	}
	if len(req) < 6 || string(req[0]) != "1.0" {
		h.malformed.Add(1)
		return reply(id, "500", "malformed ZAP request", "")
	}
	if string(req[5]) != "CURVE" {
		h.denied.Add(1)
		return reply(id, "400", "mechanism "+string(req[5])+" not allowed", "")
	}
	if len(req) != 7 || len(req[6]) != wfs.CurveKeySize {
		h.malformed.Add(1)
		return reply(id, "500", "malformed CURVE credentials", "")
	}
	var key wfs.CurveKey
	copy(key[:], req[6])
	t0 := time.Now()
	name, ok := h.allow.lookup(key)
	h.allow.lookups.Add(1)
	h.allow.lookupNanos.Add(int64(time.Since(t0)))
	if !ok {
		h.denied.Add(1)
		return reply(id, "400", "unknown client key", "")
	}
	h.allowed.Add(1)
	return reply(id, "200", "OK", name)
}

func (h *zapHandler) stats() ZAPStats {
	return ZAPStats{Allowed: h.allowed.Load(), Denied: h.denied.Load(), Malformed: h.malformed.Load()}
}

// close stops the handler and waits until its socket is closed, so that the
// context can terminate.
func (h *zapHandler) close() {
	h.once.Do(func() { close(h.stop) })
	<-h.done
}
