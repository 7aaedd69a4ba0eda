package scenarios

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/results"
)

// Threshold is a limit a run must not cross: "cli.command_total.p99: 50ms"
// (a latency percentile of an op), "errors: 0" (all errors), or
// "job.message.errors: 0".
type Threshold struct {
	Key   string
	Op    string  // "" for all ops
	Stat  string  // p50, p90, p99, p99.9, p99.99, max, errors
	Limit float64 // nanoseconds for latencies, a count for errors
}

// ParseThreshold parses one thresholds entry.
func ParseThreshold(key, value string) (Threshold, error) {
	t := Threshold{Key: key}
	if key == "errors" {
		t.Stat = "errors"
	} else {
		i := strings.LastIndex(key, ".p")
		switch {
		case strings.HasSuffix(key, ".errors"):
			t.Op, t.Stat = strings.TrimSuffix(key, ".errors"), "errors"
		case strings.HasSuffix(key, ".max"):
			t.Op, t.Stat = strings.TrimSuffix(key, ".max"), "max"
		case i > 0:
			t.Op, t.Stat = key[:i], key[i+1:]
			if _, err := strconv.ParseFloat(t.Stat[1:], 64); err != nil {
				return t, fmt.Errorf("want OP.pNN, OP.max, OP.errors or errors, got %q", key)
			}
		default:
			return t, fmt.Errorf("want OP.pNN, OP.max, OP.errors or errors, got %q", key)
		}
		if strings.Count(t.Op, ".") != 1 {
			return t, fmt.Errorf("op %q: want GROUP.OP such as cli.command_total", t.Op)
		}
	}
	if t.Stat == "errors" {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 {
			return t, fmt.Errorf("want a whole number of errors, got %q", value)
		}
		t.Limit = float64(n)
		return t, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		return t, fmt.Errorf("want a positive duration such as 50ms, got %q", value)
	}
	t.Limit = float64(d)
	return t, nil
}

// Crossing is a threshold a result crossed, or could not be judged on:
// NoData marks a threshold evaluated on zero operations, which fails (it
// never passes).
type Crossing struct {
	Threshold Threshold
	Scheme    string
	Got       float64
	NoData    bool
}

func (c Crossing) String() string {
	if c.NoData {
		return fmt.Sprintf("%s: %s has no operations to judge (a threshold on no data fails)", c.Scheme, c.Threshold.Key)
	}
	if c.Threshold.Stat == "errors" {
		return fmt.Sprintf("%s: %s has %.0f errors, limit %.0f", c.Scheme, c.Threshold.Key, c.Got, c.Threshold.Limit)
	}
	return fmt.Sprintf("%s: %s is %s, limit %s", c.Scheme, c.Threshold.Key,
		mdtable.Duration(time.Duration(c.Got)), mdtable.Duration(time.Duration(c.Threshold.Limit)))
}

// CheckThresholds returns every threshold of sc that a result crossed.
func CheckThresholds(sc *Scenario, res []*results.Result) ([]Crossing, error) {
	keys := make([]string, 0, len(sc.Thresholds))
	for k := range sc.Thresholds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Crossing
	for _, k := range keys {
		t, err := ParseThreshold(k, sc.Thresholds[k])
		if err != nil {
			return nil, fmt.Errorf("thresholds.%s: %w", k, err)
		}
		for _, r := range res {
			if r.Scenario != sc.Name {
				continue
			}
			judged := false
			for _, o := range r.Ops {
				if t.Op != "" && o.Name != t.Op {
					continue
				}
				// "errors" alone counts each failed client action once: at
				// its top-level op, not again at its inner ops.
				if t.Op == "" && !topLevel(o.Name) {
					continue
				}
				// A latency needs successes; an error count, attempts.
				if o.Count == 0 && (t.Stat != "errors" || o.ErrorCount() == 0) {
					continue
				}
				judged = true
				var got float64
				switch t.Stat {
				case "errors":
					got = float64(o.ErrorCount())
				case "max":
					got = float64(o.Hist.Max())
				default:
					p, _ := strconv.ParseFloat(t.Stat[1:], 64)
					got = float64(o.Hist.Percentile(p))
				}
				if got > t.Limit {
					out = append(out, Crossing{Threshold: t, Scheme: r.Scheme, Got: got})
				}
			}
			if !judged {
				out = append(out, Crossing{Threshold: t, Scheme: r.Scheme, NoData: true})
			}
		}
	}
	return out, nil
}

func topLevel(op string) bool {
	switch op {
	case vocab.OpCLICommand, vocab.OpJobMessage, vocab.OpUISPoll, vocab.OpWLCGTransfer:
		return true
	}
	return false
}
