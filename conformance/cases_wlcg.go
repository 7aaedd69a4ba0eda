package conformance

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/wlcg"
	jose "github.com/go-jose/go-jose/v4"
	zmq "github.com/pebbe/zmq4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The wlcg/* cases attack the relying party of the wlcg credential (the WFS
// verifying WLCG Common JWT Profile tokens of the issuer it runs) over a
// valid transport. Genuine-but-wrong tokens (another audience, a narrower
// scope) are asked of the target's real issuer through its token endpoint
// with the client credentials in .service/wlcg, as an attacker who can read
// that file would; tokens whose claims no issuer would write (no aud, an
// unknown wlcg.ver, an nbf ahead) are signed with a key of the suite's that
// the relying party is told to trust (schemes.ConformanceWLCGTrustKey), and
// every such case first shows that the unedited claims under that key are
// accepted, so that a refusal is the edited claim's. The storage rules of the
// profile, which no WFS command exercises, go to a small storage relying
// party started in-process (wlcg/storage-*), deciding with the scheme's
// rule.

func isWLCG(sc *schemes.Scheme) bool { return sc.Spec().Credential == "wlcg" }

// wlcgAlg is the scheme's signature algorithm (RS256 or ES256).
func wlcgAlg(sc *schemes.Scheme) string {
	if a := sc.Spec().Alg; a != "" {
		return a
	}
	return issuer.ES256
}

func wlcgCases() []Case {
	live := "(live, the WFS) "
	return []Case{
		wlcgCase("wlcg/wrong-aud", "audience", live+"tokens the real issuer minted for the CLI client with another workflow's audience, then with this one's upper-cased (aud is compared case-sensitively), run stop",
			runWLCGWrongAud),
		wlcgCase("wlcg/missing-aud", "audience", live+"the genuine claims without aud, with aud null and with aud [] (signed with a trusted key), run stop",
			runWLCGMissingAud),
		wlcgCase("wlcg/any-aud", "audience", live+"tokens the real issuer minted for the profile's any audience (https://wlcg.cern.ch/jwt/v1/any), asked for and by default, run stop: the profile lets a relying party accept them, the wlcg scheme declares them refused (not bound to the workflow), and the case asserts the refusal",
			runWLCGAnyAud),
		wlcgCase("wlcg/expired", "expires", live+"a genuine token presented once the WFS's clock is a minute past its exp plus the leeway, and the genuine claims with exp two minutes beyond the leeway (trusted key), run stop",
			runWLCGExpired),
		wlcgCase("wlcg/nbf-future", "expires", live+"the genuine claims with nbf ten minutes ahead (trusted key), and a genuine token presented to a WFS whose clock is ten minutes behind the issuer's, run stop",
			runWLCGNbfFuture),
		wlcgCase("wlcg/version-major", "authn", live+`the genuine claims with wlcg.ver "2.0", an unknown major version (trusted key), run stop: refused`,
			runWLCGVersionMajor),
		wlcgCase("wlcg/version-minor", "authn", live+`the genuine claims with wlcg.ver "1.9" and "1.10", newer minor versions (trusted key), ping: accepted, as the profile requires`,
			runWLCGVersionMinor),
		wlcgCase("wlcg/scope-lacks-command", "fine-authz", live+"real tokens narrower than the command: the CLI client's with compute.read alone pings (allowed), then runs stop; the job client's (compute.modify) runs stop",
			runWLCGScopeLacks),
		wlcgCase("wlcg/storage-scope-no-path", "fine-authz", live+"tokens with compute.read beside a storage scope without a path (storage.read, storage.modify:), which the profile says must void the token, ping (trusted key; compute.read beside storage.read:/ is accepted first)",
			runWLCGStorageNoPath),
		wlcgCase("wlcg/other-capabilities", "fine-authz", live+"tokens with another capability set run stop: every storage scope at / with compute.read and compute.modify; compute.cancel:/ (a compute scope with a path is no authorisation); compute.create; groups and openid (trusted key)",
			runWLCGOtherCapabilities),
		wlcgCase("wlcg/storage-path-prefix", "fine-authz", "(an in-process storage relying party with the scheme's rule, not the WFS) a storage.read:/cms storage.create:/cms/out token reads /cmsx/secret and /cms/../cmsx/secret and creates /cms/outx/f (a path grants what lies below it by whole components)",
			runWLCGStoragePrefix),
		wlcgCase("wlcg/storage-create-modify", "fine-authz", "(an in-process storage relying party with the scheme's rule, not the WFS) storage.create:/cms creates a file (allowed) but may not read, overwrite or delete one; storage.modify:/cms creates and overwrites (allowed) but may not read",
			runWLCGStorageCreateModify),
		wlcgCase("wlcg/other-issuer", "authn", live+"the genuine claims with iss another issuer's (trusted key), then a token a second issuer (same client and scope, this audience) minted with its own key, run stop",
			runWLCGOtherIssuer),
		wlcgCase("wlcg/jwks-rotation", "authn", live+"after the issuer rotates its key a token with the new kid pings (accepted, as is one signed before); then 20 tokens with unknown random kids make the WFS refetch the JWKS at most once (issuer's JWKS requests and the scheme's refetch counter)",
			runWLCGRotation),
		wlcgCase("wlcg/alg-none", "authn", live+`the genuine claims and kid unsigned, header alg "none", "None" and "NONE", run stop`,
			runWLCGAlgNone),
		wlcgCase("wlcg/hs256-jwks-key", "authn", live+"HS256 with the genuine kid, keyed with that kid's public key from the issuer's JWKS (the JWK JSON, the DER, the PEM), run stop",
			runWLCGHS256),
		wlcgCase("wlcg/other-key", "authn", live+"the genuine claims and kid re-signed with another key of the scheme's algorithm, run stop",
			runWLCGOtherKey),
	}
}

