package schemes

import (
	"fmt"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// zapClient is a REQ socket speaking to a ZAP handler as libzmq would.
type zapClient struct {
	zctx *zmq.Context
	sock *zmq.Socket
	h    *zapHandler
}

func newZAPClient(tb testing.TB, allow *allowList) *zapClient {
	tb.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		tb.Fatal(err)
	}
	h, err := startZAP(zctx, allow, nil)
	if err != nil {
		tb.Fatal(err)
	}
	sock, err := zctx.NewSocket(zmq.REQ)
	if err != nil {
		tb.Fatal(err)
	}
	_ = sock.SetLinger(0)
	_ = sock.SetSndtimeo(time.Second)
	_ = sock.SetRcvtimeo(time.Second)
	if err := sock.Connect(ZAPEndpoint); err != nil {
		tb.Fatal(err)
	}
	c := &zapClient{zctx: zctx, sock: sock, h: h}
	tb.Cleanup(func() {
		_ = c.sock.Close()
		c.h.close()
		_ = c.zctx.Term()
	})
	return c
}

func (c *zapClient) ask(tb testing.TB, frames ...[]byte) [][]byte {
	tb.Helper()
	parts := make([]any, len(frames))
	for i, f := range frames {
		parts[i] = f
	}
	if _, err := c.sock.SendMessage(parts...); err != nil {
		tb.Fatal(err)
	}
	rep, err := c.sock.RecvMessageBytes(0)
	if err != nil {
		tb.Fatal(err)
	}
	return rep
}

func zapRequest(mech string, creds ...[]byte) [][]byte {
	return append([][]byte{[]byte("1.0"), []byte("7"), []byte(CurveZAPDomain), []byte("127.0.0.1"), {}, []byte(mech)}, creds...)
}

func TestCurveZAPHandler(t *testing.T) {
	allow := newAllowList()
	kp, _ := wfs.GenerateKeyPair()
	other, _ := wfs.GenerateKeyPair()
	allow.allow(kp.Public, "1/a/01")
	c := newZAPClient(t, allow)
	cases := []struct {
		name   string
		req    [][]byte
		status string
		user   string
	}{
		{"allowed", zapRequest("CURVE", kp.Public[:]), "200", "1/a/01"},
		{"unknown key", zapRequest("CURVE", other.Public[:]), "400", ""},
		{"null mechanism", zapRequest("NULL"), "400", ""},
		{"short key", zapRequest("CURVE", kp.Public[:31]), "500", ""},
		{"two keys", zapRequest("CURVE", kp.Public[:], kp.Public[:]), "500", ""},
		{"bad version", append([][]byte{[]byte("2.0")}, zapRequest("CURVE", kp.Public[:])[1:]...), "500", ""},
		{"too few frames", [][]byte{[]byte("1.0"), []byte("7")}, "500", ""},
		{"one frame", [][]byte{[]byte("junk")}, "500", ""},
	}
	for _, tc := range cases {
		rep := c.ask(t, tc.req...)
		if len(rep) != 6 || string(rep[0]) != "1.0" || string(rep[2]) != tc.status || string(rep[4]) != tc.user {
			t.Errorf("%s: reply %q, want status %s user %q", tc.name, rep, tc.status, tc.user)
		}
		if len(tc.req) > 1 && string(rep[1]) != string(tc.req[1]) {
			t.Errorf("%s: request id %q, want %q", tc.name, rep[1], tc.req[1])
		}
	}
	// Revocation takes effect at the next lookup.
	allow.revoke("1/a/01")
	if rep := c.ask(t, zapRequest("CURVE", kp.Public[:])...); string(rep[2]) != "400" {
		t.Errorf("revoked key: status %s", rep[2])
	}
	if st := c.h.stats(); st.Allowed != 1 || st.Denied != 3 || st.Malformed != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestCurveAllowList(t *testing.T) {
	a := newAllowList()
	k1, _ := wfs.GenerateKeyPair()
	k2, _ := wfs.GenerateKeyPair()
	a.allow(k1.Public, "x")
	a.allow(k2.Public, "x") // replaces x's key
	if _, ok := a.lookup(k1.Public); ok {
		t.Error("replaced key still allowed")
	}
	if n, ok := a.lookup(k2.Public); !ok || n != "x" || a.len() != 1 {
		t.Errorf("lookup %q %v len %d", n, ok, a.len())
	}
	if !a.revoke("x") || a.revoke("x") || a.allowed("x") || a.len() != 0 {
		t.Error("revoke")
	}
}

func TestCurveValidTarget(t *testing.T) {
	for s, want := range map[string]bool{"localhost": true, "hpc-1.site_a": true, "": false, ".": false, "..": false, "a/b": false, "-x": false, "a b": false, "x\x00": false} {
		if validTarget(s) != want {
			t.Errorf("validTarget(%q) = %v", s, !want)
		}
	}
}

func allowN(b *testing.B, n int) (*allowList, []wfs.CurveKey) {
	b.Helper()
	a := newAllowList()
	keys := make([]wfs.CurveKey, n)
	for i := range keys {
		// Lookup cost does not depend on the keys being real curve points.
		kp, err := wfs.GenerateKeyPair()
		if err != nil {
			b.Fatal(err)
		}
		keys[i] = kp.Public
		a.allow(kp.Public, fmt.Sprintf("1/t%d/01", i))
	}
	return a, keys
}

// BenchmarkZAPLookup measures the allow-list lookup the ZAP handler makes
// per handshake, at 100 and 100,000 allowed keys.
func BenchmarkZAPLookup(b *testing.B) {
	for _, n := range []int{100, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			a, keys := allowN(b, n)
			b.ResetTimer()
			i := 0
			for b.Loop() {
				if _, ok := a.lookup(keys[i%len(keys)]); !ok {
					b.Fatal("key missing")
				}
				i++
			}
		})
	}
}

// BenchmarkZAPRoundTrip measures a whole ZAP request through the handler's
// socket (what libzmq waits for in each CURVE handshake) at 100,000 keys.
func BenchmarkZAPRoundTrip(b *testing.B) {
	a, keys := allowN(b, 100_000)
	c := newZAPClient(b, a)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		rep := c.ask(b, zapRequest("CURVE", keys[i%len(keys)][:])...)
		if string(rep[2]) != "200" {
			b.Fatalf("status %s", rep[2])
		}
		i++
	}
}

// TestCurveZAPStopsOnTerm: a context terminated without CloseTransport (a
// server that failed to bind after ConfigureServer) still terminates.
func TestCurveZAPStopsOnTerm(t *testing.T) {
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	h, err := startZAP(zctx, newAllowList(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A second handler in the same context cannot bind.
	if _, err := startZAP(zctx, newAllowList(), nil); err == nil {
		t.Fatal("two ZAP handlers bound in one context")
	}
	done := make(chan struct{})
	go func() { _ = zctx.Term(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("context termination hangs on the ZAP handler")
	}
	h.close()
}
