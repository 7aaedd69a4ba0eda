package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"golang.org/x/perf/benchmath"
)

var (
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
)

func TestPaired(t *testing.T) {
	tests := []struct {
		name    string
		x, base map[int]float64
		want    []float64
	}{
		{"all rounds", map[int]float64{1: 10, 2: 12, 3: 11}, map[int]float64{1: 8, 2: 9, 3: 11}, []float64{2, 3, 0}},
		// Round 2 missing from base, round 4 from x: both skipped; the
		// rest in round order whatever the map order.
		{"missing rounds", map[int]float64{5: 1, 1: 10, 2: 12, 3: 11}, map[int]float64{3: 1, 1: 8, 4: 7, 5: 3}, []float64{2, 10, -2}},
		{"none shared", map[int]float64{1: 1}, map[int]float64{2: 1}, []float64{}},
		{"nil", nil, nil, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Paired(tc.x, tc.base); !slices.Equal(got, tc.want) {
				t.Errorf("Paired = %v, want %v", got, tc.want)
			}
		})
	}
}

// seq returns lo, lo+1, ..., hi shuffled deterministically.
func seq(lo, hi int) []float64 {
	var xs []float64
	for v := lo; v <= hi; v++ {
		xs = append(xs, float64(v))
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return xs
}

func TestMedianCI(t *testing.T) {
	// n = 20 at 0.95: the classic interval [x(6), x(15)], of confidence
	// 1 - 2*P(Bin(20, 1/2) <= 5) = 1 - 2*(1+20+190+1140+4845+15504)/2^20.
	conf20 := 1 - 2*21700.0/(1<<20)
	tests := []struct {
		name  string
		diffs []float64
		conf  float64
		want  Interval
	}{
		// 5 rounds: the best interval, [-Inf, x(5)] at 31/32, is half
		// open; it is widened to undecidable.
		{"n=5 undecidable", []float64{5, 1, 4, 2, 3}, 0.95, Interval{Center: 3, Lo: ninf, Hi: inf, N: 5}},
		// 6 rounds: [x(1), x(6)] = [min, max] at 1 - 2/64 = 0.96875.
		{"n=6 min..max", []float64{6, -1, 5, 2, 4, 3}, 0.95, Interval{Center: 3.5, Lo: -1, Hi: 6, Confidence: 62.0 / 64, N: 6}},
		{"n=20", seq(1, 20), 0.95, Interval{Center: 10.5, Lo: 6, Hi: 15, Confidence: conf20, N: 20}},
		// 0.90 needs 5 rounds: [x(1), x(5)] at 30/32.
		{"n=5 at 0.90", []float64{5, 1, 4, 2, 3}, 0.90, Interval{Center: 3, Lo: 1, Hi: 5, Confidence: 30.0 / 32, N: 5}},
		{"exact", []float64{4, 4, 4}, 0.95, Interval{Center: 4, Lo: 4, Hi: 4, Confidence: 1, N: 3, Exact: true}},
		{"exact two rounds", []float64{-2, -2}, 0.95, Interval{Center: -2, Lo: -2, Hi: -2, Confidence: 1, N: 2, Exact: true}},
		// One round cannot show that a figure is deterministic.
		{"one round", []float64{-2}, 0.95, Interval{Center: -2, Lo: ninf, Hi: inf, N: 1}},
		{"empty", nil, 0.95, Interval{Center: math.NaN(), Lo: ninf, Hi: inf}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.diffs)
			got := MedianCI(tc.diffs, tc.conf)
			if !sameInterval(got, tc.want) {
				t.Errorf("MedianCI = %+v, want %+v", got, tc.want)
			}
			if !slices.Equal(in, tc.diffs) {
				t.Errorf("MedianCI modified its input: %v, was %v", tc.diffs, in)
			}
			if got.Decidable() != !math.IsInf(tc.want.Lo, 0) {
				t.Errorf("Decidable = %v", got.Decidable())
			}
		})
	}
}

func sameInterval(a, b Interval) bool {
	eq := func(x, y float64) bool {
		return x == y || math.IsNaN(x) && math.IsNaN(y) || math.Abs(x-y) < 1e-12
	}
	return eq(a.Center, b.Center) && eq(a.Lo, b.Lo) && eq(a.Hi, b.Hi) && eq(a.Confidence, b.Confidence) &&
		a.N == b.N && a.Exact == b.Exact
}

