package wfs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// DefaultTimeout is the client's send and receive timeout, as Cylc's.
const DefaultTimeout = 5 * time.Second

// ClientConfig configures a Client.
type ClientConfig struct {
	// Timeout bounds each send and each receive; 0 means DefaultTimeout.
	Timeout time.Duration
	// Linger is the socket's linger on close; 0 means 100 ms.
	Linger time.Duration
	// Configure is called on each new socket before it connects (a CURVE
	// client sets its keys here).
	Configure func(*zmq.Socket) error
	// Monitor watches each new connection's handshake so that Handshake can
	// report its duration and a refused handshake fails fast.
	Monitor bool
	// MaxMsgSize is the socket's ZMQ_MAXMSGSIZE; 0 means DefaultMaxMsgSize.
	MaxMsgSize int64
}

// Client is a REQ client of a WFS. It is not safe for concurrent use; give
// each goroutine its own. A timed-out REQ socket cannot be reused, so after a
// timeout the next call opens a fresh socket.
type Client struct {
	zctx     *zmq.Context
	endpoint string
	cfg      ClientConfig
	sock     *zmq.Socket
	mon      *zmq.Socket
	dialled  time.Time
	shook    time.Duration
	seq      *atomic.Uint64
	rcvtimeo time.Duration
}

func (c *Client) sendFrames(frames [][]byte) error {
	for i, f := range frames {
		flag := zmq.SNDMORE
		if i == len(frames)-1 {
			flag = 0
		}
		if _, err := c.sock.SendBytes(f, flag); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) recvFrames() ([][]byte, error) {
	first, err := c.sock.RecvBytes(0)
	if err != nil {
		return nil, err
	}
	msg := [][]byte{first}
	for {
		more, err := c.sock.GetRcvmore()
		if err != nil || !more {
			return msg, err
		}
		b, err := c.sock.RecvBytes(0)
		if err != nil {
			return msg, err
		}
		msg = append(msg, b)
	}
}

// NewClient returns a client for endpoint in zctx; the socket is opened on
// the first call (or by Connect).
func NewClient(zctx *zmq.Context, endpoint string, cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 100 * time.Millisecond
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = DefaultMaxMsgSize
	}
	return &Client{zctx: zctx, endpoint: endpoint, cfg: cfg, seq: new(atomic.Uint64)}
}

// Endpoint is the server endpoint the client connects to.
func (c *Client) Endpoint() string { return c.endpoint }

// Connect opens a fresh socket and connects it (closing any open one).
func (c *Client) Connect() error {
	c.Close()
	sock, err := c.zctx.NewSocket(zmq.REQ)
	if err != nil {
		return fmt.Errorf("wfs client: socket: %w", err)
	}
	fail := func(err error) error { _ = sock.Close(); return err }
	for _, set := range []func() error{
		func() error { return sock.SetLinger(c.cfg.Linger) },
		func() error { return sock.SetSndtimeo(c.cfg.Timeout) },
		func() error { return sock.SetRcvtimeo(c.cfg.Timeout) },
		func() error { return sock.SetMaxmsgsize(c.cfg.MaxMsgSize) },
		func() error { return sock.SetImmediate(false) },
	} {
		if err := set(); err != nil {
			return fail(fmt.Errorf("wfs client: configure socket: %w", err))
		}
	}
	if c.cfg.Configure != nil {
		if err := c.cfg.Configure(sock); err != nil {
			return fail(fmt.Errorf("wfs client: configure socket: %w", err))
		}
	}
	if c.cfg.Monitor {
		// A random name: a Client's address can be reused by the next one
		// once it is collected, while libzmq may still hold the old
		// monitor endpoint ("address already in use").
		addr := fmt.Sprintf("inproc://wfs-mon-%016x-%d", rand.Uint64(), c.seq.Add(1))
		events := zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
			zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
		if err := sock.Monitor(addr, events); err != nil {
			return fail(fmt.Errorf("wfs client: monitor: %w", err))
		}
		mon, err := c.zctx.NewSocket(zmq.PAIR)
		if err != nil {
			return fail(fmt.Errorf("wfs client: monitor socket: %w", err))
		}
		_ = mon.SetLinger(0)
		if err := mon.Connect(addr); err != nil {
			_ = mon.Close()
			return fail(fmt.Errorf("wfs client: monitor connect: %w", err))
		}
		c.mon = mon
	}
	c.dialled = time.Now()
	if err := sock.Connect(c.endpoint); err != nil {
		c.closeMon()
		return fail(fmt.Errorf("wfs client: connect %s: %w", c.endpoint, err))
	}
	c.sock = sock
	c.shook = 0
	c.rcvtimeo = c.cfg.Timeout
	return nil
}

