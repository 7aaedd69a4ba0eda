package wfs

// The cylc model's publisher: the PUB socket a Cylc 8 scheduler publishes
// its data-store deltas on (cylc-flow cylc/flow/network/publisher.py,
// WorkflowPublisher; cylc/flow/network/server.py, publish_queued_items).

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/vocab"
)

// Publisher defaults and bounds.
const (
	// DeltaTopic is the topic frame of every delta: cylc-flow publishes
	// its data-store deltas under b'all' (data_store_mgr.py,
	// DataStoreMgr.publish_deltas).
	DeltaTopic = "all"
	// DefaultDeltaSize is the default size of a delta's payload frame.
	DefaultDeltaSize = 2000
	// MinDeltaSize holds the publish timestamp (DeltaSentAt).
	MinDeltaSize = 8
	// MaxDeltaSize bounds a delta's payload (it stays within a
	// subscriber's DefaultMaxMsgSize).
	MaxDeltaSize = DefaultMaxMsgSize / 2
	// PublishHWM is the PUB socket's send high-water mark:
	// WorkflowPublisher._socket_options sets sndhwm = 1000 ("messages
	// correspond to scheduler loops").
	PublishHWM = 1000
	// ContactPublishPort is the contact file's publish-port key
	// (cylc-flow ContactFileFields.PUBLISH_PORT).
	ContactPublishPort = "CYLC_WORKFLOW_PUBLISH_PORT"
	// ContactPublishEndpoint is the publish socket's full endpoint, for
	// an ipc:// server.
	ContactPublishEndpoint = "AUTHBENCH_PUBLISH_ENDPOINT"
)

// PublishConfigurer is implemented by a Guard whose transport secures the
// publish socket as it does the request socket: Cylc binds its PUB socket
// as a CURVE server with the workflow's server key (cylc-flow
// cylc/flow/network/__init__.py, ZMQSocketBase._socket_bind). zctx is the
// publisher's own context (see openPublisher). A Guard without it
// publishes in the clear (NULL).
type PublishConfigurer interface {
	ConfigurePublisher(zctx *zmq.Context, sock *zmq.Socket) error
}

// PublishEndpoint is the publish socket's endpoint from the contact file.
func (c Contact) PublishEndpoint() (string, error) {
	if ep := c[ContactPublishEndpoint]; ep != "" {
		return ep, nil
	}
	host, port := c[ContactHost], c[ContactPublishPort]
	if host == "" || port == "" {
		return "", fmt.Errorf("contact: no %s: the WFS does not publish", ContactPublishPort)
	}
	return "tcp://" + host + ":" + port, nil
}

// DeltaSentAt is the publish time a delta's payload carries in its first
// 8 bytes (Unix nanoseconds, big-endian).
func DeltaSentAt(payload []byte) (time.Time, error) {
	if len(payload) < MinDeltaSize {
		return time.Time{}, fmt.Errorf("delta: %d bytes, want at least %d", len(payload), MinDeltaSize)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(payload))), nil
}

// PublishStats are the publisher's counters (server_model_stats).
type PublishStats struct {
	// Deltas is the deltas published; Sends the copies sent, one per
	// subscriber at the time; Dropped the deltas the socket refused.
	Deltas, Sends, Dropped int64
	// Subscribers is the subscriptions held now.
	Subscribers int64
	// SectionCPU is the server thread's CPU in the publish sections
	// (serialise and send, holding the GIL); IOCPU the CPU of the
	// publisher's own libzmq threads (CURVE encryption, TCP writes).
	SectionCPU, IOCPU time.Duration
}

// publisher is the cylc model's PUB socket, in a ZMQ context of its own
// so that the libzmq threads doing its I/O are its alone and metered.
type publisher struct {
	zctx     *zmq.Context
	sock     *zmq.Socket
	endpoint string
	size     int
	tids     []int

	subscribers                     int64 // server thread only
	deltas, sends, dropped, subsNow atomic.Int64
	sectionNanos, ioNanos           atomic.Int64
}

// openPublisher binds a publisher beside the request socket at reqEP, its
// transport configured by guard.
func openPublisher(guard Guard, reqEP string, size int) (*publisher, error) {
	if size == 0 {
		size = DefaultDeltaSize
	}
	if size < MinDeltaSize || size > MaxDeltaSize {
		return nil, fmt.Errorf("wfs: delta size %d: want %d to %d", size, MinDeltaSize, MaxDeltaSize)
	}
	before := zmqThreads()
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("wfs: publisher context: %w", err)
	}
	p := &publisher{zctx: zctx, size: size}
	if err := p.open(guard, reqEP); err != nil {
		p.close(guard)
		return nil, err
	}
	p.tids = newZMQThreads(before)
	return p, nil
}

