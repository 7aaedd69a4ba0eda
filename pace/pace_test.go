package pace_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/pace/pacetest"
)

// These tests are pure: no servers, no sleeping, no wall clock.
// pacetest.Simulate plays the dispatcher with timers that fire exactly on
// time.

// count is the number of due times in [from, to).
func count(due []time.Duration, from, to time.Duration) int {
	n := 0
	for _, d := range due {
		if d >= from && d < to {
			n++
		}
	}
	return n
}

func TestConstant(t *testing.T) {
	cases := []struct {
		rate float64
		T    time.Duration
	}{
		{1, 10 * time.Second},
		{10, 10 * time.Second},
		{100, 10 * time.Second},
		{3, 10 * time.Second}, // 1/3 s is not a whole number of nanoseconds
		{7, time.Second},
		{0.5, 9 * time.Second},
		{1000, 2 * time.Second},
		{1e6, 10 * time.Millisecond},
	}
	for _, c := range cases {
		p := pace.Constant{PerSecond: c.rate}
		due, stopped := pacetest.Simulate(t, p, c.T)
		if stopped {
			t.Fatalf("rate %g: stopped", c.rate)
		}
		if want := c.rate * c.T.Seconds(); math.Abs(float64(len(due))-want) > 1 {
			t.Errorf("rate %g over %v: %d hits, want %g ± 1", c.rate, c.T, len(due), want)
		}
		gap := time.Second.Seconds() / c.rate * 1e9 // ns
		for n, d := range due {
			// No drift: hit n is due at n/rate exactly (to the ns).
			if want := time.Duration(float64(n) / c.rate * float64(time.Second)); d != want {
				t.Fatalf("rate %g: hit %d due at %v, want %v", c.rate, n, d, want)
			}
			if n > 0 && math.Abs(float64(d-due[n-1])-gap) > 1 {
				t.Fatalf("rate %g: gap before hit %d is %v, want %gns", c.rate, n, d-due[n-1], gap)
			}
		}
		// Late: a hit past its due time goes at once.
		if wait, stop := p.Pace(c.T, 1); wait != 0 || stop {
			t.Errorf("rate %g: late hit waits %v (stop %v), want 0", c.rate, wait, stop)
		}
		if got := p.Rate(c.T / 2); got != c.rate {
			t.Errorf("Rate = %g, want %g", got, c.rate)
		}
	}
	for _, r := range []float64{0, -1} {
		if _, stop := (pace.Constant{PerSecond: r}).Pace(0, 0); !stop {
			t.Errorf("rate %g does not stop", r)
		}
	}
}

// stage is a ramp's stage of d at rate.
func stage(d time.Duration, rate float64) pace.Stage { return pace.Stage{Duration: d, Rate: rate} }

func TestRamp(t *testing.T) {
	sec := time.Second
	cases := []struct {
		name   string
		p      pace.Ramp
		cum    []float64 // hits by the end of each stage: the integral of the rate
		silent [][2]time.Duration
	}{
		{"up hold down", pace.Ramp{Stages: []pace.Stage{stage(10*sec, 10), stage(10*sec, 10), stage(10*sec, 0)}}, []float64{50, 150, 200}, nil},
		{"0 to R over D", pace.Ramp{Stages: []pace.Stage{stage(10*sec, 100)}}, []float64{500}, nil},
		{"zero-rate stage", pace.Ramp{Stages: []pace.Stage{stage(2*sec, 10), stage(3*sec, 0), stage(3*sec, 0), stage(2*sec, 10)}},
			[]float64{10, 25, 25, 35}, [][2]time.Duration{{5*sec + time.Millisecond, 8 * sec}}},
		{"leading zero stage", pace.Ramp{Stages: []pace.Stage{stage(5*sec, 0), stage(sec, 10)}}, []float64{0, 5}, [][2]time.Duration{{0, 5 * sec}}},
		{"single stage constant", pace.Ramp{Start: 10, Stages: []pace.Stage{stage(10*sec, 10)}}, []float64{100}, nil},
		{"single stage down", pace.Ramp{Start: 20, Stages: []pace.Stage{stage(10*sec, 0)}}, []float64{100}, nil},
		{"all zero", pace.Ramp{Stages: []pace.Stage{stage(5*sec, 0)}}, []float64{0}, [][2]time.Duration{{0, 5 * sec}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var total time.Duration
			for _, x := range c.p.Stages {
				total += x.Duration
			}
			due, stopped := pacetest.Simulate(t, c.p, total+time.Hour)
			if !stopped {
				t.Fatal("did not stop after the last stage")
			}
			if len(due) > 0 && due[len(due)-1] > total {
				t.Errorf("hit due at %v, after the last stage ends at %v", due[len(due)-1], total)
			}
			var end time.Duration
			for i, x := range c.p.Stages {
				end += x.Duration
				// Due times are found to 1µs.
				got := count(due, 0, end+time.Microsecond)
				if math.Abs(float64(got)-c.cum[i]) > 1 {
					t.Errorf("by the end of stage %d (%v): %d hits, want %g ± 1", i, end, got, c.cum[i])
				}
			}
			for _, w := range c.silent {
				if n := count(due, w[0], w[1]); n != 0 {
					t.Errorf("%d hits in [%v, %v), want none", n, w[0], w[1])
				}
			}
			for _, n := range []uint64{0, uint64(len(due)), 1 << 40} {
				if _, stop := c.p.Pace(total, n); !stop {
					t.Errorf("Pace(end, %d) does not stop", n)
				}
			}
			if r := c.p.Rate(total); r != 0 {
				t.Errorf("Rate after the last stage = %g, want 0", r)
			}
		})
	}

	// A constant single stage spaces hits evenly (to the search's 1µs).
	p := pace.Ramp{Start: 10, Stages: []pace.Stage{stage(10*sec, 10)}}
	due, _ := pacetest.Simulate(t, p, time.Hour)
	for n := 1; n < len(due); n++ {
		if g := due[n] - due[n-1]; g < 100*time.Millisecond-2*time.Microsecond || g > 100*time.Millisecond+2*time.Microsecond {
			t.Fatalf("gap before hit %d is %v, want 100ms", n, g)
		}
	}
	// Rate is linear inside a stage.
	up := pace.Ramp{Start: 10, Stages: []pace.Stage{stage(10*sec, 30), stage(10*sec, 30)}}
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{0, 10}, {5 * sec, 20}, {10 * sec, 30}, {15 * sec, 30}, {20 * sec, 0}} {
		if got := up.Rate(c.at); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Rate(%v) = %g, want %g", c.at, got, c.want)
		}
	}
}

