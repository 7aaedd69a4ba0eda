package schemes_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

const debianPython = "/usr/bin/python3"

// cylcMessage is scripts/cylc_message.py's output.
type cylcMessage struct {
	StartImportMS float64         `json:"start_import_ms"`
	ImportMS      float64         `json:"import_ms"`
	HandshakeMS   float64         `json:"handshake_ms"`
	RoundTripMS   float64         `json:"round_trip_ms"`
	OK            bool            `json:"ok"`
	Error         json.RawMessage `json:"error"`
}

func needPyZMQ(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import zmq, zmq.auth").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import zmq (install python3-zmq): %v: %s", debianPython, err, out)
	}
}

// pyMessage runs the Python `cylc message` stand-in as a fresh process.
func (h *harness) pyMessage(t *testing.T, serverKey, clientKey string, id wfs.JobID, text string, timeout time.Duration) (cylcMessage, error) {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "scripts", "cylc_message.py"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UnixNano()
	cmd := exec.Command(debianPython, script, "--contact", h.run.ContactPath(), "--server-key", serverKey,
		"--client-key", clientKey, "--job", id.String(), "--text", text,
		"--timeout", fmt.Sprint(timeout.Seconds()), "--t0-ns", fmt.Sprint(t0))
	out, runErr := cmd.Output()
	var m cylcMessage
	if err := json.Unmarshal(out, &m); err != nil {
		var stderr []byte
		if ee, ok := runErr.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("cylc_message.py output %q (%v): %v\n%s", out, runErr, err, stderr)
	}
	if runErr != nil || !m.OK {
		return m, fmt.Errorf("cylc_message.py: %v: %s", runErr, m.Error)
	}
	return m, nil
}

func TestCurvePythonCylcMessage(t *testing.T) {
	needPyZMQ(t)
	for _, spec := range []string{"curve", "curve-job"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			id := mustJob(t, "1/py/01")
			h.submit(id, "")
			serverKey, _ := wfs.KeyPaths(h.run.ServiceDir(), schemes.CurveServerKey)
			_, clientKey := wfs.KeyPaths(h.run.ServiceDir(), schemes.CurveClientKey)
			if spec == "curve-job" {
				_, clientKey = wfs.KeyPaths(h.run.JobDir(id), schemes.CurveClientKey)
			}
			m, err := h.pyMessage(t, serverKey, clientKey, id, "started", 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("python cylc message: start+import %.1f ms (import %.1f), handshake %.2f ms, round trip %.2f ms",
				m.StartImportMS, m.ImportMS, m.HandshakeMS, m.RoundTripMS)
			if m.StartImportMS <= 0 || m.HandshakeMS <= 0 || m.RoundTripMS <= 0 || m.StartImportMS < m.ImportMS {
				t.Errorf("timings %+v", m)
			}
			b, err := os.ReadFile(h.run.JobStatusPath(id))
			if err != nil || !strings.Contains(string(b), "|INFO|started") {
				t.Fatalf("job.status %q %v", b, err)
			}
			if spec != "curve-job" {
				return
			}
			// After job end the key is revoked: the handshake is refused.
			keep := filepath.Join(t.TempDir(), "client.key_secret")
			sec, err := os.ReadFile(clientKey)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keep, sec, 0o600); err != nil {
				t.Fatal(err)
			}
			h.end(id, "")
			m, err = h.pyMessage(t, serverKey, keep, id, "late", time.Second)
			if err == nil || !strings.Contains(string(m.Error), "handshake") {
				t.Fatalf("message after job end: %v %s, want a refused handshake", err, m.Error)
			}
			if _, err := h.call(wfs.CmdPing, nil); err != nil {
				t.Fatalf("server after a refused Python client: %v", err)
			}
		})
	}
}
