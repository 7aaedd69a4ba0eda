package results

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
)

// KneeRule is when a capacity search calls a step past the knee: its tail
// latency passes LatencyFactor times the lowest rate's, or its error share
// passes MaxErrorShare.
type KneeRule struct {
	LatencyFactor float64
	MaxErrorShare float64
	// MinP99Ops is the fewest operations a step needs for its p99 to be used;
	// below it the rule compares p90 (and says so).
	MinP99Ops int64
	// MaxClientUtil is the share of its CPUs above which the load generator
	// is called saturated (a send it had to drop is saturation too).
	MaxClientUtil float64
}

// DefaultKneeRule is docs/design.md's (section 5): p99 past twice its low-rate value, or
// errors past 0.1 %; p99 only from 1,000 operations.
var DefaultKneeRule = KneeRule{LatencyFactor: 2, MaxErrorShare: 0.001, MinP99Ops: 1000, MaxClientUtil: 0.9}

// CapacityStep is one offered rate of a capacity search: what the clients
// saw and what the WFS spent.
type CapacityStep struct {
	Offered  float64       `json:"offered_per_s"`
	Achieved float64       `json:"achieved_per_s"`
	Window   time.Duration `json:"window_ns"`
	Count    int64         `json:"count"`
	Errors   int64         `json:"errors"`
	P50      time.Duration `json:"p50_ns"`
	P90      time.Duration `json:"p90_ns"`
	P99      time.Duration `json:"p99_ns"`
	// ServerCPUPerOp is the WFS process's whole CPU per operation, less
	// what it spends idle (IdleCPU, its CPU share with no load, over the
	// step's window): the marginal cost of an operation.
	ServerCPUPerOp time.Duration `json:"server_cpu_per_op_ns"`
	IdleCPU        float64       `json:"idle_cpu_share"`
	// ServerUtil is the share of one CPU the WFS used.
	ServerUtil float64 `json:"server_util"`
	// ClientUtil is the share of its CPUs the load generator used.
	ClientUtil float64 `json:"client_util"`
	// Late and Dropped are sends that started over 1 ms late or were never
	// sent because the generator's queue was full; SendLagP99 is the p99 of
	// how late sends started (all workers busy, or the generator short of
	// CPU).
	Late       int64         `json:"late"`
	SendLagP99 time.Duration `json:"send_lag_p99_ns"`
	Dropped    int64         `json:"dropped"`
	// Shed are requests the WFS refused as overloaded.
	Shed int64 `json:"shed"`
	// Throttled is CFS periods the WFS's quota throttled it in.
	Throttled int64 `json:"throttled_periods,omitempty"`
	// Reused is the same rate over reused connections (op handshake): its
	// server CPU per op, so that a handshake's cost is the difference.
	ReusedServerCPUPerOp time.Duration `json:"reused_server_cpu_per_op_ns,omitempty"`
}

// Tail is the step's tail percentile for the knee rule: p99 from enough
// operations, else p90.
func (s CapacityStep) Tail(r KneeRule) (time.Duration, string) {
	if s.Count >= r.MinP99Ops {
		return s.P99, "p99"
	}
	return s.P90, "p90"
}

// ErrorShare is the step's errors over its attempts.
func (s CapacityStep) ErrorShare() float64 {
	if s.Count+s.Errors == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Count+s.Errors)
}

// generatorSaturated says why the load generator could not be trusted at
// this step, or "".
func (s CapacityStep) generatorSaturated(r KneeRule) string {
	switch {
	case s.Dropped > 0:
		return fmt.Sprintf("the load generator dropped %d sends (its queue was full)", s.Dropped)
	case s.ClientUtil > r.MaxClientUtil:
		return fmt.Sprintf("the load generator used %.0f%% of its CPUs", 100*s.ClientUtil)
	}
	return ""
}

// Knee is where a capacity search found the WFS's capacity.
type Knee struct {
	// Found is false when no step crossed the rule.
	Found bool `json:"found"`
	// Step is the index of the first step past the knee.
	Step int `json:"step"`
	// Rate is that step's offered rate; Sustained the last rate below it.
	Rate      float64 `json:"rate_per_s"`
	Sustained float64 `json:"sustained_per_s"`
	// PerServerCPU is Sustained per CPU the WFS was allowed.
	PerServerCPU float64 `json:"sustained_per_server_cpu"`
	// Why is what crossed: the latency or the error rule, in words.
	Why string `json:"why"`
	// Invalid, when set, is why the knee cannot be trusted (the load
	// generator itself was saturated).
	Invalid string `json:"invalid,omitempty"`
}

