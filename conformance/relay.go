package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// maxCapture bounds what a Relay records in each direction.
const maxCapture = 8 << 20

// Relay is an eavesdropper on loopback: a TCP relay between clients and a
// WFS that records every byte in each direction.
type Relay struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	up, down bytes.Buffer // client to server, server to client
	conns    []net.Conn
	closed   bool
	wg       sync.WaitGroup
}

// StartRelay listens on 127.0.0.1 (an ephemeral port) and relays each
// connection to target (HOST:PORT).
func StartRelay(target string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("relay: listen: %w", err)
	}
	r := &Relay{ln: ln, target: target}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Endpoint is the relay's ZMQ endpoint, tcp://127.0.0.1:PORT.
func (r *Relay) Endpoint() string { return "tcp://" + r.ln.Addr().String() }

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		s, err := net.DialTimeout("tcp", r.target, time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !r.track(c, s) {
			return
		}
		r.wg.Add(2)
		go r.pipe(c, s, &r.up)
		go r.pipe(s, c, &r.down)
	}
}

// track records a relayed pair for Close; it refuses once closed.
func (r *Relay) track(conns ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	r.conns = append(r.conns, conns...)
	return true
}

// pipe copies from src to dst, recording into rec, until either side closes.
func (r *Relay) pipe(src, dst net.Conn, rec *bytes.Buffer) {
	defer r.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			if rec.Len() < maxCapture {
				rec.Write(buf[:min(n, maxCapture-rec.Len())])
			}
			r.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	// Half-close so the other side sees EOF; Close tears everything down.
	if tc, ok := dst.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// Captured returns copies of the bytes recorded so far: client to server,
// and server to client.
func (r *Relay) Captured() (up, down []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.up.Bytes()), bytes.Clone(r.down.Bytes())
}

// Close stops listening, closes every relayed connection and waits for the
// relay's goroutines.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.closed = true
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	err := r.ln.Close()
	for _, c := range conns {
		_ = c.Close()
	}
	r.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("relay: %w", err)
	}
	return nil
}

// replay writes a captured client byte stream to addr on a fresh TCP
// connection, as an eavesdropper replays it, and reads the server's answer
// until done reports true, the server closes, or timeout passes. The ZMTP
// greeting is paced as a client paces it (the 10-byte signature, then the
// rest of the greeting once the server has answered, then the remainder):
// libzmq drops a peer that sends its whole stream before the server speaks.
func replay(addr string, stream []byte, timeout time.Duration, done func() bool) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return fmt.Errorf("replay: dial: %w", err)
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 32<<10)
	got := 0
	// read reads until want bytes have come in total, the server closes,
	// or wait passes; it reports whether the connection is still open.
	read := func(want int, wait time.Duration) bool {
		until := time.Now().Add(wait)
		for got < want && time.Now().Before(until) && time.Now().Before(deadline) {
			_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			n, err := conn.Read(buf)
			got += n
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return false // closed by the server (EOF) or reset
			}
		}
		return true
	}
	_ = conn.SetWriteDeadline(deadline)
	for _, step := range [][2]int{{0, 10}, {10, 64}, {64, len(stream)}} {
		from, to := step[0], min(step[1], len(stream))
		if from >= to {
			break
		}
		if _, err := conn.Write(stream[from:to]); err != nil {
			return nil // the server hung up on the replay
		}
		if to < len(stream) && !read(to, 200*time.Millisecond) {
			return nil
		}
	}
	for time.Now().Before(deadline) && !done() {
		if !read(1<<30, 50*time.Millisecond) {
			return nil
		}
	}
	return nil
}
