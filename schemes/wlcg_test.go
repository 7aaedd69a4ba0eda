package schemes_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/wlcg"
)

// wlStat is one figure of the scheme's Stats.
func wlStat(h *harness, key string) float64 {
	return h.guard.Stats()[key]
}

// wlWant checks figures of the scheme's Stats.
func wlWant(t *testing.T, h *harness, want map[string]float64) {
	t.Helper()
	st := h.guard.Stats()
	for k, v := range want {
		if st[k] != v {
			t.Errorf("stats %s = %v, want %v (all: %v)", k, st[k], v, st)
		}
	}
}

// wlService reads .service/wlcg as a client does.
func wlService(t *testing.T, h *harness) schemes.WLCGService {
	t.Helper()
	svc, err := schemes.ReadWLCGService(h.run)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// wlToken gets an access token from the WFS's issuer with x/oauth2, as a
// client holding cred would, for the scope and audiences given (none: the
// issuer's default, the any audience).
func wlToken(t *testing.T, svc schemes.WLCGService, cred schemes.WLCGClient, scope string, aud ...string) string {
	t.Helper()
	cfg := clientcredentials.Config{
		ClientID: cred.ID, ClientSecret: cred.Secret, TokenURL: svc.TokenURL,
		Scopes: strings.Fields(scope), AuthStyle: oauth2.AuthStyleInHeader,
	}
	if len(aud) > 0 {
		cfg.EndpointParams = url.Values{"audience": aud}
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 5 * time.Second})
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("token for %s %q %v: %v", cred.ID, scope, aud, err)
	}
	return tok.AccessToken
}

// wlSend sends cmd with tok as its credential frame, as the wlcg client
// puts it on the wire.
func (h *harness) wlSend(cmd string, args any, tok string) (json.RawMessage, error) {
	h.t.Helper()
	body, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "test"})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.tkSend(body, []byte(tok))
}

// wlClaims are claims the WFS's issuer would sign for the CLI.
func wlClaims(svc schemes.WLCGService, now time.Time) wlcg.Claims {
	return wlcg.Claims{
		Issuer: svc.Issuer, Subject: schemes.WLCGCLIClient, Audience: wlcg.Audience{svc.Audience},
		Expiry: wlcg.NewNumericDate(now.Add(10 * time.Minute)), NotBefore: wlcg.NewNumericDate(now),
		IssuedAt: wlcg.NewNumericDate(now), ID: "forged-jti", Version: "1.0",
		Scope: "compute.read compute.modify compute.cancel",
	}
}

