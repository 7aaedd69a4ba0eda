package schemes_test

import (
	"context"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// startPublishing runs the scheme's WFS under the cylc model with a
// publisher that publishes 20 deltas a second whatever happens.
func startPublishing(t *testing.T, spec string) *harness {
	t.Helper()
	return startWith(t, spec, harnessOpts{server: func(c *wfs.ServerConfig) {
		m, err := wfs.ParseModel("cylc")
		if err != nil {
			t.Fatal(err)
		}
		c.Model, c.Publish, c.DeltaSize = m, true, 500
		c.MessageInterval, c.PublishRate, c.OperateSleep = 50*time.Millisecond, 20, -1
	}})
}

// receiveDeltas subscribes to the WFS's deltas with a socket configured by
// configure (nil for NULL) in a context of its own and returns how many it
// received within d.
func receiveDeltas(t *testing.T, h *harness, configure func(*zmq.Socket) error, d time.Duration) int {
	t.Helper()
	zctx := freshContext(t)
	sock, err := zctx.NewSocket(zmq.SUB)
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	ep, err := h.srv.Contact().PublishEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetRcvtimeo(100 * time.Millisecond) },
		func() error {
			if configure == nil {
				return nil
			}
			return configure(sock)
		},
		func() error { return sock.SetSubscribe(wfs.DeltaTopic) },
		func() error { return sock.Connect(ep) },
	} {
		if err := set(); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		msg, err := sock.RecvMessageBytes(0)
		if err != nil {
			continue
		}
		if len(msg) != 2 || string(msg[0]) != wfs.DeltaTopic || len(msg[1]) != 500 {
			t.Fatalf("delta %d frames (topic %q), want [%q, 500 bytes]", len(msg), msg[0], wfs.DeltaTopic)
		}
		at, err := wfs.DeltaSentAt(msg[1])
		if err != nil || time.Since(at) < 0 || time.Since(at) > 5*time.Second {
			t.Fatalf("delta sent at %v (%v): not a recent publish time", at, err)
		}
		n++
	}
	return n
}

func TestPublisherTransport(t *testing.T) {
	uis := func(h *harness) func(*zmq.Socket) error {
		cl, err := h.scheme.Client(context.Background(), schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindUIS, Identity: "uis0"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cl.Close() })
		return cl.Configure
	}
	wrongKey := func(h *harness) func(*zmq.Socket) error {
		pair, err := wfs.GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		part, err := schemes.NewCurveClient(h.serverKey(), pair)
		if err != nil {
			t.Fatal(err)
		}
		return part.Configure
	}
	null := func(*harness) func(*zmq.Socket) error { return nil }
	for _, tc := range []struct {
		name, spec string
		client     func(*harness) func(*zmq.Socket) error
		want       bool
	}{
		{"plain, NULL subscriber", "plain", null, true},
		{"curve, the UI server's keys", "curve", uis, true},
		{"curve+jwt, the UI server's keys", "curve+jwt", uis, true},
		{"curve, a key the workflow does not allow", "curve", wrongKey, false},
		{"curve, NULL subscriber", "curve", null, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := startPublishing(t, tc.spec)
			n := receiveDeltas(t, h, tc.client(h), 1500*time.Millisecond)
			if got := n > 0; got != tc.want {
				t.Fatalf("received %d deltas, want some: %v", n, tc.want)
			}
			st := h.srv.PublishStats()
			if st.Deltas == 0 || st.SectionCPU <= 0 {
				t.Fatalf("publish stats %+v: want deltas published and their CPU metered", st)
			}
			if tc.want && (st.Sends == 0 || st.IOCPU <= 0) {
				t.Fatalf("publish stats %+v: want sends counted per subscriber and the publisher's libzmq threads metered", st)
			}
			if !tc.want && st.Sends != 0 {
				t.Fatalf("publish stats %+v: sends to a refused subscriber", st)
			}
		})
	}
}
