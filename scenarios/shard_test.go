package scenarios

import (
	"math"
	"strings"
	"testing"
)

// TestShardAddsUp: the shares of every built-in scenario add up to it,
// for any number of loaders it has work for.
func TestShardAddsUp(t *testing.T) {
	for _, name := range []string{"smoke", "cli-burst", "cycle-point", "job-storm", "uis-poll", "review-jobs", "dispatch-burst"} {
		sc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
	shards:
		for _, n := range []int{1, 2, 3, 7} {
			var count, burst, total, tasks, pollers int
			var cliRate, jobRate float64
			seeds := map[int64]bool{}
			for i := range n {
				sh, err := sc.Shard(i, n)
				if err != nil && strings.Contains(err.Error(), "too small") && sc.UIS != nil && sc.UIS.Pollers < n && sc.CLI == nil && sc.Job == nil {
					continue shards // more loaders than pollers: refused
				}
				if err != nil {
					t.Fatalf("%s %d/%d: %v", name, i, n, err)
				}
				seeds[sh.Seed] = true
				if g := sh.CLI; g != nil {
					count += g.Count
					cliRate += g.Rate
					if g.Burst != nil {
						burst += g.Burst.Size
					}
				}
				if g := sh.Job; g != nil {
					total += g.Total
					tasks += g.TasksPerCycle
					jobRate += g.Rate
				}
				if g := sh.UIS; g != nil {
					pollers += g.Pollers
				}
			}
			if g := sc.CLI; g != nil {
				if count != g.Count || math.Abs(cliRate-g.Rate) > 1e-9 || (g.Burst != nil && burst != g.Burst.Size) {
					t.Errorf("%s over %d: CLI count %d rate %g burst %d, want %d, %g, %v", name, n, count, cliRate, burst, g.Count, g.Rate, g.Burst)
				}
			}
			if g := sc.Job; g != nil {
				if total != g.Total || tasks != g.TasksPerCycle || math.Abs(jobRate-g.Rate) > 1e-9 {
					t.Errorf("%s over %d: jobs %d tasks %d rate %g, want %d, %d, %g", name, n, total, tasks, jobRate, g.Total, g.TasksPerCycle, g.Rate)
				}
			}
			if g := sc.UIS; g != nil && pollers != g.Pollers {
				t.Errorf("%s over %d: pollers %d, want %d", name, n, pollers, g.Pollers)
			}
			if n > 1 && len(seeds) != n {
				t.Errorf("%s over %d: %d distinct seeds", name, n, len(seeds))
			}
		}
	}
}

func TestShardTooMany(t *testing.T) {
	sc := &Scenario{Name: "tiny", UIS: &UISGroup{Pollers: 2, Interval: Duration(1e9)}, Duration: Duration(1e9)}
	if _, err := sc.Shard(2, 3); err == nil || !strings.Contains(err.Error(), "too small for 3 loaders") {
		t.Errorf("shard 2/3 of 2 pollers: %v", err)
	}
	if _, err := sc.Shard(3, 3); err == nil {
		t.Error("shard 3/3 accepted")
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		i, n int
		bad  bool
	}{
		{"0/1", 0, 1, false}, {"2/3", 2, 3, false}, {"3/3", 0, 0, true}, {"-1/3", 0, 0, true},
		{"1", 0, 0, true}, {"a/b", 0, 0, true}, {"1/0", 0, 0, true}, {"01/3", 0, 0, true}, {"1/3x", 0, 0, true},
	} {
		i, n, err := ParseShard(tc.in)
		if tc.bad != (err != nil) || (!tc.bad && (i != tc.i || n != tc.n)) {
			t.Errorf("ParseShard(%q) = %d, %d, %v", tc.in, i, n, err)
		}
		if err != nil && (!strings.Contains(err.Error(), "-shard") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("ParseShard(%q): error %q should be one line naming -shard", tc.in, err)
		}
	}
}
