package wfs_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/wfs"
)

// debianPython is the interpreter Debian's python3-zmq loads in; the
// python3 first on PATH may be another one.
const debianPython = "/usr/bin/python3"

// needPyZMQ skips the test when Debian's python3-zmq is not importable.
func needPyZMQ(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import zmq, zmq.auth").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import zmq (install python3-zmq): %v: %s", debianPython, err, out)
	}
}

func runPython(t *testing.T, script string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(debianPython, append([]string{"-c", script}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("python: %v\n%s", err, stderr)
	}
	return out
}

// TestKeyFilesLoadInPyZMQ: files authbench writes load with
// zmq.auth.load_certificate, and their keys are a working pair for libzmq.
func TestKeyFilesLoadInPyZMQ(t *testing.T) {
	needPyZMQ(t)
	dir := filepath.Join(t.TempDir(), "keys")
	kp, err := wfs.WriteKeyPair(wfs.NewFiles(false), dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	pub, sec := wfs.KeyPaths(dir, "server")
	out := runPython(t, `
import json, sys, zmq, zmq.auth
p_pub, p_none = zmq.auth.load_certificate(sys.argv[1])
s_pub, s_sec = zmq.auth.load_certificate(sys.argv[2])
print(json.dumps({"pub": p_pub.decode(), "none": p_none, "s_pub": s_pub.decode(),
                  "s_sec": s_sec.decode(), "derived": zmq.curve_public(s_sec).decode()}))
`, pub, sec)
	var got struct {
		Pub     string  `json:"pub"`
		None    *string `json:"none"`
		SPub    string  `json:"s_pub"`
		SSec    string  `json:"s_sec"`
		Derived string  `json:"derived"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := kp.Public.Z85()
	if got.Pub != want || got.SPub != want || got.SSec != kp.Secret.Z85() || got.None != nil {
		t.Fatalf("pyzmq loaded %+v, want public %s secret %s", got, want, kp.Secret.Z85())
	}
	if got.Derived != want {
		t.Fatalf("libzmq derives public %s from the secret, want %s", got.Derived, want)
	}
}

// TestKeyFilesFromPyZMQ: files zmq.auth.create_certificates writes load in
// authbench.
func TestKeyFilesFromPyZMQ(t *testing.T) {
	needPyZMQ(t)
	dir := t.TempDir()
	out := runPython(t, `
import json, os, sys, zmq.auth
os.umask(0o077)  # as Cylc does before making keys
pub, sec = zmq.auth.create_certificates(sys.argv[1], "client", metadata={"target": "hpc1"})
p, s = zmq.auth.load_certificate(sec)
print(json.dumps({"pub": pub, "sec": sec, "p": p.decode(), "s": s.decode()}))
`, dir)
	var py struct{ Pub, Sec, P, S string }
	if err := json.Unmarshal(out, &py); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	files := wfs.NewFiles(false)
	pc, err := wfs.ReadCertificate(files, py.Pub)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := wfs.ReadCertificate(files, py.Sec)
	if err != nil {
		b, _ := os.ReadFile(py.Sec)
		t.Fatalf("%v\n%s", err, b)
	}
	if pc.Public.Z85() != py.P || sc.Public.Z85() != py.P || sc.Secret == nil || sc.Secret.Z85() != py.S {
		t.Fatalf("authbench read %s / %+v, pyzmq %s %s", pc.Public.Z85(), sc, py.P, py.S)
	}
	if sc.Metadata["target"] != "hpc1" {
		t.Fatalf("metadata %v", sc.Metadata)
	}
}