// TestMedianCIMatchesBenchmath cross-checks MedianCI against benchmath
// itself for every n from 6 to 60 (both the exact binomial and the normal
// approximation benchmath uses above 30 rounds).
func TestMedianCIMatchesBenchmath(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 6; n <= 60; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = r.NormFloat64()*10 + 3
		}
		got := MedianCI(xs, 0.95)
		sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(xs), &benchmath.DefaultThresholds), 0.95)
		want := Interval{Center: sum.Center, Lo: sum.Lo, Hi: sum.Hi, Confidence: sum.Confidence, N: n}
		if !sameInterval(got, want) || got.Confidence < 0.95 {
			t.Errorf("n=%d: MedianCI = %+v, benchmath %+v", n, got, sum)
		}
	}
}

func TestMinRounds(t *testing.T) {
	// The interval [min, max] of n rounds has confidence 1 - 2^(1-n).
	tests := []struct {
		conf float64
		want int
	}{{0.95, 6}, {0.90, 5}, {0.99, 8}, {0.5, 2}, {1, 0}}
	for _, tc := range tests {
		if got := MinRounds(tc.conf); got != tc.want {
			t.Errorf("MinRounds(%v) = %d, want %d", tc.conf, got, tc.want)
		}
	}
	for _, conf := range []float64{0.9, 0.95, 0.99} {
		n := MinRounds(conf)
		if MedianCI(seq(1, n-1), conf).Decidable() || !MedianCI(seq(1, n), conf).Decidable() {
			t.Errorf("MinRounds(%v) = %d disagrees with MedianCI", conf, n)
		}
	}
}

func TestDecide(t *testing.T) {
	iv := Interval{Center: 1.5, Lo: 1, Hi: 2, Confidence: 0.96, N: 6}
	undecidable := MedianCI([]float64{1, 2, 3}, 0.95)
	exact := MedianCI([]float64{5, 5, 5}, 0.95)
	tests := []struct {
		name   string
		iv     Interval
		budget float64
		want   Decision
	}{
		{"below budget", iv, 3, Within},
		{"above budget", iv, 0, Over},
		{"straddles", iv, 1.5, Inconclusive},
		{"Hi touches budget", iv, 2, Inconclusive},
		{"Lo touches budget", iv, 1, Inconclusive},
		{"negative differences within 0", Interval{Center: -3, Lo: -4, Hi: -0.5, N: 6}, 0, Within},
		{"too few rounds", undecidable, 100, Inconclusive},
		{"too few rounds, below", undecidable, -100, Inconclusive},
		{"exact within", exact, 6, Within},
		{"exact over", exact, 4, Over},
		{"exact on budget", exact, 5, Inconclusive},
		{"NaN budget", iv, math.NaN(), Inconclusive},
	}
	for _, tc := range tests {
		if got := Decide(tc.iv, tc.budget); got != tc.want {
			t.Errorf("%s: Decide = %v, want %v", tc.name, got, tc.want)
		}
	}
	for d, want := range map[Decision]string{Within: "within budget", Over: "over budget", Inconclusive: "inconclusive", 7: "Decision(7)"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(d), d.String(), want)
		}
	}
	var zero Decision
	if zero != Inconclusive {
		t.Errorf("zero Decision is %v, want inconclusive", zero)
	}
}

func TestRoundsToDecide(t *testing.T) {
	tests := []struct {
		name   string
		diffs  []float64
		budget float64
		max    int
		wantN  int
		wantOK bool
	}{
		// Clearly separated: 6 rounds give [min, max], projected from
		// the observed ones as [10, 14].
		{"separated, n=5", seq(10, 14), 0, 100, 6, true},
		{"separated, budget above", seq(10, 14), 20, 100, 6, true},
		{"separated, n=3 still estimates", []float64{10, 12, 11}, 0, 100, 6, true},
		{"one round", []float64{10}, 0, 100, 6, true},
		{"max too small", seq(10, 14), 0, 5, 0, false},
		{"already decided", seq(10, 15), 0, 100, 6, true},
		// Median on the budget: never decides.
		{"centred on budget", []float64{-2, 1, 0, -1, 2}, 0, 1000, 0, false},
		{"centred, even n", []float64{-3, -1, 1, 3, -2, 2}, 0, 1000, 0, false},
		{"exact on budget", []float64{3, 3, 3}, 3, 1000, 0, false},
		{"exact off budget", []float64{3, 3, 3}, 0, 1000, 3, true},
		{"empty", nil, 0, 1000, 0, false},
		// By hand from {-1, 2, 3, 4, 5} against 0: the projected lower
		// bound is x(1) = -1 up to 8 rounds, x(2) at 9..11 rounds (rank
		// 2 of n read at position 1/3 + (5/3)/(n+1/3)*(16/3) < 4/3,
		// still below 0), and x(3) at 12 rounds: position 1/3 +
		// (8/3)/(37/3)*(16/3) = 1.4865, so -1 + 0.4865*3 = 0.46 > 0.
		{"hand computed", []float64{-1, 2, 3, 4, 5}, 0, 100, 12, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := RoundsToDecide(tc.diffs, tc.budget, 0.95, tc.max)
			if n != tc.wantN || ok != tc.wantOK {
				t.Errorf("RoundsToDecide = %d, %v, want %d, %v", n, ok, tc.wantN, tc.wantOK)
			}
			if ok && len(tc.diffs) < MinRounds(0.95) && !MedianCI(tc.diffs, 0.95).Exact && n < MinRounds(0.95) {
				t.Errorf("estimate %d below MinRounds", n)
			}
		})
	}
}

