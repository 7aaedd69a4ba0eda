package wfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/counters"
)

// Port range Cylc 8 schedulers bind in.
const (
	PortMin = 43001
	PortMax = 43101
)

// DefaultMaxMsgSize is the server's ZMQ_MAXMSGSIZE: a peer that sends a larger
// frame is disconnected by libzmq before the frame is read.
const DefaultMaxMsgSize = 1 << 20

// ServerConfig configures a WFS.
type ServerConfig struct {
	// Run is the run directory; the contact file is written in it.
	Run *RunDir
	// Workflow is the workflow id (the audience of its credentials).
	Workflow string
	// Listen is "" for a random free port in 43001-43101 on 127.0.0.1, or an
	// explicit "tcp://ADDR:PORT" or "ipc://PATH" endpoint.
	Listen string
	// Guard is the scheme's server side; nil means OpenGuard.
	Guard Guard
	// Workers is the number of goroutines that verify and serve requests so
	// that one slow verification does not hold up the rest; 0 serves inline
	// on the socket's goroutine (lowest latency, one request at a time).
	// With workers, a request that finds MaxInflight requests in flight, or
	// MaxPeerInflight from its own peer, is shed: refused at once with a
	// KindBusy reply and counted in OverloadStats.Shed.
	Workers int
	// MaxMsgSize is ZMQ_MAXMSGSIZE; 0 means DefaultMaxMsgSize.
	MaxMsgSize int64
	// Contact holds extra contact-file entries (no secrets).
	Contact map[string]string

	// Model is the serving model (ParseModel); nil means the default,
	// fast: authbench's own server (fast.go: ROUTER front end, inline or
	// with Workers; the server appends job messages to job.status). The
	// cylc model serves as cylc-flow 8 does (cylc.go: one request at a
	// time, drain then sleep OperateSleep; job messages queued for a main
	// loop every MessageInterval; job.status left to the client, as `cylc
	// message` writes it itself) and ignores Workers.
	Model Model
	// ServiceCPU is the CPU time the thread handling a request burns on it
	// (busy on CLOCK_THREAD_CPUTIME_ID), a stand-in for the work of
	// cylc-flow's Python server on each request. 0 means the model's
	// default (Model.DefaultServiceCPU: DefaultCylcServiceCPU under cylc,
	// none under fast); a negative value means none.
	ServiceCPU time.Duration
	// MessageServiceCPU is ServiceCPU for a job message (the message
	// command or cylc message's graphql mutation): a mutation costs a
	// Cylc scheduler more than a query. 0 means ServiceCPU when that was
	// given, else the model's default (Model.DefaultMessageServiceCPU); a
	// negative value means none.
	MessageServiceCPU time.Duration
	// Interpreter is the cylc model's stand-in for the scheduler's Python
	// GIL, shared with the CURVE ZAP handler (schemes.Env.Interpreter);
	// nil under cylc means a lock of the server's own. The fast model
	// ignores it.
	Interpreter *GIL
	// OperateSleep is the cylc model's sleep after each drain of the socket
	// (cylc-flow's OPERATE_SLEEP_INTERVAL). 0 means CylcOperateSleep; a
	// negative value means no sleep: the loop then waits for the next
	// request instead. The fast model ignores it.
	OperateSleep time.Duration
	// MessageInterval is the cylc model's main-loop period: queued job
	// messages are processed once per interval (cylc-flow's
	// INTERVAL_MAIN_LOOP). 0 means CylcMainLoopInterval.
	MessageInterval time.Duration
	// MessageQueueMax bounds the job messages the cylc model holds queued;
	// a request whose messages do not fit is refused with a KindBusy reply
	// and its messages are counted in CylcStats.MessagesShed. 0 means
	// DefaultMessageQueueMax.
	MessageQueueMax int
	// Publish binds a publish socket beside the request socket, as a Cylc
	// 8 scheduler does (publish.go), secured as the guard's transport
	// secures requests (PublishConfigurer). Only the cylc model
	// publishes: each main-loop iteration that changed the data store (a
	// job message or command processed, or PublishRate's tick) queues one
	// delta for the server thread to send after its next drain.
	Publish bool
	// DeltaSize is a delta's payload size; 0 means DefaultDeltaSize.
	DeltaSize int
	// PublishRate, if positive, is deltas a second the main loop publishes
	// whatever happened, standing for a workflow whose data store changes
	// in every iteration; at most one per MessageInterval, as Cylc
	// publishes at most once an iteration.
	PublishRate float64
}

