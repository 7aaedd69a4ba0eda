package scenarios

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/authbench/authbench/flows"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// Limits on what a scenario may ask for: past them a setting means nothing a
// machine can do (each live job or CLI worker holds a goroutine and, while
// it talks, a ZMQ socket; 10,000 live jobs take about 170 MB), and an
// absurd value would exhaust memory or flood before the run could fail.
const (
	MaxConcurrency = 20000
	MaxRate        = 100000 // requests (or jobs) per second
	MaxCount       = 10000000
	MaxPollers     = 1000
)

// Validate checks the scenario for values no run could honour. Errors name
// the field path (cli.rate), which Parse turns into file:line:column.
func (s *Scenario) Validate() error {
	if s.Name == "" {
		return ferr("name", "required")
	}
	if s.Warmup < 0 || s.Duration < 0 {
		return ferr("duration", "must not be negative")
	}
	if s.CLI == nil && s.Job == nil && s.UIS == nil && s.WLCG == nil {
		return ferr("", "no client groups: want at least one of cli, job, uis (or a wlcg flow)")
	}
	if s.FS != nil {
		if err := s.FS.validate(); err != nil {
			return err
		}
	}
	if s.WLCG != nil {
		return s.validateWLCG()
	}
	bounded := s.Duration > 0
	if c := s.CLI; c != nil {
		if err := c.validate(); err != nil {
			return err
		}
		bounded = bounded || c.Count > 0 || len(c.Stages) > 0
	}
	if j := s.Job; j != nil {
		if err := j.validate(); err != nil {
			return err
		}
		bounded = true
	}
	if !bounded {
		return ferr("duration", "neither duration nor count: give duration, cli.count or a job group")
	}
	if u := s.UIS; u != nil {
		if u.Pollers <= 0 || u.Pollers > MaxPollers {
			return ferr("uis.pollers", "want 1 to %d, got %d", MaxPollers, u.Pollers)
		}
		if u.Interval <= 0 {
			return ferr("uis.interval", "must be positive")
		}
		if u.ReplySize < 0 || u.ReplySize > 1<<20 {
			return ferr("uis.reply_size", "want 0 to 1048576 bytes, got %d", u.ReplySize)
		}
		if err := u.validatePublish(s.Server); err != nil {
			return err
		}
	}
	if s.Server != nil {
		if err := s.Server.validate(); err != nil {
			return err
		}
	}
	if t := s.Together; t != nil {
		switch {
		case t.Stagger < 0:
			return ferr("together.stagger", "must not be negative")
		case s.Duration > 0 && t.Stagger > s.Duration:
			return ferr("together.stagger", "%s is longer than the scenario's duration %s", t.Stagger.D(), s.Duration.D())
		}
	}
	if c := s.CylcJobs; c != nil {
		if err := c.validate(); err != nil {
			return err
		}
	}
	if err := validBudgets(s.Budgets); err != nil {
		return err
	}
	for key, v := range s.Thresholds {
		if _, err := ParseThreshold(key, v); err != nil {
			return ferr("thresholds."+key, "%v", err)
		}
	}
	return nil
}

// MaxCylcJobs bounds a round's real-client jobs and MaxCylcMessages each
// one's messages: every message is a Python process of about 0.3 s CPU.
const (
	MaxCylcJobs        = 200
	MaxCylcMessages    = 20
	MaxCylcConcurrency = 16
)

func (c *CylcJobs) validate() error {
	switch {
	case c.Total < 1 || c.Total > MaxCylcJobs:
		return ferr("cylc_jobs.total", "want 1 to %d jobs a round, got %d", MaxCylcJobs, c.Total)
	case !(c.Rate >= 0) || c.Rate > 100:
		return ferr("cylc_jobs.rate", "want 0 (as fast as concurrency allows) to 100 jobs/s, got %v", c.Rate)
	case !c.Arrival.valid():
		return ferr("cylc_jobs.arrival", "want constant or poisson, got %q", c.Arrival)
	case c.Concurrency < 0 || c.Concurrency > MaxCylcConcurrency:
		return ferr("cylc_jobs.concurrency", "want 1 to %d, got %d", MaxCylcConcurrency, c.Concurrency)
	case c.Messages < 0 || c.Messages > MaxCylcMessages:
		return ferr("cylc_jobs.messages", "want 1 to %d, got %d", MaxCylcMessages, c.Messages)
	}
	return nil
}

