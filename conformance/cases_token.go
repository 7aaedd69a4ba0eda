package conformance

import (
	"context"
	"crypto"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// forgery makes attack tokens from a genuine one stolen from the target.
type forgery func(t *Target, genuine string) ([]string, error)

// tokenCase is a case that presents forged tokens for a stop request.
func tokenCase(id, claim, title string, applies func(*schemes.Scheme) bool, forge forgery) Case {
	if applies == nil {
		applies = isToken
	}
	return Case{ID: id, Claim: claim, Title: title, Applies: applies, Run: func(ctx context.Context, e *Env) Result {
		return runForgery(ctx, e, title, forge)
	}}
}

// runForgery steals a genuine CLI token, forges tokens from it and sends
// each with a stop request over a valid transport: every one must be
// refused.
func runForgery(ctx context.Context, e *Env, what string, forge forgery) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	genuine, err := t.StealToken(ctx, CLI())
	if err != nil {
		return broken("steal a genuine token", err)
	}
	toks, err := forge(t, genuine)
	if err != nil {
		return broken("forge", err)
	}
	configure, done, err := t.transport(CLI())
	if err != nil {
		return broken("client", err)
	}
	defer done()
	body, err := Body(wfs.CmdStop, nil)
	if err != nil {
		return broken("body", err)
	}
	var rs []Result
	for i, tok := range toks {
		frames, err := t.TokenFrames(tok, body)
		if err != nil {
			return broken("frames", err)
		}
		data, err := t.Send(ctx, configure, frames...)
		label := "forged token"
		if len(toks) > 1 {
			label = fmt.Sprintf("forged token #%d", i+1)
		}
		rs = append(rs, expectRefused(label, data, err))
	}
	return all(rs...)
}

// resigned is a forgery that edits the genuine token's claims and signs it
// with the WFS's real key.
func resigned(change func(t *Target, c Claims)) forgery {
	return func(t *Target, genuine string) ([]string, error) {
		tok, err := t.resign(genuine, func(c Claims) { change(t, c) })
		return []string{tok}, err
	}
}

// unix is a NumericDate claim value.
func unix(at time.Time) json.Number { return json.Number(fmt.Sprint(at.Unix())) }

// withHeader signs the genuine claims under a header with extra entries,
// with key (nil: the WFS's real key).
func withHeader(t *Target, genuine, alg string, key any, extra map[string]any) (string, error) {
	_, c, _, err := decodeToken(genuine)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	if key == nil {
		if alg, key, err = t.realKey(); err != nil {
			return "", err
		}
	}
	return signJWS(alg, key, header(alg, extra), payload)
}

// attackerAlg is the algorithm an attacker signing with a key of their own
// claims: the scheme's when it is asymmetric (so that only the key decides),
// ES256 otherwise.
func attackerAlg(sc *schemes.Scheme) string {
	if a := tokenAlg(sc); a != "HS256" {
		return a
	}
	return "ES256"
}

// publicOf returns the public half of a private key.
func publicOf(k any) any {
	if s, ok := k.(crypto.Signer); ok {
		return s.Public()
	}
	return nil
}

// hasPublicKeyFile reports whether the scheme publishes a public key an
// attacker might try as an HMAC secret: jwt with ES256 or EdDSA, jwe with
// ECDH-ES.
func hasPublicKeyFile(sc *schemes.Scheme) bool {
	sp := sc.Spec()
	return (sp.Credential == "jwt" && (sp.Alg == "ES256" || sp.Alg == "EdDSA")) ||
		(sp.Credential == "jwe" && sp.Alg == "ECDH-ES")
}

