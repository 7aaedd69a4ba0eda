package counters_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
)

func TestFileStatsSubAdd(t *testing.T) {
	a := counters.FileStats{Created: 5, Written: 4, Appended: 3, Read: 2, Deleted: 1, Renamed: 6, Fsyncs: 7, Live: 9, PeakLive: 10, ModelDelay: 8 * time.Millisecond}
	b := counters.FileStats{Created: 1, Written: 1, Appended: 1, Read: 1, Deleted: 1, Renamed: 1, Fsyncs: 1, Live: 2, PeakLive: 3, ModelDelay: time.Millisecond}
	cases := []struct {
		name      string
		got, want counters.FileStats
	}{
		// Live is subtracted like a count (the net files created since b,
		// or a without b's layer); PeakLive, a level, is a's.
		{"a-b", a.Sub(b), counters.FileStats{Created: 4, Written: 3, Appended: 2, Read: 1, Deleted: 0, Renamed: 5, Fsyncs: 6, Live: 7, PeakLive: 10, ModelDelay: 7 * time.Millisecond}},
		{"b-a", b.Sub(a), counters.FileStats{Created: -4, Written: -3, Appended: -2, Read: -1, Deleted: 0, Renamed: -5, Fsyncs: -6, Live: -7, PeakLive: 3, ModelDelay: -7 * time.Millisecond}},
		{"a+b", a.Add(b), counters.FileStats{Created: 6, Written: 5, Appended: 4, Read: 3, Deleted: 2, Renamed: 7, Fsyncs: 8, Live: 11, PeakLive: 10, ModelDelay: 9 * time.Millisecond}},
		{"0+b", counters.FileStats{}.Add(b), counters.FileStats{Created: 1, Written: 1, Appended: 1, Read: 1, Deleted: 1, Renamed: 1, Fsyncs: 1, Live: 2, ModelDelay: time.Millisecond}},
		{"a+b-b", a.Add(b).Sub(b), a},
		{"a-0", a.Sub(counters.FileStats{}), a},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestServerStatsAdd(t *testing.T) {
	a := counters.ServerStats{Requests: 10, OK: 7, Rejected: 1, Protocol: 1, Unknown: 1, Internal: 0, Malformed: 2, Shed: 3, DroppedReplies: 4, CPUSeconds: 0.5}
	b := counters.ServerStats{Requests: 1, OK: 1, Rejected: 2, Protocol: 3, Unknown: 4, Internal: 5, Malformed: 6, Shed: 7, DroppedReplies: 8, CPUSeconds: 0.25}
	want := counters.ServerStats{Requests: 11, OK: 8, Rejected: 3, Protocol: 4, Unknown: 5, Internal: 5, Malformed: 8, Shed: 10, DroppedReplies: 12, CPUSeconds: 0.75}
	if got := a.Add(b); got != want {
		t.Errorf("Add = %+v, want %+v", got, want)
	}
	if got := (counters.ServerStats{}).Add(a); got != a {
		t.Errorf("0 + a = %+v, want %+v", got, a)
	}
}

// TestJSON: the counters have results.json's field names, omit what
// results.json omits when zero, and round-trip (the WFS process's control
// channel sends them to the engine).
func TestJSON(t *testing.T) {
	cases := []struct {
		name string
		v    any
		want string
		back func([]byte) (any, error)
	}{
		{"files", counters.FileStats{Created: 1, Written: 2, Appended: 3, Read: 4, Deleted: 5, Renamed: 6, Fsyncs: 7, Live: 8, PeakLive: 9, ModelDelay: 10},
			`{"created":1,"written":2,"appended":3,"read":4,"deleted":5,"renamed":6,"fsyncs":7,"live":8,"peak_live":9,"model_delay_ns":10}`,
			func(b []byte) (any, error) { var f counters.FileStats; err := json.Unmarshal(b, &f); return f, err }},
		{"files, no model", counters.FileStats{Created: 1},
			`{"created":1,"written":0,"appended":0,"read":0,"deleted":0,"renamed":0,"fsyncs":0,"live":0,"peak_live":0}`,
			func(b []byte) (any, error) { var f counters.FileStats; err := json.Unmarshal(b, &f); return f, err }},
		{"server", counters.ServerStats{Requests: 1, OK: 2, Rejected: 3, Protocol: 4, Unknown: 5, Internal: 6, Malformed: 7, Shed: 8, DroppedReplies: 9, CPUSeconds: 1.5},
			`{"requests":1,"ok":2,"rejected":3,"protocol":4,"unknown":5,"internal":6,"malformed":7,"shed":8,"dropped_replies":9,"cpu_s":1.5}`,
			func(b []byte) (any, error) { var s counters.ServerStats; err := json.Unmarshal(b, &s); return s, err }},
		{"server, nothing shed", counters.ServerStats{Requests: 1, OK: 1},
			`{"requests":1,"ok":1,"rejected":0,"protocol":0,"unknown":0,"internal":0,"malformed":0,"cpu_s":0}`,
			func(b []byte) (any, error) { var s counters.ServerStats; err := json.Unmarshal(b, &s); return s, err }},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("%s: %s, want %s", c.name, b, c.want)
		}
		back, err := c.back(b)
		if err != nil || back != c.v {
			t.Errorf("%s: read back %+v (%v), want %+v", c.name, back, err, c.v)
		}
	}
}
