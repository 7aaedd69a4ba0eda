package wfs_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// modelOf is the registered model called name.
func modelOf(t testing.TB, name string) wfs.Model {
	t.Helper()
	m, err := wfs.ParseModel(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseModel(t *testing.T) {
	for _, tc := range []struct {
		name, want     string
		handshakeProbe bool
		serviceCPU     time.Duration
		reloadAllKeys  bool
		err            string
	}{
		{name: "", want: "fast", handshakeProbe: true},
		{name: "fast", want: "fast", handshakeProbe: true},
		{name: "cylc", want: "cylc", serviceCPU: wfs.DefaultCylcServiceCPU, reloadAllKeys: true},
		{name: "slow", err: `unknown server model "slow": want fast or cylc`},
		{name: "Cylc", err: `unknown server model "Cylc": want fast or cylc`},
		{name: " fast", err: `unknown server model " fast": want fast or cylc`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := wfs.ParseModel(tc.name)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseModel(%q) = %v, %v; want error %q", tc.name, m, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != tc.want || m.HandshakeProbe() != tc.handshakeProbe ||
				m.DefaultServiceCPU() != tc.serviceCPU || m.ReloadAllKeys() != tc.reloadAllKeys {
				t.Fatalf("ParseModel(%q): %s probe=%v service CPU %s reload=%v; want %s probe=%v %s reload=%v",
					tc.name, m.Name(), m.HandshakeProbe(), m.DefaultServiceCPU(), m.ReloadAllKeys(),
					tc.want, tc.handshakeProbe, tc.serviceCPU, tc.reloadAllKeys)
			}
			if m.Summary() == "" || strings.Contains(m.Summary(), "\n") {
				t.Fatalf("%s: summary %q, want one line", m.Name(), m.Summary())
			}
		})
	}
}

// TestModelRegistry: wfs's names are the registry's, each with its
// registered properties, and the flag help names every one.
func TestModelRegistry(t *testing.T) {
	if got, want := wfs.ModelNames(), vocab.ServerModelNames(); !slices.Equal(got, want) || len(got) == 0 {
		t.Fatalf("ModelNames %v, registry %v", got, want)
	}
	if wfs.ModelNames()[0] != vocab.DefaultServerModel {
		t.Fatalf("ModelNames %v: the default, %s, is not first", wfs.ModelNames(), vocab.DefaultServerModel)
	}
	usage := wfs.ModelUsage()
	for _, info := range vocab.ServerModels() {
		m := modelOf(t, info.Name)
		if m.Name() != info.Name || m.HandshakeProbe() != info.HandshakeProbe {
			t.Errorf("%s: model %s probe=%v, registered %+v", info.Name, m.Name(), m.HandshakeProbe(), info)
		}
		if !strings.Contains(usage, info.Name+" ("+m.Summary()+")") {
			t.Errorf("ModelUsage %q does not describe %s", usage, info.Name)
		}
	}
}

// TestEveryModelServes runs a real WFS of every registered model on
// loopback and sends it a ping and a job message, the message as a client
// of that model sends it (Model.JobMessageRequest): both are answered, the
// contact file names the model, and the job's job.status holds the message
// once, whoever appends it (the server under fast, the client under cylc).
func TestEveryModelServes(t *testing.T) {
	job := wfs.JobID{Cycle: "1", Task: "foo", Submit: 1}
	a := wfs.MessageArgs{Workflow: "wf", TaskJob: job.String(), EventTime: "2025-01-01T00:00:00Z",
		Messages: [][2]string{{"INFO", "started"}}}
	for _, name := range wfs.ModelNames() {
		t.Run(name, func(t *testing.T) {
			m := modelOf(t, name)
			ts := startServer(t, wfs.ServerConfig{Model: m, OperateSleep: 5 * time.Millisecond, ServiceCPU: -1})
			if ts.srv.Model().Name() != name || ts.srv.Contact()[wfs.ContactModel] != name {
				t.Fatalf("server model %s, contact %s=%q; want %s", ts.srv.Model().Name(),
					wfs.ContactModel, ts.srv.Contact()[wfs.ContactModel], name)
			}
			if err := ts.run.MakeJobDir(job); err != nil {
				t.Fatal(err)
			}
			c := ts.client(5 * time.Second)
			if err := ping(c); err != nil {
				t.Fatalf("ping: %v", err)
			}
			body, err := m.JobMessageRequest(ts.run, wfs.NewFiles(false), a, testMeta)
			if err != nil {
				t.Fatal(err)
			}
			data, err := callBody(c, body)
			if err != nil {
				t.Fatalf("job message: %v", err)
			}
			if !json.Valid(data) || len(data) == 0 {
				t.Fatalf("job message reply %q", data)
			}
			got, err := os.ReadFile(ts.run.JobStatusPath(job))
			if want := "CYLC_MESSAGE=2025-01-01T00:00:00Z|INFO|started\n"; err != nil || string(got) != want {
				t.Fatalf("job.status %q (%v), want %q", got, err, want)
			}
			if st := ts.srv.Stats(); st.Requests != 2 || st.OK != 2 {
				t.Fatalf("stats %+v, want 2 requests, 2 ok", st)
			}
		})
	}
}

// TestModelStats: the cylc model reports its counters as results'
// server_model_stats, under their JSON names; the fast model keeps none.
func TestModelStats(t *testing.T) {
	fast := startServer(t, wfs.ServerConfig{})
	if st := fast.srv.ModelStats(); st != nil {
		t.Fatalf("fast model stats %v, want none", st)
	}
	cylc := startServer(t, wfs.ServerConfig{Model: modelOf(t, "cylc"), OperateSleep: 5 * time.Millisecond, ServiceCPU: -1})
	if err := ping(cylc.client(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	settle(t, cylc)
	st := cylc.srv.ModelStats()
	b, err := json.Marshal(cylc.srv.CylcStats())
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]float64
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(st) != len(want) || st["drains"] < 1 || st["wakes"] < st["drains"] {
		t.Fatalf("cylc model stats %v, want the keys of %v with a drain", st, want)
	}
	for k := range want {
		if _, ok := st[k]; !ok {
			t.Errorf("cylc model stats %v: no %s", st, k)
		}
	}
}
