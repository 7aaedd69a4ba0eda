package rp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/wlcg"
	"github.com/authbench/authbench/wlcg/rp"
)

const (
	aud    = "https://rp.test"
	client = "rp-test"
	secret = "rp-test-secret"
)

// clock is a settable clock for the relying party.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type rig struct {
	iss   *issuer.Issuer
	v     *rp.Verifier
	clock *clock
	hc    *http.Client
}

func start(t *testing.T, alg string) *rig {
	t.Helper()
	ctx := context.Background()
	iss, err := issuer.Start(ctx, issuer.Config{Algs: []string{alg}, Clients: []issuer.Client{{
		ID: client, Secret: secret, Scopes: []string{wlcg.StorageRead + ":/cms", wlcg.ComputeRead},
	}}})
	if err != nil {
		t.Fatalf("issuer: %v", err)
	}
	t.Cleanup(func() { _ = iss.Close() })
	r := &rig{iss: iss, clock: &clock{t: time.Now()}, hc: &http.Client{Timeout: 5 * time.Second}}
	r.v, err = rp.New(ctx, rp.Config{Issuer: iss.URL(), Audience: aud, HTTP: r.hc, Now: r.clock.now, Leeway: time.Second})
	if err != nil {
		t.Fatalf("rp.New: %v", err)
	}
	return r
}

// token is a genuine token of the issuer for audience a.
func (r *rig) token(t *testing.T, a string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: client, ClientSecret: secret, TokenURL: r.iss.TokenURL(),
		Scopes: []string{wlcg.StorageRead + ":/cms"}, EndpointParams: url.Values{"audience": {a}}}
	tok, err := cc.Token(context.WithValue(context.Background(), oauth2.HTTPClient, r.hc))
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	return tok.AccessToken
}

// resign re-signs tok's claims, changed by edit, under header alg/kid with
// key k.
func resign(t *testing.T, tok string, alg jose.SignatureAlgorithm, kid string, k any, edit func(map[string]any)) string {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &c); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(c)
	}
	b, _ := json.Marshal(c)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := out.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestVerifyLabels puts genuine, altered and forged tokens to the verifier
// and checks each refusal's label.
func TestVerifyLabels(t *testing.T) {
	r := start(t, issuer.ES256)
	good := r.token(t, aud)
	other := r.token(t, "https://elsewhere.test")
	trusted, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.v.Trust("trusted", &trusted.PublicKey); err != nil {
		t.Fatal(err)
	}
	rogue, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	head := strings.SplitN(good, ".", 2)[0]
	none := strings.Replace(good, head, "eyJhbGciOiJub25lIiwia2lkIjoieCJ9", 1)
	kid := r.iss.KeyID()
	cases := []struct {
		name, tok, label string
	}{
		{"genuine", good, ""},
		{"empty", "", rp.RefusedNoToken},
		{"not a JWS", "abc", rp.RefusedMalformed},
		{"JSON serialization", `{"payload":"x"}`, rp.RefusedMalformed},
		{"alg none", none, rp.RefusedAlgorithm},
		{"HS256", resign(t, good, jose.HS256, kid, []byte("0123456789abcdef0123456789abcdef"), nil), rp.RefusedAlgorithm},
		{"no kid", resign(t, good, jose.ES256, "", trusted, nil), rp.RefusedUnknownKey},
		{"wrong signature", resign(t, good, jose.ES256, kid, rogue, nil), rp.RefusedSignature},
		{"other audience", other, "audience"},
		{"trusted key", resign(t, good, jose.ES256, "trusted", trusted, nil), ""},
		{"other issuer", resign(t, good, jose.ES256, "trusted", trusted, func(c map[string]any) { c["iss"] = "https://evil.test" }), "issuer"},
		{"expired", resign(t, good, jose.ES256, "trusted", trusted, func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"nbf ahead", resign(t, good, jose.ES256, "trusted", trusted, func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), "not_yet_valid"},
		{"major version", resign(t, good, jose.ES256, "trusted", trusted, func(c map[string]any) { c["wlcg.ver"] = "2.0" }), "version"},
		{"scope no path", resign(t, good, jose.ES256, "trusted", trusted, func(c map[string]any) { c["scope"] = "storage.read" }), "scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := r.v.Verify(context.Background(), tc.tok)
			if got := rp.Label(err); got != tc.label {
				t.Fatalf("label %q, want %q (err %v)", got, tc.label, err)
			}
			if tc.label == "" && (c == nil || c.Subject == "") {
				t.Fatalf("accepted without claims: %+v", c)
			}
			if err != nil && (!strings.HasPrefix(err.Error(), "token: ") || strings.Contains(err.Error(), "\n")) {
				t.Fatalf("error %q is not one line starting with token:", err)
			}
		})
	}
}

