package schemes_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/authbench/authbench/schemes"
)

func TestSpecParseGood(t *testing.T) {
	cases := []struct {
		raw       string
		canonical string
		want      schemes.Spec // Raw is filled in from raw
	}{
		{"plain", "null", schemes.Spec{Security: "null"}},
		{"null", "null", schemes.Spec{Security: "null"}},
		{" plain ", "null", schemes.Spec{Raw: "plain", Security: "null"}},
		{"passphrase", "null+passphrase:workflow", schemes.Spec{Security: "null", Credential: "passphrase", Policy: "workflow"}},
		{"null+passphrase:workflow", "null+passphrase:workflow", schemes.Spec{Security: "null", Credential: "passphrase", Policy: "workflow"}},
		{"jwt", "null+jwt:workflow", schemes.Spec{Security: "null", Credential: "jwt", Policy: "workflow"}},
		{"jwe", "null+jwe:workflow", schemes.Spec{Security: "null", Credential: "jwe", Policy: "workflow"}},
		{"jwt:command", "null+jwt:command", schemes.Spec{Security: "null", Credential: "jwt", Policy: "command"}},
		{"null+jwt", "null+jwt:workflow", schemes.Spec{Security: "null", Credential: "jwt", Policy: "workflow"}},
		{"jwe/ECDH-ES:job=file", "null+jwe/ECDH-ES:job=file", schemes.Spec{Security: "null", Credential: "jwe", Alg: "ECDH-ES", Policy: "job", Arg: "file"}},
		{"curve", "curve", schemes.Spec{Security: "curve"}},
		{"curve-job", "curve-job", schemes.Spec{Security: "curve-job"}},
		{"curve+jwt:timed=60s/6s", "curve+jwt:timed=60s/6s", schemes.Spec{Security: "curve", Credential: "jwt", Policy: "timed", Arg: "60s/6s"}},
		{"curve-job+jwt/ES256:shared=10s", "curve-job+jwt/ES256:shared=10s", schemes.Spec{Security: "curve-job", Credential: "jwt", Alg: "ES256", Policy: "shared", Arg: "10s"}},
		// Syntactically fine; whether the parts exist is the registry's question.
		{"bogus", "null+bogus:workflow", schemes.Spec{Security: "null", Credential: "bogus", Policy: "workflow"}},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := schemes.ParseSpec(tc.raw)
			if err != nil {
				t.Fatalf("ParseSpec(%q): %v", tc.raw, err)
			}
			want := tc.want
			if want.Raw == "" {
				want.Raw = tc.raw
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseSpec(%q) = %+v, want %+v", tc.raw, got, want)
			}
			if c := got.Canonical(); c != tc.canonical {
				t.Errorf("Canonical() = %q, want %q", c, tc.canonical)
			}
			if got.String() != want.Raw {
				t.Errorf("String() = %q, want %q", got.String(), want.Raw)
			}
			// The canonical form parses to itself.
			again, err := schemes.ParseSpec(tc.canonical)
			if err != nil {
				t.Fatalf("ParseSpec(canonical %q): %v", tc.canonical, err)
			}
			if again.Canonical() != tc.canonical {
				t.Errorf("canonical %q reparses as %q", tc.canonical, again.Canonical())
			}
		})
	}
}

func TestSpecParseBad(t *testing.T) {
	cases := []struct {
		raw  string
		want string // a fragment of the error
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"null+", "empty credential"},
		{"+jwt", "empty security"},
		{":x", "credential"},
		{"a,b", "comma"},
		{"null jwt", "spaces"},
		{"plain:command", "needs a credential"},
		{"null:command", "needs a credential"},
		{"curve:timed=1s", "needs a credential"},
		{"jwt/", "NAME/ALG"},
		{"jwt:", "empty policy"},
		{"jwt:=x", "NAME=ARG"},
		{"jwt:timed=", "NAME=ARG"},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := schemes.ParseSpec(tc.raw)
			if err == nil {
				t.Fatalf("ParseSpec(%q) = %+v, want an error", tc.raw, got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseSpec(%q): %q does not mention %q", tc.raw, err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseSpec(%q): error is more than one line: %q", tc.raw, err)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"plain", []string{"plain"}},
		{"plain, passphrase,,", []string{"plain", "passphrase"}},
		{" , ", nil},
	}
	for _, tc := range cases {
		if got := schemes.SplitList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

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
	if c := specMustParse(t, "plain").Claims(); c != (schemes.Claims{}) {
		t.Errorf("plain claims %+v, want none", c)
	}
	if c := specMustParse(t, "passphrase").Claims(); !c.Authenticates || !c.NeedsFS || c.Confidential || c.Expires {
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
