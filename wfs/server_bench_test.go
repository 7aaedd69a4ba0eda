package wfs

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkHandlePing is the server's work for one ping between the socket
// reads and writes: guard, decode, command, encode.
func BenchmarkHandlePing(b *testing.B) {
	run, err := NewRunDir(filepath.Join(b.TempDir(), "run"), NewFiles(false))
	if err != nil {
		b.Fatal(err)
	}
	s, err := NewServer(ServerConfig{Run: run, Workflow: "authbench/calibrate"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body, _ := EncodeRequest(CmdPing, nil, Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		in := Inbound{Frames: [][]byte{body}, UserID: "", Peer: "127.0.0.1"}
		if rep := s.handle(ctx, &in); len(rep) == 0 || rep[2] != 'd' {
			b.Fatalf("reply %s", rep)
		}
	}
}
