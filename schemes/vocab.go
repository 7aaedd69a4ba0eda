package schemes

import "github.com/authbench/authbench/vocab"

// Spec is a parsed scheme spec; the grammar lives in package vocab, which
// results and reports share without importing ZeroMQ.
type Spec = vocab.Spec

// Claims are the security properties a scheme declares (package vocab).
type Claims = vocab.Claims
