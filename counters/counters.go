// Package counters holds the two sets of counters a WFS keeps and a result
// reports: the requests the server saw (ServerStats) and the file-system
// operations made through a counted file layer (FileStats). Package wfs
// fills them, the WFS process sends them to the engine over its control
// channel, and package results carries them in results.json, all as the
// same types with the same JSON form. It is a leaf: it imports nothing of
// the project and no ZeroMQ, so that results can use it.
package counters

import "time"

// ServerStats counts what a WFS saw.
type ServerStats struct {
	Requests  int64 `json:"requests"`
	OK        int64 `json:"ok"`
	Rejected  int64 `json:"rejected"`
	Protocol  int64 `json:"protocol"`
	Unknown   int64 `json:"unknown"`
	Internal  int64 `json:"internal"`
	Malformed int64 `json:"malformed"` // envelopes dropped without a reply
	// Shed counts requests refused at once because the WFS was overloaded
	// (its worker queue full); DroppedReplies counts replies it could not
	// deliver (a peer that stopped reading).
	Shed           int64 `json:"shed,omitempty"`
	DroppedReplies int64 `json:"dropped_replies,omitempty"`
	// CPUSeconds is the CPU time of the threads that ran the server's
	// request handling (its socket goroutine and workers, and the cylc
	// model's main loop, each locked to its OS thread), service CPU
	// included; libzmq's own I/O threads are not in it (a result's
	// ServerProcess has the whole process's). The fast model adds it as
	// Serve returns; the cylc model also after every drain and main-loop
	// tick, so it grows while the server runs.
	CPUSeconds float64 `json:"cpu_s"`
}

// Add is s plus o, field by field.
func (s ServerStats) Add(o ServerStats) ServerStats {
	s.Requests += o.Requests
	s.OK += o.OK
	s.Rejected += o.Rejected
	s.Protocol += o.Protocol
	s.Unknown += o.Unknown
	s.Internal += o.Internal
	s.Malformed += o.Malformed
	s.Shed += o.Shed
	s.DroppedReplies += o.DroppedReplies
	s.CPUSeconds += o.CPUSeconds
	return s
}

// FileStats counts the file-system operations made through a counted file
// layer, or through several (a run's WFS and clients). Live is the number of
// files created through the layers and not yet deleted; PeakLive is its
// maximum over the layer's life.
type FileStats struct {
	Created  int64 `json:"created"`
	Written  int64 `json:"written"`
	Appended int64 `json:"appended"`
	Read     int64 `json:"read"`
	Deleted  int64 `json:"deleted"`
	Renamed  int64 `json:"renamed"`
	Fsyncs   int64 `json:"fsyncs"`
	Live     int64 `json:"live"`
	PeakLive int64 `json:"peak_live"`
	// ModelDelay is the time the file layers slept for the file-system
	// model (a run's Result.FSModel, a layer's wfs.FSModel): latency a
	// shared file system would have added, no CPU; 0 without one.
	ModelDelay time.Duration `json:"model_delay_ns,omitempty"`
}

// Add is f plus o's counters and live files; PeakLive, a level that adds
// up or not depending on whether the peaks coincide, is f's.
func (f FileStats) Add(o FileStats) FileStats {
	f.Created += o.Created
	f.Written += o.Written
	f.Appended += o.Appended
	f.Read += o.Read
	f.Deleted += o.Deleted
	f.Renamed += o.Renamed
	f.Fsyncs += o.Fsyncs
	f.Live += o.Live
	f.ModelDelay += o.ModelDelay
	return f
}

// Sub is f less o's counters and live files: the operations made since a
// snapshot o of the same layer (Live then the net files created), or f
// without another layer's share. PeakLive, a level, is f's.
func (f FileStats) Sub(o FileStats) FileStats {
	f.Created -= o.Created
	f.Written -= o.Written
	f.Appended -= o.Appended
	f.Read -= o.Read
	f.Deleted -= o.Deleted
	f.Renamed -= o.Renamed
	f.Fsyncs -= o.Fsyncs
	f.Live -= o.Live
	f.ModelDelay -= o.ModelDelay
	return f
}
