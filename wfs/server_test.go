package wfs_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// waitLimit bounds how long a test waits for something that should happen
// promptly (Serve returning, say). It is a hang guard, not a timing assertion.
const waitLimit = 10 * time.Second

// testServer is a real WFS on loopback plus a client ZMQ context.
type testServer struct {
	t      *testing.T
	srv    *wfs.Server
	run    *wfs.RunDir
	zctx   *zmq.Context
	cancel context.CancelFunc
	done   chan error
}

// startServer starts a WFS with cfg (Run defaults to a fresh run directory
// with a syncing file layer) and stops it when the test ends.
func startServer(t *testing.T, cfg wfs.ServerConfig) *testServer {
	t.Helper()
	if cfg.Run == nil {
		cfg.Run = newRun(t, true)
	}
	if cfg.Workflow == "" {
		cfg.Workflow = "wf"
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	// Registered first so that it runs last, after every client has closed.
	t.Cleanup(func() { _ = zctx.Term() })
	srv, err := wfs.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{t: t, srv: srv, run: cfg.Run, zctx: zctx, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		if err := ts.stop(); err != nil {
			t.Error(err)
		}
	})
	return ts
}

// stop cancels Serve and waits for it; it may be called more than once.
func (ts *testServer) stop() error {
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok {
			close(ts.done)
		}
		return err
	case <-time.After(waitLimit):
		return errors.New("Serve did not return after its context was cancelled")
	}
}

// client returns a fresh client of the server, closed when the test ends.
func (ts *testServer) client(timeout time.Duration) *wfs.Client {
	c := wfs.NewClient(ts.zctx, ts.srv.Endpoint(), wfs.ClientConfig{Timeout: timeout})
	ts.t.Cleanup(c.Close)
	return c
}

func newRun(t testing.TB, sync bool) *wfs.RunDir {
	t.Helper()
	run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(sync))
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// call runs one command on c and decodes the reply.
func call(c *wfs.Client, cmd string, args any) (json.RawMessage, error) {
	body, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "test", Host: "localhost", CommsMethod: "zmq"})
	if err != nil {
		return nil, err
	}
	rep, err := c.Call(context.Background(), body)
	if err != nil {
		return nil, err
	}
	return wfs.DecodeReply(rep)
}

