package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/authbench/authbench/wfs"
)

// TestAttachStale: a contact file on this host whose WFS has exited is
// refused at once, naming the pid (load timed out after 10 s on "control
// stats: timeout"); one naming a live pid, or another host, is not.
func TestAttachStale(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	for _, tc := range []struct {
		name, host string
		pid        int
		want       string // "" for no stale-contact refusal
	}{
		{"exited", host, dead.Process.Pid, "is not running: the contact file is stale"},
		{"exited on localhost", "localhost", dead.Process.Pid, "is not running"},
		{"alive", host, os.Getpid(), ""},
		{"another host", "node-elsewhere", dead.Process.Pid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "contact")
			c := wfs.Contact{wfs.ContactHost: tc.host, wfs.ContactPort: "43017", wfs.ContactPID: strconv.Itoa(tc.pid)}
			if err := os.WriteFile(path, c.Marshal(), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := Attach(path)
			if p != nil {
				_ = p.Stop()
			}
			stale := err != nil && strings.Contains(err.Error(), "is not running")
			if tc.want != "" && (!stale || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), strconv.Itoa(tc.pid))) {
				t.Fatalf("Attach = %v, want %q naming pid %d", err, tc.want, tc.pid)
			}
			if tc.want == "" && stale {
				t.Fatalf("Attach = %v, want no stale-contact refusal", err)
			}
		})
	}
}
