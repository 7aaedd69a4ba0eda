package wlcg

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const (
	testIssuer = "https://cms-auth.example.org/"
	testRP     = "https://storage.example.org"
)

// t0 is the test's "now"; base claims are valid at t0 with no leeway.
var t0 = time.Unix(1_800_000_000, 0)

func baseClaims() Claims {
	return Claims{
		Issuer:    testIssuer,
		Subject:   "a1b2c3",
		Audience:  Audience{testRP},
		Expiry:    nd(t0.Unix() + 600),
		NotBefore: nd(t0.Unix() - 60),
		IssuedAt:  nd(t0.Unix() - 60),
		ID:        "7f2e",
		Version:   "1.0",
		Scope:     "storage.read:/cms storage.create:/cms/store/user",
		Groups:    []string{"/cms", "/cms/uscms"},
	}
}

func TestValidate(t *testing.T) {
	want := Expect{Issuer: testIssuer, Audience: testRP}
	lee := want
	lee.Leeway = 60 * time.Second
	also := want
	also.OtherAudiences = []string{"https://redirector.example.org"}

	tests := []struct {
		name   string
		mutate func(*Claims)
		want   Expect
		now    time.Time
		err    error // nil: accepted
	}{
		{name: "valid", mutate: func(c *Claims) {}},

		// aud
		{name: "aud string", mutate: func(c *Claims) { c.Audience = Audience{testRP} }},
		{name: "aud array containing rp", mutate: func(c *Claims) {
			c.Audience = Audience{"https://other.example.org", testRP}
		}},
		{name: "aud any", mutate: func(c *Claims) { c.Audience = Audience{AnyAudience} }},
		{name: "aud array with any", mutate: func(c *Claims) {
			c.Audience = Audience{"https://other.example.org", AnyAudience}
		}},
		{name: "aud other audience of the rp", want: also, mutate: func(c *Claims) {
			c.Audience = Audience{"https://redirector.example.org"}
		}},
		{name: "aud missing", mutate: func(c *Claims) { c.Audience = nil }, err: ErrAudience},
		{name: "aud empty array", mutate: func(c *Claims) { c.Audience = Audience{} }, err: ErrAudience},
		{name: "aud wrong", mutate: func(c *Claims) { c.Audience = Audience{"https://other.example.org"} }, err: ErrAudience},
		{name: "aud array without rp", mutate: func(c *Claims) { c.Audience = Audience{"a", "b"} }, err: ErrAudience},
		{name: "aud differs in case", mutate: func(c *Claims) { c.Audience = Audience{strings.ToUpper(testRP)} }, err: ErrAudience},
		{name: "aud with trailing slash", mutate: func(c *Claims) { c.Audience = Audience{testRP + "/"} }, err: ErrAudience},
		{name: "aud any with other scheme", mutate: func(c *Claims) { c.Audience = Audience{"http://wlcg.cern.ch/jwt/v1/any"} }, err: ErrAudience},
		{name: "aud empty string", mutate: func(c *Claims) { c.Audience = Audience{""} }, err: ErrAudience},

		// exp
		{name: "exp one second ahead", mutate: func(c *Claims) { c.Expiry = nd(t0.Unix() + 1) }},
		{name: "exp equals now", mutate: func(c *Claims) { c.Expiry = nd(t0.Unix()) }, err: ErrExpired},
		{name: "exp 1ns before now", now: t0.Add(-time.Nanosecond), mutate: func(c *Claims) { c.Expiry = nd(t0.Unix()) }},
		{name: "exp past", mutate: func(c *Claims) { c.Expiry = nd(t0.Unix() - 1) }, err: ErrExpired},
		{name: "exp past within leeway", want: lee, mutate: func(c *Claims) { c.Expiry = nd(t0.Unix() - 59) }},
		{name: "exp past at leeway edge", want: lee, mutate: func(c *Claims) { c.Expiry = nd(t0.Unix() - 60) }, err: ErrExpired},
		{name: "exp past beyond leeway", want: lee, mutate: func(c *Claims) { c.Expiry = nd(t0.Unix() - 61) }, err: ErrExpired},
		{name: "exp missing", mutate: func(c *Claims) { c.Expiry = nil }, err: ErrMissingClaim},
		{name: "exp far future", mutate: func(c *Claims) { c.Expiry = nd(1 << 62) }},

		// nbf
		{name: "nbf equals now", mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix()) }},
		{name: "nbf 1s ahead", mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix() + 1) }, err: ErrNotYetValid},
		{name: "nbf 1ns ahead", now: t0.Add(-time.Nanosecond), mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix()) }, err: ErrNotYetValid},
		{name: "nbf ahead within leeway", want: lee, mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix() + 59) }},
		{name: "nbf ahead at leeway edge", want: lee, mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix() + 60) }},
		{name: "nbf ahead beyond leeway", want: lee, mutate: func(c *Claims) { c.NotBefore = nd(t0.Unix() + 61) }, err: ErrNotYetValid},
		{name: "nbf huge does not wrap", mutate: func(c *Claims) { c.NotBefore = nd(1<<63 - 1) }, err: ErrNotYetValid},
		{name: "nbf absent", mutate: func(c *Claims) { c.NotBefore = nil }},

		// other required claims
		{name: "iat missing", mutate: func(c *Claims) { c.IssuedAt = nil }, err: ErrMissingClaim},
		{name: "iat zero is present", mutate: func(c *Claims) { c.IssuedAt = nd(0) }},
		{name: "sub missing", mutate: func(c *Claims) { c.Subject = "" }, err: ErrMissingClaim},
		{name: "jti missing", mutate: func(c *Claims) { c.ID = "" }, err: ErrMissingClaim},

		// iss
		{name: "iss wrong", mutate: func(c *Claims) { c.Issuer = "https://evil.example.org/" }, err: ErrIssuer},
		{name: "iss without trailing slash", mutate: func(c *Claims) { c.Issuer = strings.TrimSuffix(testIssuer, "/") }, err: ErrIssuer},
		{name: "iss missing", mutate: func(c *Claims) { c.Issuer = "" }, err: ErrIssuer},

		// wlcg.ver
		{name: "ver 1.0", mutate: func(c *Claims) { c.Version = "1.0" }},
		{name: "ver 1.1", mutate: func(c *Claims) { c.Version = "1.1" }},
		{name: "ver 1.5", mutate: func(c *Claims) { c.Version = "1.5" }},
		{name: "ver 1.23", mutate: func(c *Claims) { c.Version = "1.23" }},
		{name: "ver 1.99999999999999999999", mutate: func(c *Claims) { c.Version = "1.99999999999999999999" }},
		{name: "ver 01.0 (grammar allows leading zeros)", mutate: func(c *Claims) { c.Version = "01.0" }},
		{name: "ver 2.0", mutate: func(c *Claims) { c.Version = "2.0" }, err: ErrVersion},
		{name: "ver 0.9", mutate: func(c *Claims) { c.Version = "0.9" }, err: ErrVersion},
		{name: "ver 11.0", mutate: func(c *Claims) { c.Version = "11.0" }, err: ErrVersion},
		{name: "ver empty", mutate: func(c *Claims) { c.Version = "" }, err: ErrVersion},
		{name: "ver x", mutate: func(c *Claims) { c.Version = "x" }, err: ErrVersion},
		{name: "ver 1", mutate: func(c *Claims) { c.Version = "1" }, err: ErrVersion},
		{name: "ver 1.", mutate: func(c *Claims) { c.Version = "1." }, err: ErrVersion},
		{name: "ver .1", mutate: func(c *Claims) { c.Version = ".1" }, err: ErrVersion},
		{name: "ver 1.0.0", mutate: func(c *Claims) { c.Version = "1.0.0" }, err: ErrVersion},
		{name: "ver v1.0", mutate: func(c *Claims) { c.Version = "v1.0" }, err: ErrVersion},
		{name: "ver with space", mutate: func(c *Claims) { c.Version = " 1.0" }, err: ErrVersion},
		{name: "ver +1.0", mutate: func(c *Claims) { c.Version = "+1.0" }, err: ErrVersion},
		{name: "ver 1.0a", mutate: func(c *Claims) { c.Version = "1.0a" }, err: ErrVersion},
		{name: "ver non-ASCII digits", mutate: func(c *Claims) { c.Version = "١.٠" }, err: ErrVersion},
		{name: "version checked before issuer", mutate: func(c *Claims) { c.Version = "2.0"; c.Issuer = "x" }, err: ErrVersion},

		// scope and groups
		{name: "scope absent", mutate: func(c *Claims) { c.Scope = "" }},
		{name: "scope with unknown entries", mutate: func(c *Claims) { c.Scope = "openid offline_access wlcg.groups storage.read:/" }},
		{name: "scope storage without path", mutate: func(c *Claims) { c.Scope = "storage.read" }, err: ErrScope},
		{name: "scope relative path", mutate: func(c *Claims) { c.Scope = "storage.read:cms" }, err: ErrScope},
		{name: "groups absent", mutate: func(c *Claims) { c.Groups = nil }},
		{name: "group without slash", mutate: func(c *Claims) { c.Groups = []string{"cms"} }, err: ErrGroups},
		{name: "group with trailing slash", mutate: func(c *Claims) { c.Groups = []string{"/cms/"} }, err: ErrGroups},

		// configuration
		{name: "no expected issuer", want: Expect{Audience: testRP}, mutate: func(c *Claims) { c.Issuer = "" }, err: ErrConfig},
		{name: "no rp audience", want: Expect{Issuer: testIssuer}, mutate: func(c *Claims) { c.Audience = Audience{""} }, err: ErrConfig},
		{name: "negative leeway", want: Expect{Issuer: testIssuer, Audience: testRP, Leeway: -time.Second}, mutate: func(c *Claims) {}, err: ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseClaims()
			tt.mutate(&c)
			w := tt.want
			if w.Issuer == "" && w.Audience == "" {
				w = want
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			err := Validate(c, w, now)
			if tt.err == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %v, want %v", err, tt.err)
			}
			if got, want := Classify(err), Classify(tt.err); got != want {
				t.Errorf("Classify = %q, want %q", got, want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "wlcg: ") || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("message %q is not a one-line wlcg: message", msg)
			}
		})
	}
}