func TestBurst(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		p    pace.Burst
	}{
		{"bursts with gaps", pace.Burst{Size: 5, Within: 1000 * ms, Every: 4000 * ms}},
		{"uneven spacing", pace.Burst{Size: 3, Within: 1000 * ms, Every: 2000 * ms}},
		{"continuous", pace.Burst{Size: 4, Within: 1000 * ms, Every: 1000 * ms}},
		{"size 1", pace.Burst{Size: 1, Within: 100 * ms, Every: 1000 * ms}},
		{"size 1 continuous", pace.Burst{Size: 1, Within: 1000 * ms, Every: 1000 * ms}},
	}
	const bursts = 5
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := c.p
			due, stopped := pacetest.Simulate(t, p, bursts*p.Every)
			if stopped {
				t.Fatal("stopped")
			}
			if len(due) != bursts*p.Size {
				t.Errorf("%d hits in %d bursts, want %d", len(due), bursts, bursts*p.Size)
			}
			for k := 0; k < bursts; k++ {
				start := time.Duration(k) * p.Every
				if n := count(due, start, start+p.Within); n != p.Size {
					t.Errorf("burst %d: %d hits in [%v, %v), want %d", k, n, start, start+p.Within, p.Size)
				}
				if n := count(due, start+p.Within, start+p.Every); n != 0 {
					t.Errorf("%d hits between bursts %d and %d, want none", n, k, k+1)
				}
				// The burst starts at Every, not after the previous one.
				if i := k * p.Size; i < len(due) && due[i] != start {
					t.Errorf("burst %d starts at %v, want %v", k, due[i], start)
				}
				for i := 1; i < p.Size && k*p.Size+i < len(due); i++ {
					if g := due[k*p.Size+i] - due[k*p.Size+i-1]; g != p.Within/time.Duration(p.Size) {
						t.Errorf("burst %d: gap %v, want %v", k, g, p.Within/time.Duration(p.Size))
					}
				}
			}
			if p.Within == p.Every && p.Within%time.Duration(p.Size) == 0 {
				for i := 1; i < len(due); i++ {
					if g := due[i] - due[i-1]; g != p.Within/time.Duration(p.Size) {
						t.Fatalf("continuous: gap before hit %d is %v, want %v", i, g, p.Within/time.Duration(p.Size))
					}
				}
			}
			in := float64(p.Size) / p.Within.Seconds()
			if got := p.Rate(p.Every + p.Within/2); got != in {
				t.Errorf("Rate inside a burst = %g, want %g", got, in)
			}
			if p.Within < p.Every {
				if got := p.Rate(p.Every + (p.Within+p.Every)/2); got != 0 {
					t.Errorf("Rate between bursts = %g, want 0", got)
				}
			}
		})
	}
	if _, stop := (pace.Burst{Size: 0, Within: time.Second, Every: time.Second}).Pace(0, 0); !stop {
		t.Error("size 0 does not stop")
	}
}

