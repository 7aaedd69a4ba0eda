package cylcpeer

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/wfs"
	zmq "github.com/pebbe/zmq4"
)

// fakeCylc is a stand-in for a Cylc 8 scheduler, enough to test the
// client's failure modes without one: a CURVE REP socket whose ZAP
// handler allows only the run's client key, replying to graphql requests
// the way replier.py does. It is the test's own code, not cylc-flow's.
type fakeCylc struct {
	t       *testing.T
	zctx    *zmq.Context
	rep     *zmq.Socket
	zap     *zmq.Socket
	port    int
	contact string
	keys    Keys
	mu      sync.Mutex
	reqs    []map[string]any
	stop    chan struct{}
	done    sync.WaitGroup
}

// newRunDir writes a Cylc-shaped run directory: .service/{contact,
// server.key, server.key_secret, client.key_secret} with port and pid.
func newRunDir(t *testing.T, port, pid int) (contact string, keys Keys) {
	t.Helper()
	run := t.TempDir()
	svc := filepath.Join(run, ".service")
	files := wfs.NewFiles(false)
	srv, err := wfs.WriteKeyPair(files, svc, "server")
	if err != nil {
		t.Fatal(err)
	}
	cli, err := wfs.WriteKeyPair(files, svc, "client")
	if err != nil {
		t.Fatal(err)
	}
	contact = filepath.Join(svc, "contact")
	c := wfs.Contact{
		"CYLC_API": "5", "CYLC_VERSION": "8.4.4", "CYLC_WORKFLOW_HOST": "127.0.0.1",
		"CYLC_WORKFLOW_ID": "fake", "CYLC_WORKFLOW_PID": fmt.Sprint(pid),
		"CYLC_WORKFLOW_PORT": fmt.Sprint(port), "CYLC_WORKFLOW_PUBLISH_PORT": fmt.Sprint(port + 1),
		"CYLC_WORKFLOW_OWNER": "test",
	}
	if err := os.WriteFile(contact, c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return contact, Keys{Server: srv.Public, Client: cli}
}

func startFake(t *testing.T) *fakeCylc {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCylc{t: t, zctx: zctx, stop: make(chan struct{})}
	// ZAP first: libzmq asks inproc://zeromq.zap.01 of the server's context.
	if f.zap, err = zctx.NewSocket(zmq.REP); err != nil {
		t.Fatal(err)
	}
	if err := f.zap.Bind("inproc://zeromq.zap.01"); err != nil {
		t.Fatal(err)
	}
	f.contact, f.keys = newRunDir(t, 0, os.Getpid())
	srvSecret, err := os.ReadFile(filepath.Join(filepath.Dir(f.contact), "server.key_secret"))
	if err != nil {
		t.Fatal(err)
	}
	cert, err := wfs.ParseCertificate("server.key_secret", srvSecret)
	if err != nil {
		t.Fatal(err)
	}
	if f.rep, err = zctx.NewSocket(zmq.REP); err != nil {
		t.Fatal(err)
	}
	_ = f.rep.SetLinger(0)
	_ = f.rep.SetRcvtimeo(100 * time.Millisecond)
	if err := f.rep.ServerAuthCurve("cylc", cert.Secret.Z85()); err != nil {
		t.Fatal(err)
	}
	if err := f.rep.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, _ := f.rep.GetLastEndpoint()
	_, p, _ := net.SplitHostPort(strings.TrimPrefix(ep, "tcp://"))
	fmt.Sscan(p, &f.port)
	raw, _ := wfs.ReadContact(f.contact)
	raw["CYLC_WORKFLOW_PORT"] = fmt.Sprint(f.port)
	if err := os.WriteFile(f.contact, raw.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	allowed := f.keys.Client.Public
	f.done.Add(2)
	go func() { // ZAP: allow exactly the run's client key
		defer f.done.Done()
		_ = f.zap.SetRcvtimeo(100 * time.Millisecond)
		for {
			select {
			case <-f.stop:
				return
			default:
			}
			msg, err := f.zap.RecvMessageBytes(0)
			if err != nil || len(msg) < 7 {
				continue
			}
			code, text := "400", "not allowed"
			if string(msg[5]) == "CURVE" && string(msg[6]) == allowed.Bytes() {
				code, text = "200", "OK"
			}
			_, _ = f.zap.SendMessage("1.0", msg[1], code, text, "", "")
		}
	}()
	go func() { // REP: answer graphql as replier.py does
		defer f.done.Done()
		for {
			select {
			case <-f.stop:
				return
			default:
			}
			b, err := f.rep.RecvBytes(0)
			if err != nil {
				continue
			}
			var req map[string]any
			_ = json.Unmarshal(b, &req)
			f.mu.Lock()
			f.reqs = append(f.reqs, req)
			f.mu.Unlock()
			var out any
			args, _ := req["args"].(map[string]any)
			q, _ := args["request_string"].(string)
			switch {
			case req["command"] != "graphql":
				out = map[string]any{"error": map[string]any{"message": fmt.Sprintf("No method by the name '%v' at Cylc 8.4.4", req["command"])}, "cylc_version": "8.4.4"}
			case strings.HasPrefix(q, "mutation"):
				out = map[string]any{"data": map[string]any{"message": map[string]any{"result": []any{map[string]any{"id": "~test/fake", "response": []any{true, "Messages queued: 1"}}}}}, "cylc_version": "8.4.4"}
			default:
				out = map[string]any{"data": map[string]any{"workflows": []any{map[string]any{"id": "~test/fake", "name": "fake", "port": f.port, "pubPort": f.port + 1}}}, "cylc_version": "8.4.4"}
			}
			rb, _ := json.Marshal(out)
			_, _ = f.rep.SendBytes(rb, 0)
		}
	}()
	t.Cleanup(func() {
		close(f.stop)
		f.done.Wait()
		_ = f.rep.Close()
		_ = f.zap.Close()
		_ = f.zctx.Term()
	})
	return f
}

func (f *fakeCylc) requests() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.reqs...)
}

