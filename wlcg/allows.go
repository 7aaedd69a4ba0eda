package wlcg

import "strings"

// The storage operations [Allows] decides on, and the scopes that grant
// each (§2.2.1). For the compute authorizations the operation is the kind
// itself: [ComputeRead], [ComputeCreate], [ComputeModify] or [ComputeCancel].
const (
	// OpRead reads data: storage.read only. storage.modify does not imply
	// it, and neither does storage.stage any more: "While previous versions
	// of this document allowed the stage scope itself to be used for reading
	// the data as well, ... it has therefore been removed. Implementations
	// that conform to this document MUST apply the current definition
	// regardless of the value of the wlcg.ver claim."
	OpRead = "read"
	// OpStat queries metadata (size, checksum, locality): "The
	// storage.{read,create,modify,stage} scopes also authorize "stat"
	// operations on the files or directories matching the given paths".
	OpStat = "stat"
	// OpCreate creates a new file, or a directory when the path ends in
	// "/": storage.create or storage.modify. A directory may also be created
	// when it is a leading directory of a granted path (§2.2.1: "the creation
	// of any non-existent directories required to create the path itself").
	// OpCreate does not cover replacing existing data: that is OpModify.
	OpCreate = "create"
	// OpRename renames a file: storage.create ("also allows renaming files
	// between any (sub)directories starting from the path(s) provided") or
	// storage.modify. Ask for both the source and the destination; a rename
	// that replaces an existing file also needs OpModify on the destination.
	OpRename = "rename"
	// OpModify overwrites, replaces, truncates or appends to existing data:
	// storage.modify only ("This permission includes overwriting or
	// replacing stored data").
	OpModify = "modify"
	// OpDelete deletes a file or directory: storage.modify only
	// (storage.create "does not permit deleting").
	OpDelete = "delete"
	// OpStage stages data from a 'nearline' resource, and covers the
	// related abort/cancel, evict/release and pin/unpin requests:
	// storage.stage only.
	OpStage = "stage"
	// OpPoll inquires about the localities of files: storage.stage or
	// storage.poll.
	OpPoll = "poll"
)

// grants lists, per storage operation, the kinds that authorize it.
var grants = map[string][]string{
	OpRead:   {StorageRead},
	OpStat:   {StorageRead, StorageCreate, StorageModify, StorageStage},
	OpCreate: {StorageCreate, StorageModify},
	OpRename: {StorageCreate, StorageModify},
	OpModify: {StorageModify},
	OpDelete: {StorageModify},
	OpStage:  {StorageStage},
	OpPoll:   {StorageStage, StoragePoll},
}

// Allows reports whether scopes authorize op on path, by the rules of
// §2.2.1 Capability-based Authorization: scope.
//
// path is the request path relative to the VO's area (§2.2.3: "Requests
// should be authorized by evaluating the scopes within the context of these
// prefixes"; see [StripPrefix]), percent-decoded, as the storage namespace
// names it, e.g. "/store/file.root". It must be absolute and clean: a path
// that is empty, relative, or has a "." or ".." component or an empty one
// ("//") is never allowed. A trailing "/" says the path is a directory.
//
// A scope path grants itself and everything below it, matched by whole
// components: "Resources allow a hierarchical relationship to be expressed.
// For example, an authorization for storage.modify:/baz implies a write
// authorization for the resources at /baz/qux", and "$PATH MUST be treated as
// an exact match for a directory or a file", so storage.read:/cms allows
// /cms, /cms/ and /cms/x but not /cmsx (unlike a plain string-prefix test).
// A scope path of "/" grants the whole area. A scope path with a trailing
// "/" is a directory ("If it has a trailing / character, $PATH MUST be
// treated as a directory"): storage.create:/foo/bar/ allows /foo/bar/ and
// /foo/bar/x but not the file /foo/bar.
//
// Which kinds grant which operation is listed at the Op* constants; a
// storage kind grants nothing beyond them (storage.modify does not grant
// read, storage.create grants neither read nor overwrite nor delete,
// storage.stage grants neither read nor write). For a compute kind, op is the
// kind and path is ignored. An unknown op is never allowed. Scopes with an
// unknown kind or an invalid path grant nothing.
func Allows(scopes []Scope, op string, path string) bool {
	if computeKind(op) {
		for _, s := range scopes {
			if s.Kind == op && s.Path == "" {
				return true
			}
		}
		return false
	}
	kinds, ok := grants[op]
	if !ok {
		return false
	}
	req, reqDir, ok := splitRequest(path)
	if !ok {
		return false
	}
	for _, s := range scopes {
		if !contains(kinds, s.Kind) {
			continue
		}
		sp, spDir, ok := splitScope(s.Path)
		if !ok {
			continue
		}
		if within(sp, spDir, req, reqDir) {
			return true
		}
		// A leading directory of a path that may be created may be created
		// too: storage.create:/foo/bar "must allow the creation of a leading
		// directory /foo if that path does not exist yet".
		if op == OpCreate && reqDir && len(req) > 0 && len(req) < len(sp) && hasPrefix(sp, req) {
			return true
		}
	}
	return false
}

