package scenarios

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestCalibrateSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("opens real ZMQ sockets")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n, rounds = 200, 2
	res, err := Calibrate(ctx, CalibrateConfig{N: n, Rounds: rounds, Warmup: 50, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Calibrate: %v", err)
	}
	loops := []*LoopResult{&res.Bare, &res.Engine}
	if res.Python != nil {
		loops = append(loops, res.Python)
	} else if res.PythonSkipped == "" {
		t.Error("no pyzmq loop and no reason given")
	}
	for _, l := range loops {
		if l.Count != n*rounds || len(l.Rounds) != rounds {
			t.Errorf("%s: %d round trips in %d rounds, want %d in %d", l.Name, l.Count, len(l.Rounds), n*rounds, rounds)
		}
		for i, r := range l.Rounds {
			if r.Count != n || r.P50 <= 0 || r.Rate <= 0 {
				t.Errorf("%s round %d: %+v", l.Name, i+1, r)
			}
		}
		if l.P50.Median <= 0 || l.P50.Min > l.P50.Median || l.P50.Median > l.P50.Max {
			t.Errorf("%s: p50 spread %+v", l.Name, l.P50)
		}
	}
	ratios := []*Ratio{&res.P50Ratio, &res.RateRatio}
	if res.Python != nil {
		ratios = append(ratios, res.BarePyP50, res.BarePyRate)
	}
	for _, r := range ratios {
		if !(r.Value > 0) || math.IsInf(r.Value, 0) {
			t.Errorf("%s = %v, want positive and finite", r.Name, r.Value)
		}
	}
}
