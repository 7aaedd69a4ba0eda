package issuer_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/authbench/authbench/issuer"
)

// TestDiscoveryAndJWKS: discovery names the issuer and its endpoints, the
// JWKS has one public key per configured algorithm with its own kid and
// alg, and a token verifies against it with go-jose, signed by the first
// algorithm (so RS256 and ES256 both work).
func TestDiscoveryAndJWKS(t *testing.T) {
	for _, algs := range [][]string{nil, {"RS256"}, {"ES256"}, {"RS256", "ES256"}, {"ES256", "RS256"}} {
		name := strings.Join(algs, "+")
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			iss := start(t, issuer.Config{Algs: algs})
			want := algs
			if want == nil {
				want = []string{"RS256"}
			}
			for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
				var d oidc.DiscoveryConfiguration
				getJSON(t, iss.URL()+path, &d)
				if d.Issuer != iss.URL() || d.TokenEndpoint != iss.TokenURL() || d.JwksURI != iss.JWKSURL() {
					t.Errorf("%s: issuer %q token %q jwks %q", path, d.Issuer, d.TokenEndpoint, d.JwksURI)
				}
				for _, g := range []oidc.GrantType{oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange, oidc.GrantTypeRefreshToken} {
					if !slices.Contains(d.GrantTypesSupported, g) {
						t.Errorf("%s: grant %s missing from %v", path, g, d.GrantTypesSupported)
					}
				}
				if !slices.Equal(d.IDTokenSigningAlgValuesSupported, want) {
					t.Errorf("%s: algs %v, want %v", path, d.IDTokenSigningAlgValuesSupported, want)
				}
			}
			set := fetchJWKS(t, iss)
			if len(set.Keys) != len(want) {
				t.Fatalf("JWKS has %d keys, want %d", len(set.Keys), len(want))
			}
			var kids []string
			for n, k := range set.Keys {
				if k.KeyID == "" || slices.Contains(kids, k.KeyID) {
					t.Errorf("key %d: kid %q empty or repeated", n, k.KeyID)
				}
				kids = append(kids, k.KeyID)
				if k.Algorithm != want[n] || k.Use != "sig" || !k.IsPublic() || !k.Valid() {
					t.Errorf("key %d: alg %q use %q public %v valid %v", n, k.Algorithm, k.Use, k.IsPublic(), k.Valid())
				}
			}
			v := verify(t, set, mustCC(t, iss, "rucio", "compute.read").AccessToken)
			if v.alg != want[0] || v.kid != iss.KeyID() || v.kid != set.Keys[0].KeyID || v.typ != "JWT" {
				t.Errorf("token header alg %q kid %q typ %q, want %s %s JWT", v.alg, v.kid, v.typ, want[0], iss.KeyID())
			}
		})
	}
}

