package scenarios

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
)

// idleWindow is how long a capacity search watches its WFS with no load to
// learn the CPU it spends idle (timers, runtime), which is subtracted from
// each step's CPU per operation.
const idleWindow = 2 * time.Second

// Capacity ops: what a capacity search offers.
const (
	CapCommand   = "command"   // CLI commands, a fresh connection each
	CapMessage   = "message"   // job messages (each job sends started and succeeded)
	CapHandshake = "handshake" // commands on fresh connections, then reused ones at the same rate
)

// CapacityConfig is a capacity search: for each scheme, a WFS process of
// its own is offered rising Poisson loads, Factor times the last, until the
// knee rule is crossed or MaxSteps are run.
type CapacityConfig struct {
	Schemes []*schemes.Scheme
	Op      string
	// Start is the first offered rate (ops/s); Factor the step ratio.
	Start, Factor float64
	// StepTime is each step's measured time; a step is stretched (up to
	// MaxStepTime) to give MinP99Ops operations, so its p99 can be used.
	StepTime, MaxStepTime time.Duration
	MaxSteps              int
	// Workers are the load generator's concurrent clients.
	Workers       int
	Rule          results.KneeRule
	WorkDir       string
	Server        process.ServerLauncher
	ServerWorkers int
	Leeway        time.Duration
	Progress      io.Writer
	// Model is the WFS's model (nil: fast).
	Model *ServerModel
}

// CapacityDefaults fills cfg's zero fields.
func CapacityDefaults(cfg CapacityConfig) CapacityConfig {
	if cfg.Op == "" {
		cfg.Op = CapCommand
	}
	if cfg.Start <= 0 {
		cfg.Start = 50
	}
	if cfg.Factor <= 1 {
		cfg.Factor = 1.5
	}
	if cfg.StepTime <= 0 {
		cfg.StepTime = 6 * time.Second
	}
	if cfg.MaxStepTime < cfg.StepTime {
		cfg.MaxStepTime = max(cfg.StepTime, 20*time.Second)
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 12
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 64
	}
	if cfg.Rule == (results.KneeRule{}) {
		cfg.Rule = results.DefaultKneeRule
	}
	return cfg
}