// validateWLCG checks a scenario that runs a WLCG token flow: the flow
// alone, with no WFS, bounded by its total or the scenario's duration.
func (s *Scenario) validateWLCG() error {
	g := s.WLCG
	switch {
	case s.CLI != nil || s.Job != nil || s.UIS != nil:
		return ferr("wlcg", "a WLCG flow runs alone (it drives an issuer and storage elements, not a WFS): drop cli, job and uis")
	case s.Server != nil:
		return ferr("server", "a WLCG flow runs no WFS: drop server")
	case s.CylcJobs != nil:
		return ferr("cylc_jobs", "not with wlcg: a flow sends no job messages")
	case s.Together != nil:
		return ferr("together", "not with wlcg: a flow's issuer and storage elements run in this process, and flows at once would share its CPU")
	case s.Warmup > 0:
		return ferr("warmup", "not with wlcg: the issuer's counters are divided by the transfers of the whole run")
	case !g.Arrival.valid():
		return ferr("wlcg.arrival", "want constant or poisson, got %q", g.Arrival)
	case g.QueueWait != nil && g.QueueWait.Mean == 0 && len(g.QueueWait.Waits) == 0:
		return ferr("wlcg.queue_wait", "empty: give mean (exponential waits) or waits (a list, drawn uniformly)")
	}
	if err := g.FlowConfig(s.Seed, s.Duration.D()).Validate(); err != nil {
		var ce *flows.ConfigError
		if errors.As(err, &ce) {
			return ferr("wlcg."+ce.Field, "%s", ce.Msg)
		}
		return ferr("wlcg", "%v", err)
	}
	if err := validBudgets(s.Budgets); err != nil {
		return err
	}
	for key, v := range s.Thresholds {
		if _, err := ParseThreshold(key, v); err != nil {
			return ferr("thresholds."+key, "%v", err)
		}
	}
	return nil
}

