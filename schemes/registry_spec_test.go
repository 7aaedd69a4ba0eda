package schemes_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
)

func TestRegistryParse(t *testing.T) {
	good := []struct {
		raw, canonical string
	}{
		{"plain", "null"},
		{"null", "null"},
		{"passphrase", "null+passphrase:workflow"},
		{"null+passphrase", "null+passphrase:workflow"},
		{"null+passphrase:workflow", "null+passphrase:workflow"},
	}
	reg := schemes.Builtin()
	for _, tc := range good {
		t.Run(tc.raw, func(t *testing.T) {
			s, err := reg.Parse(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name() != tc.raw || s.Spec().Raw != tc.raw {
				t.Errorf("Name %q, Raw %q, want %q", s.Name(), s.Spec().Raw, tc.raw)
			}
			if c := s.Spec().Canonical(); c != tc.canonical {
				t.Errorf("canonical %q, want %q", c, tc.canonical)
			}
		})
	}
	if c := specMustParse(t, "plain").Claims(); c != (vocab.Claims{}) {
		t.Errorf("plain claims %+v, want none", c)
	}
	if c := specMustParse(t, "passphrase").Claims(); !c.Authenticates || !c.NeedsFS || c.Confidential || c.RepliesConfidential || c.Expires {
		t.Errorf("passphrase claims %+v", c)
	}
}

func specMustParse(t *testing.T, raw string) *schemes.Scheme {
	t.Helper()
	s, err := schemes.Builtin().Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegistryParseErrors(t *testing.T) {
	cases := []struct {
		raw  string
		want []string // fragments the one-line error must contain
	}{
		{"bogus", []string{`"bogus"`, "plain", "passphrase", "valid"}},
		{"bogus+passphrase", []string{`"bogus+passphrase"`, "plain", "passphrase", "valid"}},
		{"null+bogus", []string{`"bogus"`, "plain", "passphrase"}},
		{"bogus:command", []string{`"bogus`, "plain", "passphrase"}},
		{"passphrase:command", []string{`"command"`, "passphrase", "valid: workflow"}},
		{"null+passphrase:timed=10s", []string{`"timed"`, "valid: workflow"}},
		{"passphrase/HS256", []string{"passphrase", "/ALG"}},
		{"plain:command", []string{"needs a credential", "plain", "passphrase"}},
		{"null:workflow", []string{"needs a credential"}},
		{"", []string{"empty", "plain", "passphrase"}},
		{"a,b", []string{"comma", "plain"}},
		// Near the largest time.Duration, exp overflowed and every token
		// was rejected while the run passed.
		{"jwt:timed=2562047h/1h", []string{"timed", "2562047h", "over 720h"}},
		{"jwt:shared=10000h", []string{"shared", "over 720h"}},
	}
	reg := schemes.Builtin()
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			s, err := reg.Parse(tc.raw)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tc.raw, s.Spec())
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestRegistryParseList(t *testing.T) {
	reg := schemes.Builtin()
	got, err := reg.ParseList("plain, passphrase,jwt")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range got {
		names = append(names, s.Name())
	}
	if want := []string{"plain", "passphrase", "jwt"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("ParseList names %q, want %q", names, want)
	}

	bad := []struct {
		list string
		want []string
	}{
		{"plain,plain", []string{`"plain"`, "twice"}},
		// One scheme under two spellings would run twice and be reported as two.
		{"plain,null", []string{`"plain"`, `"null"`, "same scheme"}},
		{"jwt,null+jwt:workflow", []string{`"jwt"`, "same scheme"}},
		{"passphrase, plain, passphrase", []string{`"passphrase"`, "twice"}},
		{"plain,bogus", []string{"bogus", "plain", "passphrase"}},
		{"", []string{"no schemes", "plain"}},
		{" , ,", []string{"no schemes"}},
	}
	for _, tc := range bad {
		t.Run(tc.list, func(t *testing.T) {
			s, err := reg.ParseList(tc.list)
			if err == nil {
				t.Fatalf("ParseList(%q) = %d schemes, want an error", tc.list, len(s))
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is more than one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestSecuritiesAgree: every registered transport is one the spec grammar
// knows (vocab.Securities), and the other way round: adding a transport
// means a line in each.
func TestSecuritiesAgree(t *testing.T) {
	got := schemes.Builtin().Names(schemes.Security)
	if want := vocab.Securities(); !slices.Equal(got, want) {
		t.Fatalf("registered transports %v, vocab.Securities %v: add the new transport to both", got, want)
	}
}
