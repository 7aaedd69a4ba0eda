package report

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/plotter"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/plots"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// plotJob is one plot of a scenario: what the page links, and how to
// draw it to a path.
type plotJob struct {
	Plot
	draw func(path string) error
}

// minTimePoints is the fewest intervals an over-time plot needs: a short
// run's one or two points drew no lines beside a full legend.
const minTimePoints = 3

// WritePlots draws the plots of in's page into dir: each scenario's, and
// the capacity search's. It is the report's plotting step, apart from
// rendering; Build links the same plots.
func WritePlots(dir string, in Inputs) error {
	scs, err := figures.Collect(in.Runs)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	for _, sc := range scs {
		for _, j := range planPlots(sc) {
			if err := j.draw(filepath.Join(dir, j.File)); err != nil {
				return err
			}
		}
	}
	if in.Capacity != nil {
		return plots.Capacity(dir, in.Capacity)
	}
	return nil
}

// planPlots are sc's plots: a latency percentile spectrum per top-level
// op (one line per scheme), throughput and p99 over time, the WFS's CPU
// over time, and files created per 1,000 jobs per scheme; each only where
// the results have its data.
func planPlots(sc *figures.Scenario) []plotJob {
	var out []plotJob
	for _, op := range []string{vocab.OpCLICommand, vocab.OpJobMessage} {
		var series []plots.Hist
		for i, s := range sc.Schemes {
			if h := mergedHist(s, op); h != nil && h.Count() > 0 {
				series = append(series, plots.Hist{Name: s.Name, H: h, Style: i, Baseline: isBaseline(s)})
			}
		}
		if len(series) == 0 {
			continue
		}
		for _, part := range split(series, func(h plots.Hist) bool { return h.Baseline }) {
			title := fmt.Sprintf("%s: %s latency by percentile%s", sc.Name, op, part.title)
			series := part.items
			out = append(out, plotJob{Plot{plots.FileSafe(sc.Name + "-" + op + "-spectrum" + part.file + ".svg"), title},
				func(path string) error { return plots.Spectrum(path, title, series) }})
		}
	}
	out = append(out, timePlots(sc)...)
	out = append(out, serverCPUPlot(sc)...)
	var names []string
	var values []float64
	for _, s := range sc.Schemes {
		v := s.Spread(figures.FilesCreated(figures.Job))
		if v.N == 0 {
			continue
		}
		names = append(names, s.Name)
		values = append(values, v.Median*1000)
	}
	if len(names) > 0 {
		title := fmt.Sprintf("%s: files created per 1,000 jobs", sc.Name)
		out = append(out, plotJob{Plot{plots.FileSafe(sc.Name + "-files.svg"), title},
			func(path string) error { return plots.Bars(path, title, "files created per 1,000 jobs", names, values) }})
	}
	return out
}

// mergedHist merges op's histograms over s's rounds (nil when no round
// has one).
func mergedHist(s *figures.Scheme, op string) *results.Histogram {
	var h *results.Histogram
	for _, r := range s.Rounds {
		o := r.Op(op)
		if o == nil || o.Hist == nil || o.Count == 0 {
			continue
		}
		if h == nil {
			h = results.NewHistogram()
		}
		h.Merge(o.Hist)
	}
	return h
}

// firstSeries is s's series for op from its first round that has one.
func firstSeries(s *figures.Scheme, op string) *results.Series {
	for _, r := range s.Rounds {
		for _, sr := range r.Series {
			if sr.Op == op && len(sr.Points) > 0 {
				return sr
			}
		}
	}
	return nil
}

