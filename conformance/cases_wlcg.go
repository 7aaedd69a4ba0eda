package conformance

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/wlcg"
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
		wlcgCase("wlcg/crit-empty", "authn", live+`the genuine claims signed with a trusted key under a header whose crit is not a non-empty list of understood names: [] (RFC 7515 section 4.1.11 forbids it), null, "b64" (a string), and ["b64"] without a b64 member, run stop`,
			runWLCGCrit),
		wlcgCase("wlcg/alg-none", "authn", live+`the genuine claims and kid unsigned, header alg "none", "None" and "NONE", run stop`,
			runWLCGAlgNone),
		wlcgCase("wlcg/hs256-jwks-key", "authn", live+"HS256 with the genuine kid, keyed with that kid's public key from the issuer's JWKS (the JWK JSON, the DER, the PEM), run stop",
			runWLCGHS256),
		wlcgCase("wlcg/other-key", "authn", live+"the genuine claims and kid re-signed with another key of the scheme's algorithm, run stop",
			runWLCGOtherKey),
	}
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

func runWLCGCrit(ctx context.Context, r *wlcgRig) Result {
	k, c, ctl, err := r.trusted(ctx)
	if err != nil {
		return broken("trusted key", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return broken("claims", err)
	}
	var rs []Result
	for _, crit := range critVariants() {
		tok, err := signWLCG(k.alg, k.key, map[string]any{"kid": k.kid, "crit": crit}, payload)
		if err != nil {
			return broken("sign", err)
		}
		v, _ := json.Marshal(crit)
		rs = append(rs, r.refused(ctx, "crit "+string(v), tok, wfs.CmdStop, nil))
	}
	return all(append(rs, ctl)...)
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
	if err := issuer.GetJSON(ctx, r.hc, r.iss.JWKSURL(), &set); err != nil {
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
