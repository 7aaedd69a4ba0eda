package wfs_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// probeLimit is how long a valid client may wait for its reply while the
// server is flooded: Cylc's default client timeout.
const probeLimit = 5 * time.Second

// TestOverload floods a server with pipelined pings from DEALER peers and
// checks that it sheds load (counted) instead of freezing: a fresh client is
// answered during and right after the flood, and Serve returns promptly when
// cancelled right after it.
func TestOverload(t *testing.T) {
	// 16 KiB replies: 5,000 of them are more than a peer's pipes (1,000
	// messages each side) and loopback TCP buffers can hold.
	big := wfs.DataArgs{Size: 16 << 10}
	cases := []struct {
		name    string
		workers int
		dealers int
		total   int  // requests sent over all dealers
		read    bool // the dealers read their replies while sending
		data    *wfs.DataArgs
		// counted: the replies cannot all fit in the non-reading peers'
		// pipes and socket buffers, so the server must shed or drop (ping
		// replies to an inline server all fit: it never sheds).
		counted bool
	}{
		{"inline flood", 0, 3, 60_000, false, nil, false},
		{"pool flood", 2, 3, 60_000, false, nil, true},
		{"inline reading dealer", 0, 1, 30_000, true, nil, false},
		{"pool reading dealer", 2, 1, 30_000, true, nil, false},
		{"inline big replies", 0, 1, 5_000, false, &big, true},
		{"pool big replies", 2, 1, 5_000, false, &big, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, wfs.ServerConfig{Workers: tc.workers})
			body, err := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "flood"})
			if tc.data != nil {
				body, err = wfs.EncodeRequest(wfs.CmdData, tc.data, wfs.Meta{Prog: "flood"})
			}
			if err != nil {
				t.Fatal(err)
			}
			per := tc.total / tc.dealers
			var sent atomic.Int64
			third := make(chan struct{})
			var thirdOnce sync.Once
			var wg sync.WaitGroup
			floodErrs := make(chan error, tc.dealers)
			replies := make([]floodReplies, tc.dealers)
			for i := 0; i < tc.dealers; i++ {
				d := dealer(t, ts) // linger 0, 2 s send and receive timeouts
				defer d.Close()
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := flood(d, body, per, tc.read, &replies[i], func() {
						if sent.Add(1) >= int64(tc.total/3) {
							thirdOnce.Do(func() { close(third) })
						}
					})
					if err != nil {
						floodErrs <- fmt.Errorf("dealer %d after %d sends: %w", i, replies[i].sent, err)
					}
				}()
			}
			floodDone := make(chan struct{})
			go func() { wg.Wait(); close(floodDone) }()

			// During the flood (a third of it sent, or all of it if it was
			// quicker than the probe could start).
			select {
			case <-third:
			case <-floodDone:
			}
			probe(t, ts, "during the flood")
			select {
			case <-floodDone:
			case <-time.After(time.Minute):
				t.Fatal("flood did not finish within a minute")
			}
			close(floodErrs)
			for err := range floodErrs {
				t.Errorf("flood: %v (the server stopped reading)", err)
			}
			// Right after it: the backlog is still being worked off.
			probe(t, ts, "right after the flood")

			if tc.counted {
				// The peers cannot take all their replies: the server must
				// have shed requests or dropped replies, and counted them.
				// Wait for the counters to move, briefly.
				deadline := time.Now().Add(probeLimit)
				for {
					o := ts.srv.Overload()
					if o.Shed+o.DroppedReplies > 0 {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("overload stats %+v after the flood: nothing shed or dropped", o)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			start := time.Now()
			if err := ts.stop(); err != nil {
				t.Fatalf("Serve: %v", err)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("Serve took %s to return after cancel", took)
			}

			o, st := ts.srv.Overload(), ts.srv.Stats()
			t.Logf("stats %+v overload %+v", st, o)
			if tc.workers > 0 && o.PeakInflight > wfs.MaxInflight {
				t.Errorf("peak in flight %d, bound %d", o.PeakInflight, wfs.MaxInflight)
			}
			if tc.workers == 0 && o.Shed != 0 {
				t.Errorf("inline server shed %d requests; it has no queue to shed from", o.Shed)
			}
			// The request counters (results.json's server) carry what
			// Overload counts; Serve has returned, so neither moves.
			if st.Shed != o.Shed || st.DroppedReplies != o.DroppedReplies {
				t.Errorf("Stats shed %d, dropped %d; Overload shed %d, dropped %d", st.Shed, st.DroppedReplies, o.Shed, o.DroppedReplies)
			}
			var got, ok, busy int64
			for _, r := range replies {
				got, ok, busy = got+r.got, ok+r.ok, busy+r.busy
				for _, err := range r.bad {
					t.Errorf("flood reply: %v", err)
				}
			}
			if tc.read {
				if got == 0 {
					t.Errorf("the reading dealer got no replies")
				}
				t.Logf("reading dealer: %d replies, %d pongs, %d busy", got, ok, busy)
			}
			if st.OK+o.Shed > int64(tc.total)+2 {
				t.Errorf("%d ok + %d shed, more than the %d requests sent", st.OK, o.Shed, tc.total+2)
			}
		})
	}
}

// probe pings the server from a fresh client, which must be answered within
// probeLimit.
func probe(t *testing.T, ts *testServer, when string) {
	t.Helper()
	c := ts.client(probeLimit)
	start := time.Now()
	err := ping(c)
	took := time.Since(start)
	if err != nil {
		t.Errorf("ping %s: %v after %s", when, err, took.Round(time.Millisecond))
		return
	}
	if took >= probeLimit {
		t.Errorf("ping %s answered after %s", when, took)
	}
	t.Logf("ping %s answered in %s", when, took.Round(time.Microsecond))
}

// floodReplies counts what one flooding dealer sent and read.
type floodReplies struct {
	sent, got, ok, busy int64
	bad                 []error
}

// flood sends n pipelined pings on d (REQ-style envelope: an empty delimiter
// then the request), calling each after every send. With read it also reads
// whatever replies have arrived after each send, and after the last one waits
// (up to d's receive timeout per reply) for the rest.
func flood(d *zmq.Socket, body []byte, n int, read bool, r *floodReplies, each func()) error {
	for i := 0; i < n; i++ {
		if _, err := d.SendMessage("", body); err != nil {
			return err
		}
		r.sent++
		each()
		for read {
			if !readReply(d, zmq.DONTWAIT, r) {
				break
			}
		}
	}
	for read && r.got < r.sent {
		if !readReply(d, 0, r) {
			break // the rest were dropped or shed unanswered
		}
	}
	return nil
}

// readReply reads one reply on d and classifies it: a pong or a busy refusal;
// anything else is recorded as bad. It reports whether there was a reply.
func readReply(d *zmq.Socket, flags zmq.Flag, r *floodReplies) bool {
	m, err := d.RecvMessageBytes(flags)
	if err != nil {
		return false
	}
	r.got++
	if len(m) != 2 || len(m[0]) != 0 {
		r.bad = append(r.bad, fmt.Errorf("reply %q: want delimiter and one frame", m))
		return true
	}
	_, err = wfs.DecodeReply(m[1])
	switch {
	case err == nil:
		r.ok++
	case errors.Is(err, wfs.ErrBusy):
		r.busy++
		if err.Error() != "busy: server overloaded, request shed" {
			r.bad = append(r.bad, fmt.Errorf("busy reply reads %q", err))
		}
	default:
		r.bad = append(r.bad, err)
	}
	return true
}
