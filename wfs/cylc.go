package wfs

// The cylc model: a WFS that serves as cylc-flow 8's scheduler does. Each
// modelled behaviour names the cylc-flow source it follows (paths in the
// cylc/cylc-flow repository, read at commit 2936692c2f9f, 2026-07).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// cylcModel is the cylc model (vocab.ServerModelCylc).
type cylcModel struct{ registered }

// Summary says how the cylc model serves.
func (cylcModel) Summary() string {
	return "as cylc-flow 8 serves: serial drain then 0.2s sleep, job messages queued for a 1s main loop, ZAP keys reloaded from the directory, a GIL shared with the ZAP handler, 1.3ms service CPU per query and 1.5ms per job message (fitted to Cylc 8.4.4)"
}

// DefaultServiceCPU is DefaultCylcServiceCPU.
func (cylcModel) DefaultServiceCPU() time.Duration { return DefaultCylcServiceCPU }

// DefaultMessageServiceCPU is DefaultCylcMessageServiceCPU.
func (cylcModel) DefaultMessageServiceCPU() time.Duration { return DefaultCylcMessageServiceCPU }

// NewInterpreterLock returns the interpreter lock a server of model m
// shares with its CURVE ZAP handler (ServerConfig.Interpreter,
// schemes.Env.Interpreter): a GIL under cylc, whose scheduler runs both in
// one Python process; nil under fast.
func NewInterpreterLock(m Model) *GIL {
	if _, ok := m.(cylcModel); ok {
		return NewGIL(CPythonSwitchInterval)
	}
	return nil
}

// ReloadAllKeys is true: Cylc 8's pyzmq ThreadAuthenticator re-reads the
// whole client_public_keys directory on every configure_curve.
func (cylcModel) ReloadAllKeys() bool { return true }

// JobMessageRequest does what `cylc message` does (cylc-flow
// cylc/flow/task_message.py, record_messages): it appends the message to
// the job's job.status itself through files, without fsync
// (_append_job_status_file), then encodes the GraphQL mutation
// (send_messages, MUTATION); a.Workflow must be set.
func (cylcModel) JobMessageRequest(run *RunDir, files *Files, a MessageArgs, meta Meta) ([]byte, error) {
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return nil, err
	}
	if err := CheckJobStatusFields(a); err != nil {
		return nil, err
	}
	if err := files.AppendFile(run.JobStatusPath(id), JobStatusLines(a), 0o600); err != nil {
		return nil, fmt.Errorf("append job.status: %w", err)
	}
	return EncodeMessageMutation(a, meta)
}

// start fills the cylc model's defaults in s.cfg and returns its state.
func (cylcModel) start(s *Server) serving {
	if s.cfg.OperateSleep == 0 {
		s.cfg.OperateSleep = CylcOperateSleep
	}
	if s.cfg.MessageInterval <= 0 {
		s.cfg.MessageInterval = CylcMainLoopInterval
	}
	if s.cfg.MessageQueueMax <= 0 {
		s.cfg.MessageQueueMax = DefaultMessageQueueMax
	}
	if s.cfg.Interpreter == nil {
		s.cfg.Interpreter = NewGIL(CPythonSwitchInterval)
	}
	s.gil = s.cfg.Interpreter
	return &cylcServing{s: s, operateSleep: s.cfg.OperateSleep, drainStartCPU: DefaultCylcDrainStartCPU,
		messageInterval: s.cfg.MessageInterval, queueMax: s.cfg.MessageQueueMax,
		publishEvery: s.cfg.PublishRate * s.cfg.MessageInterval.Seconds()}
}

