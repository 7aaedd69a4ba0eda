package wfs_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/wfs"
)

var testMeta = wfs.Meta{Prog: "message", Host: "localhost", CommsMethod: "zmq"}

// mutation returns a graphql message mutation body for job on workflow wf.
func mutation(t *testing.T, wf, job string, msgs ...[2]string) []byte {
	t.Helper()
	b, err := wfs.EncodeMessageMutation(wfs.MessageArgs{Workflow: wf, TaskJob: job, EventTime: "2025-01-01T00:00:00Z", Messages: msgs}, testMeta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rawGraphQL is a graphql request with the given args, as JSON text.
func rawGraphQL(args string) []byte {
	return []byte(`{"command":"graphql","args":` + args + `,"meta":{"prog":"test"}}`)
}

// callBody sends one request body and decodes the reply.
func callBody(c *wfs.Client, body []byte) (json.RawMessage, error) {
	rep, err := c.Call(context.Background(), body)
	if err != nil {
		return nil, err
	}
	return wfs.DecodeReply(rep)
}

// waitFor polls cond until it holds or waitLimit passes (a hang guard).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, waitLimit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits for the cylc model's drain in progress, if any, to end and
// count itself (a reply can arrive before the drain that sent it ends).
func settle(t *testing.T, ts *testServer) {
	t.Helper()
	w := ts.srv.CylcStats().Wakes
	waitFor(t, "a drain to end", func() bool { return ts.srv.CylcStats().Wakes > w })
}

// graphQLResult checks a message mutation's reply and returns its text.
func graphQLResult(t *testing.T, data []byte) string {
	t.Helper()
	var got struct {
		Message struct {
			Result []struct {
				ID       string `json:"id"`
				Response []any  `json:"response"`
			} `json:"result"`
		} `json:"message"`
	}
	if err := json.Unmarshal(data, &got); err != nil || len(got.Message.Result) != 1 {
		t.Fatalf("mutation reply %s (%v): want {message: {result: [one]}}", data, err)
	}
	r := got.Message.Result[0]
	if !strings.HasSuffix(r.ID, "/wf") || len(r.Response) != 2 || r.Response[0] != true {
		t.Fatalf("mutation reply %s: want id ~owner/wf and response [true, text]", data)
	}
	text, _ := r.Response[1].(string)
	return text
}

func TestEncodeMessageMutation(t *testing.T) {
	a := wfs.MessageArgs{Workflow: "my/flow", TaskJob: "1/foo/01", EventTime: "2025-01-01T00:00:00Z",
		Messages: [][2]string{{"INFO", "started"}, {"WARNING", "a <b>"}}}
	b, err := wfs.EncodeMessageMutation(a, wfs.Meta{Prog: "message", Host: "h", CommsMethod: "zmq"})
	if err != nil {
		t.Fatal(err)
	}
	// task_message.py's structure and key order, compact separators.
	q, _ := json.Marshal(wfs.MessageMutation)
	want := `{"command":"graphql","args":{"request_string":` + string(q) +
		`,"variables":{"wFlows":["my/flow"],"taskJob":"1/foo/01","eventTime":"2025-01-01T00:00:00Z",` +
		`"messages":[["INFO","started"],["WARNING","a \u003cb\u003e"]]}},"meta":{"prog":"message","host":"h","comms_method":"zmq"}}`
	if string(b) != want {
		t.Fatalf("body:\n%s\nwant:\n%s", b, want)
	}
	if !strings.HasPrefix(wfs.MessageMutation, "\nmutation (\n  $wFlows: [WorkflowID]!,") ||
		!strings.HasSuffix(wfs.MessageMutation, "  ) {\n    result\n  }\n}\n") {
		t.Fatalf("MessageMutation is not task_message.py's MUTATION:\n%s", wfs.MessageMutation)
	}
	req, err := wfs.DecodeRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	got, wfl, err := wfs.DecodeMessageMutation(req.Args)
	if err != nil {
		t.Fatal(err)
	}
	if got.Workflow != a.Workflow || got.TaskJob != a.TaskJob || got.EventTime != a.EventTime ||
		len(got.Messages) != 2 || got.Messages[1] != a.Messages[1] || len(wfl) != 1 {
		t.Fatalf("decoded %+v %v, want %+v", got, wfl, a)
	}
	jm, ok, err := wfs.JobMessage(req)
	if !ok || err != nil || jm.TaskJob != a.TaskJob {
		t.Fatalf("JobMessage: %+v %v %v", jm, ok, err)
	}
	for _, bad := range []wfs.MessageArgs{{TaskJob: "1/a/01"}, {Workflow: "wf"}} {
		if _, err := wfs.EncodeMessageMutation(bad, wfs.Meta{}); err == nil {
			t.Errorf("EncodeMessageMutation(%+v): no error", bad)
		}
	}
	// Any layout of the same request is the mutation; another is not.
	oneLine := strings.Join(strings.Fields(wfs.MessageMutation), " ")
	for s, want := range map[string]bool{
		oneLine: true,
		"# comment\n" + strings.ReplaceAll(wfs.MessageMutation, ",", "") + "\n": true,
		strings.Replace(wfs.MessageMutation, "result", "result id", 1):          false,
		strings.Replace(wfs.MessageMutation, "message (", "messages (", 1):      false,
		"{ workflows { id } }": false,
	} {
		if got := wfs.IsMessageMutation(s); got != want {
			t.Errorf("IsMessageMutation(%q) = %v, want %v", s, got, want)
		}
	}
}

// badMutations are graphql requests both models must refuse with a
// protocol error.
var badMutations = []struct{ name, args string }{
	{"no args", `null`},
	{"args not an object", `[1,2]`},
	{"unknown argument", `{"request_string":"x","variables":{},"extra":1}`},
	{"no request_string", `{"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"request_string not a string", `{"request_string":42,"variables":{}}`},
	{"garbage request_string", `{"request_string":"\u0000}{ query garbage","variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"other query", `{"request_string":"{ workflows { id } }","variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"no variables", `{"request_string":MUT}`},
	{"variables not an object", `{"request_string":MUT,"variables":"x"}`},
	{"no wFlows", `{"request_string":MUT,"variables":{"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"wFlows case-folded", `{"request_string":MUT,"variables":{"wflows":["wf"],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"wFlows a string", `{"request_string":MUT,"variables":{"wFlows":"wf","taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"wFlows null entry", `{"request_string":MUT,"variables":{"wFlows":[null],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"other workflow", `{"request_string":MUT,"variables":{"wFlows":["other"],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"no workflow", `{"request_string":MUT,"variables":{"wFlows":[],"taskJob":"1/foo/01","messages":[["INFO","x"]]}}`},
	{"no taskJob", `{"request_string":MUT,"variables":{"wFlows":["wf"],"messages":[["INFO","x"]]}}`},
	{"taskJob a number", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":7,"messages":[["INFO","x"]]}}`},
	{"bad taskJob", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"../../01","messages":[["INFO","x"]]}}`},
	{"eventTime a number", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","eventTime":1,"messages":[["INFO","x"]]}}`},
	{"messages null", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":null}}`},
	{"messages missing", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01"}}`},
	{"messages flat", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":["INFO","x"]}}`},
	{"message of three", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[["INFO","x","y"]]}}`},
	{"message with null", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[["INFO",null]]}}`},
	{"message numbers", `{"request_string":MUT,"variables":{"wFlows":["wf"],"taskJob":"1/foo/01","messages":[[1,2]]}}`},
}

// TestGraphQLMessage sends good and bad message mutations to both models:
// good ones are accepted (the fast model appends to job.status, the cylc
// model queues and does not), bad ones get a protocol error and the server
// keeps serving.
func TestGraphQLMessage(t *testing.T) {
	job := wfs.JobID{Cycle: "1", Task: "foo", Submit: 1}
	mut, _ := json.Marshal(wfs.MessageMutation)
	for _, tc := range []struct {
		name  string
		cfg   wfs.ServerConfig
		cylc  bool
		wantS string // job.status content
	}{
		{"fast", wfs.ServerConfig{}, false, "CYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|started\nCYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|custom\n"},
		{"fast pool", wfs.ServerConfig{Workers: 2}, false, "CYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|started\nCYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|custom\n"},
		{"cylc", wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 10 * time.Millisecond, ServiceCPU: -1}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.cfg)
			if err := ts.run.MakeJobDir(job); err != nil {
				t.Fatal(err)
			}
			c := ts.client(2 * time.Second)
			data, err := callBody(c, mutation(t, "wf", job.String(), [2]string{"INFO", "started"}))
			if err != nil {
				t.Fatal(err)
			}
			if text := graphQLResult(t, data); text != "Messages queued: 1" {
				t.Fatalf("reply text %q", text)
			}
			// The other encoding works with either model too; so does ~user/wf.
			if _, err := call(c, wfs.CmdMessage, wfs.MessageArgs{TaskJob: job.String(), EventTime: "2025-01-01T00:00:00Z", Messages: [][2]string{{"INFO", "custom"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := callBody(c, mutation(t, "~someone/wf", job.String())); err != nil {
				t.Fatalf("mutation for ~someone/wf with no messages: %v", err)
			}
			for _, bad := range badMutations {
				args := strings.ReplaceAll(bad.args, "MUT", string(mut))
				if _, err := callBody(c, rawGraphQL(args)); !errors.Is(err, wfs.ErrProtocol) {
					t.Errorf("%s: got %v, want a protocol error", bad.name, err)
				}
			}
			if err := ping(c); err != nil {
				t.Fatalf("ping after bad mutations: %v", err)
			}
			st := ts.srv.Stats()
			if st.Protocol != int64(len(badMutations)) || st.Internal != 0 {
				t.Fatalf("stats %+v: want %d protocol errors, no internal ones", st, len(badMutations))
			}
			got, err := os.ReadFile(ts.run.JobStatusPath(job))
			if tc.cylc {
				if !errors.Is(err, os.ErrNotExist) || ts.run.Files.Stats().Appended != 0 {
					t.Fatalf("cylc model wrote job.status (%q, %v; %+v): the client writes it", got, err, ts.run.Files.Stats())
				}
				waitFor(t, "2 messages processed", func() bool { return ts.srv.CylcStats().MessagesProcessed == 2 })
				return
			}
			if err != nil || string(got) != tc.wantS {
				t.Fatalf("job.status %q (%v), want %q", got, err, tc.wantS)
			}
		})
	}
}

// TestCylcServes runs the command table against the cylc model.
func TestCylcServes(t *testing.T) {
	ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 10 * time.Millisecond, ServiceCPU: -1})
	c := ts.client(2 * time.Second)
	cases := []struct {
		cmd  string
		args any
		want error
	}{
		{wfs.CmdPing, nil, nil},
		{wfs.CmdTrigger, map[string]any{"tasks": []string{"1/foo"}}, nil},
		{wfs.CmdHold, nil, nil},
		{wfs.CmdRelease, nil, nil},
		{wfs.CmdStop, nil, nil},
		{wfs.CmdData, wfs.DataArgs{Size: 10_000}, nil},
		{wfs.CmdData, wfs.DataArgs{Size: -1}, wfs.ErrProtocol},
		{wfs.CmdMessage, wfs.MessageArgs{TaskJob: "1/foo/01", Messages: [][2]string{{"INFO", "started"}}}, nil},
		{wfs.CmdMessage, wfs.MessageArgs{TaskJob: "bad", Messages: [][2]string{{"INFO", "started"}}}, wfs.ErrProtocol},
		{wfs.CmdMessage, nil, wfs.ErrProtocol},
		{"reload-everything", nil, errUnknown},
	}
	for _, tc := range cases {
		_, err := call(c, tc.cmd, tc.args)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s %v: got %v, want %v", tc.cmd, tc.args, err, tc.want)
		}
	}
	if st := ts.srv.Stats(); st.Requests != int64(len(cases)) || st.OK != 7 {
		t.Fatalf("stats %+v: want %d requests, 7 ok", st, len(cases))
	}
	settle(t, ts)
	if cs := ts.srv.CylcStats(); cs.Drains < 1 || cs.MessagesQueued != 1 {
		t.Fatalf("cylc stats %+v", cs)
	}
}

// TestCylcDrainThenSleep checks the drain-then-sleep loop: requests that
// arrive during a sleep are all served by the next drain, one at a time
// and in order; sequential round trips each wait out a sleep; an idle
// server wakes no more often than its sleep allows.
func TestCylcDrainThenSleep(t *testing.T) {
	t.Run("pipelined in one drain", func(t *testing.T) {
		ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: time.Second})
		d := dealer(t, ts)
		defer d.Close()
		// Send just after a drain has ended: the server is asleep for a second.
		w := ts.srv.CylcStats().Wakes
		waitFor(t, "a drain", func() bool { return ts.srv.CylcStats().Wakes > w })
		before := ts.srv.CylcStats()
		cmds := []string{wfs.CmdPing, wfs.CmdHold, wfs.CmdRelease}
		for _, cmd := range cmds {
			body, _ := wfs.EncodeRequest(cmd, nil, wfs.Meta{})
			if _, err := d.SendMessage("", body); err != nil {
				t.Fatal(err)
			}
		}
		for i, cmd := range cmds {
			rep, err := d.RecvMessageBytes(0)
			if err != nil {
				t.Fatalf("reply %d: %v", i, err)
			}
			data, err := wfs.DecodeReply(rep[len(rep)-1])
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 && !strings.Contains(string(data), `"command":"`+cmd+`"`) {
				t.Fatalf("reply %d %s: want %s's (replies in order)", i, data, cmd)
			}
		}
		settle(t, ts)
		after := ts.srv.CylcStats()
		if got := after.Drains - before.Drains; got != 1 || after.MaxDrain < 3 {
			t.Fatalf("3 pipelined requests took %d drains (max drain %d), want 1 of 3", got, after.MaxDrain)
		}
	})
	t.Run("sequential round trips wait out sleeps", func(t *testing.T) {
		const n = 5
		ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc")}) // default 0.2 s sleep
		c := ts.client(5 * time.Second)
		if err := ping(c); err != nil { // connected
			t.Fatal(err)
		}
		before := ts.srv.CylcStats().Drains
		t0 := time.Now()
		for i := 0; i < n; i++ {
			// Pause well inside the sleep, so that the drain that answered
			// the last request has surely found the socket empty.
			time.Sleep(50 * time.Millisecond)
			if err := ping(c); err != nil {
				t.Fatal(err)
			}
		}
		elapsed := time.Since(t0)
		settle(t, ts)
		// Each request arrives ~50 ms into a 200 ms sleep and waits out the
		// rest, so each iteration takes a whole sleep; allow one to slip
		// into the drain before it.
		if min := (n - 1) * wfs.CylcOperateSleep; elapsed < min {
			t.Fatalf("%d sequential round trips took %s, want at least %s (a %s sleep between drains)", n, elapsed, min, wfs.CylcOperateSleep)
		}
		if got := ts.srv.CylcStats().Drains - before; got < n-1 {
			t.Fatalf("%d sequential requests served in %d drains, want at least %d", n, got, n-1)
		}
	})
	t.Run("idle wakes", func(t *testing.T) {
		const sleep = 50 * time.Millisecond
		ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: sleep})
		w0 := ts.srv.CylcStats().Wakes
		t0 := time.Now()
		time.Sleep(300 * time.Millisecond)
		w := ts.srv.CylcStats().Wakes - w0
		if max := int64(time.Since(t0)/sleep) + 1; w > max {
			t.Fatalf("%d wakes in %s with a %s sleep, want at most %d", w, time.Since(t0), sleep, max)
		}
	})
}

