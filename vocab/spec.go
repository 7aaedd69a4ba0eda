package vocab

import (
	"fmt"
	"strings"
)

// Spec is a parsed scheme spec: SECURITY[+CREDENTIAL[/ALG]][:POLICY[=ARG]].
type Spec struct {
	// Raw is the spec exactly as the user wrote it; results and reports use it.
	Raw string `json:"raw"`
	// Security is "null", "curve" or "curve-job".
	Security string `json:"security"`
	// Credential is "" (none), "passphrase", "jwt", "jwe" or "wlcg".
	Credential string `json:"credential,omitempty"`
	// Alg is the credential's algorithm variant ("" for its default).
	Alg string `json:"alg,omitempty"`
	// Policy is the credential lifetime policy ("" when there is no
	// credential; "workflow" by default when there is).
	Policy string `json:"policy,omitempty"`
	// Arg is the policy's argument (e.g. "10s" for shared=10s).
	Arg string `json:"arg,omitempty"`
}

// shortNames maps the short names of docs/design.md section 3 to full specs.
func shortName(s string) (string, bool) {
	switch s {
	case "plain":
		return "null", true
	case "passphrase":
		return "null+passphrase:workflow", true
	case "jwt":
		return "null+jwt:workflow", true
	case "jwe":
		return "null+jwe:workflow", true
	}
	return "", false
}

// ParseSpec parses a spec string syntactically. Whether its parts name
// schemes that exist is the Registry's question.
func ParseSpec(raw string) (Spec, error) {
	s := strings.TrimSpace(raw)
	sp := Spec{Raw: s}
	if s == "" {
		return sp, fmt.Errorf("empty scheme spec")
	}
	if strings.ContainsAny(s, ", \t") {
		return sp, fmt.Errorf("scheme %q: a spec has no commas or spaces (lists are comma-separated)", raw)
	}
	if full, ok := shortName(s); ok {
		s = full
	}
	head, policy, hasPolicy := strings.Cut(s, ":")
	if hasPolicy {
		if policy == "" {
			return sp, fmt.Errorf("scheme %q: empty policy after ':'", raw)
		}
		p, arg, hasArg := strings.Cut(policy, "=")
		if p == "" || (hasArg && arg == "") {
			return sp, fmt.Errorf("scheme %q: policy must be NAME or NAME=ARG", raw)
		}
		sp.Policy, sp.Arg = p, arg
	}
	sec, cred, hasCred := strings.Cut(head, "+")
	if hasCred && cred == "" {
		return sp, fmt.Errorf("scheme %q: empty credential after '+'", raw)
	}
	if !hasCred && sec == "plain" {
		// plain is null with no credential, so plain:POLICY has a policy
		// and no credential to apply it to.
		sec = "null"
	}
	if !hasCred && !isSecurity(sec) {
		// A credential may lead: jwt:command = null+jwt:command.
		sec, cred, hasCred = "null", sec, true
	}
	if sec == "" {
		return sp, fmt.Errorf("scheme %q: empty security before '+'", raw)
	}
	sp.Security = sec
	if hasCred {
		c, alg, hasAlg := strings.Cut(cred, "/")
		if c == "" || (hasAlg && alg == "") {
			return sp, fmt.Errorf("scheme %q: credential must be NAME or NAME/ALG", raw)
		}
		sp.Credential, sp.Alg = c, alg
		if sp.Policy == "" {
			sp.Policy = "workflow"
		}
	} else if hasPolicy {
		return sp, fmt.Errorf("scheme %q: policy %q needs a credential (e.g. null+jwt:%s)", raw, sp.Policy, policy)
	}
	return sp, nil
}

func isSecurity(s string) bool {
	for _, x := range Securities() {
		if x == s {
			return true
		}
	}
	return false
}

// Securities are the transports a spec may name first: the grammar must
// know them to tell `curve:...` (a transport) from `jwt:...` (a credential
// that leads). A new transport is registered in package schemes and named
// here; schemes' TestSecuritiesAgree fails until both agree.
func Securities() []string { return []string{"curve", "curve-job", "null"} }

// Canonical returns the full form, SECURITY[+CREDENTIAL[/ALG]:POLICY[=ARG]].
func (s Spec) Canonical() string {
	var b strings.Builder
	b.WriteString(s.Security)
	if s.Credential != "" {
		b.WriteString("+" + s.Credential)
		if s.Alg != "" {
			b.WriteString("/" + s.Alg)
		}
		b.WriteString(":" + s.Policy)
		if s.Arg != "" {
			b.WriteString("=" + s.Arg)
		}
	}
	return b.String()
}

// String returns the spec as written.
func (s Spec) String() string { return s.Raw }

// SplitList splits a comma-separated -schemes list, dropping empty items.
func SplitList(list string) []string {
	var out []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
