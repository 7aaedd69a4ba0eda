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

// BurstPacer sends Size hits spread evenly over Within, every Every: a user's
// script looping over tasks.
type BurstPacer struct {
	Size          int
	Within, Every time.Duration
}

// Pace implements Pacer.
func (p BurstPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.Size <= 0 {
		return 0, true
	}
	k, i := hits/uint64(p.Size), hits%uint64(p.Size)
	due := time.Duration(k)*p.Every + time.Duration(i)*(p.Within/time.Duration(p.Size))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements Pacer: the rate inside a burst, 0 between bursts.
func (p BurstPacer) Rate(elapsed time.Duration) float64 {
	if p.Every <= 0 || elapsed%p.Every >= p.Within {
		return 0
	}
	return float64(p.Size) / p.Within.Seconds()
}

// cliPacer returns the open-loop pacer of a CLI group, or nil for closed loop.
func cliPacer(g *CLIGroup) Pacer {
	switch {
	case g.Rate > 0:
		return ConstantPacer{PerSecond: g.Rate}
	case len(g.Stages) > 0:
		return RampPacer{Stages: g.Stages}
	case g.Burst != nil:
		return BurstPacer{Size: g.Burst.Size, Within: g.Burst.Within.D(), Every: g.Burst.Every.D()}
	}
	return nil
}

// askedRate is the mean rate a pacer asks for over d.
func askedRate(p Pacer, d time.Duration) float64 {
	if p == nil || d <= 0 {
		return 0
	}
	const steps = 1000
	sum := 0.0
	for i := 0; i < steps; i++ {
		sum += p.Rate(d * time.Duration(i) / steps)
	}
	return sum / steps
}
