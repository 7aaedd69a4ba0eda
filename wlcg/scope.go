package wlcg

import (
	"fmt"
	"strings"
)

// The authorization kinds of §2.2.1 Capability-based Authorization: scope.
// The storage kinds take a path ($AUTHZ:$PATH); the compute kinds take none.
const (
	// StorageRead: "Read data from an 'online' resource."
	StorageRead = "storage.read"
	// StorageCreate: "Upload data." It "does not permit deleting,
	// overwriting, or replacing stored data."
	StorageCreate = "storage.create"
	// StorageModify: "Change data. ... This is a strict superset of
	// storage.create."
	StorageModify = "storage.modify"
	// StorageStage: "Stage data, plus related operations" (poll,
	// abort/cancel, evict/release, pin/unpin); it no longer implies read.
	StorageStage = "storage.stage"
	// StoragePoll: "Inquire about the localities (nearline and/or online) of
	// the given files." (added to the profile after version 1.0).
	StoragePoll = "storage.poll"
	// ComputeRead: "'Read' or query information about job status and
	// attributes."
	ComputeRead = "compute.read"
	// ComputeCreate: "Create or submit a new job at the computing resource."
	ComputeCreate = "compute.create"
	// ComputeModify: "Modify or change the attributes of an existing job."
	ComputeModify = "compute.modify"
	// ComputeCancel: "Delete a job from the computing resource, potentially
	// terminating a running job."
	ComputeCancel = "compute.cancel"
)

// storageKind and computeKind classify the known kinds.
func storageKind(k string) bool {
	switch k {
	case StorageRead, StorageCreate, StorageModify, StorageStage, StoragePoll:
		return true
	}
	return false
}

func computeKind(k string) bool {
	switch k {
	case ComputeRead, ComputeCreate, ComputeModify, ComputeCancel:
		return true
	}
	return false
}

// Scope is one authorization from the scope claim: a Kind (one of the
// Storage* and Compute* constants) and, for the storage kinds, the Path it is
// limited to, exactly as written in the token: absolute, normalized and
// URL-escaped (§2.2.1), e.g. "/cms/store" or "/" for the whole area. A
// trailing "/" is kept: per §2.2.1 it makes the path a directory.
type Scope struct {
	Kind string
	Path string
}

// String returns the scope as it appears in a scope claim: "Kind:Path" for
// a storage scope, "Kind" for a compute scope.
func (s Scope) String() string {
	if s.Path == "" {
		return s.Kind
	}
	return s.Kind + ":" + s.Path
}

// FormatScopes renders scopes as a space-separated scope claim, the inverse
// of [ParseScopes].
func FormatScopes(scopes []Scope) string {
	parts := make([]string, len(scopes))
	for i, s := range scopes {
		parts[i] = s.String()
	}
	return strings.Join(parts, " ")
}

// ParseScopes parses a scope claim and returns the §2.2.1 authorizations it
// holds, in claim order, duplicates kept ("The scope claim MAY include
// multiple authorizations of the same scope name"). Scopes the profile does
// not define as authorizations are left out; [SplitScopes] returns them too.
// The error, if any, wraps [ErrScope] and means the whole token must be
// refused. See [SplitScopes] for the rules.
func ParseScopes(s string) ([]Scope, error) {
	known, _, err := SplitScopes(s)
	return known, err
}

