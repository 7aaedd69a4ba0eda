// Package rp is a WLCG relying party's token check, the one used by the wlcg
// credential's WFS, by the token flows' storage elements and by the
// conformance suite's storage endpoint: it discovers the issuer's JWKS,
// caches it for the 6 hours the WLCG Common JWT Profile allows (refetching
// at most once per interval when a token names an unknown kid), verifies a
// compact JWS access token (RS256 or ES256, the alg of the key its kid
// names) and applies the profile's claim rules (package wlcg) with the
// relying party's own issuer and audience.
//
// Every refusal is a [*Refusal] whose Label names the reason (see [Label]),
// so that callers count refusals by reason with the same labels.
package rp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/wlcg"
)

// Defaults of a [Config].
const (
	// DefaultTTL is how long the JWKS is cached: the 6 hours the WLCG
	// profile gives relying parties for caching an issuer's public keys.
	DefaultTTL = 6 * time.Hour
	// DefaultMinRefetch bounds the refetches unknown kids trigger: at most
	// one per interval, so that tokens with made-up kids cannot make the
	// relying party hammer the issuer.
	DefaultMinRefetch = 10 * time.Second
	// DefaultFetchTimeout bounds one discovery or JWKS exchange.
	DefaultFetchTimeout = 5 * time.Second
	// MaxTokenLen is the longest token verified (16 KiB).
	MaxTokenLen = 16 << 10
)

// Refusal labels besides wlcg.Classify's ("issuer", "audience", "expired",
// "not_yet_valid", "version", "scope", "groups", "missing_claim",
// "malformed").
const (
	RefusedNoToken    = "no_token"           // no token presented
	RefusedMalformed  = "malformed"          // not a compact JWS of one signature
	RefusedAlgorithm  = "algorithm"          // alg not RS256/ES256, or not the key's
	RefusedUnknownKey = "unknown_key"        // no kid, or a kid the JWKS lacks
	RefusedSignature  = "signature"          // the signature does not verify
	RefusedScope      = "insufficient_scope" // verified, but no scope for the operation
)

// Refusal is why a token was refused: Label (a Refused* constant or one of
// wlcg.Classify's) and the error, whose message is one line.
type Refusal struct {
	Label string
	Err   error
}

// Error returns "token: " and the reason.
func (r *Refusal) Error() string { return "token: " + r.Err.Error() }

// Unwrap returns the reason.
func (r *Refusal) Unwrap() error { return r.Err }

// Refuse returns a Refusal of label for err.
func Refuse(label string, err error) error { return &Refusal{Label: label, Err: err} }

// Label returns err's refusal label: "" for nil, a Refusal's label, else
// wlcg.Classify's.
func Label(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Label
	}
	return wlcg.Classify(err)
}

// Config is a relying party: who it trusts and who it is.
type Config struct {
	// Issuer is the trusted issuer (its iss and where its discovery
	// document is); Audience the relying party's own; Leeway the clock
	// skew allowed to exp, nbf and iat.
	Issuer   string
	Audience string
	Leeway   time.Duration
	// HTTP fetches the discovery document and the JWKS (required).
	HTTP *http.Client
	// Now is the relying party's clock; nil means time.Now.
	Now func() time.Time
	// TTL and MinRefetch: 0 means DefaultTTL and DefaultMinRefetch.
	TTL        time.Duration
	MinRefetch time.Duration
}

// KeyStats count the relying party's JWKS traffic.
type KeyStats struct {
	Fetches   int64 // JWKS GETs (the first, TTL refreshes and refetches)
	Refetches int64 // fetches an unknown kid triggered
	Limited   int64 // unknown kids refused without a refetch (rate limit)
	Errors    int64 // failed fetches
	Hits      int64 // keys found in a fresh cache
}

// Verifier is a relying party. It is safe for concurrent use.
type Verifier struct {
	expect wlcg.Expect
	now    func() time.Time
	keys   *keyCache
}

// New discovers the issuer's JWKS and fetches it once, as a relying party
// does at start.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if cfg.HTTP == nil {
		return nil, errors.New("relying party: no HTTP client")
	}
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("relying party: an issuer and an audience are required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	ttl, minRefetch := cfg.TTL, cfg.MinRefetch
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if minRefetch <= 0 {
		minRefetch = DefaultMinRefetch
	}
	fctx, cancel := context.WithTimeout(ctx, DefaultFetchTimeout)
	defer cancel()
	jwksURL, err := issuer.DiscoverJWKS(fctx, cfg.HTTP, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("relying party: %w", err)
	}
	kc := &keyCache{url: jwksURL, hc: cfg.HTTP, now: now, ttl: ttl, minRefetch: minRefetch, keys: map[string]key{}}
	if err := kc.fetch(ctx); err != nil {
		return nil, fmt.Errorf("relying party: %w", err)
	}
	kc.fetched = now()
	return &Verifier{
		expect: wlcg.Expect{Issuer: cfg.Issuer, Audience: cfg.Audience, Leeway: cfg.Leeway},
		now:    now,
		keys:   kc,
	}, nil
}