// wlcgCase is a case on a wlcg scheme's WFS, run through a wlcgRig.
func wlcgCase(id, claim, title string, run func(ctx context.Context, r *wlcgRig) Result) Case {
	return Case{ID: id, Claim: claim, Title: title, Applies: isWLCG, Run: func(ctx context.Context, e *Env) Result {
		r, err := startWLCG(e)
		if err != nil {
			return broken("start", err)
		}
		defer r.close()
		return run(ctx, r)
	}}
}

// wlcgRig is a wlcg scheme's WFS with what an attacker holds: the content of
// .service/wlcg (the issuer's token endpoint, the client credentials, the
// audience), a genuine CLI client's transport, an HTTP client, and, through
// the schemes hook, the issuer the WFS runs (to rotate its keys and read its
// counters).
type wlcgRig struct {
	t         *Target
	svc       schemes.WLCGService
	iss       *issuer.Issuer
	alg       string
	hc        *http.Client
	configure func(*zmq.Socket) error
	done      func()
}

func startWLCG(e *Env) (*wlcgRig, error) {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return nil, err
	}
	svc, err := schemes.ReadWLCGService(t.Run)
	if err != nil {
		return nil, err
	}
	iss := schemes.WLCGIssuer(t.Guard)
	if iss == nil {
		return nil, errors.New("the WFS runs no wlcg issuer")
	}
	configure, done, err := t.transport(CLI())
	if err != nil {
		return nil, err
	}
	return &wlcgRig{t: t, svc: svc, iss: iss, alg: wlcgAlg(t.Scheme), hc: wlcgHTTP(), configure: configure, done: done}, nil
}

func (r *wlcgRig) close() {
	r.done()
	r.hc.CloseIdleConnections()
}

// wlcgHTTP is an HTTP client that never goes through a proxy.
func wlcgHTTP() *http.Client {
	return &http.Client{Timeout: validTimeout, Transport: &http.Transport{Proxy: nil}}
}

// mintWLCG asks an issuer's token endpoint for an access token with the
// client credentials grant, for scope and the audiences (none: the issuer's
// default).
func mintWLCG(ctx context.Context, hc *http.Client, tokenURL string, cred schemes.WLCGClient, scope string, aud ...string) (string, error) {
	cfg := clientcredentials.Config{
		ClientID: cred.ID, ClientSecret: cred.Secret, TokenURL: tokenURL,
		Scopes: strings.Fields(scope), AuthStyle: oauth2.AuthStyleInHeader,
	}
	if len(aud) > 0 {
		cfg.EndpointParams = url.Values{"audience": aud}
	}
	tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
	if err != nil {
		return "", fmt.Errorf("token for %s (scope %q, audience %q): %w", cred.ID, scope, aud, err)
	}
	return tok.AccessToken, nil
}

// mint asks the target's issuer for a token.
func (r *wlcgRig) mint(ctx context.Context, cred schemes.WLCGClient, scope string, aud ...string) (string, error) {
	return mintWLCG(ctx, r.hc, r.svc.TokenURL, cred, scope, aud...)
}

// genuine is a token the CLI client gets: its scopes, this workflow's
// audience.
func (r *wlcgRig) genuine(ctx context.Context) (string, error) {
	return r.mint(ctx, r.svc.CLI, r.svc.CLI.Scope, r.svc.Audience)
}

