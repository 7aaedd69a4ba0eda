// Package wlcg holds the rules a relying party (a storage element, an FTS,
// a WFS, a computing element) applies to the claims of a WLCG Common JWT
// Profile token once its signature has been verified elsewhere (for example
// with go-jose v4 against the issuer's JWKS; go-jose's Claims method decodes
// straight into a [Claims] value).
//
// The rules follow "WLCG Common JWT Profiles", version 1.3 (17.06.2026,
// https://doi.org/10.5281/zenodo.20734267), whose source is profile.md in
// https://github.com/WLCG-AuthZ-WG/common-jwt-profile (read at commit 2876d68,
// identical to v1.3/profile.md there). Section numbers in the
// comments of this package refer to that document:
//
//   - §2.1.1 Common Claims: iss, sub, exp, iat, jti, aud and wlcg.ver are
//     "Required"; aud is a string or an array of case-sensitive strings and
//     the special value [AnyAudience] "signifies that the issuer intends the
//     token to be valid for all relying parties"; wlcg.groups names follow
//     "group ::= '/' groupname | group '/' groupname".
//   - §4.3.3 Claim and Token validation: an unsupported MAJOR version "MUST be
//     rejected as invalid", newer MINOR versions "MUST" be accepted, and any
//     claim outside the version's set "MUST be ignored".
//   - §2.2.1 Capability-based Authorization: scope: the storage.* and
//     compute.* authorizations, the $AUTHZ:$PATH form and its hierarchical,
//     exact-component path matching.
//   - §2.2.3 Interpretation of Authorization by the Resource Server: scopes
//     are evaluated inside the VO's request prefix, and capability statements
//     take precedence over group membership.
//
// [Validate] checks a token's claims against the relying party's [Expect];
// [ParseScopes] and [SplitScopes] parse the scope claim into [Scope] values;
// [Allows] decides whether those scopes authorize an operation on a path.
// Every error [Validate] or the JSON decoding returns wraps one of the Err*
// sentinels (see [Classify]) so that callers can count rejections by reason.
//
// The package is pure Go: it does no I/O, no network access and no
// signature checking.
package wlcg