// poissonStats are the statistics of a Poisson pacer's gaps.
type poissonStats struct {
	hits            int
	meanGap, cv     float64 // s; sd/mean
	overMean, under float64 // fraction of gaps above 1/rate; below 0
}

func poissonRun(t *testing.T, p pace.Pacer, rate float64, T time.Duration) poissonStats {
	due, stopped := pacetest.Simulate(t, p, T)
	if stopped {
		t.Fatal("stopped")
	}
	var sum, sum2 float64
	var over, neg int
	for i := 1; i < len(due); i++ {
		g := (due[i] - due[i-1]).Seconds()
		sum += g
		sum2 += g * g
		if g > 1/rate {
			over++
		}
		if g < 0 {
			neg++
		}
	}
	n := float64(len(due) - 1)
	mean := sum / n
	sd := math.Sqrt(sum2/n - mean*mean)
	return poissonStats{hits: len(due), meanGap: mean, cv: sd / mean, overMean: float64(over) / n, under: float64(neg) / n}
}

func TestPoissonStatistics(t *testing.T) {
	const rate = 100.0
	T := 1000 * time.Second
	for _, seed := range []uint64{1, 20260101} {
		st := poissonRun(t, &pace.Poisson{PerSecond: rate, Seed: seed}, rate, T)
		want := rate * T.Seconds()
		t.Logf("seed %d: %d hits, mean gap %.6fs, cv %.4f, above mean %.4f", seed, st.hits, st.meanGap, st.cv, st.overMean)
		// The count is Poisson(rate*T) (+1: hit 0 is at 0): 3.29 sd is
		// the two-sided 99.9 % bound.
		if d := math.Abs(float64(st.hits) - want); d > 3.29*math.Sqrt(want) {
			t.Errorf("seed %d: %d hits in %v, want %g ± %.0f", seed, st.hits, T, want, 3.29*math.Sqrt(want))
		}
		n := float64(st.hits - 1)
		// The mean gap's sd is (1/rate)/sqrt(n): 4 sd.
		if d := math.Abs(st.meanGap*rate - 1); d > 4/math.Sqrt(n) {
			t.Errorf("seed %d: mean gap %gs, want %gs ± %.2f%%", seed, st.meanGap, 1/rate, 400/math.Sqrt(n))
		}
		// An exponential's coefficient of variation is 1; its estimate's
		// sd is about sqrt(2/n) (0.45 % here), so 5 % is over 10 sd and
		// tells exponential gaps from even (cv 0) or bunched ones.
		if math.Abs(st.cv-1) > 0.05 {
			t.Errorf("seed %d: coefficient of variation of gaps %.4f, want 1 ± 0.05", seed, st.cv)
		}
		// P(gap > mean) = 1/e for an exponential; sd 0.15 % here.
		if math.Abs(st.overMean-1/math.E) > 0.01 {
			t.Errorf("seed %d: %.4f of gaps above the mean, want 1/e = %.4f ± 0.01", seed, st.overMean, 1/math.E)
		}
		if st.under != 0 {
			t.Errorf("seed %d: negative gaps", seed)
		}
	}
}

func TestPoissonDeterminism(t *testing.T) {
	T := 10 * time.Second
	a, _ := pacetest.Simulate(t, &pace.Poisson{PerSecond: 100, Seed: 7}, T)
	b, _ := pacetest.Simulate(t, &pace.Poisson{PerSecond: 100, Seed: 7}, T)
	if len(a) < 500 || len(a) != len(b) {
		t.Fatalf("same seed: %d and %d hits", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed: hit %d due at %v and %v", i, a[i], b[i])
		}
	}
	differs := func(p *pace.Poisson) bool {
		c, _ := pacetest.Simulate(t, p, T)
		for i := 1; i < min(len(a), len(c)); i++ {
			if a[i] != c[i] {
				return true
			}
		}
		return len(a) != len(c)
	}
	if !differs(&pace.Poisson{PerSecond: 100, Seed: 8}) {
		t.Error("different seeds give the same arrivals")
	}
	if !differs(&pace.Poisson{PerSecond: 100, Seed: 7, Stream: 1}) {
		t.Error("different streams give the same arrivals")
	}
	// The rate scales the gaps of the same sequence.
	c, _ := pacetest.Simulate(t, &pace.Poisson{PerSecond: 200, Seed: 7}, T/2)
	for i := 0; i < min(len(a), len(c)); i++ {
		if d := a[i] - 2*c[i]; d < -2 || d > 2 {
			t.Fatalf("rate 200: hit %d due at %v, want half of %v", i, c[i], a[i])
		}
	}
}

