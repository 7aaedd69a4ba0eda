package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// mixer picks CLI commands by weight, deterministically from the seed.
type mixer struct {
	cmds    []string
	weights []int
	total   int
}

func newMixer(mix map[string]int) *mixer {
	m := &mixer{}
	if len(mix) == 0 {
		mix = map[string]int{wfs.CmdPing: 1}
	}
	for c := range mix {
		m.cmds = append(m.cmds, c)
	}
	sort.Strings(m.cmds)
	for _, c := range m.cmds {
		m.weights = append(m.weights, mix[c])
		m.total += mix[c]
	}
	return m
}

func (m *mixer) pick(rng *rand.Rand) string {
	n := rng.IntN(m.total)
	for i, w := range m.weights {
		if n < w {
			return m.cmds[i]
		}
		n -= w
	}
	return m.cmds[len(m.cmds)-1]
}

type hit struct {
	n        uint64
	intended time.Time
}

// cli drives the CLI group: open loop at a rate (latency from the intended
// send time) or closed loop with a concurrency.
func (r *runner) cli(ctx context.Context) {
	g := r.sc.CLI
	mix := newMixer(g.Mix)
	pacer := cliPacerSeeded(g, r.sc.Seed)
	workers := g.Concurrency
	if workers <= 0 {
		workers = 32
	}
	fresh := g.Connection != "reuse"
	var sent atomic.Int64
	count := int64(g.Count)
	hits := make(chan hit, 4096)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		rec := r.recorder()
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			cw := &cliWorker{r: r, rec: rec, fresh: fresh, user: fmt.Sprintf("user%d", w%max(1, g.Users))}
			defer cw.close()
			if pacer != nil {
				for h := range hits {
					if r.abort.Err() != nil || (ctx.Err() != nil && !r.srv.Alive()) {
						// Abandoned, or the WFS is gone: what is still
						// queued is dropped (each would wait out its
						// timeout).
						continue
					}
					now := time.Now()
					if now.Sub(h.intended) > lateThreshold {
						rec.late(vocab.OpCLICommand)
					}
					rec.ok(vocab.OpCLISendLag, h.intended, h.intended, now)
					cw.command(r.abort, mix.pick(rng), h.intended, now)
				}
				return
			}
			for ctx.Err() == nil {
				if count > 0 && sent.Add(1) > count {
					return
				}
				now := time.Now()
				cw.command(r.abort, mix.pick(rng), now, now)
			}
		}()
	}
	if pacer != nil {
		r.dispatch(ctx, pacer, count, hits, vocab.OpCLICommand)
	}
	close(hits)
	wg.Wait()
}

