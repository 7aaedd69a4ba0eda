package schemes

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authbench/authbench/wfs"
)

// Token types (the "typ" claim): a one-command token (plan A), a job's own
// token, and a session token reused across commands (workflow, shared and
// timed policies).
const (
	TypCommand = "command"
	TypJob     = "job"
	TypSession = "session"
)

// Scopes (the "scope" claim, space separated as in the WLCG profile).
// ScopeJobMessage alone lets a token send messages for any job (the
// workflow-wide tokens of the workflow and timed policies, as Cylc 7's
// passphrase did); ScopeJobMessage+":"+jobID lets it speak for one job only.
const (
	ScopeRead       = "workflow.read"
	ScopeControl    = "workflow.control"
	ScopeJobMessage = "job.message"
)

// DefaultLeeway is the clock-skew allowance on exp, nbf and iat (go-jose's
// own default is a minute; the issue asks for 30 s).
const DefaultLeeway = 30 * time.Second

// maxTokenLen bounds a credential frame before any parsing.
const maxTokenLen = 16 << 10

// TokenIssuer returns the "iss" claim a WFS puts in its tokens.
func TokenIssuer(workflow string) string { return "authbench-wfs:" + workflow }

// TokenClaims are the claims of every token authbench mints: the registered
// claims plus typ and scope.
type TokenClaims struct {
	jwt.Claims
	Typ   string `json:"typ"`
	Scope string `json:"scope"`
}

// Scopes splits the scope claim.
func (c *TokenClaims) Scopes() []string { return strings.Fields(c.Scope) }

// hasScope reports whether scopes grant want.
func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// randomID returns n random bytes as unpadded base64url (safe in file names).
func randomID(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadSigningKit makes a kit from the key in path.
func loadSigningKit(alg, path string) (*signingKit, []byte, []byte, error) {
	var signKey, verifyKey any
	var priv []byte
	switch jose.SignatureAlgorithm(alg) {
	case jose.HS256:
		k, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-keys: %w", err)
		}
		if len(k) < 32 {
			return nil, nil, nil, fmt.Errorf("-keys: %s: %d bytes, want at least 32 for HS256", path, len(k))
		}
		signKey, verifyKey, priv = k, k, k
	case jose.ES256, jose.EdDSA:
		k, err := loadPrivatePEM(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("-keys: %w", err)
		}
		switch key := k.(type) {
		case *ecdsa.PrivateKey:
			if alg != string(jose.ES256) {
				return nil, nil, nil, fmt.Errorf("-keys: %s: an ECDSA key, but EdDSA wants an Ed25519 key", path)
			}
			if key.Curve != elliptic.P256() {
				return nil, nil, nil, fmt.Errorf("-keys: %s: an ECDSA key not on P-256, which ES256 wants", path)
			}
			signKey, verifyKey = key, &key.PublicKey
		case ed25519.PrivateKey:
			if alg != string(jose.EdDSA) {
				return nil, nil, nil, fmt.Errorf("-keys: %s: an Ed25519 key, but %s wants a P-256 key", path, alg)
			}
			signKey, verifyKey = key, key.Public()
		default:
			return nil, nil, nil, fmt.Errorf("-keys: %s: a %T, not a key for %s", path, k, alg)
		}
	default:
		return nil, nil, nil, fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	var pub []byte
	if priv == nil {
		var err error
		if priv, pub, err = pemPair(signKey, verifyKey); err != nil {
			return nil, nil, nil, err
		}
	}
	kit, err := makeSigningKit(jose.SignatureAlgorithm(alg), signKey, verifyKey)
	return kit, priv, pub, err
}

// signingKit signs and verifies tokens with exactly one algorithm and key.
type signingKit struct {
	alg       jose.SignatureAlgorithm
	signer    jose.Signer
	verifyKey any // []byte, *ecdsa.PublicKey or ed25519.PublicKey
}

// newSigningKit makes a fresh key for alg and returns the kit with the key
// material in PEM (or raw bytes for HS256): priv is secret, pub is "" for
// HS256.
func newSigningKit(alg string) (kit *signingKit, priv []byte, pub []byte, err error) {
	return signingKitFrom(alg, "")
}

// KeyFileName is the file Env.KeysDir holds a part's key in: raw bytes for
// HS256 (at least 32) and dir JWE (32), a PKCS #8 "PRIVATE KEY" PEM for
// ES256, EdDSA and ECDH-ES.
func KeyFileName(part, alg string) string {
	switch alg {
	case "HS256", "dir":
		return part + "-" + alg + ".key"
	}
	return part + "-" + alg + ".pem"
}

// loadPrivatePEM reads a PKCS #8 private key PEM.
func loadPrivatePEM(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM PRIVATE KEY (PKCS #8)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// signingKitFrom is newSigningKit with the key read from keysDir (see
// KeyFileName) instead of made, when keysDir is not "": long-lived test
// keys and third-party vectors can then be run against a live WFS.
func signingKitFrom(alg, keysDir string) (kit *signingKit, priv []byte, pub []byte, err error) {
	if keysDir != "" {
		return loadSigningKit(alg, filepath.Join(keysDir, KeyFileName("jwt", alg)))
	}
	var signKey, verifyKey any
	switch jose.SignatureAlgorithm(alg) {
	case jose.HS256:
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, nil, nil, fmt.Errorf("HS256 key: %w", err)
		}
		signKey, verifyKey, priv = k, k, k
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("ES256 key: %w", err)
		}
		signKey, verifyKey = k, &k.PublicKey
	case jose.EdDSA:
		pk, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("EdDSA key: %w", err)
		}
		signKey, verifyKey = k, pk
	default:
		return nil, nil, nil, fmt.Errorf("unsupported signature algorithm %q", alg)
	}
	if priv == nil {
		if priv, pub, err = pemPair(signKey, verifyKey); err != nil {
			return nil, nil, nil, err
		}
	}
	kit, err = makeSigningKit(jose.SignatureAlgorithm(alg), signKey, verifyKey)
	return kit, priv, pub, err
}

