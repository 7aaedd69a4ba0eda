package results

import (
	"slices"
	"time"
)

// RealClients is one round of a scenario's real client job group
// (scenario cylc_jobs:): job messages each sent by a new process of the
// real `cylc message`, as a Cylc job sends them, to a real Cylc scheduler
// (authbench run -cylc CONTACT), paced as the scenario's job group is and
// placed in the round among its schemes. It is the yardstick a Python
// client scheme's added time is stated and judged against (issue 22 #4):
// it does not depend on any scheme, so it runs once a round, not once per
// scheme.
type RealClients struct {
	Scenario     string `json:"scenario"`
	ScenarioHash string `json:"scenario_hash,omitempty"`
	Round        int    `json:"round"`
	// Position is the job group's place in its round's random order among
	// the schemes (1 ran first); Together how many ran at once with it
	// (the scenario's together:, the job group included).
	Position int `json:"position,omitempty"`
	Together int `json:"together,omitempty"`
	// Server is the scheduler the messages went to ("cylc-flow 8.4.4")
	// and Command what each process ran.
	Server  string `json:"server"`
	Command string `json:"command"`
	// Processes are the round's client processes in the order they
	// started.
	Processes []ClientProcess `json:"processes"`
}

// ClientProcess is one client process: its wall time from its intended
// start (its send lag included, as wrk2 takes latency), the CPU it used
// (user+system, its children's included), and why it failed ("" when the
// scheduler took its message).
type ClientProcess struct {
	Job  string        `json:"job"`
	Wall time.Duration `json:"wall_ns"`
	CPU  time.Duration `json:"cpu_ns"`
	Lag  time.Duration `json:"lag_ns,omitempty"`
	Err  string        `json:"error,omitempty"`
}

// OK is the walls and CPUs of the processes whose message the scheduler
// took, sorted, and how many failed.
func (rc *RealClients) OK() (walls, cpus []time.Duration, failed int) {
	for _, p := range rc.Processes {
		if p.Err != "" {
			failed++
			continue
		}
		walls = append(walls, p.Wall)
		cpus = append(cpus, p.CPU)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	return walls, cpus, failed
}

// RealClientsOf returns the real client rounds of scenario in runs, in
// round order.
func RealClientsOf(runs []*Run, scenario string) []*RealClients {
	var out []*RealClients
	for _, r := range runs {
		for _, rc := range r.RealClients {
			if rc.Scenario == scenario {
				out = append(out, rc)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *RealClients) int { return a.Round - b.Round })
	return out
}
