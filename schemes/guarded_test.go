package schemes_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// TestStopAfterServerFailed: a WFS whose server stops on its own (here:
// more workers than libzmq gives a context sockets, so the pool fails to
// start) is seen through Done, and Stop after that returns rather than
// waiting for ever for an error Done already handed out (issue 24 #4:
// `serve -server-workers 3000` then ignored SIGTERM).
func TestStopAfterServerFailed(t *testing.T) {
	sc, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		readDone bool // a caller took the error from Done first, as serve does
	}{{"done read", true}, {"done unread", false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(false))
			if err != nil {
				t.Fatal(err)
			}
			w, err := schemes.StartWFS(context.Background(), schemes.WFSConfig{Scheme: sc,
				Env:    schemes.Env{Run: run, Workflow: "wf"},
				Server: wfs.ServerConfig{Listen: "tcp://127.0.0.1:*", Workers: 2000}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.readDone {
				select {
				case err := <-w.Done():
					if err == nil {
						t.Fatal("a pool of 2000 workers served: want a socket error")
					}
				case <-time.After(30 * time.Second):
					t.Fatal("the server neither failed nor served")
				}
			}
			stopped := make(chan error, 1)
			go func() { stopped <- w.Stop() }()
			select {
			case err := <-stopped:
				if !tc.readDone && err == nil {
					t.Error("Stop returned no error for a server that failed, its error not read through Done")
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Stop did not return after the server had failed")
			}
		})
	}
}