// TestUnknownKidRefetch: a rotated key is fetched once; made-up kids then
// trigger no refetch within the interval, one after it; SetMinRefetch(0)
// refetches for every one.
func TestUnknownKidRefetch(t *testing.T) {
	r := start(t, issuer.RS256)
	ctx := context.Background()
	if _, err := r.v.Verify(ctx, r.token(t, aud)); err != nil {
		t.Fatal(err)
	}
	if err := r.iss.RotateKeys(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.v.Verify(ctx, r.token(t, aud)); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	want := func(fetches, refetches, limited int64) {
		t.Helper()
		s := r.v.Stats()
		if s.Fetches != fetches || s.Refetches != refetches || s.Limited != limited {
			t.Fatalf("stats %+v, want fetches %d refetches %d limited %d", s, fetches, refetches, limited)
		}
	}
	want(2, 1, 0)
	good := r.token(t, aud)
	forged := func(kid string) string {
		h := `{"alg":"RS256","kid":"` + kid + `"}`
		parts := strings.Split(good, ".")
		return base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2]
	}
	for i := range 20 {
		_, err := r.v.Verify(ctx, forged("made-up-"+string(rune('a'+i))))
		if rp.Label(err) != rp.RefusedUnknownKey {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	want(2, 1, 20)
	r.clock.add(rp.DefaultMinRefetch)
	_, _ = r.v.Verify(ctx, forged("later"))
	want(3, 2, 20)
	if err := r.v.SetMinRefetch(0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, _ = r.v.Verify(ctx, forged("again"))
	}
	want(6, 5, 20)
	if err := r.v.SetMinRefetch(-time.Second); err == nil {
		t.Fatal("negative refetch interval accepted")
	}
}

// TestTTLRefresh: the JWKS is fetched again once the TTL is over, and a
// failed refresh keeps the old keys.
func TestTTLRefresh(t *testing.T) {
	r := start(t, issuer.ES256)
	ctx := context.Background()
	tok := r.token(t, aud)
	if _, err := r.v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	r.clock.add(rp.DefaultTTL - time.Second)
	if _, err := r.v.Verify(ctx, tok); rp.Label(err) != "expired" { // the token's hour is long over
		t.Fatalf("want expired, got %v", err)
	}
	if s := r.v.Stats(); s.Fetches != 1 || s.Hits != 2 {
		t.Fatalf("before the TTL: %+v", s)
	}
	r.clock.add(time.Second)
	_, _ = r.v.Verify(ctx, tok)
	if s := r.v.Stats(); s.Fetches != 2 || s.Refetches != 0 {
		t.Fatalf("at the TTL: %+v", s)
	}
	// The issuer gone: a refresh fails, the old keys still verify (the
	// token is refused for its age, not its key).
	if err := r.iss.Close(); err != nil {
		t.Fatal(err)
	}
	r.clock.add(rp.DefaultTTL)
	_, err := r.v.Verify(ctx, tok)
	if rp.Label(err) != "expired" {
		t.Fatalf("with the issuer gone: %v", err)
	}
	if s := r.v.Stats(); s.Fetches != 3 || s.Errors != 1 {
		t.Fatalf("failed refresh: %+v", s)
	}
}

// TestNewErrors: a relying party that cannot reach or trust its issuer does
// not start.
func TestNewErrors(t *testing.T) {
	r := start(t, issuer.ES256)
	cases := []struct {
		name string
		cfg  rp.Config
		want string
	}{
		{"no client", rp.Config{Issuer: r.iss.URL(), Audience: aud}, "no HTTP client"},
		{"no audience", rp.Config{Issuer: r.iss.URL(), HTTP: r.hc}, "audience"},
		{"wrong issuer", rp.Config{Issuer: r.iss.URL() + "/x", Audience: aud, HTTP: r.hc}, "discovery"},
		{"nothing there", rp.Config{Issuer: "http://127.0.0.1:1", Audience: aud, HTTP: r.hc}, "discovery"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rp.New(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
	if err := r.v.Trust("x", &struct{}{}); err == nil {
		t.Fatal("trusted a non-key")
	}
	var ref *rp.Refusal
	_, err := r.v.Verify(context.Background(), "a.b.c")
	if !errors.As(err, &ref) {
		t.Fatalf("refusal is a %T", err)
	}
}
