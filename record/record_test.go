package record_test

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/record"
	"github.com/authbench/authbench/results"
)

// TestRecorder: each call lands on its op, with the latency measured from
// the intended time (corrected) and from the actual start (uncorrected).
func TestRecorder(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := time.Millisecond
	type want struct {
		count, late, dropped int64
		errors               map[string]int64
		p50, p50Uncorrected  time.Duration
	}
	cases := []struct {
		name string
		do   func(r *record.Recorder)
		want map[string]want
	}{
		{"nothing", func(*record.Recorder) {}, map[string]want{}},
		{"one ok", func(r *record.Recorder) { r.OK("a", t0, t0.Add(2*ms), t0.Add(5*ms)) },
			map[string]want{"a": {count: 1, errors: map[string]int64{}, p50: 5 * ms, p50Uncorrected: 3 * ms}}},
		{"errors by kind", func(r *record.Recorder) {
			r.Fail("a", "timeout")
			r.Fail("a", "timeout")
			r.Fail("a", "rejected")
		}, map[string]want{"a": {errors: map[string]int64{"timeout": 2, "rejected": 1}}}},
		{"late and dropped", func(r *record.Recorder) {
			r.Late("a", 1)
			r.Late("a", 2)
			r.Dropped("b", 4)
			r.Dropped("b", 0)
		}, map[string]want{"a": {late: 3, errors: map[string]int64{}}, "b": {dropped: 4, errors: map[string]int64{}}}},
		{"ops apart", func(r *record.Recorder) {
			r.OK("a", t0, t0, t0.Add(ms))
			r.OK("b", t0, t0, t0.Add(7*ms))
			r.OK("b", t0, t0, t0.Add(7*ms))
		}, map[string]want{"a": {count: 1, errors: map[string]int64{}, p50: ms, p50Uncorrected: ms},
			"b": {count: 2, errors: map[string]int64{}, p50: 7 * ms, p50Uncorrected: 7 * ms}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := record.New()
			c.do(r)
			for _, name := range []string{"a", "b"} {
				o, w := r.Op(name), c.want[name]
				if _, ok := c.want[name]; !ok {
					if o != nil {
						t.Errorf("%s: %+v, want nothing recorded", name, o)
					}
					continue
				}
				if o == nil {
					t.Fatalf("%s: nothing recorded", name)
				}
				if o.Name != name || o.Count != w.count || o.Late != w.late || o.Dropped != w.dropped || !reflect.DeepEqual(o.Errors, w.errors) {
					t.Errorf("%s: %+v, want %+v", name, o, w)
				}
				if o.Hist.Count() != w.count || o.Uncorrected.Count() != w.count {
					t.Errorf("%s: histograms hold %d and %d, want %d", name, o.Hist.Count(), o.Uncorrected.Count(), w.count)
				}
				if w.count > 0 {
					if got := o.Hist.Percentile(50); !near(got, w.p50) {
						t.Errorf("%s: p50 %v, want %v", name, got, w.p50)
					}
					if got := o.Uncorrected.Percentile(50); !near(got, w.p50Uncorrected) {
						t.Errorf("%s: uncorrected p50 %v, want %v", name, got, w.p50Uncorrected)
					}
				}
			}
		})
	}
}

// near is the histograms' precision: three significant digits.
func near(got, want time.Duration) bool {
	d := got - want
	return d >= -want/500 && d <= want/500
}

func names(ops []*results.Op) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.Name)
	}
	return out
}

// TestOps: the ops come in the order asked, those not asked for left out.
func TestOps(t *testing.T) {
	r := record.New()
	t0 := time.Now()
	for _, n := range []string{"c", "a", "x", "b"} {
		r.OK(n, t0, t0, t0)
	}
	if got := names(r.Ops([]string{"a", "b", "c", "d"})); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Ops = %v, want [a b c]", got)
	}
	if got := r.Ops(nil); got != nil {
		t.Errorf("Ops(nil) = %v, want none", names(got))
	}
}

// TestMerge: merged ops are new ops that add the recorders' counts, errors
// and histograms; an op without errors has nil Errors.
func TestMerge(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a, b := record.New(), record.New()
	a.OK("x", t0, t0, t0.Add(time.Millisecond))
	a.Fail("x", "timeout")
	a.Late("x", 2)
	b.OK("x", t0, t0, t0.Add(3*time.Millisecond))
	b.OK("x", t0, t0, t0.Add(3*time.Millisecond))
	b.Fail("x", "timeout")
	b.Fail("x", "other")
	b.Dropped("x", 1)
	b.OK("y", t0, t0, t0.Add(time.Millisecond))
	b.OK("unordered", t0, t0, t0)

	ops := record.Merge([]string{"y", "x", "z"}, a, b)
	if got := names(ops); !reflect.DeepEqual(got, []string{"y", "x"}) {
		t.Fatalf("merged %v, want [y x]", got)
	}
	y, x := ops[0], ops[1]
	if x.Count != 3 || x.Late != 2 || x.Dropped != 1 || !reflect.DeepEqual(x.Errors, map[string]int64{"timeout": 2, "other": 1}) {
		t.Errorf("x = %+v", x)
	}
	if x.Hist.Count() != 3 || x.Uncorrected.Count() != 3 || !near(x.Hist.Max(), 3*time.Millisecond) {
		t.Errorf("x histograms: %d, %d values, max %v", x.Hist.Count(), x.Uncorrected.Count(), x.Hist.Max())
	}
	if y.Count != 1 || y.Errors != nil {
		t.Errorf("y = %+v, want one op and nil errors", y)
	}
	// The inputs are left as they were.
	if o := a.Op("x"); o.Count != 1 || o.Hist.Count() != 1 || o == x {
		t.Errorf("merge changed its input: %+v", o)
	}
	if got := record.Merge([]string{"x"}); got != nil {
		t.Errorf("merge of no recorders: %v", names(got))
	}
}

// TestConcurrent: workers sharing a recorder lose nothing (run with -race).
func TestConcurrent(t *testing.T) {
	r := record.New()
	t0 := time.Now()
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r.OK("a", t0, t0, t0.Add(time.Microsecond))
				r.Fail("a", "timeout")
				r.Late("a", 1)
				r.Dropped("a", 1)
			}
		})
	}
	wg.Wait()
	o := r.Op("a")
	if n := int64(workers * each); o.Count != n || o.Errors["timeout"] != n || o.Late != n || o.Dropped != n || o.Hist.Count() != n {
		t.Errorf("%+v, want %d of each", o, n)
	}
}
