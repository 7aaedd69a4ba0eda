package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/wfs"
)

// cylcContact writes a contact file as a real Cylc 8 scheduler writes it,
// with its .service keys, naming pid and port.
func cylcContact(t *testing.T, pid, port int) string {
	t.Helper()
	svc := filepath.Join(t.TempDir(), "run", ".service")
	files := wfs.NewFiles(false)
	for _, name := range []string{"server", "client"} {
		if _, err := wfs.WriteKeyPair(files, svc, name); err != nil {
			t.Fatal(err)
		}
	}
	c := wfs.Contact{"CYLC_API": "5", "CYLC_VERSION": "8.4.4", "CYLC_WORKFLOW_HOST": "127.0.0.1",
		"CYLC_WORKFLOW_ID": "wf", "CYLC_WORKFLOW_PID": fmt.Sprint(pid), "CYLC_WORKFLOW_PORT": fmt.Sprint(port),
		"CYLC_WORKFLOW_PUBLISH_PORT": fmt.Sprint(port + 1)}
	path := filepath.Join(svc, "contact")
	if err := os.WriteFile(path, c.Marshal(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A real Cylc scheduler's contact file goes to package cylcpeer: a dead
// scheduler is one line at once, and a scenario it cannot take is refused
// by name, before anything is sent.
func TestLoadCylcContact(t *testing.T) {
	dead, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = dead.Wait()
	for _, tc := range []struct {
		name, contact, scenario, want string
	}{
		{"dead scheduler", cylcContact(t, dead.Pid, 43001), "smoke", "is not running: the contact file is stale"},
		{"scenario it cannot take", cylcContact(t, os.Getpid(), 43001), "smoke", "not possible: uis"},
		{"commands that change the workflow", cylcContact(t, os.Getpid(), 43001), "cli-interactive", "cli.mix hold, release, trigger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			t0 := time.Now()
			err := run(context.Background(), []string{"load", "-quiet", "-contact", tc.contact, "-scenario", tc.scenario, "-out", t.TempDir()}, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line containing %q", err, tc.want)
			}
			if time.Since(t0) > 2*time.Second {
				t.Errorf("took %v", time.Since(t0))
			}
		})
	}
}