// StripPrefix maps a request path into a VO's area: it returns the part of
// p below prefix, as an absolute path, when prefix is p or one of p's
// leading directories by whole components (§2.2.3: "a resource server
// https://storage.site.org has associated an issuer https://vo.example.org
// with prefix /vo"). StripPrefix("/vo", "/vo/data/f") is ("/data/f", true);
// StripPrefix("/vo", "/vo") is ("/", true); StripPrefix("/vo", "/vox/f") is
// ("", false). A prefix of "/" or "" returns p unchanged if it is absolute.
// No cleaning is done: [Allows] refuses an unclean result.
func StripPrefix(prefix, p string) (string, bool) {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		if !strings.HasPrefix(p, "/") {
			return "", false
		}
		return p, true
	}
	if p == prefix {
		return "/", true
	}
	if strings.HasPrefix(p, prefix+"/") {
		return p[len(prefix):], true
	}
	return "", false
}

// within reports whether the request path (components req, a directory if
// reqDir) lies at or below the scope path (components sp, a directory if
// spDir).
func within(sp []string, spDir bool, req []string, reqDir bool) bool {
	if len(req) < len(sp) || !hasPrefix(req, sp) {
		return false
	}
	// The scope names a directory: the same path without a trailing "/"
	// may be a file, which it does not grant.
	return len(req) > len(sp) || !spDir || reqDir
}

func hasPrefix(path, prefix []string) bool {
	if len(prefix) > len(path) {
		return false
	}
	for i := range prefix {
		if path[i] != prefix[i] {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// splitRequest splits a decoded, absolute, clean request path into its
// components and whether it names a directory.
func splitRequest(p string) (segs []string, dir bool, ok bool) {
	if p == "" || p[0] != '/' || strings.IndexByte(p, 0) >= 0 {
		return nil, false, false
	}
	if p == "/" {
		return nil, true, true
	}
	dir = strings.HasSuffix(p, "/")
	segs = strings.Split(strings.TrimSuffix(p[1:], "/"), "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return nil, false, false
		}
	}
	return segs, dir, true
}

// splitScope splits a scope path (checked again: a Scope may be built by
// hand) into its percent-decoded components and whether it names a
// directory.
func splitScope(p string) (segs []string, dir bool, ok bool) {
	if p == "" || checkScopePath(p) != nil {
		return nil, false, false
	}
	if p == "/" {
		return nil, true, true
	}
	dir = strings.HasSuffix(p, "/")
	segs = strings.Split(strings.TrimSuffix(p[1:], "/"), "/")
	for i, s := range segs {
		segs[i] = unescapeSegment(s)
	}
	return segs, dir, true
}
