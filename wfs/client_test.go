package wfs_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// deadEndpoint returns a loopback TCP endpoint nothing listens on.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "tcp://" + addr
}

func newContext(t *testing.T) *zmq.Context {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = zctx.Term() })
	return zctx
}

// upperBound is a generous limit on how long a call that should time out
// after a few hundred milliseconds may take on a loaded machine.
const upperBound = 3 * time.Second

func TestDeadEndpointTimesOut(t *testing.T) {
	body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
	cases := []struct {
		name    string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)
	}{
		{"client timeout", 300 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
		{"context deadline shorter than timeout", 30 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 300*time.Millisecond)
		}},
		{"ipc to nowhere", 300 * time.Millisecond, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			zctx := newContext(t)
			ep := deadEndpoint(t)
			if tc.name == "ipc to nowhere" {
				ep = "ipc://" + t.TempDir() + "/no.sock"
			}
			c := wfs.NewClient(zctx, ep, wfs.ClientConfig{Timeout: tc.timeout})
			t.Cleanup(c.Close)
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := c.Call(ctx, body)
			took := time.Since(start)
			if !errors.Is(err, wfs.ErrTimeout) {
				t.Fatalf("got %v, want ErrTimeout", err)
			}
			if errors.Is(err, wfs.ErrRejected) || errors.Is(err, wfs.ErrProtocol) {
				t.Fatalf("%v matches the wrong kinds", err)
			}
			if took > upperBound {
				t.Fatalf("call took %v, want well under %v", took, upperBound)
			}
		})
	}
}