// publisherThreads is the libzmq threads a context starts with its first
// socket: its reaper and one I/O thread.
const publisherThreads = 2

// newZMQThreads are the libzmq threads not in before. A libzmq thread
// names itself once it runs, so they are looked for until both are
// named, for at most 200 ms.
func newZMQThreads(before []int) []int {
	var out []int
	for end := time.Now().Add(200 * time.Millisecond); ; time.Sleep(time.Millisecond) {
		out = out[:0]
		for _, t := range zmqThreads() {
			if !containsInt(before, t) {
				out = append(out, t)
			}
		}
		if len(out) >= publisherThreads || time.Now().After(end) {
			return out
		}
	}
}

// open makes the socket: an XPUB, which sends as Cylc's PUB does and also
// hands up each subscribe and unsubscribe (verbose, verboser), so that
// the publisher knows how many copies it sends.
func (p *publisher) open(guard Guard, reqEP string) error {
	sock, err := p.zctx.NewSocket(zmq.XPUB)
	if err != nil {
		return fmt.Errorf("wfs: publish socket: %w", err)
	}
	p.sock = sock
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetSndhwm(PublishHWM) },
		func() error { return sock.SetSndtimeo(time.Second) },
		func() error { return sock.SetRcvtimeo(100 * time.Millisecond) },
		func() error { return sock.SetXpubVerbose(1) },
		func() error { return sock.SetXpubVerboser(1) },
		func() error {
			if pc, ok := guard.(PublishConfigurer); ok {
				return pc.ConfigurePublisher(p.zctx, sock)
			}
			return nil
		},
	} {
		if err := set(); err != nil {
			return fmt.Errorf("wfs: configure publish socket: %w", err)
		}
	}
	return p.bind(reqEP)
}

// bind binds a free port in PortMin-PortMax on the request socket's host,
// as Cylc binds both sockets in its port range; ipc://PATH-pub beside an
// ipc request socket.
func (p *publisher) bind(reqEP string) error {
	if rest, ok := strings.CutPrefix(reqEP, "ipc://"); ok {
		ep := "ipc://" + rest + "-pub"
		if err := p.sock.Bind(ep); err != nil {
			return fmt.Errorf("wfs: bind %s: %w", ep, err)
		}
		p.endpoint = ep
		return nil
	}
	host, _, ok := splitTCP(reqEP)
	if !ok {
		return fmt.Errorf("wfs: publish beside %q: want tcp:// or ipc://", reqEP)
	}
	var last error
	for _, i := range rand.Perm(PortMax - PortMin + 1) {
		ep := fmt.Sprintf("tcp://%s:%d", host, PortMin+i)
		if last = p.sock.Bind(ep); last == nil {
			p.endpoint = ep
			return nil
		}
	}
	return fmt.Errorf("wfs: publish socket: no free port in %d-%d: %v", PortMin, PortMax, last)
}

// contact adds the publisher's entries to c.
func (p *publisher) contact(c Contact) {
	if _, port, ok := splitTCP(p.endpoint); ok {
		c[ContactPublishPort] = port
		return
	}
	c[ContactPublishEndpoint] = p.endpoint
}

// publish is one publish_queued_items of cylc-flow's server thread
// (network/server.py, after each drain): it serialises one delta and
// sends [topic, delta] to every subscriber (WorkflowPublisher.send_multi),
// holding the GIL as the Python thread does; the section's CPU is
// metered. Only the server thread calls it.
func (p *publisher) publish(gil *GIL) {
	t0, _ := threadCPUClock()
	p.subscriptions()
	gil.Take(GILServer)
	payload := p.serialise(time.Now())
	_, err := p.sock.SendBytes([]byte(DeltaTopic), zmq.SNDMORE|zmq.DONTWAIT)
	if err == nil {
		_, err = p.sock.SendBytes(payload, zmq.DONTWAIT)
	}
	gil.Drop(GILServer)
	if err != nil {
		p.dropped.Add(1)
	} else {
		p.deltas.Add(1)
		p.sends.Add(p.subscribers)
	}
	if t1, ok := threadCPUClock(); ok {
		p.sectionNanos.Add(int64(t1 - t0))
	}
	p.ioCPU()
}