func makeSigningKit(alg jose.SignatureAlgorithm, signKey, verifyKey any) (*signingKit, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: signKey}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("%s signer: %w", alg, err)
	}
	return &signingKit{alg: alg, signer: s, verifyKey: verifyKey}, nil
}

// pemPair renders a private key as PKCS#8 PEM and its public key as PKIX PEM.
func pemPair(priv, pub any) ([]byte, []byte, error) {
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	px, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: px}), nil
}

// parsePublicPEM parses a PKIX PEM public key.
func parsePublicPEM(b []byte) (any, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM PUBLIC KEY")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return k, nil
}

// sign serialises claims as a compact JWS.
func (k *signingKit) sign(c *TokenClaims) (string, error) {
	tok, err := jwt.Signed(k.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign %s token: %w", k.alg, err)
	}
	return tok, nil
}

// tokenRules are what a verified token must satisfy besides its signature.
type tokenRules struct {
	issuer   string
	audience string
	leeway   time.Duration
}

// verify checks a compact JWS token: the one allowed algorithm, the
// signature, and the registered claims (exp and aud required, iss and aud
// exact, exp/nbf/iat within leeway of now, jti, typ and scope present). Every
// failure is a wfs rejection.
func (k *signingKit) verify(tok string, r tokenRules, now time.Time) (*TokenClaims, error) {
	if len(tok) == 0 || len(tok) > maxTokenLen {
		return nil, wfs.Rejectf("token: empty or longer than %d bytes", maxTokenLen)
	}
	// Compact serialisation only: go-jose's deprecated parsers also take the
	// JSON forms; jwt.ParseSigned does not, and this check says why.
	if tok[0] == '{' || strings.Count(tok, ".") != 2 {
		return nil, wfs.Rejectf("token: not a compact JWS")
	}
	if err := strictJWS(tok, k.alg); err != nil {
		return nil, err
	}
	t, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{k.alg})
	if err != nil {
		return nil, wfs.Rejectf("token: %v", err)
	}
	var c TokenClaims
	if err := t.Claims(k.verifyKey, &c); err != nil {
		return nil, wfs.Rejectf("token: %v", err)
	}
	if err := checkClaims(&c, r, now); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkClaims applies tokenRules to claims whose signature is already
// verified. go-jose leaves exp, nbf and aud optional, so they are required
// here before its validation runs.
func checkClaims(c *TokenClaims, r tokenRules, now time.Time) error {
	switch {
	case c.Expiry == nil:
		return wfs.Rejectf("token: no exp")
	case len(c.Audience) == 0:
		return wfs.Rejectf("token: no aud")
	case c.ID == "":
		return wfs.Rejectf("token: no jti")
	case c.Subject == "":
		return wfs.Rejectf("token: no sub")
	}
	switch c.Typ {
	case TypCommand, TypJob, TypSession:
	default:
		return wfs.Rejectf("token: typ %q is not command, job or session", c.Typ)
	}
	err := c.Claims.ValidateWithLeeway(jwt.Expected{
		Issuer:      r.issuer,
		AnyAudience: jwt.Audience{r.audience},
		Time:        now,
	}, r.leeway)
	if err != nil {
		return wfs.Rejectf("token: %v", err)
	}
	if len(c.Audience) != 1 {
		return wfs.Rejectf("token: aud names %d audiences, want this workflow only", len(c.Audience))
	}
	return nil
}

// unverifiedExpiry reads a token's exp without verifying it: a client uses
// it to decide when to fetch a new token, never to trust one.
func unverifiedExpiry(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("token payload: %w", err)
	}
	var c TokenClaims
	if err := json.Unmarshal(b, &c); err != nil {
		return time.Time{}, fmt.Errorf("token payload: %w", err)
	}
	if c.Expiry == nil {
		return time.Time{}, errors.New("token has no exp")
	}
	return c.Expiry.Time(), nil
}

