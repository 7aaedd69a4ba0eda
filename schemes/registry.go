package schemes

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/authbench/authbench/vocab"
)

// PartKind says whether a registered part is a SECURITY or a CREDENTIAL.
type PartKind string

// Part kinds.
const (
	Security   PartKind = "security"
	Credential PartKind = "credential"
)

// PartInfo registers one transport or credential.
type PartInfo struct {
	Name string
	Kind PartKind
	// Doc is one line for `authbench list`.
	Doc string
	// Algs are the accepted /ALG variants; the first is the default. Empty
	// means the part takes no variant.
	Algs []string
	// Policies are the accepted lifetime policies (credentials only).
	Policies []string
	// Examples are specs `authbench list` shows for this part.
	Examples []string
	// New builds the part for a spec that names it.
	New func(spec Spec) (Part, error)
}

// Registry knows the parts that specs may name.
type Registry struct {
	parts map[string]PartInfo
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{parts: map[string]PartInfo{}} }

// Builtin returns a registry holding every scheme part authbench ships.
func Builtin() *Registry {
	r := NewRegistry()
	r.Register(nullInfo())
	r.Register(passphraseInfo())
	r.Register(jwtInfo())
	r.Register(jweInfo())
	r.Register(wlcgInfo())
	r.Register(totpInfo())
	r.Register(hotpInfo())
	RegisterCurve(r)
	return r
}

// Register adds a part; a later registration of the same name replaces it.
func (r *Registry) Register(p PartInfo) { r.parts[p.Name] = p }

// Names lists the registered parts of a kind, sorted.
func (r *Registry) Names(kind PartKind) []string {
	var out []string
	for n, p := range r.parts {
		if p.Kind == kind {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Examples lists the specs `authbench list` shows, securities first.
func (r *Registry) Examples() []string {
	out := []string{"plain"}
	for _, kind := range []PartKind{Security, Credential} {
		for _, n := range r.Names(kind) {
			for _, e := range r.parts[n].Examples {
				if !slices.Contains(out, e) {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// Info returns a registered part by name.
func (r *Registry) Info(name string) (PartInfo, bool) {
	p, ok := r.parts[name]
	return p, ok
}

// validHint is the tail of every spec error: what is valid.
func (r *Registry) validHint() string {
	return fmt.Sprintf("valid: %s; or SECURITY[+CREDENTIAL[/ALG]][:POLICY[=ARG]] with SECURITY in {%s} and CREDENTIAL in {%s} (see `authbench list`)",
		strings.Join(r.Examples(), ", "), strings.Join(r.Names(Security), ", "), strings.Join(r.Names(Credential), ", "))
}

// Parse parses a spec and builds its scheme. An unknown or ill-formed spec
// gets one line naming what is wrong and what is valid.
func (r *Registry) Parse(raw string) (*Scheme, error) {
	sp, err := vocab.ParseSpec(raw)
	if err != nil {
		return nil, fmt.Errorf("%v; %s", err, r.validHint())
	}
	sec, ok := r.parts[sp.Security]
	if !ok || sec.Kind != Security {
		if sp.Credential == "" && strings.ContainsAny(raw, ":/") {
			return nil, fmt.Errorf("scheme %q: unknown credential %q; %s", raw, sp.Security, r.validHint())
		}
		return nil, fmt.Errorf("unknown scheme %q; %s", raw, r.validHint())
	}
	tp, err := sec.New(sp)
	if err != nil {
		return nil, fmt.Errorf("scheme %q: %v", raw, err)
	}
	s := &Scheme{spec: sp, transport: tp}
	if sp.Credential == "" {
		return s, nil
	}
	cred, ok := r.parts[sp.Credential]
	if !ok || cred.Kind != Credential {
		return nil, fmt.Errorf("scheme %q: unknown credential %q; %s", raw, sp.Credential, r.validHint())
	}
	if sp.Alg != "" && !slices.Contains(cred.Algs, sp.Alg) {
		if len(cred.Algs) == 0 {
			return nil, fmt.Errorf("scheme %q: credential %s takes no /ALG", raw, cred.Name)
		}
		return nil, fmt.Errorf("scheme %q: credential %s has no algorithm %q; valid: %s", raw, cred.Name, sp.Alg, strings.Join(cred.Algs, ", "))
	}
	if sp.Alg == "" && len(cred.Algs) > 0 {
		sp.Alg = cred.Algs[0]
		s.spec = sp
	}
	if !slices.Contains(cred.Policies, sp.Policy) {
		return nil, fmt.Errorf("scheme %q: credential %s has no policy %q; valid: %s", raw, cred.Name, sp.Policy, strings.Join(cred.Policies, ", "))
	}
	cp, err := cred.New(sp)
	if err != nil {
		return nil, fmt.Errorf("scheme %q: %v", raw, err)
	}
	s.cred = cp
	return s, nil
}

// ParseList parses a comma-separated -schemes list; duplicates are an error.
func (r *Registry) ParseList(list string) ([]*Scheme, error) {
	items := vocab.SplitList(list)
	if len(items) == 0 {
		return nil, fmt.Errorf("no schemes given; %s", r.validHint())
	}
	seen := map[string]string{} // canonical form -> as written
	var out []*Scheme
	for _, it := range items {
		s, err := r.Parse(it)
		if err != nil {
			return nil, err
		}
		c := s.Spec().Canonical()
		if prev, ok := seen[c]; ok {
			if prev == it {
				return nil, fmt.Errorf("scheme %q given twice", it)
			}
			return nil, fmt.Errorf("schemes %q and %q are the same scheme (%s); give it once", prev, it, c)
		}
		seen[c] = it
		out = append(out, s)
	}
	return out, nil
}