func (c *CLIGroup) validate() error {
	switch {
	case c.Count > MaxCount:
		return ferr("cli.count", "at most %d, got %d", MaxCount, c.Count)
	case c.Concurrency > MaxConcurrency:
		return ferr("cli.concurrency", "at most %d, got %d", MaxConcurrency, c.Concurrency)
	case math.IsNaN(c.Rate) || c.Rate > MaxRate:
		return ferr("cli.rate", "at most %d commands per second, got %g", MaxRate, c.Rate)
	case c.Count < 0:
		return ferr("cli.count", "must not be negative, got %d", c.Count)
	case c.Rate < 0:
		return ferr("cli.rate", "must be positive (commands per second), got %g", c.Rate)
	case c.Concurrency < 0:
		return ferr("cli.concurrency", "must not be negative, got %d", c.Concurrency)
	case c.Users < 0:
		return ferr("cli.users", "must not be negative")
	}
	modes := 0
	for _, on := range []bool{c.Rate > 0, len(c.Stages) > 0, c.Burst != nil} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return ferr("cli", "give one of rate, stages or burst, not several")
	}
	if modes == 0 && c.Concurrency == 0 {
		return ferr("cli", "want rate, stages or burst (open loop) or concurrency (closed loop)")
	}
	if !c.Arrival.valid() {
		return ferr("cli.arrival", "want constant or poisson, got %q", c.Arrival)
	}
	if c.Arrival != "" && !(c.Rate > 0) {
		return ferr("cli.arrival", "applies to rate only: give rate, or drop arrival (stages, burst and concurrency set their own timing)")
	}
	for i, st := range c.Stages {
		if st.Duration <= 0 {
			return ferr(fmt.Sprintf("cli.stages[%d].duration", i), "must be positive")
		}
		if st.Rate < 0 || math.IsNaN(st.Rate) || st.Rate > MaxRate {
			return ferr(fmt.Sprintf("cli.stages[%d].rate", i), "want 0 to %d commands per second, got %g", MaxRate, st.Rate)
		}
	}
	if b := c.Burst; b != nil {
		if b.Size <= 0 {
			return ferr("cli.burst.size", "must be positive")
		}
		if b.Within <= 0 || b.Every <= 0 || b.Within > b.Every {
			return ferr("cli.burst", "want 0 < within <= every")
		}
		if b.Size > MaxCount || float64(b.Size)/b.Within.D().Seconds() > MaxRate {
			return ferr("cli.burst.size", "%d within %s is past %d commands per second", b.Size, b.Within.D(), MaxRate)
		}
	}
	if !c.Process.valid() {
		return ferr("cli.process", "want false, true (an authbench client process) or python, got %q", c.Process)
	}
	if c.Process.Mode() != "" && c.Connection == "reuse" {
		return ferr("cli.connection", "a client process cannot reuse a connection: want fresh with process")
	}
	switch c.Connection {
	case "", "fresh", "reuse":
	default:
		return ferr("cli.connection", "want fresh or reuse, got %q", c.Connection)
	}
	total := 0
	for cmd, w := range c.Mix {
		switch cmd {
		case "ping", "trigger", "hold", "release", "stop":
		default:
			return ferr("cli.mix."+cmd+"#key", "unknown command %q; want ping, trigger, hold, release or stop", cmd)
		}
		if w < 0 {
			return ferr("cli.mix."+cmd, "weight must not be negative")
		}
		total += w
	}
	if len(c.Mix) > 0 && total == 0 {
		return ferr("cli.mix", "all weights are zero")
	}
	return nil
}

func (j *JobGroup) validate() error {
	cycles := j.CyclePoints > 0 || j.TasksPerCycle > 0
	switch {
	case j.Total > MaxCount:
		return ferr("job.total", "at most %d, got %d", MaxCount, j.Total)
	case cycles && j.CyclePoints > 0 && j.TasksPerCycle > MaxCount/max(1, j.CyclePoints):
		return ferr("job.tasks_per_cycle", "cycle_points x tasks_per_cycle at most %d", MaxCount)
	case j.Concurrency > MaxConcurrency:
		return ferr("job.concurrency", "at most %d, got %d", MaxConcurrency, j.Concurrency)
	case math.IsNaN(j.Rate) || j.Rate > MaxRate:
		return ferr("job.rate", "at most %d jobs per second, got %g", MaxRate, j.Rate)
	case j.Messages > 10000:
		return ferr("job.messages", "at most 10000 per job, got %d", j.Messages)
	case cycles && (j.CyclePoints <= 0 || j.TasksPerCycle <= 0):
		return ferr("job.cycle_points", "cycle_points and tasks_per_cycle go together, both positive")
	case cycles && j.Total > 0:
		return ferr("job.total", "give total or cycle_points x tasks_per_cycle, not both")
	case cycles && j.Rate > 0 && j.CycleInterval > 0:
		return ferr("job.rate", "give cycle_interval (each cycle point's tasks released together) or rate (tasks arriving one by one, cycle after cycle), not both")
	case !cycles && j.Total <= 0:
		return ferr("job.total", "must be positive, got %d", j.Total)
	case j.Concurrency <= 0:
		return ferr("job.concurrency", "must be positive, got %d", j.Concurrency)
	case j.Messages < 2:
		return ferr("job.messages", "at least 2 (started, then succeeded or failed), got %d", j.Messages)
	case j.FailRatio < 0 || j.FailRatio > 1:
		return ferr("job.fail_ratio", "want 0 to 1, got %g", j.FailRatio)
	case j.Retries < 0 || j.Retries > 99:
		return ferr("job.retries", "want 0 to 99 (a job's submit number has two digits), got %d", j.Retries)
	case j.Rate < 0:
		return ferr("job.rate", "must be positive, got %g", j.Rate)
	case j.MessageSize < 0 || j.MessageSize > 1<<19:
		return ferr("job.message_size", "want 0 to 524288 bytes, got %d", j.MessageSize)
	case j.Think < 0 || j.CycleInterval < 0:
		return ferr("job.think", "must not be negative")
	}
	if !j.Arrival.valid() {
		return ferr("job.arrival", "want constant or poisson, got %q", j.Arrival)
	}
	if j.Arrival != "" && !(j.Rate > 0) {
		return ferr("job.arrival", "applies to rate only: give rate, or drop arrival")
	}
	if !j.Process.valid() {
		return ferr("job.process", "want false, true (an authbench client process) or python, got %q", j.Process)
	}
	share := 0.0
	for i, t := range j.Targets {
		if t.Name == "" {
			return ferr(fmt.Sprintf("job.targets[%d]", i), "needs a name")
		}
		if t.Share < 0 {
			return ferr(fmt.Sprintf("job.targets[%d].share", i), "must not be negative")
		}
		share += t.Share
	}
	if len(j.Targets) > 0 && share <= 0 {
		return ferr("job.targets", "shares sum to zero")
	}
	return nil
}