// TestPoissonPure checks that Pace depends only on (elapsed, hits), not
// on the calls before: repeated, backwards, out of order or concurrent.
func TestPoissonPure(t *testing.T) {
	ref, _ := pacetest.Simulate(t, &pace.Poisson{PerSecond: 50, Seed: 3}, 40*time.Second)
	if len(ref) < 1000 {
		t.Fatalf("%d hits", len(ref))
	}
	check := func(p *pace.Poisson, n int) {
		t.Helper()
		if wait, stop := p.Pace(0, uint64(n)); stop || wait != ref[n] {
			t.Fatalf("Pace(0, %d) = %v, %v; want %v", n, wait, stop, ref[n])
		}
		if wait, stop := p.Pace(ref[n]+time.Millisecond, uint64(n)); stop || wait != 0 {
			t.Fatalf("late Pace(_, %d) = %v, %v; want 0", n, wait, stop)
		}
		if n > 0 {
			if wait, _ := p.Pace(ref[n-1], uint64(n)); wait != ref[n]-ref[n-1] {
				t.Fatalf("Pace(due[%d], %d) = %v; want %v", n-1, n, wait, ref[n]-ref[n-1])
			}
		}
	}
	p := &pace.Poisson{PerSecond: 50, Seed: 3}
	for _, n := range []int{0, 0, 5, 5, 4, 999, 998, 0, 1, 500, 500} {
		check(p, n)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(1000)
	for _, n := range order[:200] {
		check(p, n)
	}
	// Changing the parameters starts the sequence they give.
	p.PerSecond, p.Seed = 100, 7
	fresh := &pace.Poisson{PerSecond: 100, Seed: 7}
	for n := uint64(0); n < 100; n++ {
		w1, _ := p.Pace(0, n)
		w2, _ := fresh.Pace(0, n)
		if w1 != w2 {
			t.Fatalf("after changing the parameters, hit %d due at %v, want %v", n, w1, w2)
		}
	}
	// Concurrent callers (run with -race).
	shared := &pace.Poisson{PerSecond: 50, Seed: 3}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				n := (i*7 + g*250) % 1000
				if wait, _ := shared.Pace(0, uint64(n)); wait != ref[n] {
					errs <- "concurrent Pace differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestPoissonStops(t *testing.T) {
	for _, r := range []float64{0, -1, math.NaN()} {
		if _, stop := (&pace.Poisson{PerSecond: r, Seed: 1}).Pace(0, 0); !stop {
			t.Errorf("rate %g does not stop", r)
		}
	}
	p := &pace.Poisson{PerSecond: 25, Seed: 1}
	if got := p.Rate(time.Hour); got != 25 {
		t.Errorf("Rate = %g, want 25", got)
	}
	if wait, stop := p.Pace(0, 0); wait != 0 || stop {
		t.Errorf("hit 0: Pace = %v, %v; want 0 (due at the start)", wait, stop)
	}
	// A tiny rate saturates instead of overflowing.
	tiny := &pace.Poisson{PerSecond: 1e-300, Seed: 1}
	if wait, stop := tiny.Pace(0, 3); stop || wait <= 0 {
		t.Errorf("tiny rate: Pace = %v, %v; want a long positive wait", wait, stop)
	}
}

func TestAskedRate(t *testing.T) {
	sec := time.Second
	cases := []struct {
		name string
		p    pace.Pacer
		d    time.Duration
		want float64
		tol  float64
	}{
		{"nil", nil, 10 * sec, 0, 0},
		{"no time", pace.Constant{PerSecond: 5}, 0, 0, 0},
		{"constant", pace.Constant{PerSecond: 50}, 10 * sec, 50, 1e-9},
		// AskedRate samples at the start of 1000 steps: a linear ramp
		// is under by half a step (0.05 here).
		{"ramp 0 to 100", pace.Ramp{Stages: []pace.Stage{stage(10*sec, 100)}}, 10 * sec, 50, 0.1},
		{"ramp then stopped", pace.Ramp{Stages: []pace.Stage{stage(10*sec, 100)}}, 20 * sec, 25, 0.1},
		{"ramp up hold down", pace.Ramp{Stages: []pace.Stage{stage(10*sec, 10), stage(10*sec, 10), stage(10*sec, 0)}}, 30 * sec, 200.0 / 30, 0.02},
		{"burst", pace.Burst{Size: 10, Within: sec, Every: 4 * sec}, 40 * sec, 2.5, 1e-9},
		{"burst continuous", pace.Burst{Size: 4, Within: sec, Every: sec}, 10 * sec, 4, 1e-9},
		{"poisson", &pace.Poisson{PerSecond: 100, Seed: 1}, 10 * sec, 100, 1e-9},
	}
	for _, c := range cases {
		if got := pace.AskedRate(c.p, c.d); math.Abs(got-c.want) > c.tol {
			t.Errorf("%s: AskedRate = %g, want %g ± %g", c.name, got, c.want, c.tol)
		}
	}
}
