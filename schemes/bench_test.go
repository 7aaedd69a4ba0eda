package schemes_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	zmq "github.com/pebbe/zmq4"
)

// wireSchemes are the schemes the benchmarks compare, one sub-benchmark
// each (scheme=NAME).
var wireSchemes = []string{"plain", "passphrase"}

// wireServer is a real WFS on loopback for one scheme, serving inline (the
// lowest-latency mode), and a client ZMQ context; it stops when b ends.
type wireServer struct {
	scheme *schemes.Scheme
	run    *wfs.RunDir
	srv    *wfs.Server
	zctx   *zmq.Context
}

func startWire(tb testing.TB, spec string) *wireServer {
	tb.Helper()
	sc, err := schemes.Builtin().Parse(spec)
	if err != nil {
		tb.Fatal(err)
	}
	// No fsync: the benchmarks measure the wire, not the disk.
	run, err := wfs.NewRunDir(filepath.Join(tb.TempDir(), "run"), wfs.NewFiles(false))
	if err != nil {
		tb.Fatal(err)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = zctx.Term() }) // runs last
	ctx, cancel := context.WithCancel(context.Background())
	guard, err := sc.Server(ctx, schemes.Env{Run: run, Workflow: "bench"})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	srv, err := wfs.NewServer(wfs.ServerConfig{Run: run, Workflow: "bench", Guard: guard})
	if err != nil {
		cancel()
		_ = guard.Close()
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Error(err)
		}
		if err := guard.Close(); err != nil {
			tb.Error(err)
		}
	})
	return &wireServer{scheme: sc, run: run, srv: srv, zctx: zctx}
}

// wireSession is one scheme client on one wfs client (one connection).
type wireSession struct {
	cl *schemes.Client
	zc *wfs.Client
}

func (bs *wireServer) open(ctx context.Context) (*wireSession, error) {
	cl, err := bs.scheme.Client(ctx, schemes.ClientEnv{
		Run: bs.run, Contact: bs.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner",
	})
	if err != nil {
		return nil, err
	}
	zc := wfs.NewClient(bs.zctx, bs.srv.Endpoint(), wfs.ClientConfig{Timeout: 5 * time.Second, Configure: cl.Configure})
	if _, err := cl.Begin(ctx, zc.Call); err != nil {
		zc.Close()
		_ = cl.Close()
		return nil, err
	}
	return &wireSession{cl: cl, zc: zc}, nil
}

// ping is one full request: encode, wrap, round trip, unwrap, decode.
func (s *wireSession) ping(ctx context.Context) error {
	body, err := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "bench"})
	if err != nil {
		return err
	}
	frames, err := s.cl.Wrap(body)
	if err != nil {
		return err
	}
	rep, err := s.zc.Call(ctx, frames...)
	if err != nil {
		return err
	}
	if rep, err = s.cl.Unwrap(rep); err != nil {
		return err
	}
	_, err = wfs.DecodeReply(rep)
	return err
}

func (s *wireSession) close(ctx context.Context) error {
	err := s.cl.End(ctx)
	s.zc.Close()
	if cerr := s.cl.Close(); err == nil {
		err = cerr
	}
	return err
}

// BenchmarkRoundTrip is one ping over a connection that stays open, as the
// UI server's polls and a long-lived client's requests are.
func BenchmarkRoundTrip(b *testing.B) {
	for _, spec := range wireSchemes {
		b.Run("scheme="+spec, func(b *testing.B) {
			bs := startWire(b, spec)
			ctx := context.Background()
			s, err := bs.open(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := s.close(ctx); err != nil {
					b.Error(err)
				}
			}()
			// Connect outside the timed loop.
			if err := s.ping(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.ping(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFreshConnection is one CLI command as Cylc runs it: load the
// scheme's client side (reading its credential), open a fresh REQ
// connection, one ping, close.
func BenchmarkFreshConnection(b *testing.B) {
	for _, spec := range wireSchemes {
		b.Run("scheme="+spec, func(b *testing.B) {
			bs := startWire(b, spec)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s, err := bs.open(ctx)
				if err != nil {
					b.Fatal(err)
				}
				err = s.ping(ctx)
				if cerr := s.close(ctx); err == nil {
					err = cerr
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWireBenchBodies runs each benchmark body once per scheme as a test, so
// `go test` catches a broken benchmark without -bench.
func TestWireBenchBodies(t *testing.T) {
	for _, spec := range wireSchemes {
		t.Run(spec, func(t *testing.T) {
			bs := startWire(t, spec)
			ctx := context.Background()
			for i := 0; i < 2; i++ { // a fresh connection each
				s, err := bs.open(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for j := 0; j < 2; j++ { // the connection reused
					if err := s.ping(ctx); err != nil {
						t.Fatal(err)
					}
				}
				if err := s.close(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if st := bs.srv.Stats(); st.OK != 4 || st.Rejected != 0 {
				t.Fatalf("server stats %+v", st)
			}
		})
	}
}