// wlKid returns signer options that put kid in the header.
func wlKid(kid string) *jose.SignerOptions {
	return (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
}

func TestWlcgSpec(t *testing.T) {
	reg := schemes.Builtin()
	for spec, canon := range map[string]string{
		"wlcg":            "null+wlcg/ES256:workflow",
		"null+wlcg":       "null+wlcg/ES256:workflow",
		"curve+wlcg":      "curve+wlcg/ES256:workflow",
		"wlcg/RS256":      "null+wlcg/RS256:workflow",
		"wlcg:workflow":   "null+wlcg/ES256:workflow",
		"curve-job+wlcg":  "curve-job+wlcg/ES256:workflow",
		"wlcg/ES256":      "null+wlcg/ES256:workflow",
		"null+wlcg/RS256": "null+wlcg/RS256:workflow",
	} {
		sc, err := reg.Parse(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if got := sc.Spec().Canonical(); got != canon {
			t.Errorf("%s: canonical %s, want %s", spec, got, canon)
		}
		want := schemes.Claims{Authenticates: true, Expires: true, Audience: true, NeedsFS: true, FineGrained: true}
		if sec := sc.Spec().Security; sec != "null" {
			tr, err := reg.Parse(sec)
			tkOK(t, sec, err)
			want = want.Or(tr.Claims())
		}
		if got := sc.Claims(); got != want {
			t.Errorf("%s: claims %+v, want %+v", spec, got, want)
		}
		if c := sc.Claims(); c.ReplayProof || (c.JobRevocation && sc.Spec().Security != "curve-job") {
			t.Errorf("%s: a bearer token of a shared job client declares %+v", spec, c)
		}
	}
	for _, bad := range []string{"wlcg/HS256", "wlcg/none", "wlcg:command", "wlcg:shared=10s", "wlcg:job=file"} {
		if _, err := reg.Parse(bad); err == nil {
			t.Errorf("%s: parsed, want an error", bad)
		}
	}
	if _, err := reg.ParseList("wlcg,null+wlcg"); err == nil {
		t.Error("wlcg and null+wlcg are one scheme, but the list parsed")
	}
}

func TestWlcgRoundTrip(t *testing.T) {
	for _, spec := range []string{"wlcg", "wlcg/RS256"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			for _, cmd := range []string{wfs.CmdPing, wfs.CmdTrigger, wfs.CmdHold, wfs.CmdRelease, wfs.CmdData, wfs.CmdStop} {
				_, err := h.tkCall(tkCLI(), cmd, nil)
				tkOK(t, cmd, err)
			}
			job := "1/foo/01"
			h.tkEvent(schemes.EventJobSubmit, job)
			for _, text := range []string{"started", "succeeded"} {
				_, err := h.tkCall(tkJobClient(job), wfs.CmdMessage, tkMsg(job, text))
				tkOK(t, "job message "+text, err)
			}
			h.tkEvent(schemes.EventJobEnd, job)
			st, err := os.ReadFile(h.run.JobStatusPath(tkJobID(t, job)))
			tkOK(t, "job.status", err)
			if !strings.Contains(string(st), "|INFO|succeeded") {
				t.Fatalf("job.status lacks the message:\n%s", st)
			}

			for _, name := range []string{schemes.WLCGFile, schemes.WLCGJobFile} {
				fi, err := os.Stat(h.run.Service(name))
				tkOK(t, "stat .service/"+name, err)
				if fi.Mode().Perm() != 0o600 {
					t.Errorf(".service/%s mode %04o, want 0600", name, fi.Mode().Perm())
				}
			}
			svc := wlService(t, h)
			// The jobs' file (what remote-init installs on a remote
			// target) holds the job client and never the CLI's secret.
			jobs, err := schemes.ReadWLCGJobService(h.run)
			tkOK(t, "read .service/wlcg-job", err)
			if jobs.CLI != (schemes.WLCGClient{}) || jobs.Job != svc.Job || jobs.TokenURL != svc.TokenURL || jobs.Audience != svc.Audience {
				t.Errorf(".service/wlcg-job = %+v, want the job client of %+v alone", jobs, svc)
			}
			if got := h.guard.RemoteInitFiles(); len(got) != 1 || got[0] != h.run.Service(schemes.WLCGJobFile) {
				t.Errorf("RemoteInitFiles = %q", got)
			}
			iss := schemes.WLCGIssuer(h.guard)
			if iss == nil {
				t.Fatal("WLCGIssuer: nil")
			}
			if svc.Issuer != iss.URL() || svc.TokenURL != iss.TokenURL() || svc.Audience != schemes.WLCGAudience("wf") || svc.Audience != "authbench:wf" {
				t.Errorf(".service/wlcg: %+v (issuer %s)", svc, iss.URL())
			}
			if svc.CLI.ID != schemes.WLCGCLIClient || svc.Job.ID != schemes.WLCGJobClient || svc.CLI.Secret == "" || svc.Job.Secret == "" || svc.CLI.Secret == svc.Job.Secret {
				t.Errorf(".service/wlcg clients: %+v %+v", svc.CLI, svc.Job)
			}
			wantAlg := issuer.ES256
			if spec == "wlcg/RS256" {
				wantAlg = issuer.RS256
			}
			if got := iss.Config().Algs; len(got) != 1 || got[0] != wantAlg {
				t.Errorf("issuer algs %v, want [%s]", got, wantAlg)
			}
			// One CLI token and one job token: the harness's clients share
			// one state directory.
			wlWant(t, h, map[string]float64{
				"wlcg.verified": 8, "wlcg.refused": 0,
				"wlcg.issuer.client_credentials": 2, "wlcg.issuer.access_tokens_stored": 2,
				"wlcg.issuer.discovery": 1, "wlcg.jwks_fetches": 1, "wlcg.issuer.jwks": 1,
				"wlcg.jwks_cache_hits": 8, "wlcg.jwks_refetches": 0,
			})
		})
	}
}