func TestValidateZeroNow(t *testing.T) {
	err := Validate(baseClaims(), Expect{Issuer: testIssuer, Audience: testRP}, time.Time{})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate with zero now = %v, want ErrConfig", err)
	}
}

func TestValidateMessages(t *testing.T) {
	want := Expect{Issuer: testIssuer, Audience: testRP}
	c := baseClaims()
	c.Audience = Audience{"https://a\nb", "x", "y", "z", "w", "v", "u"}
	err := Validate(c, want, t0)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "and 2 more") {
		t.Errorf("audience message: %v", err)
	}
	c = baseClaims()
	c.Version = strings.Repeat("9", 500) + ".0"
	if err := Validate(c, want, t0); err == nil || len(err.Error()) > 300 {
		t.Errorf("long version message not clipped: %d bytes", len(err.Error()))
	}
}

func TestValidGroup(t *testing.T) {
	for g, want := range map[string]bool{
		"/cms":               true,
		"/cms/uscms":         true,
		"/atlas/production":  true,
		"/dune/pro-1_x.y":    true,
		"/0vo":               true,
		"":                   false,
		"/":                  false,
		"cms":                false,
		"/cms/":              false,
		"//cms":              false,
		"/cms//x":            false,
		"/_cms":              false,
		"/-cms":              false,
		"/.cms":              false,
		"/cms/role=prod":     false,
		"/cms/with space":    false,
		"/cms/Role=NULL":     false,
		"/caf\u00e9":         false,
		"/cms/uscms/t1/site": true,
	} {
		if got := ValidGroup(g); got != want {
			t.Errorf("ValidGroup(%q) = %v, want %v", g, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	if Classify(nil) != "" {
		t.Error("Classify(nil) not empty")
	}
	if Classify(errors.New("x")) != "other" {
		t.Error("Classify(foreign) not other")
	}
	seen := map[string]bool{}
	for _, r := range reasons {
		l := Classify(r.err)
		if l != r.label || seen[l] {
			t.Errorf("Classify(%v) = %q", r.err, l)
		}
		seen[l] = true
	}
}
