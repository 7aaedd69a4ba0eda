package scenarios

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/results"
)

// cylcPacerStream is the stream of the real-client job group's Poisson
// arrivals.
const cylcPacerStream = 0x63796c632d706163 // "cylc-pac"

// cylcMessageTimeout bounds one real client process: `cylc message` gives
// up on an unresponsive scheduler by itself, but a process that hangs for
// any reason must not hold the round.
const cylcMessageTimeout = 60 * time.Second

// RealClient sends job messages with a real client to a real scheduler: a
// scenario's cylc_jobs (authbench run -cylc sets it, from package
// cylcpeer). It is a function and a few names so that this package needs
// no Cylc of its own.
type RealClient struct {
	// Server names the scheduler ("cylc-flow 8.4.4") and Command what each
	// process runs.
	Server, Command string
	// Jobs are the scheduler's live jobs, the messages' senders, taken in
	// turn.
	Jobs []string
	// Send runs one client process sending text as job, and returns its
	// wall time and CPU; an error when the scheduler did not take it.
	Send func(ctx context.Context, job, text string) (wall, cpu time.Duration, err error)
}

// realArm says whether cfg's rounds include the scenario's real-client job
// group: the scenario asks for one and the run has a real client.
func realArm(cfg Config) bool {
	return cfg.Scenario.CylcJobs != nil && cfg.RealClient != nil && cfg.RealClient.Send != nil && len(cfg.RealClient.Jobs) > 0
}

// runCylcJobs runs one round of the scenario's cylc_jobs with cfg's real
// client: jobs arriving at the group's rate (open loop), at most its
// concurrency at once, each sending its messages one after another, each
// message a new process. It returns the round's processes in the order
// they started, those finished when ctx ends included.
func runCylcJobs(ctx context.Context, cfg Config, round int) *results.RealClients {
	sc, g, rc := cfg.Scenario, cfg.Scenario.CylcJobs, cfg.RealClient
	out := &results.RealClients{Scenario: sc.Name, ScenarioHash: sc.Hash, Round: round, Server: rc.Server, Command: rc.Command}
	conc := max(g.Concurrency, 1)
	msgs := max(g.Messages, 1)
	sem := make(chan struct{}, conc)
	type started struct {
		at time.Time
		p  results.ClientProcess
	}
	var (
		mu   sync.Mutex
		done []started
		wg   sync.WaitGroup
	)
	var pacer pace.Pacer
	if g.Rate > 0 {
		pacer = ratePacer(g.Rate, g.Arrival, sc.Seed, cylcPacerStream)
	}
	start := time.Now()
	for j := range g.Total {
		intended := time.Now()
		if pacer != nil {
			wait, stop := pacer.Pace(time.Since(start), uint64(j))
			if stop {
				break
			}
			intended = time.Now().Add(wait)
			if !sleepCtx(ctx, wait) {
				break
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		job := rc.Jobs[((round-1)*g.Total+j)%len(rc.Jobs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for m := range msgs {
				if ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				p := results.ClientProcess{Job: job}
				if m == 0 {
					p.Lag = max(t0.Sub(intended), 0)
				}
				pctx, cancel := context.WithTimeout(ctx, cylcMessageTimeout)
				wall, cpu, err := rc.Send(pctx, job, fmt.Sprintf("authbench %s round %d job %d message %d", sc.Name, round, j+1, m+1))
				cancel()
				p.Wall, p.CPU = wall, cpu
				if err != nil {
					p.Err = err.Error()
				}
				mu.Lock()
				done = append(done, started{t0, p})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.SortStableFunc(done, func(a, b started) int { return a.at.Compare(b.at) })
	for _, d := range done {
		out.Processes = append(out.Processes, d.p)
	}
	return out
}

// sleepCtx sleeps d, or until ctx ends; it reports whether ctx is still
// live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