// genuineClaims are a genuine CLI token's claims and header kid.
func (r *wlcgRig) genuineClaims(ctx context.Context) (Claims, string, error) {
	tok, err := r.genuine(ctx)
	if err != nil {
		return nil, "", err
	}
	h, c, _, err := decodeToken(tok)
	if err != nil {
		return nil, "", err
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(h, &hdr); err != nil || hdr.Kid == "" {
		return nil, "", fmt.Errorf("genuine token header %s: no kid", h)
	}
	return c, hdr.Kid, nil
}

// send presents tok for cmd over the CLI's transport.
func (r *wlcgRig) send(ctx context.Context, tok, cmd string, args any) (json.RawMessage, error) {
	body, err := Body(cmd, args)
	if err != nil {
		return nil, err
	}
	frames, err := r.t.TokenFrames(tok, body)
	if err != nil {
		return nil, err
	}
	return r.t.Send(ctx, r.configure, frames...)
}

// refused presents tok for cmd and expects a refusal.
func (r *wlcgRig) refused(ctx context.Context, what, tok, cmd string, args any) Result {
	data, err := r.send(ctx, tok, cmd, args)
	return expectRefused(fmt.Sprintf("%s (%s)", what, cmd), data, err)
}

// accepted presents tok for cmd and expects it served.
func (r *wlcgRig) accepted(ctx context.Context, what, tok, cmd string, args any) Result {
	data, err := r.send(ctx, tok, cmd, args)
	if classify(err) == accepted {
		return passf("%s (%s): accepted", what, cmd)
	}
	return failf("%s (%s): refused, want accepted: %v (reply %s)", what, cmd, err, trunc(string(data), 60))
}

// wlcgKey is a signing key of the suite's, with its kid.
type wlcgKey struct {
	alg string
	kid string
	key crypto.Signer
}

func newWLCGKey(alg, kid string) (*wlcgKey, error) {
	switch alg {
	case issuer.ES256:
		k, err := ecdsaP256()
		if err != nil {
			return nil, err
		}
		return &wlcgKey{alg: alg, kid: kid, key: k}, nil
	case issuer.RS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("RSA key: %w", err)
		}
		return &wlcgKey{alg: alg, kid: kid, key: k}, nil
	}
	return nil, fmt.Errorf("no key for %q", alg)
}

// sign signs claims under a header with the key's alg and kid.
func (k *wlcgKey) sign(c Claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	return signWLCG(k.alg, k.key, map[string]any{"kid": k.kid}, payload)
}

// signWLCG signs header and payload with alg: RS256 here, the others as
// signJWS does.
func signWLCG(alg string, key any, extra map[string]any, payload []byte) (string, error) {
	hdr := header(alg, extra)
	if alg != issuer.RS256 {
		return signJWS(alg, key, hdr, payload)
	}
	k, ok := key.(*rsa.PrivateKey)
	if !ok {
		return "", fmt.Errorf("RS256 key is %T", key)
	}
	input := b64(hdr) + "." + b64(payload)
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	if err != nil {
		return "", fmt.Errorf("RS256 sign: %w", err)
	}
	return input + "." + b64(sig), nil
}

func randomKid(prefix string) string { return prefix + hex.EncodeToString(randomBytes(8)) }

// trusted makes a key of the scheme's algorithm, has the relying party
// trust it (schemes.ConformanceWLCGTrustKey) and checks, with the genuine
// claims signed with it, that a token it signs is accepted for a ping: the
// claims returned are those genuine claims, for the case to edit.
func (r *wlcgRig) trusted(ctx context.Context) (*wlcgKey, Claims, Result, error) {
	k, err := newWLCGKey(r.alg, randomKid("conform-trusted-"))
	if err != nil {
		return nil, nil, Result{}, err
	}
	if err := schemes.ConformanceWLCGTrustKey(r.t.Guard, k.kid, k.key.Public()); err != nil {
		return nil, nil, Result{}, err
	}
	c, _, err := r.genuineClaims(ctx)
	if err != nil {
		return nil, nil, Result{}, err
	}
	tok, err := k.sign(c)
	if err != nil {
		return nil, nil, Result{}, err
	}
	ctl := r.accepted(ctx, "control: the genuine claims, trusted key", tok, wfs.CmdPing, nil)
	if ctl.Outcome != Pass {
		return nil, nil, Result{}, errors.New(ctl.Detail)
	}
	return k, c, ctl, nil
}

