package cylcpeer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// DefaultTimeout is a Cylc client's request timeout
// (cylc/flow/network/client.py, WorkflowRuntimeClientBase.DEFAULT_TIMEOUT).
const DefaultTimeout = 5 * time.Second

// DefaultLinger is a Cylc client's socket linger: client.py sets
// ZMQ_LINGER to int(DEFAULT_TIMEOUT), which ZeroMQ reads as milliseconds.
const DefaultLinger = 5 * time.Millisecond

// ErrorKind classifies a failed request.
type ErrorKind string

// Error kinds, each with its own cause and remedy.
const (
	// KindStale: the contact file names a scheduler on this host whose
	// pid no longer runs.
	KindStale ErrorKind = "stale"
	// KindUnreachable: no TCP connection to the contact file's host and
	// port (refused, or nothing answered) within the timeout.
	KindUnreachable ErrorKind = "unreachable"
	// KindHandshake: a TCP connection, but the CURVE handshake was
	// refused or dropped: keys that are not this run's.
	KindHandshake ErrorKind = "handshake"
	// KindTimeout: connected and authenticated, but no reply within the
	// timeout.
	KindTimeout ErrorKind = "timeout"
	// KindCylc: the scheduler replied with an error
	// ({"error": {"message": ...}}, replier.py and server.py), or a
	// mutation's result said it failed.
	KindCylc ErrorKind = "cylc_error"
	// KindProtocol: a reply that is not what Cylc sends.
	KindProtocol ErrorKind = "protocol"
)

// Error is a failed request: its kind and a one-line message.
type Error struct {
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// KindOf is err's kind ("" for nil, "other" for an error not of this
// package).
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return "other"
}

// Config configures a Client.
type Config struct {
	// Timeout bounds each request, connection and handshake included
	// (DefaultTimeout if 0).
	Timeout time.Duration
	// Linger is the socket's linger on close (DefaultLinger if 0).
	Linger time.Duration
	// Reuse keeps one connection for every request; by default each
	// request has a fresh connection and handshake, as each `cylc`
	// command and each `cylc message` is a process of its own.
	Reuse bool
}

// Client sends Cylc's own requests to one scheduler over a REQ socket with
// CURVE. It is not safe for concurrent use: give each worker its own. Each
// Client has its own ZeroMQ context, so a failed handshake never disturbs
// another's.
type Client struct {
	contact  *Contact
	keys     Keys
	cfg      Config
	host     string
	zctx     *zmq.Context
	sock     *zmq.Socket
	mon      *zmq.Socket
	shook    bool
	requests int
}

// NewClient returns a client of the scheduler c names, presenting keys.
// It connects on the first request.
func NewClient(c *Contact, keys Keys, cfg Config) (*Client, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Linger <= 0 {
		cfg.Linger = DefaultLinger
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("cylc client: %w", err)
	}
	host, _ := os.Hostname()
	return &Client{contact: c, keys: keys, cfg: cfg, host: host, zctx: zctx}, nil
}

// Close closes the client's socket and context.
func (cl *Client) Close() {
	cl.closeSocket()
	if cl.zctx != nil {
		_ = cl.zctx.Term()
		cl.zctx = nil
	}
}

func (cl *Client) closeSocket() {
	if cl.sock != nil {
		_ = cl.sock.Monitor("", 0)
		_ = cl.sock.Close()
		cl.sock = nil
	}
	if cl.mon != nil {
		_ = cl.mon.Close()
		cl.mon = nil
	}
	cl.shook = false
}

// monitorEvents are the socket events a request watches: TCP connection
// (or its failure) and the CURVE handshake.
const monitorEvents = zmq.EVENT_CONNECTED | zmq.EVENT_CONNECT_RETRIED | zmq.EVENT_DISCONNECTED |
	zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
	zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL

func (cl *Client) connect() error {
	if cl.zctx == nil {
		return errors.New("cylc client: closed")
	}
	sock, err := cl.zctx.NewSocket(zmq.REQ)
	if err != nil {
		return fmt.Errorf("cylc client: socket: %w", err)
	}
	fail := func(err error) error {
		_ = sock.Close()
		return fmt.Errorf("cylc client: %w", err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetLinger(cl.cfg.Linger) },
		func() error { return sock.SetSndtimeo(cl.cfg.Timeout) },
		func() error { return sock.SetRcvtimeo(cl.cfg.Timeout) },
		// Replies are small; a data-store dump is not asked for.
		func() error { return sock.SetMaxmsgsize(16 << 20) },
		func() error {
			return sock.ClientAuthCurve(cl.keys.Server.Z85(), cl.keys.Client.Public.Z85(), cl.keys.Client.Secret.Z85())
		},
	} {
		if err := set(); err != nil {
			return fail(err)
		}
	}
	addr := fmt.Sprintf("inproc://cylcpeer-mon-%016x", rand.Uint64())
	if err := sock.Monitor(addr, monitorEvents); err != nil {
		return fail(err)
	}
	mon, err := cl.zctx.NewSocket(zmq.PAIR)
	if err != nil {
		return fail(err)
	}
	_ = mon.SetLinger(0)
	if err := mon.Connect(addr); err != nil {
		_ = mon.Close()
		return fail(err)
	}
	if err := sock.Connect(cl.contact.Endpoint()); err != nil {
		_ = sock.Monitor("", 0)
		_ = mon.Close()
		return fail(fmt.Errorf("connect %s: %w", cl.contact.Endpoint(), err))
	}
	cl.sock, cl.mon, cl.shook = sock, mon, false
	return nil
}

