package wfs_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/wfs"
)

// TestControlChannel: the owner's control file (0600) lets a client call
// the handler; a wrong secret, an unknown op and a handler error come back
// as errors of the right kind, and the channel keeps serving.
func TestControlChannel(t *testing.T) {
	run := newRun(t, false)
	handler := func(_ context.Context, op string, args json.RawMessage) (any, error) {
		switch op {
		case "echo":
			return args, nil
		case "fail":
			return nil, &wfs.Error{Kind: wfs.KindProtocol, Msg: "bad job"}
		}
		return nil, &wfs.Error{Kind: wfs.KindUnknown, Msg: "unknown op " + op}
	}
	cs, err := wfs.NewControlServer(run, "", handler)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cs.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(cs.Path()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("control file left after Serve: %v", err)
		}
	}()
	info, err := os.Stat(cs.Path())
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("control file mode %o, want 600", info.Mode().Perm())
	}
	cl, err := wfs.DialControl(cs.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	tests := []struct {
		name, op string
		wantKind wfs.ErrorKind
	}{
		{"echo", "echo", ""},
		{"handler error", "fail", wfs.KindProtocol},
		{"unknown op", "bogus", wfs.KindUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out map[string]int
			err := cl.Call(ctx, tc.op, map[string]int{"n": 7}, &out)
			if tc.wantKind == "" {
				if err != nil || out["n"] != 7 {
					t.Fatalf("echo: %v %v", out, err)
				}
				return
			}
			var we *wfs.Error
			if !errors.As(err, &we) || we.Kind != tc.wantKind {
				t.Fatalf("got %v, want kind %s", err, tc.wantKind)
			}
		})
	}

	// A caller without the owner's secret is refused.
	forged := filepath.Join(t.TempDir(), "control")
	b, _ := os.ReadFile(cs.Path())
	bad := strings.Replace(string(b), "secret=", "secret=00", 1)
	if err := os.WriteFile(forged, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	intruder, err := wfs.DialControl(forged)
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	var we *wfs.Error
	if err := intruder.Call(ctx, "echo", nil, nil); !errors.As(err, &we) || we.Kind != wfs.KindRejected {
		t.Fatalf("wrong secret: got %v, want rejected", err)
	}
	// Still serving the owner.
	if err := cl.Call(ctx, "echo", 1, nil); err != nil {
		t.Fatalf("after a refused caller: %v", err)
	}
}

// TestDialControlBadFile: a control file that is not KEY=VALUE lines, or
// lacks the endpoint or secret, is one clear error naming the file.
func TestDialControlBadFile(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"not key=value", "hello\n", ":1: want KEY=VALUE"},
		{"no secret", "endpoint=tcp://127.0.0.1:1\n", "want endpoint= and secret="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "control")
			if err := os.WriteFile(p, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := wfs.DialControl(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("got %v, want %q naming %s", err, tc.want, p)
			}
		})
	}
}