// edited signs a copy of c, changed by edit, with k.
func (k *wlcgKey) edited(c Claims, edit func(Claims)) (string, error) {
	cc := maps.Clone(c)
	edit(cc)
	return k.sign(cc)
}

// trustedRefusals runs a trusted-key case: each edit of the genuine claims,
// signed with the trusted key, is presented for cmd and must be refused.
func (r *wlcgRig) trustedRefusals(ctx context.Context, cmd string, edits map[string]func(Claims)) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	var rs []Result
	for _, label := range slices.Sorted(maps.Keys(edits)) {
		tok, err := k.edited(c, edits[label])
		if err != nil {
			return broken("sign", err)
		}
		rs = append(rs, r.refused(ctx, label, tok, cmd, nil))
	}
	return all(append(rs, ctl)...)
}

func runWLCGWrongAud(ctx context.Context, r *wlcgRig) Result {
	var rs []Result
	for _, aud := range []string{schemes.WLCGAudience("other-" + r.t.Workflow), strings.ToUpper(r.svc.Audience)} {
		tok, err := r.mint(ctx, r.svc.CLI, r.svc.CLI.Scope, aud)
		if err != nil {
			return broken("mint", err)
		}
		rs = append(rs, r.refused(ctx, fmt.Sprintf("a real token for aud %q", aud), tok, wfs.CmdStop, nil))
	}
	return all(rs...)
}

func runWLCGMissingAud(ctx context.Context, r *wlcgRig) Result {
	return r.trustedRefusals(ctx, wfs.CmdStop, map[string]func(Claims){
		"no aud":   func(c Claims) { delete(c, "aud") },
		"aud null": func(c Claims) { c["aud"] = nil },
		"aud []":   func(c Claims) { c["aud"] = []string{} },
	})
}

func runWLCGAnyAud(ctx context.Context, r *wlcgRig) Result {
	asked, err := r.mint(ctx, r.svc.CLI, r.svc.CLI.Scope, wlcg.AnyAudience)
	if err != nil {
		return broken("mint", err)
	}
	def, err := r.mint(ctx, r.svc.CLI, r.svc.CLI.Scope)
	if err != nil {
		return broken("mint", err)
	}
	if _, c, _, err := decodeToken(def); err != nil || c["aud"] != wlcg.AnyAudience {
		return broken("the issuer's default audience", fmt.Errorf("aud %v, want %s (%v)", c["aud"], wlcg.AnyAudience, err))
	}
	return all(
		r.refused(ctx, "a real token for the any audience", asked, wfs.CmdStop, nil),
		r.refused(ctx, "a real token of the issuer's default (any) audience", def, wfs.CmdStop, nil),
	)
}

// claimTime reads a NumericDate claim.
func claimTime(c Claims, name string) (time.Time, error) {
	n, ok := c[name].(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("claim %s is %v", name, c[name])
	}
	s, err := n.Int64()
	if err != nil {
		return time.Time{}, fmt.Errorf("claim %s: %w", name, err)
	}
	return time.Unix(s, 0), nil
}

func runWLCGExpired(ctx context.Context, r *wlcgRig) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	exp := r.t.Clock.Now().Add(-schemes.DefaultLeeway - 2*time.Minute)
	old, err := k.edited(c, func(c Claims) {
		c["exp"], c["nbf"], c["iat"] = unix(exp), unix(exp.Add(-20*time.Minute)), unix(exp.Add(-20*time.Minute))
	})
	if err != nil {
		return broken("sign", err)
	}
	r1 := r.refused(ctx, "claims expired two minutes beyond the leeway", old, wfs.CmdStop, nil)
	tok, err := r.genuine(ctx)
	if err != nil {
		return broken("mint", err)
	}
	_, gc, _, err := decodeToken(tok)
	if err != nil {
		return broken("genuine token", err)
	}
	gexp, err := claimTime(gc, "exp")
	if err != nil {
		return broken("genuine token", err)
	}
	skip := gexp.Sub(r.t.Clock.Now()) + schemes.DefaultLeeway + time.Minute
	r.t.Clock.Advance(skip)
	r2 := r.refused(ctx, fmt.Sprintf("a real token %s later, a minute past its exp plus the leeway", skip.Round(time.Second)), tok, wfs.CmdStop, nil)
	r.t.Clock.Advance(-skip)
	return all(r1, r2, ctl)
}

