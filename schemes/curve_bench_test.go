package schemes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// benchServer is a real loopback WFS for benchmarks, with one CLI client.
type benchServer struct {
	*harness
	client *schemes.Client
}

func startBench(b *testing.B, spec string) *benchServer {
	b.Helper()
	h := startWith(b, spec, harnessOpts{noSync: true})
	cl, err := h.scheme.Client(context.Background(), schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cl.Close() })
	return &benchServer{harness: h, client: cl}
}

func (s *benchServer) ping(b *testing.B, zc *wfs.Client) {
	body, err := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	frames, err := s.client.Wrap(body)
	if err != nil {
		b.Fatal(err)
	}
	rep, err := zc.Call(context.Background(), frames...)
	if err != nil {
		b.Fatal(err)
	}
	if rep, err = s.client.Unwrap(rep); err != nil {
		b.Fatal(err)
	}
	if _, err := wfs.DecodeReply(rep); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHandshake measures a fresh connection's ZMTP handshake (NULL or
// CURVE with a ZAP lookup) from connect to HANDSHAKE_SUCCEEDED on the socket
// monitor, reported as handshake-ns/op beside the whole connect-and-close
// time.
func BenchmarkHandshake(b *testing.B) {
	for _, spec := range []string{"plain", "curve", "curve-job"} {
		b.Run("scheme="+spec, func(b *testing.B) {
			s := startBench(b, spec)
			var total time.Duration
			for b.Loop() {
				zc := wfs.NewClient(s.zctx, s.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: s.client.Configure, Monitor: true})
				hs, err := zc.Handshake(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				total += hs
				zc.Close()
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "handshake-ns/op")
		})
	}
}

// BenchmarkRoundTripCurve measures one ping round trip on an established
// connection, NULL against CURVE.
func BenchmarkRoundTripCurve(b *testing.B) {
	for _, spec := range []string{"plain", "curve", "curve+passphrase:workflow"} {
		b.Run("scheme="+spec, func(b *testing.B) {
			s := startBench(b, spec)
			zc := wfs.NewClient(s.zctx, s.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: s.client.Configure})
			defer zc.Close()
			s.ping(b, zc)
			b.ResetTimer()
			for b.Loop() {
				s.ping(b, zc)
			}
		})
	}
}

// BenchmarkThroughputCurve measures pings per second from parallel clients,
// each on its own connection, NULL against CURVE, with a 64 KiB data reply
// to show the encryption cost per byte.
func BenchmarkThroughputCurve(b *testing.B) {
	for _, spec := range []string{"plain", "curve"} {
		for _, size := range []int{0, 64 << 10} {
			b.Run(fmt.Sprintf("scheme=%s/reply=%d", spec, size), func(b *testing.B) {
				s := startBench(b, spec)
				body, err := wfs.EncodeRequest(wfs.CmdData, wfs.DataArgs{Size: size}, wfs.Meta{Prog: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(size))
				b.RunParallel(func(pb *testing.PB) {
					zc := wfs.NewClient(s.zctx, s.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: s.client.Configure})
					defer zc.Close()
					for pb.Next() {
						frames, err := s.client.Wrap(body)
						if err != nil {
							b.Error(err)
							return
						}
						rep, err := zc.Call(context.Background(), frames...)
						if err != nil {
							b.Error(err)
							return
						}
						if _, err := wfs.DecodeReply(rep); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
