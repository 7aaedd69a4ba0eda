package scenarios

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/authbench/authbench/process"
)

// Benchmarks of the two calibration loops, for CPU profiles of the engine's
// path against the bare one:
//
//	go test -run '^$' -bench Calibrate -cpuprofile /tmp/cpu.out ./scenarios/
//
// AUTHBENCH_BENCH_PIN=0 pins the process first, as `calibrate -pin 0` does.

func benchPin(b *testing.B) {
	if cpus := os.Getenv("AUTHBENCH_BENCH_PIN"); cpus != "" {
		if err := process.Pin(cpus); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCalibrateBare(b *testing.B) {
	benchPin(b)
	cfg := calibrateDefaults(CalibrateConfig{Python: "-"})
	bare, err := newBareLoop(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.close()
	ctx := context.Background()
	if _, err := bare.round(ctx, 200); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	h, err := bare.round(ctx, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "rt/s")
	b.ReportMetric(float64(h.Percentile(50).Nanoseconds()), "p50-ns")
}

func BenchmarkCalibrateEngine(b *testing.B) {
	benchPin(b)
	cfg := calibrateDefaults(CalibrateConfig{Python: "-", WorkDir: b.TempDir()})
	ctx := context.Background()
	eng, err := newEngineLoop(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.close()
	if _, err := eng.round(ctx, 200); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	h, err := eng.round(ctx, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "rt/s")
	b.ReportMetric(float64(h.Percentile(50).Nanoseconds()), "p50-ns")
}