func tokenCases() []Case {
	return []Case{
		tokenCase("token/tampered-payload", "authn", "a genuine token whose payload was edited (sub mallory, every scope), signature kept", nil,
			func(_ *Target, genuine string) ([]string, error) {
				parts := strings.Split(genuine, ".")
				_, c, _, err := decodeToken(genuine)
				if err != nil {
					return nil, err
				}
				c["sub"] = "mallory"
				c["scope"] = strings.Join([]string{schemes.ScopeRead, schemes.ScopeControl, schemes.ScopeJobMessage}, " ")
				p, err := json.Marshal(c)
				if err != nil {
					return nil, fmt.Errorf("claims: %w", err)
				}
				return []string{parts[0] + "." + b64(p) + "." + parts[2]}, nil
			}),
		tokenCase("token/other-key", "authn", "the genuine claims re-signed with another key of the scheme's algorithm", nil,
			func(t *Target, genuine string) ([]string, error) {
				alg := tokenAlg(t.Scheme)
				k, err := freshKey(alg)
				if err != nil {
					return nil, err
				}
				tok, err := withHeader(t, genuine, alg, k, nil)
				return []string{tok}, err
			}),
		tokenCase("token/alg-none", "authn", `the genuine claims unsigned, header alg "none"`, nil,
			func(t *Target, genuine string) ([]string, error) {
				tok, err := withHeader(t, genuine, "none", []byte(nil), nil)
				return []string{tok}, err
			}),
		tokenCase("token/alg-NONE", "authn", `the genuine claims unsigned, header alg "NONE"`, nil,
			func(t *Target, genuine string) ([]string, error) {
				tok, err := withHeader(t, genuine, "NONE", []byte(nil), nil)
				return []string{tok}, err
			}),
		tokenCase("token/hs256-public-key", "authn", "HS256 signed with the scheme's public key (PEM, then DER) as the HMAC secret", hasPublicKeyFile,
			func(t *Target, genuine string) ([]string, error) {
				name := schemes.JWTPublicKeyFile
				if isJWE(t.Scheme) {
					name = schemes.JWEPublicKeyFile
				}
				pemBytes, err := t.readService(name)
				if err != nil {
					return nil, err
				}
				blk, _ := pem.Decode(pemBytes)
				if blk == nil {
					return nil, fmt.Errorf(".service/%s: no PEM block", name)
				}
				var toks []string
				for _, k := range [][]byte{pemBytes, blk.Bytes} {
					tok, err := withHeader(t, genuine, "HS256", k, nil)
					if err != nil {
						return nil, err
					}
					toks = append(toks, tok)
				}
				return toks, nil
			}),
		tokenCase("token/embedded-jwk", "authn", "signed with the attacker's key, which the header carries as an embedded jwk", nil,
			func(t *Target, genuine string) ([]string, error) {
				alg := attackerAlg(t.Scheme)
				k, err := freshKey(alg)
				if err != nil {
					return nil, err
				}
				jwk, err := json.Marshal(jose.JSONWebKey{Key: publicOf(k), Algorithm: alg, Use: "sig"})
				if err != nil {
					return nil, fmt.Errorf("jwk: %w", err)
				}
				tok, err := withHeader(t, genuine, alg, k, map[string]any{"jwk": json.RawMessage(jwk)})
				return []string{tok}, err
			}),
		keyURLCase("token/jku", "jku"),
		keyURLCase("token/x5u", "x5u"),
		tokenCase("token/noncanonical", "authn", "a genuine token spelled otherwise: a trailing newline, a CRLF in its signature, base64 padding, changed unused bits (one token string per signature)", nil,
			func(_ *Target, genuine string) ([]string, error) {
				parts := strings.Split(genuine, ".")
				if len(parts) != 3 || len(parts[2]) < 8 {
					return nil, fmt.Errorf("not a compact JWS")
				}
				twins := []string{genuine + "\n", parts[0] + "." + parts[1] + "." + parts[2][:4] + "\r\n" + parts[2][4:], genuine + "=="}
				if m := malleate(genuine); m != genuine {
					twins = append(twins, m)
				}
				return twins, nil
			}),
		tokenCase("token/b64-header", "authn", `signed with the real key, header "b64": true without crit (RFC 7797 section 6 requires it in crit)`, nil,
			func(t *Target, genuine string) ([]string, error) {
				tok, err := withHeader(t, genuine, "", nil, map[string]any{"b64": true})
				return []string{tok}, err
			}),
		tokenCase("token/crit-unknown", "authn", "signed with the real key, header crit naming an extension the WFS does not know", nil,
			func(t *Target, genuine string) ([]string, error) {
				tok, err := withHeader(t, genuine, "", nil, map[string]any{"crit": []string{"urn:authbench:conform"}, "urn:authbench:conform": true})
				return []string{tok}, err
			}),
		tokenCase("token/crit-empty", "authn", `signed with the real key, header crit not a non-empty list of understood names: [] (RFC 7515 section 4.1.11 forbids it), null, "b64" (a string), and ["b64"] without a b64 member (an extension go-jose knows, authbench does not use)`, nil,
			func(t *Target, genuine string) ([]string, error) {
				var toks []string
				for _, crit := range critVariants() {
					tok, err := withHeader(t, genuine, "", nil, map[string]any{"crit": crit})
					if err != nil {
						return nil, err
					}
					toks = append(toks, tok)
				}
				return toks, nil
			}),
		tokenCase("token/duplicate-exp", "expires", "signed with the real key, payload with exp twice: a year ahead, then expired (the last must win, or the token be refused)", nil,
			func(t *Target, genuine string) ([]string, error) {
				_, c, _, err := decodeToken(genuine)
				if err != nil {
					return nil, err
				}
				now := t.Clock.Now()
				delete(c, "exp")
				rest, err := json.Marshal(c)
				if err != nil {
					return nil, fmt.Errorf("claims: %w", err)
				}
				payload := fmt.Sprintf(`{"exp":%d,%s,"exp":%d}`, now.Add(365*24*time.Hour).Unix(),
					strings.TrimSuffix(strings.TrimPrefix(string(rest), "{"), "}"), now.Add(-schemes.DefaultLeeway-5*time.Minute).Unix())
				alg, key, err := t.realKey()
				if err != nil {
					return nil, err
				}
				tok, err := signJWS(alg, key, header(alg, nil), []byte(payload))
				return []string{tok}, err
			}),
		tokenCase("token/missing-exp", "expires", "signed with the real key, no exp claim", nil,
			resigned(func(_ *Target, c Claims) { delete(c, "exp") })),
		tokenCase("token/expired", "expires", "signed with the real key, expired two minutes beyond the leeway", nil,
			resigned(func(t *Target, c Claims) {
				exp := t.Clock.Now().Add(-schemes.DefaultLeeway - 2*time.Minute)
				c["exp"], c["nbf"], c["iat"] = unix(exp), unix(exp.Add(-time.Minute)), unix(exp.Add(-time.Minute))
			})),
		tokenCase("token/nbf-future", "expires", "signed with the real key, nbf ten minutes ahead", nil,
			resigned(func(t *Target, c Claims) { c["nbf"] = unix(t.Clock.Now().Add(10 * time.Minute)) })),
		tokenCase("token/iat-future", "expires", "signed with the real key, iat ten minutes ahead", nil,
			resigned(func(t *Target, c Claims) { c["iat"] = unix(t.Clock.Now().Add(10 * time.Minute)) })),
		tokenCase("token/wrong-aud", "audience", "signed with the real key, aud another workflow (alone, then beside this one)", nil,
			func(t *Target, genuine string) ([]string, error) {
				var toks []string
				for _, aud := range [][]string{{"other-" + t.Workflow}, {t.Workflow, "other-" + t.Workflow}} {
					tok, err := t.resign(genuine, func(c Claims) { c["aud"] = aud })
					if err != nil {
						return nil, err
					}
					toks = append(toks, tok)
				}
				return toks, nil
			}),
		tokenCase("token/missing-aud", "audience", "signed with the real key, no aud claim", nil,
			resigned(func(_ *Target, c Claims) { delete(c, "aud") })),
		{
			ID: "token/wrong-typ", Claim: "fine-authz",
			Applies: func(sc *schemes.Scheme) bool {
				return policyIs(sc, schemes.PolicyJob, schemes.PolicyCommand, schemes.PolicyShared)
			},
			Title: "a CLI token sends a job's message, and a job token asks for the UI server's data",
			Run:   runWrongTyp,
		},
		{
			ID: "token/job-after-end", Claim: "job-revoke", Applies: isToken,
			Title: "a job's token, read while the job ran, sends a message after the job has ended",
			Run:   runJobAfterEnd,
		},
		{
			ID: "token/replay-sequential", Claim: "replay-proof", Applies: isToken,
			Title: "a genuine request (its token inside) sent twice, one after the other",
			Run:   runReplaySequential,
		},
		{
			ID: "token/replay-concurrent", Claim: "replay-proof", Applies: isToken,
			Title: "a genuine request sent twice at once, five rounds: exactly one of each pair may pass",
			Run:   runReplayConcurrent,
		},
		{
			ID: "token/replay-twin", Claim: "replay-proof", Applies: isToken,
			Title: "a genuine token used as a non-canonical base64 twin of itself (padding bit flipped), then as itself",
			Run:   runReplayTwin,
		},
		{
			ID: "token/es256-high-s-twin", Claim: "replay-proof",
			Applies: func(sc *schemes.Scheme) bool { return sc.Spec().Credential == "jwt" && sc.Spec().Alg == "ES256" },
			Title:   "a genuine ES256 token used, then its high-S twin (S replaced by n - S: the same claims, a signature that also verifies)",
			Run:     runHighSTwin,
		},
		{
			ID: "token/other-workflow", Claim: "audience", Applies: anyScheme,
			Title: "a genuine request of another workflow's client (same scheme, another WFS) sent to this WFS",
			Run:   runOtherWorkflow,
		},
		{
			ID: "token/rotated-out", Claim: "expires",
			Applies: func(sc *schemes.Scheme) bool { return policyIs(sc, schemes.PolicyTimed) },
			Title:   "a timed token used one second after its rotation overlap has ended",
			Run:     runRotatedOut,
		},
		{
			ID: "token/shared-window-over", Claim: "expires",
			Applies: func(sc *schemes.Scheme) bool { return policyIs(sc, schemes.PolicyShared) },
			Title:   "a shared token used one second after its window (inside the clock-skew leeway)",
			Run:     runSharedWindowOver,
		},
	}
}

