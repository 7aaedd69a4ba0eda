package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
)

// TestSubscribeReal runs UI servers that poll and subscribe against real
// WFS processes under the cylc model, publishing a delta a second: each
// result holds uis.delta ops beside its polls, and the WFS's publisher
// counters.
func TestSubscribeReal(t *testing.T) {
	schs, err := schemes.Builtin().ParseList("plain,curve")
	if err != nil {
		t.Fatal(err)
	}
	sc := &Scenario{Name: "uis-subscribe", Seed: 1, Warmup: Duration(time.Second), Duration: Duration(4 * time.Second),
		Server: &ServerModel{Model: vocab.ServerModelCylc},
		UIS:    &UISGroup{Pollers: 1, Interval: Duration(time.Second), ReplySize: 100, Subscribe: true, DeltaSize: 500, PublishRate: 1}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	run := &results.Run{}
	cfg := Config{Schemes: schs, WorkDir: t.TempDir(), Server: testLauncher(t)}
	if err := RunRounds(context.Background(), cfg, []*Scenario{sc}, Rounds{N: 1, MaxTime: time.Hour}, run); err != nil {
		t.Fatal(err)
	}
	if len(run.Results) != 2 {
		t.Fatalf("%d results, want 2", len(run.Results))
	}
	for _, r := range run.Results {
		d, p := r.Op(vocab.OpUISDelta), r.Op(vocab.OpUISPoll)
		if d == nil || d.Count < 2 || p == nil || p.Count < 2 {
			t.Fatalf("%s: deltas %+v, polls %+v; want at least 2 of each", r.Scheme, d, p)
		}
		if len(d.Errors) > 0 {
			t.Errorf("%s: delta errors %v", r.Scheme, d.Errors)
		}
		if st := r.ServerModelStats; st["deltas_published"] < 2 || st["delta_sends"] < 2 || st["publish_cpu_s"] <= 0 {
			t.Errorf("%s: server model stats %v: want deltas published and sent and their CPU", r.Scheme, st)
		}
	}
}
