package schemes_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

var (
	benchSigAlgs = []string{"HS256", "ES256", "EdDSA"}
	benchEncAlgs = []string{"dir", "ECDH-ES"}
)

func BenchmarkSign(b *testing.B) {
	for _, alg := range benchSigAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			s, err := schemes.NewBenchSigner(alg)
			if err != nil {
				b.Fatal(err)
			}
			tok, _ := s.Sign()
			b.ReportMetric(float64(len(tok)), "token-bytes")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sign(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchSigAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			s, err := schemes.NewBenchSigner(alg)
			if err != nil {
				b.Fatal(err)
			}
			tok, err := s.Sign()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchPayload(b *testing.B) (string, []byte) {
	s, err := schemes.NewBenchSigner("HS256")
	if err != nil {
		b.Fatal(err)
	}
	tok, err := s.Sign()
	if err != nil {
		b.Fatal(err)
	}
	body, err := wfs.EncodeRequest(wfs.CmdHold, map[string]string{"task": "1/foo"}, wfs.Meta{Prog: "cylc"})
	if err != nil {
		b.Fatal(err)
	}
	return tok, body
}

func BenchmarkEncrypt(b *testing.B) {
	for _, alg := range benchEncAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			e, err := schemes.NewBenchEnvelope(alg)
			if err != nil {
				b.Fatal(err)
			}
			tok, body := benchPayload(b)
			env, _ := e.Seal(tok, body)
			b.ReportMetric(float64(len(env)-len(body)), "bytes-added")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Seal(tok, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, alg := range benchEncAlgs {
		b.Run("alg="+alg, func(b *testing.B) {
			e, err := schemes.NewBenchEnvelope(alg)
			if err != nil {
				b.Fatal(err)
			}
			tok, body := benchPayload(b)
			env, err := e.Seal(tok, body)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Open(env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokenPolicy times one CLI command as a fresh client makes it
// (load the client side, Begin, Wrap, round trip) over one connection, per
// policy, and reports the file operations per command.
func BenchmarkTokenPolicy(b *testing.B) {
	for _, spec := range []string{"plain", "jwt", "jwt:command", "jwt:shared=1h", "jwt:timed=60s", "jwe", "jwe:command", "jwe/ECDH-ES"} {
		b.Run("spec="+spec, func(b *testing.B) {
			ws := startWire(b, spec)
			ctx := context.Background()
			zc := wfs.NewClient(ws.zctx, ws.srv.Endpoint(), wfs.ClientConfig{})
			defer zc.Close()
			body, _ := wfs.EncodeRequest(wfs.CmdHold, nil, wfs.Meta{Prog: "bench"})
			env := schemes.ClientEnv{Run: ws.run, Contact: ws.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner",
				StateDir: filepath.Join(b.TempDir(), "state")}
			base := ws.run.Files.Stats()
			for b.Loop() {
				cl, err := ws.scheme.Client(ctx, env)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cl.Begin(ctx, zc.Call); err != nil {
					b.Fatal(err)
				}
				frames, err := cl.Wrap(body)
				if err != nil {
					b.Fatal(err)
				}
				rep, err := zc.Call(ctx, frames...)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := wfs.DecodeReply(rep); err != nil {
					b.Fatal(err)
				}
				_ = cl.Close()
			}
			d := ws.run.Files.Stats().Sub(base)
			n := float64(b.N)
			b.ReportMetric(float64(d.Created)/n, "files-created/op")
			b.ReportMetric(float64(d.Deleted)/n, "files-deleted/op")
			b.ReportMetric(float64(d.Read)/n, "files-read/op")
		})
	}
}