// TestClientCredentialsClaims: client-credentials tokens carry the WLCG
// profile's claims, with the audience from the audience parameter.
func TestClientCredentialsClaims(t *testing.T) {
	iss := start(t, issuer.Config{AccessLifetime: 7 * time.Minute})
	set := fetchJWKS(t, iss)
	cases := []struct {
		name, client, scope string
		audience            []string
		wantAud             any // string or []string
		wantScope           string
		wantGroups          []string
	}{
		{name: "capabilities one audience", client: "rucio", scope: "storage.read:/cms storage.create:/cms/out compute.read",
			audience: []string{"se1"}, wantAud: "se1", wantScope: "storage.read:/cms storage.create:/cms/out compute.read"},
		{name: "two audiences in one value", client: "fts", scope: "storage.read:/cms/example storage.create:/cms/example",
			audience: []string{"se1 se2"}, wantAud: []string{"se1", "se2"}, wantScope: "storage.read:/cms/example storage.create:/cms/example"},
		{name: "two audience parameters", client: "fts", scope: "fts:submit-transfer",
			audience: []string{"se1", "se2"}, wantAud: []string{"se1", "se2"}, wantScope: "fts:submit-transfer"},
		{name: "any audience", client: "rucio", scope: "compute.read",
			audience: []string{issuer.AnyAudience}, wantAud: issuer.AnyAudience, wantScope: "compute.read"},
		{name: "no audience is any", client: "rucio", scope: "compute.read",
			wantAud: issuer.AnyAudience, wantScope: "compute.read"},
		{name: "no audience restricted client", client: "fts", scope: "fts:submit-transfer",
			wantAud: []string{"se1", "se2", "fts", issuer.AnyAudience}, wantScope: "fts:submit-transfer"},
		{name: "narrower path", client: "rucio", scope: "storage.read:/cms/sub/dir storage.create:/cms/out/x",
			audience: []string{"se1"}, wantAud: "se1", wantScope: "storage.read:/cms/sub/dir storage.create:/cms/out/x"},
		{name: "no scope: all allowed but offline_access", client: "narrow",
			wantAud: issuer.AnyAudience, wantScope: "storage.read:/cms/data"},
		{name: "offline_access not granted", client: "rucio", scope: "offline_access compute.read",
			wantAud: issuer.AnyAudience, wantScope: "compute.read"},
		{name: "groups", client: "rucio", scope: "openid wlcg.groups",
			wantAud: issuer.AnyAudience, wantScope: "openid wlcg.groups", wantGroups: []string{"/cms", "/cms/prod"}},
		{name: "groups requested first", client: "rucio", scope: "wlcg.groups:/cms/prod wlcg.groups wlcg.groups:/atlas",
			wantAud: issuer.AnyAudience, wantScope: "wlcg.groups:/cms/prod wlcg.groups wlcg.groups:/atlas", wantGroups: []string{"/cms/prod", "/cms"}},
	}
	jtis := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := time.Now().Unix()
			tok := mustCC(t, iss, c.client, c.scope, c.audience...)
			after := time.Now().Unix()
			if tok.RefreshToken != "" {
				t.Errorf("client credentials returned a refresh token")
			}
			if got := tok.Extra("scope"); got != c.wantScope {
				t.Errorf("response scope %q, want %q", got, c.wantScope)
			}
			if tok.TokenType != "Bearer" {
				t.Errorf("token_type %q", tok.TokenType)
			}
			cl := verify(t, set, tok.AccessToken).claims
			if cl["iss"] != iss.URL() || cl["sub"] != c.client || cl["client_id"] != c.client {
				t.Errorf("iss %v sub %v client_id %v", cl["iss"], cl["sub"], cl["client_id"])
			}
			switch want := c.wantAud.(type) {
			case string:
				if cl["aud"] != want {
					t.Errorf("aud %#v, want the string %q", cl["aud"], want)
				}
			case []string:
				if got := strs(t, cl, "aud"); !slices.Equal(got, want) {
					t.Errorf("aud %v, want %v", got, want)
				}
			}
			iat, nbf, exp := num(t, cl, "iat"), num(t, cl, "nbf"), num(t, cl, "exp")
			if exp-iat != int64((7*time.Minute).Seconds()) || nbf != iat || iat < before || iat > after {
				t.Errorf("iat %d nbf %d exp %d (exp-iat %d), requested in [%d,%d]", iat, nbf, exp, exp-iat, before, after)
			}
			if want := float64(7 * 60); tok.Extra("expires_in") != want {
				t.Errorf("expires_in %v, want %v", tok.Extra("expires_in"), want)
			}
			jti, _ := cl["jti"].(string)
			if jti == "" || jtis[jti] {
				t.Errorf("jti %q empty or repeated", jti)
			}
			jtis[jti] = true
			if cl["wlcg.ver"] != "1.0" {
				t.Errorf("wlcg.ver %#v", cl["wlcg.ver"])
			}
			if got, _ := cl["scope"].(string); got != c.wantScope {
				t.Errorf("scope claim %q, want %q", got, c.wantScope)
			}
			if got := strs(t, cl, "wlcg.groups"); !slices.Equal(got, c.wantGroups) {
				t.Errorf("wlcg.groups %v, want %v", got, c.wantGroups)
			}
		})
	}
}