// Defaults of the cylc model.
const (
	// CylcOperateSleep is the sleep between drains of the socket:
	// WorkflowRuntimeServer.OPERATE_SLEEP_INTERVAL = 0.2 in
	// cylc/flow/network/server.py (slept by WorkflowRuntimeServer.operate).
	CylcOperateSleep = 200 * time.Millisecond
	// CylcMainLoopInterval is the scheduler's main-loop period, in which
	// queued job messages are processed: Scheduler.INTERVAL_MAIN_LOOP = 1.0
	// in cylc/flow/scheduler.py (Scheduler._main_loop sleeps the rest of
	// it; Scheduler.process_queued_task_messages runs once per iteration).
	CylcMainLoopInterval = time.Second
	// CylcDrainMax bounds the requests served in one drain. cylc-flow's
	// WorkflowReplier.listener (cylc/flow/network/replier.py) drains until
	// zmq.Again with no bound; authbench stops at 10,000 per wake (20 s of
	// work at the default service CPU) so that a flood cannot hold the loop
	// for ever. A capped drain goes on after the sleep and is counted in
	// CylcStats.DrainsCapped.
	CylcDrainMax = 10_000
	// DefaultCylcServiceCPU is the cylc model's default ServiceCPU: a
	// stand-in for the Python server thread's own work on a request (JSON
	// decode, GraphQL execution, encode), which authbench does in
	// microseconds, burnt holding the GIL. It and the two below are fitted
	// by `authbench calibrate -cylc` against a real Cylc 8.4.4 scheduler
	// (REPORT-data/cylc-calibration.json, "The Cylc model against Cylc
	// 8.4.4" in REPORT.md): its Python threads' CPU per request, net of
	// their idle, taken as linear in drains per request (a service CPU per
	// request type, warm, from the densest load of each, and an extra for
	// a drain's first request from sequential pings against 8 concurrent
	// clients); rounded medians of the fits of five runs here. Until
	// 2026-12 it was 2 ms for every request (issue 21's estimate).
	DefaultCylcServiceCPU = 1300 * time.Microsecond
	// DefaultCylcMessageServiceCPU is DefaultCylcServiceCPU for a job
	// message (cylc message's graphql mutation, which reaches
	// Resolvers.put_messages through Resolvers.mutator in
	// cylc/flow/network/resolvers.py): a mutation costs the scheduler more
	// than cylc ping's query.
	DefaultCylcMessageServiceCPU = 1500 * time.Microsecond
	// CylcZAPCPU is the CPU the cylc model's CURVE ZAP handler burns
	// holding the GIL per handshake (schemes' ZAP handler; wfs/gil.go): the
	// Python thread pyzmq's ThreadAuthenticator runs in a Cylc 8.4.4
	// scheduler (cylc-flow network/server.py, start) used 0.24-0.30 ms per
	// fresh-connection request here (its schedstat over 160 and 20 pings,
	// Debian 12's python3 3.11 and python3-zmq 24.0.1).
	CylcZAPCPU = 250 * time.Microsecond
	// CylcMessageProcessCPU is the CPU the cylc model's main loop burns
	// holding the GIL per job message it processes: a Cylc 8.4.4
	// scheduler's main thread, whose Scheduler.process_queued_task_messages
	// (cylc/flow/scheduler.py) hands each to
	// TaskEventsManager.process_message (logging, the database, the data
	// store), used 0.63 ms per message here (its schedstat over 40 job
	// messages, less its idle).
	CylcMessageProcessCPU = 600 * time.Microsecond
	// DefaultCylcDrainStartCPU is the CPU the first request of a drain
	// costs the cylc model beyond its service CPU, burnt holding the GIL:
	// a real scheduler's Python threads spend more per request when each
	// drain serves one (sequential pings, a trickle) than in a long drain
	// (8 concurrent clients), by about this much; the wake's own work
	// (WorkflowReplier.listener's zmq.Again, publish_queued_items' event
	// loop run in network/server.py's operate) and an interpreter that
	// slept 0.2 s with cold caches. Fitted with DefaultCylcServiceCPU.
	DefaultCylcDrainStartCPU = 300 * time.Microsecond
	// DefaultMessageQueueMax is the default bound of the cylc model's job
	// message queue. cylc-flow's Scheduler.message_queue is an unbounded
	// queue.Queue; authbench bounds it so that a flood cannot exhaust
	// memory, far above what one main-loop interval collects at a real
	// site's rates.
	DefaultMessageQueueMax = 100_000
)

