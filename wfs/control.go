package wfs

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// ControlFile is the name, inside .service, of the control channel's file:
// its endpoint and the secret that makes it owner-only. The file is 0600 in
// the 0700 .service directory, so only the workflow owner (and the owner's
// load generators, reading the shared file system) can drive the WFS's job
// lifecycle.
const ControlFile = "control"

// ControlTimeout bounds each control request's send and receive.
const ControlTimeout = 10 * time.Second

// ControlHandler serves one control request: op names it (job-submit,
// job-end, stats, ...), args are its JSON arguments. An error is returned
// to the caller as the reply's error.
type ControlHandler func(ctx context.Context, op string, args json.RawMessage) (any, error)

// controlRequest is one control frame.
type controlRequest struct {
	Secret string          `json:"secret"`
	Op     string          `json:"op"`
	Args   json.RawMessage `json:"args,omitempty"`
}

// ControlServer is a WFS's owner-only control channel: the job lifecycle
// events a scheduler raises itself (job submit, job start, job end,
// credential revocation) and the server's own statistics, served over ZMQ
// so that load generators in other processes, or on other nodes, can drive
// a WFS they do not host. Requests are served one at a time, as a
// scheduler's main loop handles its own events.
type ControlServer struct {
	zctx     *zmq.Context
	sock     *zmq.Socket
	secret   string
	endpoint string
	path     string
	files    *Files
	handle   ControlHandler
}

// NewControlServer binds the control channel on listen (tcp://HOST:PORT or
// tcp://HOST:* for a free port) in a ZMQ context of its own, and writes the
// control file (endpoint and a fresh secret, 0600) into run's .service.
func NewControlServer(run *RunDir, listen string, h ControlHandler) (*ControlServer, error) {
	if listen == "" {
		listen = "tcp://127.0.0.1:*"
	}
	if err := CheckEndpoint("-control", listen); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("control: secret: %w", err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("control: zmq context: %w", err)
	}
	c := &ControlServer{zctx: zctx, secret: hex.EncodeToString(raw[:]), path: run.Service(ControlFile),
		files: run.Files, handle: h}
	if err := c.open(listen); err != nil {
		_ = zctx.Term()
		return nil, err
	}
	return c, nil
}

func (c *ControlServer) open(listen string) error {
	sock, err := c.zctx.NewSocket(zmq.ROUTER)
	if err != nil {
		return fmt.Errorf("control: socket: %w", err)
	}
	c.sock = sock
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetMaxmsgsize(DefaultMaxMsgSize) },
		func() error { return sock.SetSndtimeo(time.Second) },
		func() error { return sock.SetRcvtimeo(100 * time.Millisecond) },
	} {
		if err := set(); err != nil {
			_ = sock.Close()
			return fmt.Errorf("control: configure socket: %w", err)
		}
	}
	if err := sock.Bind(listen); err != nil {
		_ = sock.Close()
		return fmt.Errorf("control: bind %s: %w", listen, err)
	}
	ep, err := sock.GetLastEndpoint()
	if err != nil {
		_ = sock.Close()
		return fmt.Errorf("control: endpoint: %w", err)
	}
	if h, port, ok := splitTCP(ep); ok && (h == "0.0.0.0" || h == "[::]") {
		host, _ := os.Hostname()
		ep = "tcp://" + host + ":" + port
	}
	c.endpoint = ep
	body := fmt.Sprintf("endpoint=%s\nsecret=%s\n", ep, c.secret)
	if err := c.files.WriteFile(c.path, []byte(body), 0o600); err != nil {
		_ = sock.Close()
		return fmt.Errorf("control: %w", err)
	}
	return nil
}

// Endpoint is the control channel's endpoint.
func (c *ControlServer) Endpoint() string { return c.endpoint }

// Path is the control file's path.
func (c *ControlServer) Path() string { return c.path }

