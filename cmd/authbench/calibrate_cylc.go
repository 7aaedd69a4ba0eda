package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/cylccal"
	"github.com/authbench/authbench/cylcpeer"
	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/process"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// cylcCalibLoad is one calibration load: a scenario both sides run (the
// real scheduler through cylcpeer.PlanFromScenario, the model through
// authbench run), its request type and the figures it judges.
type cylcCalibLoad struct {
	name, request string
	judge         []string
	// rounds alternate the real scheduler and the model, so that both
	// meet the machine's other load alike; the loads whose drains go on or
	// break on a few milliseconds of a client's turnaround run three.
	rounds int
	yaml   string
}

// cylcCalibLoads are issue 22 #3's loads: sequential pings, 8 concurrent
// clients, a burst of job messages and a site-rate trickle. Every request
// has a fresh connection and CURVE handshake, as each cylc command and
// each `cylc message` has. The trickle is of pings: an open-loop stream
// arrives alike at both sides, where the model's jobs would send their two
// messages back to back and the real load spreads them evenly.
var cylcCalibLoads = []cylcCalibLoad{
	{"seq", cylccal.Ping, []string{cylccal.JudgeP50}, 1, `name: cylc-calib-seq
description: "sequential pings, one client: each waits out the 0.2 s sleep"
seed: 22
cli: {count: 12, concurrency: 1, connection: fresh, mix: {ping: 1}}
server: {model: cylc}
`},
	{"c8", cylccal.Ping, []string{cylccal.JudgeCPU, cylccal.JudgeP50}, 3, `name: cylc-calib-c8
description: "8 concurrent clients pinging, closed loop: a drain goes on while their next requests arrive in time"
seed: 22
cli: {count: 120, concurrency: 8, connection: fresh, mix: {ping: 1}}
server: {model: cylc}
`},
	{"burst", cylccal.Message, []string{cylccal.JudgeCPU}, 3, `name: cylc-calib-burst
description: "a burst of 20 job messages, 4 at once, closed loop, for four live jobs in turn"
seed: 22
job: {total: 10, concurrency: 4, messages: 2}
server: {model: cylc}
`},
	{"trickle", cylccal.Ping, nil, 1, `name: cylc-calib-trickle
description: "a site-rate trickle: pings at 4 a second, open loop, each served alone after the sleep it arrives in (0-0.2 s)"
seed: 22
cli: {count: 12, rate: 4, concurrency: 4, connection: fresh, mix: {ping: 1}}
server: {model: cylc}
`},
}

// cylcFitLoad is the load each request type's service CPU is fitted from
// (the densest of its type, where a drain's first request counts least),
// and the two loads the drain-start CPU is fitted from (one request a
// drain against many).
var cylcFitLoad = map[string]string{cylccal.Ping: "c8", cylccal.Message: "burst", cylccal.DrainStart: "seq against c8"}

// fitCylc fits the model's CPU to the real scheduler's Python CPU per
// request, taken as linear in the model's drains per request r: real =
// service + drainStart*r + the rest, the rest as the model has it. The
// drain-start CPU comes from the difference between sequential pings (r
// about 1) and 8 concurrent clients (r near 0); each type's service CPU
// from its densest load, less its share of the new drain-start CPU.
func fitCylc(cal *cylccal.Calibration) {
	byName := map[string]*cylccal.Load{}
	for i := range cal.Loads {
		byName[cal.Loads[i].Name] = &cal.Loads[i]
	}
	r := func(l *cylccal.Load) float64 {
		if l.Model.Requests <= 0 {
			return 0
		}
		return float64(l.Model.Drains) / float64(l.Model.Requests)
	}
	ok := func(l *cylccal.Load) bool { return l != nil && l.Real.CPUMs > 0 && l.Model.CPUMs > 0 }
	seq, c8, burst := byName["seq"], byName["c8"], byName["burst"]
	if !ok(seq) || !ok(c8) || r(seq)-r(c8) < 0.3 {
		return
	}
	cal.Fitted = map[string]float64{}
	d0 := cal.ServiceCPU[cylccal.DrainStart]
	d := max(0, d0+((seq.Real.CPUMs-c8.Real.CPUMs)-(seq.Model.CPUMs-c8.Model.CPUMs))/(r(seq)-r(c8)))
	cal.Fitted[cylccal.DrainStart] = d
	cal.Fitted[cylccal.Ping] = max(0, cal.ServiceCPU[cylccal.Ping]+c8.Real.CPUMs-c8.Model.CPUMs-(d-d0)*r(c8))
	if ok(burst) {
		cal.Fitted[cylccal.Message] = max(0, cal.ServiceCPU[cylccal.Message]+burst.Real.CPUMs-burst.Model.CPUMs-(d-d0)*r(burst))
	}
}

