package issuer

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	zcrypto "github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// server implements zitadel's op.Server (the "server" API) for the token
// endpoint, the JWKS and the health probe. zitadel routes a token request
// by grant_type, authenticates the client through VerifyClient, checks the
// grant type against op.Client.GrantTypes and the parameters the RFCs make
// required (for token exchange: subject_token and subject_token_type), and
// writes the RFC 6749 error responses. Tokens are made here, not by
// zitadel's op.CreateAccessToken, so no request type reaches zitadel's
// storage path, where a request that also satisfies op.RefreshTokenRequest
// is given (and stored) a refresh token on every call.
type server struct {
	op.UnimplementedServer
	iss *Issuer
}

var _ op.Server = (*server)(nil)

// Health implements op.Server.
func (s *server) Health(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Ready implements op.Server: ready once serving.
func (s *server) Ready(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// Keys implements op.Server: the published keys, each with its kid.
func (s *server) Keys(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(s.iss.keys.jwks(time.Now())), nil
}

// invalidClient is the refusal of a client that failed authentication
// (401, RFC 6749 section 5.2).
func invalidClient(desc string) error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("%s", desc), http.StatusUnauthorized)
}

// VerifyClient implements op.Server: client_secret_basic or
// client_secret_post, secrets compared in constant time.
func (s *server) VerifyClient(_ context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" {
		return nil, invalidClient("client assertions are not supported")
	}
	c, ok := s.iss.clients[cc.ClientID]
	if !ok {
		return nil, invalidClient("unknown client or wrong secret")
	}
	if subtle.ConstantTimeCompare([]byte(cc.ClientSecret), []byte(c.Secret)) != 1 {
		return nil, invalidClient("unknown client or wrong secret")
	}
	return c, nil
}

// tokenResponse wraps a token response with "Cache-Control: no-store"
// (RFC 6749 section 5.1).
func tokenResponse(data any) *op.Response {
	resp := op.NewResponse(data)
	resp.Header.Set("Cache-Control", "no-store")
	resp.Header.Set("Pragma", "no-cache")
	return resp
}

// ClientCredentialsExchange implements op.Server. zitadel's
// oidc.ClientCredentialsRequest has no audience field, so the audience is
// read from the request's form.
func (s *server) ClientCredentialsExchange(_ context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	now := time.Now()
	scopes, err := grantScopes(r.Data.Scope, defaultScopes(c.Scopes), c)
	if err != nil {
		return nil, err
	}
	// No refresh token for client credentials (RFC 6749 section 4.4.3):
	// offline_access is not granted.
	scopes = slices.DeleteFunc(scopes, func(s string) bool { return s == ScopeOfflineAccess })
	aud, err := grantAudience(r.Form["audience"], c)
	if err != nil {
		return nil, err
	}
	g := &grant{clientID: c.ID, subject: c.ID, scopes: scopes, audience: aud, groups: c.Groups}
	at, err := s.iss.issueAccess(g, now)
	if err != nil {
		return nil, err
	}
	return tokenResponse(&oidc.AccessTokenResponse{
		AccessToken: at,
		TokenType:   oidc.BearerToken,
		ExpiresIn:   uint64(s.iss.cfg.AccessLifetime.Seconds()),
		Scope:       scopes,
	}), nil
}

