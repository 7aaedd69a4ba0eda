package issuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// rsaBits is the RSA modulus size of RS256 keys.
const rsaBits = 2048

// signingKey is one key pair. It implements zitadel's op.SigningKey, so
// that op.SignerFromKey makes its signer (kid and typ "JWT" in the header).
type signingKey struct {
	alg    jose.SignatureAlgorithm
	kid    string
	priv   crypto.Signer
	signer jose.Signer
	// retireAt is when a rotated-out key leaves the JWKS; zero while the
	// key is current.
	retireAt time.Time
}

var _ op.SigningKey = (*signingKey)(nil)

// SignatureAlgorithm implements op.SigningKey.
func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return k.alg }

// Key implements op.SigningKey.
func (k *signingKey) Key() any { return k.priv }

// ID implements op.SigningKey.
func (k *signingKey) ID() string { return k.kid }

// public is the key's public JWK.
func (k *signingKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// newSigningKey makes a key for alg; its kid is the RFC 7638 thumbprint
// of the public key, so distinct keys have distinct kids.
func newSigningKey(alg jose.SignatureAlgorithm) (*signingKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("issuer: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("issuer: generate %s key: %w", alg, err)
	}
	tp, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("issuer: thumbprint: %w", err)
	}
	k := &signingKey{alg: alg, kid: base64.RawURLEncoding.EncodeToString(tp), priv: priv}
	if k.signer, err = op.SignerFromKey(k); err != nil {
		return nil, fmt.Errorf("issuer: %s signer: %w", alg, err)
	}
	return k, nil
}

// keyring holds the current key of each configured algorithm and the keys
// rotated out but still published.
type keyring struct {
	mu        sync.RWMutex
	retention time.Duration
	signAlg   jose.SignatureAlgorithm
	current   []*signingKey // one per algorithm, in Config.Algs order
	retired   []*signingKey
}

func newKeyring(algs []string, retention time.Duration) (*keyring, error) {
	kr := &keyring{retention: retention, signAlg: jose.SignatureAlgorithm(algs[0])}
	for _, a := range algs {
		k, err := newSigningKey(jose.SignatureAlgorithm(a))
		if err != nil {
			return nil, err
		}
		kr.current = append(kr.current, k)
	}
	return kr, nil
}

// signing is the key that signs new tokens.
func (kr *keyring) signing() *signingKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	for _, k := range kr.current {
		if k.alg == kr.signAlg {
			return k
		}
	}
	panic("issuer: no key for the signing algorithm") // unreachable: newKeyring made one
}

func (kr *keyring) signingKeyID() string { return kr.signing().kid }

// rotate replaces the signing key with a new one and retires the old one.
func (kr *keyring) rotate() error {
	k, err := newSigningKey(kr.signAlg)
	if err != nil {
		return err
	}
	now := time.Now()
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.retired = slices.DeleteFunc(kr.retired, func(r *signingKey) bool { return !now.Before(r.retireAt) })
	for n, old := range kr.current {
		if old.alg == kr.signAlg {
			retired := *old
			retired.retireAt = now.Add(kr.retention)
			kr.retired = append(kr.retired, &retired)
			kr.current[n] = k
		}
	}
	return nil
}

// published are the keys in the JWKS: the current ones, then the retired
// ones not yet past their retention, newest first.
func (kr *keyring) published(now time.Time) []*signingKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	out := slices.Clone(kr.current)
	for _, r := range slices.Backward(kr.retired) {
		if now.Before(r.retireAt) {
			out = append(out, r)
		}
	}
	return out
}

// jwks is the public key set.
func (kr *keyring) jwks(now time.Time) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range kr.published(now) {
		set.Keys = append(set.Keys, k.public())
	}
	return set
}

// algs are the algorithms of the published keys, without repeats.
func (kr *keyring) algs() []string {
	var out []string
	for _, k := range kr.published(time.Now()) {
		if !slices.Contains(out, string(k.alg)) {
			out = append(out, string(k.alg))
		}
	}
	return out
}

// errUnknownKey is a token whose kid is not in the JWKS.
var errUnknownKey = errors.New("unknown or retired signing key")

// verify checks a compact JWS against the published keys and returns its
// payload.
func (kr *keyring) verify(token string, now time.Time) ([]byte, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return nil, err
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("want exactly one signature")
	}
	h := jws.Signatures[0].Header
	for _, k := range kr.published(now) {
		if k.kid == h.KeyID && string(k.alg) == h.Algorithm {
			return jws.Verify(k.priv.Public())
		}
	}
	return nil, errUnknownKey
}