// TestLifetimeDefaults: version 1.0 defaults to 20 minutes, later
// versions to an hour, and wlcg.ver follows the configuration.
func TestLifetimeDefaults(t *testing.T) {
	for _, c := range []struct {
		version string
		want    time.Duration
	}{{"", 20 * time.Minute}, {"1.0", 20 * time.Minute}, {"1.1", time.Hour}} {
		t.Run("v"+c.version, func(t *testing.T) {
			iss := start(t, issuer.Config{Version: c.version})
			cl := verify(t, fetchJWKS(t, iss), mustCC(t, iss, "rucio", "compute.read").AccessToken).claims
			if got := num(t, cl, "exp") - num(t, cl, "iat"); got != int64(c.want.Seconds()) {
				t.Errorf("exp-iat %d s, want %v", got, c.want)
			}
			wantVer := c.version
			if wantVer == "" {
				wantVer = "1.0"
			}
			if cl["wlcg.ver"] != wantVer {
				t.Errorf("wlcg.ver %#v, want %q", cl["wlcg.ver"], wantVer)
			}
		})
	}
}

// TestClientCredentialsRefused: scopes beyond the client's, path escapes,
// audiences not allowed, wrong secrets and unknown clients are refused
// with the RFC 6749 / RFC 8693 error codes.
func TestClientCredentialsRefused(t *testing.T) {
	iss := start(t, issuer.Config{})
	cases := []struct {
		name, client, secret, scope string
		audience                    []string
		wantStatus                  int
		wantCode                    string
	}{
		{"scope of another VO", "rucio", secret, "storage.read:/atlas", nil, 400, "invalid_scope"},
		{"wider path", "narrow", secret, "storage.read:/cms", nil, 400, "invalid_scope"},
		{"sibling with common prefix", "narrow", secret, "storage.read:/cms/data2", nil, 400, "invalid_scope"},
		{"path escape", "rucio", secret, "storage.read:/cms/../atlas", nil, 400, "invalid_scope"},
		{"other capability", "rucio", secret, "storage.modify:/cms", nil, 400, "invalid_scope"},
		{"one bad scope among good", "rucio", secret, "compute.read storage.create:/cms", nil, 400, "invalid_scope"},
		{"audience not allowed", "fts", secret, "fts:submit-transfer", []string{"se3"}, 400, "invalid_target"},
		{"wrong secret", "rucio", "wrong", "compute.read", nil, 401, "invalid_client"},
		{"empty secret", "rucio", "", "compute.read", nil, 401, "invalid_client"},
		{"unknown client", "nobody", secret, "compute.read", nil, 401, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ccToken(t, iss, c.client, c.secret, c.scope, c.audience...)
			if err == nil {
				t.Fatal("granted")
			}
			if status, code := retrieveError(t, err); status != c.wantStatus || code != c.wantCode {
				t.Errorf("got %d %q, want %d %q", status, code, c.wantStatus, c.wantCode)
			}
		})
	}
	if s := iss.Stats(); s.AccessTokensStored != 0 || s.ClientCredentials.Refused != int64(len(cases)) {
		t.Errorf("after refusals: %d stored, %+v", s.AccessTokensStored, s.ClientCredentials)
	}
}

