package schemes

import (
	"crypto"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/wlcg"
)

// Hooks for the conformance suite (package conformance). They reach into a
// running server side only to hand the suite what an attacker who has read
// the WFS's memory or key files would hold; they change no verification path.
// The wlcg hooks at the end say what they touch: one adds a key to the
// relying party's cached JWKS (the issuer's signing key being out of reach),
// one is a knob for the suite's weakened-verifier tests only.

// errNoToken is returned by the hooks for a server with no token credential.
var errNoToken = errors.New("scheme has no jwt or jwe credential")

// ServerPartWrapper is implemented by a server part that wraps another (a
// test's deliberately weakened part, say), so that the hooks find the
// wrapped part.
type ServerPartWrapper interface {
	Unwrap() ServerPart
}

// tokenServer returns the policy engine of the server's token credential,
// or nil when the scheme has none.
func (s *Server) tokenServer() *tokenServer {
	for _, p := range s.parts {
		for range 8 { // bounded unwrapping
			switch v := p.(type) {
			case *jwtServer:
				return v.tokenServer
			case *jweServer:
				return v.tokenServer
			case ServerPartWrapper:
				p = v.Unwrap()
				continue
			}
			break
		}
	}
	return nil
}

// ConformanceHMACKey returns the HS256 key srv signs its tokens with: the
// key of jwt/HS256 (also in .service/jwt.key) and the inner-token key of
// every jwe scheme, which never leaves the WFS's memory. The conformance
// suite uses it to sign tokens whose claims it has changed, so that a case
// tests one claim check and not the signature. Schemes signing with ES256
// or EdDSA keep their private key in .service/jwt.key; read it from there.
func ConformanceHMACKey(srv *Server) ([]byte, error) {
	ts := srv.tokenServer()
	if ts == nil {
		return nil, errNoToken
	}
	if ts.kit.alg != jose.HS256 {
		return nil, fmt.Errorf("tokens are signed with %s, not HS256: the private key is in %s", ts.kit.alg, JWTKeyFile)
	}
	k, ok := ts.kit.verifyKey.([]byte)
	if !ok {
		return nil, errors.New("HS256 key is not a byte slice")
	}
	return append([]byte(nil), k...), nil
}

// ConformanceIssue mints a token as srv's WFS would, with the given typ,
// subject, lifetime and scopes, and tracks it as the scheme's policy tracks
// its own tokens (one use for a command token under the command policy), so
// that a token the scheme never hands out (a read-only one, say) can be
// presented to it and decided on its scopes alone.
func ConformanceIssue(srv *Server, typ, sub string, ttl time.Duration, scopes ...string) (string, error) {
	ts := srv.tokenServer()
	if ts == nil {
		return "", errNoToken
	}
	tok, c, err := ts.mint(typ, sub, ts.now(), ttl, scopes...)
	if err != nil {
		return "", err
	}
	if ts.mustTrack(c) {
		ts.mu.Lock()
		ts.issued[c.ID] = &issued{until: c.Expiry.Time(), once: ts.pol.name == PolicyCommand && typ == TypCommand}
		ts.mu.Unlock()
	}
	return tok, nil
}

// Hooks of the wlcg credential for the conformance suite's wlcg/* cases.

// errNoWLCG is returned by the wlcg hooks for a server with no wlcg
// credential.
var errNoWLCG = errors.New("scheme has no wlcg credential")

// partOf returns the server part of type T that p is or wraps (through at
// most 8 ServerPartWrappers), or T's zero value.
func partOf[T ServerPart](p ServerPart) T {
	for range 8 {
		if v, ok := p.(T); ok {
			return v
		}
		w, ok := p.(ServerPartWrapper)
		if !ok {
			break
		}
		p = w.Unwrap()
	}
	var zero T
	return zero
}

// wlcgServerOf returns the wlcg relying party p is or wraps, or nil.
func wlcgServerOf(p ServerPart) *wlcgServer { return partOf[*wlcgServer](p) }

// wlcgServer returns the relying party of the server's wlcg credential, or
// nil when the scheme has none.
func (s *Server) wlcgServer() *wlcgServer {
	for _, p := range s.parts {
		if w := wlcgServerOf(p); w != nil {
			return w
		}
	}
	return nil
}

// ConformanceWLCGTrustKey adds pub, under kid, to the keys the relying party
// of srv's wlcg credential verifies tokens with, as if its issuer had
// published it (until the next JWKS fetch replaces the cached keys): an
// ECDSA P-256 key for ES256 or an RSA key of 2048 bits or more for RS256,
// the keys the relying party takes from a JWKS.
//
// The issuer runs inside the WFS process, so an attacker who has read the
// WFS's memory holds its signing key; package issuer hands no key out, so
// the suite signs with a key of its own that the relying party is told to
// trust instead. The conformance suite uses it to sign tokens whose claims it
// has changed (an unknown wlcg.ver, no aud, an nbf ahead), so that a case
// tests one claim rule and not the signature. Nothing else changes: such a
// token still goes through the alg, kid and signature checks and every claim
// rule.
func ConformanceWLCGTrustKey(srv *Server, kid string, pub crypto.PublicKey) error {
	s := srv.wlcgServer()
	if s == nil || s.rp == nil {
		return errNoWLCG
	}
	if err := s.rp.Trust(kid, pub); err != nil {
		return fmt.Errorf("wlcg: %w", err)
	}
	return nil
}

