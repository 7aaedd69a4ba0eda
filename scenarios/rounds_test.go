package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
)

// fakeRounds runs runRounds with a fake round runner that finishes every
// scheme of the round at once, in RoundOrder, as runRound does: each
// result goes to cfg.OnResult. fail, if set, may end a round early with an
// error (after the results it returns true for are handed over).
type fakeRounds struct {
	calls []string // "scenario/round of N"
	fail  func(ctx context.Context, sc string, round, pos int) error
}

func (f *fakeRounds) one(ctx context.Context, cfg Config, round, of int) ([]*results.Result, error) {
	f.calls = append(f.calls, fmt.Sprintf("%s/%d of %d", cfg.Scenario.Name, round, of))
	var out []*results.Result
	for i, k := range RoundOrder(cfg.Scenario.Seed, round, len(cfg.Schemes)) {
		r := &results.Result{Scenario: cfg.Scenario.Name, Scheme: cfg.Schemes[k].Name(), Round: round, Position: i + 1}
		out = append(out, r)
		cfg.OnResult(r)
		if f.fail != nil {
			if err := f.fail(ctx, cfg.Scenario.Name, round, i+1); err != nil {
				return out, err
			}
		}
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
	}
	return out, nil
}

// roundsConfig is two scenarios over three schemes.
func roundsConfig(t *testing.T) (Config, []*Scenario) {
	t.Helper()
	schs, err := schemes.Builtin().ParseList("plain,passphrase,jwt")
	if err != nil {
		t.Fatal(err)
	}
	return Config{Schemes: schs}, []*Scenario{{Name: "a", Seed: 1}, {Name: "b", Seed: 2}}
}

// calls lists the round runs expected: every scenario in each round from
// 1 to n, planned as max(planned, round).
func calls(n, planned int) []string {
	var out []string
	for r := 1; r <= n; r++ {
		for _, sc := range []string{"a", "b"} {
			out = append(out, fmt.Sprintf("%s/%d of %d", sc, r, max(planned, r)))
		}
	}
	return out
}

func TestRunRounds(t *testing.T) {
	// stopAt stops once round n is done, saying so.
	stopAt := func(n int) func(*results.Run, RoundState) (bool, string) {
		return func(run *results.Run, st RoundState) (bool, string) {
			if st.Round >= n {
				return true, fmt.Sprintf("stop after %d rounds, %d results", st.Round, len(run.Results))
			}
			return false, fmt.Sprintf("go on after %d rounds, %d results", st.Round, len(run.Results))
		}
	}
	never := func(*results.Run, RoundState) (bool, string) { return false, "go on" }
	for _, tc := range []struct {
		name   string
		rounds Rounds
		calls  []string
		asked  []int // the rounds Stop was asked after
		stop   string
		log    string
	}{
		{"one round by default", Rounds{}, calls(1, 1), nil, "", ""},
		{"fixed rounds", Rounds{N: 3}, calls(3, 3), nil, "", ""},
		{"fixed rounds ignore the stop rule", Rounds{N: 2, Stop: stopAt(1)}, calls(2, 2), nil, "", ""},
		{"until decisive: the first N then one at a time", Rounds{N: 2, UntilDecisive: true, Stop: stopAt(4)}, calls(4, 2), []int{2, 3, 4},
			"stop after 4 rounds, 24 results",
			"until-decisive: go on after 2 rounds, 12 results\nuntil-decisive: go on after 3 rounds, 18 results\nuntil-decisive: stop after 4 rounds, 24 results\n"},
		{"until decisive: decided at once", Rounds{N: 3, UntilDecisive: true, Stop: stopAt(1)}, calls(3, 3), []int{3},
			"stop after 3 rounds, 18 results", "until-decisive: stop after 3 rounds, 18 results\n"},
		{"until decisive: the round limit", Rounds{N: 1, UntilDecisive: true, Stop: never}, calls(MaxRounds, 1), nil,
			"stopped at the 1000-round limit", strings.Repeat("until-decisive: go on\n", MaxRounds)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, scs := roundsConfig(t)
			var asked []int
			if stop := tc.rounds.Stop; stop != nil {
				tc.rounds.Stop = func(run *results.Run, st RoundState) (bool, string) {
					asked = append(asked, st.Round)
					return stop(run, st)
				}
			}
			var log bytes.Buffer
			tc.rounds.Log = &log
			var seen []*results.Result
			cfg.OnResult = func(r *results.Result) { seen = append(seen, r) }
			run := &results.Run{}
			f := &fakeRounds{}
			if err := runRounds(context.Background(), cfg, scs, tc.rounds, run, f.one); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.calls, tc.calls) {
				t.Fatalf("rounds run %v, want %v", f.calls, tc.calls)
			}
			if len(run.Results) != len(tc.calls)*3 || !slices.Equal(run.Results, seen) {
				t.Fatalf("%d results recorded, %d seen by OnResult; want %d, the same", len(run.Results), len(seen), len(tc.calls)*3)
			}
			if tc.asked != nil && !slices.Equal(asked, tc.asked) {
				t.Errorf("Stop asked after rounds %v, want %v", asked, tc.asked)
			}
			if tc.rounds.Stop != nil && !tc.rounds.UntilDecisive && len(asked) > 0 {
				t.Errorf("Stop asked after rounds %v without UntilDecisive", asked)
			}
			if run.Stop != tc.stop {
				t.Errorf("run.Stop %q, want %q", run.Stop, tc.stop)
			}
			if log.String() != tc.log {
				t.Errorf("log %q, want %q", log.String(), tc.log)
			}
		})
	}
}