func ping(c *wfs.Client) error {
	data, err := call(c, wfs.CmdPing, nil)
	if err != nil {
		return err
	}
	var got struct {
		Pong     bool   `json:"pong"`
		Workflow string `json:"workflow"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("ping reply %s: %v", data, err)
	}
	if !got.Pong {
		return fmt.Errorf("ping reply %s: no pong", data)
	}
	return nil
}

var serverModes = []struct {
	name    string
	workers int
}{
	{"inline", 0},
	{"pool", 4},
}

func TestPingRoundTrip(t *testing.T) {
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers, Workflow: "my/flow"})
			c := ts.client(2 * time.Second)
			data, err := call(c, wfs.CmdPing, nil)
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if got["pong"] != true || got["workflow"] != "my/flow" {
				t.Fatalf("ping reply %s", data)
			}
			// The same connection serves a second request.
			if err := ping(c); err != nil {
				t.Fatalf("second ping: %v", err)
			}
			if st := ts.srv.Stats(); st.Requests != 2 || st.OK != 2 {
				t.Fatalf("stats %+v, want 2 requests, 2 ok", st)
			}
		})
	}
}

var errUnknown = &wfs.Error{Kind: wfs.KindUnknown}

func TestCommands(t *testing.T) {
	job := wfs.JobID{Cycle: "20250101T00", Task: "foo", Submit: 1}
	cases := []struct {
		name  string
		cmd   string
		args  any
		want  error                           // nil: a data reply
		check func(t *testing.T, data []byte) // optional
	}{
		{name: "ping", cmd: wfs.CmdPing},
		{name: "trigger", cmd: wfs.CmdTrigger, args: map[string]any{"tasks": []string{"1/foo"}}, check: queued(wfs.CmdTrigger)},
		{name: "hold", cmd: wfs.CmdHold, check: queued(wfs.CmdHold)},
		{name: "release", cmd: wfs.CmdRelease, check: queued(wfs.CmdRelease)},
		{name: "stop", cmd: wfs.CmdStop, check: queued(wfs.CmdStop)},
		{name: "data 0", cmd: wfs.CmdData, args: wfs.DataArgs{Size: 0}, check: dataOf(0)},
		{name: "data no args", cmd: wfs.CmdData, check: dataOf(0)},
		{name: "data 1", cmd: wfs.CmdData, args: wfs.DataArgs{Size: 1}, check: dataOf(1)},
		{name: "data 100k", cmd: wfs.CmdData, args: wfs.DataArgs{Size: 100_000}, check: dataOf(100_000)},
		{name: "data negative", cmd: wfs.CmdData, args: wfs.DataArgs{Size: -1}, want: wfs.ErrProtocol},
		{name: "data too big", cmd: wfs.CmdData, args: wfs.DataArgs{Size: wfs.DefaultMaxMsgSize + 1}, want: wfs.ErrProtocol},
		{name: "data bad args", cmd: wfs.CmdData, args: map[string]any{"size": "big"}, want: wfs.ErrProtocol},
		{name: "message", cmd: wfs.CmdMessage, args: wfs.MessageArgs{
			TaskJob: job.String(), EventTime: "2025-01-01T00:00:00Z",
			Messages: [][2]string{{"INFO", "started"}, {"WARNING", "two\nlines"}},
		}, check: func(t *testing.T, data []byte) {
			if string(data) != `{"received":2}` {
				t.Errorf("reply %s", data)
			}
		}},
		{name: "message no such job", cmd: wfs.CmdMessage, args: wfs.MessageArgs{
			TaskJob: "1/nojob/01", EventTime: "t", Messages: [][2]string{{"INFO", "started"}},
		}, want: wfs.ErrProtocol},
		{name: "message bad job id", cmd: wfs.CmdMessage, args: wfs.MessageArgs{
			TaskJob: "../../01", EventTime: "t", Messages: [][2]string{{"INFO", "started"}},
		}, want: wfs.ErrProtocol},
		{name: "message no messages", cmd: wfs.CmdMessage, args: wfs.MessageArgs{
			TaskJob: job.String(), EventTime: "t",
		}, want: wfs.ErrProtocol},
		{name: "message no args", cmd: wfs.CmdMessage, want: wfs.ErrProtocol},
		{name: "unknown", cmd: "reload-everything", want: errUnknown},
	}
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers})
			if err := ts.run.MakeJobDir(job); err != nil {
				t.Fatal(err)
			}
			c := ts.client(2 * time.Second)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					data, err := call(c, tc.cmd, tc.args)
					if tc.want != nil {
						if !errors.Is(err, tc.want) {
							t.Fatalf("got %v (data %.40s), want %v", err, data, tc.want)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if tc.check != nil {
						tc.check(t, data)
					}
				})
			}
			// The message case appended one line per message, newlines flattened.
			got, err := os.ReadFile(ts.run.JobStatusPath(job))
			if err != nil {
				t.Fatal(err)
			}
			want := "CYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|started\n" +
				"CYLC_MESSAGE=2025-01-01T00:00:00Z|WARNING|two lines\n"
			if string(got) != want {
				t.Fatalf("job.status:\n%s\nwant:\n%s", got, want)
			}
			st := ts.srv.Stats()
			if st.Unknown != 1 || st.Requests != int64(len(cases)) {
				t.Fatalf("stats %+v: want 1 unknown of %d requests", st, len(cases))
			}
		})
	}
}

func TestMessageAppends(t *testing.T) {
	ts := startServer(t, wfs.ServerConfig{})
	id, err := wfs.ParseJobID("1/bar/02")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.run.MakeJobDir(id); err != nil {
		t.Fatal(err)
	}
	c := ts.client(2 * time.Second)
	var want strings.Builder
	for i, ev := range []string{"started", "custom", "succeeded"} {
		tm := fmt.Sprintf("2025-01-01T00:00:0%dZ", i)
		if _, err := call(c, wfs.CmdMessage, wfs.MessageArgs{TaskJob: id.String(), EventTime: tm, Messages: [][2]string{{"INFO", ev}}}); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&want, "CYLC_MESSAGE=%s|INFO|%s\n", tm, ev)
	}
	got, err := os.ReadFile(ts.run.JobStatusPath(id))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want.String() {
		t.Fatalf("job.status:\n%s\nwant:\n%s", got, want.String())
	}
	st := ts.run.Files.Stats()
	if st.Appended != 3 || st.Fsyncs < 3 {
		t.Fatalf("file stats %+v: want 3 appends, each fsynced", st)
	}
	fi, err := os.Stat(ts.run.JobStatusPath(id))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("job.status mode %04o, want 0600", fi.Mode().Perm())
	}
}

// TestJobStatusInjection: a job message cannot forge job.status lines.
// Line breaks or the field separator in the event time or severity are
// refused; line breaks in the text are flattened.
func TestJobStatusInjection(t *testing.T) {
	ts := startServer(t, wfs.ServerConfig{})
	id, err := wfs.ParseJobID("1/inj/01")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.run.MakeJobDir(id); err != nil {
		t.Fatal(err)
	}
	c := ts.client(2 * time.Second)
	tests := []struct {
		name, time, sev, text string
		wantErr               bool
	}{
		{"newline in event time", "2025-01-01T00:00:00Z\nCYLC_JOB_TOKEN=forged", "INFO", "started", true},
		{"carriage return in event time", "2025-01-01T00:00:00Z\rx", "INFO", "started", true},
		{"newline in severity", "2025-01-01T00:00:00Z", "INFO\nCYLC_MESSAGE=2025|INFO|succeeded", "started", true},
		{"separator in severity", "2025-01-01T00:00:00Z", "INFO|x", "started", true},
		{"newlines in text flattened", "2025-01-01T00:00:01Z", "INFO", "a\r\nCYLC_JOB_TOKEN=forged\nb", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := call(c, wfs.CmdMessage, wfs.MessageArgs{TaskJob: id.String(), EventTime: tc.time, Messages: [][2]string{{tc.sev, tc.text}}})
			if tc.wantErr != (err != nil) {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, wfs.ErrProtocol) {
				t.Fatalf("err %v, want a protocol error", err)
			}
		})
	}
	got, err := os.ReadFile(ts.run.JobStatusPath(id))
	if err != nil {
		t.Fatal(err)
	}
	want := "CYLC_MESSAGE=2025-01-01T00:00:01Z|INFO|a CYLC_JOB_TOKEN=forged b\n"
	if string(got) != want {
		t.Fatalf("job.status %q, want one line %q", got, want)
	}
}

func queued(cmd string) func(*testing.T, []byte) {
	return func(t *testing.T, data []byte) {
		var got struct {
			Command string `json:"command"`
			Queued  bool   `json:"queued"`
		}
		if err := json.Unmarshal(data, &got); err != nil || got.Command != cmd || !got.Queued {
			t.Errorf("reply %s (%v), want %s queued", data, err, cmd)
		}
	}
}

func dataOf(n int) func(*testing.T, []byte) {
	return func(t *testing.T, data []byte) {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("data reply: %v", err)
		}
		if len(s) != n {
			t.Fatalf("data reply of %d bytes, want %d", len(s), n)
		}
	}
}

// TestDataAtLimit asks for the largest reply the server allows; a client with
// the same message-size limit must receive it (or be refused), not time out.
func TestDataAtLimit(t *testing.T) {
	const limit = 64 << 10
	ts := startServer(t, wfs.ServerConfig{MaxMsgSize: limit})
	c := wfs.NewClient(ts.zctx, ts.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, MaxMsgSize: limit})
	t.Cleanup(c.Close)
	if _, err := call(c, wfs.CmdData, wfs.DataArgs{Size: limit - 100}); err != nil {
		t.Fatalf("data size %d with MaxMsgSize %d: %v", limit-100, limit, err)
	}
	for _, size := range []int{limit - 11, limit - 10, limit - 1, limit} {
		_, err := call(c, wfs.CmdData, wfs.DataArgs{Size: size})
		if errors.Is(err, wfs.ErrTimeout) {
			t.Fatalf("data size %d with MaxMsgSize %d: %v; the server allowed a reply the client cannot receive", size, limit, err)
		}
		if err != nil && !errors.Is(err, wfs.ErrProtocol) {
			t.Fatalf("data size %d: %v", size, err)
		}
	}
	if err := ping(c); err != nil {
		t.Fatal(err)
	}
}

// TestBadRequests sends well-framed requests the server must refuse with an
// error reply, then checks it still serves.
func TestBadRequests(t *testing.T) {
	pingBody, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
	cases := []struct {
		name   string
		frames [][]byte
		want   error
	}{
		{"not json", [][]byte{[]byte("\x00\xffnot json")}, wfs.ErrProtocol},
		{"json array", [][]byte{[]byte("[1,2,3]")}, wfs.ErrProtocol},
		{"no command", [][]byte{[]byte(`{"args":{}}`)}, wfs.ErrProtocol},
		{"empty frame", [][]byte{{}}, wfs.ErrProtocol},
		{"extra frame", [][]byte{pingBody, []byte("credential")}, wfs.ErrProtocol},
	}
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers})
			c := ts.client(2 * time.Second)
			for _, tc := range cases {
				rep, err := c.Call(context.Background(), tc.frames...)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				if _, err := wfs.DecodeReply(rep); !errors.Is(err, tc.want) {
					t.Fatalf("%s: got %v, want %v", tc.name, err, tc.want)
				}
			}
			if err := ping(c); err != nil {
				t.Fatal(err)
			}
			if st := ts.srv.Stats(); st.Protocol != int64(len(cases)) {
				t.Fatalf("stats %+v: want %d protocol errors", st, len(cases))
			}
		})
	}
}

// TestGarbage sends what a confused or hostile peer might, then checks that
// the server still answers a valid client.
func TestGarbage(t *testing.T) {
	const maxMsg = 4096
	cases := []struct {
		name string
		send func(t *testing.T, ts *testServer)
	}{
		{"raw tcp bytes", func(t *testing.T, ts *testServer) {
			addr := strings.TrimPrefix(ts.srv.Endpoint(), "tcp://")
			for _, n := range []int{1, 10, 64, 4096} {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				b := make([]byte, n)
				_, _ = rand.Read(b)
				_, _ = conn.Write(b)
				_ = conn.Close()
			}
		}},
		{"zmtp greeting then garbage", func(t *testing.T, ts *testServer) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(ts.srv.Endpoint(), "tcp://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A ZMTP 3.0 signature and version, then nonsense.
			greeting := append([]byte{0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0}, []byte("NOPE")...)
			_, _ = conn.Write(greeting)
			b := make([]byte, 256)
			_, _ = rand.Read(b)
			_, _ = conn.Write(b)
		}},
		{"dealer without delimiter", func(t *testing.T, ts *testServer) {
			d := dealer(t, ts)
			defer d.Close()
			before := ts.srv.Stats().Malformed
			for _, msg := range [][]any{
				{"hello"},            // no delimiter, one frame
				{"a", "b"},           // no delimiter, two frames
				{"x", "", "y"},       // delimiter in the wrong place
				{""},                 // delimiter and nothing else
				{[]byte{0, 1, 2, 3}}, // binary
			} {
				if _, err := d.SendMessage(msg...); err != nil {
					t.Fatal(err)
				}
			}
			// A valid envelope on the same pipe: once it is answered the
			// malformed ones before it have been seen.
			body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
			if _, err := d.SendMessage("", body); err != nil {
				t.Fatal(err)
			}
			rep, err := d.RecvMessageBytes(0)
			if err != nil {
				t.Fatalf("dealer reply: %v", err)
			}
			if len(rep) != 2 || len(rep[0]) != 0 {
				t.Fatalf("dealer reply %q: want delimiter and one frame", rep)
			}
			if _, err := wfs.DecodeReply(rep[1]); err != nil {
				t.Fatal(err)
			}
			if got := ts.srv.Stats().Malformed - before; got != 5 {
				t.Fatalf("server counted %d malformed envelopes, want 5", got)
			}
		}},
		{"frame bigger than MaxMsgSize", func(t *testing.T, ts *testServer) {
			c := ts.client(300 * time.Millisecond)
			_, err := c.Call(context.Background(), make([]byte, 4*maxMsg))
			if !errors.Is(err, wfs.ErrTimeout) {
				t.Fatalf("oversized request: got %v, want a timeout (the server drops the peer)", err)
			}
			d := dealer(t, ts)
			defer d.Close()
			_, _ = d.SendMessage("", make([]byte, maxMsg+1))
		}},
	}
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers, MaxMsgSize: maxMsg})
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.send(t, ts)
					if err := ping(ts.client(2 * time.Second)); err != nil {
						t.Fatalf("valid client after %s: %v", tc.name, err)
					}
				})
			}
		})
	}
}

func dealer(t *testing.T, ts *testServer) *zmq.Socket {
	t.Helper()
	d, err := ts.zctx.NewSocket(zmq.DEALER)
	if err != nil {
		t.Fatal(err)
	}
	_ = d.SetLinger(0)
	_ = d.SetRcvtimeo(2 * time.Second)
	_ = d.SetSndtimeo(2 * time.Second)
	if err := d.Connect(ts.srv.Endpoint()); err != nil {
		d.Close()
		t.Fatal(err)
	}
	return d
}

func TestConcurrentClients(t *testing.T) {
	const clients, calls = 20, 20
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers})
			var wg sync.WaitGroup
			errs := make(chan error, clients)
			for i := 0; i < clients; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := wfs.NewClient(ts.zctx, ts.srv.Endpoint(), wfs.ClientConfig{Timeout: 5 * time.Second})
					defer c.Close()
					for j := 0; j < calls; j++ {
						cmd, args := wfs.CmdPing, any(nil)
						if j%2 == 1 {
							cmd, args = wfs.CmdData, wfs.DataArgs{Size: 100 * i}
						}
						if _, err := call(c, cmd, args); err != nil {
							errs <- fmt.Errorf("client %d call %d: %w", i, j, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if st := ts.srv.Stats(); st.OK != clients*calls {
				t.Fatalf("stats %+v: want %d ok", st, clients*calls)
			}
		})
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	for _, m := range serverModes {
		t.Run(m.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: m.workers})
			path := ts.run.ContactPath()
			c, err := wfs.ReadContact(path)
			if err != nil {
				t.Fatal(err)
			}
			ep, err := c.Endpoint()
			if err != nil || ep != ts.srv.Endpoint() {
				t.Fatalf("contact endpoint %q (%v), server %q", ep, err, ts.srv.Endpoint())
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("contact file: %v %v", fi, err)
			}
			if err := ping(ts.client(2 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := ts.stop(); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("contact file after shutdown: %v", err)
			}
			if st := ts.run.Files.Stats(); st.Live != 0 || st.Created != 1 || st.Deleted != 1 {
				t.Fatalf("file stats after shutdown %+v: want the contact file created and deleted", st)
			}
			// Nothing listens any more.
			c2 := ts.client(200 * time.Millisecond)
			if err := ping(c2); !errors.Is(err, wfs.ErrTimeout) {
				t.Fatalf("ping after shutdown: %v, want a timeout", err)
			}
		})
	}
}

func TestCloseWithoutServe(t *testing.T) {
	run := newRun(t, false)
	srv, err := wfs.NewServer(wfs.ServerConfig{Run: run})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(run.ContactPath()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	srv.Close() // idempotent
	if _, err := os.Stat(run.ContactPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("contact file after Close: %v", err)
	}
}

func TestListen(t *testing.T) {
	cases := []struct {
		name    string
		listen  func(t *testing.T) string
		wantErr string
		check   func(t *testing.T, srv *wfs.Server)
	}{
		{name: "random port", listen: func(*testing.T) string { return "" }, check: func(t *testing.T, srv *wfs.Server) {
			c := srv.Contact()
			var port int
			if _, err := fmt.Sscan(c[wfs.ContactPort], &port); err != nil || port < wfs.PortMin || port > wfs.PortMax {
				t.Fatalf("port %q not in %d-%d", c[wfs.ContactPort], wfs.PortMin, wfs.PortMax)
			}
			if c[wfs.ContactHost] != "127.0.0.1" {
				t.Fatalf("host %q", c[wfs.ContactHost])
			}
		}},
		{name: "tcp wildcard port", listen: func(*testing.T) string { return "tcp://127.0.0.1:*" }, check: func(t *testing.T, srv *wfs.Server) {
			if !strings.HasPrefix(srv.Endpoint(), "tcp://127.0.0.1:") || strings.HasSuffix(srv.Endpoint(), "*") {
				t.Fatalf("endpoint %q", srv.Endpoint())
			}
			if srv.Contact()[wfs.ContactPort] == "" {
				t.Fatal("no port in contact")
			}
		}},
		{name: "ipc", listen: func(t *testing.T) string { return "ipc://" + filepath.Join(t.TempDir(), "wfs.sock") }},
		{name: "http", listen: func(*testing.T) string { return "http://127.0.0.1:8080" }, wantErr: "want tcp://"},
		// libzmq would bind 99999 - 65536 = 34463.
		{name: "port past 65535", listen: func(*testing.T) string { return "tcp://127.0.0.1:99999" }, wantErr: "want 1-65535"},
		{name: "port 0", listen: func(*testing.T) string { return "tcp://127.0.0.1:0" }, wantErr: "want 1-65535"},
		{name: "bad tcp", listen: func(*testing.T) string { return "tcp://no-such-host.invalid:5555" }, wantErr: "bind"},
		{name: "bad port", listen: func(*testing.T) string { return "tcp://127.0.0.1:x" }, wantErr: "want 1-65535"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run := newRun(t, false)
			srv, err := wfs.NewServer(wfs.ServerConfig{Run: run, Listen: tc.listen(t), Contact: map[string]string{wfs.ContactScheme: "plain"}})
			if tc.wantErr != "" {
				if err == nil {
					srv.Close()
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want %q", err, tc.wantErr)
				}
				if _, err := os.Stat(run.ContactPath()); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("failed server left a contact file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zctx, err := zmq.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			defer zctx.Term()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx) }()
			defer func() { cancel(); <-done }()
			got, err := wfs.ReadContact(run.ContactPath())
			if err != nil {
				t.Fatal(err)
			}
			if got[wfs.ContactScheme] != "plain" {
				t.Fatalf("extra contact entry missing: %v", got)
			}
			ep, err := got.Endpoint()
			if err != nil || ep != srv.Endpoint() {
				t.Fatalf("contact endpoint %q (%v), want %q", ep, err, srv.Endpoint())
			}
			c := wfs.NewClient(zctx, ep, wfs.ClientConfig{Timeout: 2 * time.Second})
			defer c.Close()
			if err := ping(c); err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, srv)
			}
		})
	}
}

func TestNewServerNeedsRun(t *testing.T) {
	if _, err := wfs.NewServer(wfs.ServerConfig{}); err == nil {
		t.Fatal("NewServer without a run directory succeeded")
	}
}
