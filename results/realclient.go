package results

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/authbench/authbench/mdtable"
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

// ClientProcess is one client process: its wall time from its start to its
// exit (as the Python stand-in's job.process_total is taken), how late its
// start was past its intended time (a job's first message; the load
// generator's lag, not the client's), the CPU it used (user+system, its
// children's included), and why it failed ("" when the scheduler took its
// message).
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

// WriteRealClients prints a table of run's real client rounds (nothing
// when it has none): per round, the processes, how many failed, and the
// p50 and largest wall time and CPU of those the scheduler took.
func WriteRealClients(w io.Writer, run *Run) error {
	if len(run.RealClients) == 0 {
		return nil
	}
	t := mdtable.New(w, "scenario", "round", "real client", "server", "processes", "failed", "wall p50", "wall max", "CPU p50", "CPU max")
	for _, rc := range run.RealClients {
		walls, cpus, failed := rc.OK()
		p50 := func(ds []time.Duration) string {
			if len(ds) == 0 {
				return ""
			}
			return mdtable.Duration(ds[(len(ds)-1)/2])
		}
		last := func(ds []time.Duration) string {
			if len(ds) == 0 {
				return ""
			}
			return mdtable.Duration(ds[len(ds)-1])
		}
		if err := t.Append([]string{rc.Scenario, strconv.Itoa(rc.Round), rc.Command, rc.Server,
			strconv.Itoa(len(rc.Processes)), strconv.Itoa(failed), p50(walls), last(walls), p50(cpus), last(cpus)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, rc := range run.RealClients {
		for _, p := range rc.Processes {
			if p.Err != "" {
				fmt.Fprintf(w, "%s round %d: first failure: %s\n", rc.Scenario, rc.Round, p.Err)
				break
			}
		}
	}
	return nil
}
