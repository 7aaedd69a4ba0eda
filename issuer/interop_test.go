package issuer_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/authbench/authbench/issuer"
)

// sysPython is Debian's interpreter, where python3-jwcrypto is installed
// (the python3 first on PATH may be another).
const sysPython = "/usr/bin/python3"

// jwcryptoVerify reads {"jwks", "token", "iss", "aud"} on stdin, verifies
// the token against the key set by kid with jwcrypto, checks iss, aud and
// the time claims, and prints the header and claims.
const jwcryptoVerify = `
import json, sys
from jwcrypto import jwk, jwt
d = json.load(sys.stdin)
keys = jwk.JWKSet.from_json(json.dumps(d["jwks"]))
t = jwt.JWT(jwt=d["token"], key=keys, algs=["RS256", "ES256"],
            check_claims={"iss": d["iss"], "aud": d["aud"], "exp": None, "nbf": None})
print(json.dumps({"header": json.loads(t.header), "claims": json.loads(t.claims)}))
`

// TestInteropJWCrypto: an issuer token verifies in python3-jwcrypto against
// the issuer's JWKS, for each algorithm and after a key rotation.
func TestInteropJWCrypto(t *testing.T) {
	if err := exec.Command(sysPython, "-c", "import jwcrypto").Run(); err != nil {
		t.Skipf("%s cannot import jwcrypto (%v): install Debian's python3-jwcrypto to run this interop test", sysPython, err)
	}
	for _, c := range []struct {
		name   string
		algs   []string
		rotate bool
	}{
		{"RS256", []string{"RS256"}, false},
		{"ES256", []string{"ES256"}, false},
		{"ES256 with RS256 published", []string{"ES256", "RS256"}, false},
		{"RS256 rotated", []string{"RS256"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			iss := start(t, issuer.Config{Algs: c.algs})
			var toks []string
			toks = append(toks, mustCC(t, iss, "rucio", "storage.read:/cms storage.create:/cms/out compute.read wlcg.groups", "se1").AccessToken)
			if c.rotate {
				if err := iss.RotateKeys(); err != nil {
					t.Fatal(err)
				}
				toks = append(toks, mustCC(t, iss, "rucio", "storage.read:/cms storage.create:/cms/out compute.read wlcg.groups", "se1").AccessToken)
			}
			jwks := fetchJWKS(t, iss)
			for n, tok := range toks {
				in, err := json.Marshal(map[string]any{"jwks": jwks, "token": tok, "iss": iss.URL(), "aud": "se1"})
				if err != nil {
					t.Fatal(err)
				}
				cmd := exec.CommandContext(t.Context(), sysPython, "-c", jwcryptoVerify)
				cmd.Stdin = bytes.NewReader(in)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("token %d: jwcrypto: %v\n%s", n, err, stderr.String())
				}
				var got struct {
					Header map[string]any `json:"header"`
					Claims map[string]any `json:"claims"`
				}
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatalf("token %d: %v: %q", n, err, out)
				}
				want := verify(t, jwks, tok)
				if got.Header["kid"] != want.kid || got.Header["alg"] != c.algs[0] {
					t.Errorf("token %d: header %v, want kid %s alg %s", n, got.Header, want.kid, c.algs[0])
				}
				cl := got.Claims
				if cl["wlcg.ver"] != "1.0" || cl["scope"] != "storage.read:/cms storage.create:/cms/out compute.read wlcg.groups" ||
					cl["aud"] != "se1" || cl["sub"] != "rucio" || cl["jti"] != want.claims["jti"] {
					t.Errorf("token %d: claims %v", n, cl)
				}
			}
		})
	}
}