func TestWlcgCloseRemovesIssuerAndFile(t *testing.T) {
	sc, err := schemes.Builtin().Parse("wlcg")
	tkOK(t, "parse", err)
	run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(false))
	tkOK(t, "run dir", err)
	guard, err := sc.Server(t.Context(), schemes.Env{Run: run, Workflow: "wf"})
	tkOK(t, "server", err)
	iss := schemes.WLCGIssuer(guard)
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get(iss.URL() + "/healthz")
	tkOK(t, "issuer health", err)
	resp.Body.Close()
	tkOK(t, "close", guard.Close())
	for _, name := range []string{schemes.WLCGFile, schemes.WLCGJobFile} {
		if _, err := os.Stat(run.Service(name)); !os.IsNotExist(err) {
			t.Errorf(".service/%s after Close: %v", name, err)
		}
	}
	if resp, err := hc.Get(iss.URL() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("the issuer still serves after Close")
	}
}

func TestWlcgTokenCache(t *testing.T) {
	h := start(t, "wlcg")
	dir := t.TempDir()
	cli := tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: dir}
	_, err := h.tkCall(cli, wfs.CmdPing, nil)
	tkOK(t, "first ping", err)
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 1})

	// A second command, a fresh client in the same state directory: no
	// issuer request, no JWKS fetch.
	_, err = h.tkCall(cli, wfs.CmdHold, nil)
	tkOK(t, "second command", err)
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 1, "wlcg.issuer.requests": 3, "wlcg.jwks_fetches": 1, "wlcg.jwks_cache_hits": 2})
	svc := wlService(t, h)
	path := schemes.WLCGTokenCachePath(dir, svc, svc.CLI)
	fi, err := os.Stat(path)
	tkOK(t, "token cache file", err)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token cache mode %04o, want 0600", fi.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("state dir holds %d files, want the one cache file", len(ents))
	}

	// Another state directory, and a job: each gets its own token.
	_, err = h.tkCall(tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: t.TempDir()}, wfs.CmdPing, nil)
	tkOK(t, "other state dir", err)
	job := "1/foo/01"
	h.tkEvent(schemes.EventJobSubmit, job)
	jobWho := tkWho{kind: schemes.KindJob, identity: job, stateDir: dir}
	for _, text := range []string{"started", "succeeded"} {
		_, err = h.tkCall(jobWho, wfs.CmdMessage, tkMsg(job, text))
		tkOK(t, "job message", err)
	}
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 3, "wlcg.issuer.access_tokens_stored": 3})
	if _, err := os.Stat(schemes.WLCGTokenCachePath(dir, svc, svc.Job)); err != nil {
		t.Errorf("job token cache: %v", err)
	}

	// No state directory: the token is kept in memory, for this client
	// only.
	ctx := context.Background()
	memClient := func() *schemes.Client {
		cl, err := h.scheme.Client(ctx, schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner"})
		tkOK(t, "client", err)
		return cl
	}
	cl := memClient()
	defer cl.Close()
	zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: cl.Configure})
	defer zc.Close()
	body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "test"})
	for i, wantAcquired := range []bool{true, false, false} {
		x, err := schemes.Request(ctx, cl, zc, body)
		tkOK(t, "in-memory request", err)
		if x.Acquired != wantAcquired {
			t.Errorf("request %d: acquired %v, want %v", i, x.Acquired, wantAcquired)
		}
	}
	cl2 := memClient()
	defer cl2.Close()
	if x, err := schemes.Request(ctx, cl2, zc, body); err != nil || !x.Acquired {
		t.Errorf("a fresh client without a state dir: acquired %v (%v), want a new token", x.Acquired, err)
	}
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 5})
}