// Expect returns the claim rules' expectations (issuer, audience, leeway).
func (v *Verifier) Expect() wlcg.Expect { return v.expect }

// Stats returns the JWKS counters.
func (v *Verifier) Stats() KeyStats {
	k := v.keys
	return KeyStats{Fetches: k.fetches.Load(), Refetches: k.refetches.Load(), Limited: k.limited.Load(), Errors: k.errors.Load(), Hits: k.hits.Load()}
}

// Verify checks tok: a compact JWS of at most MaxTokenLen bytes with one
// signature, alg RS256 or ES256 and the alg of the JWKS key its kid names
// (the header is read before the JWS is parsed, so that a refused alg, none
// or HS256 keyed with a public key, is labelled as such), the signature,
// then the profile's claim rules with this relying party's issuer and
// audience. A refusal is a *Refusal.
func (v *Verifier) Verify(ctx context.Context, tok string) (*wlcg.Claims, error) {
	if tok == "" {
		return nil, Refuse(RefusedNoToken, errors.New("no token"))
	}
	if len(tok) > MaxTokenLen || tok[0] == '{' || strings.Count(tok, ".") != 2 {
		return nil, Refuse(RefusedMalformed, fmt.Errorf("not a compact JWS of at most %d bytes", MaxTokenLen))
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	head, err := base64.RawURLEncoding.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		return nil, Refuse(RefusedMalformed, fmt.Errorf("header: %v", err))
	}
	if err := json.Unmarshal(head, &h); err != nil {
		return nil, Refuse(RefusedMalformed, fmt.Errorf("header: %v", err))
	}
	alg := jose.SignatureAlgorithm(h.Alg)
	if alg != jose.RS256 && alg != jose.ES256 {
		return nil, Refuse(RefusedAlgorithm, fmt.Errorf("alg %q refused (RS256 or ES256 only)", h.Alg))
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, Refuse(RefusedMalformed, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, Refuse(RefusedMalformed, errors.New("want one signature"))
	}
	if h.Kid == "" {
		return nil, Refuse(RefusedUnknownKey, errors.New("no kid"))
	}
	k, err := v.keys.lookup(ctx, h.Kid)
	if err != nil {
		return nil, Refuse(RefusedUnknownKey, err)
	}
	if k.alg != alg {
		return nil, Refuse(RefusedAlgorithm, fmt.Errorf("alg %s, but key %q is for %s", alg, h.Kid, k.alg))
	}
	payload, err := jws.Verify(k.pub)
	if err != nil {
		return nil, Refuse(RefusedSignature, err)
	}
	var c wlcg.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, Refuse(wlcg.Classify(err), err)
	}
	if err := wlcg.Validate(c, v.expect, v.now()); err != nil {
		return nil, Refuse(wlcg.Classify(err), err)
	}
	return &c, nil
}

// Trust adds pub, under kid, to the cached keys as if the issuer had
// published it (until the next JWKS fetch replaces them): an ECDSA P-256
// key for ES256 or an RSA key of 2048 bits or more for RS256, the keys a
// JWKS may give. It exists for the conformance suite, which signs tokens
// whose claims it has changed.
func (v *Verifier) Trust(kid string, pub crypto.PublicKey) error {
	if kid == "" {
		return errors.New("a trusted key needs a kid")
	}
	k, ok := usable(pub, "")
	if !ok {
		return fmt.Errorf("cannot trust a %T: want an ECDSA P-256 key (ES256) or an RSA key of 2048 bits or more (RS256)", pub)
	}
	v.keys.mu.Lock()
	v.keys.keys[kid] = k
	v.keys.mu.Unlock()
	return nil
}

// SetMinRefetch sets the least time between two refetches for unknown
// kids; 0 lets every unknown kid refetch (the conformance suite's weakened
// relying party).
func (v *Verifier) SetMinRefetch(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("negative refetch interval %v", d)
	}
	v.keys.fetchMu.Lock()
	v.keys.minRefetch = d
	v.keys.fetchMu.Unlock()
	return nil
}

// key is one verification key of the issuer.
type key struct {
	alg jose.SignatureAlgorithm
	pub any // *rsa.PublicKey or *ecdsa.PublicKey
}