func runWLCGNbfFuture(ctx context.Context, r *wlcgRig) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	ahead, err := k.edited(c, func(c Claims) { c["nbf"] = unix(r.t.Clock.Now().Add(10 * time.Minute)) })
	if err != nil {
		return broken("sign", err)
	}
	r1 := r.refused(ctx, "claims with nbf ten minutes ahead", ahead, wfs.CmdStop, nil)
	tok, err := r.genuine(ctx)
	if err != nil {
		return broken("mint", err)
	}
	r.t.Clock.Advance(-10 * time.Minute)
	r2 := r.refused(ctx, "a real token at a WFS ten minutes behind its issuer", tok, wfs.CmdStop, nil)
	r.t.Clock.Advance(10 * time.Minute)
	return all(r1, r2, ctl)
}

func runWLCGVersionMajor(ctx context.Context, r *wlcgRig) Result {
	return r.trustedRefusals(ctx, wfs.CmdStop, map[string]func(Claims){
		`wlcg.ver "2.0"`: func(c Claims) { c["wlcg.ver"] = "2.0" },
	})
}

func runWLCGVersionMinor(ctx context.Context, r *wlcgRig) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	var rs []Result
	for _, v := range []string{"1.9", "1.10"} {
		tok, err := k.edited(c, func(c Claims) { c["wlcg.ver"] = v })
		if err != nil {
			return broken("sign", err)
		}
		rs = append(rs, r.accepted(ctx, fmt.Sprintf("wlcg.ver %q", v), tok, wfs.CmdPing, nil))
	}
	return all(append(rs, ctl)...)
}

func runWLCGScopeLacks(ctx context.Context, r *wlcgRig) Result {
	read, err := r.mint(ctx, r.svc.CLI, wlcg.ComputeRead, r.svc.Audience)
	if err != nil {
		return broken("mint", err)
	}
	job, err := r.mint(ctx, r.svc.Job, r.svc.Job.Scope, r.svc.Audience)
	if err != nil {
		return broken("mint", err)
	}
	if res := r.accepted(ctx, "a real compute.read token", read, wfs.CmdPing, nil); res.Outcome != Pass {
		return broken("the compute.read token's ping", errors.New(res.Detail))
	}
	return all(
		r.refused(ctx, "a real compute.read token", read, wfs.CmdStop, nil),
		r.refused(ctx, fmt.Sprintf("the job client's real token (%s)", r.svc.Job.Scope), job, wfs.CmdStop, nil),
		passf("control: the compute.read token (ping): accepted"),
	)
}

func runWLCGStorageNoPath(ctx context.Context, r *wlcgRig) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	withScope := func(s string) (string, error) { return k.edited(c, func(c Claims) { c["scope"] = s }) }
	good, err := withScope("compute.read storage.read:/")
	if err != nil {
		return broken("sign", err)
	}
	good2 := r.accepted(ctx, "control: scope compute.read storage.read:/", good, wfs.CmdPing, nil)
	if good2.Outcome != Pass {
		return broken("control", errors.New(good2.Detail))
	}
	var rs []Result
	for _, s := range []string{"compute.read storage.read", "compute.read storage.modify:"} {
		tok, err := withScope(s)
		if err != nil {
			return broken("sign", err)
		}
		rs = append(rs, r.refused(ctx, "scope "+s, tok, wfs.CmdPing, nil))
	}
	return all(append(rs, good2, ctl)...)
}

func runWLCGOtherCapabilities(ctx context.Context, r *wlcgRig) Result {
	scopes := []string{
		"storage.read:/ storage.create:/ storage.modify:/ storage.stage:/ storage.poll:/ compute.read compute.modify",
		"compute.cancel:/",
		"compute.create",
		"openid offline_access wlcg wlcg.groups wlcg.groups:/authbench",
	}
	edits := map[string]func(Claims){}
	for i, s := range scopes {
		edits[fmt.Sprintf("#%d scope %s", i+1, s)] = func(c Claims) { c["scope"] = s }
	}
	return r.trustedRefusals(ctx, wfs.CmdStop, edits)
}