func TestWlcgTokenRenewedBeforeExpiry(t *testing.T) {
	h := start(t, "wlcg")
	clock := &tkClock{t: time.Now()}
	who := tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: t.TempDir(), clock: clock}
	_, err := h.tkCall(who, wfs.CmdPing, nil)
	tkOK(t, "ping", err)
	// Still well within the token's life: the cached token.
	clock.Add(issuer.DefaultAccessLifetime / 2)
	_, err = h.tkCall(who, wfs.CmdPing, nil)
	tkOK(t, "ping at half life", err)
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 1})
	// Within a minute of exp: a new one.
	clock.Add(issuer.DefaultAccessLifetime/2 - 30*time.Second)
	_, err = h.tkCall(who, wfs.CmdPing, nil)
	tkOK(t, "ping near exp", err)
	wlWant(t, h, map[string]float64{"wlcg.issuer.client_credentials": 2})
}

func TestWlcgScopeRefused(t *testing.T) {
	h := start(t, "wlcg")
	svc := wlService(t, h)
	readOnly := wlToken(t, svc, svc.CLI, wlcg.ComputeRead, svc.Audience)
	_, err := h.wlSend(wfs.CmdPing, nil, readOnly)
	tkOK(t, "ping with compute.read", err)
	_, err = h.wlSend(wfs.CmdData, nil, readOnly)
	tkOK(t, "data with compute.read", err)
	for _, cmd := range []string{wfs.CmdStop, wfs.CmdHold, wfs.CmdTrigger} {
		_, err = h.wlSend(cmd, nil, readOnly)
		tkRejected(t, cmd+" with compute.read only", err)
	}
	wlWant(t, h, map[string]float64{"wlcg.refused.insufficient_scope": 3, "wlcg.refused": 3, "wlcg.verified": 5})

	// A token that may hold but not stop, and the job client's token.
	modify := wlToken(t, svc, svc.CLI, wlcg.ComputeModify, svc.Audience)
	_, err = h.wlSend(wfs.CmdHold, nil, modify)
	tkOK(t, "hold with compute.modify", err)
	_, err = h.wlSend(wfs.CmdStop, nil, modify)
	tkRejected(t, "stop with compute.modify", err)
	_, err = h.wlSend(wfs.CmdPing, nil, modify)
	tkRejected(t, "ping with compute.modify", err)

	jobTok := wlToken(t, svc, svc.Job, "", svc.Audience)
	job := "1/foo/01"
	h.tkEvent(schemes.EventJobSubmit, job)
	_, err = h.wlSend(wfs.CmdMessage, tkMsg(job, "started"), jobTok)
	tkOK(t, "job message with the job token", err)
	_, err = h.wlSend(wfs.CmdStop, nil, jobTok)
	tkRejected(t, "stop with the job token", err)
	_, err = h.wlSend(wfs.CmdMessage, tkMsg(job, "started"), readOnly)
	tkRejected(t, "job message with compute.read", err)
	wlWant(t, h, map[string]float64{"wlcg.refused.insufficient_scope": 7})
}

func TestWlcgAudienceRefused(t *testing.T) {
	h := start(t, "wlcg")
	svc := wlService(t, h)
	for name, aud := range map[string][]string{
		"another workflow": {schemes.WLCGAudience("other")},
		"any audience":     nil, // the issuer's default: wlcg.AnyAudience
	} {
		tok := wlToken(t, svc, svc.CLI, "", aud...)
		_, err := h.wlSend(wfs.CmdPing, nil, tok)
		tkRejected(t, name, err)
	}
	wlWant(t, h, map[string]float64{"wlcg.refused.audience": 2, "wlcg.verified": 0})
	// A token for this workflow and another names this one.
	tok := wlToken(t, svc, svc.CLI, "", svc.Audience+" "+schemes.WLCGAudience("other"))
	_, err := h.wlSend(wfs.CmdPing, nil, tok)
	tkOK(t, "two audiences, this one included", err)
}

