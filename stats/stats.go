package stats

import (
	"fmt"
	"math"
	"slices"

	"golang.org/x/perf/benchmath"
)

// Interval is a confidence interval (95 % or another level) for the
// median of per-round paired differences (scheme minus baseline in the
// same round).
type Interval struct {
	// Center is the median of the differences (NaN when there are none).
	Center float64
	// Lo and Hi bound the confidence interval. They are -Inf and +Inf
	// when the rounds are too few for an interval at the asked
	// confidence: such an interval decides nothing.
	Lo, Hi float64
	// Confidence is the confidence level benchmath actually achieved
	// (at least the one asked, as the interval runs between order
	// statistics); 1 for an Exact interval and 0 when no interval could
	// be formed.
	Confidence float64
	// N is the number of rounds.
	N int
	// Exact is true when every difference is equal over two rounds or
	// more, as for a deterministic figure such as files per job: then
	// Lo = Hi = Center whatever the number of rounds. A single round
	// cannot tell such a figure from a noisy one and is not Exact.
	Exact bool
}

// Decidable reports whether the interval is finite, that is whether the
// rounds were enough (or the figure exact) for it to decide anything.
func (iv Interval) Decidable() bool {
	return !math.IsInf(iv.Lo, 0) && !math.IsInf(iv.Hi, 0) && !math.IsNaN(iv.Lo) && !math.IsNaN(iv.Hi)
}

// Paired returns x[r] - base[r] for every round r present in both maps,
// in increasing round order. Rounds present in only one map are skipped.
func Paired(x, base map[int]float64) []float64 {
	rounds := make([]int, 0, len(x))
	for r := range x {
		if _, ok := base[r]; ok {
			rounds = append(rounds, r)
		}
	}
	slices.Sort(rounds)
	diffs := make([]float64, len(rounds))
	for i, r := range rounds {
		diffs[i] = x[r] - base[r]
	}
	return diffs
}

// MedianCI summarises diffs by their median and its confidence interval
// at the given confidence (for example 0.95), with
// benchmath.AssumeNothing.Summary: a distribution-free interval between
// two order statistics chosen from the binomial distribution. With too
// few rounds for that confidence (fewer than MinRounds) benchmath gives a
// half-open interval and a warning; MedianCI then returns Lo = -Inf and
// Hi = +Inf with Confidence 0, so that too few rounds never decide —
// unless there are two values or more and all are equal, which gives an
// Exact interval. diffs is not modified.
func MedianCI(diffs []float64, confidence float64) Interval {
	n := len(diffs)
	iv := Interval{Center: math.NaN(), Lo: math.Inf(-1), Hi: math.Inf(1), N: n}
	if n == 0 {
		return iv
	}
	vals := slices.Clone(diffs)
	s := benchmath.NewSample(vals, &benchmath.DefaultThresholds) // sorts vals
	if n >= 2 && vals[0] == vals[n-1] {
		v := vals[0]
		return Interval{Center: v, Lo: v, Hi: v, Confidence: 1, N: n, Exact: true}
	}
	sum := benchmath.AssumeNothing.Summary(s, confidence)
	iv.Center = sum.Center
	if math.IsInf(sum.Lo, 0) || math.IsInf(sum.Hi, 0) {
		return iv
	}
	iv.Lo, iv.Hi, iv.Confidence = sum.Lo, sum.Hi, sum.Confidence
	return iv
}

// maxMinRounds bounds the search of MinRounds.
const maxMinRounds = 1 << 12

// MinRounds is the fewest rounds whose order-statistic interval for the
// median reaches the given confidence, as benchmath forms it: 6 for 0.95,
// 5 for 0.90, 8 for 0.99. It is 0 when no number of rounds does (a
// confidence of 1 or more).
func MinRounds(confidence float64) int {
	if confidence >= 1 || math.IsNaN(confidence) {
		return 0
	}
	for n := 1; n <= maxMinRounds; n++ {
		if lo, hi := medianRanks(n, confidence); lo >= 1 && hi <= n {
			return n
		}
	}
	return 0
}

