package results

import (
	"fmt"
	"math"
	"strconv"
)

// MinOps is the fewest operations a percentile p is quoted from: ten
// beyond it (1,000 for p99, 10,000 for p99.9), so that a tail is never
// just the worst few operations.
func MinOps(p float64) int64 {
	if p >= 100 {
		return math.MaxInt64
	}
	return int64(math.Ceil(10/(1-p/100) - 1e-6))
}

// tooFew is the cell for a percentile there were too few operations for.
func tooFew(p float64) string {
	return fmt.Sprintf("(< %s ops)", fmtCount(MinOps(p)))
}

// fmtCount prints n with thousands separators.
func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