func TestWlcgExpiredAndNotYetValid(t *testing.T) {
	clock := &tkClock{t: time.Now()}
	h := tkStart(t, "wlcg", clock)
	svc := wlService(t, h)
	tok := wlToken(t, svc, svc.CLI, "", svc.Audience)
	_, err := h.wlSend(wfs.CmdPing, nil, tok)
	tkOK(t, "fresh token", err)
	// Past exp by more than the leeway (30 s) on the WFS's clock.
	clock.Add(issuer.DefaultAccessLifetime + schemes.DefaultLeeway + time.Second)
	_, err = h.wlSend(wfs.CmdPing, nil, tok)
	tkRejected(t, "expired token", err)
	// Before nbf by more than the leeway.
	clock.Set(time.Now().Add(-2 * time.Minute))
	_, err = h.wlSend(wfs.CmdPing, nil, tok)
	tkRejected(t, "token before nbf", err)
	wlWant(t, h, map[string]float64{"wlcg.refused.expired": 1, "wlcg.refused.not_yet_valid": 1, "wlcg.refused": 2})
}

func TestWlcgKeyRotation(t *testing.T) {
	h := start(t, "wlcg")
	svc := wlService(t, h)
	iss := schemes.WLCGIssuer(h.guard)
	dirA, dirB := t.TempDir(), t.TempDir()
	whoA := tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: dirA}
	whoB := tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: dirB}
	_, err := h.tkCall(whoA, wfs.CmdPing, nil)
	tkOK(t, "ping before rotation", err)
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 1, "wlcg.jwks_refetches": 0})

	oldKid := iss.KeyID()
	tkOK(t, "rotate", iss.RotateKeys())
	if iss.KeyID() == oldKid {
		t.Fatal("RotateKeys kept the kid")
	}
	// A token signed with the new key: one refetch, then cache hits.
	_, err = h.tkCall(whoB, wfs.CmdPing, nil)
	tkOK(t, "new-kid token", err)
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 2, "wlcg.jwks_refetches": 1, "wlcg.issuer.jwks": 2})
	_, err = h.tkCall(whoB, wfs.CmdHold, nil)
	tkOK(t, "new-kid token again", err)
	// The old key stays published for the tokens it signed.
	_, err = h.tkCall(whoA, wfs.CmdHold, nil)
	tkOK(t, "old-kid token", err)
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 2, "wlcg.jwks_refetches": 1, "wlcg.issuer.client_credentials": 2})

	// A made-up kid within 10 s of that refetch: refused without a fetch.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tkOK(t, "key", err)
	now := time.Now()
	made := tkForge(t, jose.ES256, other, wlClaims(svc, now), wlKid("made-up"))
	_, err = h.wlSend(wfs.CmdPing, nil, made)
	tkRejected(t, "made-up kid", err)
	// The current kid on a token another key signed: a bad signature.
	forged := tkForge(t, jose.ES256, other, wlClaims(svc, now), wlKid(iss.KeyID()))
	_, err = h.wlSend(wfs.CmdPing, nil, forged)
	tkRejected(t, "forged signature", err)
	wlWant(t, h, map[string]float64{
		"wlcg.jwks_fetches": 2, "wlcg.jwks_refetches": 1, "wlcg.jwks_refetch_limited": 1, "wlcg.issuer.jwks": 2,
		"wlcg.refused.unknown_key": 1, "wlcg.refused.signature": 1,
	})
}

