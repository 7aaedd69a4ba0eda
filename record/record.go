// Package record keeps the figures of a load's named operations as it runs:
// per operation a count, latency histograms from the intended and from the
// actual start, errors by kind, and sends that were late or dropped. The
// load engine (package scenarios) and the WLCG token flows (package flows)
// record through it; what each adds (warm-up, progress, series, the flows'
// asked rate) stays with them. It imports no ZeroMQ.
package record

import (
	"sync"
	"time"

	"github.com/authbench/authbench/results"
)

// Recorder holds named operations' figures as results.Op values. It is safe
// for concurrent use; its mutex is uncontended for a recorder of one worker.
type Recorder struct {
	mu  sync.Mutex
	ops map[string]*results.Op
}

// New returns an empty recorder.
func New() *Recorder { return &Recorder{ops: map[string]*results.Op{}} }

// newOp is an empty op named name.
func newOp(name string) *results.Op {
	return &results.Op{Name: name, Errors: map[string]int64{}, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}
}

// op is name's op, made on first use; r.mu is held.
func (r *Recorder) op(name string) *results.Op {
	o := r.ops[name]
	if o == nil {
		o = newOp(name)
		r.ops[name] = o
	}
	return o
}

// OK records a success of name: its latency from the intended send time
// (corrected for coordinated omission) and, uncorrected, from the actual
// start, both to end.
func (r *Recorder) OK(name string, intended, start, end time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op(name)
	o.Count++
	o.Hist.Record(end.Sub(intended))
	o.Uncorrected.Record(end.Sub(start))
}

// Fail counts a failure of name under kind.
func (r *Recorder) Fail(name, kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.op(name).Errors[kind]++
}

// Late counts n sends of name that started later than they were due.
func (r *Recorder) Late(name string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.op(name).Late += n
}

// Dropped counts n sends of name skipped because no worker was free.
func (r *Recorder) Dropped(name string, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.op(name).Dropped += n
}

// Op returns name's figures, or nil if nothing was recorded for it. The op
// is the recorder's own: read it once recording has stopped.
func (r *Recorder) Op(name string) *results.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ops[name]
}

// Ops returns the recorded ops named in order, in that order; ops not
// named there are left out. The ops are the recorder's own: read them once
// recording has stopped.
func (r *Recorder) Ops(order []string) []*results.Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*results.Op
	for _, name := range order {
		if o := r.ops[name]; o != nil {
			out = append(out, o)
		}
	}
	return out
}

// Merge folds the recorders' ops into new ops, one per name, in order
// (names not there are left out): counts, late and dropped sends and errors
// add up, histograms merge, and an op with no errors has nil Errors.
func Merge(order []string, rs ...*Recorder) []*results.Op {
	all := map[string]*results.Op{}
	for _, r := range rs {
		r.mu.Lock()
		for name, o := range r.ops {
			m := all[name]
			if m == nil {
				m = newOp(name)
				all[name] = m
			}
			m.Count += o.Count
			m.Late += o.Late
			m.Dropped += o.Dropped
			for k, v := range o.Errors {
				m.Errors[k] += v
			}
			m.Hist.Merge(o.Hist)
			m.Uncorrected.Merge(o.Uncorrected)
		}
		r.mu.Unlock()
	}
	var ops []*results.Op
	for _, name := range order {
		if o := all[name]; o != nil {
			if len(o.Errors) == 0 {
				o.Errors = nil
			}
			ops = append(ops, o)
		}
	}
	return ops
}
