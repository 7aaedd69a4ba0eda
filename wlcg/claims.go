package wlcg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// AnyAudience is the special aud value that, per §2.1.1 Common Claims,
// "signifies that the issuer intends the token to be valid for all relying
// parties".
const AnyAudience = "https://wlcg.cern.ch/jwt/v1/any"

// Claims are the claims of a WLCG token that this package interprets
// (§2.1.1 Common Claims and §2.1.3 Access Token Claims). Any other claim in
// the JSON is ignored, as §4.3.3 requires ("Any additional claim present MUST
// be ignored").
//
// Decoding (UnmarshalJSON) matches claim names exactly (case-sensitively, as
// RFC 7519 names are), treats a JSON null as an absent claim, and rejects a
// claim of the wrong JSON type with an error wrapping [ErrMalformed] (and the
// claim's own reason, e.g. [ErrAudience] for aud). Encoding uses the struct
// tags and omits absent claims.
type Claims struct {
	// Issuer is iss, the issuer's URL.
	Issuer string `json:"iss,omitempty"`
	// Subject is sub.
	Subject string `json:"sub,omitempty"`
	// Audience is aud, a string or an array of strings in JSON.
	Audience Audience `json:"aud,omitempty"`
	// Expiry is exp; nil when absent.
	Expiry *NumericDate `json:"exp,omitempty"`
	// NotBefore is nbf; nil when absent (it is optional).
	NotBefore *NumericDate `json:"nbf,omitempty"`
	// IssuedAt is iat; nil when absent.
	IssuedAt *NumericDate `json:"iat,omitempty"`
	// ID is jti.
	ID string `json:"jti,omitempty"`
	// Version is wlcg.ver, e.g. "1.0".
	Version string `json:"wlcg.ver,omitempty"`
	// Scope is the space-separated scope claim; see [ParseScopes].
	Scope string `json:"scope,omitempty"`
	// Groups is wlcg.groups, an ordered list of group names such as "/cms".
	Groups []string `json:"wlcg.groups,omitempty"`
}

// UnmarshalJSON decodes a JSON claims object into c (see [Claims]).
func (c *Claims) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: claims are not a JSON object: %v", ErrMalformed, err)
	}
	if raw == nil {
		return fmt.Errorf("%w: claims are null", ErrMalformed)
	}
	var out Claims
	strs := []struct {
		name   string
		dst    *string
		reason error
	}{
		{"iss", &out.Issuer, ErrIssuer},
		{"sub", &out.Subject, nil},
		{"jti", &out.ID, nil},
		{"wlcg.ver", &out.Version, ErrVersion},
		{"scope", &out.Scope, ErrScope},
	}
	for _, f := range strs {
		v, ok := present(raw, f.name)
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return decodeErr(f.name, "a string", f.reason)
		}
	}
	dates := []struct {
		name string
		dst  **NumericDate
	}{
		{"exp", &out.Expiry},
		{"nbf", &out.NotBefore},
		{"iat", &out.IssuedAt},
	}
	for _, f := range dates {
		v, ok := present(raw, f.name)
		if !ok {
			continue
		}
		var d NumericDate
		if err := d.UnmarshalJSON(v); err != nil {
			return decodeErr(f.name, "a number of seconds", nil)
		}
		*f.dst = &d
	}
	if v, ok := present(raw, "aud"); ok {
		if err := out.Audience.UnmarshalJSON(v); err != nil {
			return err
		}
	}
	if v, ok := present(raw, "wlcg.groups"); ok {
		if err := json.Unmarshal(v, &out.Groups); err != nil {
			return decodeErr("wlcg.groups", "an array of strings", ErrGroups)
		}
	}
	*c = out
	return nil
}

// present returns the raw value of claim name unless it is absent or null.
func present(raw map[string]json.RawMessage, name string) (json.RawMessage, bool) {
	v, ok := raw[name]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

func decodeErr(name, want string, reason error) error {
	if reason == nil {
		return fmt.Errorf("%w: claim %s is not %s", ErrMalformed, name, want)
	}
	return fmt.Errorf("%w: %w: claim %s is not %s", reason, ErrMalformed, name, want)
}

// Audience is the aud claim: the audiences the token is intended for. In
// JSON it is either a single string or an array of strings (§2.1.1, after
// RFC 7519 section 4.1.3); it encodes as a string when it holds exactly one
// audience and as an array otherwise.
type Audience []string

// UnmarshalJSON accepts a JSON string, an array of strings or null (no
// audience). Anything else is an error wrapping [ErrAudience] and
// [ErrMalformed].
func (a *Audience) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*a = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(data, &one); err == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(data, &many); err != nil {
		return decodeErr("aud", "a string or an array of strings", ErrAudience)
	}
	if many == nil {
		many = []string{}
	}
	*a = many
	return nil
}

// MarshalJSON encodes a single audience as a string and any other number
// as an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	if a == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(a))
}

// Contains reports whether aud is one of a's audiences. The comparison is
// an exact, case-sensitive string comparison, as §2.1.1 requires ("the
// comparison against the value MUST be done as a case-sensitive string").
func (a Audience) Contains(aud string) bool {
	for _, x := range a {
		if x == aud {
			return true
		}
	}
	return false
}

// NumericDate is a JWT NumericDate (RFC 7519 section 2): seconds since
// 1970-01-01T00:00:00Z UTC, ignoring leap seconds.
type NumericDate int64

// maxUnix bounds the seconds [NumericDate.Time] converts, so that extreme
// values stay far in the past or future instead of overflowing time.Time.
const maxUnix = 1 << 40 // about 34,800 years

// NewNumericDate returns t as a *NumericDate, truncated to whole seconds.
func NewNumericDate(t time.Time) *NumericDate {
	d := NumericDate(t.Unix())
	return &d
}

// Time returns d as a time.Time in UTC. Values beyond ±2^40 seconds are
// clamped there, which keeps their order with respect to any realistic now.
func (d NumericDate) Time() time.Time {
	s := int64(d)
	s = max(-maxUnix, min(s, maxUnix))
	return time.Unix(s, 0).UTC()
}

// UnmarshalJSON accepts a JSON number. A fractional value (RFC 7519 allows
// them) is rounded down to whole seconds; values beyond the int64 range are
// saturated.
func (d *NumericDate) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "" || !(s[0] == '-' || '0' <= s[0] && s[0] <= '9') || !json.Valid([]byte(s)) {
		return fmt.Errorf("%w: NumericDate %.40q is not a JSON number", ErrMalformed, s)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*d = NumericDate(i)
		return nil
	}
	// A valid JSON number always parses; out of range it comes back as
	// ±Inf (or 0 for a tiny fraction) with a range error, and saturates.
	f, _ := strconv.ParseFloat(s, 64)
	switch f = math.Floor(f); {
	case f >= math.MaxInt64:
		*d = NumericDate(math.MaxInt64)
	case f <= math.MinInt64:
		*d = NumericDate(math.MinInt64)
	default:
		*d = NumericDate(int64(f))
	}
	return nil
}
