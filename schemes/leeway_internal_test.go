package schemes

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// TestLeewayConfigurable: Env.Leeway sets how far past exp a token is still
// accepted; unset it is DefaultLeeway (30 s).
func TestLeewayConfigurable(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	claims := func(expiredFor time.Duration) *TokenClaims {
		return &TokenClaims{Claims: jwt.Claims{
			Issuer: TokenIssuer("wf"), Audience: jwt.Audience{"wf"}, Subject: "owner", ID: "j1",
			IssuedAt: jwt.NewNumericDate(now.Add(-time.Hour)), Expiry: jwt.NewNumericDate(now.Add(-expiredFor)),
		}, Typ: TypCommand, Scope: "workflow.read"}
	}
	cases := []struct {
		name       string
		env        Env
		expiredFor time.Duration
		accept     bool
	}{
		{"default, 20s past exp", Env{Workflow: "wf"}, 20 * time.Second, true},
		{"default, 40s past exp", Env{Workflow: "wf"}, 40 * time.Second, false},
		{"2m leeway, 90s past exp", Env{Workflow: "wf", Leeway: 2 * time.Minute}, 90 * time.Second, true},
		{"2m leeway, 3m past exp", Env{Workflow: "wf", Leeway: 2 * time.Minute}, 3 * time.Minute, false},
		{"1s leeway, 5s past exp", Env{Workflow: "wf", Leeway: time.Second}, 5 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tokenRules{issuer: TokenIssuer("wf"), audience: "wf", leeway: leewayOf(c.env)}
			err := checkClaims(claims(c.expiredFor), r, now)
			if (err == nil) != c.accept {
				t.Fatalf("accepted=%v (%v), want %v", err == nil, err, c.accept)
			}
		})
	}
}
