package issuer

import (
	"slices"
	"testing"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// TestScopeCovers: the capability matching of the scope policy.
func TestScopeCovers(t *testing.T) {
	for _, c := range []struct {
		allowed, req string
		want         bool
	}{
		{"openid", "openid", true},
		{"openid", "openid2", false},
		{"compute.read", "compute.read", true},
		{"fts:submit-transfer", "fts:submit-transfer", true},
		{"fts:submit-transfer", "fts:submit-transfer2", false},
		{"storage.read:/", "storage.read:/anything/below", true},
		{"storage.read:/cms", "storage.read:/cms", true},
		{"storage.read:/cms", "storage.read:/cms/", true},
		{"storage.read:/cms/", "storage.read:/cms/x", true},
		{"storage.read:/cms", "storage.read:/cms/john/example", true},
		{"storage.read:/cms", "storage.read:/cmsx", false},
		{"storage.read:/cms", "storage.read:/", false},
		{"storage.read:/cms", "storage.create:/cms", false},
		{"storage.read:/cms", "storage.read:/cms/../atlas", false},
		{"storage.read:/", "storage.read:/cms/../atlas", false},
		{"storage.read:/", "storage.read:/cms/./x", false},
		{"storage.read:/", "storage.read://cms", false},
		{"storage.read:/cms", "storage.read:cms", false},
		{"wlcg.groups", "wlcg.groups", true},
		{"wlcg.groups", "wlcg.groups:/cms/prod", true},
		{"wlcg.groups:/cms", "wlcg.groups:/cms/prod", true},
		{"wlcg.groups:/cms", "wlcg.groups", false},
		{"offline_access", "offline_access", true},
	} {
		if got := scopeCovers(c.allowed, c.req); got != c.want {
			t.Errorf("scopeCovers(%q, %q) = %v, want %v", c.allowed, c.req, got, c.want)
		}
	}
}

// TestTokenGroups: the wlcg.groups claim's order and membership rules.
func TestTokenGroups(t *testing.T) {
	member := []string{"/cms", "/cms/prod", "/cms/users"}
	for _, c := range []struct {
		scopes, want []string
	}{
		{[]string{"openid"}, nil},
		{[]string{"wlcg.groups"}, member},
		{[]string{"wlcg.groups:/cms/users"}, []string{"/cms/users"}},
		{[]string{"wlcg.groups:/cms/users", "wlcg.groups"}, []string{"/cms/users", "/cms", "/cms/prod"}},
		{[]string{"wlcg.groups:/atlas"}, nil},
		{[]string{"wlcg.groups:/atlas", "wlcg.groups:/cms/prod"}, []string{"/cms/prod"}},
	} {
		if got := tokenGroups(c.scopes, member); !slices.Equal(got, c.want) {
			t.Errorf("tokenGroups(%v) = %v, want %v", c.scopes, got, c.want)
		}
	}
}

// TestNoRefreshTokenRequestTrap: no type of this package that could reach
// zitadel's token path satisfies op.RefreshTokenRequest (zitadel's
// needsRefreshToken would then store a refresh token on every call) or
// op.TokenRequest; tokens are made by issueAccess alone.
func TestNoRefreshTokenRequestTrap(t *testing.T) {
	for _, v := range []any{&grant{}, grant{}, &client{}, &server{}, &Issuer{}} {
		if _, ok := v.(op.RefreshTokenRequest); ok {
			t.Errorf("%T satisfies op.RefreshTokenRequest", v)
		}
		if _, ok := v.(op.TokenRequest); ok {
			t.Errorf("%T satisfies op.TokenRequest", v)
		}
	}
}

// TestServerLimits: the HTTP server has timeouts and a header bound.
func TestServerLimits(t *testing.T) {
	iss, err := Start(t.Context(), Config{Clients: []Client{{ID: "a", Secret: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	s := iss.srv
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 || s.MaxHeaderBytes != MaxHeaderBytes {
		t.Errorf("server limits: %v %v %v %v %d", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
}