// TestTokenExchange: the IAM-like policy of RFC 8693 exchanges.
func TestTokenExchange(t *testing.T) {
	iss := start(t, issuer.Config{})
	set := fetchJWKS(t, iss)
	// T_rucio-like subject: obtained by rucio for FTS.
	subject := mustCC(t, iss, "rucio", "openid fts:submit-transfer wlcg.groups", "fts").AccessToken
	// A token of the narrow client, whose policy allows only /cms/data.
	narrowSubject := mustCC(t, iss, "narrow", "storage.read:/cms/data").AccessToken

	cases := []struct {
		name      string
		requester string
		form      url.Values
		// On success:
		wantScope   string
		wantAud     any
		wantRefresh bool
		wantGroups  []string
		// On refusal:
		wantStatus int
		wantCode   string
	}{
		{name: "narrowing to one file", requester: "fts",
			form:      exchangeForm(subject, "storage.read:/cms/john/example storage.create:/cms/out/example", "se1 se2"),
			wantScope: "storage.read:/cms/john/example storage.create:/cms/out/example", wantAud: []string{"se1", "se2"}},
		{name: "offline_access yields a refresh token", requester: "fts",
			form:      exchangeForm(subject, "openid offline_access storage.read:/cms/john/example", "se1"),
			wantScope: "openid offline_access storage.read:/cms/john/example", wantAud: "se1", wantRefresh: true},
		{name: "groups of the subject carried on", requester: "fts",
			form:      exchangeForm(subject, "openid wlcg.groups", "se1"),
			wantScope: "openid wlcg.groups", wantAud: "se1", wantGroups: []string{"/cms", "/cms/prod"}},
		{name: "no scope: the subject token's", requester: "fts",
			form:      exchangeForm(subject, "", "fts"),
			wantScope: "openid fts:submit-transfer wlcg.groups", wantAud: "fts", wantGroups: []string{"/cms", "/cms/prod"}},
		{name: "subject client may not: storage.modify", requester: "fts",
			form:       exchangeForm(subject, "storage.modify:/cms/john", "se1"),
			wantStatus: 400, wantCode: "invalid_scope"},
		{name: "subject client may not: beyond its path", requester: "fts",
			form:       exchangeForm(narrowSubject, "storage.read:/cms/john", "se1"),
			wantStatus: 400, wantCode: "invalid_scope"},
		{name: "requester may not: compute.read", requester: "fts",
			form:       exchangeForm(subject, "compute.read", "se1"),
			wantStatus: 400, wantCode: "invalid_scope"},
		{name: "requester audience not allowed", requester: "fts",
			form:       exchangeForm(subject, "openid", "se9"),
			wantStatus: 400, wantCode: "invalid_target"},
		{name: "missing subject_token_type", requester: "fts",
			form: func() url.Values {
				f := exchangeForm(subject, "openid", "se1")
				f.Del("subject_token_type")
				return f
			}(),
			wantStatus: 400, wantCode: "invalid_request"},
		{name: "unsupported subject_token_type", requester: "fts",
			form: func() url.Values {
				f := exchangeForm(subject, "openid", "se1")
				f.Set("subject_token_type", string(oidc.RefreshTokenType))
				return f
			}(),
			wantStatus: 400, wantCode: "invalid_request"},
		{name: "missing subject_token", requester: "fts",
			form:       exchangeForm("", "openid", "se1"),
			wantStatus: 400, wantCode: "invalid_request"},
		{name: "forged subject token", requester: "fts",
			form:       exchangeForm(subject[:len(subject)-4]+"AAAA", "openid", "se1"),
			wantStatus: 400, wantCode: "invalid_grant"},
		{name: "not a JWT", requester: "fts",
			form:       exchangeForm("opaque", "openid", "se1"),
			wantStatus: 400, wantCode: "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, iss, c.requester, c.form)
			if c.wantCode != "" {
				if status != c.wantStatus || body["error"] != c.wantCode {
					t.Fatalf("got %d %v, want %d %q", status, body, c.wantStatus, c.wantCode)
				}
				return
			}
			if status != http.StatusOK {
				t.Fatalf("got %d %v", status, body)
			}
			if body["issued_token_type"] != string(oidc.AccessTokenType) || body["token_type"] != "Bearer" || body["scope"] != c.wantScope {
				t.Errorf("response %v", body)
			}
			if rt, _ := body["refresh_token"].(string); (rt != "") != c.wantRefresh {
				t.Errorf("refresh token %q, want one: %v", rt, c.wantRefresh)
			}
			cl := verify(t, set, body["access_token"].(string)).claims
			if cl["sub"] != "rucio" || cl["client_id"] != c.requester || cl["iss"] != iss.URL() || cl["wlcg.ver"] != "1.0" {
				t.Errorf("sub %v client_id %v iss %v wlcg.ver %v", cl["sub"], cl["client_id"], cl["iss"], cl["wlcg.ver"])
			}
			if cl["scope"] != c.wantScope {
				t.Errorf("scope claim %v, want %q", cl["scope"], c.wantScope)
			}
			switch want := c.wantAud.(type) {
			case string:
				if cl["aud"] != want {
					t.Errorf("aud %#v, want %q", cl["aud"], want)
				}
			case []string:
				if got := strs(t, cl, "aud"); !slices.Equal(got, want) {
					t.Errorf("aud %v, want %v", got, want)
				}
			}
			if got := strs(t, cl, "wlcg.groups"); !slices.Equal(got, c.wantGroups) {
				t.Errorf("wlcg.groups %v, want %v", got, c.wantGroups)
			}
		})
	}
}