// dispatch sends intended send times to the workers as the pacer asks; when
// the queue is full the hit is dropped and counted.
func (r *runner) dispatch(ctx context.Context, p pace.Pacer, count int64, out chan<- hit, op string) {
	rec := r.recorder()
	start := time.Now()
	var n uint64
	for ctx.Err() == nil {
		if count > 0 && int64(n) >= count {
			return
		}
		elapsed := time.Since(start)
		wait, stop := p.Pace(elapsed, n)
		if stop {
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		intended := start.Add(elapsed + wait)
		select {
		case out <- hit{n: n, intended: intended}:
		default:
			rec.dropped(op)
		}
		n++
	}
}

// cliWorker runs CLI commands, each as a fresh CLI process would: load the
// credential, connect (fresh, or reuse the worker's connection), one round
// trip.
type cliWorker struct {
	r     *runner
	rec   *recorder
	fresh bool
	user  string
	zc    *wfs.Client
	cl    *schemes.Client
}

func (w *cliWorker) close() {
	if w.zc != nil {
		w.zc.Close()
	}
	if w.cl != nil {
		_ = w.cl.Close()
	}
}

func (w *cliWorker) command(ctx context.Context, cmd string, intended, start time.Time) {
	r := w.r
	r.cmds.Add(1)
	err := w.commandErr(ctx, cmd)
	end := time.Now()
	if err != nil {
		w.rec.fail(vocab.OpCLICommand, intended, err)
		return
	}
	w.rec.ok(vocab.OpCLICommand, intended, start, end)
}

func (w *cliWorker) commandErr(ctx context.Context, cmd string) error {
	r := w.r
	if r.sc.CLI.Process.Mode() == "python" {
		t0 := time.Now()
		rep, err := r.pythonRequest(ctx, schemes.KindCLI, w.user, "", "--command", cmd)
		recordPython(w.rec, rep, t0, err, vocab.OpCLIProcess, vocab.OpCLIProcessCPU, vocab.OpCLIInterp, vocab.OpCLIHandshake, vocab.OpCLIRoundTrip)
		return err
	}
	if r.sc.CLI.Process.Mode() == "go" {
		t0 := time.Now()
		rep, err := r.processRequest(ctx, "-kind", "cli", "-id", w.user, "-command", cmd)
		w.recordProcess(rep, t0, err, vocab.OpCLIProcess, vocab.OpCLIAcquire, vocab.OpCLIHandshake, vocab.OpCLIRoundTrip)
		return err
	}
	if w.fresh || w.cl == nil {
		if w.cl != nil {
			_ = w.cl.Close()
		}
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.Contact(), Kind: schemes.KindCLI,
			Identity: w.user, StateDir: r.stateDir})
		if err != nil {
			return err
		}
		w.cl = cl
		if w.zc != nil {
			w.zc.Close()
		}
		w.zc = wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
		t0 := time.Now()
		if _, err := w.zc.Handshake(ctx); err != nil {
			w.rec.fail(vocab.OpCLIHandshake, t0, err)
			return err
		}
		w.rec.ok(vocab.OpCLIHandshake, t0, t0, time.Now())
	}
	body, err := wfs.EncodeRequest(cmd, nil, wfs.Meta{Prog: "cylc-" + cmd, Host: "localhost", CommsMethod: "zmq"})
	if err != nil {
		return err
	}
	return exchange(ctx, w.rec, w.cl, w.zc, body, vocab.OpCLIAcquire, vocab.OpCLIRoundTrip)
}

// recordProcess records a client process's wall time and the ops it timed
// itself.
func (w *cliWorker) recordProcess(rep ClientReport, t0 time.Time, err error, opProc, opAcq, opHS, opRT string) {
	recordProcess(w.rec, rep, t0, err, opProc, opAcq, opHS, opRT)
}

func recordProcess(rec *recorder, rep ClientReport, t0 time.Time, err error, opProc, opAcq, opHS, opRT string) {
	end := time.Now()
	if err != nil {
		rec.fail(opProc, t0, err)
		return
	}
	rec.ok(opProc, t0, t0, end)
	at := func(op string, ns int64) {
		if ns > 0 {
			rec.ok(op, t0, t0, t0.Add(time.Duration(ns)))
		}
	}
	at(opAcq, rep.AcquireNS)
	at(opHS, rep.HandshakeNS)
	at(opRT, rep.RoundTripNS)
	rec.added(rep.BytesAdded)
}

// exchange is one credentialed request (schemes.Request), recorded: the
// acquisition when the scheme acquired one, the round trip, bytes added.
func exchange(ctx context.Context, rec *recorder, cl *schemes.Client, zc *wfs.Client, body []byte, opAcquire, opRT string) error {
	a0 := time.Now()
	x, err := schemes.Request(ctx, cl, zc, body)
	switch x.Stage {
	case "acquire":
		rec.fail(opAcquire, a0, err)
		return err
	case "wrap":
		return err
	}
	if x.Acquired {
		rec.ok(opAcquire, a0, a0, a0.Add(x.Acquire))
	}
	rec.added(x.BytesAdded)
	t0 := time.Now().Add(-x.RoundTrip)
	if x.Stage == "round_trip" {
		rec.fail(opRT, t0, err)
		return err
	}
	rec.ok(opRT, t0, t0, t0.Add(x.RoundTrip))
	return err
}

