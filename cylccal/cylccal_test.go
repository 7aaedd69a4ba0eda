package cylccal

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestCombine(t *testing.T) {
	got := Combine([]Side{
		{Requests: 10, Errors: 1, CPUMs: 1, ProcessCPUMs: 2, P50Ms: 30, P90Ms: 200, Drains: 2, MaxDrain: 7},
		{Requests: 10, CPUMs: 3, ProcessCPUMs: 4, P50Ms: 200, P90Ms: 220, Drains: 5, MaxDrain: 4},
		{Requests: 10, CPUMs: 2, ProcessCPUMs: 3, P50Ms: 25, P90Ms: 210, Drains: 1, MaxDrain: 10},
	})
	want := Side{Requests: 30, Errors: 1, CPUMs: 2, ProcessCPUMs: 3, P50Ms: 30, P90Ms: 210, Drains: 8, MaxDrain: 10,
		RoundP50Ms: []float64{30, 200, 25}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Combine: %+v, want %+v", got, want)
	}
	if got := Combine([]Side{{P50Ms: 10}, {P50Ms: 20}}); got.P50Ms != 15 {
		t.Errorf("median of two: %v, want 15", got.P50Ms)
	}
}

func TestOutsideAndRoundTrip(t *testing.T) {
	c := &Calibration{Schema: SchemaVersion, Made: time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC), Server: "cylc-flow 8.4.4",
		Loads: []Load{
			{Name: "c8", Request: Ping, Judge: []string{JudgeCPU, JudgeP50}, Real: Side{CPUMs: 2, P50Ms: 20}, Model: Side{CPUMs: 2.4, P50Ms: 30}},
			{Name: "trickle", Request: Ping, Real: Side{CPUMs: 1, P50Ms: 100}, Model: Side{CPUMs: 5, P50Ms: 100}},
		}}
	if got, want := c.Outside(), []string{"c8 p50 1.50"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Outside %v, want %v (unjudged ratios are not judged)", got, want)
	}
	if c.Judged() != 2 {
		t.Errorf("Judged %d, want 2", c.Judged())
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("read back %+v, want %+v", back, c)
	}
	c.Schema = 99
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil {
		t.Error("another schema was read")
	}
}
