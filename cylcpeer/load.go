package cylcpeer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/record"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
	"golang.org/x/sys/unix"
)

// Group is one request type's load on the scheduler: Count requests (or
// as many as Duration allows), closed loop with Concurrency workers, or
// open loop at Rate requests per second spread over Concurrency workers.
type Group struct {
	Count       int
	Rate        float64
	Concurrency int
	Duration    time.Duration
	// Reuse keeps each worker's connection; by default every request has
	// a fresh connection and CURVE handshake, as each cylc command does.
	Reuse bool
}

func (g *Group) validate(name string) error {
	switch {
	case g == nil:
		return nil
	case g.Count < 0 || g.Rate < 0 || g.Concurrency < 0 || g.Duration < 0:
		return fmt.Errorf("%s: negative count, rate, concurrency or duration", name)
	case g.Count == 0 && g.Duration == 0:
		return fmt.Errorf("%s: neither a count nor a duration bounds it", name)
	}
	return nil
}

// Plan is a load on a real scheduler. Its groups run one after the other,
// pings first, each with a CPU window of its own, so that the scheduler's
// CPU is known per request type (a mutation costs it more than a query).
type Plan struct {
	// Scenario names the load in results; Source and Hash say where it
	// came from.
	Scenario, Source, Hash string
	// Warmup is sent before each group's measured requests, at its pace,
	// and not recorded.
	Warmup time.Duration
	// Pings are `cylc ping` queries; Messages `cylc message` mutations,
	// one message each, for the workflow's live jobs in turn.
	Pings, Messages *Group
	// MessageSize pads each job message's text to this many bytes.
	MessageSize int
	// MessagePrefix starts each job message's text (default
	// "authbench-load"), followed by a run tag and a sequence number, so
	// that the scheduler's log can be searched for them.
	MessagePrefix string
	// Idle is how long the idle scheduler's CPU is measured before the
	// load (default 2 s; negative: not measured), so that its CPU per
	// request can also be given net of what it spends idle.
	Idle time.Duration
	// Settle keeps the job messages' CPU window open after the last reply,
	// for the scheduler's main loop, which processes queued messages about
	// once a second, to process them (default 1.5 s).
	Settle time.Duration
}

// RunConfig is a Run of a Plan against one scheduler.
type RunConfig struct {
	Contact *Contact
	Keys    Keys
	Plan    Plan
	// Timeout bounds each request (DefaultTimeout if 0).
	Timeout time.Duration
	// Progress, if set, gets a line per phase.
	Progress io.Writer
	// Node is the loader's host; Shard and Shards its share (0 of 1 if
	// Shards is 0).
	Node          string
	Shard, Shards int
}

// Phase is one request type's measured window.
type Phase struct {
	Op       string
	Requests int64
	Errors   int64
	Window   ProcWindow
}

// CPUPerRequest is the scheduler's CPU per request in the phase (schedstat
// when every thread lived through it, else ticks: ProcWindow.CPU), and net
// of idleShare (the share of a CPU it uses idle).
func (p Phase) CPUPerRequest(idleShare float64) (gross, net time.Duration) {
	if p.Requests <= 0 {
		return 0, 0
	}
	cpu := p.Window.CPU()
	idle := time.Duration(idleShare * float64(p.Window.Wall()))
	return cpu / time.Duration(p.Requests), max(0, cpu-idle) / time.Duration(p.Requests)
}

// Report is what Run measured, beside the result.
type Report struct {
	Server    string
	PID       int
	Jobs      []string
	Tag       string
	IdleShare float64
	Idle      *ProcWindow
	Phases    []Phase
}