// TestExchangeChainZitadelClient runs the seeds' user-identity flow with
// zitadel's token-exchange client: john's token for Rucio, exchanged by
// Rucio for FTS, exchanged by FTS for storage with a refresh token.
func TestExchangeChainZitadelClient(t *testing.T) {
	iss := start(t, issuer.Config{})
	set := fetchJWKS(t, iss)
	ctx := t.Context()
	exchanger := func(id string) tokenexchange.TokenExchanger {
		te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, iss.URL(), id, secret,
			tokenexchange.WithHTTPClient(httpClient()))
		if err != nil {
			t.Fatalf("token exchanger for %s: %v", id, err)
		}
		return te
	}
	tRucio := mustCC(t, iss, "john", "openid fts:submit-transfer", "rucio").AccessToken
	tFTS, err := tokenexchange.ExchangeToken(ctx, exchanger("rucio"), tRucio, oidc.AccessTokenType, "", "", nil,
		[]string{"fts"}, []string{"openid", "fts:submit-transfer"}, "")
	if err != nil {
		t.Fatalf("rucio exchange: %v", err)
	}
	if tFTS.RefreshToken != "" {
		t.Error("refresh token without offline_access")
	}
	fts := exchanger("fts")
	_, err = tokenexchange.ExchangeToken(ctx, fts, tFTS.AccessToken, oidc.AccessTokenType, "", "", nil,
		[]string{"se1", "se2"}, []string{"openid", "offline_access", "storage.read:/cms/john/example", "storage.create:/cms/john/example"}, "")
	if err == nil {
		t.Fatal("fts exchange granted storage.create:/cms/john/example, which rucio (the subject token's client) may not have")
	}
	tXfer, err := tokenexchange.ExchangeToken(ctx, fts, tFTS.AccessToken, oidc.AccessTokenType, "", "", nil,
		[]string{"se1", "se2"}, []string{"openid", "offline_access", "storage.read:/cms/john/example", "storage.create:/cms/out/john"}, "")
	if err != nil {
		t.Fatalf("fts exchange: %v", err)
	}
	if tXfer.RefreshToken == "" || tXfer.IssuedTokenType != oidc.AccessTokenType {
		t.Errorf("fts exchange: refresh %q issued type %q", tXfer.RefreshToken, tXfer.IssuedTokenType)
	}
	cl := verify(t, set, tXfer.AccessToken).claims
	if cl["sub"] != "john" || cl["client_id"] != "fts" || !slices.Equal(strs(t, cl, "aud"), []string{"se1", "se2"}) ||
		cl["scope"] != "openid offline_access storage.read:/cms/john/example storage.create:/cms/out/john" {
		t.Errorf("T_xfer claims %v", cl)
	}
	if s := iss.Stats(); s.ClientCredentials.Requests != 1 || s.TokenExchange != (issuer.GrantStats{Requests: 3, Refused: 1}) ||
		s.AccessTokensStored != 3 || s.RefreshTokensStored != 1 || s.Discovery != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestRefreshRotation: a refresh gives new tokens and a new refresh token;