// Server is the workflow-service stand-in: a ROUTER socket serving Cylc's
// JSON requests from many concurrent REQ clients.
type Server struct {
	cfg      ServerConfig
	zctx     *zmq.Context
	sock     *zmq.Socket
	endpoint string
	contact  Contact
	guard    Guard
	// pong is the ping reply's data, made once: it is only ever encoded.
	pong map[string]any

	// busy is the reply to a shed request, made once.
	busy []byte

	requests, ok, rejected, protocol, unknown, internal, malformed atomic.Int64
	shed, droppedReplies, workerSendRetries, peakInflight          atomic.Int64

	closed   atomic.Bool
	cpuNanos atomic.Int64

	// serving is the model's state (cfg.Model.start); serviceCPU is the
	// resolved ServiceCPU (0: none); workflowID is the id a graphql reply
	// names: ~owner/workflow.
	serving                serving
	serviceCPU, messageCPU time.Duration
	workflowID             string
	// gil is the cylc model's interpreter lock (nil under fast): the
	// service CPU is burnt holding it.
	gil *GIL
	// pub is the publisher (nil unless cfg.Publish).
	pub *publisher
}

// NewServer creates the server's ZMQ context and socket, lets the guard
// configure it, binds, and writes the contact file. Call Serve to run it and
// Close (or cancel Serve's context) to stop it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Run == nil {
		return nil, errors.New("wfs: server needs a run directory")
	}
	if cfg.Guard == nil {
		cfg.Guard = OpenGuard{}
	}
	if cfg.MaxMsgSize == 0 {
		cfg.MaxMsgSize = DefaultMaxMsgSize
	}
	if cfg.Workflow == "" {
		cfg.Workflow = "authbench"
	}
	if cfg.Model == nil {
		m, err := ParseModel("")
		if err != nil {
			return nil, fmt.Errorf("wfs: %w", err)
		}
		cfg.Model = m
	}
	if cfg.MessageServiceCPU == 0 {
		cfg.MessageServiceCPU = cfg.ServiceCPU
		if cfg.ServiceCPU == 0 {
			cfg.MessageServiceCPU = cfg.Model.DefaultMessageServiceCPU()
		}
	}
	if cfg.ServiceCPU == 0 {
		cfg.ServiceCPU = cfg.Model.DefaultServiceCPU()
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("wfs: zmq context: %w", err)
	}
	s := &Server{cfg: cfg, zctx: zctx, guard: cfg.Guard,
		pong: map[string]any{"workflow": cfg.Workflow, "pong": true},
		busy: EncodeError(KindBusy, "server overloaded, request shed")}
	if cfg.ServiceCPU > 0 {
		s.serviceCPU = cfg.ServiceCPU
	}
	if cfg.MessageServiceCPU > 0 {
		s.messageCPU = cfg.MessageServiceCPU
	}
	owner := os.Getenv("USER")
	if owner == "" {
		owner = "owner"
	}
	s.workflowID = "~" + owner + "/" + cfg.Workflow
	if err := checkPublish(cfg); err != nil {
		_ = zctx.Term()
		return nil, err
	}
	s.serving = cfg.Model.start(s)
	if err := s.open(); err != nil {
		_ = zctx.Term()
		return nil, err
	}
	return s, nil
}

func (s *Server) open() error {
	sock, err := s.zctx.NewSocket(zmq.ROUTER)
	if err != nil {
		return fmt.Errorf("wfs: router socket: %w", err)
	}
	s.sock = sock
	fail := func(err error) error { _ = sock.Close(); return err }
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetMaxmsgsize(s.cfg.MaxMsgSize) },
		// Replies are sent with DONTWAIT (see send); the timeout is a backstop.
		func() error { return sock.SetSndtimeo(time.Second) },
		func() error { return sock.SetRcvtimeo(100 * time.Millisecond) },
		func() error { return sock.SetRouterMandatory(1) },
		func() error { return s.guard.ConfigureServer(s.zctx, sock) },
	} {
		if err := set(); err != nil {
			return fail(fmt.Errorf("wfs: configure server socket: %w", err))
		}
	}
	if err := s.bind(); err != nil {
		return fail(err)
	}
	if s.cfg.Publish {
		p, err := openPublisher(s.guard, s.endpoint, s.cfg.DeltaSize)
		if err != nil {
			return fail(err)
		}
		s.pub = p
	}
	if err := s.writeContact(); err != nil {
		if s.pub != nil {
			s.pub.close(s.guard)
		}
		return fail(err)
	}
	return nil
}

