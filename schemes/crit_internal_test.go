package schemes

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestCheckCrit: RFC 7515 §4.1.11: crit is absent or a non-empty list of
// distinct names the header carries and the verifier understands. Through
// strictJWS (which understands none) every crit is refused, with a message
// saying "critical header"; checkCrit given an understood name takes it.
func TestCheckCrit(t *testing.T) {
	b64 := base64.RawURLEncoding.EncodeToString
	for _, c := range []struct {
		name       string
		header     string
		understood []string
		want       string // "" means accepted
	}{
		{"absent", `{"alg":"HS256"}`, nil, ""},
		{"empty list", `{"alg":"HS256","crit":[]}`, nil, "crit is []"},
		{"null", `{"alg":"HS256","crit":null}`, nil, "not a list of names"},
		{"a string", `{"alg":"HS256","crit":"exp"}`, nil, "not a list of names"},
		{"numbers", `{"alg":"HS256","crit":[1]}`, nil, "not a list of names"},
		{"b64 without a b64 member", `{"alg":"HS256","crit":["b64"]}`, nil, "does not understand"},
		{"an unknown extension", `{"alg":"HS256","crit":["urn:x"],"urn:x":1}`, nil, "does not understand"},
		{"a registered name", `{"alg":"HS256","crit":["alg"]}`, nil, "does not understand"},
		{"understood and carried", `{"alg":"HS256","crit":["urn:x"],"urn:x":1}`, []string{"urn:x"}, ""},
		{"understood, not carried", `{"alg":"HS256","crit":["urn:x"]}`, []string{"urn:x"}, "does not carry"},
		{"understood, twice", `{"alg":"HS256","crit":["urn:x","urn:x"],"urn:x":1}`, []string{"urn:x"}, "twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h map[string]json.RawMessage
			if err := json.Unmarshal([]byte(c.header), &h); err != nil {
				t.Fatal(err)
			}
			err := checkCrit("token", h, c.understood...)
			if c.understood == nil {
				// The verifiers' own path: strictJWS on a token with this header.
				err = strictJWS(b64([]byte(c.header))+"."+b64([]byte(`{}`))+"."+b64([]byte("sig")), "")
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), "critical header") || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want a critical-header refusal saying %q", err, c.want)
			}
		})
	}
}
