package scenarios

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
)

// TestAbortCutsSchemeWait: a run abandoned (its context cancelled, as a
// signal does) returns within seconds even while a drained request waits
// for its scheme: here a TOTP code an hour-long step away, which the second
// command of one identity needs. A request in flight when the load ends
// normally is drained; one in flight when the run is abandoned is cut
// (issue 24 #2: `run -schemes totp` took 118 s to exit after SIGINT).
func TestAbortCutsSchemeWait(t *testing.T) {
	const step = time.Hour
	if left := time.Until(time.Now().Truncate(step).Add(step)); left < time.Minute {
		time.Sleep(left + time.Second)
	}
	totp, err := schemes.Builtin().Parse("totp:workflow=3600s")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cli  *CLIGroup
	}{
		{"closed loop", &CLIGroup{Count: 4, Concurrency: 2, Users: 1, Connection: "fresh"}},
		{"open loop", &CLIGroup{Count: 4, Rate: 20, Concurrency: 2, Users: 1, Connection: "fresh"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := &Scenario{Name: "wait", CLI: tc.cli}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type ran struct {
				res []*results.Result
				err error
			}
			done := make(chan ran, 1)
			go func() {
				res, err := Run(ctx, Config{Scenario: sc, Schemes: []*schemes.Scheme{totp}, WorkDir: t.TempDir(), Server: testLauncher(t)})
				done <- ran{res, err}
			}()
			// Long enough for the first command to be answered and the
			// second to be waiting for the next step.
			time.Sleep(3 * time.Second)
			cancel()
			start := time.Now()
			var got ran
			select {
			case got = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the run still waits for its scheme 10 s after it was abandoned")
			}
			t.Logf("returned %s after cancellation", time.Since(start).Round(time.Millisecond))
			if !errors.Is(got.err, context.Canceled) {
				t.Errorf("err %v, want context.Canceled", got.err)
			}
			if len(got.res) != 1 || !got.res[0].Partial {
				t.Fatalf("want one partial result, got %d", len(got.res))
			}
			if c := got.res[0].Op(vocab.OpCLICommand); c == nil || c.Count < 1 {
				t.Errorf("the first command of the step was not answered: %+v", c)
			}
		})
	}
}