// replayCache remembers the jti of every one-use token it has accepted until
// the token's expiry (plus leeway) has passed, so its size is bounded by the
// number of tokens live at once. It is keyed on jti, never on the token text:
// go-jose's base64 decoding is lenient, so two different strings can carry one
// signature.
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // jti -> forget after
	lastPrune time.Time
}

func newReplayCache() *replayCache { return &replayCache{seen: map[string]time.Time{}} }

// first records jti and reports whether this is its first use. It is atomic:
// of two concurrent uses exactly one gets true.
func (rc *replayCache) first(jti string, forgetAfter, now time.Time) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if now.Sub(rc.lastPrune) > time.Second {
		for k, t := range rc.seen {
			if now.After(t) {
				delete(rc.seen, k)
			}
		}
		rc.lastPrune = now
	}
	if _, dup := rc.seen[jti]; dup {
		return false
	}
	rc.seen[jti] = forgetAfter
	return true
}

// has reports whether jti was used and is still remembered.
func (rc *replayCache) has(jti string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	_, ok := rc.seen[jti]
	return ok
}

// size is the number of remembered jtis.
func (rc *replayCache) size() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.seen)
}

// strictCompact checks that every segment of a compact JWS or JWE is the
// one canonical unpadded base64url spelling of its bytes. go-jose's decoder
// (like Go's) skips line breaks and ignores the unused low bits of the last
// character, so two token strings could carry one signature; authbench
// refuses every spelling but the canonical one (Wycheproof JWS tc374,
// "ModifiedUnusedBitsInPayload"). It returns the decoded segments.
func strictCompact(what, tok string) ([][]byte, error) {
	segs := strings.Split(tok, ".")
	out := make([][]byte, len(segs))
	for i, seg := range segs {
		for j := 0; j < len(seg); j++ {
			c := seg[j]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return nil, wfs.Rejectf("%s: segment %d holds %q, not base64url", what, i+1, c)
			}
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(seg)
		if err != nil {
			return nil, wfs.Rejectf("%s: segment %d: not canonical base64url: %v", what, i+1, err)
		}
		out[i] = b
	}
	return out, nil
}

// strictJWS adds to strictCompact what go-jose lets through for a JWS: a
// b64 header (RFC 7797 §6 requires it listed in crit, and authbench signs
// no unencoded payloads, so it is refused either way).
//
// The "high-S" twin of an ES256 signature (S replaced by n - S) verifies
// too. It is not refused: signers, go-jose and python-jose among them, do
// not normalise S, so half of all genuine ES256 tokens are high-S. What
// the twin could gain, a second use of one token, the replay cache denies:
// it keys on jti, never on the token's bytes, so a twin is a replay of the
// same jti (TestES256HighSTwin).
func strictJWS(tok string, _ jose.SignatureAlgorithm) error {
	segs, err := strictCompact("token", tok)
	if err != nil {
		return err
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(segs[0], &h); err != nil {
		return wfs.Rejectf("token: header: %v", err)
	}
	if _, ok := h["b64"]; ok {
		return wfs.Rejectf("token: a b64 header is refused (unencoded payloads are not signed here; RFC 7797 requires b64 in crit)")
	}
	return checkCrit("token", h)
}

// checkCrit applies RFC 7515 §4.1.11 to a protected header h: crit is
// absent, or a non-empty list of distinct extension names that the header
// carries and that the verifier understands (understood; authbench's
// verifiers understand none, so for them crit must be absent). go-jose
// refuses names it does not know but lets "crit": [] and "crit": null
// through, and takes ["b64"] (which it knows) without a b64 member; each of
// these is refused here. Every refusal says "critical header".
func checkCrit(what string, h map[string]json.RawMessage, understood ...string) error {
	raw, ok := h["crit"]
	if !ok {
		return nil
	}
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil || names == nil {
		return wfs.Rejectf("%s: critical header: crit is %s, not a list of names (RFC 7515 §4.1.11)", what, truncate(string(raw), 40))
	}
	if len(names) == 0 {
		return wfs.Rejectf("%s: critical header: crit is [] (RFC 7515 §4.1.11: absent or a non-empty list)", what)
	}
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		switch {
		case seen[n]:
			return wfs.Rejectf("%s: critical header: crit names %q twice", what, truncate(n, 40))
		case !slices.Contains(understood, n):
			return wfs.Rejectf("%s: critical header: crit names %q, an extension this WFS does not understand", what, truncate(n, 40))
		}
		if _, ok := h[n]; !ok {
			return wfs.Rejectf("%s: critical header: crit names %q, which the header does not carry", what, truncate(n, 40))
		}
		seen[n] = true
	}
	return nil
}

// truncate cuts s to n bytes for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
