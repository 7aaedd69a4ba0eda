package wfs

// The cylc model: a WFS that serves as cylc-flow 8's scheduler does. Each
// modelled behaviour names the cylc-flow source it follows (paths in the
// cylc/cylc-flow repository, read at commit 2936692c2f9f, 2026-07).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"
)

// Serving models (ServerConfig.Model).
const (
	// ModelFast is authbench's own server: a ROUTER front end serving
	// inline or with a worker pool, appending job messages to job.status.
	ModelFast = "fast"
	// ModelCylc is cylc-flow 8's scheduler server, as this file models it.
	ModelCylc = "cylc"
)

// Models lists the serving models ServerConfig.Model accepts ("" is
// ModelFast).
var Models = []string{ModelFast, ModelCylc}

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
	// stand-in for the Python server's own work on a request (JSON decode,
	// GraphQL execution, encode), which authbench does in microseconds.
	DefaultCylcServiceCPU = 2 * time.Millisecond
	// DefaultMessageQueueMax is the default bound of the cylc model's job
	// message queue. cylc-flow's Scheduler.message_queue is an unbounded
	// queue.Queue; authbench bounds it so that a flood cannot exhaust
	// memory, far above what one main-loop interval collects at a real
	// site's rates.
	DefaultMessageQueueMax = 100_000
)

// CylcStats counts what the cylc model's loops did. It is apart from the
// request counters (Server.Stats); the fast model leaves it zero.
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
}

// queuedMessage is one job message waiting for the main loop, as
// cylc-flow's TaskMsg (cylc/flow/network/resolvers.py) holds it.
type queuedMessage struct {
	job                       JobID
	eventTime, severity, text string
}

// cylcState is the cylc model's part of a Server.
type cylcState struct {
	operateSleep, messageInterval time.Duration
	queueMax                      int
	// workflowID is the id the graphql reply names: ~owner/workflow.
	workflowID string

	qmu   sync.Mutex
	queue []queuedMessage

	wakes, drains, maxDrain, drainsCapped, mainLoops atomic.Int64
	msgQueued, msgProcessed, msgShed, queuePeak      atomic.Int64
}

// resolveModel checks cfg.Model and fills the cylc model's defaults.
func resolveModel(cfg *ServerConfig) error {
	switch cfg.Model {
	case "", ModelFast:
		cfg.Model = ModelFast
		return nil
	case ModelCylc:
	default:
		return fmt.Errorf("wfs: server model %q: want %s", cfg.Model, strings.Join(Models, " or "))
	}
	if cfg.ServiceCPU == 0 {
		cfg.ServiceCPU = DefaultCylcServiceCPU
	}
	if cfg.OperateSleep == 0 {
		cfg.OperateSleep = CylcOperateSleep
	}
	if cfg.MessageInterval <= 0 {
		cfg.MessageInterval = CylcMainLoopInterval
	}
	if cfg.MessageQueueMax <= 0 {
		cfg.MessageQueueMax = DefaultMessageQueueMax
	}
	return nil
}

func (s *Server) initCylc() {
	s.operateSleep = s.cfg.OperateSleep
	s.messageInterval = s.cfg.MessageInterval
	s.queueMax = s.cfg.MessageQueueMax
	owner := os.Getenv("USER")
	if owner == "" {
		owner = "owner"
	}
	s.workflowID = "~" + owner + "/" + s.cfg.Workflow
}

// CylcStats returns a snapshot of the cylc model's counters.
func (s *Server) CylcStats() CylcStats {
	return CylcStats{
		Wakes: s.wakes.Load(), Drains: s.drains.Load(), MaxDrain: s.maxDrain.Load(),
		DrainsCapped: s.drainsCapped.Load(), MainLoops: s.mainLoops.Load(),
		MessagesQueued: s.msgQueued.Load(), MessagesProcessed: s.msgProcessed.Load(),
		MessagesShed: s.msgShed.Load(), QueuePeak: s.queuePeak.Load(),
	}
}

