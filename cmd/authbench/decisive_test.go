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
	"github.com/authbench/authbench/scenarios"
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
			Budgets: map[string]time.Duration{"command_p90_budget": 50 * time.Millisecond},
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
	// At 10 s a round, one minute into -max-time 10m: 54 more rounds fit.
	roomy := scenarios.RoundState{Round: 6, Elapsed: time.Minute, Last: 10 * time.Second, MaxTime: 10 * time.Minute, Fit: 60}
	cases := []struct {
		name string
		run  *results.Run
		st   scenarios.RoundState
		stop bool
		want string
	}{
		{"decisive", decisiveRun(6, steady), roomy, true, "every question these results answer is decisive after 6 rounds"},
		{"no data is nothing pending", &results.Run{Schema: results.SchemaVersion}, roomy, true, "decisive"},
		{"more rounds", decisiveRun(6, straddle), roomy, false, "after 6 rounds still inconclusive: Q-curve (about "},
		{"more rounds: the next", decisiveRun(6, straddle), roomy, false, "; adding round 7"},
		{"out of time", decisiveRun(6, straddle),
			scenarios.RoundState{Round: 6, Elapsed: 9*time.Minute + 55*time.Second, Last: 10 * time.Second, MaxTime: 10 * time.Minute, Fit: 6, OutOfTime: true},
			true, "-max-time 10m0s"},
		{"too many rounds to fit", decisiveRun(6, straddle),
			scenarios.RoundState{Round: 6, Elapsed: 9 * time.Minute, Last: 50 * time.Second, MaxTime: 10 * time.Minute, Fit: 7},
			true, "more than fit in -max-time 10m0s"},
		{"median on the budget", decisiveRun(6, onBudget), roomy, true, "more than fit in -max-time"},
		{"round limit", decisiveRun(6, straddle),
			scenarios.RoundState{Round: scenarios.MaxRounds, Elapsed: time.Minute, Last: time.Second, MaxTime: time.Hour, Fit: 2 * scenarios.MaxRounds, AtLimit: true},
			true, "stopped at the 1000-round limit, still inconclusive: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stop, why := decisiveStop(tc.run, tc.st)
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
	// The six rounds -max-time cannot shorten are said up front.
	if want := "-until-decisive: 6 rounds first (the fewest a 95 % interval needs, whatever -max-time)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
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

// TestRunRepeat: -repeat N makes N rounds of every scheme, numbered from 1
// and each in its own order, with no stop rule asked and no stop recorded.
func TestRunRepeat(t *testing.T) {
	dir := t.TempDir()
	sc := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(sc, []byte("name: tiny\ncli:\n  count: 5\n  concurrency: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-probe", "0", "-repeat", "3",
		"-scenario", sc, "-schemes", "plain,passphrase", "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	r, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	rounds := map[int]int{}
	for _, res := range r.Results {
		rounds[res.Round]++
	}
	if len(r.Results) != 6 || rounds[1] != 2 || rounds[2] != 2 || rounds[3] != 2 || r.Partial {
		t.Fatalf("%d results in rounds %v (partial %v), want 3 rounds of 2", len(r.Results), rounds, r.Partial)
	}
	if r.Stop != "" || strings.Contains(stderr.String(), "until-decisive") {
		t.Errorf("stop %q, stderr %q: want neither without -until-decisive", r.Stop, stderr.String())
	}
}

// TestRefusedRunKeepsOut: a run refused before it measured anything leaves
// -out as it was (a wlcg flow with -schemes plain replaced a finished
// results.json with an empty, partial one: issue 24 #1).
func TestRefusedRunKeepsOut(t *testing.T) {
	out := t.TempDir()
	finished := []byte(`{"schema":1,"results":[]}` + "\n")
	if err := os.WriteFile(filepath.Join(out, "results.json"), finished, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"run", "-quiet", "-scenario", "wlcg-transfer-user", "-schemes", "plain", "-out", out}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "use -schemes wlcg") {
		t.Fatalf("run: %v, want the refusal", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil || !bytes.Equal(b, finished) {
		t.Fatalf("results.json after a refused run: %q, %v; want it untouched", b, err)
	}
}