func runWLCGOtherIssuer(ctx context.Context, r *wlcgRig) Result {
	secret := hex.EncodeToString(randomBytes(16))
	other, err := issuer.Start(ctx, issuer.Config{Algs: []string{r.alg}, Clients: []issuer.Client{
		{ID: r.svc.CLI.ID, Secret: secret, Scopes: strings.Fields(r.svc.CLI.Scope)},
	}})
	if err != nil {
		return broken("second issuer", err)
	}
	defer other.Close()
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	// The trusted key goes first: the second issuer's unknown kid makes the
	// WFS refetch its JWKS, which drops the trusted key.
	swapped, err := k.edited(c, func(c Claims) { c["iss"] = other.URL() })
	if err != nil {
		return broken("sign", err)
	}
	r1 := r.refused(ctx, "the genuine claims with the second issuer's iss", swapped, wfs.CmdStop, nil)
	tok, err := mintWLCG(ctx, r.hc, other.TokenURL(), schemes.WLCGClient{ID: r.svc.CLI.ID, Secret: secret}, r.svc.CLI.Scope, r.svc.Audience)
	if err != nil {
		return broken("mint at the second issuer", err)
	}
	return all(r1, r.refused(ctx, "a token the second issuer minted", tok, wfs.CmdStop, nil), ctl)
}

func runWLCGRotation(ctx context.Context, r *wlcgRig) Result {
	before, err := r.genuine(ctx)
	if err != nil {
		return broken("mint", err)
	}
	oldKid := r.iss.KeyID()
	if err := r.iss.RotateKeys(); err != nil {
		return broken("rotate", err)
	}
	newKid := r.iss.KeyID()
	c, kid, err := r.genuineClaims(ctx)
	if err != nil {
		return broken("mint after the rotation", err)
	}
	if kid != newKid || kid == oldKid {
		return broken("rotation", fmt.Errorf("token kid %s, issuer's %s, before %s", kid, newKid, oldKid))
	}
	fresh, err := r.genuine(ctx)
	if err != nil {
		return broken("mint", err)
	}
	rs := []Result{
		r.accepted(ctx, "a real token with the new kid", fresh, wfs.CmdPing, nil),
		r.accepted(ctx, "a real token signed before the rotation", before, wfs.CmdPing, nil),
	}
	// Past the refetch interval, an unknown kid may make the WFS refetch
	// once; the other 19 must not.
	r.t.Clock.Advance(schemes.WLCGRefetchInterval + time.Second)
	k, err := newWLCGKey(r.alg, "")
	if err != nil {
		return broken("key", err)
	}
	issBefore := r.iss.Stats().JWKS
	rpBefore, rpCounts := r.t.Guard.Stats()["wlcg.jwks_refetches"]
	const n = 20
	for i := range n {
		k.kid = randomKid("unknown-")
		tok, err := k.sign(c)
		if err != nil {
			return broken("sign", err)
		}
		if res := r.refused(ctx, fmt.Sprintf("unknown kid #%d", i+1), tok, wfs.CmdPing, nil); res.Outcome != Pass {
			return res
		}
	}
	fetched := r.iss.Stats().JWKS - issBefore
	detail := fmt.Sprintf("%d tokens with unknown kids refused; the issuer served %d JWKS request(s)", n, fetched)
	if rpCounts {
		refetches := r.t.Guard.Stats()["wlcg.jwks_refetches"] - rpBefore
		detail += fmt.Sprintf(", the scheme counted %v refetch(es)", refetches)
		if refetches > 1 {
			return failf("%s: want at most 1", detail)
		}
	}
	if fetched > 1 {
		return failf("%s: want at most 1", detail)
	}
	return all(append([]Result{passf("%s", detail)}, rs...)...)
}