func (s *Server) bind() error {
	if s.cfg.Listen != "" {
		if err := CheckEndpoint("-listen", s.cfg.Listen); err != nil {
			return fmt.Errorf("wfs: %w", err)
		}
		if err := s.sock.Bind(s.cfg.Listen); err != nil {
			return fmt.Errorf("wfs: bind %s: %w", s.cfg.Listen, err)
		}
		ep, err := s.sock.GetLastEndpoint()
		if err != nil {
			return fmt.Errorf("wfs: endpoint: %w", err)
		}
		s.endpoint = ep
		return nil
	}
	ports := rand.Perm(PortMax - PortMin + 1)
	var last error
	for _, p := range ports {
		ep := fmt.Sprintf("tcp://127.0.0.1:%d", PortMin+p)
		if err := s.sock.Bind(ep); err != nil {
			last = err
			continue
		}
		s.endpoint = ep
		return nil
	}
	return fmt.Errorf("wfs: no free port in %d-%d: %v", PortMin, PortMax, last)
}

func (s *Server) writeContact() error {
	host, _ := os.Hostname()
	c := Contact{
		ContactAPI:      "5",
		ContactPID:      strconv.Itoa(os.Getpid()),
		ContactWorkflow: s.cfg.Workflow,
		ContactRunDir:   s.cfg.Run.Root,
		ContactModel:    s.cfg.Model.Name(),
	}
	if h, port, ok := splitTCP(s.endpoint); ok {
		if h == "0.0.0.0" || h == "*" || h == "[::]" {
			c[ContactHost] = host
			c[ContactEndpoint] = "tcp://" + host + ":" + port
		} else {
			c[ContactHost] = h
			c[ContactEndpoint] = s.endpoint
		}
		c[ContactPort] = port
	} else {
		c[ContactHost] = host
		c[ContactEndpoint] = s.endpoint
	}
	if s.pub != nil {
		s.pub.contact(c)
	}
	for k, v := range s.cfg.Contact {
		c[k] = v
	}
	s.contact = c
	return s.cfg.Run.Files.WriteFile(s.cfg.Run.ContactPath(), c.Marshal(), 0o600)
}

// Endpoint is the bound endpoint, for example tcp://127.0.0.1:43017.
func (s *Server) Endpoint() string { return s.endpoint }

// Contact returns the contact-file entries.
func (s *Server) Contact() Contact { return s.contact }

// Context returns the server's ZMQ context (for schemes' ZAP handlers).
func (s *Server) Context() *zmq.Context { return s.zctx }

// Stats returns a snapshot of the server's request counters, the requests
// it shed and the replies it dropped (also in Overload) included.
func (s *Server) Stats() counters.ServerStats {
	return counters.ServerStats{
		Requests: s.requests.Load(), OK: s.ok.Load(), Rejected: s.rejected.Load(),
		Protocol: s.protocol.Load(), Unknown: s.unknown.Load(), Internal: s.internal.Load(),
		Malformed: s.malformed.Load(), Shed: s.shed.Load(), DroppedReplies: s.droppedReplies.Load(),
		CPUSeconds: time.Duration(s.cpuNanos.Load()).Seconds(),
	}
}

// Model is the server's serving model.
func (s *Server) Model() Model { return s.cfg.Model }

// ModelStats returns a snapshot of the serving model's own figures, nil
// when it keeps none (results' server_model_stats).
func (s *Server) ModelStats() map[string]float64 { return s.serving.stats() }

// Overload returns a snapshot of the server's load-shedding counters.
func (s *Server) Overload() OverloadStats {
	return OverloadStats{
		Shed: s.shed.Load(), DroppedReplies: s.droppedReplies.Load(),
		WorkerSendRetries: s.workerSendRetries.Load(), PeakInflight: s.peakInflight.Load(),
	}
}

type job struct {
	envelope [][]byte
	in       Inbound
}

// Serve runs the server until ctx is cancelled, then closes the socket,
// removes the contact file and terminates the context. It is called once.
func (s *Server) Serve(ctx context.Context) error {
	defer s.close()
	m := s.meterThread()
	defer m.stop()
	return s.serving.serve(ctx, m)
}