// the old one is refused afterwards; another client cannot use it, and a
// refused request does not consume it.
func TestRefreshRotation(t *testing.T) {
	iss := start(t, issuer.Config{})
	set := fetchJWKS(t, iss)
	subject := mustCC(t, iss, "rucio", "openid", "fts").AccessToken
	status, body := post(t, iss, "fts", exchangeForm(subject, "offline_access storage.read:/cms/john storage.create:/cms/out", "se1"))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, body)
	}
	rt0 := body["refresh_token"].(string)
	jti0 := verify(t, set, body["access_token"].(string)).claims["jti"]

	// Refused without consuming the token.
	for _, c := range []struct {
		name, client, scope, code string
	}{
		{"another client", "rucio", "", "invalid_grant"},
		{"wider scope", "fts", "storage.read:/cms", "invalid_scope"},
		{"scope not granted", "fts", "storage.modify:/cms/out", "invalid_scope"},
		{"unknown token", "fts", "", "invalid_grant"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := rt0
			if c.name == "unknown token" {
				rt = "x" + rt0
			}
			status, body := post(t, iss, c.client, refreshForm(rt, c.scope))
			if status != http.StatusBadRequest || body["error"] != c.code {
				t.Errorf("got %d %v, want 400 %s", status, body, c.code)
			}
		})
	}

	rt, jtis := rt0, map[any]bool{jti0: true}
	for round := range 3 {
		scope := ""
		wantScope := "offline_access storage.read:/cms/john storage.create:/cms/out"
		if round == 1 { // narrowing the access token keeps the refresh token's scopes
			scope, wantScope = "storage.read:/cms/john/x", "storage.read:/cms/john/x"
		}
		status, body := post(t, iss, "fts", refreshForm(rt, scope))
		if status != http.StatusOK {
			t.Fatalf("round %d: refresh: %d %v", round, status, body)
		}
		newRT, _ := body["refresh_token"].(string)
		if newRT == "" || newRT == rt {
			t.Fatalf("round %d: refresh token %q not rotated", round, newRT)
		}
		cl := verify(t, set, body["access_token"].(string)).claims
		if jtis[cl["jti"]] {
			t.Errorf("round %d: jti %v reused", round, cl["jti"])
		}
		jtis[cl["jti"]] = true
		if cl["sub"] != "rucio" || cl["client_id"] != "fts" || cl["aud"] != "se1" || cl["scope"] != wantScope || body["scope"] != wantScope {
			t.Errorf("round %d: claims %v response scope %v", round, cl, body["scope"])
		}
		if status, body := post(t, iss, "fts", refreshForm(rt, "")); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("round %d: old refresh token: %d %v, want 400 invalid_grant", round, status, body)
		}
		rt = newRT
	}
	s := iss.Stats()
	if s.Refreshes != 3 || s.Refresh != (issuer.GrantStats{Requests: 3 + 3 + 4, Refused: 3 + 4}) || s.RefreshTokensLive != 1 || s.RefreshTokensStored != 4 {
		t.Errorf("stats %+v", s)
	}
}

