package main

import (
	"bytes"
	"context"
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