func (s *Server) serveInline(ctx context.Context) error {
	// A blocking receive with the socket's 100 ms timeout (set in open)
	// wakes at once for a request and often enough to see ctx end; it costs
	// one cgo call where poll-then-receive costs two.
	for ctx.Err() == nil {
		j, err := s.recv(0)
		if err != nil {
			if isAgain(err) || zmq.AsErrno(err) == zmq.Errno(4) { // EAGAIN, EINTR
				continue
			}
			return fmt.Errorf("wfs: receive: %w", err)
		}
		if j == nil {
			continue
		}
		reply := s.handle(ctx, &j.in)
		s.send(j.envelope, reply) // never waits: a peer that does not read loses its replies
	}
	return nil
}

func (s *Server) recvDontwait() (*job, error) { return s.recv(zmq.DONTWAIT) }

// recv receives one request; flags apply to its first frame.
func (s *Server) recv(first zmq.Flag) (*job, error) {
	// Every frame costs cgo calls (pebbe/zmq4's RecvBytes makes five, each
	// metadata property three more, GetRcvmore one), so this reads no more
	// than it must. The ZAP User-Id is read from the first body frame (frame
	// 2): the ROUTER's routing-id frame need not carry the connection's
	// metadata. The other frames are read without metadata.
	id, err := s.sock.RecvBytes(first)
	if err != nil {
		return nil, err
	}
	// A ROUTER always marks the routing-id frame it prepends as "more"
	// (libzmq router_t::xrecv), so there is no need to ask.
	msg := make([][]byte, 1, 4)
	msg[0] = id
	var md map[string]string
	for {
		var b []byte
		if len(msg) == 2 {
			b, md, err = s.sock.RecvBytesWithMetadata(0, "User-Id", "Peer-Address")
		} else {
			b, err = s.sock.RecvBytes(0)
		}
		if err != nil {
			break
		}
		msg = append(msg, b)
		more, err := s.sock.GetRcvmore()
		if err != nil || !more {
			break
		}
	}
	// ROUTER envelope from a REQ peer: identity, empty delimiter, frames.
	if len(msg) < 3 || len(msg[1]) != 0 {
		s.malformed.Add(1)
		return nil, nil
	}
	return &job{envelope: msg[:2], in: Inbound{Frames: msg[2:], UserID: md["User-Id"], Peer: md["Peer-Address"]}}, nil
}

// send sends a reply without waiting. With ROUTER_MANDATORY the routing-id
// frame fails with EAGAIN when the peer's pipe is full (it is not reading its
// replies) and EHOSTUNREACH when the peer has gone: either way the reply is
// dropped and counted, so a peer cannot stall the socket goroutine. Once the
// routing id is taken a ROUTER accepts the rest of the message.
func (s *Server) send(envelope [][]byte, reply []byte) {
	if _, err := s.sock.SendBytes(envelope[0], zmq.SNDMORE|zmq.DONTWAIT); err != nil {
		s.droppedReplies.Add(1)
		return
	}
	if _, err := s.sock.SendBytes(envelope[1], zmq.SNDMORE|zmq.DONTWAIT); err != nil {
		s.droppedReplies.Add(1)
		return
	}
	if _, err := s.sock.SendBytes(reply, zmq.DONTWAIT); err != nil {
		s.droppedReplies.Add(1)
	}
}

// handle runs one request through the guard and the command table and
// returns the reply frame. It never panics on bad input.
func (s *Server) handle(ctx context.Context, in *Inbound) (reply []byte) {
	s.requests.Add(1)
	// The service CPU is burnt after the request is served (deferred calls
	// run last in, first out: after the recover below), on every request
	// counted: a job message's (MessageServiceCPU) once it is known to be
	// one, else ServiceCPU.
	burn := s.serviceCPU
	defer func() {
		if burn > 0 {
			s.gil.Burn(GILServer, burn)
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			s.internal.Add(1)
			reply = EncodeError(KindInternal, fmt.Sprintf("internal error: %v", r))
		}
	}()
	body, who, err := s.guard.Open(ctx, in)
	if err != nil {
		return s.fail(err, KindRejected)
	}
	req, err := DecodeRequest(body)
	if err != nil {
		return s.fail(err, KindProtocol)
	}
	if req.Command == CmdMessage || req.Command == CmdGraphQL && !isPingQuery(req.Args) {
		burn = s.messageCPU
	}
	if err := s.guard.Authorize(ctx, who, req); err != nil {
		return s.fail(err, KindRejected)
	}
	data, handled, err := s.guard.Handle(ctx, who, req)
	if !handled && err == nil {
		data, err = s.builtin(req)
	}
	if err != nil {
		return s.fail(err, KindInternal)
	}
	s.ok.Add(1)
	out, err := s.guard.SealReply(who, EncodeReply(data))
	if err != nil {
		return s.fail(err, KindInternal)
	}
	return out
}