func runWLCGAlgNone(ctx context.Context, r *wlcgRig) Result {
	c, kid, err := r.genuineClaims(ctx)
	if err != nil {
		return broken("mint", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return broken("claims", err)
	}
	var rs []Result
	for _, alg := range []string{"none", "None", "NONE"} {
		tok := b64(header(alg, map[string]any{"kid": kid})) + "." + b64(payload) + "."
		rs = append(rs, r.refused(ctx, fmt.Sprintf("alg %q", alg), tok, wfs.CmdStop, nil))
	}
	return all(rs...)
}

func runWLCGHS256(ctx context.Context, r *wlcgRig) Result {
	c, kid, err := r.genuineClaims(ctx)
	if err != nil {
		return broken("mint", err)
	}
	var set jose.JSONWebKeySet
	if err := getJSONDoc(ctx, r.hc, r.iss.JWKSURL(), &set); err != nil {
		return broken("JWKS", err)
	}
	keys := set.Key(kid)
	if len(keys) != 1 {
		return broken("JWKS", fmt.Errorf("%d keys with kid %s", len(keys), kid))
	}
	jwk, err := json.Marshal(keys[0])
	if err != nil {
		return broken("JWK", err)
	}
	der, err := x509.MarshalPKIXPublicKey(keys[0].Key)
	if err != nil {
		return broken("DER", err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	payload, err := json.Marshal(c)
	if err != nil {
		return broken("claims", err)
	}
	var rs []Result
	for _, s := range []struct {
		name   string
		secret []byte
	}{{"JWK JSON", jwk}, {"DER", der}, {"PEM", pemBytes}} {
		tok, err := signJWS("HS256", s.secret, header("HS256", map[string]any{"kid": kid}), payload)
		if err != nil {
			return broken("sign", err)
		}
		rs = append(rs, r.refused(ctx, "HS256 keyed with the public key's "+s.name, tok, wfs.CmdStop, nil))
	}
	return all(rs...)
}

func runWLCGOtherKey(ctx context.Context, r *wlcgRig) Result {
	c, kid, err := r.genuineClaims(ctx)
	if err != nil {
		return broken("mint", err)
	}
	k, err := newWLCGKey(r.alg, kid)
	if err != nil {
		return broken("key", err)
	}
	tok, err := k.sign(c)
	if err != nil {
		return broken("sign", err)
	}
	return r.refused(ctx, fmt.Sprintf("the genuine claims and kid signed with another %s key", r.alg), tok, wfs.CmdStop, nil)
}

// getJSONDoc GETs a JSON document.
func getJSONDoc(ctx context.Context, hc *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// The storage relying party.

// storageAudience is the storage relying party's audience.
const storageAudience = "https://storage.conform.invalid"

// storageClient is the storage issuer's client id.
const storageClient = "conform-storage"

// storageRP is a small storage endpoint over HTTP on loopback, a WLCG relying
// party as a storage element is one: it verifies a bearer token against its
// issuer's JWKS (RS256 or ES256, by kid) and the profile's claim rules
// (wlcg.Validate, its own audience), then authorises the request's
// operation on its path with rule (the scheme's: see
// schemes.ConformanceWLCGStorageAllows). GET reads, PUT creates (or
// modifies, when the file exists), DELETE deletes; a path is authorised as
// the request names it and served cleaned, as a file system resolves it.
type storageRP struct {
	expect wlcg.Expect
	keys   jose.JSONWebKeySet
	rule   func(scopes []wlcg.Scope, op, path string) bool

	mu    sync.Mutex
	files map[string]string

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// storageRig is a storage relying party with its own issuer, whose client
// may be granted storage.read, storage.create and storage.modify on /cms.
type storageRig struct {
	iss    *issuer.Issuer
	rp     *storageRP
	hc     *http.Client
	secret string
}

func startStorage(ctx context.Context, r *wlcgRig) (*storageRig, error) {
	rule := schemes.ConformanceWLCGStorageAllows(r.t.Guard)
	if rule == nil {
		return nil, errors.New("the scheme has no wlcg capability rule")
	}
	secret := hex.EncodeToString(randomBytes(16))
	iss, err := issuer.Start(ctx, issuer.Config{Algs: []string{r.alg}, Clients: []issuer.Client{{
		ID: storageClient, Secret: secret,
		Scopes: []string{wlcg.StorageRead + ":/cms", wlcg.StorageCreate + ":/cms", wlcg.StorageModify + ":/cms"},
	}}})
	if err != nil {
		return nil, fmt.Errorf("storage issuer: %w", err)
	}
	s := &storageRig{iss: iss, hc: r.hc, secret: secret}
	rp := &storageRP{
		expect: wlcg.Expect{Issuer: iss.URL(), Audience: storageAudience, Leeway: schemes.DefaultLeeway},
		rule:   rule,
		files:  map[string]string{"/cms/data.root": "cms data", "/cmsx/secret.root": "cmsx secret"},
		done:   make(chan struct{}),
	}
	if err := getJSONDoc(ctx, r.hc, iss.JWKSURL(), &rp.keys); err != nil {
		_ = iss.Close()
		return nil, fmt.Errorf("storage issuer's JWKS: %w", err)
	}
	if rp.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		_ = iss.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	rp.srv = &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(rp.serve)}
	go func() {
		defer close(rp.done)
		_ = rp.srv.Serve(rp.ln)
	}()
	s.rp = rp
	return s, nil
}

func (s *storageRig) close() {
	_ = s.rp.srv.Close()
	<-s.rp.done
	_ = s.iss.Close()
}

// token asks the storage issuer for a token of scope for the storage
// audience.
func (s *storageRig) token(ctx context.Context, scope string) (string, error) {
	return mintWLCG(ctx, s.hc, s.iss.TokenURL(), schemes.WLCGClient{ID: storageClient, Secret: s.secret}, scope, storageAudience)
}

// verify checks a bearer token and returns its capability scopes.
func (rp *storageRP) verify(tok string) ([]wlcg.Scope, error) {
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want one signature")
	}
	h := jws.Signatures[0].Header
	keys := rp.keys.Key(h.KeyID)
	if h.KeyID == "" || len(keys) != 1 || keys[0].Algorithm != h.Algorithm {
		return nil, fmt.Errorf("unknown kid %q for %s", h.KeyID, h.Algorithm)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		return nil, err
	}
	var c wlcg.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	if err := wlcg.Validate(c, rp.expect, time.Now()); err != nil {
		return nil, err
	}
	return wlcg.ParseScopes(c.Scope)
}

func (rp *storageRP) serve(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "no bearer token", http.StatusUnauthorized)
		return
	}
	scopes, err := rp.verify(tok)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	name := path.Clean(p)
	rp.mu.Lock()
	defer rp.mu.Unlock()
	_, exists := rp.files[name]
	var op string
	switch r.Method {
	case http.MethodGet:
		op = wlcg.OpRead
	case http.MethodPut:
		op = wlcg.OpCreate
		if exists {
			op = wlcg.OpModify
		}
	case http.MethodDelete:
		op = wlcg.OpDelete
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !rp.rule(scopes, op, p) {
		http.Error(w, fmt.Sprintf("%s %s not allowed", op, p), http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if !exists {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, rp.files[name])
	case http.MethodPut:
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		rp.files[name] = string(b)
		if exists {
			w.WriteHeader(http.StatusNoContent)
		} else {
			w.WriteHeader(http.StatusCreated)
		}
	case http.MethodDelete:
		delete(rp.files, name)
		w.WriteHeader(http.StatusNoContent)
	}
}

// do sends one storage request with tok and returns its status.
func (s *storageRig) do(ctx context.Context, tok, method, p string) (int, error) {
	var body io.Reader
	if method == http.MethodPut {
		body = strings.NewReader("conform")
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.rp.ln.Addr().String()+p, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// storageStep is one request to the storage relying party and whether it
// must be allowed (a 2xx) or refused (403).
type storageStep struct {
	scope, method, path string
	allow               bool
}

// runStorage mints a token per scope and runs the steps in order.
func runStorage(ctx context.Context, r *wlcgRig, steps []storageStep) Result {
	s, err := startStorage(ctx, r)
	if err != nil {
		return broken("storage relying party", err)
	}
	defer s.close()
	toks := map[string]string{}
	var rs []Result
	for _, st := range steps {
		tok, ok := toks[st.scope]
		if !ok {
			if tok, err = s.token(ctx, st.scope); err != nil {
				return broken("storage token", err)
			}
			toks[st.scope] = tok
		}
		code, err := s.do(ctx, tok, st.method, st.path)
		if err != nil {
			return broken("storage request", err)
		}
		what := fmt.Sprintf("%s %s with %s: %d", st.method, st.path, st.scope, code)
		switch {
		case st.allow && code/100 == 2:
			rs = append(rs, passf("%s (allowed)", what))
		case st.allow:
			rs = append(rs, failf("%s, want allowed", what))
		case code == http.StatusForbidden:
			rs = append(rs, passf("%s (refused)", what))
		default:
			rs = append(rs, failf("%s, want 403", what))
		}
	}
	return all(rs...)
}

func runWLCGStoragePrefix(ctx context.Context, r *wlcgRig) Result {
	const sc = "storage.read:/cms storage.create:/cms/out"
	return runStorage(ctx, r, []storageStep{
		{sc, http.MethodGet, "/cms/data.root", true},
		{sc, http.MethodPut, "/cms/out/f.root", true},
		{sc, http.MethodGet, "/cmsx/secret.root", false},
		{sc, http.MethodGet, "/cms/../cmsx/secret.root", false},
		{sc, http.MethodPut, "/cms/outx/f.root", false},
	})
}

func runWLCGStorageCreateModify(ctx context.Context, r *wlcgRig) Result {
	const create, modify = "storage.create:/cms", "storage.modify:/cms"
	return runStorage(ctx, r, []storageStep{
		{create, http.MethodPut, "/cms/new.root", true},
		{create, http.MethodGet, "/cms/data.root", false},
		{create, http.MethodPut, "/cms/data.root", false},
		{create, http.MethodDelete, "/cms/data.root", false},
		{modify, http.MethodPut, "/cms/new2.root", true},
		{modify, http.MethodPut, "/cms/data.root", true},
		{modify, http.MethodGet, "/cms/data.root", false},
	})
}
