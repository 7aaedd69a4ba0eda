package scenarios

import (
	"errors"
	"github.com/authbench/authbench/vocab"
	"sync"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/wfs"
)

// opOrder is the order ops appear in results.
func opOrder() []string {
	return []string{vocab.OpCLICommand, vocab.OpCLIProcess, vocab.OpCLIInterp, vocab.OpCLIAcquire, vocab.OpCLIRoundTrip, vocab.OpCLIHandshake,
		vocab.OpJobMessage, vocab.OpJobProcess, vocab.OpJobInterp, vocab.OpJobAcquire, vocab.OpJobRoundTrip, vocab.OpJobHandshake, vocab.OpUISPoll,
		vocab.OpCLISendLag, vocab.OpJobSendLag}
}

// recorder holds a worker's histograms; the engine merges every recorder at
// the end. A CLI worker has one of its own; the many job workers of a large
// job group (10,000 live jobs are 10,000 workers) share a few, since each
// recorder's HDR histograms take hundreds of kilobytes. Its mutex is
// uncontended for a recorder of its own.
type recorder struct {
	mu         sync.Mutex
	ops        map[string]*results.Op
	warmupEnd  time.Time
	bytesAdded int64
	wrapped    int64
	progress   *progress
	series     *seriesRecorder
}

func newRecorder(warmupEnd time.Time, p *progress) *recorder {
	return &recorder{ops: map[string]*results.Op{}, warmupEnd: warmupEnd, progress: p}
}

func (r *recorder) op(name string) *results.Op {
	o := r.ops[name]
	if o == nil {
		o = &results.Op{Name: name, Errors: map[string]int64{}, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}
		r.ops[name] = o
	}
	return o
}

// ok records a success: corrected latency from the intended send time,
// uncorrected from the actual start. Ops that started in the warm-up are
// discarded.
func (r *recorder) ok(name string, intended, start, end time.Time) {
	if intended.Before(r.warmupEnd) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.op(name)
	o.Count++
	o.Hist.Record(end.Sub(intended))
	o.Uncorrected.Record(end.Sub(start))
	r.series.ok(name, end, end.Sub(intended))
	if r.progress != nil && topLevel(name) {
		r.progress.ops.Add(1)
	}
}

// fail records an error by kind.
func (r *recorder) fail(name string, intended time.Time, err error) {
	if intended.Before(r.warmupEnd) {
		return
	}
	r.mu.Lock()
	r.op(name).Errors[errKind(err)]++
	r.mu.Unlock()
	r.series.fail(name, time.Now())
	if r.progress != nil && topLevel(name) {
		r.progress.errs.Add(1)
	}
}

func (r *recorder) late(name string) {
	r.mu.Lock()
	r.op(name).Late++
	r.mu.Unlock()
}

func (r *recorder) dropped(name string) {
	r.mu.Lock()
	r.op(name).Dropped++
	r.mu.Unlock()
}

// added counts one wrapped request and the bytes its scheme added.
func (r *recorder) added(n int) {
	r.mu.Lock()
	r.bytesAdded += int64(n)
	r.wrapped++
	r.mu.Unlock()
}

func errKind(err error) string {
	switch {
	case errors.Is(err, wfs.ErrTimeout):
		return "timeout"
	case errors.Is(err, wfs.ErrRejected):
		return "rejected"
	case errors.Is(err, wfs.ErrProtocol):
		return "protocol"
	}
	var we *wfs.Error
	if errors.As(err, &we) {
		return string(we.Kind)
	}
	return "other"
}

// merge folds rs into one op list in opOrder.
func merge(rs []*recorder) (ops []*results.Op, bytesAdded float64) {
	all := map[string]*results.Op{}
	var added, wrapped int64
	for _, r := range rs {
		added += r.bytesAdded
		wrapped += r.wrapped
		for name, o := range r.ops {
			m := all[name]
			if m == nil {
				m = &results.Op{Name: name, Errors: map[string]int64{}, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}
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
	}
	for _, name := range opOrder() {
		if o := all[name]; o != nil {
			if len(o.Errors) == 0 {
				o.Errors = nil
			}
			ops = append(ops, o)
		}
	}
	if wrapped > 0 {
		bytesAdded = float64(added) / float64(wrapped)
	}
	return ops, bytesAdded
}