// jobGroup submits jobs, at most Concurrency running at once.
func (r *runner) jobGroup(ctx context.Context) {
	g := r.sc.Job
	ids := make(chan jobHit)
	var wg sync.WaitGroup
	shared := make([]*recorder, min(g.Concurrency, maxJobRecorders))
	for i := range shared {
		shared[i] = r.recorder()
	}
	for w := 0; w < g.Concurrency; w++ {
		rec := shared[w%len(shared)]
		rng := rand.New(rand.NewPCG(uint64(r.sc.Seed), uint64(1000+w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range ids {
				// How far behind its arrival time the job started: the
				// load generator's own lag (all workers busy, or itself
				// short of CPU).
				if h.paced {
					rec.ok(vocab.OpJobSendLag, h.intended, h.intended, time.Now())
				}
				r.job(ctx, rec, rng, h)
			}
		}()
	}
	defer func() { close(ids); wg.Wait() }()
	pacer := jobPacer(g, r.sc.Seed)
	start := time.Now()
	for i := 0; i < g.Jobs() && ctx.Err() == nil; i++ {
		if g.CyclePoints > 0 && pacer == nil && i > 0 && i%g.TasksPerCycle == 0 {
			// The next cycle point's tasks are all submitted at its time.
			due := start.Add(time.Duration(i/g.TasksPerCycle) * g.CycleInterval.D())
			if wait := time.Until(due); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		if pacer != nil {
			if wait, _ := pacer.Pace(time.Since(start), uint64(i)); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
		h := jobHit{i: i, intended: r.arrival(start, pacer, i), paced: pacer != nil}
		if g.CyclePoints > 0 && pacer == nil {
			// A cycle point's tasks are released together (cylc-flow
			// task_job_mgr.py submits them as one batch): each is due at
			// the release, and a wait for a free worker is the load
			// generator's, counted in its latency and its send lag.
			h.intended, h.paced = start.Add(time.Duration(i/g.TasksPerCycle)*g.CycleInterval.D()), true
		}
		select {
		case ids <- h:
		case <-ctx.Done():
			return
		}
	}
}

func (r *runner) target(rng *rand.Rand) string {
	ts := r.sc.Job.Targets
	if len(ts) == 0 {
		return "localhost"
	}
	total := 0.0
	for _, t := range ts {
		total += t.Share
	}
	x := rng.Float64() * total
	for _, t := range ts {
		if x < t.Share {
			return t.Name
		}
		x -= t.Share
	}
	return ts[len(ts)-1].Name
}

// job runs one job: submit (the WFS writes the job script and mints
// credentials), its messages (each a fresh client, as `cylc message` is),
// then job end (credentials revoked).
// jobHit is one job's arrival: its index and when it was due.
type jobHit struct {
	i        int
	intended time.Time
	paced    bool
}

// arrival is when job i was due: its pacer's time when the group is paced
// (open loop), else now (jobs start as fast as concurrency allows).
func (r *runner) arrival(start time.Time, p pace.Pacer, i int) time.Time {
	now := time.Now()
	if p == nil {
		return now
	}
	wait, _ := p.Pace(now.Sub(start), uint64(i))
	return now.Add(wait)
}

func (r *runner) job(ctx context.Context, rec *recorder, rng *rand.Rand, h jobHit) {
	i := h.i
	g := r.sc.Job
	cycle := 1
	if g.CyclePoints > 0 {
		cycle = 1 + i/g.TasksPerCycle
	}
	task := wfs.JobID{Cycle: fmt.Sprint(cycle), Task: fmt.Sprintf("%st%05d", r.cfg.JobPrefix, i)}
	target := r.target(rng)
	// A failed job with retries left is followed by the task's next job,
	// its submit number one higher: cylc's "execution retry delays"
	// (cylc/flow/cfgspec/workflow.py; the retry is scheduled by
	// task_events_mgr.py _retry_task, and task_job_mgr.py increments
	// itask.submit_num at the next submission). Its job end says the task
	// retries, so a task's token outlives the job.
	for submit := 1; submit <= 1+g.Retries && ctx.Err() == nil; submit++ {
		id := task
		id.Submit = submit
		failed := r.jobAttempt(ctx, rec, rng, h, id, target, submit <= g.Retries)
		if !failed {
			return
		}
	}
}

// jobAttempt runs one job of a task and reports whether it failed; canRetry
// says whether a failure is followed by another job of the task.
func (r *runner) jobAttempt(ctx context.Context, rec *recorder, rng *rand.Rand, h jobHit, id wfs.JobID, target string, canRetry bool) (failed bool) {
	g := r.sc.Job
	now := time.Now()
	// The WFS makes the job's directory and script and mints its
	// credential; at job end it revokes it (over its control channel).
	ev := process.JobEvent{Job: id.String(), Target: target, Ship: r.shipped(target)}
	if err := r.submit(ctx, ev); err != nil {
		rec.fail(vocab.OpJobMessage, now, err)
		return false
	}
	r.jobs.Add(1)
	final := "succeeded"
	if rng.Float64() < g.FailRatio {
		final = "failed"
	}
	failed = final == "failed"
	defer func() {
		end := ev
		end.Retrying = failed && canRetry && ctx.Err() == nil
		_ = r.srv.Call(context.WithoutCancel(ctx), process.CtlJobEnd, end, nil)
	}()
	_ = r.srv.Call(ctx, process.CtlJobStart, ev, nil)
	pad := strings.Repeat("x", max(0, g.MessageSize))
	for m := 0; m < g.Messages && ctx.Err() == nil; m++ {
		sev, text := "INFO", "custom "+pad
		switch m {
		case 0:
			text = "started"
		case g.Messages - 1:
			text = final
			if final == "failed" {
				sev = "CRITICAL"
			}
		}
		if m > 0 && g.Think > 0 {
			select {
			case <-ctx.Done():
				return failed
			case <-time.After(g.Think.D()):
			}
		}
		// A message in flight is drained, not cut, when the load ends (the
		// client's own timeout bounds it), and cut when the run is
		// abandoned (runner.abort).
		// The first message is due at the job's arrival (open loop: its
		// latency counts any wait for a free worker); later ones when sent.
		intended := time.Now()
		if m == 0 && id.Submit == 1 {
			intended = h.intended
		}
		r.message(r.abort, rec, id, target, sev, text, intended)
	}
	return failed
}

func (r *runner) message(ctx context.Context, rec *recorder, id wfs.JobID, target, sev, text string, intended time.Time) {
	start := time.Now()
	run := r.runFor(target)
	if r.sc.Job.Process.Mode() == "python" {
		rep, err := r.pythonRequest(ctx, schemes.KindJob, id.String(), target, "--job", id.String(), "--severity", sev, "--text", text)
		recordPython(rec, rep, start, err, vocab.OpJobProcess, vocab.OpJobProcessCPU, vocab.OpJobInterp, vocab.OpJobHandshake, vocab.OpJobRoundTrip)
		if err != nil {
			rec.fail(vocab.OpJobMessage, start, err)
			return
		}
		rec.ok(vocab.OpJobMessage, intended, start, time.Now())
		return
	}
	if r.sc.Job.Process.Mode() == "go" {
		rep, err := r.processRequest(ctx, "-kind", "job", "-id", id.String(), "-target", target, "-message", sev+"|"+text,
			"-state-dir", run.JobDir(id), "-contact", run.ContactPath())
		recordProcess(rec, rep, start, err, vocab.OpJobProcess, vocab.OpJobAcquire, vocab.OpJobHandshake, vocab.OpJobRoundTrip)
		if err != nil {
			rec.fail(vocab.OpJobMessage, start, err)
			return
		}
		rec.ok(vocab.OpJobMessage, intended, start, time.Now())
		return
	}
	err := func() error {
		// A job keeps client state (plan B1's shared token) in its own job
		// directory, as a job on a remote host would.
		cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: run, Contact: r.srv.Contact(), Kind: schemes.KindJob,
			Identity: id.String(), Target: target, StateDir: run.JobDir(id)})
		if err != nil {
			return err
		}
		defer cl.Close()
		zc := wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure, Monitor: true})
		defer zc.Close()
		t0 := time.Now()
		if _, err := zc.Handshake(ctx); err != nil {
			rec.fail(vocab.OpJobHandshake, t0, err)
			return err
		}
		rec.ok(vocab.OpJobHandshake, t0, t0, time.Now())
		body, err := r.messageBody(run, id, sev, text)
		if err != nil {
			return err
		}
		return exchange(ctx, rec, cl, zc, body, vocab.OpJobAcquire, vocab.OpJobRoundTrip)
	}()
	if err != nil {
		rec.fail(vocab.OpJobMessage, start, err)
		return
	}
	rec.ok(vocab.OpJobMessage, intended, start, time.Now())
}