// TestCounts: the requests per grant and the stored tokens match what the
// test did; client credentials store no refresh token.
func TestCounts(t *testing.T) {
	iss := start(t, issuer.Config{})
	fetchJWKS(t, iss)
	var d oidc.DiscoveryConfiguration
	getJSON(t, iss.URL()+"/.well-known/openid-configuration", &d)

	mustCC(t, iss, "rucio", "openid offline_access", "fts") // offline_access asked, no refresh token
	subject := mustCC(t, iss, "rucio", "openid", "fts").AccessToken
	if _, err := ccToken(t, iss, "rucio", "bad", "openid"); err == nil {
		t.Fatal("wrong secret granted")
	}
	if s := iss.Stats(); s.RefreshTokensStored != 0 || s.RefreshTokensLive != 0 || s.AccessTokensStored != 2 {
		t.Fatalf("after client credentials: %+v", s)
	}
	exchange := func(scope string, ok bool) map[string]any {
		status, body := post(t, iss, "fts", exchangeForm(subject, scope, "se1"))
		if (status == http.StatusOK) != ok {
			t.Fatalf("exchange %q: %d %v", scope, status, body)
		}
		return body
	}
	exchange("openid", true)
	rt, _ := exchange("openid offline_access", true)["refresh_token"].(string)
	exchange("compute.read", false)
	if status, body := post(t, iss, "fts", refreshForm(rt, "")); status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, body)
	}
	if status, _ := post(t, iss, "fts", refreshForm(rt, "")); status != http.StatusBadRequest {
		t.Fatalf("old refresh token: %d", status)
	}
	if status, body := post(t, iss, "fts", url.Values{"grant_type": {"password"}}); status != http.StatusBadRequest {
		t.Fatalf("password grant: %d %v", status, body)
	}

	s := iss.Stats()
	want := issuer.Stats{
		ClientCredentials:   issuer.GrantStats{Requests: 3, Refused: 1},
		TokenExchange:       issuer.GrantStats{Requests: 3, Refused: 1},
		Refresh:             issuer.GrantStats{Requests: 2, Refused: 1},
		OtherGrants:         issuer.GrantStats{Requests: 1, Refused: 1},
		Discovery:           1,
		JWKS:                1,
		Requests:            11,
		AccessTokensStored:  2 + 2 + 1,
		RefreshTokensStored: 1 + 1,
		Refreshes:           1,
		AccessTokensLive:    5,
		RefreshTokensLive:   1,
		BytesIn:             s.BytesIn,
		BytesOut:            s.BytesOut,
	}
	if s != want {
		t.Errorf("stats\n got %+v\nwant %+v", s, want)
	}
	if s.TokenRequests() != 9 || s.ClientCredentials.Issued() != 2 || s.BytesIn < 500 || s.BytesOut < 2000 {
		t.Errorf("token requests %d, cc issued %d, bytes in %d out %d", s.TokenRequests(), s.ClientCredentials.Issued(), s.BytesIn, s.BytesOut)
	}
}

// TestRotateKeys: rotation changes the kid; the old key stays in the JWKS
// for the retention, and tokens it signed verify (with go-jose and as
// subject tokens) until it leaves.
func TestRotateKeys(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			const retention = 300 * time.Millisecond
			iss := start(t, issuer.Config{Algs: []string{alg}, KeyRetention: retention})
			old := mustCC(t, iss, "rucio", "openid", "fts").AccessToken
			kid0 := iss.KeyID()
			if err := iss.RotateKeys(); err != nil {
				t.Fatal(err)
			}
			kid1 := iss.KeyID()
			rotated := time.Now()
			if kid1 == kid0 {
				t.Fatal("kid unchanged")
			}
			set := fetchJWKS(t, iss)
			if len(set.Keys) != 2 || set.Keys[0].KeyID != kid1 || set.Keys[1].KeyID != kid0 {
				t.Fatalf("JWKS kids %v, want [%s %s]", kidsOf(set), kid1, kid0)
			}
			newTok := mustCC(t, iss, "rucio", "openid", "fts").AccessToken
			if v := verify(t, set, newTok); v.kid != kid1 || v.alg != alg {
				t.Errorf("new token kid %s alg %s", v.kid, v.alg)
			}
			if v := verify(t, set, old); v.kid != kid0 {
				t.Errorf("old token kid %s", v.kid)
			}
			if status, body := post(t, iss, "fts", exchangeForm(old, "openid", "se1")); status != http.StatusOK {
				t.Errorf("old token as subject during retention: %d %v", status, body)
			}
			if time.Since(rotated) >= retention {
				t.Skip("machine too slow to observe the retention window")
			}
			time.Sleep(retention - time.Since(rotated) + 50*time.Millisecond)
			if set := fetchJWKS(t, iss); len(set.Keys) != 1 || set.Keys[0].KeyID != kid1 {
				t.Errorf("JWKS after retention: %v, want [%s]", kidsOf(set), kid1)
			}
			if status, body := post(t, iss, "fts", exchangeForm(old, "openid", "se1")); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Errorf("old token as subject after retention: %d %v", status, body)
			}
			if status, body := post(t, iss, "fts", exchangeForm(newTok, "openid", "se1")); status != http.StatusOK {
				t.Errorf("new token as subject: %d %v", status, body)
			}
		})
	}
}