// TokenExchange implements op.Server (RFC 8693). zitadel has already
// refused a request without subject_token or subject_token_type.
func (s *server) TokenExchange(_ context.Context, r *op.ClientRequest[oidc.TokenExchangeRequest]) (*op.Response, error) {
	d := r.Data
	requester := r.Client.(*client)
	now := time.Now()
	switch d.SubjectTokenType {
	case oidc.AccessTokenType, oidc.JWTTokenType:
	default:
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token_type %q is not supported: want %s or %s", d.SubjectTokenType, oidc.AccessTokenType, oidc.JWTTokenType)
	}
	issuedType := oidc.AccessTokenType
	switch d.RequestedTokenType {
	case "", oidc.AccessTokenType:
	case oidc.JWTTokenType:
		issuedType = oidc.JWTTokenType
	default:
		return nil, oidc.ErrInvalidRequest().WithDescription("requested_token_type %q is not supported: ask for offline_access to get a refresh token", d.RequestedTokenType)
	}
	if d.ActorToken != "" || d.ActorTokenType != "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("actor tokens are not supported")
	}
	subj, err := s.iss.subjectGrant(d.SubjectToken, now)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token: %v", err)
	}
	owner, ok := s.iss.clients[subj.clientID]
	if !ok {
		return nil, oidc.ErrInvalidGrant().WithDescription("subject_token: its client is no longer registered")
	}
	// The default is the subject token's scopes (not offline_access),
	// as far as the policy allows them to both clients.
	var def []string
	for _, sc := range subj.scopes {
		if sc != ScopeOfflineAccess && scopeAllowed(sc, owner.Scopes) && scopeAllowed(sc, requester.Scopes) {
			def = append(def, sc)
		}
	}
	scopes, err := grantScopes(d.Scopes, def, owner, requester)
	if err != nil {
		return nil, err
	}
	aud, err := grantAudience(d.Audience, requester)
	if err != nil {
		return nil, err
	}
	g := &grant{clientID: requester.ID, subject: subj.subject, scopes: scopes, audience: aud, groups: subj.groups}
	at, err := s.iss.issueAccess(g, now)
	if err != nil {
		return nil, err
	}
	resp := &oidc.TokenExchangeResponse{
		AccessToken:     at,
		IssuedTokenType: issuedType,
		TokenType:       oidc.BearerToken,
		ExpiresIn:       uint64(s.iss.cfg.AccessLifetime.Seconds()),
		Scopes:          scopes,
	}
	if slices.Contains(scopes, ScopeOfflineAccess) {
		resp.RefreshToken = s.iss.issueRefresh(g, now)
	}
	return tokenResponse(resp), nil
}