// validBudgets refuses a budget no question judges (a typo such as
// comand_p99_budget was stored and silently ignored), one that is not
// positive, two budgets of one kind (one percentile is judged), and a
// source too long to print.
func validBudgets(budgets map[string]Budget) error {
	names := make([]string, 0, len(budgets))
	for name := range budgets {
		names = append(names, name)
	}
	sort.Strings(names) // the first error is the same every time
	kinds := map[string]string{}
	for _, name := range names {
		kind, _, err := vocab.ParseBudgetName(name)
		if err != nil {
			return ferr("budgets."+name, "%v", err)
		}
		if other, ok := kinds[kind]; ok {
			return ferr("budgets."+name, "a second %s budget (with %s): state one percentile", kind, other)
		}
		kinds[kind] = name
		b := budgets[name]
		if b.Value <= 0 {
			return ferr("budgets."+name, "must be positive")
		}
		if b.OfReal != 0 && name != vocab.BudgetPython {
			return ferr("budgets."+name+".of_real", "only %s is a share of a real client's time", vocab.BudgetPython)
		}
		if b.OfReal < 0 || b.OfReal > 1 || math.IsNaN(b.OfReal) {
			return ferr("budgets."+name+".of_real", "%v: want a share above 0 and at most 1", b.OfReal)
		}
		if len(b.Source) > MaxBudgetSource {
			return ferr("budgets."+name+".source", "%d characters: at most %d", len(b.Source), MaxBudgetSource)
		}
	}
	return nil
}

// validatePublish checks the subscription keys: subscribe only into the
// cylc model (the only one that publishes), delta_size and publish_rate
// only with subscribe, and within the WFS's bounds.
func (u *UISGroup) validatePublish(m *ServerModel) error {
	if !u.Subscribe {
		switch {
		case u.DeltaSize != 0:
			return ferr("uis.delta_size", "only with subscribe: true")
		case u.PublishRate != 0:
			return ferr("uis.publish_rate", "only with subscribe: true")
		}
		return nil
	}
	if m == nil || m.Model != vocab.ServerModelCylc {
		return ferr("uis.subscribe", "only with server: {model: cylc}: only the cylc model publishes deltas")
	}
	if u.DeltaSize != 0 && (u.DeltaSize < wfs.MinDeltaSize || u.DeltaSize > wfs.MaxDeltaSize) {
		return ferr("uis.delta_size", "want %d to %d bytes, got %d", wfs.MinDeltaSize, wfs.MaxDeltaSize, u.DeltaSize)
	}
	if max := 1 / wfs.CylcMainLoopInterval.Seconds(); u.PublishRate < 0 || u.PublishRate > max {
		return ferr("uis.publish_rate", "want 0 to %g deltas a second (one a main-loop iteration at most), got %g", max, u.PublishRate)
	}
	return nil
}