func TestWlcgAlgorithmsRefused(t *testing.T) {
	h := start(t, "wlcg/RS256")
	svc := wlService(t, h)
	iss := schemes.WLCGIssuer(h.guard)
	kid := iss.KeyID()
	_, err := h.tkCall(tkCLI(), wfs.CmdPing, nil)
	tkOK(t, "RS256 ping", err)

	// The issuer's RSA public key, as anyone reads it from the JWKS.
	resp, err := http.Get(iss.JWKSURL())
	tkOK(t, "jwks", err)
	var set jose.JSONWebKeySet
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	tkOK(t, "decode jwks", err)
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("jwks has %d keys of kid %s", len(keys), kid)
	}
	pub, ok := keys[0].Key.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("key %s is a %T", kid, keys[0].Key)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	tkOK(t, "marshal", err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	now := time.Now()
	c := wlClaims(svc, now)
	payload, _ := json.Marshal(c)
	b64 := base64.RawURLEncoding.EncodeToString
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tkOK(t, "key", err)
	for name, tok := range map[string]string{
		"alg none":                   b64([]byte(`{"alg":"none","kid":"`+kid+`","typ":"JWT"}`)) + "." + b64(payload) + ".",
		"HS256 keyed with the PEM":   tkForge(t, jose.HS256, pubPEM, c, wlKid(kid)),
		"HS256 keyed with the DER":   tkForge(t, jose.HS256, der, c, wlKid(kid)),
		"ES256 with the RSA key kid": tkForge(t, jose.ES256, other, c, wlKid(kid)),
	} {
		_, err := h.wlSend(wfs.CmdPing, nil, tok)
		tkRejected(t, name, err)
	}
	_, err = h.wlSend(wfs.CmdPing, nil, "not.a.token")
	tkRejected(t, "garbage", err)
	body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
	_, err = h.tkSend(body)
	tkRejected(t, "no token", err)
	wlWant(t, h, map[string]float64{
		"wlcg.refused.algorithm": 4, "wlcg.refused.malformed": 1, "wlcg.refused.no_token": 1, "wlcg.refused": 6,
		"wlcg.jwks_refetches": 0, "wlcg.verified": 1,
	})
}

func TestWlcgCurve(t *testing.T) {
	h := start(t, "curve+wlcg")
	for _, cmd := range []string{wfs.CmdPing, wfs.CmdHold, wfs.CmdStop} {
		_, err := h.tkCall(tkCLI(), cmd, nil)
		tkOK(t, cmd, err)
	}
	job := "1/foo/01"
	h.tkEvent(schemes.EventJobSubmit, job)
	_, err := h.tkCall(tkJobClient(job), wfs.CmdMessage, tkMsg(job, "started"))
	tkOK(t, "job message", err)
	wlWant(t, h, map[string]float64{"wlcg.verified": 4, "wlcg.issuer.client_credentials": 2, "wlcg.refused": 0})
	if _, ok := h.guard.Stats()["zap.allowed_peak"]; !ok {
		t.Error("the CURVE part's stats are missing beside the wlcg ones")
	}
}

func TestWlcgJWKSRefreshedAfterTTL(t *testing.T) {
	clock := &tkClock{t: time.Now()}
	h := tkStart(t, "wlcg", clock)
	svc := wlService(t, h)
	tok := wlToken(t, svc, svc.CLI, "", svc.Audience)
	_, err := h.wlSend(wfs.CmdPing, nil, tok)
	tkOK(t, "ping", err)
	clock.Add(schemes.WLCGJWKSTTL - time.Second)
	_, _ = h.wlSend(wfs.CmdPing, nil, tok) // expired by now, but its key is looked up first
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 1, "wlcg.jwks_cache_hits": 2})
	// Six hours after the fetch: the next request refreshes the JWKS
	// once, and the one after finds it fresh.
	clock.Add(time.Second)
	for range 2 {
		_, err = h.wlSend(wfs.CmdPing, nil, tok)
		tkRejected(t, "expired token", err)
	}
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 2, "wlcg.jwks_refetches": 0, "wlcg.jwks_cache_hits": 3, "wlcg.refused.expired": 3})
}

// TestWlcgConcurrentNewKid: many requests with a token of a new kid at once
// make one JWKS refetch between them.
func TestWlcgConcurrentNewKid(t *testing.T) {
	h := start(t, "wlcg")
	svc := wlService(t, h)
	tkOK(t, "rotate", schemes.WLCGIssuer(h.guard).RotateKeys())
	tok := wlToken(t, svc, svc.CLI, "", svc.Audience)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := h.wlSend(wfs.CmdPing, nil, tok)
			errs <- err
		}()
	}
	for range n {
		tkOK(t, "concurrent ping", <-errs)
	}
	wlWant(t, h, map[string]float64{"wlcg.jwks_fetches": 2, "wlcg.jwks_refetches": 1, "wlcg.jwks_refetch_limited": 0, "wlcg.verified": n})
}