// SplitScopes parses a scope claim into the §2.2.1 authorizations it holds
// (known) and the other scope tokens, verbatim (unknown). The rules:
//
//   - The claim is "a list of space-delimited, case-sensitive strings"
//     (§2.2.1); repeated spaces are tolerated. Every character must belong
//     to the RFC 6749 section 3.3 scope-token set (printable ASCII except
//     '"' and '\'), so a tab or newline cannot smuggle a second scope.
//   - A storage kind must carry a path: "For all storage.* scopes, $PATH MUST
//     be specified (it may be / to authorize the entire resource associated
//     with the issuer); if not specified for these scopes, the token MUST be
//     rejected." "storage.read" and "storage.read:" are errors.
//   - The path must be absolute and normalized per RFC 3986 section 6, with
//     each component URL-escaped (§2.2.1: "A token issuer MUST utilize
//     absolute paths and normalize them"). For a non-conforming path the
//     profile leaves it "implementation-defined if it rejects the token or
//     performs path normalization"; this package rejects: a relative path, an
//     empty component ("//"), a "." or ".." component, a character outside
//     the RFC 3986 path characters (such as "?", "#", "[", "]"), a malformed
//     or lower-case percent escape, and an escaped unreserved character such
//     as "%41" or "%2E". One trailing "/" is allowed (a directory).
//   - A compute kind carries no path ("compute.create"). The profile defines
//     no compute scopes with a path, so "compute.create:/x" is not a known
//     authorization: it is returned in unknown, not honoured.
//   - Any other scope token (openid, offline_access, wlcg, wlcg:1.0,
//     wlcg.groups:/cms, host.auth, eduperson_*, a future storage.list:/x) is
//     returned in unknown and must not be used to grant anything. The profile
//     says nothing explicit about unknown scopes; it foresees "further
//     authorizations will be added" and, for unknown claims, §4.3.3 says
//     they "MUST NOT be used in authorization decisions", which this follows.
//
// The error wraps [ErrScope].
func SplitScopes(s string) (known []Scope, unknown []string, err error) {
	for _, tok := range strings.Split(s, " ") {
		if tok == "" {
			continue
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return nil, nil, fmt.Errorf("%w: scope %q has character %q outside the RFC 6749 scope syntax",
					ErrScope, clip(tok), c)
			}
		}
		kind, path, hasPath := strings.Cut(tok, ":")
		switch {
		case storageKind(kind):
			if !hasPath || path == "" {
				return nil, nil, fmt.Errorf("%w: %s has no path (storage scopes must be %s:/PATH)",
					ErrScope, clip(tok), kind)
			}
			if err := checkScopePath(path); err != nil {
				return nil, nil, fmt.Errorf("%w: %s: %v", ErrScope, clip(tok), err)
			}
			known = append(known, Scope{Kind: kind, Path: path})
		case computeKind(kind) && !hasPath:
			known = append(known, Scope{Kind: kind})
		default:
			unknown = append(unknown, tok)
		}
	}
	return known, unknown, nil
}

// HasCapability reports whether scopes hold any §2.2.1 authorization. Per
// §2.2.3, a service that understands both capabilities and groups "MUST
// examine each access token to see if it contains any of the capability
// statements defined above, irrespective of their relevance to the service";
// if it does, the service "SHOULD authorize a request with this token by
// considering that token's capability statements and ignoring any
// group-membership statements", and otherwise use the groups.
func HasCapability(scopes []Scope) bool {
	for _, s := range scopes {
		if storageKind(s.Kind) || computeKind(s.Kind) {
			return true
		}
	}
	return false
}

// checkScopePath checks a scope path as described at [SplitScopes].
func checkScopePath(p string) error {
	if p[0] != '/' {
		return fmt.Errorf("path %q is not absolute", clip(p))
	}
	if p == "/" {
		return nil
	}
	body := strings.TrimSuffix(p[1:], "/")
	for _, seg := range strings.Split(body, "/") {
		switch seg {
		case "":
			return fmt.Errorf("path %q has an empty component", clip(p))
		case ".", "..":
			return fmt.Errorf("path %q has a %q component", clip(p), seg)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c == '%' {
				if i+2 >= len(seg) || !isUpperHex(seg[i+1]) || !isUpperHex(seg[i+2]) {
					return fmt.Errorf("path %q has a malformed or lower-case percent escape", clip(p))
				}
				if b := unhex(seg[i+1])<<4 | unhex(seg[i+2]); isUnreserved(b) {
					return fmt.Errorf("path %q escapes the unreserved character %q", clip(p), b)
				}
				i += 2
				continue
			}
			if !isUnreserved(c) && !isSubDelim(c) && c != ':' && c != '@' {
				return fmt.Errorf("path %q has character %q outside RFC 3986 path syntax", clip(p), c)
			}
		}
	}
	return nil
}

func isUnreserved(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	return strings.IndexByte("!$&'()*+,;=", c) >= 0
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}

// unescapeSegment percent-decodes a segment that checkScopePath accepted.
func unescapeSegment(seg string) string {
	if strings.IndexByte(seg, '%') < 0 {
		return seg
	}
	var b strings.Builder
	for i := 0; i < len(seg); i++ {
		if seg[i] == '%' {
			b.WriteByte(unhex(seg[i+1])<<4 | unhex(seg[i+2]))
			i += 2
			continue
		}
		b.WriteByte(seg[i])
	}
	return b.String()
}