// keyURLCase signs with the attacker's key and points the header's jku or
// x5u at the attacker's HTTP server on loopback: the token must be refused
// and the server never fetched from.
func keyURLCase(id, param string) Case {
	return Case{
		ID: id, Claim: "authn", Applies: isToken,
		Title: fmt.Sprintf("signed with the attacker's key, header %s naming the attacker's key server on loopback (which must get no request)", param),
		Run: func(ctx context.Context, e *Env) Result {
			ks, err := startKeyServer()
			if err != nil {
				return broken("key server", err)
			}
			defer ks.close()
			r := runForgery(ctx, e, param, func(t *Target, genuine string) ([]string, error) {
				alg := attackerAlg(t.Scheme)
				k, err := freshKey(alg)
				if err != nil {
					return nil, err
				}
				ks.setKey(publicOf(k), alg)
				tok, err := withHeader(t, genuine, alg, k, map[string]any{param: ks.url(param), "kid": "attacker"})
				return []string{tok}, err
			})
			if n := ks.hits.Load(); n > 0 {
				return failf("the WFS fetched the %s URL %d time(s) (%s)", param, n, r.Detail)
			}
			if r.Outcome == Pass {
				r.Detail += "; no fetch from the " + param + " URL"
			}
			return r
		},
	}
}

