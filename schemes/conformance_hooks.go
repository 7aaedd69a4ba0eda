package schemes

import (
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Hooks for the conformance suite (package conformance). They reach into a
// running server side only to hand the suite what an attacker who has read
// the WFS's memory or key files would hold; they change no verification path.

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
