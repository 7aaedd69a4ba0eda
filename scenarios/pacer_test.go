package scenarios

import (
	"slices"
	"testing"
	"time"

	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/pace/pacetest"
)

func TestJobPacer(t *testing.T) {
	if p := jobPacer(nil, 1); p != nil {
		t.Errorf("nil group: %#v", p)
	}
	if p := jobPacer(&JobGroup{Total: 5, Concurrency: 1}, 1); p != nil {
		t.Errorf("no rate: %#v, want nil", p)
	}
	if p := jobPacer(&JobGroup{CyclePoints: 2, TasksPerCycle: 3}, 1); p != nil {
		t.Errorf("cycle points: %#v, want nil", p)
	}
	for _, a := range []Arrival{"", ArrivalConstant} {
		if p, ok := jobPacer(&JobGroup{Rate: 2, Arrival: a}, 1).(pace.Constant); !ok || p.PerSecond != 2 {
			t.Errorf("arrival %q: %#v, want pace.Constant{2}", a, p)
		}
	}
	p, ok := jobPacer(&JobGroup{Rate: 2, Arrival: ArrivalPoisson}, -7).(*pace.Poisson)
	if !ok || p.PerSecond != 2 || p.Seed != uint64(1<<64-7) || p.Stream != jobPacerStream {
		t.Errorf("poisson: %#v", p)
	}
}

func TestCLIPacer(t *testing.T) {
	if p := cliPacer(nil); p != nil {
		t.Errorf("nil group: %#v", p)
	}
	if p := cliPacer(&CLIGroup{Concurrency: 4}); p != nil {
		t.Errorf("closed loop: %#v, want nil", p)
	}
	if p, ok := cliPacer(&CLIGroup{Rate: 3}).(pace.Constant); !ok || p.PerSecond != 3 {
		t.Errorf("rate: %#v, want pace.Constant{3}", p)
	}
	stages := []Stage{{Duration: Duration(time.Second), Rate: 5}, {Duration: Duration(3 * time.Second), Rate: 0}}
	want := []pace.Stage{{Duration: time.Second, Rate: 5}, {Duration: 3 * time.Second, Rate: 0}}
	if p, ok := cliPacer(&CLIGroup{Stages: stages}).(pace.Ramp); !ok || p.Start != 0 || !slices.Equal(p.Stages, want) {
		t.Errorf("stages: %#v, want a pace.Ramp of %v from 0", p, want)
	}
	b := &Burst{Size: 3, Within: Duration(time.Second), Every: Duration(2 * time.Second)}
	if p, ok := cliPacer(&CLIGroup{Burst: b}).(pace.Burst); !ok || p != (pace.Burst{Size: 3, Within: time.Second, Every: 2 * time.Second}) {
		t.Errorf("burst: %#v", p)
	}
	g := &CLIGroup{Rate: 3, Arrival: ArrivalPoisson}
	if p, ok := cliPacer(g).(*pace.Poisson); !ok || p.PerSecond != 3 || p.Seed != 0 || p.Stream != cliPacerStream {
		t.Errorf("poisson, seed 0: %#v", p)
	}
	if p, ok := cliPacerSeeded(g, 42).(*pace.Poisson); !ok || p.Seed != 42 {
		t.Errorf("poisson, seed 42: %#v", p)
	}
	// The CLI and job groups of one scenario draw different arrivals.
	c, _ := pacetest.Simulate(t, cliPacerSeeded(g, 42), 10*time.Second)
	j, _ := pacetest.Simulate(t, jobPacer(&JobGroup{Rate: 3, Arrival: ArrivalPoisson}, 42), 10*time.Second)
	same := len(c) == len(j)
	for i := 1; same && i < len(c); i++ {
		same = c[i] == j[i]
	}
	if same {
		t.Error("CLI and job Poisson arrivals are the same for one seed")
	}
}

func TestArrivalParse(t *testing.T) {
	sc, err := Parse("ok.yaml", []byte(`name: x
seed: 9
duration: 10s
cli:
  rate: 20
  arrival: poisson
job:
  total: 10
  concurrency: 2
  messages: 2
  rate: 5
  arrival: constant
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.CLI.Arrival != ArrivalPoisson || sc.Job.Arrival != ArrivalConstant {
		t.Fatalf("arrivals %q, %q", sc.CLI.Arrival, sc.Job.Arrival)
	}
	if p, ok := cliPacerSeeded(sc.CLI, sc.Seed).(*pace.Poisson); !ok || p.PerSecond != 20 || p.Seed != 9 {
		t.Errorf("cli pacer %#v", p)
	}
	if p, ok := jobPacer(sc.Job, sc.Seed).(pace.Constant); !ok || p.PerSecond != 5 {
		t.Errorf("job pacer %#v", p)
	}
}
