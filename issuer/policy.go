package issuer

import (
	"path"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is a registered client as zitadel's op.Client sees it. Only the
// token endpoint is served, so the authorization-flow methods return zero
// values.
type client struct {
	Client
}

var _ op.Client = (*client)(nil)

func newClient(c Client) *client {
	c.Scopes = slices.Clone(c.Scopes)
	c.Groups = slices.Clone(c.Groups)
	c.Audiences = slices.Clone(c.Audiences)
	return &client{Client: c}
}

// GetID implements op.Client.
func (c *client) GetID() string { return c.ID }

// RedirectURIs implements op.Client (no authorization flow: none).
func (c *client) RedirectURIs() []string { return nil }

// PostLogoutRedirectURIs implements op.Client (none).
func (c *client) PostLogoutRedirectURIs() []string { return nil }

// ApplicationType implements op.Client: a confidential web client.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// AuthMethod implements op.Client: client_secret_basic (form post is
// accepted too, see server.VerifyClient).
func (c *client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }

// ResponseTypes implements op.Client (no authorization flow: none).
func (c *client) ResponseTypes() []oidc.ResponseType { return nil }

// GrantTypes implements op.Client: the three grants the issuer serves.
// zitadel checks the request's grant_type against it.
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange, oidc.GrantTypeRefreshToken}
}

// LoginURL implements op.Client (no login).
func (c *client) LoginURL(string) string { return "" }

// AccessTokenType implements op.Client: JWT access tokens.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime implements op.Client (no ID tokens are issued).
func (c *client) IDTokenLifetime() time.Duration { return 0 }

// DevMode implements op.Client.
func (c *client) DevMode() bool { return false }

// RestrictAdditionalIdTokenScopes implements op.Client (identity).
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes implements op.Client (identity).
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed implements op.Client with the issuer's scope policy.
func (c *client) IsScopeAllowed(scope string) bool { return scopeAllowed(scope, c.Scopes) }

// IDTokenUserinfoClaimsAssertion implements op.Client.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }

// ClockSkew implements op.Client: none.
func (c *client) ClockSkew() time.Duration { return 0 }

// audienceAllowed reports whether the client may request aud.
func (c *client) audienceAllowed(aud string) bool {
	return len(c.Audiences) == 0 || slices.Contains(c.Audiences, aud)
}

// defaultAudience is the audience of a token requested without one.
func (c *client) defaultAudience() []string {
	if len(c.Audiences) == 0 {
		return []string{AnyAudience}
	}
	return slices.Clone(c.Audiences)
}

// scopeAllowed reports whether the requested scope is covered by one of
// the allowed scopes (see the package doc).
func scopeAllowed(req string, allowed []string) bool {
	for _, a := range allowed {
		if scopeCovers(a, req) {
			return true
		}
	}
	return false
}

// scopeCovers reports whether the allowed scope covers the requested one:
// equal, or a capability AUTHZ:PATH whose PATH is the allowed PATH or
// below it, or wlcg.groups:GROUP under plain wlcg.groups.
func scopeCovers(allowed, req string) bool {
	if allowed == req {
		return reqPathClean(req)
	}
	rAuthz, rPath, rok := strings.Cut(req, ":")
	if allowed == ScopeGroups && rok && rAuthz == ScopeGroups {
		return reqPathClean(req)
	}
	aAuthz, aPath, aok := strings.Cut(allowed, ":")
	if !aok || !rok || aAuthz != rAuthz || !strings.HasPrefix(aPath, "/") || !reqPathClean(req) {
		return false
	}
	aPath = strings.TrimSuffix(aPath, "/")
	rPath = strings.TrimSuffix(rPath, "/")
	return aPath == "" || rPath == aPath || strings.HasPrefix(rPath, aPath+"/")
}

// reqPathClean reports whether a scope's path part, if any, is an
// absolute path with no empty, "." or ".." segment (a trailing slash is
// tolerated), so that prefix matching cannot be escaped.
func reqPathClean(scope string) bool {
	_, p, ok := strings.Cut(scope, ":")
	if !ok || !strings.HasPrefix(p, "/") {
		return true // not a path capability (e.g. fts:submit-transfer is not one)
	}
	if p == "/" {
		return true
	}
	p = strings.TrimSuffix(p, "/")
	return path.Clean(p) == p
}

// tokenGroups computes the wlcg.groups claim from the granted scopes and
// the subject's groups: groups named with wlcg.groups:/GROUP first, in
// request order and only if the subject is a member, then, if plain
// wlcg.groups was granted, the rest of the subject's groups in their
// default order. It is nil (no claim) when no group scope was granted or
// the subject is in none of the groups asked for.
func tokenGroups(scopes, member []string) []string {
	var out []string
	all := false
	for _, s := range scopes {
		if s == ScopeGroups {
			all = true
			continue
		}
		if g, ok := strings.CutPrefix(s, ScopeGroups+":"); ok {
			if slices.Contains(member, g) && !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	if all {
		for _, g := range member {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}