// serialise stands for SerializeToString of the data-store deltas: it
// builds the payload anew, the publish time first (DeltaSentAt).
func (p *publisher) serialise(now time.Time) []byte {
	b := make([]byte, p.size)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	for i := MinDeltaSize; i < len(b); i++ {
		b[i] = byte('a' + i%26)
	}
	return b
}

// subscriptions reads the subscribe (1) and unsubscribe (0) messages the
// XPUB has queued and keeps the count of subscriptions.
func (p *publisher) subscriptions() {
	for {
		b, err := p.sock.RecvBytes(zmq.DONTWAIT)
		if err != nil {
			break
		}
		switch {
		case len(b) > 0 && b[0] == 1:
			p.subscribers++
		case len(b) > 0 && b[0] == 0 && p.subscribers > 0:
			p.subscribers--
		}
	}
	p.subsNow.Store(p.subscribers)
}

// ioCPU reads the CPU of the publisher's libzmq threads, keeping the last
// reading once they have gone.
func (p *publisher) ioCPU() time.Duration {
	var sum time.Duration
	for _, t := range p.tids {
		d, ok := tidCPU(t)
		if !ok {
			return time.Duration(p.ioNanos.Load())
		}
		sum += d
	}
	p.ioNanos.Store(int64(sum))
	return sum
}

// addPublishStats adds st to results' server_model_stats.
func addPublishStats(out map[string]float64, st PublishStats) {
	out["deltas_published"] = float64(st.Deltas)
	out["delta_sends"] = float64(st.Sends)
	out["deltas_dropped"] = float64(st.Dropped)
	out["delta_subscribers"] = float64(st.Subscribers)
	out["publish_section_cpu_s"] = st.SectionCPU.Seconds()
	out["publish_io_cpu_s"] = st.IOCPU.Seconds()
	out["publish_cpu_s"] = (st.SectionCPU + st.IOCPU).Seconds()
}

// PublishStats returns the publisher's counters; zero when the server
// does not publish.
func (s *Server) PublishStats() PublishStats { return s.pub.stats() }

func (p *publisher) stats() PublishStats {
	if p == nil {
		return PublishStats{}
	}
	return PublishStats{Deltas: p.deltas.Load(), Sends: p.sends.Load(), Dropped: p.dropped.Load(),
		Subscribers: p.subsNow.Load(), SectionCPU: time.Duration(p.sectionNanos.Load()), IOCPU: p.ioCPU()}
}

// close closes the socket, the transport's handlers in the publisher's
// context and the context.
func (p *publisher) close(guard Guard) {
	if p.sock != nil {
		p.ioCPU()
		_ = p.sock.Close()
	}
	if pc, ok := guard.(PublishCloser); ok {
		pc.ClosePublisher()
	}
	_ = p.zctx.Term()
}

// PublishCloser is implemented by a PublishConfigurer that starts
// handlers in the publisher's context (a ZAP handler): the server calls
// it before it terminates that context.
type PublishCloser interface {
	ClosePublisher()
}

// zmqThreads are the process's libzmq threads (named ZMQbg/...).
func zmqThreads() []int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err != nil || !strings.HasPrefix(string(b), "ZMQbg") {
			continue
		}
		if t, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// tidCPU reads another thread's CPU clock in this process: Linux's
// per-thread CPU clock id, MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
func tidCPU(tid int) (time.Duration, bool) {
	var ts unix.Timespec
	id := int32(^uint32(tid)<<3) | 6
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// checkPublish refuses publishing under a model without a main loop, and
// a PublishRate past one delta a main-loop iteration.
func checkPublish(cfg ServerConfig) error {
	if !cfg.Publish {
		return nil
	}
	if cfg.Model.Name() != vocab.ServerModelCylc {
		return fmt.Errorf("wfs: only the cylc model publishes deltas, not %s", cfg.Model.Name())
	}
	interval := cfg.MessageInterval
	if interval <= 0 {
		interval = CylcMainLoopInterval
	}
	if max := 1 / interval.Seconds(); cfg.PublishRate < 0 || cfg.PublishRate > max {
		return fmt.Errorf("wfs: publish rate %g/s: want 0 to %g/s, one delta a main-loop iteration at most", cfg.PublishRate, max)
	}
	if cfg.DeltaSize != 0 && (cfg.DeltaSize < MinDeltaSize || cfg.DeltaSize > MaxDeltaSize) {
		return fmt.Errorf("wfs: delta size %d: want %d to %d", cfg.DeltaSize, MinDeltaSize, MaxDeltaSize)
	}
	return nil
}