// TestProjectedCIAtObservedN checks that the projection at the observed
// number of rounds is the observed interval: the ranks and quantile
// positions agree with benchmath's.
func TestProjectedCIAtObservedN(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := 6; n <= 60; n++ {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = r.ExpFloat64() * 100
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		lo, hi, finite := projectedCI(sorted, n, 0.95)
		iv := MedianCI(xs, 0.95)
		if !finite || math.Abs(lo-iv.Lo) > 1e-9 || math.Abs(hi-iv.Hi) > 1e-9 {
			t.Errorf("n=%d: projected [%v, %v] (finite %v), observed [%v, %v]", n, lo, hi, finite, iv.Lo, iv.Hi)
		}
	}
}

// TestRoundsToDecideMonotonic: for a given noisy sample, a budget further
// from the median (on either side) never needs more rounds, and the n
// returned is the first whose projected interval excludes the budget.
func TestRoundsToDecideMonotonic(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 5; trial++ {
		diffs := make([]float64, 7)
		for i := range diffs {
			diffs[i] = r.NormFloat64()*5 + 2
		}
		center := MedianCI(diffs, 0.95).Center
		sorted := slices.Clone(diffs)
		slices.Sort(sorted)
		for _, side := range []float64{-1, 1} {
			prev, prevOK := 0, false
			for step := 1; step <= 40; step++ {
				budget := center + side*float64(step)*0.25
				n, ok := RoundsToDecide(diffs, budget, 0.95, 400)
				if prevOK && (!ok || n > prev) {
					t.Errorf("trial %d: budget %v needs %d (ok %v), nearer one needed %d", trial, budget, n, ok, prev)
				}
				if ok && n > len(diffs) {
					lo, hi, _ := projectedCI(sorted, n, 0.95)
					if lo <= budget && budget <= hi {
						t.Errorf("trial %d: budget %v: interval at %d is [%v, %v]", trial, budget, n, lo, hi)
					}
					for m := len(diffs) + 1; m < n; m++ {
						if lo, hi, finite := projectedCI(sorted, m, 0.95); finite && (hi < budget || lo > budget) {
							t.Errorf("trial %d: budget %v: %d rounds already decide, returned %d", trial, budget, m, n)
						}
					}
				}
				prev, prevOK = n, ok
			}
			if !prevOK {
				t.Errorf("trial %d: budget %v from the median never decided", trial, 10*side)
			}
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		x, y   []float64
		wantP  float64
		differ bool
	}{
		// Exact, complete separation. R: wilcox.test(1:3, 4:6)$p.value =
		// 0.1; benchstat prints p=0.100 n=3 and p=0.008 n=5.
		{"3+3 separated", []float64{1, 2, 3}, []float64{4, 5, 6}, 0.1, false},
		{"5+5 separated", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, 2.0 / 252, true},
		{"2+2 separated", []float64{5, 6}, []float64{1, 2}, 1.0 / 3, false},
		// Clearly different, larger: 2*1/C(16,8).
		{"8+8 separated", []float64{1, 2, 3, 4, 5, 6, 7, 8}, []float64{11, 12, 13, 14, 15, 16, 17, 18}, 2.0 / 12870, true},
		// Interleaved: U = 4 of 9 for 3+3, p = 1 (R gives 1).
		{"3+3 interleaved", []float64{1, 4, 5}, []float64{2, 3, 6}, 1, false},
		// U = 6: of all C(10,4) = 210 arrangements, 27 have U <= 6.
		{"4+6 exact", []float64{1, 3, 5, 7}, []float64{2, 4, 6, 8, 9, 10}, 54.0 / 210, false},
		{"identical values", []float64{3, 3, 3}, []float64{3, 3, 3}, 1, false},
		{"identical samples", []float64{1, 2, 3, 4, 5}, []float64{5, 4, 3, 2, 1}, 1, false},
		// Ties, exact conditional distribution (benchmath; the old
		// hand-written test used the normal approximation, p = 0.164):
		// groups {1}, {2,2,2}, {3}, {4} with midranks 1, 3, 5, 6; of the
		// C(6,3) = 20 ways to place the 3 x-values, 3 give U <= 1 (x
		// at 1 and two of the three 2s), so p = 2*3/20.
		{"ties", []float64{1, 2, 2}, []float64{2, 3, 4}, 0.3, false},
		{"empty", nil, []float64{1}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := slices.Clone(tc.x)
			p, differ := Compare(tc.x, tc.y, 0.05)
			if math.Abs(p-tc.wantP) > 1e-9 || differ != tc.differ {
				t.Errorf("Compare = %v, %v, want %v, %v", p, differ, tc.wantP, tc.differ)
			}
			if !slices.Equal(x, tc.x) {
				t.Errorf("Compare modified its input")
			}
		})
	}
}

