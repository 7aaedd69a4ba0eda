package scenarios

import (
	"fmt"
	"strings"
)

// Shard returns loader i's share (0-based) of a scenario run by n loaders
// at once against one WFS (authbench load -shard I/N): rates are divided
// by n; counts, jobs, tasks per cycle point, concurrency, burst sizes and
// UI pollers are split so that the n shares add up to the scenario (the
// first shares take the remainder); each share draws its own random
// arrivals (its seed differs). A group whose share is empty is dropped; a
// shard left with no group is an error. Job ids are made distinct by the
// runner (Config.JobPrefix).
func (s *Scenario) Shard(i, n int) (*Scenario, error) {
	if n < 1 || i < 0 || i >= n {
		return nil, fmt.Errorf("shard %d/%d: want I/N with 0 <= I < N", i, n)
	}
	if n == 1 {
		return s, nil
	}
	c := *s
	c.Seed = s.Seed + int64(i)*7919
	if g := s.CLI; g != nil {
		cg := *g
		cg.Rate = g.Rate / float64(n)
		if len(g.Stages) > 0 {
			cg.Stages = make([]Stage, len(g.Stages))
			for k, st := range g.Stages {
				cg.Stages[k] = Stage{Duration: st.Duration, Rate: st.Rate / float64(n)}
			}
		}
		if g.Burst != nil {
			b := *g.Burst
			b.Size = split(g.Burst.Size, i, n)
			cg.Burst = &b
		}
		cg.Count = split(g.Count, i, n)
		cg.Concurrency = max(1, split(g.Concurrency, i, n))
		if cg.Users > 1 {
			cg.Users = max(1, split(g.Users, i, n))
		}
		empty := (g.Count > 0 && cg.Count == 0) || (g.Burst != nil && cg.Burst.Size == 0)
		c.CLI = &cg
		if empty {
			c.CLI = nil
		}
	}
	if g := s.Job; g != nil {
		jg := *g
		jg.Rate = g.Rate / float64(n)
		jg.Total = split(g.Total, i, n)
		jg.TasksPerCycle = split(g.TasksPerCycle, i, n)
		jg.Concurrency = max(1, split(g.Concurrency, i, n))
		c.Job = &jg
		if (g.CyclePoints > 0 && jg.TasksPerCycle == 0) || (g.CyclePoints == 0 && jg.Total == 0) {
			c.Job = nil
		}
	}
	if g := s.UIS; g != nil {
		ug := *g
		ug.Pollers = split(g.Pollers, i, n)
		c.UIS = &ug
		if ug.Pollers == 0 {
			c.UIS = nil
		}
	}
	if c.CLI == nil && c.Job == nil && c.UIS == nil {
		return nil, fmt.Errorf("shard %d/%d of %s: no clients left: the scenario is too small for %d loaders", i, n, s.Name, n)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("shard %d/%d of %s: %w", i, n, s.Name, err)
	}
	return &c, nil
}

// split is share i of total over n: total/n, plus one for the first
// total%n shares.
func split(total, i, n int) int {
	q := total / n
	if i < total%n {
		q++
	}
	return q
}

// ParseShard parses "I/N" (0 <= I < N).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("-shard %q: want I/N, such as 0/3", s)
	}
	if _, err := fmt.Sscanf(a+" "+b, "%d %d", &i, &n); err != nil || fmt.Sprint(i) != a || fmt.Sprint(n) != b {
		return 0, 0, fmt.Errorf("-shard %q: want I/N with whole numbers, such as 0/3", s)
	}
	if n < 1 || n > 10000 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("-shard %q: want 0 <= I < N <= 10000", s)
	}
	return i, n, nil
}
