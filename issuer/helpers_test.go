package issuer_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/issuer"
)

const secret = "s3cret"

// Clients of the Rucio -> FTS -> storage flows of the WLCG seeds: a user
// (john), Rucio and FTS, and a client with a single narrow scope.
func testClients() []issuer.Client {
	return []issuer.Client{
		{
			ID: "john", Secret: secret,
			Scopes: []string{"openid", "offline_access", "rucio:submit-transfer", "fts:submit-transfer",
				"storage.read:/cms", "storage.create:/cms", "compute.read", "wlcg.groups"},
			Groups: []string{"/cms", "/cms/prod", "/cms/users"},
		},
		{
			ID: "rucio", Secret: secret,
			Scopes: []string{"openid", "offline_access", "fts:submit-transfer", "storage.read:/cms",
				"storage.create:/cms/out", "compute.read", "wlcg.groups"},
			Groups: []string{"/cms", "/cms/prod"},
		},
		{
			ID: "fts", Secret: secret,
			Scopes: []string{"openid", "offline_access", "fts:submit-transfer", "storage.read:/cms",
				"storage.create:/cms", "storage.modify:/cms", "wlcg.groups"},
			Audiences: []string{"se1", "se2", "fts", issuer.AnyAudience},
		},
		{ID: "narrow", Secret: secret, Scopes: []string{"storage.read:/cms/data"}},
	}
}

// start starts an issuer with the test clients and the given
// configuration tweaks, closed at the end of the test.
func start(t *testing.T, cfg issuer.Config) *issuer.Issuer {
	t.Helper()
	if cfg.Clients == nil {
		cfg.Clients = testClients()
	}
	iss, err := issuer.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := iss.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return iss
}

// httpClient has a timeout, as every client of the tests.
func httpClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// ccToken runs the client-credentials grant with x/oauth2.
func ccToken(t *testing.T, iss *issuer.Issuer, id, sec, scope string, audience ...string) (*oauth2.Token, error) {
	t.Helper()
	cfg := clientcredentials.Config{
		ClientID: id, ClientSecret: sec, TokenURL: iss.TokenURL(),
		Scopes:    strings.Fields(scope),
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	if len(audience) > 0 {
		cfg.EndpointParams = url.Values{"audience": audience}
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, httpClient())
	return cfg.Token(ctx)
}

// mustCC is ccToken that must succeed.
func mustCC(t *testing.T, iss *issuer.Issuer, id, scope string, audience ...string) *oauth2.Token {
	t.Helper()
	tok, err := ccToken(t, iss, id, secret, scope, audience...)
	if err != nil {
		t.Fatalf("client credentials %s %q: %v", id, scope, err)
	}
	return tok
}

// retrieveError unwraps an x/oauth2 error response.
func retrieveError(t *testing.T, err error) (status int, code string) {
	t.Helper()
	re, ok := errors.AsType[*oauth2.RetrieveError](err)
	if !ok {
		t.Fatalf("want an *oauth2.RetrieveError, got %T %v", err, err)
	}
	return re.Response.StatusCode, re.ErrorCode
}

// post sends a form to the token endpoint with HTTP Basic client
// authentication and returns the status and the decoded JSON body.
func post(t *testing.T, iss *issuer.Issuer, id string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := httpClient().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", iss.TokenURL(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("token endpoint answered %d with non-JSON %q", resp.StatusCode, body)
	}
	return resp.StatusCode, m
}

// exchangeForm is an RFC 8693 request for subject with scope and
// audience (empty ones are left out).
func exchangeForm(subject, scope string, audience ...string) url.Values {
	f := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {subject},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
	}
	if scope != "" {
		f.Set("scope", scope)
	}
	if len(audience) > 0 {
		f["audience"] = audience
	}
	return f
}

// refreshForm is a refresh request.
func refreshForm(rt, scope string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if scope != "" {
		f.Set("scope", scope)
	}
	return f
}

// getJSON fetches a JSON document.
func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := httpClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// fetchJWKS fetches the issuer's key set.
func fetchJWKS(t *testing.T, iss *issuer.Issuer) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	getJSON(t, iss.JWKSURL(), &set)
	return set
}

// verified is a token checked against a JWKS with go-jose.
type verified struct {
	kid, alg, typ string
	claims        map[string]any
}

// verify checks token's signature against set, by kid, with go-jose v4,
// and decodes its claims.
func verify(t *testing.T, set jose.JSONWebKeySet, token string) verified {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse token: %v", err)
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS, want 1", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("verify with kid %q: %v", h.KeyID, err)
	}
	v := verified{kid: h.KeyID, alg: h.Algorithm, claims: map[string]any{}}
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok {
		v.typ = typ
	}
	if err := json.Unmarshal(payload, &v.claims); err != nil {
		t.Fatal(err)
	}
	return v
}

// num is a numeric claim.
func num(t *testing.T, c map[string]any, name string) int64 {
	t.Helper()
	f, ok := c[name].(float64)
	if !ok {
		t.Fatalf("claim %s = %#v, want a number", name, c[name])
	}
	return int64(f)
}

// strs is a string-array claim (nil when absent).
func strs(t *testing.T, c map[string]any, name string) []string {
	t.Helper()
	v, ok := c[name]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		t.Fatalf("claim %s = %#v, want an array", name, v)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		out[i], _ = x.(string)
	}
	return out
}

// kidsOf lists a key set's kids.
func kidsOf(set jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}
