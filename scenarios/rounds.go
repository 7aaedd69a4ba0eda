package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/authbench/authbench/results"
)

// MaxRounds bounds the rounds of a run.
const MaxRounds = 1000

// Rounds is how many rounds RunRounds makes and when it stops.
type Rounds struct {
	// N is the rounds always made, 1 to MaxRounds; 0 means 1.
	N int
	// UntilDecisive adds rounds after the Nth, one at a time, while Stop
	// says to go on (and MaxRounds allows).
	UntilDecisive bool
	// MaxTime is the time an until-decisive run should end within, from
	// the start of its first round; RoundState says how it stands. 0 means
	// no limit.
	MaxTime time.Duration
	// Stop is asked after each round from the Nth on, with UntilDecisive
	// only: whether to stop, and why (in one line). The why of the round
	// that stops is recorded as the run's Stop. It is passed in so that
	// the engine knows no rule of its own (cmd/authbench asks the review
	// whether the run's questions are decided).
	Stop func(run *results.Run, st RoundState) (stop bool, why string)
	// Log, if set, receives each answer of Stop as a line
	// "until-decisive: WHY".
	Log io.Writer
}

// RoundState is where an until-decisive run stands after a round, as
// Rounds.Stop sees it.
type RoundState struct {
	// Round is the rounds done.
	Round int
	// Elapsed is the time since the first round began, Last the length of
	// the round just done.
	Elapsed, Last time.Duration
	// MaxTime is Rounds.MaxTime.
	MaxTime time.Duration
	// Fit is the rounds, those done included, that fit within MaxTime if
	// each still to come takes as long as the last (MaxRounds with no
	// MaxTime).
	Fit int
	// OutOfTime is set when another round as long as the last would end
	// past MaxTime.
	OutOfTime bool
	// AtLimit is set when Round is MaxRounds: no round can be added.
	AtLimit bool
}

// roundState is where a run stands after round rounds, elapsed since the
// start, the last of them taking last, against maxTime (0: no limit).
func roundState(round int, elapsed, last, maxTime time.Duration) RoundState {
	st := RoundState{Round: round, Elapsed: elapsed, Last: last, MaxTime: maxTime, Fit: MaxRounds, AtLimit: round >= MaxRounds}
	if maxTime <= 0 {
		return st
	}
	// The rounds that fit before MaxTime, judged by the last round.
	st.Fit = round
	if last > 0 && maxTime > elapsed {
		st.Fit += int((maxTime - elapsed) / last)
	}
	st.OutOfTime = elapsed+last > maxTime
	return st
}

// RunRounds runs each of scs (cfg.Scenario is set to each in turn) for
// every scheme of cfg, round after round: every scenario runs each round
// before the next round begins, and each round's schemes run in their own
// random order (RoundOrder). Every result is appended to run.Results (and
// every round of the scenario's real client, cylc_jobs, to
// run.RealClients), then handed to cfg.OnResult (which may save the run: a run cut short keeps
// every result finished). After rounds.N rounds it stops, or, with
// rounds.UntilDecisive, asks rounds.Stop after each round and stops when
// told, recording why in run.Stop. On the first error, or when ctx ends,
// it returns at once with that error (ctx's on cancellation); run then
// holds the results finished so far, the interrupted one partial.
func RunRounds(ctx context.Context, cfg Config, scs []*Scenario, rounds Rounds, run *results.Run) error {
	return runRounds(ctx, cfg, scs, rounds, run, runRound)
}

// runRounds is RunRounds with the runner of one scenario's round passed in
// (runRound; a test passes a fake).
func runRounds(ctx context.Context, cfg Config, scs []*Scenario, rounds Rounds, run *results.Run,
	one func(ctx context.Context, cfg Config, round, of int) ([]*results.Result, error)) error {
	if rounds.N == 0 {
		rounds.N = 1
	}
	switch {
	case rounds.N < 1 || rounds.N > MaxRounds:
		return fmt.Errorf("rounds: %d: want 1 to %d", rounds.N, MaxRounds)
	case rounds.UntilDecisive && rounds.Stop == nil:
		return errors.New("rounds: until decisive needs a stop rule")
	case run == nil:
		return errors.New("rounds: no run to record the results in")
	}
	// Refused before the first round, so that a run that cannot be made
	// writes nothing (it replaced a finished results.json with an empty,
	// partial one).
	for _, sc := range scs {
		for _, scheme := range cfg.Schemes {
			if err := canRun(sc, scheme); err != nil {
				return err
			}
			if err := CheckCodeRate(sc, scheme, cfg.HandshakeProbe); err != nil {
				return err
			}
		}
	}
	onResult := cfg.OnResult
	cfg.OnResult = func(r *results.Result) {
		run.Results = append(run.Results, r)
		if onResult != nil {
			onResult(r)
		}
	}
	onReal := cfg.OnRealClients
	cfg.OnRealClients = func(rc *results.RealClients) {
		run.RealClients = append(run.RealClients, rc)
		if onReal != nil {
			onReal(rc)
		}
	}
	started := time.Now()
	for round := 1; round <= MaxRounds; round++ {
		roundStart := time.Now()
		for _, sc := range scs {
			c := cfg
			c.Scenario = sc
			if _, err := one(ctx, c, round, max(rounds.N, round)); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if round < rounds.N {
			continue
		}
		if !rounds.UntilDecisive {
			return nil
		}
		now := time.Now()
		stop, why := rounds.Stop(run, roundState(round, now.Sub(started), now.Sub(roundStart), rounds.MaxTime))
		if rounds.Log != nil {
			// One line a round: it says why the run goes on.
			fmt.Fprintf(rounds.Log, "until-decisive: %s\n", why)
		}
		if stop {
			run.Stop = why
			return nil
		}
	}
	run.Stop = fmt.Sprintf("stopped at the %d-round limit", MaxRounds)
	return nil
}
