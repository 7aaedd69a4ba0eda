package scenarios

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/record"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// opOrder is the order ops appear in results.
func opOrder() []string {
	return []string{vocab.OpCLICommand, vocab.OpCLIProcess, vocab.OpCLIProcessCPU, vocab.OpCLIInterp, vocab.OpCLIAcquire, vocab.OpCLIRoundTrip, vocab.OpCLIHandshake,
		vocab.OpJobMessage, vocab.OpJobProcess, vocab.OpJobProcessCPU, vocab.OpJobInterp, vocab.OpJobAcquire, vocab.OpJobRoundTrip, vocab.OpJobHandshake, vocab.OpUISPoll, vocab.OpUISDelta,
		vocab.OpCLISendLag, vocab.OpJobSendLag}
}

// recorder holds a worker's histograms; the engine merges every recorder at
// the end. A CLI worker has one of its own; the many job workers of a large
// job group (10,000 live jobs are 10,000 workers) share a few, since each
// recorder's HDR histograms take hundreds of kilobytes. Beside the ops'
// figures (package record) it discards the warm-up, feeds the progress line
// and the run's series, and counts the bytes schemes add.
type recorder struct {
	ops        *record.Recorder
	warmupEnd  time.Time
	bytesAdded atomic.Int64
	wrapped    atomic.Int64
	progress   *progress
	series     *seriesRecorder
	// full, if set, is told of every failure that is a full file system
	// (wfs.IsDiskFull), warm-up or not: the run stops on the first.
	full func(error)
}

func newRecorder(warmupEnd time.Time, p *progress) *recorder {
	return &recorder{ops: record.New(), warmupEnd: warmupEnd, progress: p}
}

// ok records a success: corrected latency from the intended send time,
// uncorrected from the actual start. Ops that started in the warm-up are
// discarded.
func (r *recorder) ok(name string, intended, start, end time.Time) {
	if intended.Before(r.warmupEnd) {
		return
	}
	r.ops.OK(name, intended, start, end)
	r.series.ok(name, end, end.Sub(intended))
	if r.progress != nil && topLevel(name) {
		r.progress.ops.Add(1)
	}
}

// fail records an error by kind.
func (r *recorder) fail(name string, intended time.Time, err error) {
	if r.full != nil && wfs.IsDiskFull(err) {
		r.full(fmt.Errorf("%s: %w", name, err))
	}
	if intended.Before(r.warmupEnd) {
		return
	}
	r.ops.Fail(name, errKind(err))
	r.series.fail(name, time.Now())
	if r.progress != nil && topLevel(name) {
		r.progress.errs.Add(1)
	}
}

func (r *recorder) late(name string) { r.ops.Late(name, 1) }

func (r *recorder) dropped(name string) { r.ops.Dropped(name, 1) }

// added counts one wrapped request and the bytes its scheme added.
func (r *recorder) added(n int) {
	r.bytesAdded.Add(int64(n))
	r.wrapped.Add(1)
}

func errKind(err error) string {
	switch {
	case errors.Is(err, wfs.ErrTimeout):
		return "timeout"
	case errors.Is(err, wfs.ErrRejected):
		return "rejected"
	case errors.Is(err, wfs.ErrProtocol):
		return "protocol"
	case wfs.IsDiskFull(err):
		return string(wfs.KindDiskFull)
	}
	var we *wfs.Error
	if errors.As(err, &we) {
		return string(we.Kind)
	}
	return "other"
}

// merge folds rs into one op list in opOrder, and the bytes schemes added
// per wrapped request.
func merge(rs []*recorder) (ops []*results.Op, bytesAdded float64) {
	sets := make([]*record.Recorder, len(rs))
	var added, wrapped int64
	for i, r := range rs {
		sets[i] = r.ops
		added += r.bytesAdded.Load()
		wrapped += r.wrapped.Load()
	}
	ops = record.Merge(opOrder(), sets...)
	if wrapped > 0 {
		bytesAdded = float64(added) / float64(wrapped)
	}
	return ops, bytesAdded
}