// TestRunRoundsOrder: each round's schemes run in RoundOrder, shuffled
// afresh every round (not one scheme always first), and every result
// carries its round and its position in it.
func TestRunRoundsOrder(t *testing.T) {
	cfg, scs := roundsConfig(t)
	run := &results.Run{}
	f := &fakeRounds{}
	if err := runRounds(context.Background(), cfg, scs[:1], Rounds{N: 6}, run, f.one); err != nil {
		t.Fatal(err)
	}
	firsts := map[string]bool{}
	for i, r := range run.Results {
		round, pos := i/3+1, i%3+1
		want := cfg.Schemes[RoundOrder(scs[0].Seed, round, 3)[pos-1]].Name()
		if r.Round != round || r.Position != pos || r.Scheme != want {
			t.Errorf("result %d: round %d position %d %s, want round %d position %d %s", i, r.Round, r.Position, r.Scheme, round, pos, want)
		}
		if pos == 1 {
			firsts[r.Scheme] = true
		}
	}
	if len(firsts) < 2 {
		t.Errorf("one scheme ran first in all 6 rounds: %v", firsts)
	}
}

// TestRunRoundsCut: an error or a cancelled context in the middle of a
// round ends the run at once; every result finished before it is recorded
// and was handed to OnResult, and no decision is asked for or recorded.
func TestRunRoundsCut(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		cancel bool
		want   error
	}{
		{"error", false, boom},
		{"cancelled", true, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, scs := roundsConfig(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			saved := 0
			cfg.OnResult = func(*results.Result) { saved++ }
			// Cut after the second scheme of scenario a in round 2.
			f := &fakeRounds{fail: func(_ context.Context, sc string, round, pos int) error {
				if sc != "a" || round != 2 || pos != 2 {
					return nil
				}
				if tc.cancel {
					cancel()
					return nil
				}
				return boom
			}}
			run := &results.Run{}
			err := runRounds(ctx, cfg, scs, Rounds{N: 3, UntilDecisive: true, Stop: func(*results.Run, RoundState) (bool, string) {
				t.Error("Stop asked in a cut run")
				return true, ""
			}}, run, f.one)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if want := []string{"a/1 of 3", "b/1 of 3", "a/2 of 3"}; !slices.Equal(f.calls, want) {
				t.Errorf("rounds run %v, want %v", f.calls, want)
			}
			if n := 3 + 3 + 2; len(run.Results) != n || saved != n || run.Stop != "" {
				t.Errorf("%d results recorded, %d saved, stop %q; want %d, all saved, none", len(run.Results), saved, run.Stop, n)
			}
		})
	}
}