// Run drives the plan's groups at the scheduler and returns the result,
// in authbench's result model, and what it measured per phase. The result
// names the server "cylc-flow VERSION" (ServerModel) and carries the
// scheduler's own CPU (utime+stime of all its threads from /proc) and RSS
// over the measured windows; Scheme is "curve", as Cylc 8 ships. The
// scheduler's CPU is read only on this host; elsewhere the result has none.
func Run(ctx context.Context, cfg RunConfig) (*results.Result, *Report, error) {
	p := cfg.Plan
	if p.Pings == nil && p.Messages == nil {
		return nil, nil, errors.New("cylc load: no pings and no job messages to send")
	}
	if err := errors.Join(p.Pings.validate("pings"), p.Messages.validate("job messages")); err != nil {
		return nil, nil, fmt.Errorf("cylc load: %w", err)
	}
	c := cfg.Contact
	if err := c.Alive(); err != nil {
		return nil, nil, err
	}
	if p.Idle == 0 {
		p.Idle = 2 * time.Second
	}
	if p.Settle == 0 {
		p.Settle = 1500 * time.Millisecond
	}
	if p.MessagePrefix == "" {
		p.MessagePrefix = "authbench-load"
	}
	rep := &Report{Server: c.Server(), PID: c.PID, Tag: runTag()}
	if p.Messages != nil {
		jobs, err := LiveJobs(c)
		if err != nil {
			return nil, nil, err
		}
		if len(jobs) == 0 {
			return nil, nil, NeedJobs(c)
		}
		rep.Jobs = jobs
	}
	// Check the way in once, so that a dead scheduler or wrong keys is
	// one clear error rather than a result full of failures.
	probe, err := NewClient(c, cfg.Keys, Config{Timeout: cfg.Timeout})
	if err != nil {
		return nil, nil, err
	}
	err = probe.Ping(ctx)
	probe.Close()
	if err != nil {
		return nil, nil, err
	}
	local := c.Local()
	say := func(format string, a ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "cylc load: "+format+"\n", a...)
		}
	}
	var ru0 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru0)
	if local && p.Idle > 0 {
		w, err := StartWatch(c.PID, 0)
		if err != nil {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.Idle):
		}
		win, err := w.Stop()
		if err != nil {
			return nil, nil, err
		}
		rep.Idle, rep.IdleShare = &win, win.Share()
		say("%s (pid %d) idle: %.1f%% of a CPU over %v", rep.Server, c.PID, 100*win.Share(), win.Wall().Round(time.Millisecond))
	}
	rec := record.New()
	started := time.Now()
	var seq atomic.Int64
	phases := []struct {
		op    string
		g     *Group
		send  func(context.Context, *Client) error
		after time.Duration
	}{
		{vocab.OpCLICommand, p.Pings, func(ctx context.Context, cl *Client) error { return cl.Ping(ctx) }, 0},
		{vocab.OpJobMessage, p.Messages, func(ctx context.Context, cl *Client) error {
			n := seq.Add(1) - 1
			job := rep.Jobs[int(n)%len(rep.Jobs)]
			text := fmt.Sprintf("%s-%s-%04d", p.MessagePrefix, rep.Tag, n+1)
			if len(text) < p.MessageSize {
				text += strings.Repeat("x", p.MessageSize-len(text))
			}
			return cl.SendMessages(ctx, job, Message{Severity: SeverityInfo, Text: text})
		}, p.Settle},
	}
	var runErr error
	for _, ph := range phases {
		if ph.g == nil || ctx.Err() != nil {
			continue
		}
		if p.Warmup > 0 {
			w := *ph.g
			w.Count, w.Duration = 0, p.Warmup
			drive(ctx, c, cfg.Keys, cfg.Timeout, &w, ph.op, ph.send, nil)
		}
		var w *Watch
		if local {
			if w, err = StartWatch(c.PID, 0); err != nil {
				return nil, nil, err
			}
		}
		say("%s: %s", ph.op, describe(ph.g))
		drive(ctx, c, cfg.Keys, cfg.Timeout, ph.g, ph.op, ph.send, rec)
		if ph.after > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(ph.after):
			}
		}
		phase := Phase{Op: ph.op}
		if o := rec.Op(ph.op); o != nil {
			phase.Requests, phase.Errors = o.Count, o.ErrorCount()
			phase.Requests += phase.Errors
		}
		if w != nil {
			if phase.Window, err = w.Stop(); err != nil {
				// The scheduler went away under load: say so, keep what
				// was measured.
				runErr = fmt.Errorf("%s: %w", rep.Server, err)
				continue
			}
			gross, net := phase.CPUPerRequest(rep.IdleShare)
			say("%s: %d requests, %d errors; scheduler CPU %v per request (%v net of idle), RSS %d kB",
				ph.op, phase.Requests, phase.Errors, gross.Round(10*time.Microsecond), net.Round(10*time.Microsecond), phase.Window.PeakRSSKB)
		}
		rep.Phases = append(rep.Phases, phase)
	}
	ended := time.Now()
	var ru1 unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru1)

	res := &results.Result{
		Scenario: p.Scenario, ScenarioSource: p.Source, ScenarioHash: p.Hash,
		Scheme: "curve", Canonical: "curve", Round: 1, Duration: ended.Sub(started),
		Ops:         rec.Ops([]string{vocab.OpCLICommand, vocab.OpJobMessage}),
		CPU:         cpuSeconds(ru1) - cpuSeconds(ru0),
		PeakRSSKB:   ru1.Maxrss,
		Partial:     ctx.Err() != nil,
		ServerModel: rep.Server,
		Jobs:        int64(len(rep.Jobs)),
	}
	if o := rec.Op(vocab.OpCLICommand); o != nil {
		res.Commands = o.Count + o.ErrorCount()
	}
	if p.Pings != nil {
		if o := res.Op(vocab.OpCLICommand); o != nil {
			o.Asked = p.Pings.Rate
		}
	}
	if p.Messages != nil {
		if o := res.Op(vocab.OpJobMessage); o != nil {
			o.Asked = p.Messages.Rate
		}
	}
	shards := max(cfg.Shards, 1)
	res.Shard = &results.Shard{Index: cfg.Shard, Count: shards, Node: cfg.Node, Server: fmt.Sprintf("%s:%d pid %d", c.Host, c.Port, c.PID)}
	res.ServerModelStats = modelStats(rep)
	if local && len(rep.Phases) > 0 {
		sp := &results.ServerProcess{PID: c.PID, Connection: "fresh"}
		if (p.Pings == nil || p.Pings.Reuse) && (p.Messages == nil || p.Messages.Reuse) {
			sp.Connection = "reuse"
		} else if (p.Pings != nil && p.Pings.Reuse) || (p.Messages != nil && p.Messages.Reuse) {
			sp.Connection = "mixed"
		}
		for _, ph := range rep.Phases {
			sp.Window += ph.Window.Wall()
			sp.UserSeconds += ph.Window.UserSeconds()
			sp.SysSeconds += ph.Window.SysSeconds()
			sp.Requests += ph.Requests
			sp.MaxRSSKB = max(sp.MaxRSSKB, ph.Window.PeakRSSKB)
			sp.Threads = ph.Window.To.Threads
			sp.CPUs = ph.Window.To.CPUs
		}
		res.ServerProcess = sp
	}
	if runErr == nil && ctx.Err() != nil {
		runErr = ctx.Err()
	}
	return res, rep, runErr
}

