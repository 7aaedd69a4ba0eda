package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerWorkersBound: a worker count past what a WFS can hold is
// refused at once, in one line naming the flag (issue 24 #4: `serve
// -server-workers 3000` printed its contact file, lost it, and ignored
// SIGTERM; with 100000 it survived SIGTERM for 10 minutes).
func TestServerWorkersBound(t *testing.T) {
	cases := []struct {
		name string
		args func(dir string) []string
	}{
		{"serve 3000", func(dir string) []string {
			return []string{"serve", "-scheme", "plain", "-run-dir", filepath.Join(dir, "wf"), "-server-workers", "3000"}
		}},
		{"serve 100000", func(dir string) []string {
			return []string{"serve", "-scheme", "plain", "-run-dir", filepath.Join(dir, "wf"), "-server-workers", "100000"}
		}},
		{"serve -1", func(dir string) []string {
			return []string{"serve", "-scheme", "plain", "-run-dir", filepath.Join(dir, "wf"), "-server-workers", "-1"}
		}},
		{"run 3000", func(dir string) []string {
			return []string{"run", "-quiet", "-schemes", "plain", "-out", filepath.Join(dir, "out"), "-server-workers", "3000"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr bytes.Buffer
			done := make(chan error, 1)
			go func() { done <- run(ctx, tc.args(t.TempDir()), &stdout, &stderr) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cancel()
				select {
				case <-done:
					t.Fatal("not refused: it ran until cancelled")
				case <-time.After(20 * time.Second):
					t.Fatal("not refused, and it ignored its context's end for 20 s")
				}
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "-server-workers") || !strings.Contains(msg, "want 0 to 256") || strings.Contains(msg, "\n") {
				t.Errorf("want one line naming -server-workers and its range, got %q", msg)
			}
			if strings.Contains(stdout.String(), "contact file:") {
				t.Errorf("printed a contact file for a WFS it refused: %q", stdout.String())
			}
		})
	}
}

// TestClientTimeoutBoundsOTPWait: a second command of one identity within
// a TOTP step needs the next step's code; with -timeout 1s the client says
// so at once, non-zero, rather than blocking until the step turns (issue 24
// #3: it blocked 26-30 s), and its JSON's parts never exceed its total
// (acquire_ns was a histogram's rounded maximum, above total_ns).
func TestClientTimeoutBoundsOTPWait(t *testing.T) {
	const step = time.Hour
	// The test needs the next step far away: not within a minute of an
	// hour's turn (steps count from the Unix epoch).
	if left := time.Until(time.Now().Truncate(step).Add(step)); left < time.Minute {
		time.Sleep(left + time.Second)
	}
	contact := startServe(t, "totp:workflow=3600s", t.TempDir())
	state := t.TempDir()
	args := []string{"client", "-contact", contact, "-state-dir", state, "-timeout", "1s"}
	cases := []struct {
		name    string
		wantErr string
	}{
		{"first code of the step", ""},
		{"second code of the step", "past the request's deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			done := make(chan error, 1)
			start := time.Now()
			go func() { done <- run(context.Background(), args, &stdout, &stderr) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("client -timeout 1s still waiting after 20 s")
			}
			took := time.Since(start)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("client: %v", err)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "one code per identity per 1h0m0s step") {
					t.Fatalf("got %v, want an error saying %q and why", err, tc.wantErr)
				}
				if took > 10*time.Second {
					t.Errorf("refused after %s, want about -timeout's 1s", took)
				}
			}
			var rep struct {
				AcquireNS   int64 `json:"acquire_ns"`
				HandshakeNS int64 `json:"handshake_ns"`
				RoundTripNS int64 `json:"round_trip_ns"`
				TotalNS     int64 `json:"total_ns"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("client JSON: %v: %q", err, stdout.String())
			}
			if rep.AcquireNS > rep.TotalNS || rep.RoundTripNS > rep.TotalNS || rep.HandshakeNS > rep.TotalNS {
				t.Errorf("a part exceeds the total: %+v", rep)
			}
		})
	}
}
