package schemes

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// BenchSigner exposes the jwt signing path to the external benchmarks.
type BenchSigner struct {
	kit   *signingKit
	rules tokenRules
	c     *TokenClaims
	now   time.Time
}

// NewBenchSigner makes a fresh key for alg and a typical command token's
// claims.
func NewBenchSigner(alg string) (*BenchSigner, error) {
	kit, _, _, err := newSigningKit(alg)
	if err != nil {
		return nil, err
	}
	ts := &tokenServer{kit: kit, workflow: "bench", rules: tokenRules{issuer: TokenIssuer("bench"), audience: "bench", leeway: DefaultLeeway}}
	now := time.Now()
	_, c, err := ts.mint(TypCommand, "owner", now, time.Minute, ScopeRead, ScopeControl)
	if err != nil {
		return nil, err
	}
	return &BenchSigner{kit: kit, rules: ts.rules, c: c, now: now}, nil
}

// Sign signs the claims.
func (s *BenchSigner) Sign() (string, error) { return s.kit.sign(s.c) }

// Verify verifies tok as the WFS does (signature and claims).
func (s *BenchSigner) Verify(tok string) error {
	_, err := s.kit.verify(tok, s.rules, s.now)
	return err
}

// BenchEnvelope exposes the jwe envelope path to the external benchmarks.
type BenchEnvelope struct {
	client, server *envelope
}

// NewBenchEnvelope makes a fresh key for alg ("dir" or "ECDH-ES").
func NewBenchEnvelope(alg string) (*BenchEnvelope, error) {
	switch jose.KeyAlgorithm(alg) {
	case jose.DIRECT:
		k := make([]byte, 32)
		cl, err := newEncryptingEnvelope(jose.DIRECT, k)
		if err != nil {
			return nil, err
		}
		return &BenchEnvelope{client: cl, server: &envelope{alg: jose.DIRECT, decrypt: k}}, nil
	case jose.ECDH_ES:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		cl, err := newEncryptingEnvelope(jose.ECDH_ES, &k.PublicKey)
		if err != nil {
			return nil, err
		}
		return &BenchEnvelope{client: cl, server: &envelope{alg: jose.ECDH_ES, decrypt: k}}, nil
	}
	return nil, fmt.Errorf("no envelope algorithm %q", alg)
}

// Seal encrypts a token and a body as a client does.
func (e *BenchEnvelope) Seal(tok string, body []byte) (string, error) {
	return e.client.seal(&JWEPayload{Tok: tok, Req: body})
}

// Open decrypts an envelope as the WFS does.
func (e *BenchEnvelope) Open(s string) error {
	_, err := e.server.open(s)
	return err
}