// CylcStats counts what the cylc model's loops did. It is apart from the
// request counters (Server.Stats); the fast model leaves it zero.
// Server.ModelStats gives it as results' server_model_stats, keyed by its
// JSON names.
type CylcStats struct {
	// Wakes is the drains of the socket run, each followed by a sleep
	// (OperateSleep), whether or not it found a request. It is counted as
	// a drain ends, after the drain's other counts.
	Wakes int64 `json:"wakes"`
	// Drains is the wakes that served at least one request.
	Drains int64 `json:"drains"`
	// MaxDrain is the most requests one wake served.
	MaxDrain int64 `json:"max_drain"`
	// DrainsCapped is the wakes that stopped at CylcDrainMax requests.
	DrainsCapped int64 `json:"drains_capped"`
	// MainLoops is the main-loop iterations run (one per MessageInterval).
	MainLoops int64 `json:"main_loops"`
	// MessagesQueued, MessagesProcessed and MessagesShed count job
	// messages (one per [severity, text] pair): put in the queue, taken out
	// by the main loop, and refused because the queue was full.
	MessagesQueued    int64 `json:"messages_queued"`
	MessagesProcessed int64 `json:"messages_processed"`
	MessagesShed      int64 `json:"messages_shed"`
	// QueuePeak is the most messages queued at once.
	QueuePeak int64 `json:"queue_peak"`
	// ZAPCPUSeconds is the CPU the CURVE ZAP handler burnt holding the
	// GIL (CylcZAPCPU per handshake; none without a CURVE scheme).
	ZAPCPUSeconds float64 `json:"zap_cpu_s"`
}

// queuedMessage is one job message waiting for the main loop, as
// cylc-flow's TaskMsg (cylc/flow/network/resolvers.py) holds it.
type queuedMessage struct {
	job                       JobID
	eventTime, severity, text string
}

// cylcServing is the cylc model's state in one Server.
type cylcServing struct {
	s                             *Server
	operateSleep, messageInterval time.Duration
	drainStartCPU                 time.Duration
	queueMax                      int

	qmu   sync.Mutex
	queue []queuedMessage

	wakes, drains, maxDrain, drainsCapped, mainLoops atomic.Int64
	msgQueued, msgProcessed, msgShed, queuePeak      atomic.Int64

	// dirty is set when a command changed the data store; publishQueue
	// is the deltas the main loop queued for the server thread (cylc-flow
	// WorkflowRuntimeServer.publish_queue); publishEvery is PublishRate's
	// publishes per main-loop iteration, publishDue their running sum
	// (main loop only).
	dirty        atomic.Bool
	publishQueue atomic.Int64
	publishEvery float64
	publishDue   float64
}

// CylcStats returns a snapshot of the cylc model's counters; zero under
// any other model.
func (s *Server) CylcStats() CylcStats {
	if c, ok := s.serving.(*cylcServing); ok {
		return c.cylcStats()
	}
	return CylcStats{}
}

func (c *cylcServing) cylcStats() CylcStats {
	return CylcStats{
		Wakes: c.wakes.Load(), Drains: c.drains.Load(), MaxDrain: c.maxDrain.Load(),
		DrainsCapped: c.drainsCapped.Load(), MainLoops: c.mainLoops.Load(),
		MessagesQueued: c.msgQueued.Load(), MessagesProcessed: c.msgProcessed.Load(),
		MessagesShed: c.msgShed.Load(), QueuePeak: c.queuePeak.Load(),
		ZAPCPUSeconds: c.s.gil.Stats().ZAPBurnt.Seconds(),
	}
}

// stats are the counters as results' server_model_stats.
func (c *cylcServing) stats() map[string]float64 {
	st := c.cylcStats()
	out := map[string]float64{
		"wakes": float64(st.Wakes), "drains": float64(st.Drains), "max_drain": float64(st.MaxDrain),
		"drains_capped": float64(st.DrainsCapped), "main_loops": float64(st.MainLoops),
		"messages_queued": float64(st.MessagesQueued), "messages_processed": float64(st.MessagesProcessed),
		"messages_shed": float64(st.MessagesShed), "queue_peak": float64(st.QueuePeak),
		"zap_cpu_s": st.ZAPCPUSeconds,
	}
	if c.s.pub != nil {
		addPublishStats(out, c.s.pub.stats())
	}
	return out
}

