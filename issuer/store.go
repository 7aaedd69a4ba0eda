package issuer

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// grant is what a stored token was issued for.
type grant struct {
	clientID string   // the client that obtained the token
	subject  string   // sub
	scopes   []string // granted scopes, in request order
	audience []string // aud
	groups   []string // the subject's groups (not only those in the token)
	expires  time.Time
}

// store keeps access tokens (by jti) and refresh tokens (by value) in
// memory, as IAM keeps both in its database. Expired entries are swept at
// most once per sweep period, on insertion.
type store struct {
	mu        sync.Mutex
	access    map[string]*grant
	refresh   map[string]*grant
	sweep     time.Duration
	lastSweep time.Time
}

func newStore(sweep time.Duration) *store {
	return &store{
		access:    make(map[string]*grant),
		refresh:   make(map[string]*grant),
		sweep:     sweep,
		lastSweep: time.Now(),
	}
}

// sweepLocked drops expired tokens when the sweep period has passed.
func (s *store) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < s.sweep {
		return
	}
	s.lastSweep = now
	for k, g := range s.access {
		if !now.Before(g.expires) {
			delete(s.access, k)
		}
	}
	for k, g := range s.refresh {
		if !now.Before(g.expires) {
			delete(s.refresh, k)
		}
	}
}

func (s *store) putAccess(jti string, g *grant, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.access[jti] = g
}

// accessGrant returns the unexpired access token stored under jti.
func (s *store) accessGrant(jti string, now time.Time) (*grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.access[jti]
	if !ok || !now.Before(g.expires) {
		return nil, false
	}
	return g, true
}

func (s *store) putRefresh(token string, g *grant, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	s.refresh[token] = g
}

// takeRefresh removes and returns the unexpired refresh token issued to
// clientID (rotation: it works once), if check accepts its grant. A token
// of another client, or one check refuses, is left in place.
func (s *store) takeRefresh(token, clientID string, now time.Time, check func(*grant) error) (*grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.refresh[token]
	if !ok || g.clientID != clientID || !now.Before(g.expires) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token unknown, expired, already used or not issued to this client")
	}
	if err := check(g); err != nil {
		return nil, err
	}
	delete(s.refresh, token)
	return g, nil
}

// live counts the tokens held now (expired ones not yet swept included).
func (s *store) live() (access, refresh int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.access), len(s.refresh)
}

// randomID is 128 random bits, base64url: jti values.
func randomID() string { return randomString(16) }

// randomString is n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go >= 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}
