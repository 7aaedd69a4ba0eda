package scenarios

import (
	"math"
	"time"
)

// Pacer decides when the next hit of an open-loop load is due: given the
// time elapsed since the start and the hits sent so far, it returns how long
// to wait before the next one, or stop.
type Pacer interface {
	Pace(elapsed time.Duration, hits uint64) (wait time.Duration, stop bool)
	// Rate is the asked rate (hits/s) at elapsed.
	Rate(elapsed time.Duration) float64
}

// ConstantPacer paces hits at a fixed rate per second.
type ConstantPacer struct {
	PerSecond float64
}

// Pace implements Pacer: hit n is due at n/PerSecond.
func (p ConstantPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.PerSecond <= 0 {
		return 0, true
	}
	due := time.Duration(float64(hits) / p.PerSecond * float64(time.Second))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements Pacer.
func (p ConstantPacer) Rate(time.Duration) float64 { return p.PerSecond }

// Stage is one step of a ramp: the rate rises linearly from the previous
// stage's rate to Rate over Duration.
type Stage struct {
	Duration Duration `yaml:"duration"`
	Rate     float64  `yaml:"rate"`
}

// RampPacer paces hits along linear ramps between stages, starting from
// Start hits/s; after the last stage it stops.
type RampPacer struct {
	Start  float64
	Stages []Stage
}

// Rate implements Pacer.
func (p RampPacer) Rate(elapsed time.Duration) float64 {
	from, t := p.Start, elapsed
	for _, s := range p.Stages {
		d := s.Duration.D()
		if t < d {
			return from + (s.Rate-from)*t.Seconds()/d.Seconds()
		}
		t -= d
		from = s.Rate
	}
	return 0
}

// hitsBy is the number of hits due by elapsed: the integral of the rate.
func (p RampPacer) hitsBy(elapsed time.Duration) float64 {
	from, t, n := p.Start, elapsed, 0.0
	for _, s := range p.Stages {
		d := s.Duration.D().Seconds()
		x := math.Min(t.Seconds(), d)
		n += from*x + (s.Rate-from)*x*x/(2*d)
		if t.Seconds() <= d {
			return n
		}
		t -= s.Duration.D()
		from = s.Rate
	}
	return n
}

// Pace implements Pacer by searching for the time the next hit is due.
func (p RampPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	var total time.Duration
	for _, s := range p.Stages {
		total += s.Duration.D()
	}
	if elapsed >= total {
		return 0, true
	}
	if p.hitsBy(elapsed) >= float64(hits+1) {
		return 0, false
	}
	if p.hitsBy(total) < float64(hits+1) {
		return 0, true
	}
	lo, hi := elapsed, total
	for hi-lo > time.Microsecond {
		mid := lo + (hi-lo)/2
		if p.hitsBy(mid) >= float64(hits+1) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - elapsed, false
}