// runCalibrateCylc is `authbench calibrate -cylc CONTACT`: each calibration
// load against the real scheduler CONTACT names and against the cylc model
// (authbench run -scheme curve, pinned to the scheduler's CPUs), side by
// side with their ratios; -o writes them as JSON for authbench report.
func runCalibrateCylc(ctx context.Context, contact, out string, quiet bool, rounds int, args []string, stdout, stderr io.Writer) error {
	if rounds < 0 {
		return fmt.Errorf("-rounds %d: want at least 1", rounds)
	}
	c, err := cylcpeer.ReadContact(contact)
	if err != nil {
		return fmt.Errorf("-cylc: %w", err)
	}
	if err := c.Alive(); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if !c.Local() {
		return fmt.Errorf("-cylc %s: the scheduler runs on %s; calibrate reads its CPU from /proc, so run it on that host", contact, c.Host)
	}
	keys, err := cylcpeer.LoadKeys(c.ServiceDir)
	if err != nil {
		return fmt.Errorf("-cylc %s: %w", contact, err)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "authbench-calibrate-cylc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	say := func(format string, a ...any) {
		if !quiet {
			fmt.Fprintf(stderr, "calibrate: "+format+"\n", a...)
		}
	}
	cal := &cylccal.Calibration{Schema: cylccal.SchemaVersion, Made: time.Now().UTC(),
		Command: "authbench calibrate " + strings.Join(args, " "), Server: c.Server(), Scheme: "curve",
		Model: vocab.ServerModelCylc, FitLoad: cylcFitLoad,
		ServiceCPU: map[string]float64{cylccal.Ping: msOf(wfs.DefaultCylcServiceCPU), cylccal.Message: msOf(wfs.DefaultCylcMessageServiceCPU),
			cylccal.DrainStart: msOf(wfs.DefaultCylcDrainStartCPU)}}
	for _, l := range cylcCalibLoads {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		path := filepath.Join(dir, l.name+".yaml")
		if err := os.WriteFile(path, []byte(l.yaml), 0o600); err != nil {
			return err
		}
		sc, err := scenarios.Load(path)
		if err != nil {
			return fmt.Errorf("calibration load %s: %w", l.name, err)
		}
		plan, err := cylcpeer.PlanFromScenario(sc)
		if err != nil {
			return err
		}
		// The idle scheduler uses a fraction of a percent of a CPU; half a
		// second is enough to say so.
		plan.Idle = 500 * time.Millisecond
		if rounds > 0 && l.rounds > 1 {
			l.rounds = rounds
		}
		load := cylccal.Load{Name: l.name, Description: sc.Description, Request: l.request, Judge: l.judge, Rounds: l.rounds}
		var reals, models []cylccal.Side
		for round := 1; round <= l.rounds; round++ {
			say("%s, round %d of %d: the real scheduler (%s)", l.name, round, l.rounds, c.Server())
			res, _, err := cylcpeer.Run(ctx, cylcpeer.RunConfig{Contact: c, Keys: keys, Plan: plan})
			if err != nil {
				return fmt.Errorf("calibration load %s: %w", l.name, err)
			}
			real := calibSide(res, l.request)
			real.ProcessCPUMs = res.ServerModelStats[l.request+".cpu_ms_per_request_net_idle"]
			real.CPUMs = res.ServerModelStats[l.request+".python_cpu_ms_per_request_net_idle"]
			reals = append(reals, real)
			if sp := res.ServerProcess; sp != nil && cal.CPUs == "" {
				cal.CPUs = sp.CPUs
			}
			say("%s, round %d of %d: the %s model", l.name, round, l.rounds, vocab.ServerModelCylc)
			m, err := calibModel(ctx, exe, cal.CPUs, filepath.Join(dir, fmt.Sprintf("model-%s-%d", l.name, round)), plan, l.request)
			if err != nil {
				return fmt.Errorf("calibration load %s: the model: %w", l.name, err)
			}
			models = append(models, m)
		}
		load.Real, load.Model = cylccal.Combine(reals), cylccal.Combine(models)
		cal.Loads = append(cal.Loads, load)
	}
	fitCylc(cal)
	say("python clients: the real cylc message, authbench's stand-in")
	if cal.Python, err = calibPython(ctx, exe, cal.CPUs, filepath.Join(dir, "model-python"), c); err != nil {
		return fmt.Errorf("calibration: python clients: %w", err)
	}
	mw := mdtable.NewWriter(stdout)
	mw.Printf("%s (pid %d, CPUs %s) against the %s model under curve:\n", c.Server(), c.PID, cal.CPUs, cal.Model)
	cal.WriteTable(mw)
	if err := mw.Err(); err != nil {
		return err
	}
	if out != "" {
		if err := cal.Write(out); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		fmt.Fprintf(stdout, "\ncalibration: %s\n", out)
	}
	return nil
}