// keyServer is the attacker's key server: it serves a JWK set and a PEM
// certificate chain placeholder, and counts every request.
type keyServer struct {
	ln   net.Listener
	srv  *http.Server
	hits atomic.Int64
	mu   sync.Mutex
	jwks []byte
	done chan struct{}
}

func startKeyServer() (*keyServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ks := &keyServer{ln: ln, done: make(chan struct{})}
	ks.srv = &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		b := ks.jwks
		ks.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})}
	go func() {
		defer close(ks.done)
		_ = ks.srv.Serve(ln)
	}()
	return ks, nil
}

func (ks *keyServer) url(param string) string {
	return "http://" + ks.ln.Addr().String() + "/" + param
}

func (ks *keyServer) setKey(pub any, alg string) {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: "attacker", Algorithm: alg, Use: "sig"}}})
	ks.mu.Lock()
	ks.jwks = b
	ks.mu.Unlock()
}

func (ks *keyServer) close() {
	_ = ks.srv.Close()
	<-ks.done
}

func runWrongTyp(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	cli, err := t.Prepare(ctx, CLI(), wfs.CmdMessage, Message(job.ID, "succeeded"))
	if err != nil {
		return broken("CLI client", err)
	}
	defer cli.Close()
	data, err := t.SendPrepared(ctx, cli)
	r1 := expectRefused("CLI token for a job message", data, err)
	jp, err := t.Prepare(ctx, job, wfs.CmdData, wfs.DataArgs{Size: 16})
	if err != nil {
		return broken("job client", err)
	}
	defer jp.Close()
	data, err = t.SendPrepared(ctx, jp)
	return all(r1, expectRefused("job token for a data poll", data, err))
}

