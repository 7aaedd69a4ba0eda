package figures

import (
	"fmt"
	"math"
	"strings"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// Unit says what a figure's value is and how it prints.
type Unit string

// The units of figures.
const (
	Duration  Unit = "ns"    // nanoseconds, printed as a duration
	Count     Unit = "count" // a number of things
	Bytes     Unit = "bytes"
	Share     Unit = "share" // a share of one CPU
	PerSecond Unit = "per_s" // operations a second
	Megabytes Unit = "MB"    // memory
)

// Figure is one per-round figure of a result: what it is (ID, Label), what
// it prints in (Unit) and the unit of work it is divided by (Per).
type Figure struct {
	// ID names it in JSON and tests ("wfs_cpu_per_command").
	ID string `json:"id"`
	// Label heads its column ("WFS CPU/command").
	Label string `json:"label"`
	Unit  Unit   `json:"unit"`
	// Per is the unit of work it is divided by ("" when it is not a
	// ratio: a latency, a peak).
	Per Work `json:"per,omitempty"`
	// TailOp is the op whose count decides the percentile a tail figure
	// reads ("" when the figure reads no tail).
	TailOp string `json:"tail_op,omitempty"`
	value  func(r *results.Result, tail float64) (float64, bool)
}

// Value is f's value in round r, reading percentile tail where f is a
// tail figure (99, or 90 when a round had fewer than 1,000 ops); ok is
// false when r lacks it.
func (f Figure) Value(r *results.Result, tail float64) (float64, bool) {
	if f.value == nil || r == nil {
		return 0, false
	}
	v, ok := f.value(r, tail)
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Of is f's value in r, a tail figure read at p99.
func (f Figure) Of(r *results.Result) (float64, bool) { return f.Value(r, 99) }

// slug is w as an ID part ("job message" → "job_message").
func (w Work) slug() string { return strings.ReplaceAll(string(w), " ", "_") }

// Pct is op's latency percentile p (from the intended send time).
func Pct(op string, p float64) Figure {
	return Figure{ID: fmt.Sprintf("%s.p%g", op, p), Label: fmt.Sprintf("%s p%g", op, p), Unit: Duration,
		value: func(r *results.Result, _ float64) (float64, bool) { return pct(r, op, p, false) }}
}

// P50 is op's median latency.
func P50(op string) Figure { return Pct(op, 50) }

// UncorrectedPct is op's latency percentile p from the actual send (not
// corrected for coordinated omission); 0 in a round that kept none.
func UncorrectedPct(op string, p float64) Figure {
	return Figure{ID: fmt.Sprintf("%s.p%g_uncorrected", op, p), Label: fmt.Sprintf("%s p%g uncorr.", op, p), Unit: Duration,
		value: func(r *results.Result, _ float64) (float64, bool) {
			o := opOf(r, op)
			if o == nil {
				return 0, false
			}
			if o.Uncorrected == nil {
				return 0, true
			}
			return float64(o.Uncorrected.Percentile(p)), true
		}}
}

// Tail is op's tail latency: the percentile Value is asked for (p99, or
// p90 where a round had fewer than 1,000 ops).
func Tail(op string) Figure {
	return Figure{ID: op + ".tail", Label: op + " {tail}", Unit: Duration, TailOp: op,
		value: func(r *results.Result, tail float64) (float64, bool) { return pct(r, op, tail, false) }}
}

// Max is op's largest latency.
func Max(op string) Figure {
	return Figure{ID: op + ".max", Label: op + " max", Unit: Duration,
		value: func(r *results.Result, _ float64) (float64, bool) {
			o := opOf(r, op)
			if o == nil {
				return 0, false
			}
			return float64(o.Hist.Max()), true
		}}
}

// Rate is op's achieved rate of successful operations over the round.
func Rate(op string) Figure {
	return Figure{ID: op + ".rate", Label: op + " ops/s", Unit: PerSecond,
		value: func(r *results.Result, _ float64) (float64, bool) {
			o := opOf(r, op)
			if o == nil {
				return 0, false
			}
			return o.Rate(r.Duration), true
		}}
}

// opOf is r's op with at least one success and a histogram, or nil.
func opOf(r *results.Result, op string) *results.Op {
	o := r.Op(op)
	if o == nil || o.Hist == nil || o.Count == 0 {
		return nil
	}
	return o
}

func pct(r *results.Result, op string, p float64, uncorrected bool) (float64, bool) {
	o := opOf(r, op)
	if o == nil {
		return 0, false
	}
	h := o.Hist
	if uncorrected {
		if h = o.Uncorrected; h == nil {
			return 0, false
		}
	}
	return float64(h.Percentile(p)), true
}

// ServerCPU is the WFS process's whole CPU (every thread) over the
// measured window per unit of work w in that window: per command, every
// request the command took. In results made before the WFS ran as a
// process of its own, its request threads' CPU over the whole run. There
// is none per operation where the round's clients also sent other
// operations (Work.Alone).
func ServerCPU(w Work) Figure {
	return Figure{ID: "wfs_cpu_per_" + w.slug(), Label: "WFS CPU/" + string(w), Unit: Duration, Per: w,
		value: func(r *results.Result, _ float64) (float64, bool) {
			if !w.Alone(r) {
				return 0, false
			}
			if sp := r.ServerProcess; sp != nil {
				n, ok := w.InWindow(r)
				return sp.CPUSeconds() * 1e9 / n, ok
			}
			n, ok := w.InRun(r)
			return r.Server.CPUSeconds * 1e9 / n, ok && r.Server.CPUSeconds > 0
		}}
}

// ClientCPU is the clients' CPU (the load generator and its client
// processes) over the run per unit of work w; none for a round whose
// schemes ran at once (results.Result.Together), whose loader CPU is all of
// theirs.
func ClientCPU(w Work) Figure {
	return Figure{ID: "client_cpu_per_" + w.slug(), Label: "client CPU/" + string(w), Unit: Duration, Per: w,
		value: func(r *results.Result, _ float64) (float64, bool) {
			n, ok := w.InRun(r)
			return r.CPU * 1e9 / n, ok && r.CPU > 0 && r.Together <= 1
		}}
}

// Requests are the WFS requests per unit of work w (2 per command under
// plan A): over the measured window where the WFS counted it, else over
// the run; none where the round's clients also sent other operations.
func Requests(w Work) Figure {
	return Figure{ID: "requests_per_" + w.slug(), Label: "requests/" + string(w), Unit: Count, Per: w,
		value: func(r *results.Result, _ float64) (float64, bool) {
			if !w.Alone(r) {
				return 0, false
			}
			if sp := r.ServerProcess; sp != nil {
				n, ok := w.InWindow(r)
				return float64(sp.Requests) / n, ok
			}
			n, ok := w.InRun(r)
			return float64(r.Server.Requests) / n, ok
		}}
}

// RequestsServed are the requests the WFS served in the round.
func RequestsServed() Figure {
	return Figure{ID: "requests", Label: "requests", Unit: Count,
		value: func(r *results.Result, _ float64) (float64, bool) { return float64(r.Server.Requests), true }}
}

// FileOps are the file operations the counted file layers (the WFS's and
// the clients') saw over the run, fsyncs apart, per unit of work w (none
// per command where the round's clients also sent other operations).
func FileOps(w Work) Figure {
	return perRun("file_ops", "file ops", w, fileOps)
}

// FilesCreated are the files created per unit of work w.
func FilesCreated(w Work) Figure {
	return perRun("files_created", "files created", w, func(f counters.FileStats) int64 { return f.Created })
}

// Fsyncs are the fsyncs per unit of work w.
func Fsyncs(w Work) Figure {
	return perRun("fsyncs", "fsyncs", w, func(f counters.FileStats) int64 { return f.Fsyncs })
}

// perRun divides a file count of the whole run by w's count over it. Per
// job, every file counts; per command or job message, only where those
// were the round's only operations.
func perRun(id, label string, w Work, n func(counters.FileStats) int64) Figure {
	return Figure{ID: id + "_per_" + w.slug(), Label: label + "/" + string(w), Unit: Count, Per: w,
		value: func(r *results.Result, _ float64) (float64, bool) {
			if w != Job && !w.Alone(r) {
				return 0, false
			}
			d, ok := w.InRun(r)
			return float64(n(r.Files)) / d, ok
		}}
}

// fileOps is the file operations of a round, fsyncs apart.
func fileOps(f counters.FileStats) int64 {
	return f.Created + f.Written + f.Appended + f.Read + f.Deleted + f.Renamed
}

// PeakLiveFiles is the peak number of files live at once.
func PeakLiveFiles() Figure {
	return Figure{ID: "peak_live_files", Label: "peak live files", Unit: Count,
		value: func(r *results.Result, _ float64) (float64, bool) { return float64(r.Files.PeakLive), true }}
}

// BytesAdded is the mean number of bytes the scheme adds to a request
// over the same request under plain.
func BytesAdded() Figure {
	return Figure{ID: "bytes_added_per_request", Label: "bytes added/request", Unit: Bytes, Per: Request,
		value: func(r *results.Result, _ float64) (float64, bool) { return r.BytesAdded, true }}
}

// ServerUtilisation is the share of one CPU the WFS process used over
// the measured window.
func ServerUtilisation() Figure {
	return Figure{ID: "wfs_cpu_share", Label: "WFS CPU share", Unit: Share,
		value: func(r *results.Result, _ float64) (float64, bool) {
			sp := r.ServerProcess
			if sp == nil || sp.Window <= 0 {
				return 0, false
			}
			return sp.Utilisation(), true
		}}
}

// HandshakeCPU is the WFS's CPU per handshake from the probe after the
// load (fresh connection minus reused). There is none under a model whose
// registry entry says the probe measures no handshake
// (vocab.ServerModel.HandshakeProbe): under cylc each sequential ping of
// the probe spans drain-and-sleep wakes (cylc-flow network/replier.py
// listener), whose CPU swamps a handshake's.
func HandshakeCPU() Figure {
	return Figure{ID: "wfs_cpu_per_handshake", Label: "WFS CPU/handshake", Unit: Duration,
		value: func(r *results.Result, _ float64) (float64, bool) {
			sp := r.ServerProcess
			if sp == nil || sp.Handshake == nil {
				return 0, false
			}
			if m, err := vocab.ParseServerModel(r.ServerModel); err == nil && !m.HandshakeProbe {
				return 0, false
			}
			return float64(sp.Handshake.PerHandshake()), true
		}}
}

// ClientPeakRSS is the load generator's peak resident memory.
func ClientPeakRSS() Figure {
	return Figure{ID: "client_peak_rss_mb", Label: "peak RSS", Unit: Megabytes,
		value: func(r *results.Result, _ float64) (float64, bool) {
			return float64(r.PeakRSSKB) / 1024, r.PeakRSSKB > 0
		}}
}

// SchemeStat is a figure the scheme (or a token flow) reported about
// itself in its SchemeStats, divided by per where the name says so
// ("issuer.round_trips_per_transfer").
func SchemeStat(name string, per Work) Figure {
	return Figure{ID: name, Label: name, Unit: Count, Per: per,
		value: func(r *results.Result, _ float64) (float64, bool) {
			v, ok := r.SchemeStats[name]
			return v, ok
		}}
}

// Labelled is f under another column heading.
func (f Figure) Labelled(label string) Figure {
	f.Label = label
	return f
}