// calibModel runs plan against the cylc model: `authbench serve -model
// cylc -scheme curve` pinned to cpus, loaded by the very driver and client
// that load the real scheduler (package cylcpeer: cylc ping's query, which
// the model answers as Cylc does, and cylc message's mutation, for four
// live jobs whose job.status it is given). Its CPU per request is the
// serve process's from /proc, as the scheduler's; its Python CPU the
// threads that hold its GIL (server thread and main loop, metered, and the
// ZAP handler's burn), from its control channel's stats around the load.
func calibModel(ctx context.Context, exe, cpus, runDir string, plan cylcpeer.Plan, request string) (cylccal.Side, error) {
	var side cylccal.Side
	scheme, err := schemes.Builtin().Parse("curve")
	if err != nil {
		return side, err
	}
	model, err := wfs.ParseModel(vocab.ServerModelCylc)
	if err != nil {
		return side, err
	}
	p, err := process.ServerLauncher{Command: []string{exe, "serve"}, CPUs: cpus}.Start(ctx,
		process.ServeConfig{Scheme: scheme, RunDir: runDir, Model: model})
	if err != nil {
		return side, err
	}
	defer func() { _ = p.Stop() }()
	// Four live jobs, as peer.sh's workflow has: started, not exited.
	for i := 1; i <= 4; i++ {
		jd := filepath.Join(runDir, "log", "job", "1", fmt.Sprintf("calib%d", i), "01")
		if err := os.MkdirAll(jd, 0o700); err != nil {
			return side, err
		}
		status := "CYLC_JOB_RUNNER_NAME=background\nCYLC_JOB_INIT_TIME=" + cylcpeer.EventTime(time.Now()) + "\n"
		if err := os.WriteFile(filepath.Join(jd, "job.status"), []byte(status), 0o600); err != nil {
			return side, err
		}
	}
	ct := p.Contact()
	host, portText, ok := strings.Cut(strings.TrimPrefix(p.Endpoint(), "tcp://"), ":")
	port, perr := strconv.Atoi(portText)
	if !ok || perr != nil {
		return side, fmt.Errorf("model endpoint %s: not tcp://HOST:PORT", p.Endpoint())
	}
	svc := filepath.Join(runDir, ".service")
	mc := &cylcpeer.Contact{Path: filepath.Join(svc, "contact"), RunDir: runDir, ServiceDir: svc,
		Workflow: ct[wfs.ContactWorkflow], Host: host, Port: port, PID: p.PID(), API: "5", Version: "8 (authbench cylc model)"}
	keys, err := cylcpeer.LoadKeys(svc)
	if err != nil {
		return side, err
	}
	st0, err := p.Stats(ctx)
	if err != nil {
		return side, err
	}
	res, _, err := cylcpeer.Run(ctx, cylcpeer.RunConfig{Contact: mc, Keys: keys, Plan: plan})
	if err != nil {
		return side, err
	}
	st1, err := p.Stats(ctx)
	if err != nil {
		return side, err
	}
	side = calibSide(res, request)
	side.ProcessCPUMs = res.ServerModelStats[request+".cpu_ms_per_request_net_idle"]
	if n := st1.Server.Requests - st0.Server.Requests; n > 0 {
		py := st1.Server.CPUSeconds - st0.Server.CPUSeconds + st1.ModelStats["zap_cpu_s"] - st0.ModelStats["zap_cpu_s"]
		side.CPUMs = py * 1000 / float64(n)
	}
	side.Drains = int64(st1.ModelStats["drains"] - st0.ModelStats["drains"])
	side.MaxDrain = int64(st1.ModelStats["max_drain"])
	return side, nil
}