// medianRanks returns the 1-based ranks of the order statistics that
// bound benchmath.AssumeNothing's confidence interval for the median of n
// values: lo < 1 or hi > n means that bound is infinite. The ranks are
// benchmath's own, read off a summary of the values 1..n.
func medianRanks(n int, confidence float64) (lo, hi int) {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(xs, &benchmath.DefaultThresholds), confidence)
	lo, hi = 0, n+1
	if !math.IsInf(sum.Lo, 0) {
		lo = int(sum.Lo)
	}
	if !math.IsInf(sum.Hi, 0) {
		hi = int(sum.Hi)
	}
	return lo, hi
}

// Decision is the verdict on one figure against its budget.
type Decision int

// Decisions. The zero value is Inconclusive, so that a Decision never
// claims a verdict it was not given.
const (
	// Inconclusive: the interval contains or touches the budget, or the
	// rounds are too few for an interval.
	Inconclusive Decision = iota
	// Within: the whole interval is below the budget.
	Within
	// Over: the whole interval is above the budget.
	Over
)

// String returns "within budget", "over budget" or "inconclusive".
func (d Decision) String() string {
	switch d {
	case Within:
		return "within budget"
	case Over:
		return "over budget"
	case Inconclusive:
		return "inconclusive"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Decide returns Within when the whole interval is below budget (Hi <
// budget), Over when it is wholly above (Lo > budget), and Inconclusive
// otherwise, including an interval whose bound equals the budget.
func Decide(iv Interval, budget float64) Decision {
	switch {
	case iv.Hi < budget:
		return Within
	case iv.Lo > budget:
		return Over
	}
	return Inconclusive
}

// RoundsToDecide estimates how many rounds in all would make the median's
// interval at the given confidence exclude budget, assuming further
// rounds are drawn from the distribution of the observed differences.
//
// When the observed interval (MedianCI) already decides, it returns
// len(diffs). Otherwise, for n from len(diffs)+1 up to maxRounds, it takes the
// order statistics that bound benchmath's interval at n rounds (ranks k
// chosen exactly as benchmath.AssumeNothing does, from the binomial
// distribution), estimates each as the empirical quantile of the observed
// differences at that rank's probability (k-1/3)/(n+1/3) — the
// median-unbiased position that matches benchmath's quantile definition
// (Hyndman-Fan type 8), so that at n = len(diffs) the estimate is the
// observed interval — and returns the first n whose interval excludes
// budget. Below MinRounds no interval is finite, so with fewer rounds
// than that the estimate is at least MinRounds(confidence).
//
// ok is false (and n 0) when no n up to maxRounds decides, for example when the
// median sits on the budget, or when diffs is empty. For a given sample,
// a budget further from the median never needs more rounds.
func RoundsToDecide(diffs []float64, budget, confidence float64, maxRounds int) (n int, ok bool) {
	if len(diffs) == 0 {
		return 0, false
	}
	iv := MedianCI(diffs, confidence)
	if Decide(iv, budget) != Inconclusive {
		return len(diffs), true
	}
	// Every projected interval contains the observed median, so a budget
	// on it is never excluded.
	if iv.Center == budget || math.IsNaN(budget) {
		return 0, false
	}
	sorted := slices.Clone(diffs)
	slices.Sort(sorted)
	for n := len(diffs) + 1; n <= maxRounds; n++ {
		lo, hi, finite := projectedCI(sorted, n, confidence)
		if finite && (hi < budget || lo > budget) {
			return n, true
		}
	}
	return 0, false
}

// projectedCI estimates the bounds of the median's interval at n rounds
// from the sorted observed values: benchmath's bounding ranks at n, each
// read as the observed quantile at its probability. finite is false when
// n rounds are too few for an interval.
func projectedCI(sorted []float64, n int, confidence float64) (lo, hi float64, finite bool) {
	klo, khi := medianRanks(n, confidence)
	if klo < 1 || khi > n {
		return math.Inf(-1), math.Inf(1), false
	}
	rankProb := func(k int) float64 { return (float64(k) - 1.0/3) / (float64(n) + 1.0/3) }
	return quantile(sorted, rankProb(klo)), quantile(sorted, rankProb(khi)), true
}

// quantile is the q-quantile of sorted values (len > 0) by Hyndman and
// Fan's type 8 interpolation, the one benchmath (go-moremath) uses for the
// median.
func quantile(sorted []float64, q float64) float64 {
	N := float64(len(sorted))
	pos := 1.0/3 + q*(N+1.0/3)
	// Absorb rounding so that a rank maps back onto itself.
	if r := math.Round(pos); math.Abs(pos-r) < 1e-9 {
		pos = r
	}
	kf, frac := math.Modf(pos)
	k := int(kf)
	switch {
	case k <= 0:
		return sorted[0]
	case k >= len(sorted):
		return sorted[len(sorted)-1]
	}
	return sorted[k-1] + frac*(sorted[k]-sorted[k-1])
}

// Compare tests whether two samples (for example the per-round values of
// an old and a new run) come from different distributions, with the
// two-sided Mann-Whitney U test of benchmath.AssumeNothing.Compare: exact
// for small samples, ties included, and otherwise by the normal
// approximation. It returns the p-value and whether p < alpha. When a
// sample is empty or every value is equal the test is meaningless and p is
// 1. old and new are not modified.
func Compare(old, new []float64, alpha float64) (p float64, differ bool) {
	th := benchmath.Thresholds{CompareAlpha: alpha}
	c := benchmath.AssumeNothing.Compare(
		benchmath.NewSample(slices.Clone(old), &th),
		benchmath.NewSample(slices.Clone(new), &th))
	p = math.Min(c.P, 1)
	return p, p < alpha
}

// MinP is the smallest p-value Compare can give for samples of n1 and n2
// values, that of two fully separated samples: with too few rounds
// (MinP >= alpha) no difference can be significant, for example 0.1 for
// 3 against 3. It is 1 when either sample is empty.
func MinP(n1, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 1
	}
	old := make([]float64, n1)
	new := make([]float64, n2)
	for i := range old {
		old[i] = float64(i)
	}
	for i := range new {
		new[i] = float64(n1 + i)
	}
	p, _ := Compare(old, new, 0)
	return p
}

// DecisionP is the one-sided p-value of the decision d of diffs against
// budget, as the interval of MedianCI decides it: (1-c)/2 for the highest
// confidence c at which the interval still lies wholly on d's side of the
// budget. A decision at confidence 0.95 has p at most 0.025; a min-max
// interval of n rounds (c = 1-2^(1-n)) has 2^-n, the sign test's. An Exact
// figure (every difference equal) off the budget has p 0; Inconclusive or
// an empty sample has p 1.
func DecisionP(diffs []float64, budget float64, d Decision) float64 {
	if d == Inconclusive || len(diffs) == 0 {
		return 1
	}
	decides := func(c float64) bool { return Decide(MedianCI(diffs, c), budget) == d }
	if iv := MedianCI(diffs, 0.5); iv.Exact {
		if decides(0.5) {
			return 0
		}
		return 1
	}
	if !decides(0.5) {
		return 1
	}
	lo, hi := 0.5, 1.0 // decides(lo) and, at c = 1, no finite interval does
	for range 40 {
		mid := (lo + hi) / 2
		if decides(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	// The interval runs between order statistics, so the confidence it
	// achieves at lo may exceed lo: take the achieved one.
	c := max(lo, MedianCI(diffs, lo).Confidence)
	return (1 - c) / 2
}

// Holm applies Holm's step-down procedure to the p-values of a family of
// tests at family-wise level alpha: rejected[i] reports whether test i is
// still rejected (its decision kept) once the family is allowed for.
func Holm(ps []float64, alpha float64) []bool {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	rejected := make([]bool, len(ps))
	m := len(ps)
	for rank, i := range idx {
		if ps[i] > alpha/float64(m-rank) {
			break
		}
		rejected[i] = true
	}
	return rejected
}
