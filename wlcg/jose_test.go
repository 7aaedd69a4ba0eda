package wlcg

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// TestGoJoseInterop signs tokens with go-jose v4 (ES256, one of the two
// algorithms §4.3.3 makes mandatory), verifies them the way a relying party
// does, decodes the claims straight into Claims and validates them.
func TestGoJoseInterop(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Expect{Issuer: testIssuer, Audience: testRP}
	for _, tt := range []struct {
		name string
		aud  any
		ver  any
		err  error
	}{
		{"aud string", testRP, "1.0", nil},
		{"aud array", []string{"https://x.example.org", testRP}, "1.2", nil},
		{"aud any", AnyAudience, "1.0", nil},
		{"aud wrong", "https://x.example.org", "1.0", ErrAudience},
		{"ver 2.0", testRP, "2.0", ErrVersion},
		{"ver number", testRP, 1.0, ErrVersion},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := jwt.Signed(sig).Claims(map[string]any{
				"iss": testIssuer, "sub": "s1", "aud": tt.aud, "jti": "j1",
				"iat": t0.Unix() - 10, "nbf": t0.Unix() - 10, "exp": t0.Unix() + 600,
				"wlcg.ver": tt.ver, "scope": "storage.read:/cms openid",
				"wlcg.groups": []string{"/cms"}, "extra": map[string]int{"x": 1},
			}).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			var c Claims
			err = tok.Claims(&key.PublicKey, &c)
			if err == nil {
				err = Validate(c, want, t0)
			}
			if tt.err == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("got %v, want %v", err, tt.err)
			}
			if err == nil && !Allows(mustScopes(t, c.Scope), OpRead, "/cms/f") {
				t.Fatal("decoded scope does not allow read of /cms/f")
			}
		})
	}
}
