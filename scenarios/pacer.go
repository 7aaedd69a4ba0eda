package scenarios

import (
	"github.com/authbench/authbench/pace"
)

// Arrival is how an open-loop group's hits arrive at its rate: constant
// (evenly spaced, the default) or poisson (exponential gaps).
type Arrival string

// The arrival processes a scenario's arrival field may name.
const (
	ArrivalConstant Arrival = "constant"
	ArrivalPoisson  Arrival = "poisson"
)

func (a Arrival) valid() bool {
	switch a {
	case "", ArrivalConstant, ArrivalPoisson:
		return true
	}
	return false
}

// Streams of the pacers' generators, apart from the workers' (0, 1, ...
// and 1000+w), so that the arrivals are not correlated with the mix.
const (
	cliPacerStream = 0x636c692d70616365 // "cli-pace"
	jobPacerStream = 0x6a6f622d70616365 // "job-pace"
)

// ratePacer paces rate hits/s as arrival asks.
func ratePacer(rate float64, arrival Arrival, seed int64, stream uint64) pace.Pacer {
	if arrival == ArrivalPoisson {
		return &pace.Poisson{PerSecond: rate, Seed: uint64(seed), Stream: stream}
	}
	return pace.Constant{PerSecond: rate}
}

// jobPacer returns the pacer of a job group's arrivals at its rate (constant
// or Poisson as its arrival asks, Poisson seeded with seed), or nil when the
// group has no rate (jobs as fast as concurrency allows, or cycle points).
func jobPacer(g *JobGroup, seed int64) pace.Pacer {
	if g == nil || !(g.Rate > 0) {
		return nil
	}
	return ratePacer(g.Rate, g.Arrival, seed, jobPacerStream)
}

// cliPacer returns the open-loop pacer of a CLI group, or nil for closed
// loop; Poisson arrivals are seeded with 0 (see cliPacerSeeded).
func cliPacer(g *CLIGroup) pace.Pacer { return cliPacerSeeded(g, 0) }

// cliPacerSeeded returns the open-loop pacer of a CLI group, or nil for
// closed loop; Poisson arrivals at its rate are seeded with seed.
func cliPacerSeeded(g *CLIGroup, seed int64) pace.Pacer {
	if g == nil {
		return nil
	}
	switch {
	case g.Rate > 0:
		return ratePacer(g.Rate, g.Arrival, seed, cliPacerStream)
	case len(g.Stages) > 0:
		stages := make([]pace.Stage, len(g.Stages))
		for i, s := range g.Stages {
			stages[i] = pace.Stage{Duration: s.Duration.D(), Rate: s.Rate}
		}
		return pace.Ramp{Stages: stages}
	case g.Burst != nil:
		return pace.Burst{Size: g.Burst.Size, Within: g.Burst.Within.D(), Every: g.Burst.Every.D()}
	}
	return nil
}