func TestMinP(t *testing.T) {
	tests := []struct {
		n1, n2 int
		want   float64
	}{
		{3, 3, 0.1}, {4, 4, 2.0 / 70}, {5, 5, 2.0 / 252}, {1, 1, 1}, {0, 3, 1},
		// 3 against 5: 2/C(8,3).
		{3, 5, 2.0 / 56},
	}
	for _, tc := range tests {
		if got := MinP(tc.n1, tc.n2); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("MinP(%d, %d) = %v, want %v", tc.n1, tc.n2, got, tc.want)
		}
	}
}

func TestDecisionP(t *testing.T) {
	six := []float64{1, 2, 3, 4, 5, 6}
	for _, tc := range []struct {
		name   string
		diffs  []float64
		budget float64
		d      Decision
		want   float64
	}{
		// Six rounds decide only on their min-max interval (96.9 %).
		{"all six below", six, 10, Within, 1.0 / 64},
		{"all above", six, 0, Over, 1.0 / 64},
		{"inconclusive", six, 3.5, Inconclusive, 1},
		{"exact off the budget", []float64{2, 2, 2}, 5, Within, 0},
		{"none", nil, 5, Within, 1},
	} {
		if got := DecisionP(tc.diffs, tc.budget, tc.d); math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: DecisionP = %g, want %g", tc.name, got, tc.want)
		}
	}
}

// TestDecisionPMatchesInterval: a 95 % interval wholly on one side of the
// budget has a p-value of at most 2.5 %, and a budget further out never a
// larger one.
func TestDecisionPMatchesInterval(t *testing.T) {
	for n := 6; n <= 20; n++ {
		diffs := make([]float64, n)
		for i := range diffs {
			diffs[i] = float64(i)
		}
		last := 1.0
		for b := float64(n) / 2; b <= float64(n)+1; b += 0.5 {
			d := Decide(MedianCI(diffs, 0.95), b)
			p := DecisionP(diffs, b, d)
			if d != Inconclusive && p > 0.025 {
				t.Errorf("n=%d budget %g: decided %v with p %g > 2.5 %%", n, b, d, p)
			}
			if d == Within && p > last+1e-12 {
				t.Errorf("n=%d budget %g: p %g above the nearer budget's %g", n, b, p, last)
			}
			if d == Within {
				last = p
			}
		}
	}
}

func TestHolm(t *testing.T) {
	for _, tc := range []struct {
		name string
		ps   []float64
		want []bool
	}{
		// m=3 at 5 %: thresholds 1.67 %, 2.5 %, 5 %.
		{"all kept", []float64{0.01, 0.02, 0.04}, []bool{true, true, true}},
		{"step-down stops", []float64{0.01, 0.03, 0.04}, []bool{true, false, false}},
		{"order does not matter", []float64{0.04, 0.01, 0.02}, []bool{true, true, true}},
		{"none", []float64{0.02, 0.03, 0.04}, []bool{false, false, false}},
		{"empty", nil, []bool{}},
	} {
		got := Holm(tc.ps, 0.05)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Holm = %v, want %v", tc.name, got, tc.want)
		}
	}
}
