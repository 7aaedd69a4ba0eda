package scenarios

// The UI servers' subscription to the WFS's published deltas, as
// cylc-uiserver holds one (cylc/uiserver/data_store_mgr.py, which runs
// cylc-flow's WorkflowSubscriber, cylc/flow/network/subscriber.py: a SUB
// socket to the contact file's publish port, a CURVE client with the
// workflow's client key, subscribed to the delta topics).

import (
	"context"
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// subscribeRecvTimeout is how long a receive waits before it looks at ctx
// again.
const subscribeRecvTimeout = 100 * time.Millisecond

// subscribe receives deltas on a SUB socket configured as the UI server's
// request client is (configure: its scheme's transport keys) until ctx
// ends, recording each as vocab.OpUISDelta, timed from its publish time.
func (r *runner) subscribe(ctx context.Context, configure func(*zmq.Socket) error) {
	rec := r.recorder()
	sock, err := r.openSubscriber(configure)
	if err != nil {
		rec.fail(vocab.OpUISDelta, time.Now(), err)
		return
	}
	defer sock.Close()
	for ctx.Err() == nil {
		msg, err := sock.RecvMessageBytes(0)
		got := time.Now()
		if err != nil {
			if isAgain(err) || zmq.AsErrno(err) == zmq.Errno(4) {
				continue
			}
			rec.fail(vocab.OpUISDelta, got, fmt.Errorf("receive delta: %w", err))
			return
		}
		if len(msg) != 2 {
			rec.fail(vocab.OpUISDelta, got, fmt.Errorf("delta of %d frames, want 2 (topic, delta)", len(msg)))
			continue
		}
		sent, err := wfs.DeltaSentAt(msg[1])
		if err != nil {
			rec.fail(vocab.OpUISDelta, got, err)
			continue
		}
		rec.ok(vocab.OpUISDelta, sent, sent, got)
	}
}

// openSubscriber makes the SUB socket, with a linger of 0 and a receive
// timeout, subscribed to wfs.DeltaTopic and connected to the contact
// file's publish endpoint.
func (r *runner) openSubscriber(configure func(*zmq.Socket) error) (*zmq.Socket, error) {
	ep, err := r.srv.Contact().PublishEndpoint()
	if err != nil {
		return nil, err
	}
	sock, err := r.zctx.NewSocket(zmq.SUB)
	if err != nil {
		return nil, fmt.Errorf("subscriber socket: %w", err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetRcvtimeo(subscribeRecvTimeout) },
		func() error { return sock.SetRcvhwm(wfs.PublishHWM) },
		func() error { return sock.SetMaxmsgsize(wfs.DefaultMaxMsgSize) },
		func() error { return configure(sock) },
		func() error { return sock.SetSubscribe(wfs.DeltaTopic) },
		func() error { return sock.Connect(ep) },
	} {
		if err := set(); err != nil {
			_ = sock.Close()
			return nil, fmt.Errorf("subscriber socket: %w", err)
		}
	}
	return sock, nil
}
