package vocab_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/authbench/authbench/vocab"
)

func TestSpecParseGood(t *testing.T) {
	cases := []struct {
		raw       string
		canonical string
		want      vocab.Spec // Raw is filled in from raw
	}{
		{"plain", "null", vocab.Spec{Security: "null"}},
		{"null", "null", vocab.Spec{Security: "null"}},
		{" plain ", "null", vocab.Spec{Raw: "plain", Security: "null"}},
		{"passphrase", "null+passphrase:workflow", vocab.Spec{Security: "null", Credential: "passphrase", Policy: "workflow"}},
		{"null+passphrase:workflow", "null+passphrase:workflow", vocab.Spec{Security: "null", Credential: "passphrase", Policy: "workflow"}},
		{"jwt", "null+jwt:workflow", vocab.Spec{Security: "null", Credential: "jwt", Policy: "workflow"}},
		{"jwe", "null+jwe:workflow", vocab.Spec{Security: "null", Credential: "jwe", Policy: "workflow"}},
		{"jwt:command", "null+jwt:command", vocab.Spec{Security: "null", Credential: "jwt", Policy: "command"}},
		{"null+jwt", "null+jwt:workflow", vocab.Spec{Security: "null", Credential: "jwt", Policy: "workflow"}},
		{"jwe/ECDH-ES:job=file", "null+jwe/ECDH-ES:job=file", vocab.Spec{Security: "null", Credential: "jwe", Alg: "ECDH-ES", Policy: "job", Arg: "file"}},
		{"curve", "curve", vocab.Spec{Security: "curve"}},
		{"curve-job", "curve-job", vocab.Spec{Security: "curve-job"}},
		{"curve+jwt:timed=60s/6s", "curve+jwt:timed=60s/6s", vocab.Spec{Security: "curve", Credential: "jwt", Policy: "timed", Arg: "60s/6s"}},
		{"curve-job+jwt/ES256:shared=10s", "curve-job+jwt/ES256:shared=10s", vocab.Spec{Security: "curve-job", Credential: "jwt", Alg: "ES256", Policy: "shared", Arg: "10s"}},
		// Syntactically fine; whether the parts exist is the registry's question.
		{"bogus", "null+bogus:workflow", vocab.Spec{Security: "null", Credential: "bogus", Policy: "workflow"}},
	}
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := vocab.ParseSpec(tc.raw)
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
			again, err := vocab.ParseSpec(tc.canonical)
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
			got, err := vocab.ParseSpec(tc.raw)
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
		if got := vocab.SplitList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