// TestCylcMessageQueue checks that the cylc model queues job messages,
// processes them on its main-loop tick, and sheds beyond its bound.
func TestCylcMessageQueue(t *testing.T) {
	t.Run("processed on the tick", func(t *testing.T) {
		const n = 10
		ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 5 * time.Millisecond, ServiceCPU: -1})
		c := ts.client(2 * time.Second)
		for i := 0; i < n; i++ {
			data, err := callBody(c, mutation(t, "wf", "1/foo/01", [2]string{"INFO", "started"}, [2]string{"INFO", "custom"}))
			if err != nil {
				t.Fatal(err)
			}
			if text := graphQLResult(t, data); text != "Messages queued: 2" {
				t.Fatalf("reply text %q", text)
			}
		}
		if q := ts.srv.CylcStats().MessagesQueued; q != 2*n {
			t.Fatalf("%d messages queued, want %d", q, 2*n)
		}
		waitFor(t, "messages processed", func() bool { return ts.srv.CylcStats().MessagesProcessed == 2*n })
		if cs := ts.srv.CylcStats(); cs.MainLoops < 1 || cs.QueuePeak < 1 || cs.MessagesShed != 0 {
			t.Fatalf("cylc stats %+v", cs)
		}
	})
	t.Run("bounded", func(t *testing.T) {
		ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 5 * time.Millisecond, ServiceCPU: -1,
			MessageQueueMax: 3, MessageInterval: time.Hour})
		c := ts.client(2 * time.Second)
		two := [][2]string{{"INFO", "a"}, {"INFO", "b"}}
		if _, err := call(c, wfs.CmdMessage, wfs.MessageArgs{TaskJob: "1/foo/01", Messages: two}); err != nil {
			t.Fatal(err)
		}
		if _, err := callBody(c, mutation(t, "wf", "1/foo/01", two...)); !errors.Is(err, wfs.ErrBusy) {
			t.Fatalf("past the queue bound: %v, want busy", err)
		}
		if _, err := call(c, wfs.CmdMessage, wfs.MessageArgs{TaskJob: "1/foo/01", Messages: two[:1]}); err != nil {
			t.Fatalf("one more message within the bound: %v", err)
		}
		if err := ping(c); err != nil {
			t.Fatal(err)
		}
		if cs := ts.srv.CylcStats(); cs.MessagesQueued != 3 || cs.MessagesShed != 2 || cs.QueuePeak != 3 || cs.MessagesProcessed != 0 {
			t.Fatalf("cylc stats %+v: want 3 queued, 2 shed, none processed", cs)
		}
	})
}

