package results

import (
	"math/rand/v2"
	"time"
)

// synthResult builds a result whose ops hold the given latencies.
func synthResult(scenario, scheme, canonical string, round int, d time.Duration, ops map[string][]time.Duration) *Result {
	r := &Result{Scenario: scenario, Scheme: scheme, Canonical: canonical, Round: round, Duration: d,
		Jobs: 10, Commands: 20, CPU: 0.1, Server: ServerStats{Requests: 30, OK: 30},
		Files: FileStats{Created: 12, Fsyncs: 20, PeakLive: 11, Live: 10}}
	for _, name := range []string{"cli.command_total", "cli.round_trip", "cli.handshake", "job.message", "uis.poll"} {
		samples, ok := ops[name]
		if !ok {
			continue
		}
		o := &Op{Name: name, Hist: NewHistogram(), Uncorrected: NewHistogram()}
		for _, s := range samples {
			o.Count++
			o.Hist.Record(s)
			o.Uncorrected.Record(s * 9 / 10)
		}
		r.Ops = append(r.Ops, o)
	}
	return r
}

// latencies returns n pseudo-random latencies around base (seeded, so
// tests are repeatable).
func latencies(seed uint64, n int, base time.Duration) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = base + time.Duration(rng.ExpFloat64()*float64(base)/4)
	}
	return out
}
