package issuerload

import (
	"fmt"
	"math"
	"time"
)

// dist is a queue-wait distribution W: the expectations the model needs.
type dist interface {
	// survival is P(W > x).
	survival(x time.Duration) float64
	// keepFresh is E[n(W)] under RefreshKeepFresh with window v.
	keepFresh(v time.Duration) float64
	// partialMean is E[W·1{a < W <= b}], in hours.
	partialMean(a, b time.Duration) float64
	// mean is E[W].
	mean() time.Duration
	// String describes the distribution.
	String() string
}

// dist validates w and returns its distribution.
func (w Waits) dist() (dist, error) {
	forms := 0
	if len(w.Empirical) > 0 {
		forms++
	}
	if len(w.Histogram) > 0 {
		forms++
	}
	if w.ExponentialMean != 0 {
		forms++
	}
	switch {
	case forms == 0:
		return nil, fieldErr("waits", "empty: give empirical_ns, histogram or exponential_mean_ns")
	case forms > 1:
		return nil, fieldErr("waits", "give only one of empirical_ns, histogram and exponential_mean_ns")
	case w.ExponentialMean != 0:
		if w.ExponentialMean < 0 {
			return nil, fieldErr("waits.exponential_mean_ns", "must be > 0, got %v", w.ExponentialMean)
		}
		return exponential{mu: w.ExponentialMean}, nil
	case len(w.Empirical) > 0:
		d := discrete{kind: "empirical"}
		for i, x := range w.Empirical {
			if x < 0 {
				return nil, fieldErr(fmt.Sprintf("waits.empirical_ns[%d]", i), "must be >= 0, got %v", x)
			}
			d.points = append(d.points, WaitShare{Wait: x, Share: 1 / float64(len(w.Empirical))})
		}
		return d, nil
	}
	d := discrete{kind: "histogram"}
	total := 0.0
	for i, b := range w.Histogram {
		if b.Wait < 0 {
			return nil, fieldErr(fmt.Sprintf("waits.histogram[%d].wait_ns", i), "must be >= 0, got %v", b.Wait)
		}
		if math.IsNaN(b.Share) || math.IsInf(b.Share, 0) || b.Share < 0 {
			return nil, fieldErr(fmt.Sprintf("waits.histogram[%d].share", i), "must be a number >= 0, got %v", b.Share)
		}
		total += b.Share
	}
	if total <= 0 {
		return nil, fieldErr("waits.histogram", "shares sum to %v, must be > 0", total)
	}
	for _, b := range w.Histogram {
		d.points = append(d.points, WaitShare{Wait: b.Wait, Share: b.Share / total})
	}
	return d, nil
}

// keepFreshCount is n(w) under RefreshKeepFresh with window v:
// ceil(w/v) − 1 = floor((w−1)/v) for whole nanoseconds w >= 1, else 0.
func keepFreshCount(w, v time.Duration) int64 {
	if w <= v {
		return 0
	}
	return int64((w - 1) / v)
}

// discrete is an empirical list or a histogram: waits with shares summing
// to 1.
type discrete struct {
	kind   string
	points []WaitShare
}

func (d discrete) survival(x time.Duration) float64 {
	p := 0.0
	for _, b := range d.points {
		if b.Wait > x {
			p += b.Share
		}
	}
	return p
}

func (d discrete) keepFresh(v time.Duration) float64 {
	e := 0.0
	for _, b := range d.points {
		e += b.Share * float64(keepFreshCount(b.Wait, v))
	}
	return e
}

func (d discrete) partialMean(a, b time.Duration) float64 {
	e := 0.0
	for _, p := range d.points {
		if p.Wait > a && p.Wait <= b {
			e += p.Share * p.Wait.Hours()
		}
	}
	return e
}

func (d discrete) mean() time.Duration {
	e := 0.0
	for _, b := range d.points {
		e += b.Share * float64(b.Wait)
	}
	return time.Duration(math.Round(e))
}

func (d discrete) String() string {
	unit := "waits"
	if d.kind == "histogram" {
		unit = "bars"
	}
	return fmt.Sprintf("%s, %d %s, mean %s", d.kind, len(d.points), unit, fmtDuration(d.mean()))
}

// exponential is an exponential wait of mean mu.
type exponential struct{ mu time.Duration }

func (e exponential) survival(x time.Duration) float64 {
	if x < 0 {
		return 1
	}
	return math.Exp(-float64(x) / float64(e.mu))
}

// keepFresh is Σ_{k>=1} P(W > kv) = q/(1 − q), q = e^(−v/mu).
func (e exponential) keepFresh(v time.Duration) float64 {
	q := e.survival(v)
	return q / (1 - q)
}

// partialMean is ∫_a^b w e^(−w/mu)/mu dw = (a+mu)e^(−a/mu) − (b+mu)e^(−b/mu).
func (e exponential) partialMean(a, b time.Duration) float64 {
	if b <= a {
		return 0
	}
	mu := e.mu.Hours()
	return (a.Hours()+mu)*e.survival(a) - (b.Hours()+mu)*e.survival(b)
}

func (e exponential) mean() time.Duration { return e.mu }

func (e exponential) String() string { return "exponential, mean " + fmtDuration(e.mu) }