// messageBody is a job message as the WFS's model takes it (see
// wfs.Model.JobMessageRequest: against the cylc model the client appends
// to job.status itself, unsynced, and sends cylc's GraphQL mutation).
func (r *runner) messageBody(run *wfs.RunDir, id wfs.JobID, sev, text string) ([]byte, error) {
	a := wfs.MessageArgs{Workflow: r.workflow, TaskJob: id.String(), EventTime: time.Now().UTC().Format(time.RFC3339),
		Messages: [][2]string{{sev, text}}}
	meta := wfs.Meta{Prog: "cylc-message", Host: "localhost", CommsMethod: "zmq"}
	return r.model.JobMessageRequest(run, r.statusFiles, a, meta)
}

// uis polls the WFS for data every interval on one long-lived connection,
// timing each poll from its intended time.
func (r *runner) uis(ctx context.Context, n int) {
	g := r.sc.UIS
	rec := r.recorder()
	cl, err := r.scheme.Client(ctx, schemes.ClientEnv{Run: r.run, Contact: r.srv.Contact(), Kind: schemes.KindUIS,
		Identity: fmt.Sprintf("uis%d", n), StateDir: r.stateDir})
	if err != nil {
		rec.fail(vocab.OpUISPoll, time.Now(), err)
		return
	}
	defer cl.Close()
	if g.Subscribe {
		done := make(chan struct{})
		go func() { defer close(done); r.subscribe(ctx, cl.Configure) }()
		defer func() { <-done }()
	}
	zc := wfs.NewClient(r.zctx, r.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure})
	defer zc.Close()
	body, err := wfs.EncodeRequest(wfs.CmdData, wfs.DataArgs{Size: g.ReplySize}, wfs.Meta{Prog: "cylc-uiserver", CommsMethod: "zmq"})
	if err != nil {
		rec.fail(vocab.OpUISPoll, time.Now(), err)
		return
	}
	start := time.Now()
	for k := 0; ctx.Err() == nil; k++ {
		intended := start.Add(time.Duration(k) * g.Interval.D())
		if wait := time.Until(intended); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		t0 := time.Now()
		// A poll in flight when the load ends is drained, not cut; it is
		// cut when the run is abandoned (runner.abort).
		_, err := schemes.Request(r.abort, cl, zc, body)
		if err != nil {
			if ctx.Err() == nil {
				rec.fail(vocab.OpUISPoll, intended, err)
			}
			continue
		}
		rec.ok(vocab.OpUISPoll, intended, t0, time.Now())
	}
}
