package scenarios

import (
	"context"
	"fmt"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// probeOps is how many operations each half of the handshake probe makes.
const probeOps = 100

// probeHandshake measures the WFS's CPU per CLI operation (a ping through
// the scheme, credential and all) made one after another on one reused
// connection, then on a fresh connection each; the difference is the WFS's
// CPU per handshake. It runs after a scenario's load, outside its measured
// window, on the then idle WFS; it returns the file operations it made
// (the WFS's and its clients') so that the run's own can be told apart.
func (ss *session) probeHandshake(ctx context.Context, n int) (*results.HandshakeProbe, []counters.FileStats, error) {
	srv0, err := ss.srv.Stats(ctx)
	if err != nil {
		return nil, nil, err
	}
	cli0 := ss.files.Stats()
	probe, err := ss.probe(ctx, n)
	if err != nil {
		return nil, nil, err
	}
	srv1, err := ss.srv.Stats(ctx)
	if err != nil {
		return nil, nil, err
	}
	return probe, []counters.FileStats{srv1.Files.Sub(srv0.Files), ss.files.Stats().Sub(cli0)}, nil
}

func (ss *session) probe(ctx context.Context, n int) (*results.HandshakeProbe, error) {
	body, err := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"})
	if err != nil {
		return nil, err
	}
	env := schemes.ClientEnv{Run: ss.run, Contact: ss.srv.Contact(), Kind: schemes.KindCLI, Identity: "probe",
		StateDir: ss.stateDir}
	per := func(fresh bool) (time.Duration, error) {
		a, err := ss.srv.Stats(ctx)
		if err != nil {
			return 0, err
		}
		var cl *schemes.Client
		var zc *wfs.Client
		closeAll := func() {
			if zc != nil {
				zc.Close()
			}
			if cl != nil {
				_ = cl.Close()
			}
			zc, cl = nil, nil
		}
		defer closeAll()
		for i := 0; i < n; i++ {
			if cl == nil || fresh {
				closeAll()
				if cl, err = ss.scheme.Client(ctx, env); err != nil {
					return 0, err
				}
				zc = wfs.NewClient(ss.zctx, ss.srv.Endpoint(), wfs.ClientConfig{Configure: cl.Configure})
			}
			if _, err := schemes.Request(ctx, cl, zc, body); err != nil {
				return 0, fmt.Errorf("probe ping %d: %w", i, err)
			}
		}
		b, err := ss.srv.Stats(ctx)
		if err != nil {
			return 0, err
		}
		return time.Duration((b.CPUSeconds() - a.CPUSeconds()) / float64(n) * float64(time.Second)), nil
	}
	reused, err := per(false)
	if err != nil {
		return nil, fmt.Errorf("handshake probe (reused): %w", err)
	}
	fresh, err := per(true)
	if err != nil {
		return nil, fmt.Errorf("handshake probe (fresh): %w", err)
	}
	return &results.HandshakeProbe{Ops: n, Fresh: fresh, Reused: reused}, nil
}