func readTestContact(t *testing.T, path string) *Contact {
	t.Helper()
	c, err := ReadContact(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFakePingAndMessage(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	keys, err := LoadKeys(c.ServiceDir)
	if err != nil {
		t.Fatal(err)
	}
	if keys != f.keys {
		t.Fatal("LoadKeys: not the keys written")
	}
	for _, reuse := range []bool{false, true} {
		cl, err := NewClient(c, keys, Config{Timeout: 2 * time.Second, Reuse: reuse})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if err := cl.Ping(context.Background()); err != nil {
				t.Fatalf("reuse %v: ping: %v", reuse, err)
			}
		}
		if err := cl.SendMessages(context.Background(), "1/t01/01", Message{SeverityInfo, "hello"}); err != nil {
			t.Fatalf("message: %v", err)
		}
		if _, err := cl.Call(context.Background(), "test", "ping", nil); KindOf(err) != KindCylc || !strings.Contains(err.Error(), "No method by the name 'ping'") {
			t.Fatalf("unknown endpoint: %v (kind %q)", err, KindOf(err))
		}
		cl.Close()
	}
	reqs := f.requests()
	if len(reqs) != 10 {
		t.Fatalf("%d requests, want 10", len(reqs))
	}
	// The envelope of cylc/flow/network/client.py.
	ping, msg := reqs[0], reqs[3]
	meta, _ := ping["meta"].(map[string]any)
	if ping["command"] != "graphql" || meta["prog"] != "ping" || meta["comms_method"] != "zmq" || meta["host"] == "" {
		t.Errorf("ping request: %v", ping)
	}
	vars := msg["args"].(map[string]any)["variables"].(map[string]any)
	if vars["taskJob"] != "1/t01/01" || fmt.Sprint(vars["wFlows"]) != "[fake]" || fmt.Sprint(vars["messages"]) != "[[INFO hello]]" {
		t.Errorf("message variables: %v", vars)
	}
	if _, err := time.Parse("2006-01-02T15:04:05Z", vars["eventTime"].(string)); err != nil {
		t.Errorf("eventTime: %v", err)
	}
}

// checkFails runs a ping that must fail with kind within the timeout,
// with a one-line message containing want.
func checkFails(t *testing.T, c *Contact, keys Keys, timeout time.Duration, kind ErrorKind, want string) {
	t.Helper()
	cl, err := NewClient(c, keys, Config{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	t0 := time.Now()
	err = cl.Ping(context.Background())
	took := time.Since(t0)
	if KindOf(err) != kind {
		t.Fatalf("got %v (kind %q), want kind %q", err, KindOf(err), kind)
	}
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q: want one line containing %q", err, want)
	}
	if took > timeout+time.Second {
		t.Errorf("took %v, timeout %v", took, timeout)
	}
	t.Logf("%v: %v", took.Round(time.Millisecond), err)
}

func TestFakeWrongClientKey(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	other, _ := wfs.GenerateKeyPair()
	checkFails(t, c, Keys{Server: f.keys.Server, Client: other}, 2*time.Second, KindHandshake, "refused this client's CURVE key")
}

func TestFakeWrongServerKey(t *testing.T) {
	f := startFake(t)
	c := readTestContact(t, f.contact)
	other, _ := wfs.GenerateKeyPair()
	checkFails(t, c, Keys{Server: other.Public, Client: f.keys.Client}, 2*time.Second, KindHandshake, "")
}

func TestUnreachablePort(t *testing.T) {
	// A port nobody listens on: bind one, note it, close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	path, keys := newRunDir(t, port, os.Getpid())
	c := readTestContact(t, path)
	checkFails(t, c, keys, 1500*time.Millisecond, KindUnreachable, fmt.Sprintf("nothing listens on port %d", port))
}

func TestStaleContact(t *testing.T) {
	path, keys := newRunDir(t, 43001, deadPID(t))
	c := readTestContact(t, path)
	checkFails(t, c, keys, 2*time.Second, KindStale, "is not running: the contact file is stale")
}

// deadPID is a pid that ran and has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	return p.Pid
}

func TestReadContact(t *testing.T) {
	path, _ := newRunDir(t, 43010, 4242)
	c := readTestContact(t, path)
	if c.Port != 43010 || c.PID != 4242 || c.Workflow != "fake" || c.Version != "8.4.4" || c.API != "5" || c.PubPort != 43011 {
		t.Errorf("contact: %+v", c)
	}
	if c.Endpoint() != "tcp://127.0.0.1:43010" || c.Server() != "cylc-flow 8.4.4" {
		t.Errorf("endpoint %s, server %s", c.Endpoint(), c.Server())
	}
	if c.RunDir != filepath.Dir(filepath.Dir(path)) {
		t.Errorf("run dir %s", c.RunDir)
	}
	for _, tc := range []struct {
		edit func(wfs.Contact)
		want string
	}{
		{func(m wfs.Contact) { m["AUTHBENCH_SCHEME"] = "curve" }, "not a Cylc scheduler's contact file"},
		{func(m wfs.Contact) { delete(m, "CYLC_VERSION") }, "not a Cylc scheduler's contact file"},
		{func(m wfs.Contact) { m["CYLC_VERSION"] = "7.9.1" }, "Cylc 8 (API 5) only"},
		{func(m wfs.Contact) { m["CYLC_WORKFLOW_PORT"] = "x" }, "CYLC_WORKFLOW_PORT=\"x\""},
		{func(m wfs.Contact) { delete(m, "CYLC_WORKFLOW_PID") }, "no CYLC_WORKFLOW_PID"},
		{func(m wfs.Contact) { delete(m, "CYLC_WORKFLOW_ID") }, "no CYLC_WORKFLOW_ID"},
	} {
		raw, _ := wfs.ReadContact(path)
		tc.edit(raw)
		if _, err := ParseContact(path, raw); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestLoadKeysErrors(t *testing.T) {
	path, _ := newRunDir(t, 43010, 4242)
	svc := filepath.Dir(path)
	if err := os.Chmod(filepath.Join(svc, ClientSecretKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeys(svc); err == nil || !strings.Contains(err.Error(), "open to group or others") {
		t.Errorf("open secret: %v", err)
	}
	os.Remove(filepath.Join(svc, ServerPublicKeyFile))
	if _, err := LoadKeys(svc); err == nil || !strings.Contains(err.Error(), "no server.key in") {
		t.Errorf("no server key: %v", err)
	}
}

func TestCheckMutation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind ErrorKind
	}{
		{`{"message": {"result": [{"id": "~u/w", "response": [true, "Messages queued: 1"]}]}}`, ""},
		{`{"message": {"result": [true, "queued"]}}`, ""},
		{`{"message": {"result": [{"id": "~u/w", "response": [false, "no such job"]}]}}`, KindCylc},
		{`{"message": {"result": null}}`, KindProtocol},
		{`{"other": {}}`, KindProtocol},
		{`[1]`, KindProtocol},
	} {
		if got := KindOf(checkMutation(json.RawMessage(tc.in), "message")); got != tc.kind {
			t.Errorf("%s: kind %q, want %q", tc.in, got, tc.kind)
		}
	}
}

// This process's own CPU, read both ways, agrees: schedstat to the
// nanosecond, ticks to 10 ms.
func TestProcWindowSelf(t *testing.T) {
	w, err := StartWatch(os.Getpid(), 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); {
	}
	win, err := w.Stop()
	if err != nil {
		t.Fatal(err)
	}
	run, ok := win.RunCPU()
	if !ok {
		t.Skip("no schedstat here (or a thread exited)")
	}
	tick := win.TickCPU()
	// The machine is shared: the loop gets what CPU it gets, but both
	// ways of reading it must see it, and agree within the ticks' grain.
	diff := run - tick
	if diff < 0 {
		diff = -diff
	}
	if run < 50*time.Millisecond || diff > 30*time.Millisecond+run/10 {
		t.Errorf("schedstat %v, ticks %v over a 300 ms busy loop", run, tick)
	}
}
