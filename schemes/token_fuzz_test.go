package schemes

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authbench/authbench/wfs"
)

// fuzzKit is a fixed HS256 kit and the claims of the tokens it signed for
// the fuzz seeds.
func fuzzKit(tb testing.TB) (*signingKit, tokenRules, time.Time, map[string]*TokenClaims, []string) {
	tb.Helper()
	key := []byte("0123456789abcdef0123456789abcdef")
	kit, err := makeSigningKit(jose.HS256, key, key)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rules := tokenRules{issuer: TokenIssuer("wf"), audience: "wf", leeway: DefaultLeeway}
	minted := map[string]*TokenClaims{}
	var toks []string
	for i, typ := range []string{TypCommand, TypSession, TypJob} {
		c := &TokenClaims{
			Claims: jwt.Claims{
				Issuer: rules.issuer, Subject: "owner", Audience: jwt.Audience{"wf"},
				IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
				Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: "jti-" + typ,
			},
			Typ: typ, Scope: []string{ScopeRead + " " + ScopeControl, ScopeRead, ScopeJobMessage + ":1/a/01"}[i],
		}
		tok, err := kit.sign(c)
		if err != nil {
			tb.Fatal(err)
		}
		minted[c.ID] = c
		toks = append(toks, tok)
	}
	return kit, rules, now, minted, toks
}

// FuzzTokenVerify checks the WFS's token verification: no panic, every
// refusal a wfs rejection, and nothing accepted but the claims the key
// signed (a token string may differ from one that was signed, base64 being
// lenient, but never what it says).
func FuzzTokenVerify(f *testing.F) {
	kit, rules, now, minted, toks := fuzzKit(f)
	for _, tok := range toks {
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(`{"alg":"none"}.` + parts[1] + "." + parts[2])
		f.Add(tok + "=")
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("")
	f.Add("...")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := kit.verify(tok, rules, now)
		if err != nil {
			if !errors.Is(err, wfs.ErrRejected) {
				t.Fatalf("verify(%q): %v is not a rejection", tok, err)
			}
			return
		}
		want, ok := minted[c.ID]
		if !ok || !reflect.DeepEqual(c, want) {
			got, _ := json.Marshal(c)
			t.Fatalf("verify(%q) accepted claims the key never signed: %s", tok, got)
		}
	})
}

// FuzzEnvelopeOpen checks the jwe envelope: no panic, every refusal a wfs
// rejection, and nothing opened but what was sealed.
func FuzzEnvelopeOpen(f *testing.F) {
	key := []byte("fedcba9876543210fedcba9876543210")
	client, err := newEncryptingEnvelope(jose.DIRECT, key)
	if err != nil {
		f.Fatal(err)
	}
	server := &envelope{alg: jose.DIRECT, decrypt: key}
	sealed := map[string]JWEPayload{}
	for _, p := range []JWEPayload{
		{Tok: "a.b.c", Req: json.RawMessage(`{"command":"ping"}`)},
		{Tok: "x", Req: json.RawMessage(`{"command":"stop","args":{"n":[1,2]}}`)},
	} {
		s, err := client.seal(&p)
		if err != nil {
			f.Fatal(err)
		}
		sealed[p.Tok] = p
		f.Add(s)
		parts := strings.Split(s, ".")
		f.Add(strings.Join(append([]string{`eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwiemlwIjoiREVGIn0`}, parts[1:]...), "."))
		f.Add(strings.Join(parts[:4], "."))
	}
	f.Add("")
	f.Add("....")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := server.open(s)
		if err != nil {
			if !errors.Is(err, wfs.ErrRejected) {
				t.Fatalf("open(%q): %v is not a rejection", s, err)
			}
			return
		}
		want, ok := sealed[p.Tok]
		if !ok || string(want.Req) != string(p.Req) {
			t.Fatalf("open(%q) gave a payload that was never sealed: %+v", s, p)
		}
	})
}
