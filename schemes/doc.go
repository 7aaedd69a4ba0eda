// Package schemes holds the authentication schemes authbench measures and
// attacks, the spec parser and the registry.
//
// A scheme is a transport part (its SECURITY: null or CURVE) composed with an
// optional credential part (passphrase, JWT, JWE, WLCG token) under a
// lifetime policy. Each part is one file here plus one registry line; the
// composition (scheme.go) chains the parts so that curve+jwt reuses both
// without copying either. The WFS (package wfs) sees a composed scheme only
// through the wfs.Guard interface.
package schemes