// Capacity runs the search for every scheme and returns a curve each. On
// cancellation it returns the curves so far, the last one partial.
func Capacity(ctx context.Context, cfg CapacityConfig) ([]*results.CapacityCurve, error) {
	cfg = CapacityDefaults(cfg)
	switch cfg.Op {
	case CapCommand, CapMessage, CapHandshake:
	default:
		return nil, fmt.Errorf("-op %q: want command, message or handshake", cfg.Op)
	}
	clientCPUs := 1.0
	if aff, err := process.Affinity(); err == nil {
		if l, err := process.ParseCPUList(aff); err == nil {
			clientCPUs = float64(len(l))
		}
	}
	var out []*results.CapacityCurve
	for _, sc := range cfg.Schemes {
		cv, err := capacityCurve(ctx, cfg, sc, clientCPUs)
		if cv != nil {
			out = append(out, cv)
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func capacityCurve(ctx context.Context, cfg CapacityConfig, scheme *schemes.Scheme, clientCPUs float64) (*results.CapacityCurve, error) {
	root := filepath.Join(cfg.WorkDir, "capacity-"+safeName(scheme.Name()))
	ecfg := Config{Server: cfg.Server, ServerWorkers: cfg.ServerWorkers, Leeway: cfg.Leeway, Progress: cfg.Progress,
		ProgressEvery: 5 * time.Second}
	ss, err := openSession(ctx, ecfg, scheme, root, "authbench-capacity", cfg.Model)
	if err != nil {
		return nil, fmt.Errorf("capacity %s: %w", scheme.Name(), err)
	}
	cv := &results.CapacityCurve{Scheme: scheme.Name(), Canonical: scheme.Spec().Canonical(), Op: cfg.Op,
		ServerCPUs: cfg.Server.CPUs, Quota: cfg.Server.Quota}
	allowed := cfg.Server.Quota
	if allowed <= 0 {
		if l, err := process.ParseCPUList(cfg.Server.CPUs); err == nil && cfg.Server.CPUs != "" {
			allowed = float64(len(l))
		}
	}
	if err := ss.measureIdle(ctx, idleWindow); err != nil {
		_, _ = ss.close()
		return nil, fmt.Errorf("capacity %s: idle CPU: %w", scheme.Name(), err)
	}
	var runErr error
	rate := cfg.Start
	for i := 0; i < cfg.MaxSteps && ctx.Err() == nil; i++ {
		st, err := capacityStep(ctx, cfg, ss, rate, i, clientCPUs)
		if err != nil {
			runErr = fmt.Errorf("capacity %s at %.0f/s: %w", scheme.Name(), rate, err)
			break
		}
		cv.Steps = append(cv.Steps, st)
		// Stop at a confirmed knee: a crossing step the next one confirmed.
		if k := results.FindKnee(cv.Steps, cfg.Rule, allowed); k.Found && k.Step < len(cv.Steps)-1 {
			break
		}
		rate *= cfg.Factor
	}
	cv.Knee = results.FindKnee(cv.Steps, cfg.Rule, allowed)
	_, closeErr := ss.close()
	if runErr == nil && closeErr != nil {
		runErr = closeErr
	}
	return cv, runErr
}

// capacityStep offers rate for one step and measures it.
func capacityStep(ctx context.Context, cfg CapacityConfig, ss *session, rate float64, i int, clientCPUs float64) (results.CapacityStep, error) {
	d := cfg.StepTime
	// 10 % more than the ops a p99 needs: Poisson counts vary.
	if need := time.Duration(1.1 * float64(cfg.Rule.MinP99Ops) / rate * float64(time.Second)); need > d {
		d = min(need, cfg.MaxStepTime)
	}
	st := results.CapacityStep{Offered: rate}
	conns := []string{"fresh"}
	if cfg.Op == CapHandshake {
		conns = append(conns, "reuse")
	}
	for _, conn := range conns {
		sc := capacityScenario(cfg, rate, d, i, conn)
		res, err := ss.measure(ctx, sc, fmt.Sprintf("capacity %s %.0f/s %s", ss.scheme.Name(), rate, conn))
		if err != nil {
			return st, err
		}
		op := res.Op(capacityOp(cfg.Op))
		if op == nil {
			return st, fmt.Errorf("no %s operations recorded", capacityOp(cfg.Op))
		}
		cpuPer := time.Duration(0)
		if sp := res.ServerProcess; sp != nil && op.Count > 0 {
			busy := max(0, sp.CPUSeconds()-ss.idle*sp.Window.Seconds())
			cpuPer = time.Duration(busy / float64(op.Count) * float64(time.Second))
		}
		if conn == "reuse" {
			st.ReusedServerCPUPerOp = cpuPer
			continue
		}
		st.Window = res.Duration
		st.Count, st.Errors = op.Count, op.ErrorCount()
		st.Achieved = op.Rate(res.Duration)
		st.P50, st.P90, st.P99 = op.Hist.Percentile(50), op.Hist.Percentile(90), op.Hist.Percentile(99)
		st.ServerCPUPerOp = cpuPer
		st.Late, st.Dropped = op.Late, op.Dropped
		st.IdleCPU = ss.idle
		if lag := res.Op(capacityLagOp(cfg.Op)); lag != nil && lag.Count > 0 {
			st.SendLagP99 = lag.Hist.Percentile(99)
		}
		st.Shed = res.Server.Shed
		if sp := res.ServerProcess; sp != nil {
			st.ServerUtil = sp.Utilisation()
			st.Throttled = sp.Throttled
		}
		if res.Duration > 0 {
			st.ClientUtil = res.CPU / res.Duration.Seconds() / clientCPUs
		}
	}
	return st, nil
}

// capacityOp is the top-level op a capacity search judges.
func capacityOp(op string) string {
	if op == CapMessage {
		return vocab.OpJobMessage
	}
	return vocab.OpCLICommand
}

// capacityLagOp is the op that records the generator's send lag.
func capacityLagOp(op string) string {
	if op == CapMessage {
		return vocab.OpJobSendLag
	}
	return vocab.OpCLISendLag
}

// capacityScenario is one step's load: Poisson arrivals at rate for d after
// a one-second warm-up.
func capacityScenario(cfg CapacityConfig, rate float64, d time.Duration, step int, conn string) *Scenario {
	sc := &Scenario{Name: "capacity-" + cfg.Op, Seed: int64(1000 + step), Warmup: Duration(time.Second),
		Duration: Duration(d), Server: cfg.Model}
	switch cfg.Op {
	case CapMessage:
		// Each job sends started then succeeded back to back: two messages.
		jobs := int(math.Ceil(rate / 2 * (d + time.Second).Seconds()))
		sc.Job = &JobGroup{Total: jobs, Rate: rate / 2, Arrival: ArrivalPoisson, Messages: 2,
			Concurrency: max(cfg.Workers, int(rate)), Targets: []Target{{Name: "localhost", Share: 1, SharedFS: true}}}
	default:
		sc.CLI = &CLIGroup{Rate: rate, Arrival: ArrivalPoisson, Concurrency: cfg.Workers, Connection: conn,
			Mix: map[string]int{"ping": 1}}
	}
	return sc
}

// measureIdle takes the WFS's CPU share with no load over d.
func (ss *session) measureIdle(ctx context.Context, d time.Duration) error {
	a, err := ss.srv.Stats(ctx)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	b, err := ss.srv.Stats(ctx)
	if err != nil {
		return err
	}
	if w := b.At.Sub(a.At).Seconds(); w > 0 {
		ss.idle = max(0, (b.CPUSeconds()-a.CPUSeconds())/w)
	}
	return nil
}
