package figures

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// round is a synthetic round: ops commands, reqs WFS requests per
// command, cpu of WFS CPU over the window and fileOps file operations per
// command.
func round(scheme string, n, ops, reqs int, cpu time.Duration, fileOps int64) *results.Result {
	h := results.NewHistogram()
	for i := range ops {
		h.Record(time.Duration(i+1) * time.Millisecond)
	}
	// The whole run has a warm-up of 10 commands before the window.
	run := int64(ops + 10)
	return &results.Result{
		Scenario: "sc", Scheme: scheme, Round: n, Duration: time.Second,
		Ops:      []*results.Op{{Name: vocab.OpCLICommand, Count: int64(ops) - 1, Errors: map[string]int64{"timeout": 1}, Hist: h}},
		Commands: run,
		Files:    counters.FileStats{Read: fileOps * run},
		Server:   counters.ServerStats{Requests: run * int64(reqs)},
		ServerProcess: &results.ServerProcess{Requests: int64(ops * reqs), UserSeconds: cpu.Seconds(),
			Handshake: &results.HandshakeProbe{Ops: 10, Fresh: 3 * time.Millisecond, Reused: time.Millisecond}},
	}
}

func TestFigures(t *testing.T) {
	planA := round("jwt:command", 1, 200, 2, 400*time.Millisecond, 4)
	mixed := round("plain", 1, 200, 1, 200*time.Millisecond, 2)
	mixed.Ops = append(mixed.Ops, &results.Op{Name: vocab.OpJobMessage, Count: 5, Hist: results.NewHistogram()})
	cylc := round("plain", 1, 200, 1, 200*time.Millisecond, 2)
	cylc.ServerModel = "cylc"
	fast := round("plain", 1, 200, 1, 200*time.Millisecond, 2)
	fast.ServerModel = "fast"
	for _, tc := range []struct {
		name string
		f    Figure
		r    *results.Result
		want float64
		ok   bool
	}{
		// Plan A: two requests per command, both paid for per command.
		{"cpu per command", ServerCPU(Command), planA, 2e6, true},
		{"cpu per request", ServerCPU(Request), planA, 1e6, true},
		{"requests per command", Requests(Command), planA, 2, true},
		{"file ops per command", FileOps(Command), planA, 4, true},
		{"file ops per request", FileOps(Request), planA, 2, true},
		{"no jobs: files per job", FilesCreated(Job), planA, 0, false},
		{"no job messages in the window", ServerCPU(Message), planA, 0, false},
		{"job messages have no whole-run count", FileOps(Message), planA, 0, false},
		// Commands mixed with job messages: the WFS's CPU is not the
		// commands' alone.
		{"mixed: no cpu per command", ServerCPU(Command), mixed, 0, false},
		{"mixed: no requests per command", Requests(Command), mixed, 0, false},
		{"mixed: no file ops per command", FileOps(Command), mixed, 0, false},
		{"mixed: cpu per request", ServerCPU(Request), mixed, 1e6, true},
		{"handshake", HandshakeCPU(), planA, 2e6, true},
		{"no handshake under cylc", HandshakeCPU(), cylc, 0, false},
		{"handshake under fast", HandshakeCPU(), fast, 2e6, true},
		{"p100", Pct(vocab.OpCLICommand, 100), planA, 200e6, true},
		{"tail reads p99 by Of", Tail(vocab.OpCLICommand), planA, 198e6, true},
		{"op missing", P50(vocab.OpJobMessage), planA, 0, false},
		{"scheme stat missing", SchemeStat("flow.x", Transfer), planA, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok := tc.f.Of(tc.r)
			// Histograms keep three significant digits: 1 % is exact enough.
			if ok != tc.ok || math.Abs(v-tc.want) > 0.01*math.Abs(tc.want) {
				t.Errorf("%s = %g, %v; want %g, %v", tc.f.ID, v, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestServerCPUBeforeServerProcess(t *testing.T) {
	r := round("plain", 1, 100, 1, 0, 0)
	r.ServerProcess = nil
	r.Server.CPUSeconds = 0.11 // over the whole run's 110 commands
	v, ok := ServerCPU(Command).Of(r)
	if !ok || math.Abs(v-1e6) > 1 {
		t.Errorf("ServerCPU(Command) = %g, %v; want 1e6 from the request threads' CPU over the run", v, ok)
	}
}

func TestCollect(t *testing.T) {
	run := func(rs ...*results.Result) *results.Run {
		return &results.Run{Schema: results.SchemaVersion, Command: "authbench run", Results: rs}
	}
	a := run(round("jwt:command", 2, 50, 2, time.Millisecond, 0), round("plain", 1, 50, 1, time.Millisecond, 0),
		round("jwt:command", 1, 50, 2, time.Millisecond, 0))
	scs, err := Collect([]*results.Run{a})
	if err != nil {
		t.Fatal(err)
	}
	sc := scs[0]
	if sc.Baseline == nil || sc.Baseline.Name != "plain" || sc.Rounds != 2 {
		t.Fatalf("baseline %v, rounds %d; want plain, 2", sc.Baseline, sc.Rounds)
	}
	s := sc.Scheme("jwt:command")
	if s.Rounds[0].Round != 1 || s.Rounds[1].Round != 2 {
		t.Errorf("rounds not in order: %d, %d", s.Rounds[0].Round, s.Rounds[1].Round)
	}
	// Round 2 of plain is missing: it pairs with plain's median.
	if d := s.Paired(sc.Baseline, Requests(Command)); len(d) != 2 || d[0] != 1 || d[1] != 1 {
		t.Errorf("paired requests/command = %v; want [1 1]", d)
	}
	if ws := sc.Works(); len(ws) != 1 || ws[0] != Command {
		t.Errorf("works = %v; want [command]", ws)
	}

	for _, tc := range []struct {
		name string
		runs []*results.Run
		want string
	}{
		{"schema", []*results.Run{{Schema: results.SchemaVersion + 1}}, "results schema"},
		{"two runs", []*results.Run{a, run(round("plain", 1, 5, 1, 0, 0))}, "appears in two runs"},
		{"round twice", []*results.Run{run(round("plain", 1, 5, 1, 0, 0), round("plain", 1, 5, 1, 0, 0))}, "round 1 appears twice"},
	} {
		if _, err := Collect(tc.runs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Collect error %v; want %q", tc.name, err, tc.want)
		}
	}
}