// TestLimits: bodies are bounded and bad configurations are refused.
func TestLimits(t *testing.T) {
	iss := start(t, issuer.Config{})
	form := url.Values{"grant_type": {"client_credentials"}, "pad": {strings.Repeat("x", issuer.MaxBodyBytes)}}
	if status, body := post(t, iss, "rucio", form); status != http.StatusRequestEntityTooLarge || body["error"] != "invalid_request" {
		t.Errorf("oversized body: %d %v", status, body)
	}
	for _, c := range []struct {
		name string
		cfg  issuer.Config
	}{
		{"no clients", issuer.Config{Clients: []issuer.Client{}}},
		{"unknown alg", issuer.Config{Algs: []string{"HS256"}}},
		{"repeated alg", issuer.Config{Algs: []string{"ES256", "ES256"}}},
		{"duplicate client", issuer.Config{Clients: []issuer.Client{{ID: "a", Secret: "x"}, {ID: "a", Secret: "y"}}}},
		{"no secret", issuer.Config{Clients: []issuer.Client{{ID: "a"}}}},
		{"scope with a space", issuer.Config{Clients: []issuer.Client{{ID: "a", Secret: "x", Scopes: []string{"a b"}}}}},
		{"sub-second lifetime", issuer.Config{AccessLifetime: time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.cfg.Clients == nil {
				c.cfg.Clients = testClients()
			}
			if iss, err := issuer.Start(t.Context(), c.cfg); err == nil {
				iss.Close()
				t.Error("started")
			}
		})
	}
}

// TestContextCancelCloses: cancelling Start's context closes the issuer.
func TestContextCancelCloses(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	iss, err := issuer.Start(ctx, issuer.Config{Clients: testClients()})
	if err != nil {
		t.Fatal(err)
	}
	mustCC(t, iss, "rucio", "openid")
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := ccToken(t, iss, "rucio", secret, "openid"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still serving after cancel")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := iss.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

// TestKill: a killed issuer answers nothing: every request after is
// refused at once, a transport error (no OAuth2 reply); its counters still
// read and Close after Kill does nothing more.
func TestKill(t *testing.T) {
	iss := start(t, issuer.Config{})
	mustCC(t, iss, "rucio", "openid")
	before := iss.Stats().TokenRequests()
	if err := iss.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	for i := range 2 {
		t0 := time.Now()
		_, err := ccToken(t, iss, "rucio", secret, "openid")
		var ue *url.Error
		if !errors.As(err, &ue) || time.Since(t0) > time.Second {
			t.Errorf("request %d to a killed issuer: %v after %s; want a transport error at once", i+1, err, time.Since(t0))
		}
	}
	if got := iss.Stats().TokenRequests(); got != before {
		t.Errorf("token requests %d after Kill, want %d", got, before)
	}
	if err := iss.Close(); err != nil {
		t.Errorf("Close after Kill: %v", err)
	}
}