// timePlots are, per top-level op, throughput and p99 over time (one line
// per scheme, from its first round).
func timePlots(sc *figures.Scenario) []plotJob {
	var out []plotJob
	for _, op := range []string{vocab.OpCLICommand, vocab.OpJobMessage, "uis.poll"} {
		type line struct {
			name     string
			sr       *results.Series
			style    int
			baseline bool
		}
		var lines []line
		for i, s := range sc.Schemes {
			if sr := firstSeries(s, op); sr != nil && len(sr.Points) >= minTimePoints {
				lines = append(lines, line{s.Name, sr, i, isBaseline(s)})
			}
		}
		if len(lines) == 0 {
			continue
		}
		few := false
		for _, l := range lines {
			for _, pt := range l.sr.Points {
				few = few || (pt.Count > 0 && pt.Count < results.MinOps(99))
			}
		}
		for _, kind := range []struct {
			suffix, title, ylabel string
			y                     func(results.Point, *results.Series) (float64, bool)
		}{
			{"rate", "throughput over time", "completed per second", func(p results.Point, sr *results.Series) (float64, bool) {
				return float64(p.Count) / sr.Interval.Seconds(), true
			}},
			{"p99", "p99 latency over time", "p99 (ms)", func(p results.Point, _ *results.Series) (float64, bool) {
				return float64(p.P99) / 1e6, p.Count > 0
			}},
		} {
			what := kind.title
			if kind.suffix == "p99" && few {
				// Never a p99 passed off as one from too few operations.
				what = "tail latency over time (intervals of < 1,000 ops: p99 ≈ their max)"
			}
			var all []plots.Line
			for _, l := range lines {
				var pts plotter.XYs
				for k, pt := range l.sr.Points {
					if y, ok := kind.y(pt, l.sr); ok {
						pts = append(pts, plotter.XY{X: (float64(k) + 0.5) * l.sr.Interval.Seconds(), Y: y})
					}
				}
				all = append(all, plots.Line{Name: l.name, Style: l.style, Points: pts, Baseline: l.baseline})
			}
			ylabel := kind.ylabel
			for _, part := range split(all, func(l plots.Line) bool { return l.Baseline }) {
				title := fmt.Sprintf("%s: %s %s (round 1)%s", sc.Name, op, what, part.title)
				ls := part.items
				out = append(out, plotJob{Plot{plots.FileSafe(sc.Name + "-" + op + "-" + kind.suffix + part.file + ".svg"), title},
					func(path string) error { return plots.Lines(path, title, "time since start (s)", ylabel, ls) }})
			}
		}
	}
	return out
}

// serverCPUPlot is the WFS's CPU share over time (one line per scheme,
// from its first round; split as split does); none when no result has it.
func serverCPUPlot(sc *figures.Scenario) []plotJob {
	var ls []plots.Line
	for i, s := range sc.Schemes {
		if len(s.Rounds) == 0 || s.Rounds[0].ServerCPU == nil || len(s.Rounds[0].ServerCPU.Share) < minTimePoints {
			continue
		}
		sr := s.Rounds[0].ServerCPU
		var pts plotter.XYs
		for k, v := range sr.Share {
			pts = append(pts, plotter.XY{X: (float64(k) + 1) * sr.Interval.Seconds(), Y: v})
		}
		ls = append(ls, plots.Line{Name: s.Name, Style: i, Points: pts, Baseline: isBaseline(s)})
	}
	if len(ls) == 0 {
		return nil
	}
	var out []plotJob
	for _, part := range split(ls, func(l plots.Line) bool { return l.Baseline }) {
		title := fmt.Sprintf("%s: WFS process CPU over time (round 1)%s", sc.Name, part.title)
		lines := part.items
		out = append(out, plotJob{Plot{plots.FileSafe(sc.Name + "-wfs-cpu" + part.file + ".svg"), title},
			func(path string) error {
				return plots.Lines(path, title, "time since start (s)", "share of one CPU", lines)
			}})
	}
	return out
}

// MaxPlotSeries is the most lines one plot draws: past it the schemes are
// split over several plots, the baseline drawn in each.
const MaxPlotSeries = 8

// plotPart is one plot of a split: its series, and what its title and file
// name add ("" for a plot that holds every series).
type plotPart[T any] struct {
	items       []T
	title, file string
}

// split keeps items in one plot when there are at most MaxPlotSeries, else
// spreads the ones that are not the baseline evenly over as few plots as
// hold them with the baseline beside them in each.
func split[T any](items []T, baseline func(T) bool) []plotPart[T] {
	if len(items) <= MaxPlotSeries {
		return []plotPart[T]{{items: items}}
	}
	var base, rest []T
	for _, it := range items {
		if baseline(it) {
			base = append(base, it)
		} else {
			rest = append(rest, it)
		}
	}
	per := MaxPlotSeries - len(base)
	if per < 1 {
		per = MaxPlotSeries
	}
	n := (len(rest) + per - 1) / per
	size := (len(rest) + n - 1) / n
	var out []plotPart[T]
	for k := 0; k < n; k++ {
		lo, hi := k*size, min((k+1)*size, len(rest))
		part := append(append([]T(nil), base...), rest[lo:hi]...)
		out = append(out, plotPart[T]{items: part,
			title: fmt.Sprintf(" (schemes %d-%d of %d, with the baseline)", lo+1, hi, len(rest)),
			file:  fmt.Sprintf("-%dof%d", k+1, n)})
	}
	return out
}

// isBaseline is the no-authentication baseline: no credential, no claims.
func isBaseline(s *figures.Scheme) bool {
	return s.Known && s.Spec.Credential == "" && s.Claims == (vocab.Claims{})
}
