package schemes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"github.com/authbench/authbench/issuer"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// wlcgHTTPClient is an HTTP client of its own (its own connections, as a
// separate process would have), never through a proxy.
func wlcgHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   wlcgHTTPTimeout,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
	}
}

// Refusal labels of the wlcg credential besides wlcg.Classify's ("issuer",
// "audience", "expired", "not_yet_valid", "version", "scope", "groups",
// "missing_claim", "malformed"). Each refusal is counted under
// "wlcg.refused.<label>" in Stats.
const (
	wlcgRefusedNoToken    = "no_token"           // no credential frame
	wlcgRefusedAlgorithm  = "algorithm"          // alg not RS256/ES256, or not the key's
	wlcgRefusedUnknownKey = "unknown_key"        // no kid, or a kid the JWKS lacks
	wlcgRefusedSignature  = "signature"          // the signature does not verify
	wlcgRefusedScopeLack  = "insufficient_scope" // verified, but no scope for the command
)

// jwksKey is one verification key of the issuer.
type jwksKey struct {
	alg jose.SignatureAlgorithm
	key any // *rsa.PublicKey or *ecdsa.PublicKey
}

// jwksCache is the relying party's copy of the issuer's JWKS: fetched over
// HTTP, kept for ttl, refetched (at most once per minRefetch) when a token
// names a kid it lacks. Its clock is the WFS's.
type jwksCache struct {
	url        string
	hc         *http.Client
	now        func() time.Time
	ttl        time.Duration
	minRefetch time.Duration

	mu      sync.RWMutex
	keys    map[string]jwksKey // kid -> key
	fetched time.Time

	fetchMu     sync.Mutex // one fetch at a time
	lastRefetch time.Time  // of an unknown-kid refetch
	lastFailed  time.Time  // of a failed TTL refresh

	fetches, refetches, limited, errors, hits atomic.Int64
}

// lookup returns the key kid names: from the cache while it is fresh; after
// a refresh once the TTL is over (a failed refresh keeps the old keys and is
// retried after minRefetch); after one refetch when kid is unknown, unless
// a refetch happened within minRefetch.
func (c *jwksCache) lookup(ctx context.Context, kid string) (jwksKey, error) {
	c.mu.RLock()
	k, ok := c.keys[kid]
	fetched := c.fetched
	c.mu.RUnlock()
	now := c.now()
	if now.Sub(fetched) >= c.ttl {
		c.fetchMu.Lock()
		c.mu.RLock()
		stale := now.Sub(c.fetched) >= c.ttl
		c.mu.RUnlock()
		refreshed := false
		if stale && (c.lastFailed.IsZero() || now.Sub(c.lastFailed) >= c.minRefetch) {
			if err := c.fetch(ctx); err != nil {
				c.lastFailed = now
			} else {
				c.lastFailed = time.Time{}
				c.setFetched(now)
				refreshed = true
			}
		}
		c.fetchMu.Unlock()
		c.mu.RLock()
		k, ok = c.keys[kid]
		c.mu.RUnlock()
		if ok {
			return k, nil
		}
		if refreshed { // just fetched: another fetch would say the same
			return jwksKey{}, fmt.Errorf("unknown kid %q (not in the issuer's JWKS)", kid)
		}
	} else if ok {
		c.hits.Add(1)
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	k, ok = c.keys[kid] // a concurrent refetch may have brought it
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	if !c.lastRefetch.IsZero() && now.Sub(c.lastRefetch) < c.minRefetch {
		c.limited.Add(1)
		return jwksKey{}, fmt.Errorf("unknown kid %q (JWKS refetched %s ago; next refetch allowed after %s)", kid, now.Sub(c.lastRefetch).Round(time.Millisecond), c.minRefetch)
	}
	c.lastRefetch = now
	c.refetches.Add(1)
	if err := c.fetch(ctx); err != nil {
		return jwksKey{}, fmt.Errorf("unknown kid %q, and the JWKS refetch failed: %v", kid, err)
	}
	c.setFetched(now)
	c.mu.RLock()
	k, ok = c.keys[kid]
	c.mu.RUnlock()
	if !ok {
		return jwksKey{}, fmt.Errorf("unknown kid %q (not in the issuer's JWKS)", kid)
	}
	return k, nil
}

func (c *jwksCache) setFetched(t time.Time) {
	c.mu.Lock()
	c.fetched = t
	c.mu.Unlock()
}

// fetch GETs the JWKS and replaces the cached keys with its usable ones:
// signature keys with a kid, RS256 (RSA of 2048 bits or more) or ES256
// (P-256), public only. The caller holds fetchMu (or owns c alone).
func (c *jwksCache) fetch(ctx context.Context) error {
	c.fetches.Add(1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wlcgHTTPTimeout)
	defer cancel()
	var set jose.JSONWebKeySet
	if err := issuer.GetJSON(ctx, c.hc, c.url, &set); err != nil {
		c.errors.Add(1)
		return fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]jwksKey{}
	for _, k := range set.Keys {
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		alg := jose.SignatureAlgorithm(k.Algorithm)
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if (alg != "" && alg != jose.RS256) || pk.N.BitLen() < 2048 {
				continue
			}
			keys[k.KeyID] = jwksKey{alg: jose.RS256, key: pk}
		case *ecdsa.PublicKey:
			if (alg != "" && alg != jose.ES256) || pk.Curve != elliptic.P256() {
				continue
			}
			keys[k.KeyID] = jwksKey{alg: jose.ES256, key: pk}
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