// FindKnee applies rule to steps in order of rising offered rate.
// serverCPUs is how many CPUs the WFS was allowed (its quota, else its
// pinned CPUs).
//
// A step crosses the rule when its errors pass MaxErrorShare, or its tail
// latency passes LatencyFactor times the lowest tail of the steps before
// it (like with like: p99 where both have MinP99Ops operations, else p90).
// On a shared, noisy machine one slow step is not a knee: the knee is the
// first crossing step that the next step confirms by crossing too. A
// crossing last step, with none after it, is reported as an unconfirmed
// knee.
func FindKnee(steps []CapacityStep, rule KneeRule, serverCPUs float64) Knee {
	if len(steps) == 0 {
		return Knee{Why: "no steps"}
	}
	perCPU := func(rate float64) float64 {
		if serverCPUs <= 0 {
			return 0
		}
		return rate / serverCPUs
	}
	crossed := func(i int) string {
		s := steps[i]
		if sh := s.ErrorShare(); sh > rule.MaxErrorShare {
			return fmt.Sprintf("errors %.2f%% > %.2f%%", 100*sh, 100*rule.MaxErrorShare)
		}
		var best CapacityStep
		var bestT time.Duration
		pct := "p99"
		for j := 0; j < i; j++ {
			b := steps[j]
			if s.Count < rule.MinP99Ops || b.Count < rule.MinP99Ops {
				continue
			}
			if bestT == 0 || b.P99 < bestT {
				best, bestT = b, b.P99
			}
		}
		if bestT == 0 { // no p99 pair: compare p90
			pct = "p90"
			for j := 0; j < i; j++ {
				if b := steps[j]; bestT == 0 || b.P90 < bestT {
					best, bestT = b, b.P90
				}
			}
		}
		t := s.P99
		if pct == "p90" {
			t = s.P90
		}
		if i == 0 || bestT <= 0 || float64(t) <= rule.LatencyFactor*float64(bestT) {
			return ""
		}
		return fmt.Sprintf("%s %s > %.3g × %s at %.0f/s", pct, mdtable.Duration(t), rule.LatencyFactor, mdtable.Duration(bestT), best.Offered)
	}
	for i := range steps {
		why := crossed(i)
		if why == "" {
			continue
		}
		last := i == len(steps)-1
		if !last && crossed(i+1) == "" {
			continue // one slow step the next did not confirm: noise
		}
		if last && i > 0 {
			why += " (unconfirmed: no further step)"
		}
		k := Knee{Found: true, Step: i, Rate: steps[i].Offered, Why: why}
		if i > 0 {
			k.Sustained = steps[i-1].Offered
			k.PerServerCPU = perCPU(k.Sustained)
		}
		if sat := steps[i].generatorSaturated(rule); sat != "" {
			k.Invalid = sat
		} else if i == 0 {
			k.Invalid = "the lowest rate already crossed the rule; start lower"
		}
		return k
	}
	last := steps[len(steps)-1]
	k := Knee{Sustained: last.Offered, PerServerCPU: perCPU(last.Offered),
		Why: fmt.Sprintf("not reached by %.0f/s", last.Offered)}
	if sat := last.generatorSaturated(rule); sat != "" {
		k.Invalid = sat
	}
	return k
}

// CapacityCurve is one scheme's capacity search.
type CapacityCurve struct {
	Scheme    string `json:"scheme"`
	Canonical string `json:"canonical"`
	// Op is what was offered: command, message or handshake.
	Op string `json:"op"`
	// ServerCPUs and Quota say what the WFS was allowed.
	ServerCPUs string         `json:"server_cpus"`
	Quota      float64        `json:"quota_cpus,omitempty"`
	Steps      []CapacityStep `json:"steps"`
	Knee       Knee           `json:"knee"`
}

// CapacityRun is one `authbench capacity` run (capacity.json).
type CapacityRun struct {
	Schema  int              `json:"schema"`
	Command string           `json:"command"`
	Started time.Time        `json:"started"`
	Ended   time.Time        `json:"ended"`
	Env     Environment      `json:"environment"`
	Rule    KneeRule         `json:"rule"`
	Curves  []*CapacityCurve `json:"curves"`
	Partial bool             `json:"partial,omitempty"`
}