func TestExpiredContext(t *testing.T) {
	c := wfs.NewClient(newContext(t), deadEndpoint(t), wfs.ClientConfig{})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := c.Call(ctx, []byte("{}")); !errors.Is(err, wfs.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
}

func TestCallNoFrames(t *testing.T) {
	c := wfs.NewClient(newContext(t), deadEndpoint(t), wfs.ClientConfig{})
	t.Cleanup(c.Close)
	if _, err := c.Call(context.Background()); err == nil {
		t.Fatal("Call with no frames succeeded")
	}
}

// fakeServer runs a raw ROUTER on loopback; serve is called, on the socket's
// own goroutine, with each request's frames (after the envelope) and returns
// the reply frames, or nil to send no reply.
func fakeServer(t *testing.T, zctx *zmq.Context, serve func(n int, frames [][]byte) [][]byte) string {
	t.Helper()
	sock, err := zctx.NewSocket(zmq.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	_ = sock.SetLinger(0)
	_ = sock.SetRcvtimeo(50 * time.Millisecond)
	if err := sock.Bind("tcp://127.0.0.1:*"); err != nil {
		sock.Close()
		t.Fatal(err)
	}
	ep, err := sock.GetLastEndpoint()
	if err != nil {
		sock.Close()
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer sock.Close()
		for n := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			msg, err := sock.RecvMessageBytes(0)
			if err != nil || len(msg) < 3 {
				continue
			}
			rep := serve(n, msg[2:])
			n++
			if rep == nil {
				continue
			}
			parts := []any{msg[0], msg[1]}
			for _, r := range rep {
				parts = append(parts, r)
			}
			_, _ = sock.SendMessage(parts...)
		}
	}()
	// Registered after newContext's cleanup, so it runs before Term.
	t.Cleanup(func() { close(stop); <-done })
	return ep
}

func TestClientReplyErrors(t *testing.T) {
	cases := []struct {
		name  string
		reply [][]byte
		want  error
	}{
		{"two frames", [][]byte{[]byte(`{"data":1}`), []byte("extra")}, wfs.ErrProtocol},
		{"not json", [][]byte{[]byte("<html>")}, wfs.ErrProtocol},
		{"neither data nor error", [][]byte{[]byte(`{}`)}, wfs.ErrProtocol},
		{"rejected", [][]byte{wfs.EncodeError(wfs.KindRejected, "no")}, wfs.ErrRejected},
		{"unknown command", [][]byte{wfs.EncodeError(wfs.KindUnknown, "what")}, &wfs.Error{Kind: wfs.KindUnknown}},
		{"error without kind", [][]byte{[]byte(`{"error":{"message":"old server"}}`)}, &wfs.Error{Kind: wfs.KindInternal}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zctx := newContext(t)
			ep := fakeServer(t, zctx, func(int, [][]byte) [][]byte { return tc.reply })
			c := wfs.NewClient(zctx, ep, wfs.ClientConfig{Timeout: 2 * time.Second})
			t.Cleanup(c.Close)
			_, err := call(c, wfs.CmdPing, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestClientRecoversAfterTimeout: a timed-out REQ socket is in the wrong
// state to send again, so the client must open a fresh one.
func TestClientRecoversAfterTimeout(t *testing.T) {
	zctx := newContext(t)
	ok := wfs.EncodeReply("ok")
	ep := fakeServer(t, zctx, func(n int, _ [][]byte) [][]byte {
		if n == 0 {
			return nil // swallow the first request
		}
		return [][]byte{ok}
	})
	c := wfs.NewClient(zctx, ep, wfs.ClientConfig{Timeout: 300 * time.Millisecond})
	t.Cleanup(c.Close)
	if _, err := call(c, wfs.CmdPing, nil); !errors.Is(err, wfs.ErrTimeout) {
		t.Fatalf("first call: %v, want ErrTimeout", err)
	}
	for i := 0; i < 3; i++ {
		data, err := call(c, wfs.CmdPing, nil)
		if err != nil {
			t.Fatalf("call %d after timeout: %v", i, err)
		}
		if string(data) != `"ok"` {
			t.Fatalf("reply %s", data)
		}
	}
}

func TestHandshake(t *testing.T) {
	ts := startServer(t, wfs.ServerConfig{})
	cases := []struct {
		name     string
		endpoint string
		monitor  bool
		want     error // nil: a handshake; errAny: some error
	}{
		{"monitored", ts.srv.Endpoint(), true, nil},
		{"no monitor", ts.srv.Endpoint(), false, errAny},
		{"dead endpoint", deadEndpoint(t), true, wfs.ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := wfs.NewClient(ts.zctx, tc.endpoint, wfs.ClientConfig{Timeout: 300 * time.Millisecond, Monitor: tc.monitor})
			t.Cleanup(c.Close)
			start := time.Now()
			d, err := c.Handshake(context.Background())
			if took := time.Since(start); took > upperBound {
				t.Fatalf("Handshake took %v", took)
			}
			switch {
			case tc.want == nil:
				if err != nil {
					t.Fatal(err)
				}
				if d <= 0 {
					t.Fatalf("handshake duration %v", d)
				}
				// Cached, and the connection serves.
				if d2, err := c.Handshake(context.Background()); err != nil || d2 != d {
					t.Fatalf("second Handshake %v %v, want %v", d2, err, d)
				}
				if err := ping(c); err != nil {
					t.Fatal(err)
				}
				// A reconnect measures afresh.
				if err := c.Connect(); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Handshake(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := ping(c); err != nil {
					t.Fatal(err)
				}
			case tc.want == errAny:
				if err == nil {
					t.Fatal("no error")
				}
			default:
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func TestErrorIs(t *testing.T) {
	cases := []struct {
		err    error
		target error
		want   bool
	}{
		{&wfs.Error{Kind: wfs.KindTimeout, Msg: "x"}, wfs.ErrTimeout, true},
		{&wfs.Error{Kind: wfs.KindTimeout, Msg: "x"}, wfs.ErrRejected, false},
		{wfs.Rejectf("bad %s", "token"), wfs.ErrRejected, true},
		{fmt.Errorf("wrapped: %w", wfs.Rejectf("no")), wfs.ErrRejected, true},
		{&wfs.Error{Kind: wfs.KindProtocol, Msg: "x"}, wfs.ErrProtocol, true},
		{&wfs.Error{Kind: wfs.KindProtocol, Msg: "x"}, &wfs.Error{Kind: wfs.KindProtocol, Msg: "y"}, false},
		{errors.New("plain"), wfs.ErrTimeout, false},
	}
	for i, tc := range cases {
		if got := errors.Is(tc.err, tc.target); got != tc.want {
			t.Errorf("%d: errors.Is(%v, %v) = %v, want %v", i, tc.err, tc.target, got, tc.want)
		}
	}
	if got := wfs.Rejectf("bad %s", "token").Error(); got != "rejected: bad token" {
		t.Errorf("Rejectf message %q", got)
	}
}