// serveCylc is WorkflowRuntimeServer.operate (cylc/flow/network/server.py):
// loop { WorkflowReplier.listener(): receive NOBLOCK until zmq.Again,
// serving each request inline (guard, handle, reply) before the next; then
// sleep(OPERATE_SLEEP_INTERVAL) }. cylc-flow's socket is a REP, which
// holds one request at a time; authbench's ROUTER receives the same
// requests in the same order and answers each before it reads the next, so
// the server does one request at a time as Cylc does. Replies go out
// DONTWAIT (counted in OverloadStats.DroppedReplies when a peer does not
// read them). Beside it runs the main loop that processes queued job
// messages (cylcMainLoop). The sleep wakes at once when ctx ends.
func (s *Server) serveCylc(ctx context.Context, m *threadMeter) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.cylcMainLoop(ctx)
	}()
	defer wg.Wait()

	var poller *zmq.Poller
	if s.operateSleep < 0 {
		poller = zmq.NewPoller()
		poller.Add(s.sock, zmq.POLLIN)
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for ctx.Err() == nil {
		if err := s.drainCylc(ctx); err != nil {
			return err
		}
		m.flush()
		if poller != nil {
			// No sleep: wait (100 ms at a time, to see ctx end) for the
			// next request rather than spin.
			if _, err := poller.Poll(100 * time.Millisecond); err != nil && zmq.AsErrno(err) != zmq.Errno(4) {
				return fmt.Errorf("wfs: poll: %w", err)
			}
			continue
		}
		timer.Reset(s.operateSleep)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
	return nil
}

// drainCylc is one WorkflowReplier.listener call
// (cylc/flow/network/replier.py): it receives with DONTWAIT (zmq.NOBLOCK)
// until EAGAIN (zmq.Again), serving each request before it receives the
// next, at most CylcDrainMax requests (cylc-flow has no bound), and stops
// early when ctx ends.
func (s *Server) drainCylc(ctx context.Context) error {
	n := int64(0)
	defer func() {
		if n > 0 {
			s.drains.Add(1)
			for {
				m := s.maxDrain.Load()
				if n <= m || s.maxDrain.CompareAndSwap(m, n) {
					break
				}
			}
		}
		// Counted last, as the drain ends, just before the sleep: once
		// Wakes has moved the drain's other counts are in, and a request
		// sent then is served by the next drain.
		s.wakes.Add(1)
	}()
	for ctx.Err() == nil {
		if n >= CylcDrainMax {
			s.drainsCapped.Add(1)
			return nil
		}
		j, err := s.recv(zmq.DONTWAIT)
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
		reply := s.handle(ctx, &j.in)
		s.send(j.envelope, reply)
	}
	return nil
}

// cylcMainLoop stands for the scheduler's main loop (Scheduler._main_loop,
// cylc/flow/scheduler.py): once every INTERVAL_MAIN_LOOP it runs
// process_queued_task_messages, which takes every message out of
// message_queue and hands each to TaskEventsManager.process_message. Here
// processing a message is counting it. Its thread's CPU is the server's.
func (s *Server) cylcMainLoop(ctx context.Context) {
	m := s.meterThread()
	defer m.stop()
	t := time.NewTicker(s.messageInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.processQueuedMessages()
			m.flush()
		}
	}
}

// processQueuedMessages is Scheduler.process_queued_task_messages
// (cylc/flow/scheduler.py): it empties the queue and groups the messages
// by task, as cylc-flow does before it processes them.
func (s *Server) processQueuedMessages() {
	s.qmu.Lock()
	batch := s.queue
	s.queue = nil
	s.qmu.Unlock()
	s.mainLoops.Add(1)
	if len(batch) == 0 {
		return
	}
	byTask := make(map[string]int, len(batch))
	for _, m := range batch {
		byTask[m.job.Cycle+"/"+m.job.Task]++
	}
	s.msgProcessed.Add(int64(len(batch)))
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
func (s *Server) queueMessages(a MessageArgs) (int, error) {
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return 0, &Error{Kind: KindProtocol, Msg: err.Error()}
	}
	n := len(a.Messages)
	s.qmu.Lock()
	if len(s.queue)+n > s.queueMax {
		s.qmu.Unlock()
		s.msgShed.Add(int64(n))
		return 0, &Error{Kind: KindBusy, Msg: fmt.Sprintf("job message queue full (%d messages): %d messages shed", s.queueMax, n)}
	}
	for _, m := range a.Messages {
		s.queue = append(s.queue, queuedMessage{job: id, eventTime: a.EventTime, severity: m[0], text: m[1]})
	}
	depth := int64(len(s.queue))
	s.qmu.Unlock()
	s.msgQueued.Add(int64(n))
	for {
		p := s.queuePeak.Load()
		if depth <= p || s.queuePeak.CompareAndSwap(p, depth) {
			break
		}
	}
	return n, nil
}