func TestRunRoundsRefuses(t *testing.T) {
	cfg, scs := roundsConfig(t)
	for _, tc := range []struct {
		name   string
		rounds Rounds
		run    *results.Run
		want   string
	}{
		{"too many rounds", Rounds{N: MaxRounds + 1}, &results.Run{}, "rounds: 1001: want 1 to 1000"},
		{"negative rounds", Rounds{N: -1}, &results.Run{}, "rounds: -1: want 1 to 1000"},
		{"until decisive without a rule", Rounds{UntilDecisive: true}, &results.Run{}, "rounds: until decisive needs a stop rule"},
		{"no run", Rounds{}, nil, "rounds: no run to record the results in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeRounds{}
			err := runRounds(context.Background(), cfg, scs, tc.rounds, tc.run, f.one)
			if err == nil || err.Error() != tc.want || len(f.calls) != 0 {
				t.Fatalf("error %v after %d rounds, want %q before any", err, len(f.calls), tc.want)
			}
		})
	}
}

func TestRoundState(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		round                  int
		elapsed, last, maxTime time.Duration
		fit                    int
		outOfTime, atLimit     bool
	}{
		{"room for 54 more", 6, time.Minute, 10 * time.Second, 10 * time.Minute, 60, false, false},
		{"room for one more, just", 6, 9*time.Minute + 50*time.Second, 10 * time.Second, 10 * time.Minute, 7, false, false},
		{"no room", 6, 9*time.Minute + 55*time.Second, 10 * time.Second, 10 * time.Minute, 6, true, false},
		{"past the limit", 7, 11 * time.Minute, 10 * time.Second, 10 * time.Minute, 7, true, false},
		{"a round of no time", 6, time.Minute, 0, 10 * time.Minute, 6, false, false},
		{"no time limit", 6, time.Hour, time.Minute, 0, MaxRounds, false, false},
		{"at the round limit", MaxRounds, time.Minute, time.Millisecond, time.Hour, MaxRounds + 3540000, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := roundState(tc.round, tc.elapsed, tc.last, tc.maxTime)
			want := RoundState{Round: tc.round, Elapsed: tc.elapsed, Last: tc.last, MaxTime: tc.maxTime, Fit: tc.fit, OutOfTime: tc.outOfTime, AtLimit: tc.atLimit}
			if st != want {
				t.Fatalf("got %+v, want %+v", st, want)
			}
		})
	}
}

// TestRunRoundsReal runs two tiny scenarios for two schemes in real rounds
// (a WFS process each, loopback ZeroMQ) until a stop rule that ends the
// run after its third round: every (scenario, scheme, round) is recorded
// once, with its round and position, and the stop rule saw them all.
func TestRunRoundsReal(t *testing.T) {
	schs, err := schemes.Builtin().ParseList("plain,passphrase")
	if err != nil {
		t.Fatal(err)
	}
	var scs []*Scenario
	for i, name := range []string{"pings-a", "pings-b"} {
		sc := &Scenario{Name: name, Seed: int64(i + 1), CLI: &CLIGroup{Count: 5, Concurrency: 1, Mix: map[string]int{"ping": 1}}}
		if err := sc.Validate(); err != nil {
			t.Fatal(err)
		}
		scs = append(scs, sc)
	}
	run := &results.Run{}
	saved := 0
	cfg := Config{Schemes: schs, WorkDir: t.TempDir(), Server: testLauncher(t), OnResult: func(*results.Result) { saved++ }}
	seen := 0
	err = RunRounds(context.Background(), cfg, scs, Rounds{N: 2, UntilDecisive: true, MaxTime: time.Hour,
		Stop: func(run *results.Run, st RoundState) (bool, string) {
			seen = len(run.Results)
			return st.Round == 3, fmt.Sprintf("round %d", st.Round)
		}}, run)
	if err != nil {
		t.Fatal(err)
	}
	if n := 2 * 2 * 3; len(run.Results) != n || saved != n || seen != n || run.Stop != "round 3" {
		t.Fatalf("%d results, %d saved, %d seen by the stop rule, stop %q; want %d, all saved and seen, round 3", len(run.Results), saved, seen, run.Stop, n)
	}
	got := map[string]bool{}
	for _, r := range run.Results {
		key := fmt.Sprintf("%s/%s/%d", r.Scenario, r.Scheme, r.Round)
		if got[key] || r.Position < 1 || r.Position > 2 || r.Partial {
			t.Errorf("%s: twice, or position %d, or partial %v", key, r.Position, r.Partial)
		}
		got[key] = true
		if o := r.Op(vocab.OpCLICommand); o == nil || o.Count != 5 {
			t.Errorf("%s: commands %+v, want 5", key, o)
		}
	}
}