// request is the envelope of cylc/flow/network/client.py's async_request:
// the endpoint's name, its arguments, and the client's header (program,
// host, comms method).
type request struct {
	Command string         `json:"command"`
	Args    map[string]any `json:"args"`
	Meta    requestMeta    `json:"meta"`
}

type requestMeta struct {
	Prog        string `json:"prog"`
	Host        string `json:"host"`
	CommsMethod string `json:"comms_method"`
}

// reply is what replier.py sends: {"data": ...} or {"error": {"message":
// ...}}, each with the scheduler's cylc_version.
type reply struct {
	Data    json.RawMessage `json:"data"`
	Error   json.RawMessage `json:"error"`
	Version string          `json:"cylc_version"`
}

// Call sends one request to the scheduler's endpoint command (Cylc 8
// exposes graphql, api and the pb_* data-store dumps) with args, as the
// program prog, and returns the reply's data.
func (cl *Client) Call(ctx context.Context, prog, command string, args map[string]any) (json.RawMessage, error) {
	if err := cl.contact.Alive(); err != nil {
		return nil, err
	}
	if !cl.cfg.Reuse || cl.sock == nil {
		cl.closeSocket()
		if err := cl.connect(); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(request{Command: command, Args: args,
		Meta: requestMeta{Prog: prog, Host: cl.host, CommsMethod: "zmq"}})
	if err != nil {
		return nil, fmt.Errorf("cylc client: encode: %w", err)
	}
	raw, err := cl.roundTrip(ctx, b)
	if err != nil || !cl.cfg.Reuse {
		cl.closeSocket()
	}
	if err != nil {
		return nil, err
	}
	cl.requests++
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s: reply is not JSON: %v", cl.contact.Endpoint(), err)}
	}
	if len(r.Error) > 0 && string(r.Error) != "null" {
		return nil, &Error{Kind: KindCylc, Msg: "cylc-flow " + r.Version + " replied: " + errorMessage(r.Error)}
	}
	if len(r.Data) == 0 {
		return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s: reply has neither data nor error: %.200s", cl.contact.Endpoint(), raw)}
	}
	return r.Data, nil
}

// errorMessage is an error reply's message: {"message": ...} as
// replier.py and server.py send it, or whatever else came.
func errorMessage(raw json.RawMessage) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &m) == nil && m.Message != "" {
		return oneLine(m.Message)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return oneLine(s)
	}
	return oneLine(string(raw))
}

func oneLine(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// roundTrip sends b and waits for the reply, watching the connection and
// its handshake so that each way of failing is told apart within the
// timeout: nothing listening, keys refused, or no reply.
func (cl *Client) roundTrip(ctx context.Context, b []byte) ([]byte, error) {
	timeout := cl.cfg.Timeout
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ep := cl.contact.Endpoint()
	if _, err := cl.sock.SendBytes(b, zmq.DONTWAIT); err != nil {
		return nil, &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("%s: cannot queue the request: %v", ep, err)}
	}
	p := zmq.NewPoller()
	p.Add(cl.sock, zmq.POLLIN)
	p.Add(cl.mon, zmq.POLLIN)
	var connected, retried bool
	for {
		left := time.Until(deadline)
		if ctx.Err() != nil {
			return nil, &Error{Kind: KindTimeout, Msg: fmt.Sprintf("%s: %v", ep, ctx.Err())}
		}
		if left <= 0 {
			switch {
			case cl.shook:
				return nil, &Error{Kind: KindTimeout, Msg: fmt.Sprintf("%s: no reply within %s (the scheduler is busy or hung)", ep, timeout)}
			case connected:
				return nil, &Error{Kind: KindHandshake, Msg: fmt.Sprintf("%s: no CURVE handshake within %s: the scheduler does not answer these keys (is %s this run's?)", ep, timeout, cl.contact.ServiceDir)}
			case retried:
				return nil, &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("%s: connection refused for %s: nothing listens on port %d (the scheduler has stopped?)", ep, timeout, cl.contact.Port)}
			default:
				return nil, &Error{Kind: KindUnreachable, Msg: fmt.Sprintf("%s: no connection within %s", ep, timeout)}
			}
		}
		polled, err := p.Poll(min(left, 100*time.Millisecond))
		if err != nil {
			continue // EINTR
		}
		for _, pi := range polled {
			if pi.Socket == cl.mon {
				ev, _, _, err := cl.mon.RecvEvent(zmq.DONTWAIT)
				if err != nil {
					continue
				}
				switch ev {
				case zmq.EVENT_CONNECTED:
					connected = true
				case zmq.EVENT_CONNECT_RETRIED:
					retried = true
				case zmq.EVENT_HANDSHAKE_SUCCEEDED:
					cl.shook = true
				case zmq.EVENT_HANDSHAKE_FAILED_AUTH:
					return nil, &Error{Kind: KindHandshake, Msg: fmt.Sprintf("%s: the scheduler refused this client's CURVE key (%s is not in its client_public_keys)", ep, ClientSecretKeyFile)}
				case zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
					return nil, &Error{Kind: KindHandshake, Msg: fmt.Sprintf("%s: CURVE handshake failed (%s): the keys in %s are not the scheduler's", ep, ev, cl.contact.ServiceDir)}
				case zmq.EVENT_DISCONNECTED:
					if !cl.shook {
						return nil, &Error{Kind: KindHandshake, Msg: fmt.Sprintf("%s: the scheduler dropped the connection during the CURVE handshake: %s is not its public key", ep, ServerPublicKeyFile)}
					}
				}
				continue
			}
			msg, err := cl.sock.RecvMessageBytes(zmq.DONTWAIT)
			if err != nil {
				continue
			}
			if len(msg) != 1 {
				return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("%s: reply has %d frames, want 1", ep, len(msg))}
			}
			return msg[0], nil
		}
	}
}
