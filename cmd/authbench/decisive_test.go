package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// decisiveRun is review-cli with plain at 10 ms and curve at 10 ms plus
// delta(round), for rounds rounds.
func decisiveRun(rounds int, delta func(int) time.Duration) *results.Run {
	run := &results.Run{Schema: results.SchemaVersion}
	add := func(name string, c vocab.Claims, round int, lat time.Duration) {
		sp, _ := vocab.ParseSpec(name)
		h := results.NewHistogram()
		for range 100 {
			h.Record(lat)
		}
		run.Results = append(run.Results, &results.Result{Scenario: "review-cli", Scheme: name, Spec: &sp, Claims: &c, Round: round,
			Budgets: map[string]time.Duration{"command_p99_budget": 50 * time.Millisecond},
			Ops:     []*results.Op{{Name: vocab.OpCLICommand, Count: 100, Hist: h}}})
	}
	for r := 1; r <= rounds; r++ {
		add("plain", vocab.Claims{}, r, 10*time.Millisecond)
		add("curve", vocab.Claims{Authenticates: true, Confidential: true, RepliesConfidential: true}, r, 10*time.Millisecond+delta(r))
	}
	return run
}

func TestDecisiveStop(t *testing.T) {
	steady := func(r int) time.Duration { return time.Duration(r%3) * time.Millisecond }
	// One round in six is slow: six rounds' interval reaches past the
	// budget, a dozen or so exclude it.
	straddle := func(r int) time.Duration {
		if r%6 == 0 {
			return 100 * time.Millisecond
		}
		return time.Duration(r%6*2) * time.Millisecond
	}
	onBudget := func(r int) time.Duration { return []time.Duration{30, 40, 50, 50, 60, 70}[r%6] * time.Millisecond }
	cases := []struct {
		name          string
		run           *results.Run
		round         int
		elapsed, last time.Duration
		stop          bool
		want          string
	}{
		{"decisive", decisiveRun(6, steady), 6, time.Minute, 10 * time.Second, true, "decisive after 6 rounds"},
		{"no data is nothing pending", &results.Run{Schema: results.SchemaVersion}, 6, time.Minute, 10 * time.Second, true, "decisive"},
		{"more rounds", decisiveRun(6, straddle), 6, time.Minute, 10 * time.Second, false, "adding round 7"},
		{"out of time", decisiveRun(6, straddle), 6, 9*time.Minute + 55*time.Second, 10 * time.Second, true, "-max-time 10m0s"},
		{"too many rounds to fit", decisiveRun(6, straddle), 6, 9 * time.Minute, 50 * time.Second, true, "more than fit in -max-time"},
		{"median on the budget", decisiveRun(6, onBudget), 6, time.Minute, 10 * time.Second, true, "more than fit in -max-time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stop, why := decisiveStop(tc.run, tc.round, tc.elapsed, tc.last, 10*time.Minute)
			if stop != tc.stop || !strings.Contains(why, tc.want) {
				t.Errorf("stop=%v %q, want stop=%v and %q", stop, why, tc.stop, tc.want)
			}
		})
	}
}

// TestRunUntilDecisive: -until-decisive runs at least the six rounds a
// 95 % interval needs, each round's schemes in a random order, then stops
// and says why; here -max-time leaves no room for a seventh.
func TestRunUntilDecisive(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "tiny.yaml")
	yaml := "name: tiny\ndescription: a few pings, open loop\nduration: 400ms\ncli: {rate: 50, connection: fresh}\nbudgets: {command_p99_budget: 1ms}\n"
	if err := os.WriteFile(sc, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-probe", "0", "-until-decisive", "-max-time", "1s",
		"-scenario", sc, "-schemes", "plain,jwt:command", "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	r, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 12 {
		t.Fatalf("%d results, want 6 rounds of 2 schemes", len(r.Results))
	}
	firsts := map[string]bool{}
	for _, res := range r.Results {
		if res.Position < 1 || res.Position > 2 || res.Spec == nil || res.Claims == nil || res.Budgets["command_p99_budget"] != time.Millisecond {
			t.Errorf("round %d %s: position %d, spec %v, claims %v, budgets %v", res.Round, res.Scheme, res.Position, res.Spec, res.Claims, res.Budgets)
		}
		if res.Position == 1 {
			firsts[res.Scheme] = true
		}
	}
	if len(firsts) != 2 {
		t.Errorf("one scheme ran first in every round: %v", firsts)
	}
	if r.Stop == "" || !strings.Contains(stderr.String(), "until-decisive: ") {
		t.Errorf("no stop reason: stop %q, stderr %q", r.Stop, stderr.String())
	}
}
