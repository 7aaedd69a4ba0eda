// Package vocab is the shared vocabulary every other package may import:
// the scheme spec grammar (security+credential/arg:policy) and its short
// names, the security claims a scheme declares, the op names the engine
// records and reports read, the registry of WFS server models (their names
// and what reading their results needs; package wfs serves them), and the
// spread (median and range) of a figure over rounds. It is a leaf: it
// imports no other authbench package and no ZeroMQ.
package vocab