// matchesWorkflow reports whether a $wFlows entry names this workflow: its
// name, or ~user/name. (cylc-flow's Resolvers.mutator matches the entries
// as workflow id tokens, with globs; authbench takes them literally.)
func (s *Server) matchesWorkflow(w string) bool {
	if w == s.cfg.Workflow {
		return true
	}
	if rest, ok := strings.CutPrefix(w, "~"); ok {
		_, name, ok := strings.Cut(rest, "/")
		return ok && name == s.cfg.Workflow
	}
	return false
}

// graphQLMessage serves a "graphql" request, which authbench accepts only
// as MessageMutation (WorkflowRuntimeServer.graphql in
// cylc/flow/network/server.py executes it; the Message mutation in
// cylc/flow/network/schema.py resolves through Resolvers.mutator and
// _mutation_mapper to put_messages in cylc/flow/network/resolvers.py). The
// cylc model queues the messages (queueMessages); the fast model handles
// them as the "message" command (appending to job.status). Either way the
// reply is what cylc-flow's graphql endpoint returns for the mutation,
// executed.data:
//
//	{"message": {"result": [{"id": "~owner/workflow",
//	                         "response": [true, "Messages queued: N"]}]}}
//
// (the Message mutation's GenericScalar result is Resolvers.mutator's
// [{'id': w_id, 'response': (True, 'Messages queued: N')}], the tuple
// encoded as a JSON list). When no $wFlows entry names this workflow
// cylc-flow replies with data, [{"response": [false, "No matching workflow
// in [...]"]}], which `cylc message` ignores, losing the messages;
// authbench refuses the request with a protocol error instead, so that a
// misaddressed benchmark fails loudly.
func (s *Server) graphQLMessage(req *Request) (any, error) {
	a, workflows, err := DecodeMessageMutation(req.Args)
	if err != nil {
		return nil, err
	}
	found := false
	for _, w := range workflows {
		if s.matchesWorkflow(w) {
			found = true
			break
		}
	}
	if !found {
		return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("graphql: no matching workflow in [%s]", s.cfg.Workflow)}
	}
	n := len(a.Messages)
	if s.cylc {
		if n, err = s.queueMessages(a); err != nil {
			return nil, err
		}
	} else {
		if n == 0 {
			// The fast model's message command needs a message; an empty
			// list queues nothing in cylc-flow either.
			if _, err := ParseJobID(a.TaskJob); err != nil {
				return nil, &Error{Kind: KindProtocol, Msg: err.Error()}
			}
		} else if _, err := s.message(a); err != nil {
			return nil, err
		}
	}
	return json.RawMessage(graphQLMessageReply(s.workflowID, n)), nil
}

// graphQLMessageReply is the data of the reply to a message mutation that
// queued n messages.
func graphQLMessageReply(workflowID string, n int) []byte {
	b := make([]byte, 0, 96+len(workflowID))
	b = append(b, `{"message":{"result":[{"id":`...)
	b = appendString(b, workflowID)
	b = append(b, `,"response":[true,`...)
	b = appendString(b, fmt.Sprintf("Messages queued: %d", n))
	return append(b, "]}]}}"...)
}

// burnThreadCPU keeps the calling thread busy until it has used d of CPU
// time (CLOCK_THREAD_CPUTIME_ID), locking the goroutine to its thread
// meanwhile so that the clock it reads is its own.
func burnThreadCPU(d time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, ok := threadCPUClock()
	if !ok {
		return
	}
	for {
		now, ok := threadCPUClock()
		if !ok || now-start >= d {
			return
		}
	}
}

// threadCPUClock reads the calling thread's CPU clock.
func threadCPUClock() (time.Duration, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
