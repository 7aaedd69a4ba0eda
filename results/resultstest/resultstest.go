// Package resultstest makes synthetic results for tests: results whose ops
// hold given latencies, and seeded latencies around a base.
package resultstest

import (
	"math/rand/v2"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
)

// SynthResult builds a result whose ops (cli.command_total, cli.round_trip,
// cli.handshake, job.message, uis.poll: those ops names) hold the given
// latencies; its uncorrected histograms hold nine tenths of each.
func SynthResult(scenario, scheme, canonical string, round int, d time.Duration, ops map[string][]time.Duration) *results.Result {
	r := &results.Result{Scenario: scenario, Scheme: scheme, Canonical: canonical, Round: round, Duration: d,
		Jobs: 10, Commands: 20, CPU: 0.1, Server: counters.ServerStats{Requests: 30, OK: 30},
		Files: counters.FileStats{Created: 12, Fsyncs: 20, PeakLive: 11, Live: 10}}
	for _, name := range []string{"cli.command_total", "cli.round_trip", "cli.handshake", "job.message", "uis.poll"} {
		samples, ok := ops[name]
		if !ok {
			continue
		}
		o := &results.Op{Name: name, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}
		for _, s := range samples {
			o.Count++
			o.Hist.Record(s)
			o.Uncorrected.Record(s * 9 / 10)
		}
		r.Ops = append(r.Ops, o)
	}
	return r
}

// Latencies returns n pseudo-random latencies around base (seeded, so
// tests are repeatable).
func Latencies(seed uint64, n int, base time.Duration) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = base + time.Duration(rng.ExpFloat64()*float64(base)/4)
	}
	return out
}