// messages queues the messages for the main loop (queueMessages).
func (c *cylcServing) messages(a MessageArgs) (int, error) { return c.queueMessages(a) }

// serve is WorkflowRuntimeServer.operate (cylc/flow/network/server.py):
// loop { WorkflowReplier.listener(): receive NOBLOCK until zmq.Again,
// serving each request inline (guard, handle, reply) before the next; then
// sleep(OPERATE_SLEEP_INTERVAL) }. cylc-flow's socket is a REP, which
// holds one request at a time; authbench's ROUTER receives the same
// requests in the same order and answers each before it reads the next, so
// the server does one request at a time as Cylc does. Replies go out
// DONTWAIT (counted in OverloadStats.DroppedReplies when a peer does not
// read them). Beside it runs the main loop that processes queued job
// messages (mainLoop). The sleep wakes at once when ctx ends.
func (c *cylcServing) serve(ctx context.Context, m *threadMeter) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.mainLoop(ctx)
	}()
	defer wg.Wait()

	var poller *zmq.Poller
	if c.operateSleep < 0 {
		poller = zmq.NewPoller()
		poller.Add(c.s.sock, zmq.POLLIN)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for ctx.Err() == nil {
		if err := c.drain(ctx); err != nil {
			return err
		}
		c.publishQueued()
		m.flush()
		if poller != nil {
			// No sleep: wait (100 ms at a time, to see ctx end) for the
			// next request rather than spin.
			if _, err := poller.Poll(100 * time.Millisecond); err != nil && zmq.AsErrno(err) != zmq.Errno(4) {
				return fmt.Errorf("wfs: poll: %w", err)
			}
			continue
		}
		timer.Reset(c.operateSleep)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
	return nil
}

// drain is one WorkflowReplier.listener call
// (cylc/flow/network/replier.py): it receives with DONTWAIT (zmq.NOBLOCK)
// until EAGAIN (zmq.Again), serving each request before it receives the
// next, at most CylcDrainMax requests (cylc-flow has no bound), and stops
// early when ctx ends.
func (c *cylcServing) drain(ctx context.Context) error {
	n := int64(0)
	defer func() {
		if n > 0 {
			c.drains.Add(1)
			for {
				m := c.maxDrain.Load()
				if n <= m || c.maxDrain.CompareAndSwap(m, n) {
					break
				}
			}
		}
		// Counted last, as the drain ends, just before the sleep: once
		// Wakes has moved the drain's other counts are in, and a request
		// sent then is served by the next drain.
		c.wakes.Add(1)
	}()
	for ctx.Err() == nil {
		if n >= CylcDrainMax {
			c.drainsCapped.Add(1)
			return nil
		}
		// pyzmq's recv and send release the GIL (`with nogil`); the
		// request is served holding it (gil.go).
		j, err := c.s.recv(zmq.DONTWAIT)
		if err != nil {
			if isAgain(err) {
				return nil // drained: back to operate, which sleeps
			}
			if zmq.AsErrno(err) == zmq.Errno(4) { // EINTR
				continue
			}
			return fmt.Errorf("wfs: receive: %w", err)
		}
		n++
		if j == nil {
			continue // malformed envelope, counted by recv
		}
		c.s.gil.Take(GILServer)
		reply := c.s.handle(ctx, &j.in)
		if n == 1 && c.drainStartCPU > 0 {
			c.s.gil.Burn(GILServer, c.drainStartCPU)
		}
		c.s.gil.Drop(GILServer)
		c.s.send(j.envelope, reply)
	}
	return nil
}

// mainLoop stands for the scheduler's main loop (Scheduler._main_loop,
// cylc/flow/scheduler.py): once every INTERVAL_MAIN_LOOP it runs
// process_queued_task_messages, which takes every message out of
// message_queue and hands each to TaskEventsManager.process_message. Here
// processing a message is counting it. Its thread's CPU is the server's.
func (c *cylcServing) mainLoop(ctx context.Context) {
	m := c.s.meterThread()
	defer m.stop()
	t := time.NewTicker(c.messageInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed := c.processQueuedMessages() > 0
			c.queuePublish(changed)
			m.flush()
		}
	}
}

