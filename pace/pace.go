package pace

import (
	"math"
	"math/rand/v2"
	"sync"
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

// Constant paces hits at a fixed rate per second.
type Constant struct {
	PerSecond float64
}

// Pace implements Pacer: hit n is due at n/PerSecond; a rate that is not
// positive stops.
func (p Constant) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if !(p.PerSecond > 0) {
		return 0, true
	}
	due := time.Duration(float64(hits) / p.PerSecond * float64(time.Second))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// Rate implements Pacer.
func (p Constant) Rate(time.Duration) float64 { return p.PerSecond }

// Stage is one step of a ramp: the rate rises linearly from the previous
// stage's rate to Rate over Duration.
type Stage struct {
	Duration time.Duration
	Rate     float64
}

// Ramp paces hits along linear ramps between stages, starting from Start
// hits/s; after the last stage it stops.
type Ramp struct {
	Start  float64
	Stages []Stage
}

// Rate implements Pacer.
func (p Ramp) Rate(elapsed time.Duration) float64 {
	from, t := p.Start, elapsed
	for _, s := range p.Stages {
		d := s.Duration
		if t < d {
			return from + (s.Rate-from)*t.Seconds()/d.Seconds()
		}
		t -= d
		from = s.Rate
	}
	return 0
}

// hitsBy is the number of hits due by elapsed: the integral of the rate.
func (p Ramp) hitsBy(elapsed time.Duration) float64 {
	from, t, n := p.Start, elapsed, 0.0
	for _, s := range p.Stages {
		d := s.Duration.Seconds()
		x := math.Min(t.Seconds(), d)
		n += from*x + (s.Rate-from)*x*x/(2*d)
		if t.Seconds() <= d {
			return n
		}
		t -= s.Duration
		from = s.Rate
	}
	return n
}

// Pace implements Pacer by searching for the time the next hit is due.
func (p Ramp) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	var total time.Duration
	for _, s := range p.Stages {
		total += s.Duration
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

// Burst sends Size hits spread evenly over Within, every Every: a user's
// script looping over tasks.
type Burst struct {
	Size          int
	Within, Every time.Duration
}

// Pace implements Pacer.
func (p Burst) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
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
func (p Burst) Rate(elapsed time.Duration) float64 {
	if p.Every <= 0 || elapsed%p.Every >= p.Within {
		return 0
	}
	return float64(p.Size) / p.Within.Seconds()
}

// Poisson paces hits as a Poisson process of mean rate PerSecond: the gaps
// between hits are independent and exponential with mean 1/PerSecond, drawn
// from a PCG generator seeded with (Seed, Stream), so that a seed gives the
// same arrivals on every run. Hit 0 is due at 0 and hit n at the sum of the
// first n gaps.
//
// Use it by pointer (*Poisson implements Pacer). Pace is a pure function of
// (elapsed, hits): the pacer keeps the last hit's due time and the
// generator's state, so the dispatcher's sequential calls (hits = 0, 1, 2,
// ...) cost one draw each, a repeated call with the same hits costs nothing,
// and a call with fewer hits than the last replays the sequence from the
// seed. It is safe for concurrent use.
type Poisson struct {
	PerSecond float64
	Seed      uint64
	// Stream selects an independent sequence for the same Seed (one per
	// client group).
	Stream uint64

	mu      sync.Mutex
	rng     *rand.Rand
	key     poissonKey // the parameters rng was seeded for
	n       uint64     // the last hit asked for
	due     float64    // its due time in seconds
	started bool
}

type poissonKey struct {
	perSecond    float64
	seed, stream uint64
}

// Pace implements Pacer: hit n is due at the sum of the first n exponential
// gaps; a rate that is not positive stops.
func (p *Poisson) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if !(p.PerSecond > 0) {
		return 0, true
	}
	due := seconds(p.dueAt(hits))
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}

// dueAt is hit n's due time in seconds; PerSecond is positive (not NaN).
func (p *Poisson) dueAt(n uint64) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := poissonKey{p.PerSecond, p.Seed, p.Stream}
	if !p.started || n < p.n || key != p.key {
		p.rng = rand.New(rand.NewPCG(p.Seed, p.Stream))
		p.key, p.n, p.due, p.started = key, 0, 0, true
	}
	for ; p.n < n; p.n++ {
		// Inverse transform (rather than ExpFloat64's ziggurat) so that
		// the sequence depends only on PCG's specified output;
		// 1-Float64() is in (0, 1], so the log is finite.
		p.due += -math.Log(1-p.rng.Float64()) / p.PerSecond
	}
	return p.due
}

// Rate implements Pacer: the asked mean rate.
func (p *Poisson) Rate(time.Duration) float64 { return p.PerSecond }

// seconds converts seconds to a Duration, saturating instead of overflowing.
func seconds(s float64) time.Duration {
	if ns := s * float64(time.Second); ns < math.MaxInt64 {
		return time.Duration(ns)
	}
	return math.MaxInt64
}

// AskedRate is the mean rate p asks for over d (0 for a nil pacer or no
// time), sampled at the start of 1,000 equal steps.
func AskedRate(p Pacer, d time.Duration) float64 {
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