// TestServiceCPU checks that each request costs the handling thread about
// ServiceCPU more CPU (Stats().CPUSeconds, read once Serve has ended).
func TestServiceCPU(t *testing.T) {
	const n, burn = 20, 5 * time.Millisecond
	cpu := func(t *testing.T, cfg wfs.ServerConfig) time.Duration {
		ts := startServer(t, cfg)
		c := ts.client(5 * time.Second)
		for i := 0; i < n; i++ {
			if err := ping(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := ts.stop(); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ts.srv.Stats().CPUSeconds * float64(time.Second))
	}
	for _, tc := range []struct {
		name string
		cfg  wfs.ServerConfig
	}{
		{"fast inline", wfs.ServerConfig{}},
		{"fast pool", wfs.ServerConfig{Workers: 2}},
		{"cylc", wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 5 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			none := tc.cfg
			none.ServiceCPU = -1
			with := tc.cfg
			with.ServiceCPU = burn
			base, got := cpu(t, none), cpu(t, with)
			t.Logf("server CPU for %d requests: %s without service CPU, %s with %s each", n, base, got, burn)
			if got < n*burn {
				t.Fatalf("server CPU %s for %d requests burning %s each, want at least %s", got, n, burn, n*burn)
			}
			if extra := got - base; extra > 3*n*burn {
				t.Fatalf("server CPU %s, %s without the burn: %s more for %d requests burning %s each", got, base, extra, n, burn)
			}
		})
	}
	t.Run("cylc default", func(t *testing.T) {
		got := cpu(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 5 * time.Millisecond})
		if got < n*wfs.DefaultCylcServiceCPU {
			t.Fatalf("cylc model's default service CPU: %s for %d requests, want at least %s", got, n, n*wfs.DefaultCylcServiceCPU)
		}
	})
}

