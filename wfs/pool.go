package wfs

import (
	"context"
	"fmt"
	"sync"
	"time"

	zmq "github.com/pebbe/zmq4"
)

// The worker pool and its load shedding: a server with workers never blocks
// its socket goroutine, and refuses (counted) what it cannot hold.

// KindBusy is the error kind of the reply to a request the server shed
// because it was overloaded. The request was not run, so a retry is safe.
const KindBusy ErrorKind = "busy"

// ErrBusy matches, with errors.Is, the error of a request the server shed.
var ErrBusy error = &Error{Kind: KindBusy}

// Load-shedding bounds of a server with workers.
const (
	// MaxInflight bounds the requests a server with workers holds at once:
	// queued for a worker, being served, or with their reply on its way back
	// to the socket goroutine. It bounds the server's own queue (so at most
	// MaxInflight requests of at most MaxMsgSize each); libzmq holds at most
	// its HWM (1000 messages) more per connected peer in each direction.
	MaxInflight = 1024
	// MaxPeerInflight bounds the requests in flight from one peer (one
	// connection), so that a few peers that pipeline requests cannot fill
	// the queue and starve the rest: more than MaxInflight/MaxPeerInflight
	// such peers must flood before a REQ client (one request at a time) can
	// be shed.
	MaxPeerInflight = 64
	// recvBatch bounds the requests the socket goroutine receives per poll
	// wake-up before it looks at the workers' replies again.
	recvBatch = 256
)

// OverloadStats counts what the server refused or could not deliver, and
// how busy it got. Shed and DroppedReplies are also in the request counters
// (Server.Stats), which results carry.
type OverloadStats struct {
	// Shed is the requests refused unrun with a KindBusy reply because the
	// server (or the peer's share of it) had MaxInflight (MaxPeerInflight)
	// requests in flight. Shed requests are not in counters.ServerStats.Requests.
	Shed int64 `json:"shed"`
	// DroppedReplies is the replies (busy ones included) not delivered
	// because the peer's pipe was full (it does not read its replies) or the
	// peer had gone. Replies are never waited for.
	DroppedReplies int64 `json:"dropped_replies"`
	// WorkerSendRetries is the workers' hand-backs of a reply to the socket
	// goroutine that timed out (1 s) or were interrupted and were tried
	// again. The inproc pipe has room for every reply in flight, so it
	// should stay 0.
	WorkerSendRetries int64 `json:"worker_send_retries"`
	// PeakInflight is the most requests in flight at once (with workers; at
	// most MaxInflight).
	PeakInflight int64 `json:"peak_inflight"`
}

