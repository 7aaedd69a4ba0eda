package wlcg

import (
	"fmt"
	"strings"
	"time"
)

// SupportedMajor is the wlcg.ver MAJOR number this package implements. Per
// §4.3.3, "Each client library implementation MUST know the MAJOR numbers it
// supports"; any MINOR number under it is accepted.
const SupportedMajor = 1

// Expect is what a relying party expects of the tokens it accepts.
type Expect struct {
	// Issuer is the one issuer URL the relying party trusts for this check;
	// iss must equal it exactly.
	Issuer string
	// Audience is the relying party's own audience, e.g.
	// "https://storage.example.org" (§2.1.1 recommends "the endpoint name
	// most commonly associated with the provided service"). Required.
	Audience string
	// OtherAudiences are further audiences the relying party also answers to:
	// §2.1.1 says a storage server "SHOULD accept an audience based on a
	// load-balanced endpoint it participates in ... in addition to its local
	// hostname". Optional.
	OtherAudiences []string
	// Leeway is the allowance for clock skew applied to exp and nbf; §4.3.1
	// puts the acceptable skew at "a few minutes at most, with a default
	// recommended value of 60 seconds". Zero means none; negative is a
	// configuration error.
	Leeway time.Duration
}

// Validate applies the relying-party claim rules of the WLCG Common JWT
// Profile to c at time now and returns nil if the token is acceptable. The
// signature must have been verified already. The first failing rule wins;
// its error wraps one of the Err* reasons (see [Classify]). The rules, in
// order:
//
//  1. want is usable: Issuer and Audience set, Leeway not negative, now not
//     zero ([ErrConfig]).
//  2. wlcg.ver is present, matches the §2.1.1 grammar
//     "vername ::= [0-9]+\.[0-9]+", and its MAJOR number is [SupportedMajor];
//     any MINOR is accepted (§4.3.3: an unsupported MAJOR "MUST be rejected as
//     invalid", "If newer MINOR numbers are encountered the library MUST
//     accept them") ([ErrVersion]).
//  3. iss is present and equals want.Issuer ([ErrIssuer]).
//  4. aud is present (§2.1.1: "Note requiring aud is atypical") and contains
//     want.Audience, one of want.OtherAudiences or [AnyAudience], compared as
//     case-sensitive strings ([ErrAudience]).
//  5. exp is present and now < exp + Leeway (§2.1.1: "the expiration time on
//     or after which the Token MUST NOT be accepted") ([ErrMissingClaim],
//     [ErrExpired]).
//  6. nbf, when present, satisfies nbf <= now + Leeway ([ErrNotYetValid]).
//  7. iat, sub and jti are present (§2.1.1 marks them "Required")
//     ([ErrMissingClaim]).
//  8. scope parses under the §2.2.1 rules (see [ParseScopes]) ([ErrScope]).
//  9. every wlcg.groups entry matches the §2.1.1 grammar (see [ValidGroup])
//     ([ErrGroups]).
//
// Claims this package does not know are ignored, as §4.3.3 requires.
func Validate(c Claims, want Expect, now time.Time) error {
	switch {
	case want.Issuer == "":
		return fmt.Errorf("%w: no expected issuer configured", ErrConfig)
	case want.Audience == "":
		return fmt.Errorf("%w: no relying-party audience configured", ErrConfig)
	case want.Leeway < 0:
		return fmt.Errorf("%w: negative leeway %v", ErrConfig, want.Leeway)
	case now.IsZero():
		return fmt.Errorf("%w: zero current time", ErrConfig)
	}
	if err := checkVersion(c.Version); err != nil {
		return err
	}
	if c.Issuer == "" {
		return fmt.Errorf("%w: iss claim missing", ErrIssuer)
	}
	if c.Issuer != want.Issuer {
		return fmt.Errorf("%w: iss %q is not the expected %q", ErrIssuer, c.Issuer, want.Issuer)
	}
	if err := checkAudience(c.Audience, want); err != nil {
		return err
	}
	if c.Expiry == nil {
		return fmt.Errorf("%w: exp claim missing", ErrMissingClaim)
	}
	if exp := c.Expiry.Time(); !now.Add(-want.Leeway).Before(exp) {
		return fmt.Errorf("%w: exp %s plus leeway %v is not after now %s",
			ErrExpired, stamp(exp), want.Leeway, stamp(now))
	}
	if c.NotBefore != nil {
		if nbf := c.NotBefore.Time(); now.Add(want.Leeway).Before(nbf) {
			return fmt.Errorf("%w: nbf %s is after now %s plus leeway %v",
				ErrNotYetValid, stamp(nbf), stamp(now), want.Leeway)
		}
	}
	switch {
	case c.IssuedAt == nil:
		return fmt.Errorf("%w: iat claim missing", ErrMissingClaim)
	case c.Subject == "":
		return fmt.Errorf("%w: sub claim missing", ErrMissingClaim)
	case c.ID == "":
		return fmt.Errorf("%w: jti claim missing", ErrMissingClaim)
	}
	if _, _, err := SplitScopes(c.Scope); err != nil {
		return err
	}
	for _, g := range c.Groups {
		if !ValidGroup(g) {
			return fmt.Errorf("%w: group %q does not match the profile grammar", ErrGroups, clip(g))
		}
	}
	return nil
}

func checkAudience(aud Audience, want Expect) error {
	if len(aud) == 0 {
		return fmt.Errorf("%w: aud claim missing", ErrAudience)
	}
	if aud.Contains(want.Audience) || aud.Contains(AnyAudience) {
		return nil
	}
	for _, a := range want.OtherAudiences {
		if a != "" && aud.Contains(a) {
			return nil
		}
	}
	var shown []string
	for i, a := range aud {
		if i == 5 {
			shown = append(shown, fmt.Sprintf("and %d more", len(aud)-i))
			break
		}
		shown = append(shown, clip(a))
	}
	return fmt.Errorf("%w: aud %q names neither %q nor %q",
		ErrAudience, shown, want.Audience, AnyAudience)
}

// checkVersion accepts "MAJOR.MINOR" with MAJOR == SupportedMajor.
func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("%w: wlcg.ver claim missing", ErrVersion)
	}
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !allDigits(major) || !allDigits(minor) {
		return fmt.Errorf("%w: wlcg.ver %q is not MAJOR.MINOR", ErrVersion, clip(v))
	}
	// The grammar allows leading zeros; compare the number, without
	// converting (the MINOR part may be arbitrarily long).
	if m := strings.TrimLeft(major, "0"); m != fmt.Sprint(SupportedMajor) {
		return fmt.Errorf("%w: wlcg.ver %q has major version %s, only %d is supported",
			ErrVersion, clip(v), clip(major), SupportedMajor)
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidGroup reports whether g is a group name under the §2.1.1 grammar
//
//	group ::= '/' groupname | group '/' groupname
//	groupname ::= [a-zA-Z0-9][a-zA-Z0-9_.-]*
//
// for example "/cms" or "/cms/uscms". (That the root group is the VO's name,
// which §2.1.1 also requires, needs knowledge of the VO and is not checked.)
func ValidGroup(g string) bool {
	if g == "" || g[0] != '/' {
		return false
	}
	for _, name := range strings.Split(g[1:], "/") {
		if name == "" || !isAlnum(name[0]) {
			return false
		}
		for i := 1; i < len(name); i++ {
			if c := name[i]; !isAlnum(c) && c != '_' && c != '.' && c != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// clip shortens s for an error message.
func clip(s string) string {
	const n = 80
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