// RefreshToken implements op.Server: the refresh token works once and is
// replaced by a new one (rotation), with a fresh RefreshLifetime and the
// original scopes and audience; the access token may narrow both with the
// scope and audience parameters.
func (s *server) RefreshToken(_ context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	c := r.Client.(*client)
	now := time.Now()
	var scopes, aud []string
	old, err := s.iss.store.takeRefresh(r.Data.RefreshToken, c.ID, now, func(old *grant) error {
		var err error
		if scopes, err = narrowScopes(r.Data.Scopes, old.scopes); err != nil {
			return err
		}
		aud = old.audience
		if len(r.Form["audience"]) > 0 {
			aud, err = grantAudience(r.Form["audience"], c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	at, err := s.iss.issueAccess(&grant{clientID: c.ID, subject: old.subject, scopes: scopes, audience: aud, groups: old.groups}, now)
	if err != nil {
		return nil, err
	}
	rt := s.iss.issueRefresh(old, now)
	s.iss.stats.refreshes.Add(1)
	return tokenResponse(&oidc.AccessTokenResponse{
		AccessToken:  at,
		TokenType:    oidc.BearerToken,
		RefreshToken: rt,
		ExpiresIn:    uint64(s.iss.cfg.AccessLifetime.Seconds()),
		Scope:        scopes,
	}), nil
}

// defaultScopes are the scopes granted to a client-credentials request
// without a scope parameter: all the client's scopes but offline_access.
func defaultScopes(allowed []string) []string {
	return slices.DeleteFunc(slices.Clone(allowed), func(s string) bool { return s == ScopeOfflineAccess })
}

// grantScopes applies the scope policy: every requested scope must be
// allowed to every one of the clients; with none requested, def is granted.
// Repeats are dropped, the order kept.
func grantScopes(requested, def []string, clients ...*client) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(def), nil
	}
	var out []string
	for _, sc := range requested {
		if slices.Contains(out, sc) {
			continue
		}
		for _, c := range clients {
			if !scopeAllowed(sc, c.Scopes) {
				return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not allowed to client %q", sc, c.ID)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// narrowScopes checks that a refresh request's scopes are within the
// original grant; none requested means the original scopes.
func narrowScopes(requested, granted []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(granted), nil
	}
	var out []string
	for _, sc := range requested {
		if !scopeAllowed(sc, granted) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not within the refresh token's scopes", sc)
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// grantAudience applies the audience policy to the audience parameters
// (repeated, or space-separated in one value); with none, the client's
// default audience.
func grantAudience(values []string, c *client) ([]string, error) {
	var aud []string
	for _, v := range values {
		for _, a := range strings.Fields(v) {
			if !c.audienceAllowed(a) {
				return nil, oidc.ErrInvalidTarget().WithDescription("audience %q is not allowed to client %q", a, c.ID)
			}
			if !slices.Contains(aud, a) {
				aud = append(aud, a)
			}
		}
	}
	if len(aud) == 0 {
		return c.defaultAudience(), nil
	}
	return aud, nil
}

// issueAccess signs and stores an access token for g, valid from now for
// AccessLifetime. g.expires is set.
func (i *Issuer) issueAccess(g *grant, now time.Time) (string, error) {
	k := i.keys.signing()
	g.expires = now.Add(i.cfg.AccessLifetime)
	jti := randomID()
	claims := &oidc.AccessTokenClaims{
		TokenClaims: oidc.TokenClaims{
			Issuer:     i.url,
			Subject:    g.subject,
			Expiration: oidc.FromTime(g.expires),
			IssuedAt:   oidc.FromTime(now),
			NotBefore:  oidc.FromTime(now),
			ClientID:   g.clientID,
			JWTID:      jti,
		},
	}
	// The profile's own claims are private claims: zitadel's
	// AccessTokenClaims has no wlcg.ver or wlcg.groups, and its Scopes
	// field is never filled by zitadel's token path; all three go in
	// Claims, which zitadel merges into the payload.
	private := map[string]any{"wlcg.ver": i.cfg.Version}
	if len(g.scopes) > 0 {
		private["scope"] = strings.Join(g.scopes, " ")
	}
	if groups := tokenGroups(g.scopes, g.groups); groups != nil {
		private["wlcg.groups"] = groups
	}
	if len(g.audience) == 1 {
		// One audience is a string, as IAM writes it; oidc.Audience
		// always marshals an array, so it goes in as a private claim.
		private["aud"] = g.audience[0]
	} else {
		claims.Audience = slices.Clone(g.audience)
	}
	claims.Claims = private
	tok, err := zcrypto.Sign(claims, k.signer)
	if err != nil {
		return "", fmt.Errorf("issuer: sign: %w", err)
	}
	i.store.putAccess(jti, g, now)
	i.stats.accessStored.Add(1)
	return tok, nil
}

// issueRefresh stores a new opaque refresh token for a copy of g, valid
// from now for RefreshLifetime.
func (i *Issuer) issueRefresh(g *grant, now time.Time) string {
	rg := *g
	rg.scopes = slices.Clone(g.scopes)
	rg.expires = now.Add(i.cfg.RefreshLifetime)
	tok := randomString(32)
	i.store.putRefresh(tok, &rg, now)
	i.stats.refreshStored.Add(1)
	return tok
}

// subjectGrant verifies a subject token (signature against the published
// keys, issuer, expiry) and returns the grant it was stored with.
func (i *Issuer) subjectGrant(token string, now time.Time) (*grant, error) {
	payload, err := i.keys.verify(token, now)
	if err != nil {
		return nil, err
	}
	var c struct {
		Iss string `json:"iss"`
		Jti string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	if c.Iss != i.url {
		return nil, fmt.Errorf("issuer %q is not this issuer", c.Iss)
	}
	if now.Unix() >= c.Exp {
		return nil, errors.New("expired")
	}
	g, ok := i.store.accessGrant(c.Jti, now)
	if !ok {
		return nil, errors.New("not a live token of this issuer")
	}
	return g, nil
}

// metadata implements zitadel's op.MetadataServer: OpenID Connect
// discovery and RFC 8414 metadata, one document.
type metadata struct {
	op.UnimplementedMetadataServer
	iss *Issuer
}

var _ op.MetadataServer = (*metadata)(nil)

// OpenIDConfiguration implements op.MetadataServer.
func (m *metadata) OpenIDConfiguration(_ context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	return m.document(r)
}

// AuthorizationServerMetadata implements op.MetadataServer.
func (m *metadata) AuthorizationServerMetadata(_ context.Context, r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	return m.document(r)
}

func (m *metadata) document(r *op.Request[op.MetadataRequest]) (*op.Response, error) {
	if r.Data.IssuerPath != "" { // the issuer URL has no path
		return nil, op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("no issuer at %q", r.Data.IssuerPath), http.StatusNotFound)
	}
	i := m.iss
	var scopes []string
	for _, c := range i.cfg.Clients {
		for _, sc := range c.Scopes {
			if !slices.Contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	slices.Sort(scopes)
	return op.NewResponse(&oidc.DiscoveryConfiguration{
		Issuer:                            i.url,
		TokenEndpoint:                     i.TokenURL(),
		JwksURI:                           i.JWKSURL(),
		ScopesSupported:                   scopes,
		GrantTypesSupported:               []oidc.GrantType{oidc.GrantTypeClientCredentials, oidc.GrantTypeTokenExchange, oidc.GrantTypeRefreshToken},
		TokenEndpointAuthMethodsSupported: []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  i.keys.algs(),
		ClaimsSupported:                   []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "wlcg.ver", "wlcg.groups"},
	}), nil
}
