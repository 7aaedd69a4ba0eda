package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
)

// execClient is a RealClient whose every message is a real process (sh),
// failing for the jobs in fail; it counts the processes it ran and how
// many ran at once at most.
type execClient struct {
	fail map[string]bool

	mu        sync.Mutex
	texts     []string
	now, most int
}

func (c *execClient) client() *RealClient {
	return &RealClient{Server: "sh", Command: "sh -c", Jobs: []string{"1/a/01", "1/b/01", "1/c/01"},
		Send: func(ctx context.Context, job, text string) (time.Duration, time.Duration, error) {
			c.mu.Lock()
			c.texts = append(c.texts, job+" "+text)
			c.now++
			c.most = max(c.most, c.now)
			c.mu.Unlock()
			defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
			code := "0"
			if c.fail[job] {
				code = "3"
			}
			cmd := exec.CommandContext(ctx, "sh", "-c", "sleep 0.05; exit "+code)
			t0 := time.Now()
			err := cmd.Run()
			wall := time.Since(t0)
			var cpu time.Duration
			if st := cmd.ProcessState; st != nil {
				cpu = st.UserTime() + st.SystemTime()
			}
			if err != nil {
				return wall, cpu, fmt.Errorf("%s: %w", job, err)
			}
			return wall, cpu, nil
		}}
}

// TestCylcJobsRounds runs a scenario with a real-client job group in real
// rounds (a WFS process per scheme, loopback ZeroMQ), one after another
// and together: each round records the group's processes once (total ×
// messages, in a place of its own in the round's order, apart from the
// schemes'), at most its concurrency at once, failures kept with their
// error; without a real client the group does not run and the schemes'
// places are as before.
func TestCylcJobsRounds(t *testing.T) {
	schs, err := schemes.Builtin().ParseList("plain,passphrase")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		together *Together
		real     bool
	}{
		{"one after another", nil, true},
		{"together", &Together{Stagger: Duration(50 * time.Millisecond)}, true},
		{"no real client", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := &Scenario{Name: "real", Seed: 7, Together: c.together,
				CLI:      &CLIGroup{Count: 3, Concurrency: 1, Mix: map[string]int{"ping": 1}},
				CylcJobs: &CylcJobs{Total: 4, Rate: 40, Concurrency: 2, Messages: 2}}
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			ec := &execClient{fail: map[string]bool{"1/b/01": true}}
			cfg := Config{Schemes: schs, WorkDir: t.TempDir(), Server: testLauncher(t)}
			if c.real {
				cfg.RealClient = ec.client()
			}
			handed := 0
			cfg.OnRealClients = func(*results.RealClients) { handed++ }
			run := &results.Run{}
			if err := RunRounds(context.Background(), cfg, []*Scenario{sc}, Rounds{N: 2}, run); err != nil {
				t.Fatal(err)
			}
			if !c.real {
				if len(run.RealClients) != 0 || handed != 0 || len(ec.texts) != 0 {
					t.Fatalf("%d real rounds, %d handed, %d processes without a real client; want none", len(run.RealClients), handed, len(ec.texts))
				}
				for _, r := range run.Results {
					if r.Position < 1 || r.Position > 2 {
						t.Errorf("%s round %d: position %d, want 1 or 2", r.Scheme, r.Round, r.Position)
					}
				}
				return
			}
			if len(run.RealClients) != 2 || handed != 2 {
				t.Fatalf("%d real rounds recorded, %d handed on; want 2 and 2", len(run.RealClients), handed)
			}
			if ec.most > 2 {
				t.Errorf("%d processes at once; the group's concurrency is 2", ec.most)
			}
			for i, rc := range run.RealClients {
				if rc.Round != i+1 || rc.Scenario != "real" || rc.Server != "sh" {
					t.Errorf("round %d recorded as %+v", i+1, rc)
				}
				if len(rc.Processes) != 8 {
					t.Fatalf("round %d: %d processes, want 4 jobs × 2 messages", rc.Round, len(rc.Processes))
				}
				walls, cpus, failed := rc.OK()
				var fails []string
				for _, p := range rc.Processes {
					if p.Err != "" {
						fails = append(fails, p.Job)
						if !strings.Contains(p.Err, "exit status 3") {
							t.Errorf("failure %q does not say why", p.Err)
						}
					}
				}
				// Jobs are taken in turn from the client's list, carrying on
				// from round to round.
				if failed == 0 || failed != len(fails) || len(walls)+failed != 8 || len(cpus) != len(walls) {
					t.Errorf("round %d: %d failed (%v), %d walls, %d CPUs", rc.Round, failed, fails, len(walls), len(cpus))
				}
				for _, w := range walls {
					if w < 50*time.Millisecond {
						t.Errorf("round %d: a wall of %s, shorter than the process's own sleep", rc.Round, w)
					}
				}
				// Its place in the round is its own: the schemes take the
				// others.
				places := []int{rc.Position}
				for _, r := range run.Results {
					if r.Round == rc.Round {
						places = append(places, r.Position)
						if c.together != nil && r.Together != 3 {
							t.Errorf("%s round %d: together %d, want 3 (two schemes and the real client)", r.Scheme, r.Round, r.Together)
						}
					}
				}
				slices.Sort(places)
				if !slices.Equal(places, []int{1, 2, 3}) {
					t.Errorf("round %d: places %v, want 1, 2, 3", rc.Round, places)
				}
				if c.together != nil && rc.Together != 3 {
					t.Errorf("round %d: real client together %d, want 3", rc.Round, rc.Together)
				}
			}
		})
	}
}

// TestCylcJobsCut: a round's real-client group stops starting processes
// when its context ends, and returns what finished.
func TestCylcJobsCut(t *testing.T) {
	sc := &Scenario{Name: "cut", Seed: 1, CLI: &CLIGroup{Count: 1, Concurrency: 1},
		CylcJobs: &CylcJobs{Total: 50, Rate: 5, Concurrency: 1, Messages: 1}}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	ec := &execClient{}
	t0 := time.Now()
	rc := runCylcJobs(ctx, Config{Scenario: sc, RealClient: ec.client()}, 1)
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("took %s after its context ended at 0.5 s", d)
	}
	if n := len(rc.Processes); n == 0 || n >= 50 {
		t.Errorf("%d processes; want some, fewer than 50", n)
	}
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("ctx %v", ctx.Err())
	}
}
