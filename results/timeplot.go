package results

import (
	"fmt"
	"github.com/authbench/authbench/vocab"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// firstSeries returns a scheme's series for op from its first round that
// has one.
func (s *schemeData) firstSeries(op string) *Series {
	for _, r := range s.rounds {
		if r == nil {
			continue
		}
		for _, sr := range r.Series {
			if sr.Op == op && len(sr.Points) > 0 {
				return sr
			}
		}
	}
	return nil
}

// writeTimePlots writes, per top-level op, throughput and p99 over time
// (one line per scheme, from its first round).
func writeTimePlots(dir string, sc *scenarioData) ([]plotFile, error) {
	var out []plotFile
	for _, op := range []string{vocab.OpCLICommand, vocab.OpJobMessage, "uis.poll"} {
		type line struct {
			name string
			sr   *Series
		}
		var lines []line
		for _, s := range sc.schemes {
			if sr := s.firstSeries(op); sr != nil && len(sr.Points) >= minTimePoints {
				lines = append(lines, line{s.name, sr})
			}
		}
		if len(lines) == 0 {
			continue
		}
		few := false
		for _, l := range lines {
			for _, pt := range l.sr.Points {
				few = few || (pt.Count > 0 && pt.Count < MinOps(99))
			}
		}
		for _, kind := range []struct {
			suffix, title, ylabel string
			y                     func(Point, *Series) (float64, bool)
		}{
			{"rate", "throughput over time", "completed per second", func(p Point, sr *Series) (float64, bool) {
				return float64(p.Count) / sr.Interval.Seconds(), true
			}},
			{"p99", "p99 latency over time", "p99 (ms)", func(p Point, _ *Series) (float64, bool) {
				return float64(p.P99) / 1e6, p.Count > 0
			}},
		} {
			title := kind.title
			if kind.suffix == "p99" && few {
				// Never a p99 passed off as one from too few operations.
				title = "tail latency over time (intervals of < 1,000 ops: p99 ≈ their max)"
			}
			p := newPlot(fmt.Sprintf("%s: %s %s (round 1)", sc.name, op, title), "time since start (s)", kind.ylabel)
			p.X.Tick.Marker = cleanTicks{plot.DefaultTicks{}}
			p.Y.Min = 0
			p.Add(plotter.NewGrid())
			var names []string
			for i, l := range lines {
				var pts plotter.XYs
				for k, pt := range l.sr.Points {
					if y, ok := kind.y(pt, l.sr); ok {
						pts = append(pts, plotter.XY{X: (float64(k) + 0.5) * l.sr.Interval.Seconds(), Y: y})
					}
				}
				if len(pts) == 0 {
					continue
				}
				if err := addLine(p, l.name, pts, i); err != nil {
					return nil, err
				}
				names = append(names, l.name)
			}
			pf := plotFile{
				file:  fileSafe(sc.name + "-" + op + "-" + kind.suffix + ".svg"),
				title: p.Title.Text,
			}
			if err := savePlotLegendRight(p, names, filepath.Join(dir, pf.file), 8*vg.Inch, 4*vg.Inch); err != nil {
				return nil, err
			}
			out = append(out, pf)
		}
	}
	return out, nil
}

// addLine adds a legend-named line, the i-th of its plot, in the i-th
// colour.
func addLine(p *plot.Plot, name string, pts plotter.XYs, i int) error {
	ln, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	ln.Color = seriesColor(i)
	ln.Dashes = seriesDashes(i)
	ln.Width = vg.Points(1.2)
	p.Add(ln)
	p.Legend.Add(name, ln)
	return nil
}

// minTimePoints is the fewest intervals an over-time plot needs: a short
// run's one or two points drew no lines beside a full legend.
const minTimePoints = 3

// writeServerCPUPlot writes the WFS's CPU share over time (one line per
// scheme, from its first round), or nothing when no result has it.
func writeServerCPUPlot(dir string, sc *scenarioData) ([]plotFile, error) {
	p := newPlot(fmt.Sprintf("%s: WFS process CPU over time (round 1)", sc.name), "time since start (s)", "share of one CPU")
	p.X.Tick.Marker = cleanTicks{plot.DefaultTicks{}}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	var names []string
	for i, s := range sc.schemes {
		if len(s.rounds) == 0 || s.rounds[0].ServerCPU == nil || len(s.rounds[0].ServerCPU.Share) < minTimePoints {
			continue
		}
		sr := s.rounds[0].ServerCPU
		var pts plotter.XYs
		for k, v := range sr.Share {
			pts = append(pts, plotter.XY{X: (float64(k) + 1) * sr.Interval.Seconds(), Y: v})
		}
		if err := addLine(p, s.name, pts, i); err != nil {
			return nil, err
		}
		names = append(names, s.name)
	}
	if len(names) == 0 {
		return nil, nil
	}
	pf := plotFile{file: fileSafe(sc.name + "-wfs-cpu.svg"), title: p.Title.Text}
	if err := savePlotLegendRight(p, names, filepath.Join(dir, pf.file), 8*vg.Inch, 4*vg.Inch); err != nil {
		return nil, err
	}
	return []plotFile{pf}, nil
}

// mergeSeries folds b into a: counts and errors add up, the p99 of an
// interval is the larger of the two (an upper bound, not exact).
func mergeSeries(a, b []*Series) []*Series {
	byOp := map[string]*Series{}
	for _, s := range a {
		byOp[s.Op] = s
	}
	for _, s := range b {
		m := byOp[s.Op]
		if m == nil || m.Interval != s.Interval {
			if m == nil {
				c := *s
				c.Points = append([]Point(nil), s.Points...)
				a = append(a, &c)
				byOp[s.Op] = &c
			}
			continue
		}
		for i, p := range s.Points {
			if i >= len(m.Points) {
				m.Points = append(m.Points, p)
				continue
			}
			m.Points[i].Count += p.Count
			m.Points[i].Errors += p.Errors
			m.Points[i].P99 = max(m.Points[i].P99, p.P99)
		}
	}
	return a
}