// Serve answers control requests until ctx ends, then closes the socket,
// removes the control file and terminates its context.
func (c *ControlServer) Serve(ctx context.Context) error {
	defer func() {
		_ = c.sock.Close()
		_ = c.files.Remove(c.path)
		_ = c.zctx.Term()
	}()
	for ctx.Err() == nil {
		msg, err := c.sock.RecvMessageBytes(0)
		if err != nil {
			if isAgain(err) || zmq.AsErrno(err) == zmq.Errno(4) {
				continue
			}
			return fmt.Errorf("control: receive: %w", err)
		}
		// A REQ peer's envelope: routing id, empty delimiter, one frame.
		if len(msg) != 3 || len(msg[1]) != 0 {
			continue
		}
		reply := c.serveOne(ctx, msg[2])
		_, _ = c.sock.SendMessageDontwait(msg[0], msg[1], reply)
	}
	return nil
}

func (c *ControlServer) serveOne(ctx context.Context, frame []byte) (reply []byte) {
	defer func() {
		if r := recover(); r != nil {
			reply = EncodeError(KindInternal, fmt.Sprintf("control: internal error: %v", r))
		}
	}()
	var req controlRequest
	if err := json.Unmarshal(frame, &req); err != nil {
		return EncodeError(KindProtocol, "control: bad request: "+err.Error())
	}
	if subtle.ConstantTimeCompare([]byte(req.Secret), []byte(c.secret)) != 1 {
		return EncodeError(KindRejected, "control: wrong secret (the control channel is the workflow owner's)")
	}
	data, err := c.handle(ctx, req.Op, req.Args)
	if err != nil {
		kind, we := replyKind(err, KindInternal)
		if we != nil {
			return EncodeError(we.Kind, we.Msg)
		}
		return EncodeError(kind, err.Error())
	}
	return EncodeReply(data)
}

// ControlClient calls a WFS's control channel. It is safe for concurrent
// use: it keeps a small pool of REQ sockets, each used by one call at a
// time.
type ControlClient struct {
	zctx     *zmq.Context
	endpoint string
	secret   string
	pool     chan *Client
}

// controlPool is how many control requests a client keeps in flight.
const controlPool = 8

// DialControl reads a control file (as ControlServer writes it) and returns
// a client for it.
func DialControl(path string) (*ControlClient, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("control file: %w", err)
	}
	kv := map[string]string{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE", path, i+1)
		}
		kv[k] = v
	}
	if kv["endpoint"] == "" || kv["secret"] == "" {
		return nil, fmt.Errorf("%s: want endpoint= and secret= lines", path)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("control: zmq context: %w", err)
	}
	c := &ControlClient{zctx: zctx, endpoint: kv["endpoint"], secret: kv["secret"], pool: make(chan *Client, controlPool)}
	for i := 0; i < controlPool; i++ {
		c.pool <- NewClient(zctx, c.endpoint, ClientConfig{Timeout: ControlTimeout, Linger: 10 * time.Millisecond})
	}
	return c, nil
}

// Call makes one control request and decodes the reply's data into out
// (when out is not nil).
func (c *ControlClient) Call(ctx context.Context, op string, args, out any) error {
	req := controlRequest{Secret: c.secret, Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return fmt.Errorf("control %s: %w", op, err)
		}
		req.Args = b
	}
	frame, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("control %s: %w", op, err)
	}
	var cl *Client
	select {
	case cl = <-c.pool:
	case <-ctx.Done():
		return fmt.Errorf("control %s: %w", op, ctx.Err())
	}
	defer func() { c.pool <- cl }()
	rep, err := cl.Call(ctx, frame)
	if err != nil {
		return fmt.Errorf("control %s: %w", op, err)
	}
	data, err := DecodeReply(rep)
	if err != nil {
		return fmt.Errorf("control %s: %w", op, err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("control %s: reply: %w", op, err)
		}
	}
	return nil
}

// Close closes the client's sockets and context.
func (c *ControlClient) Close() {
	for i := 0; i < controlPool; i++ {
		(<-c.pool).Close()
	}
	_ = c.zctx.Term()
}
