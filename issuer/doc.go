// Package issuer is a WLCG-style OAuth2 token issuer over HTTP on loopback,
// the stand-in for an INDIGO IAM instance that the `wlcg` credential and the
// WLCG token-flow questions (Rucio -> FTS -> storage) run against.
//
// It is built on zitadel's OpenID Provider package
// (github.com/zitadel/oidc/v3/pkg/op) through its "server" API: the issuer
// implements op.Server (client authentication and the three grants) and
// op.MetadataServer (discovery), and zitadel does the routing, the form
// parsing, the required-parameter checks and the RFC 6749 error responses.
// Tokens are kept in memory, as IAM keeps both access and refresh tokens in
// its database by default, and every grant is counted (see [Stats]).
//
// It serves:
//
//	/.well-known/openid-configuration      OpenID Connect discovery
//	/.well-known/oauth-authorization-server RFC 8414 metadata (same document)
//	/jwks                                   the JSON Web Key Set, one kid per key
//	/token                                  the token endpoint
//	/healthz                                liveness
//
// and grants:
//
//   - client_credentials, with an `audience` form parameter (one or more,
//     each value may hold several space-separated audiences);
//   - urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693), with an
//     IAM-like scope policy: every requested scope must be allowed to the
//     client that obtained the subject token and to the requesting client;
//     `offline_access` adds a refresh token;
//   - refresh_token, with rotation: the old refresh token stops working.
//
// Access tokens follow the WLCG Common JWT Profile: iss, sub, aud (a string
// for one audience, an array for several; [AnyAudience] for "any service"),
// exp, nbf, iat, jti, wlcg.ver, scope (space-separated) and wlcg.groups when
// groups are requested with the `wlcg.groups` scope. They are signed with
// RS256 or ES256 and carry the signing key's kid.
//
// Scope policy. A requested scope is allowed to a client when it equals one
// of the client's allowed scopes, or when both have the capability form
// AUTHZ:PATH with the same AUTHZ and the requested PATH is the allowed one or
// below it (storage.read:/cms allows storage.read:/cms/out; storage.read:/
// allows every path). Requested paths must be clean (no "." or ".."
// segments). `wlcg.groups:/GROUP` is allowed by `wlcg.groups`.
package issuer
