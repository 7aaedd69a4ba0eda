package scenarios

import (
	"sync"
	"time"

	"github.com/authbench/authbench/results"
)

// maxPoints bounds a series' length; ops after it fall in the last point.
const maxPoints = 3600

// seriesRecorder keeps the top-level ops of one run over time: per interval
// a coarse histogram and counts. Workers share it under a mutex (top-level
// ops complete at most thousands of times a second, so the lock is cold),
// and its memory is bounded by maxPoints.
type seriesRecorder struct {
	mu       sync.Mutex
	start    time.Time
	interval time.Duration
	ops      map[string]*opSeries
}

type opSeries struct {
	hists []*results.Histogram
	count []int64
	errs  []int64
}

// newSeriesRecorder picks an interval of about a hundredth of the planned
// run (at least a second).
func newSeriesRecorder(start time.Time, planned time.Duration) *seriesRecorder {
	iv := time.Second
	if planned/100 > iv {
		iv = (planned / 100).Round(time.Second)
	}
	return &seriesRecorder{start: start, interval: iv, ops: map[string]*opSeries{}}
}

func isSeriesOp(op string) bool { return topLevel(op) }

func (s *seriesRecorder) slot(op string, at time.Time) (*opSeries, int) {
	o := s.ops[op]
	if o == nil {
		o = &opSeries{}
		s.ops[op] = o
	}
	i := int(at.Sub(s.start) / s.interval)
	i = max(0, min(i, maxPoints-1))
	for len(o.count) <= i {
		o.hists = append(o.hists, nil)
		o.count = append(o.count, 0)
		o.errs = append(o.errs, 0)
	}
	return o, i
}

func (s *seriesRecorder) ok(op string, end time.Time, lat time.Duration) {
	if s == nil || !isSeriesOp(op) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, i := s.slot(op, end)
	if o.hists[i] == nil {
		o.hists[i] = results.NewCoarseHistogram()
	}
	o.hists[i].Record(lat)
	o.count[i]++
}

func (s *seriesRecorder) fail(op string, at time.Time) {
	if s == nil || !isSeriesOp(op) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, i := s.slot(op, at)
	o.errs[i]++
}

// result renders the series in op order.
func (s *seriesRecorder) result() []*results.Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*results.Series
	for _, name := range opOrder() {
		o := s.ops[name]
		if o == nil {
			continue
		}
		sr := &results.Series{Op: name, Interval: s.interval, Points: make([]results.Point, len(o.count))}
		for i := range o.count {
			p := results.Point{Count: o.count[i], Errors: o.errs[i]}
			if o.hists[i] != nil {
				p.P99 = o.hists[i].Percentile(99)
			}
			sr.Points[i] = p
		}
		out = append(out, sr)
	}
	return out
}