func (s *Server) fail(err error, def ErrorKind) []byte {
	kind, we := replyKind(err, def)
	switch kind {
	case KindRejected:
		s.rejected.Add(1)
	case KindProtocol:
		s.protocol.Add(1)
	case KindUnknown:
		s.unknown.Add(1)
	default:
		s.internal.Add(1)
	}
	msg := err.Error()
	if we != nil {
		msg = we.Msg
	}
	return EncodeError(kind, msg)
}

func (s *Server) builtin(req *Request) (any, error) {
	switch req.Command {
	case CmdPing:
		return s.pong, nil
	case CmdTrigger, CmdHold, CmdRelease, CmdStop:
		if c, ok := s.serving.(*cylcServing); ok {
			c.dirty.Store(true) // the command changes the data store
		}
		return map[string]any{"command": req.Command, "queued": true}, nil
	case CmdMessage:
		var a MessageArgs
		if err := json.Unmarshal(req.Args, &a); err != nil {
			return nil, &Error{Kind: KindProtocol, Msg: "message args: " + err.Error()}
		}
		n, err := s.serving.messages(a)
		if err != nil {
			return nil, err
		}
		return map[string]any{"received": n}, nil
	case CmdGraphQL:
		if isPingQuery(req.Args) {
			return s.graphQLPing(), nil
		}
		return s.graphQLMessage(req)
	case CmdData:
		var a DataArgs
		if len(req.Args) > 0 {
			if err := json.Unmarshal(req.Args, &a); err != nil {
				return nil, &Error{Kind: KindProtocol, Msg: "data args: " + err.Error()}
			}
		}
		// The reply frame wraps the data in {"data":"..."}: keep the whole
		// frame within MaxMsgSize, or a client with the same limit drops it.
		limit := s.cfg.MaxMsgSize - int64(len(EncodeReply("")))
		if a.Size < 0 || int64(a.Size) > limit {
			return nil, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("data size %d out of range 0-%d", a.Size, limit)}
		}
		return strings.Repeat("x", a.Size), nil
	}
	return nil, &Error{Kind: KindUnknown, Msg: fmt.Sprintf("unknown command %q", req.Command)}
}

// message appends each message to the job's job.status as Cylc does:
// CYLC_MESSAGE=<time>|<severity>|<text>, and returns how many it appended.
// Only the fast model does; in the cylc model the client appends (see
// cylc.go).
func (s *Server) message(a MessageArgs) (int, error) {
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return 0, &Error{Kind: KindProtocol, Msg: err.Error()}
	}
	if len(a.Messages) == 0 {
		return 0, &Error{Kind: KindProtocol, Msg: "message args: no messages"}
	}
	if err := CheckJobStatusFields(a); err != nil {
		return 0, err
	}
	path := s.cfg.Run.JobStatusPath(id)
	if _, err := os.Stat(s.cfg.Run.JobDir(id)); err != nil {
		return 0, &Error{Kind: KindProtocol, Msg: fmt.Sprintf("no such job %s", id)}
	}
	if err := s.cfg.Run.Files.AppendFile(path, JobStatusLines(a), 0o600); err != nil {
		return 0, err
	}
	return len(a.Messages), nil
}

// close releases the socket and context and removes the contact file.
func (s *Server) close() {
	if s.closed.Swap(true) {
		return
	}
	_ = s.sock.Close()
	if s.pub != nil {
		s.pub.close(s.guard)
	}
	if tc, ok := s.guard.(TransportCloser); ok {
		tc.CloseTransport()
	}
	_ = s.cfg.Run.Files.Remove(s.cfg.Run.ContactPath())
	_ = s.zctx.Term()
}

// Close stops a server that is not serving (Serve closes on its own).
func (s *Server) Close() { s.close() }