// processQueuedMessages is Scheduler.process_queued_task_messages
// (cylc/flow/scheduler.py): it empties the queue and groups the messages
// by task, as cylc-flow does before it processes them, and returns how
// many it processed.
func (c *cylcServing) processQueuedMessages() int {
	c.qmu.Lock()
	batch := c.queue
	c.queue = nil
	c.qmu.Unlock()
	c.mainLoops.Add(1)
	// The main loop is Python: it holds the GIL while it works.
	c.s.gil.Take(GILMainLoop)
	defer c.s.gil.Drop(GILMainLoop)
	if len(batch) == 0 {
		return 0
	}
	byTask := make(map[string]int, len(batch))
	for _, m := range batch {
		byTask[m.job.Cycle+"/"+m.job.Task]++
	}
	c.s.gil.Burn(GILMainLoop, time.Duration(len(batch))*CylcMessageProcessCPU)
	c.msgProcessed.Add(int64(len(batch)))
	return len(batch)
}

// queuePublish is the end of the main-loop iteration's
// update_data_structure (cylc/flow/scheduler.py, _publish_deltas): when
// the iteration changed the data store (messages processed, a command
// served, or PublishRate's tick) it puts one delta on the server's
// publish queue; several changes in one iteration share it.
func (c *cylcServing) queuePublish(changed bool) {
	if c.s.pub == nil {
		return
	}
	if c.dirty.Swap(false) {
		changed = true
	}
	if c.publishEvery > 0 {
		c.publishDue += c.publishEvery
		if c.publishDue >= 1 {
			c.publishDue--
			changed = true
		}
	}
	if changed {
		c.publishQueue.Add(1)
	}
}

// publishQueued is WorkflowRuntimeServer.publish_queued_items
// (cylc/flow/network/server.py), run by operate after each drain: it
// publishes every delta queued.
func (c *cylcServing) publishQueued() {
	if c.s.pub == nil {
		return
	}
	for n := c.publishQueue.Swap(0); n > 0; n-- {
		c.s.pub.publish(c.s.gil)
	}
}

// queueMessages is Resolvers.put_messages (cylc/flow/network/resolvers.py):
// it puts one TaskMsg per [severity, message] pair in the scheduler's
// message_queue and returns at once; the main loop processes them later.
// It does not touch job.status: in Cylc 8 `cylc message` appends to it
// itself, without fsync, before it sends (_append_job_status_file in
// cylc/flow/task_message.py), and the server never writes it. The job id
// must parse (cylc-flow's Tokens(task_job, relative=True) raises
// otherwise); the job directory is not looked at, as cylc-flow does not.
// Messages that would take the queue past its bound are refused whole,
// with a KindBusy error.
func (c *cylcServing) queueMessages(a MessageArgs) (int, error) {
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return 0, &Error{Kind: KindProtocol, Msg: err.Error()}
	}
	n := len(a.Messages)
	c.qmu.Lock()
	if len(c.queue)+n > c.queueMax {
		c.qmu.Unlock()
		c.msgShed.Add(int64(n))
		return 0, &Error{Kind: KindBusy, Msg: fmt.Sprintf("job message queue full (%d messages): %d messages shed", c.queueMax, n)}
	}
	for _, m := range a.Messages {
		c.queue = append(c.queue, queuedMessage{job: id, eventTime: a.EventTime, severity: m[0], text: m[1]})
	}
	depth := int64(len(c.queue))
	c.qmu.Unlock()
	c.msgQueued.Add(int64(n))
	for {
		p := c.queuePeak.Load()
		if depth <= p || c.queuePeak.CompareAndSwap(p, depth) {
			break
		}
	}
	return n, nil
}
