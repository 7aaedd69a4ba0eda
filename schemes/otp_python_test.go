package schemes_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// needPyOTP skips the test when Debian's python3 lacks pyotp (the
// python3-pyotp package; scripts/setup.sh installs it).
func needPyOTP(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(sysPython, "-c", "import pyotp").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import pyotp (install python3-pyotp): %v: %s", sysPython, err, out)
	}
}

// pyOTPKey is the Python side of schemes.OTPKey, written from its doc
// comment: the client reads the secret from .service/otp_secret and the
// workflow id from the contact file, as a Cylc client reads .service files.
const pyOTPKey = `
import base64, hashlib, hmac, os, pyotp

def service(name):
    return open(os.path.join(os.environ["RUN"], ".service", name)).read()

def otp_key(kind, identity):
    secret = service("otp_secret").strip().upper()
    secret += "=" * (-len(secret) % 8)
    contact = dict(l.split("=", 1) for l in service("contact").splitlines() if "=" in l)
    msg = "\0".join(["authbench-otp/v1", contact["CYLC_WORKFLOW_ID"], kind, identity]).encode()
    mac = hmac.new(base64.b32decode(secret), msg, hashlib.sha256).digest()[:20]
    return base64.b32encode(mac).decode().rstrip("=")

key = otp_key("cli", "owner")
`

// TestOTPPyotpCodeAccepted: pyotp makes a code from the secret file the WFS
// wrote and the Go WFS accepts it (once).
func TestOTPPyotpCodeAccepted(t *testing.T) {
	needPyOTP(t)
	for _, c := range []struct{ spec, gen string }{
		{"totp", "pyotp.TOTP(key, digits=6, interval=30).now()"},
		{"totp:workflow=60s/1/8", "pyotp.TOTP(key, digits=8, interval=60).now()"},
		{"hotp", "pyotp.HOTP(key, digits=6).at(1)"},
		{"hotp:workflow=5/8", "pyotp.HOTP(key, digits=8).at(4)"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			h := start(t, c.spec)
			out := tkPython(t, pyOTPKey+"print(key, "+c.gen+")", map[string]string{"RUN": h.run.Root})
			f := strings.Fields(out)
			if len(f) != 2 {
				t.Fatalf("python printed %q", out)
			}
			if want := h.otpKey(schemes.KindCLI, "owner"); f[0] != want {
				t.Fatalf("pyotp's key %s, Go's OTPKey %s", f[0], want)
			}
			if _, err := h.tkSend(otpFrames(t, "cli", "owner", f[1])...); err != nil {
				t.Fatalf("pyotp's code %s: %v", f[1], err)
			}
			_, err := h.tkSend(otpFrames(t, "cli", "owner", f[1])...)
			wantRejected(t, "pyotp's code again", err)
		})
	}
}

// TestOTPPyotpVerifiesGoCode: pyotp verifies the code the Go client computed,
// at the step (or counter) it was made for and not at another.
func TestOTPPyotpVerifiesGoCode(t *testing.T) {
	needPyOTP(t)
	for _, c := range []struct{ spec, good, bad string }{
		{"totp", "pyotp.TOTP(key).verify(code, for_time=int(os.environ['AT']))", "pyotp.TOTP(key).verify(code, for_time=int(os.environ['AT'])+60)"},
		{"totp:workflow=10s/0/8", "pyotp.TOTP(key, digits=8, interval=10).verify(code, for_time=int(os.environ['AT']))", "pyotp.TOTP(key, digits=8, interval=10).verify(code, for_time=int(os.environ['AT'])-10)"},
		{"hotp", "pyotp.HOTP(key).verify(code, 1)", "pyotp.HOTP(key).verify(code, 2)"},
		{"hotp:workflow=3/7", "pyotp.HOTP(key, digits=7).verify(code, 1)", "pyotp.HOTP(key, digits=7).verify(code, 0)"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			clock := tkNewClock()
			h := tkStart(t, c.spec, clock)
			cli := tkCLI()
			cli.clock = clock
			frames := h.tkPrepare(cli, wfs.CmdPing, nil)
			cred := strings.Fields(string(frames[len(frames)-1]))
			if len(cred) != 3 || cred[0] != "cli" || cred[1] != "owner" {
				t.Fatalf("credential frame %q", frames[len(frames)-1])
			}
			out := tkPython(t, pyOTPKey+"code = os.environ['CODE']\nprint("+c.good+", "+c.bad+")",
				map[string]string{"RUN": h.run.Root, "CODE": cred[2], "AT": fmt.Sprint(clock.Now().Unix())})
			if out != "True False" {
				t.Fatalf("pyotp verify of the Go client's code %s: %q, want True at its step or counter, False at another", cred[2], out)
			}
			// And the Go WFS takes it too.
			if _, err := h.tkSend(frames...); err != nil {
				t.Fatalf("Go WFS: %v", err)
			}
		})
	}
}