// Write writes the run as JSON to path.
func (c *CapacityRun) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteCapacity renders a capacity run as markdown: the knee per scheme,
// then each scheme's steps.
func WriteCapacity(w io.Writer, c *CapacityRun, plotLink string) error {
	fmt.Fprintf(w, "## Capacity: %s\n\n", strings.Join(curveOps(c), ", "))
	fmt.Fprintf(w, "Made by `%s`. Each step offers a Poisson load at one rate to a fresh steady state; the knee is the first rate whose tail latency passes %.3g× the lowest rate's (p99 from %d or more operations, else p90) or whose errors pass %.2f%%. WFS CPU is the WFS process's whole CPU (every thread) per operation, less its idle CPU; send lag is how late the load generator started its sends; a knee found while the load generator was saturated is marked invalid.\n\n",
		c.Command, c.Rule.LatencyFactor, c.Rule.MinP99Ops, 100*c.Rule.MaxErrorShare)
	t := mdtable.New(w, "scheme", "op", "WFS allowed", "knee (first rate past)", "sustained", "sustained per WFS CPU", "WFS CPU/op at the lowest rate", "why", "valid")
	for _, cv := range c.Curves {
		k := cv.Knee
		knee := "not reached"
		if k.Found {
			knee = fmt.Sprintf("%.0f/s", k.Rate)
		}
		valid := "yes"
		if k.Invalid != "" {
			valid = "**invalid**: " + k.Invalid
		}
		lowCPU := ""
		if len(cv.Steps) > 0 {
			lowCPU = fmtCPUPerOp(cv.Steps[0])
		}
		if err := t.Append([]string{mdtable.Code(cv.Scheme), cv.Op, allowed(cv), knee, fmt.Sprintf("%.0f/s", k.Sustained),
			fmt.Sprintf("%.0f/s", k.PerServerCPU), lowCPU, k.Why, valid}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, cv := range c.Curves {
		fmt.Fprintf(w, "\n### %s (%s)\n\n", mdtable.Code(cv.Scheme), cv.Op)
		t := mdtable.New(w, "offered/s", "achieved/s", "ops", "errors", "p50", "p90", "p99", "WFS CPU/op", "WFS CPU share", "client CPU share", "send lag p99", "late", "dropped", "shed", "throttled")
		for i, s := range cv.Steps {
			p99 := mdtable.Duration(s.P99)
			if s.Count < c.Rule.MinP99Ops {
				p99 = "(< 1,000 ops)"
			}
			off := fmt.Sprintf("%.0f", s.Offered)
			if cv.Knee.Found && i == cv.Knee.Step {
				off = "**" + off + "** (knee)"
			}
			if err := t.Append([]string{off, fmt.Sprintf("%.0f", s.Achieved), fmt.Sprint(s.Count), fmt.Sprint(s.Errors),
				mdtable.Duration(s.P50), mdtable.Duration(s.P90), p99, fmtCPUPerOp(s), fmt.Sprintf("%.2f", s.ServerUtil),
				fmt.Sprintf("%.2f", s.ClientUtil), mdtable.Duration(s.SendLagP99), fmt.Sprint(s.Late), fmt.Sprint(s.Dropped), fmt.Sprint(s.Shed), fmt.Sprint(s.Throttled)}); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
	}
	if plotLink != "" {
		fmt.Fprintf(w, "\n![tail latency by offered rate](%s/capacity-latency.svg)\n\n![WFS CPU per operation by offered rate](%s/capacity-cpu.svg)\n", plotLink, plotLink)
	}
	return nil
}

func curveOps(c *CapacityRun) []string {
	seen := map[string]bool{}
	var out []string
	for _, cv := range c.Curves {
		if !seen[cv.Op] {
			seen[cv.Op] = true
			out = append(out, cv.Op)
		}
	}
	return out
}

func allowed(cv *CapacityCurve) string {
	s := "CPUs " + cv.ServerCPUs
	if cv.ServerCPUs == "" {
		s = "unpinned"
	}
	if cv.Quota > 0 {
		s += fmt.Sprintf(", quota %.2g CPU", cv.Quota)
	}
	return s
}

func fmtCPUPerOp(s CapacityStep) string {
	out := mdtable.Duration(s.ServerCPUPerOp)
	if s.ReusedServerCPUPerOp > 0 {
		out += fmt.Sprintf(" (reused %s, handshake %s)", mdtable.Duration(s.ReusedServerCPUPerOp),
			mdtable.Duration(s.ServerCPUPerOp-s.ReusedServerCPUPerOp))
	}
	return out
}