// ConformanceWLCGRefetchInterval sets how often an unknown kid may make the
// relying party of part (a wlcg server part, or a part wrapping one) refetch
// its issuer's JWKS, WLCGRefetchInterval by default. It is a knob for the
// conformance suite's own tests only: they set 0 (a refetch for every
// unknown kid) to show that the wlcg/jwks-rotation case catches a relying
// party that lets made-up kids hammer its issuer.
func ConformanceWLCGRefetchInterval(part ServerPart, d time.Duration) error {
	s := wlcgServerOf(part)
	if s == nil || s.rp == nil {
		return errNoWLCG
	}
	if err := s.rp.SetMinRefetch(d); err != nil {
		return fmt.Errorf("wlcg: %w", err)
	}
	return nil
}

// WLCGStorageRules is implemented by a server part wrapping the wlcg
// credential's that decides storage requests its own way (a conformance
// test's deliberately weakened part); see ConformanceWLCGStorageAllows.
type WLCGStorageRules interface {
	WLCGStorageAllows(scopes []wlcg.Scope, op, path string) bool
}

// ConformanceWLCGStorageAllows returns the capability rule of srv's wlcg
// credential, or nil when it has none. The WFS authorises compute scopes
// only, with wlcg.Allows; the storage rules of the same function (a path
// grants itself and what lies below it by whole components, storage.create
// grants neither read nor overwrite, storage.modify includes create) cannot
// be put to a WFS, so the conformance suite's wlcg/storage-* cases put them
// to a storage relying party of its own that decides with the rule returned
// here: wlcg.Allows, unless a part wrapping the wlcg server implements
// WLCGStorageRules (the suite's weakened parts do, to show that those cases
// can fail).
func ConformanceWLCGStorageAllows(srv *Server) func(scopes []wlcg.Scope, op, path string) bool {
	for _, p := range srv.parts {
		var rules WLCGStorageRules
		for range 8 { // bounded unwrapping
			if r, ok := p.(WLCGStorageRules); ok && rules == nil {
				rules = r
			}
			if _, ok := p.(*wlcgServer); ok {
				if rules != nil {
					return rules.WLCGStorageAllows
				}
				return wlcg.Allows
			}
			w, ok := p.(ServerPartWrapper)
			if !ok {
				break
			}
			p = w.Unwrap()
		}
	}
	return nil
}

// Hooks of the totp and hotp credentials for the conformance suite's otp/*
// cases.

// errNoOTP is returned by the otp hooks for a server part with no totp or
// hotp credential.
var errNoOTP = errors.New("scheme has no totp or hotp credential")

// otpServerOf returns the otp server part p is or wraps, or nil.
func otpServerOf(p ServerPart) *otpServer { return partOf[*otpServer](p) }

// ConformanceOTPSkew sets how many steps either side of its clock the totp
// server part (or a part wrapping one) accepts, the spec's SKEW by default.
// It is a knob for the conformance suite's own tests only: they set a huge
// skew to show that the otp/skew-outside case catches a verifier that lets
// stale and future codes in.
func ConformanceOTPSkew(part ServerPart, skew uint) error {
	s := otpServerOf(part)
	if s == nil || s.conf.proto != ProtoTOTP {
		return errNoOTP
	}
	s.mu.Lock()
	s.skew = skew
	s.mu.Unlock()
	return nil
}

// ConformanceOTPNoThrottle switches the otp server part's throttle off (a
// part wrapping one too): every code is checked, however many wrong ones
// its identity or source sent. It is a knob for the conformance suite's own
// tests only: they show that the otp/brute-force case catches a verifier
// with no throttle.
func ConformanceOTPNoThrottle(part ServerPart) error {
	s := otpServerOf(part)
	if s == nil {
		return errNoOTP
	}
	s.mu.Lock()
	s.throttle = nil
	s.mu.Unlock()
	return nil
}

// OTPParams are the parameters of a totp or hotp spec, defaults filled in.
type OTPParams struct {
	// Proto is ProtoTOTP or ProtoHOTP; Policy is "workflow" or "job".
	Proto, Policy string
	// Step and Skew are TOTP's time step and skew window (in steps).
	Step time.Duration
	Skew uint
	// Window is HOTP's look-ahead (in counters).
	Window uint
	// Digits is the code length.
	Digits int
}

// ConformanceOTPParams parses a totp or hotp spec's parameters, so that the
// conformance suite's otp/* cases can aim just outside the windows the
// scheme says it keeps.
func ConformanceOTPParams(sp Spec) (OTPParams, error) {
	if sp.Credential != ProtoTOTP && sp.Credential != ProtoHOTP {
		return OTPParams{}, errNoOTP
	}
	c, err := parseOTP(sp.Credential, sp)
	if err != nil {
		return OTPParams{}, err
	}
	return OTPParams{Proto: c.proto, Policy: c.policy, Step: c.step, Skew: c.skew, Window: c.window, Digits: c.digits.Length()}, nil
}
