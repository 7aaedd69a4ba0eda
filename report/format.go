package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// fmtDur formats nanoseconds as a latency ("-" for none).
func fmtDur(ns float64) string { return mdtable.Duration(time.Duration(math.Round(ns))) }

// fmtDelta formats a signed difference in nanoseconds ("+3.10ms").
func fmtDelta(ns float64) string {
	d := time.Duration(math.Round(math.Abs(ns)))
	sign := "+"
	if ns < 0 {
		sign = "-"
	}
	if d == 0 {
		return "+0µs"
	}
	if d < time.Microsecond {
		return sign + "1µs"
	}
	return sign + mdtable.Duration(d)
}

// fmtDurSpread is "median (min–max)" over rounds, or the median alone.
func fmtDurSpread(s vocab.Spread) string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return fmtDur(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s)", fmtDur(s.Median), fmtDur(s.Min), fmtDur(s.Max))
}

// fmtDeltaSpread is a signed "median (min to max)" over rounds.
func fmtDeltaSpread(s vocab.Spread) string {
	if s.N == 0 {
		return "-"
	}
	if s.N == 1 {
		return fmtDelta(s.Median)
	}
	return fmt.Sprintf("%s (%s to %s)", fmtDelta(s.Median), fmtDelta(s.Min), fmtDelta(s.Max))
}

// fmtNum formats a number with prec decimals, "-" for no rounds.
func fmtNum(s vocab.Spread, prec int) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, s.Median)
}

// fmtNumSpread formats a number's median with its range over rounds when
// the rounds differ.
func fmtNumSpread(s vocab.Spread, prec int) string {
	if s.N == 0 {
		return "-"
	}
	m := fmt.Sprintf("%.*f", prec, s.Median)
	lo, hi := fmt.Sprintf("%.*f", prec, s.Min), fmt.Sprintf("%.*f", prec, s.Max)
	if s.N == 1 || lo == hi {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, lo, hi)
}

// scaled is s with every value times k.
func scaled(s vocab.Spread, k float64) vocab.Spread {
	return vocab.Spread{Median: s.Median * k, Min: s.Min * k, Max: s.Max * k, N: s.N}
}

// fmtRatio formats a ratio as "1.23×" ("-" when undefined).
func fmtRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f×", *r)
}

// fmtErrors is "0", or "12 (rejected 10, timeout 2)".
func fmtErrors(n int64, kinds map[string]int64) string {
	if n == 0 {
		return "0"
	}
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

// fmtRounds is "3 rounds" or "1 round".
func fmtRounds(n int) string {
	if n == 1 {
		return "1 round"
	}
	return fmt.Sprintf("%d rounds", n)
}

// tooFew is the cell for a percentile there were too few operations for.
func tooFew(p float64) string {
	return fmt.Sprintf("(< %s ops)", fmtCount(results.MinOps(p)))
}

// fmtCount prints n with thousands separators.
func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
