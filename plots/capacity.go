package plots

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/authbench/authbench/results"
)

// Capacity writes capacity-latency.svg (tail latency by offered rate,
// one line per scheme) and capacity-cpu.svg (WFS CPU per operation) into
// dir; with no step measured it writes neither.
func Capacity(dir string, c *results.CapacityRun) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	for _, pl := range []struct {
		file, title, y string
		get            func(results.CapacityStep) float64
	}{
		{"capacity-latency.svg", "tail latency by offered rate (p99; p90 below 1,000 ops)", "latency (ms)", func(s results.CapacityStep) float64 {
			t, _ := s.Tail(c.Rule)
			return float64(t) / 1e6
		}},
		{"capacity-cpu.svg", "WFS CPU per operation by offered rate", "WFS CPU per op (ms)", func(s results.CapacityStep) float64 {
			return float64(s.ServerCPUPerOp) / 1e6
		}},
	} {
		p := newPlot(pl.title, "offered rate (ops/s)", pl.y)
		p.X.Scale = plot.LogScale{}
		p.Y.Min = 0
		p.Add(plotter.NewGrid())
		var names []string
		var ticks []plot.Tick
		seen := map[float64]bool{}
		ymax := 0.0
		for i, cv := range c.Curves {
			var pts plotter.XYs
			for _, s := range cv.Steps {
				v := pl.get(s)
				if s.Offered > 0 && !math.IsNaN(v) {
					pts = append(pts, plotter.XY{X: s.Offered, Y: v})
					ymax = max(ymax, v)
					if !seen[s.Offered] {
						seen[s.Offered] = true
						ticks = append(ticks, plot.Tick{Value: s.Offered, Label: fmt.Sprintf("%.0f", s.Offered)})
					}
				}
			}
			if len(pts) == 0 {
				continue
			}
			l, sc, err := plotter.NewLinePoints(pts)
			if err != nil {
				return fmt.Errorf("plot %s: %w", cv.Scheme, err)
			}
			l.Color, sc.Color = seriesColor(i), seriesColor(i)
			l.Dashes = seriesDashes(i)
			sc.Shape = plotutil.Shape(i)
			l.Width = vg.Points(1.5)
			p.Add(l, sc)
			name := cv.Scheme + " (" + cv.Op + ")"
			p.Legend.Add(name, l, sc)
			names = append(names, name)
		}
		if len(ticks) == 0 {
			continue // nothing measured: no plot (a log axis needs points)
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		lo, hi := ticks[0].Value, ticks[0].Value
		for _, t := range ticks {
			lo, hi = min(lo, t.Value), max(hi, t.Value)
		}
		p.X.Min, p.X.Max = lo/1.1, hi*1.1 // room for the end labels
		p.Y.Max = ymax * 1.1
		if err := savePlotLegendRight(p, names, filepath.Join(dir, pl.file), 8*vg.Inch, 5*vg.Inch); err != nil {
			return err
		}
	}
	return nil
}
