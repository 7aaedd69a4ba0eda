package wlcg

import "errors"

// The rejection reasons. Every error returned by [Validate], by decoding
// [Claims] from JSON and by [ParseScopes] wraps exactly one of these (decoding
// errors wrap [ErrMalformed] as well), so errors.Is or [Classify] tells a
// caller why a token was refused. The wrapping error's message is one line
// and names the offending value.
var (
	// ErrConfig reports an unusable [Expect] or time (empty issuer or
	// audience, negative leeway, zero now): a relying-party bug, not a bad
	// token.
	ErrConfig = errors.New("wlcg: relying-party configuration")
	// ErrMalformed reports claims JSON of the wrong shape (a claim of the
	// wrong JSON type). It is wrapped together with the claim's own reason
	// when there is one (ErrAudience for aud, ErrVersion for wlcg.ver, ...).
	ErrMalformed = errors.New("wlcg: malformed claims")
	// ErrMissingClaim reports an absent required claim that has no reason of
	// its own: sub, exp, iat or jti (§2.1.1 marks them "Required").
	ErrMissingClaim = errors.New("wlcg: required claim missing")
	// ErrIssuer reports a missing iss or one other than the expected issuer.
	ErrIssuer = errors.New("wlcg: issuer rejected")
	// ErrAudience reports a missing aud, or one naming neither the relying
	// party nor [AnyAudience].
	ErrAudience = errors.New("wlcg: audience rejected")
	// ErrExpired reports a token at or past its exp (plus leeway).
	ErrExpired = errors.New("wlcg: token expired")
	// ErrNotYetValid reports a token before its nbf (minus leeway).
	ErrNotYetValid = errors.New("wlcg: token not yet valid")
	// ErrVersion reports a missing, malformed or unsupported wlcg.ver.
	ErrVersion = errors.New("wlcg: unsupported wlcg.ver")
	// ErrScope reports a scope claim that breaks the §2.2.1 rules (a storage
	// scope without a path, a relative or unnormalized path, a character
	// outside the RFC 6749 scope syntax).
	ErrScope = errors.New("wlcg: invalid scope")
	// ErrGroups reports a wlcg.groups entry outside the §2.1.1 group grammar.
	ErrGroups = errors.New("wlcg: invalid wlcg.groups")
)

// reasons lists the sentinels with their labels, most specific first:
// decoding errors wrap ErrMalformed and a claim reason, and the claim reason
// wins.
var reasons = []struct {
	err   error
	label string
}{
	{ErrConfig, "config"},
	{ErrIssuer, "issuer"},
	{ErrAudience, "audience"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrVersion, "version"},
	{ErrScope, "scope"},
	{ErrGroups, "groups"},
	{ErrMissingClaim, "missing_claim"},
	{ErrMalformed, "malformed"},
}

// Classify returns a short stable label for err's reason, suitable as a
// metric key: "config", "issuer", "audience", "expired", "not_yet_valid",
// "version", "scope", "groups", "missing_claim" or "malformed"; "" for a nil
// error and "other" for an error that wraps none of this package's reasons.
func Classify(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.label
		}
	}
	return "other"
}