func runOtherWorkflow(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	other, err := e.Start(TargetConfig{Workflow: "other-" + DefaultWorkflow})
	if err != nil {
		return broken("start the other workflow", err)
	}
	p, err := other.Prepare(ctx, CLI(), wfs.CmdStop, nil)
	if err != nil {
		return broken("the other workflow's client", err)
	}
	defer p.Close()
	data, err := t.SendPrepared(ctx, p)
	return expectRefused("the other workflow's stop request", data, err)
}

// timedPolicy parses LIFETIME[/OVERLAP] (overlap a tenth by default).
func timedPolicy(arg string) (lifetime, overlap time.Duration, err error) {
	life, over, hasOver := strings.Cut(arg, "/")
	if lifetime, err = time.ParseDuration(life); err != nil {
		return 0, 0, fmt.Errorf("timed=%s: %w", arg, err)
	}
	overlap = lifetime / 10
	if hasOver {
		if overlap, err = time.ParseDuration(over); err != nil {
			return 0, 0, fmt.Errorf("timed=%s: %w", arg, err)
		}
	}
	return lifetime, overlap, nil
}

func runRotatedOut(ctx context.Context, e *Env) Result {
	lifetime, overlap, err := timedPolicy(e.Scheme.Spec().Arg)
	if err != nil {
		return broken("policy", err)
	}
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, CLI(), wfs.CmdHold, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	if _, err := t.SendPrepared(ctx, p); err != nil {
		return broken("fresh token", err)
	}
	t.Clock.Advance(lifetime + overlap + time.Second)
	if err := t.Tick(ctx); err != nil {
		return broken("tick", err)
	}
	data, err := t.SendPrepared(ctx, p)
	return expectRefused(fmt.Sprintf("token %s after minting (lifetime %s, overlap %s)", lifetime+overlap+time.Second, lifetime, overlap), data, err)
}

func runSharedWindowOver(ctx context.Context, e *Env) Result {
	window, err := time.ParseDuration(e.Scheme.Spec().Arg)
	if err != nil {
		return broken("policy", err)
	}
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, CLI(), wfs.CmdHold, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	if _, err := t.SendPrepared(ctx, p); err != nil {
		return broken("fresh token", err)
	}
	t.Clock.Advance(window + time.Second)
	data, err := t.SendPrepared(ctx, p)
	return expectRefused(fmt.Sprintf("token %s after minting (window %s)", window+time.Second, window), data, err)
}

// critVariants are the crit values the crit-empty cases send, none of them
// a non-empty list of names the header carries and the WFS understands.
func critVariants() []any {
	return []any{[]string{}, nil, "b64", []string{"b64"}}
}