// modelStats are the scheduler's figures as ServerModelStats: per request
// type (ping, message) its requests, window and CPU per request, gross and
// net of idle, and its RSS.
func modelStats(rep *Report) map[string]float64 {
	m := map[string]float64{"live_jobs": float64(len(rep.Jobs))}
	if rep.Idle != nil {
		m["idle_cpu_share"] = rep.IdleShare
		m["idle_window_s"] = rep.Idle.Wall().Seconds()
	}
	for _, ph := range rep.Phases {
		name := "ping"
		if ph.Op == vocab.OpJobMessage {
			name = "message"
		}
		m[name+".requests"] = float64(ph.Requests)
		if ph.Window.Wall() > 0 {
			gross, net := ph.CPUPerRequest(rep.IdleShare)
			m[name+".window_s"] = ph.Window.Wall().Seconds()
			m[name+".cpu_ms_per_request"] = ms(gross)
			m[name+".cpu_ms_per_request_net_idle"] = ms(net)
			m[name+".cpu_ms_per_request_ticks"] = ms(ph.Window.TickCPU() / time.Duration(max(1, ph.Requests)))
			if py, ok := ph.Window.PythonCPU(); ok && ph.Requests > 0 {
				m[name+".python_cpu_ms_per_request"] = ms(py / time.Duration(ph.Requests))
				if rep.Idle != nil {
					if idle, ok := rep.Idle.PythonCPU(); ok && rep.Idle.Wall() > 0 {
						share := idle.Seconds() / rep.Idle.Wall().Seconds()
						net := max(0, py-time.Duration(share*float64(ph.Window.Wall())))
						m[name+".python_cpu_ms_per_request_net_idle"] = ms(net / time.Duration(ph.Requests))
					}
				}
			}
			m[name+".cpu_share"] = ph.Window.Share()
			m[name+".rss_kb_peak"] = float64(ph.Window.PeakRSSKB)
		}
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cpuSeconds(ru unix.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func describe(g *Group) string {
	var parts []string
	if g.Count > 0 {
		parts = append(parts, fmt.Sprintf("%d requests", g.Count))
	}
	if g.Duration > 0 {
		parts = append(parts, "for "+g.Duration.String())
	}
	if g.Rate > 0 {
		parts = append(parts, fmt.Sprintf("at %g/s", g.Rate))
	} else {
		parts = append(parts, "closed loop")
	}
	parts = append(parts, fmt.Sprintf("%d at once", max(1, g.Concurrency)))
	if g.Reuse {
		parts = append(parts, "reused connections")
	} else {
		parts = append(parts, "a fresh connection each")
	}
	return strings.Join(parts, ", ")
}

func runTag() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// lateAfter is how far behind its intended time an open-loop send may
// start before it counts as late.
const lateAfter = 10 * time.Millisecond

// drive runs one group: closed loop (each worker sends when its last
// request has returned) or open loop at g.Rate, with latency from each
// request's intended send time and, uncorrected, from its actual start.
// rec nil sends without recording (the warm-up).
func drive(ctx context.Context, c *Contact, keys Keys, timeout time.Duration, g *Group, op string,
	send func(context.Context, *Client) error, rec *record.Recorder) {
	workers := max(1, g.Concurrency)
	start := time.Now()
	var end time.Time
	if g.Duration > 0 {
		end = start.Add(g.Duration)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !end.IsZero() {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, end.Add(timeout+time.Second))
		defer stop()
	}
	due := make(chan time.Time, workers)
	var claimed atomic.Int64
	// next is the next request's intended time, or false when the group
	// is done.
	next := func() (time.Time, bool) {
		if g.Rate > 0 {
			select {
			case t, ok := <-due:
				return t, ok
			case <-ctx.Done():
				return time.Time{}, false
			}
		}
		if ctx.Err() != nil || (!end.IsZero() && !time.Now().Before(end)) {
			return time.Time{}, false
		}
		if g.Count > 0 && claimed.Add(1) > int64(g.Count) {
			return time.Time{}, false
		}
		return time.Now(), true
	}
	if g.Rate > 0 {
		go func() {
			defer close(due)
			for i := 0; g.Count == 0 || i < g.Count; i++ {
				t := start.Add(time.Duration(float64(i) / g.Rate * float64(time.Second)))
				if !end.IsZero() && !t.Before(end) {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Until(t)):
				}
				select {
				case due <- t:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := NewClient(c, keys, Config{Timeout: timeout, Reuse: g.Reuse})
			if err != nil {
				if rec != nil {
					rec.Fail(op, "other")
				}
				return
			}
			defer cl.Close()
			for {
				intended, ok := next()
				if !ok {
					return
				}
				t0 := time.Now()
				if rec != nil && g.Rate > 0 && t0.Sub(intended) > lateAfter {
					rec.Late(op, 1)
				}
				err := send(ctx, cl)
				if rec == nil {
					continue
				}
				if err != nil {
					rec.Fail(op, string(KindOf(err)))
					continue
				}
				rec.OK(op, intended, t0, time.Now())
			}
		}()
	}
	wg.Wait()
}
