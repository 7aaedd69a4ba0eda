package schemes_test

import (
	"context"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// wireSchemes are the schemes the benchmarks compare, one sub-benchmark
// each (scheme=NAME).
var wireSchemes = []string{"plain", "passphrase", "jwt", "jwt/ES256", "jwt:command", "jwt:shared=10s",
	"jwt:timed=60s/6s", "jwe", "jwe/ECDH-ES", "curve", "curve+jwt:command"}

// wireServer is a real WFS on loopback for one scheme, serving inline (the
// lowest-latency mode) without fsync (the benchmarks measure the wire, not
// the disk), and a client ZMQ context; it stops when the benchmark ends.
type wireServer struct {
	*harness
}

func startWire(tb testing.TB, spec string) *wireServer {
	tb.Helper()
	return &wireServer{startWith(tb, spec, harnessOpts{noSync: true, workflow: "bench"})}
}

// wireSession is one scheme client on one wfs client (one connection).
type wireSession struct {
	cl *schemes.Client
	zc *wfs.Client
}

func (bs *wireServer) open(ctx context.Context) (*wireSession, error) {
	state := bs.run.Root + "-client-state" // plan B1 keeps its token here
	if err := bs.run.Files.MkdirAll(state); err != nil {
		return nil, err
	}
	cl, err := bs.scheme.Client(ctx, schemes.ClientEnv{
		Run: bs.run, Contact: bs.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner", StateDir: state,
	})
	if err != nil {
		return nil, err
	}
	zc := wfs.NewClient(bs.zctx, bs.srv.Endpoint(), wfs.ClientConfig{Timeout: 5 * time.Second, Configure: cl.Configure})
	return &wireSession{cl: cl, zc: zc}, nil
}

// ping is one full command: begin (acquiring a credential when the policy
// wants one per command), encode, wrap, round trip, unwrap, decode, end.
func (s *wireSession) ping(ctx context.Context) error {
	if _, err := s.cl.Begin(ctx, s.zc.Call); err != nil {
		return err
	}
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
	if _, err = wfs.DecodeReply(rep); err != nil {
		return err
	}
	return s.cl.End(ctx)
}

func (s *wireSession) close(context.Context) error {
	s.zc.Close()
	return s.cl.Close()
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
			// Four pings, plus one token request per command for the
			// policies that acquire: every request succeeded.
			if st := bs.srv.Stats(); st.OK < 4 || st.OK != st.Requests {
				t.Fatalf("server stats %+v", st)
			}
		})
	}
}
