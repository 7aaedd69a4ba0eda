package vocab

import "slices"

// Spread is a figure taken over rounds: the median with the smallest and
// largest value, and how many rounds gave one.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n,omitempty"`
}

// SpreadOf returns the median, min and max of xs (N = 0 when xs is empty).
func SpreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Spread{Median: Median(s), Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Median returns the median of sorted values (0 when there are none).
func Median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
