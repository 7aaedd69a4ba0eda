package review

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// PythonClientCost is what a real `cylc message` or `cylc` command costs
// its user per call, at the low end: 1.2-1.7 s, most of it the Python
// interpreter starting and importing cylc (cylc-flow PR 5790, which
// measured it). The review states added costs against it.
const PythonClientCost = 1200 * time.Millisecond

// fmtValue prints v in unit u.
func fmtValue(v float64, u Unit, signed bool) string {
	if math.IsInf(v, 0) {
		if v < 0 {
			return "-∞"
		}
		return "+∞"
	}
	var s string
	switch u {
	case Duration:
		s = roundDur(time.Duration(math.Abs(v))).String()
	default:
		s = trimFloat(math.Abs(v))
	}
	switch {
	case v < 0:
		return "-" + s
	case signed:
		return "+" + s
	}
	return s
}

// roundDur keeps three significant figures.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	case d >= 100*time.Microsecond:
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}

func trimFloat(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// decidable reports whether st has a finite interval.
func (st Stat) decidable() bool { return st.Valid && st.CI.Decidable() }

// interval prints "95 % CI a to b, N rounds", with the confidence the
// order statistics actually achieved where it exceeds the one asked
// ("95 % CI (96.9 % achieved) a to b, 6 rounds").
func (st Stat) interval() string {
	switch {
	case !st.Valid:
		return "no rounds"
	case st.CI.Exact:
		return fmt.Sprintf("the same in all %d rounds", st.CI.N)
	case !st.decidable():
		return fmt.Sprintf("%d rounds: too few for a %.0f %% interval", st.CI.N, 100*Confidence)
	}
	achieved := ""
	if c := st.CI.Confidence; c > Confidence+0.0005 {
		achieved = fmt.Sprintf(" (%.1f %% achieved)", 100*c)
	}
	return fmt.Sprintf("%.0f %% CI%s %s to %s, %d rounds", 100*Confidence, achieved,
		fmtValue(st.CI.Lo, st.Unit, st.Paired), fmtValue(st.CI.Hi, st.Unit, st.Paired), st.CI.N)
}

// Cell prints st for a table: the median and its interval.
func (st Stat) Cell() string {
	if !st.Valid {
		return "–"
	}
	c := fmtValue(st.CI.Center, st.Unit, st.Paired)
	if st.CI.Exact || !st.decidable() {
		return c
	}
	return fmt.Sprintf("%s [%s, %s]", c, fmtValue(st.CI.Lo, st.Unit, st.Paired), fmtValue(st.CI.Hi, st.Unit, st.Paired))
}

// cost says what a paired figure adds, never "adds -X": an interval that
// reaches zero or below is "no measurable cost".
func (st Stat) cost() string {
	if !st.Valid {
		return "not measured"
	}
	what := st.what()
	switch {
	case st.decidable() && st.CI.Hi <= 0, st.CI.Exact && st.CI.Center <= 0:
		return fmt.Sprintf("costs nothing measurable in %s (it measured %s lower; %s)", what, fmtValue(-st.CI.Center, st.Unit, false), st.interval())
	case st.CI.Lo <= 0:
		return fmt.Sprintf("makes no measurable difference to %s (median %s; %s)", what, fmtValue(st.CI.Center, st.Unit, true), st.interval())
	}
	return fmt.Sprintf("adds %s to %s (%s)", fmtValue(st.CI.Center, st.Unit, true), what, st.interval())
}

// what is the label with its tail percentile in place of {tail}.
func (st Stat) what() string {
	t := st.Tail
	if t == "" {
		t = "p99"
	}
	return strings.ReplaceAll(st.Label, "{tail}", t)
}

// yardstick states a duration against a real Python client's cost: the
// one measured (r.Client), else cylc-flow PR 5790's.
func (r *Row) yardstick(ns float64) string {
	if ns <= 0 {
		return ""
	}
	if c := r.Client; c != nil && c.Cost > 0 {
		return fmt.Sprintf("; that is %.2g %% of the %s %s (cylc-flow PR 5790: 1.2-1.7 s)", 100*ns/float64(c.Cost), roundDur(c.Cost), c.Source)
	}
	return fmt.Sprintf("; that is %.2g %% of the %s a real Python `cylc` client takes per call, cylc-flow PR 5790", 100*ns/float64(PythonClientCost), PythonClientCost)
}

// clientCost is the real Python client's cost r is stated against.
func (r *Row) clientCost() time.Duration {
	if r.Client != nil && r.Client.Cost > 0 {
		return r.Client.Cost
	}
	return PythonClientCost
}

// budgetWords prints a row's budget.
func (r *Row) budgetWords() string {
	if r.Budget <= 0 {
		return "no budget stated"
	}
	return "budget " + fmtValue(r.Budget, Duration, false)
}

// judged is the row's judged stat.
func (r *Row) judged() Stat {
	if r.Judged < 0 {
		return Stat{}
	}
	return r.Stats[r.Judged]
}

// finding is one sentence on a row's judged measure.
func (r *Row) finding() string {
	st := r.judged()
	what := st.cost()
	if !st.Paired {
		what = st.level()
	}
	s := fmt.Sprintf("`%s` (%s) in %s: %s", r.Scheme, r.Option, r.Scenario, what)
	if st.Unit == Duration && st.Valid && st.Paired && st.CI.Center > 0 {
		s += r.yardstick(st.CI.Center) // an added cost, against a real client's
	}
	s += fmt.Sprintf("; %s: **%s**", r.budgetWords(), r.Decision)
	if r.Decision == Inconclusive {
		s += r.roundsWords()
	}
	return s + "."
}

// roundsWords says how many rounds would decide an inconclusive row.
func (r *Row) roundsWords() string {
	st := r.judged()
	switch {
	case r.RoundsNeeded > 0:
		return fmt.Sprintf(" (about %d rounds in all would decide it)", r.RoundsNeeded)
	case st.Valid && st.decidable():
		return " (its median sits on the budget: more rounds would not decide it)"
	}
	return ""
}

// level says what an unpaired figure is: "takes X at transfer p90 (CI)".
func (st Stat) level() string {
	if !st.Valid {
		return "not measured"
	}
	return fmt.Sprintf("takes %s at %s (%s)", fmtValue(st.CI.Center, st.Unit, false), st.what(), st.interval())
}
