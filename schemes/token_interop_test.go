package schemes_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// sysPython is Debian's own interpreter: Debian's python3-jose and
// python3-jwcrypto load only in it, and the python3 first on PATH may be
// another.
const sysPython = "/usr/bin/python3"

// tkNeedPython skips the test when /usr/bin/python3 lacks a module.
func tkNeedPython(t *testing.T, modules ...string) {
	t.Helper()
	for _, m := range modules {
		if err := exec.Command(sysPython, "-c", "import "+m).Run(); err != nil {
			t.Skipf("%s cannot import %s (%v): install python3-jose and python3-jwcrypto", sysPython, m, err)
		}
	}
}

// tkPython runs script with env set and returns its stdout.
func tkPython(t *testing.T, script string, env map[string]string) string {
	t.Helper()
	cmd := exec.Command(sysPython, "-c", script)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestInteropAuthbenchTokenInPython: tokens authbench mints verify with
// python-jose (HS256, ES256) and jwcrypto (EdDSA, which python-jose lacks),
// with audience and issuer checked.
func TestInteropAuthbenchTokenInPython(t *testing.T) {
	tkNeedPython(t, "jose", "jwcrypto")
	const joseVerify = `
import json, os
from jose import jwt
alg = os.environ["ALG"]
key = open(os.environ["KEY"], "rb").read()
if alg != "HS256":
    key = key.decode()
c = jwt.decode(os.environ["TOK"], key, algorithms=[alg], audience="wf", issuer=os.environ["ISS"])
print(json.dumps(c))
`
	const jwcryptoVerify = `
import json, os
from jwcrypto import jwk, jwt
k = jwk.JWK.from_pem(open(os.environ["KEY"], "rb").read())
t = jwt.JWT(jwt=os.environ["TOK"], key=k, algs=[os.environ["ALG"]], check_claims={"aud": "wf", "iss": os.environ["ISS"]})
print(t.claims)
`
	for _, c := range []struct{ alg, keyFile, script string }{
		{"HS256", schemes.JWTKeyFile, joseVerify},
		{"ES256", schemes.JWTPublicKeyFile, joseVerify},
		{"ES256", schemes.JWTPublicKeyFile, jwcryptoVerify},
		{"EdDSA", schemes.JWTPublicKeyFile, jwcryptoVerify},
	} {
		t.Run(c.alg, func(t *testing.T) {
			h := tkStart(t, "jwt/"+c.alg, nil)
			tok := strings.TrimSpace(string(h.tkService(schemes.TokenFile)))
			out := tkPython(t, c.script, map[string]string{
				"ALG": c.alg, "KEY": h.run.Service(c.keyFile), "TOK": tok, "ISS": schemes.TokenIssuer("wf"),
			})
			var claims map[string]any
			if err := json.Unmarshal([]byte(out), &claims); err != nil {
				t.Fatalf("python output %q: %v", out, err)
			}
			if claims["typ"] != schemes.TypSession || claims["sub"] != "owner" || claims["aud"] != "wf" {
				t.Fatalf("claims as python read them: %v", claims)
			}
		})
	}
}

// TestInteropPythonTokenInAuthbench: tokens python-jose and jwcrypto sign
// with the WFS's key are accepted by the WFS, and one for another audience
// is not.
func TestInteropPythonTokenInAuthbench(t *testing.T) {
	tkNeedPython(t, "jose", "jwcrypto")
	const joseSign = `
import os, time
from jose import jwt
alg = os.environ["ALG"]
key = open(os.environ["KEY"], "rb").read()
if alg != "HS256":
    key = key.decode()
now = int(time.time())
print(jwt.encode({"iss": os.environ["ISS"], "aud": os.environ["AUD"], "sub": "py", "iat": now, "nbf": now,
    "exp": now + 300, "jti": "py-" + str(time.time_ns()), "typ": "session", "scope": "workflow.read workflow.control"},
    key, algorithm=alg))
`
	const jwcryptoSign = `
import json, os, time
from jwcrypto import jwk, jwt
k = jwk.JWK.from_pem(open(os.environ["KEY"], "rb").read())
now = int(time.time())
t = jwt.JWT(header={"alg": os.environ["ALG"], "typ": "JWT"}, claims={"iss": os.environ["ISS"], "aud": os.environ["AUD"],
    "sub": "py", "iat": now, "nbf": now, "exp": now + 300, "jti": "py-" + str(time.time_ns()), "typ": "session",
    "scope": "workflow.read workflow.control"})
t.make_signed_token(k)
print(t.serialize())
`
	for _, c := range []struct{ alg, lib, script string }{
		{"HS256", "python-jose", joseSign},
		{"ES256", "python-jose", joseSign},
		{"ES256", "jwcrypto", jwcryptoSign},
		{"EdDSA", "jwcrypto", jwcryptoSign},
	} {
		t.Run(c.alg+"/"+c.lib, func(t *testing.T) {
			h := tkStart(t, "jwt/"+c.alg, nil)
			for _, aud := range []string{"wf", "other"} {
				tok := tkPython(t, c.script, map[string]string{
					"ALG": c.alg, "KEY": h.run.Service(schemes.JWTKeyFile), "ISS": schemes.TokenIssuer("wf"), "AUD": aud,
				})
				body, _ := wfs.EncodeRequest(wfs.CmdHold, nil, wfs.Meta{Prog: "python"})
				_, err := h.tkSend(body, []byte(tok))
				if aud == "wf" {
					tkOK(t, c.lib+" token", err)
				} else {
					tkRejected(t, c.lib+" token for another audience", err)
				}
			}
		})
	}
}

// TestInteropJWEEnvelope: python-jose decrypts an authbench dir envelope, and
// envelopes python-jose (dir) and jwcrypto (ECDH-ES to the WFS's public key)
// make are accepted by the WFS.
func TestInteropJWEEnvelope(t *testing.T) {
	tkNeedPython(t, "jose", "jwcrypto")
	t.Run("authbench to python-jose", func(t *testing.T) {
		h := tkStart(t, "jwe", nil)
		frames := h.tkPrepare(tkCLI(), wfs.CmdHold, nil)
		out := tkPython(t, `
import os
from jose import jwe
print(jwe.decrypt(os.environ["ENV"], open(os.environ["KEY"], "rb").read()).decode())
`, map[string]string{"ENV": string(frames[1]), "KEY": h.run.Service(schemes.JWEKeyFile)})
		var p schemes.JWEPayload
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("python output %q: %v", out, err)
		}
		req, err := wfs.DecodeRequest(p.Req)
		if err != nil || req.Command != wfs.CmdHold || strings.Count(p.Tok, ".") != 2 {
			t.Fatalf("payload as python read it: %+v (%v)", p, err)
		}
	})
	const payload = `
import json, os
body = json.loads(os.environ["BODY"])
payload = json.dumps({"tok": os.environ["TOK"], "req": body}).encode()
`
	for _, c := range []struct{ spec, lib, script string }{
		{"jwe", "python-jose", payload + `
from jose import jwe
print(jwe.encrypt(payload, open(os.environ["KEY"], "rb").read(), algorithm="dir", encryption="A256GCM").decode())
`},
		{"jwe", "jwcrypto", payload + `
from jwcrypto import jwe, jwk
k = jwk.JWK(kty="oct", k=jwk.base64url_encode(open(os.environ["KEY"], "rb").read()))
e = jwe.JWE(payload, json.dumps({"alg": "dir", "enc": "A256GCM"}))
e.add_recipient(k)
print(e.serialize(compact=True))
`},
		{"jwe/ECDH-ES", "jwcrypto", payload + `
from jwcrypto import jwe, jwk
k = jwk.JWK.from_pem(open(os.environ["KEY"], "rb").read())
e = jwe.JWE(payload, json.dumps({"alg": "ECDH-ES", "enc": "A256GCM"}))
e.add_recipient(k)
print(e.serialize(compact=True))
`},
	} {
		t.Run(c.lib+" to "+c.spec, func(t *testing.T) {
			h := tkStart(t, c.spec, nil)
			key := schemes.JWEKeyFile
			if c.spec == "jwe/ECDH-ES" {
				key = schemes.JWEPublicKeyFile
			}
			body, _ := wfs.EncodeRequest(wfs.CmdHold, nil, wfs.Meta{Prog: "python"})
			env := tkPython(t, c.script, map[string]string{
				"KEY": h.run.Service(key), "BODY": string(body),
				"TOK": strings.TrimSpace(string(h.tkService(schemes.TokenFile))),
			})
			data, err := h.tkSend([]byte{}, []byte(env))
			if iv := gcmIVLen(t, env); iv != 12 {
				// python-jose before 3.4 draws a 16-byte IV for AES-GCM where
				// RFC 7518 section 5.3 requires 96 bits (mpdavis/python-jose
				// issue 281); go-jose rightly refuses such envelopes.
				tkRejected(t, c.lib+" envelope with a non-standard IV", err)
				t.Logf("%s uses a %d-byte AES-GCM IV (RFC 7518 wants 12): refused, as it should be", c.lib, iv)
				return
			}
			tkOK(t, c.lib+" envelope", err)
			if !strings.Contains(string(data), `"hold"`) {
				t.Fatalf("reply %s", data)
			}
		})
	}
}

// gcmIVLen returns the IV length of a compact JWE.
func gcmIVLen(t *testing.T, env string) int {
	t.Helper()
	parts := strings.Split(env, ".")
	if len(parts) != 5 {
		t.Fatalf("not a compact JWE: %q", env)
	}
	iv, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	return len(iv)
}