// TestCylcStopsMidSleep cancels a cylc-model server in the middle of a long
// sleep (and main-loop interval): Serve must return at once, not after them.
func TestCylcStopsMidSleep(t *testing.T) {
	ts := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: time.Minute, MessageInterval: time.Minute})
	waitFor(t, "the first drain", func() bool { return ts.srv.CylcStats().Wakes >= 1 })
	t0 := time.Now()
	if err := ts.stop(); err != nil { // fails after waitLimit (10 s), well short of a minute
		t.Fatal(err)
	}
	if _, err := os.Stat(ts.run.ContactPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("contact file after stop: %v", err)
	}
	t.Logf("Serve returned %s after cancel", time.Since(t0))
}

// FuzzDecodeMessageMutation checks that no input makes the decoder panic
// and that every refusal is a protocol error.
func FuzzDecodeMessageMutation(f *testing.F) {
	mut, _ := json.Marshal(wfs.MessageMutation)
	for _, bad := range badMutations {
		f.Add(strings.ReplaceAll(bad.args, "MUT", string(mut)))
	}
	good, _ := wfs.EncodeMessageMutation(wfs.MessageArgs{Workflow: "wf", TaskJob: "1/a/01", Messages: [][2]string{{"INFO", "x"}}}, wfs.Meta{})
	req, _ := wfs.DecodeRequest(good)
	f.Add(string(req.Args))
	f.Fuzz(func(t *testing.T, args string) {
		a, wf, err := wfs.DecodeMessageMutation(json.RawMessage(args))
		if err != nil {
			if !errors.Is(err, wfs.ErrProtocol) {
				t.Fatalf("error %v is not a protocol error", err)
			}
			return
		}
		if len(wf) > 0 && a.Workflow != wf[0] {
			t.Fatalf("workflow %q, $wFlows %q", a.Workflow, wf)
		}
	})
}
