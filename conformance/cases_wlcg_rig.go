package conformance

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	zmq "github.com/pebbe/zmq4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

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