// calibPythonN is how many client processes of each kind calibPython runs.
const calibPythonN = 6

// calibPython runs calibPythonN job messages, one after the other, each
// from a new process: the real `cylc message` against the real scheduler,
// as its jobs run it (cylcpeer.CylcMessage), then authbench's Python
// stand-in (scripts/cylc_message.py, as process: python runs it) against
// the cylc model; each process's wall time and CPU (issue 22 #4). Without
// the stand-in's script only the real client is measured.
func calibPython(ctx context.Context, exe, cpus, runDir string, c *cylcpeer.Contact) (*cylccal.PythonClients, error) {
	jobs, err := cylcpeer.LiveJobs(c)
	if err != nil {
		return nil, err
	}
	if len(jobs) == 0 {
		return nil, cylcpeer.NeedJobs(c)
	}
	py := &cylccal.PythonClients{Real: cylccal.Processes{Command: "cylc message -- WORKFLOW JOB TEXT"}}
	for i := range calibPythonN {
		run, err := cylcpeer.CylcMessage(ctx, c, jobs[i%len(jobs)], fmt.Sprintf("authbench-calibrate-python-%d", i+1))
		if err != nil {
			return nil, err
		}
		py.Real.WallMs = append(py.Real.WallMs, msOf(run.Wall))
		py.Real.CPUMs = append(py.Real.CPUMs, msOf(run.CPU))
	}
	script := findPythonClient("", exe)
	if script == "" {
		return py, nil
	}
	py.StandIn.Command = "python3 scripts/cylc_message.py --job JOB"
	scheme, err := schemes.Builtin().Parse("curve")
	if err != nil {
		return nil, err
	}
	model, err := wfs.ParseModel(vocab.ServerModelCylc)
	if err != nil {
		return nil, err
	}
	p, err := process.ServerLauncher{Command: []string{exe, "serve"}, CPUs: cpus}.Start(ctx,
		process.ServeConfig{Scheme: scheme, RunDir: runDir, Model: model})
	if err != nil {
		return nil, err
	}
	defer func() { _ = p.Stop() }()
	run := &wfs.RunDir{Root: runDir}
	job := wfs.JobID{Cycle: "1", Task: "calib1", Submit: 1}
	if err := os.MkdirAll(run.JobDir(job), 0o700); err != nil {
		return nil, err
	}
	svc := run.ServiceDir()
	for i := range calibPythonN {
		cmd := exec.CommandContext(ctx, scenarios.PythonInterpreter, script, "--contact", run.ContactPath(),
			"--t0-ns", strconv.FormatInt(time.Now().UnixNano(), 10),
			"--server-key", filepath.Join(svc, "server.key"), "--client-key", filepath.Join(svc, "client.key_secret"),
			"--job", job.String(), "--severity", "INFO", "--text", fmt.Sprintf("authbench-calibrate-python-%d", i+1))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		t0 := time.Now()
		err := cmd.Run()
		wall := time.Since(t0)
		var rep struct {
			OK bool `json:"ok"`
		}
		if jerr := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &rep); err != nil || jerr != nil || !rep.OK {
			return nil, fmt.Errorf("%s: %v: %s", script, err, strings.TrimSpace(out.String()))
		}
		py.StandIn.WallMs = append(py.StandIn.WallMs, msOf(wall))
		py.StandIn.CPUMs = append(py.StandIn.CPUMs, msOf(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()))
	}
	return py, nil
}

// calibSide is a result's figures for the request type's op.
func calibSide(res *results.Result, request string) cylccal.Side {
	op := vocab.OpCLICommand
	if request == cylccal.Message {
		op = vocab.OpJobMessage
	}
	var s cylccal.Side
	if o := res.Op(op); o != nil {
		s.Requests, s.Errors = o.Count, o.ErrorCount()
		if o.Hist != nil {
			s.P50Ms = msOf(o.Hist.Percentile(50))
			s.P90Ms = msOf(o.Hist.Percentile(90))
		}
	}
	return s
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