// usable returns the verification key of pub if a JWKS key of alg (""
// for any) may be used: RS256 with RSA of 2048 bits or more, ES256 with
// P-256.
func usable(pub any, alg jose.SignatureAlgorithm) (key, bool) {
	switch pk := pub.(type) {
	case *rsa.PublicKey:
		if (alg != "" && alg != jose.RS256) || pk.N.BitLen() < 2048 {
			return key{}, false
		}
		return key{alg: jose.RS256, pub: pk}, true
	case *ecdsa.PublicKey:
		if (alg != "" && alg != jose.ES256) || pk.Curve != elliptic.P256() {
			return key{}, false
		}
		return key{alg: jose.ES256, pub: pk}, true
	}
	return key{}, false
}

// keyCache is the relying party's copy of the issuer's JWKS: fetched over
// HTTP, kept for ttl, refetched (at most once per minRefetch) when a token
// names a kid it lacks. Its clock is the relying party's.
type keyCache struct {
	url string
	hc  *http.Client
	now func() time.Time
	ttl time.Duration

	mu      sync.RWMutex
	keys    map[string]key // kid -> key
	fetched time.Time

	fetchMu     sync.Mutex // one fetch at a time; guards the fields below
	minRefetch  time.Duration
	lastRefetch time.Time // of an unknown-kid refetch
	lastFailed  time.Time // of a failed TTL refresh

	fetches, refetches, limited, errors, hits atomic.Int64
}

func (c *keyCache) get(kid string) (key, bool, time.Time) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.keys[kid]
	return k, ok, c.fetched
}

// lookup returns the key kid names: from the cache while it is fresh; after
// a refresh once the TTL is over (a failed refresh keeps the old keys and is
// retried after minRefetch); after one refetch when kid is unknown, unless
// a refetch happened within minRefetch.
func (c *keyCache) lookup(ctx context.Context, kid string) (key, error) {
	k, ok, fetched := c.get(kid)
	now := c.now()
	if now.Sub(fetched) >= c.ttl {
		refreshed := c.refresh(ctx, now)
		if k, ok, _ = c.get(kid); ok {
			return k, nil
		}
		if refreshed { // just fetched: another fetch would say the same
			return key{}, fmt.Errorf("unknown kid %q (not in the issuer's JWKS)", kid)
		}
	} else if ok {
		c.hits.Add(1)
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if k, ok, _ = c.get(kid); ok { // a concurrent refetch may have brought it
		return k, nil
	}
	if !c.lastRefetch.IsZero() && now.Sub(c.lastRefetch) < c.minRefetch {
		c.limited.Add(1)
		return key{}, fmt.Errorf("unknown kid %q (JWKS refetched %s ago; next refetch allowed after %s)", kid, now.Sub(c.lastRefetch).Round(time.Millisecond), c.minRefetch)
	}
	c.lastRefetch = now
	c.refetches.Add(1)
	if err := c.fetch(ctx); err != nil {
		return key{}, fmt.Errorf("unknown kid %q, and the JWKS refetch failed: %v", kid, err)
	}
	c.setFetched(now)
	if k, ok, _ = c.get(kid); !ok {
		return key{}, fmt.Errorf("unknown kid %q (not in the issuer's JWKS)", kid)
	}
	return k, nil
}

// refresh refetches a stale JWKS (unless a failed refresh was within
// minRefetch) and reports whether it did.
func (c *keyCache) refresh(ctx context.Context, now time.Time) bool {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	stale := now.Sub(c.fetched) >= c.ttl
	c.mu.RUnlock()
	if !stale || (!c.lastFailed.IsZero() && now.Sub(c.lastFailed) < c.minRefetch) {
		return false
	}
	if err := c.fetch(ctx); err != nil {
		c.lastFailed = now
		return false
	}
	c.lastFailed = time.Time{}
	c.setFetched(now)
	return true
}

func (c *keyCache) setFetched(t time.Time) {
	c.mu.Lock()
	c.fetched = t
	c.mu.Unlock()
}

// fetch GETs the JWKS and replaces the cached keys with its usable ones:
// signature keys with a kid, RS256 (RSA of 2048 bits or more) or ES256
// (P-256), public only. The caller holds fetchMu (or owns c alone).
func (c *keyCache) fetch(ctx context.Context) error {
	c.fetches.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultFetchTimeout)
	defer cancel()
	var set jose.JSONWebKeySet
	if err := issuer.GetJSON(ctx, c.hc, c.url, &set); err != nil {
		c.errors.Add(1)
		return fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]key{}
	for _, jk := range set.Keys {
		if jk.KeyID == "" || (jk.Use != "" && jk.Use != "sig") || !jk.IsPublic() {
			continue
		}
		if k, ok := usable(jk.Key, jose.SignatureAlgorithm(jk.Algorithm)); ok {
			keys[jk.KeyID] = k
		}
	}
	if len(keys) == 0 {
		c.errors.Add(1)
		return errors.New("jwks: no usable RS256 or ES256 signature key")
	}
	c.mu.Lock()
	c.keys = keys
	c.mu.Unlock()
	return nil
}
