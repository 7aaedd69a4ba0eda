package results

import (
	"math"
	"sort"
)

// MannWhitneyU runs the two-sided Mann-Whitney U (Wilcoxon rank-sum) test
// of samples x and y, as benchstat does over repeated runs. It returns U for
// x and the p-value. The p-value is exact (from the distribution of U) when
// there are no ties and both samples are small, and otherwise from the
// normal approximation with tie and continuity corrections. When every
// value is equal, or a sample is empty, p is 1.
func MannWhitneyU(x, y []float64) (u, p float64) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	type obs struct {
		v float64
		x bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].v < all[j].v })
	// Midranks, and the tie term sum(t^3 - t).
	var rx, ties float64
	tied := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		t := float64(j - i)
		if t > 1 {
			tied = true
			ties += t*t*t - t
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1..j
		for k := i; k < j; k++ {
			if all[k].x {
				rx += rank
			}
		}
		i = j
	}
	f1, f2 := float64(n1), float64(n2)
	u = rx - f1*(f1+1)/2
	n := f1 + f2
	if !tied && n1 <= 50 && n2 <= 50 {
		return u, exactUPValue(n1, n2, u)
	}
	mu := f1 * f2 / 2
	sigma2 := f1 * f2 / 12 * ((n + 1) - ties/(n*(n-1)))
	if sigma2 <= 0 {
		return u, 1
	}
	d := math.Abs(u-mu) - 0.5
	if d < 0 {
		d = 0
	}
	z := d / math.Sqrt(sigma2)
	p = math.Erfc(z / math.Sqrt2)
	return u, math.Min(p, 1)
}

// exactUPValue is the two-sided p-value of U = u for samples of n1 and n2
// without ties, from the exact distribution of U.
func exactUPValue(n1, n2 int, u float64) float64 {
	dist := uDistribution(n1, n2)
	var total float64
	for _, c := range dist {
		total += c
	}
	k := int(math.Round(u))
	var lo, hi float64
	for i, c := range dist {
		if i <= k {
			lo += c
		}
		if i >= k {
			hi += c
		}
	}
	p := 2 * math.Min(lo, hi) / total
	return math.Min(p, 1)
}

// uDistribution returns, for i = 0..n1*n2, the number of arrangements of
// n1 x-values and n2 y-values with U = i, by the recurrence
// f(m, n, k) = f(m-1, n, k-n) + f(m, n-1, k).
func uDistribution(n1, n2 int) []float64 {
	// prev[n][k] holds f(m-1, n, k); cur[n][k] holds f(m, n, k).
	maxU := n1 * n2
	prev := make([][]float64, n2+1)
	for n := range prev {
		prev[n] = make([]float64, maxU+1)
		prev[n][0] = 1 // f(0, n, 0) = 1
	}
	for m := 1; m <= n1; m++ {
		cur := make([][]float64, n2+1)
		for n := 0; n <= n2; n++ {
			cur[n] = make([]float64, maxU+1)
			for k := 0; k <= maxU; k++ {
				var v float64
				if k-n >= 0 {
					v += prev[n][k-n]
				}
				if n > 0 {
					v += cur[n-1][k]
				}
				cur[n][k] = v
			}
		}
		prev = cur
	}
	return prev[n2]
}

// MinPValue is the smallest two-sided p-value the Mann-Whitney U test can
// give for samples of n1 and n2 values: with too few rounds no difference
// can be significant.
func MinPValue(n1, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	return exactUPValue(n1, n2, 0)
}