func (s *Server) servePool(ctx context.Context) error {
	// Workers hand replies back over inproc PUSH sockets to a PULL socket the
	// socket goroutine polls beside the ROUTER, so replies wake it at once.
	//
	// The socket goroutine never blocks: it admits at most MaxInflight
	// requests (MaxPeerInflight per peer) and sheds the rest, jobs holds
	// MaxInflight so admitting one never waits, each worker's inproc pipe
	// holds SNDHWM+RCVHWM = 2*MaxInflight replies so handing one back never
	// waits, and replies go out with DONTWAIT.
	addr := fmt.Sprintf("inproc://wfs-replies-%p", s)
	pull, err := s.zctx.NewSocket(zmq.PULL)
	if err != nil {
		return fmt.Errorf("wfs: reply socket: %w", err)
	}
	defer pull.Close()
	_ = pull.SetLinger(0)
	if err := pull.SetRcvhwm(MaxInflight); err != nil {
		return fmt.Errorf("wfs: reply socket: %w", err)
	}
	if err := pull.Bind(addr); err != nil {
		return fmt.Errorf("wfs: bind %s: %w", addr, err)
	}
	jobs := make(chan *job, MaxInflight)
	var wg sync.WaitGroup
	for i := 0; i < s.cfg.Workers; i++ {
		push, err := s.zctx.NewSocket(zmq.PUSH)
		if err != nil {
			close(jobs)
			wg.Wait()
			return fmt.Errorf("wfs: worker socket: %w", err)
		}
		_ = push.SetLinger(0)
		_ = push.SetSndtimeo(time.Second)
		err = push.SetSndhwm(MaxInflight)
		if err == nil {
			err = push.Connect(addr)
		}
		if err != nil {
			_ = push.Close()
			close(jobs)
			wg.Wait()
			return fmt.Errorf("wfs: connect %s: %w", addr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer push.Close()
			defer s.countThreadCPU()()
			for j := range jobs {
				if ctx.Err() != nil {
					continue // stopping: drop what is still queued
				}
				reply := s.handle(ctx, &j.in)
				s.handBack(ctx, push, j.envelope, reply)
			}
		}()
	}
	defer func() { close(jobs); wg.Wait() }()

	// In flight: admitted requests whose reply the socket goroutine has not
	// yet taken from pull. Only this goroutine touches these.
	inflight, peak := 0, 0
	perPeer := make(map[string]int, 64) // routing id -> in flight; at most MaxInflight entries

	poller := zmq.NewPoller()
	poller.Add(s.sock, zmq.POLLIN)
	poller.Add(pull, zmq.POLLIN)
	for ctx.Err() == nil {
		polled, err := poller.Poll(100 * time.Millisecond)
		if err != nil {
			if zmq.AsErrno(err) == zmq.Errno(4) {
				continue
			}
			return fmt.Errorf("wfs: poll: %w", err)
		}
		var replies, requests bool
		for _, p := range polled {
			switch p.Socket {
			case pull:
				replies = true
			case s.sock:
				requests = true
			}
		}
		// Replies first: they free in-flight slots. There are at most
		// MaxInflight of them.
		for replies {
			m, err := pull.RecvMessageBytes(zmq.DONTWAIT)
			if err != nil {
				break
			}
			if len(m) != 3 {
				continue // workers send three frames
			}
			inflight--
			if n := perPeer[string(m[0])]; n > 1 {
				perPeer[string(m[0])] = n - 1
			} else {
				delete(perPeer, string(m[0]))
			}
			s.send(m[:2], m[2])
		}
		// Then at most recvBatch requests, so that a flood cannot keep
		// replies waiting; the next Poll returns at once if more are queued.
		for n := 0; requests && n < recvBatch; n++ {
			j, err := s.recvDontwait()
			if err != nil {
				break
			}
			if j == nil {
				continue
			}
			id := j.envelope[0]
			if inflight >= MaxInflight || perPeer[string(id)] >= MaxPeerInflight {
				s.shed.Add(1)
				s.send(j.envelope, s.busy)
				continue
			}
			select {
			case jobs <- j: // len(jobs) <= inflight < cap(jobs): never waits
			default:
				s.shed.Add(1)
				s.send(j.envelope, s.busy)
				continue
			}
			inflight++
			perPeer[string(id)]++
			if inflight > peak {
				peak = inflight
				s.peakInflight.Store(int64(peak))
			}
		}
	}
	return nil
}

// handBack passes a worker's reply to the socket goroutine. The pipe has
// room for every reply in flight, so the send should not wait; if it times
// out (1 s) or is interrupted it is counted and tried again, since a reply
// lost here would also hold its request's in-flight slot for good. It gives
// up (the reply counted as dropped) when ctx ends or on any other error.
func (s *Server) handBack(ctx context.Context, push *zmq.Socket, envelope [][]byte, reply []byte) {
	for {
		_, err := push.SendMessage(envelope[0], envelope[1], reply)
		if err == nil {
			return
		}
		if ctx.Err() != nil || !(isAgain(err) || zmq.AsErrno(err) == zmq.Errno(4)) { // EAGAIN, EINTR
			s.droppedReplies.Add(1)
			return
		}
		s.workerSendRetries.Add(1)
	}
}
