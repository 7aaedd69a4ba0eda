package review

import (
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// Unit says how a figure is printed.
type Unit string

// The units of figures.
const (
	Duration Unit = "ns"    // nanoseconds, printed as a duration
	Count    Unit = "count" // a number of things
	Bytes    Unit = "bytes"
)

// figure is one per-round figure of a result. tail is the percentile a
// tail figure reads (99, or 90 when a round has fewer than 1,000 ops).
type figure struct {
	unit Unit
	// op is the op whose count decides the tail percentile ("" when the
	// figure reads no tail).
	op    string
	value func(r *results.Result, tail float64) (float64, bool)
}

// opPct reads op's percentile p (p < 0: the tail percentile).
func opPct(op string, p float64) figure {
	f := figure{unit: Duration, value: func(r *results.Result, tail float64) (float64, bool) {
		o := r.Op(op)
		if o == nil || o.Hist == nil || o.Count == 0 {
			return 0, false
		}
		q := p
		if q < 0 {
			q = tail
		}
		return float64(o.Hist.Percentile(q)), true
	}}
	if p < 0 {
		f.op = op
	}
	return f
}

// tailOf is op's tail latency: p99, or p90 with fewer than 1,000 ops in a
// round.
func tailOf(op string) figure { return opPct(op, -1) }

// p50Of is op's median latency.
func p50Of(op string) figure { return opPct(op, 50) }

// serverCPU is the WFS process's whole CPU per request over the window.
var serverCPU = figure{unit: Duration, value: func(r *results.Result, _ float64) (float64, bool) {
	d, ok := r.ServerProcess.CPUPerRequest()
	return float64(d), ok
}}

// handshakeCPU is the WFS's CPU per handshake from the probe after the
// load (fresh minus reused connection).
var handshakeCPU = figure{unit: Duration, value: func(r *results.Result, _ float64) (float64, bool) {
	if r.ServerProcess == nil || r.ServerProcess.Handshake == nil {
		return 0, false
	}
	return float64(r.ServerProcess.Handshake.PerHandshake()), true
}}

// perJob divides a file count by the round's jobs.
func perJob(n func(f results.FileStats) int64) figure {
	return figure{unit: Count, value: func(r *results.Result, _ float64) (float64, bool) {
		if r.Jobs <= 0 {
			return 0, false
		}
		return float64(n(r.Files)) / float64(r.Jobs), true
	}}
}

// perRequest divides a file count by the requests the WFS served.
func perRequest(n func(f results.FileStats) int64) figure {
	return figure{unit: Count, value: func(r *results.Result, _ float64) (float64, bool) {
		if r.Server.Requests <= 0 {
			return 0, false
		}
		return float64(n(r.Files)) / float64(r.Server.Requests), true
	}}
}

var (
	filesPerJob      = perJob(func(f results.FileStats) int64 { return f.Created })
	fsyncsPerJob     = perJob(func(f results.FileStats) int64 { return f.Fsyncs })
	fileOpsPerReq    = perRequest(fileOps)
	peakLiveFiles    = figure{unit: Count, value: func(r *results.Result, _ float64) (float64, bool) { return float64(r.Files.PeakLive), true }}
	bytesAddedPerMsg = figure{unit: Bytes, value: func(r *results.Result, _ float64) (float64, bool) { return r.BytesAdded, true }}
)

// fileOps is the file operations of a round (fsyncs apart).
func fileOps(f results.FileStats) int64 {
	return f.Created + f.Written + f.Appended + f.Read + f.Deleted + f.Renamed
}

// The ops questions read.
const (
	opCommand  = vocab.OpCLICommand
	opMessage  = vocab.OpJobMessage
	opPyProc   = vocab.OpJobProcess
	opPyInterp = vocab.OpJobInterp
)

// schemeStat is a figure the scheme (or a flow) reported about itself in
// its SchemeStats.
func schemeStat(name string) figure {
	return figure{unit: Count, value: func(r *results.Result, _ float64) (float64, bool) {
		v, ok := r.SchemeStats[name]
		return v, ok
	}}
}

// The per-transfer figures of the WLCG token flows (package flows).
const (
	opTransfer           = vocab.OpWLCGTransfer
	statRoundTrips       = "issuer.round_trips_per_transfer"
	statClientCreds      = "issuer.client_credentials_per_transfer"
	statExchanges        = "issuer.token_exchange_per_transfer"
	statRefreshes        = "issuer.refresh_per_transfer"
	statAccessStored     = "issuer.access_stored_per_transfer"
	statRefreshStored    = "issuer.refresh_stored_per_transfer"
	budgetTransferTokens = "transfer_p99_budget"
)