// Handshake waits for the connection's ZMTP handshake (NULL or CURVE) and
// returns its duration from connect. It needs Monitor; a refused handshake is
// an ErrRejected error and no handshake within the timeout is ErrTimeout.
func (c *Client) Handshake(ctx context.Context) (time.Duration, error) {
	if c.sock == nil {
		if err := c.Connect(); err != nil {
			return 0, err
		}
	}
	if c.shook > 0 {
		return c.shook, nil
	}
	if c.mon == nil {
		return 0, errors.New("wfs client: handshake timing needs ClientConfig.Monitor")
	}
	deadline := time.Now().Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	p := zmq.NewPoller()
	p.Add(c.mon, zmq.POLLIN)
	for {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			c.Close()
			return 0, &Error{Kind: KindTimeout, Msg: "no handshake with " + c.endpoint}
		}
		polled, err := p.Poll(min(left, 100*time.Millisecond))
		if err != nil {
			continue
		}
		if len(polled) == 0 {
			continue
		}
		ev, _, _, err := c.mon.RecvEvent(0)
		if err != nil {
			continue
		}
		switch ev {
		case zmq.EVENT_HANDSHAKE_SUCCEEDED:
			c.shook = time.Since(c.dialled)
			return c.shook, nil
		default:
			c.Close()
			return 0, &Error{Kind: KindRejected, Msg: "handshake refused: " + ev.String()}
		}
	}
}

// Call sends the request frames and returns the reply frame. A reply that
// carries an error is returned as an *Error; so are timeouts.
func (c *Client) Call(ctx context.Context, frames ...[]byte) ([]byte, error) {
	if len(frames) == 0 {
		return nil, errors.New("wfs client: no frames to send")
	}
	if c.sock == nil {
		if err := c.Connect(); err != nil {
			return nil, err
		}
	}
	timeout := c.cfg.Timeout
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left < timeout {
			timeout = left
		}
	}
	if timeout <= 0 {
		return nil, &Error{Kind: KindTimeout, Msg: "context deadline passed before send"}
	}
	if timeout != c.rcvtimeo {
		if err := c.sock.SetRcvtimeo(timeout); err != nil {
			return nil, fmt.Errorf("wfs client: set timeout: %w", err)
		}
		c.rcvtimeo = timeout
	}
	if err := c.sendFrames(frames); err != nil {
		c.Close()
		if isAgain(err) {
			return nil, &Error{Kind: KindTimeout, Msg: "send to " + c.endpoint + " timed out"}
		}
		return nil, fmt.Errorf("wfs client: send: %w", err)
	}
	msg, err := c.recvFrames()
	if err != nil {
		c.Close()
		if isAgain(err) {
			return nil, &Error{Kind: KindTimeout, Msg: fmt.Sprintf("no reply from %s within %s", c.endpoint, timeout)}
		}
		return nil, fmt.Errorf("wfs client: receive: %w", err)
	}
	if len(msg) != 1 {
		return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("reply has %d frames, want 1", len(msg))}
	}
	return msg[0], nil
}

func isAgain(err error) bool {
	return zmq.AsErrno(err) == zmq.Errno(11) // EAGAIN
}

func (c *Client) closeMon() {
	if c.mon != nil {
		_ = c.mon.Close()
		c.mon = nil
	}
}

// Close closes the client's socket; the client may be used again (it will
// open a fresh socket).
func (c *Client) Close() {
	if c.sock != nil {
		if c.mon != nil {
			_ = c.sock.Monitor("", 0)
		}
		_ = c.sock.Close()
		c.sock = nil
	}
	c.closeMon()
}
