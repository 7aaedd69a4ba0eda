package cylcpeer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/authbench/authbench/scenarios"
)

// PlanFromScenario is the load a scenario puts on a real Cylc scheduler.
// The scheduler is Cylc's, not authbench's, so only what it can take
// without being changed is sent:
//   - the CLI group's pings, as `cylc ping` (count, rate, concurrency,
//     fresh or reused connections); its other commands (trigger, hold,
//     release, stop) would change the workflow, and are refused;
//   - the job group's messages, as `cylc message`, for the workflow's own
//     live jobs in turn: total (or cycle points × tasks per cycle point)
//     jobs × messages mutations at rate × messages per second, each one
//     custom INFO message: it stands for a job's started, custom and
//     succeeded messages alike, since authbench does not submit, fail or
//     retry the real scheduler's jobs, and a real succeeded message would
//     end a live job.
//
// The groups run one after the other (pings first), so that the
// scheduler's CPU is measured per request type. A scenario asking for
// what cannot be done this way (process-mode clients, bursts, ramps,
// Poisson arrivals, failing or retried jobs, remote targets, UI-server
// pollers, WLCG flows, a file-system model) is refused with the list. A
// server model (server: {model: cylc}) names the model the real scheduler
// is compared with (authbench calibrate -cylc runs its loads against
// both); the real scheduler is the server here, so it is not used.
func PlanFromScenario(sc *scenarios.Scenario) (Plan, error) {
	p := Plan{Scenario: sc.Name, Source: sc.Source, Hash: sc.Hash, Warmup: sc.Warmup.D()}
	var refused []string
	no := func(cond bool, what string) {
		if cond {
			refused = append(refused, what)
		}
	}
	dur := sc.Duration.D()
	if g := sc.CLI; g != nil {
		var other []string
		for cmd, w := range g.Mix {
			if cmd != "ping" && w > 0 {
				other = append(other, cmd)
			}
		}
		sort.Strings(other)
		no(len(other) > 0, "cli.mix "+strings.Join(other, ", ")+" (would change the workflow; only ping)")
		no(g.Process.Mode() != "", "cli.process")
		no(g.Burst != nil, "cli.burst")
		no(len(g.Stages) > 0, "cli.stages")
		no(g.Arrival == scenarios.ArrivalPoisson, "cli.arrival: poisson")
		p.Pings = &Group{Count: g.Count, Rate: g.Rate, Concurrency: g.Concurrency, Duration: dur, Reuse: g.Connection == "reuse"}
	}
	if g := sc.Job; g != nil {
		per := max(1, g.Messages)
		jobs := g.Total
		if g.CyclePoints > 0 {
			jobs = g.CyclePoints * g.TasksPerCycle
		}
		no(g.Process.Mode() != "", "job.process")
		no(g.FailRatio > 0, "job.fail_ratio")
		no(g.Retries > 0, "job.retries")
		no(g.Arrival == scenarios.ArrivalPoisson, "job.arrival: poisson")
		for _, t := range g.Targets {
			no(!t.SharedFS && t.Name != "" && t.Name != "localhost", "job.targets "+t.Name+" (the scheduler's jobs run where it put them)")
		}
		p.Messages = &Group{Count: jobs * per, Rate: g.Rate * float64(per), Concurrency: g.Concurrency, Duration: dur}
		p.MessageSize = g.MessageSize
	}
	no(sc.UIS != nil, "uis")
	no(sc.WLCG != nil, "wlcg")
	no(sc.FS != nil, "fs")
	if len(refused) > 0 {
		return p, fmt.Errorf("scenario %s: against a real Cylc scheduler authbench sends only pings and job messages for its live jobs; not possible: %s", sc.Name, strings.Join(refused, "; "))
	}
	if p.Pings == nil && p.Messages == nil {
		return p, fmt.Errorf("scenario %s: no cli or job group: nothing to send a real Cylc scheduler", sc.Name)
	}
	return p, nil
}
