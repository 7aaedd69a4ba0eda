package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Line is one named line of a plot over time; Style picks its colour and
// dashes (the Style-th of the palette), so that a scheme keeps its colour
// across plots where its callers want it to.
type Line struct {
	Name   string
	Style  int
	Points plotter.XYs
	// Baseline draws the line apart: thicker, solid, black.
	Baseline bool
}

// Lines writes an SVG of lines over time to path: the x axis from 0 in
// clean ticks, the y axis from 0, the legend at the right. Lines with no
// points are left out of the plot and its legend.
func Lines(path, title, xlabel, ylabel string, lines []Line) error {
	p := newPlot(title, xlabel, ylabel)
	p.X.Tick.Marker = cleanTicks{plot.DefaultTicks{}}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	var names []string
	for _, l := range lines {
		if len(l.Points) == 0 {
			continue
		}
		name := legendName(l.Name, l.Baseline)
		if err := addLine(p, name, l.Points, l.Style, l.Baseline); err != nil {
			return err
		}
		names = append(names, name)
	}
	return savePlotLegendRight(p, names, path, 8*vg.Inch, 4*vg.Inch)
}

// addLine adds a legend-named line in the i-th colour, or drawn apart as
// the baseline.
func addLine(p *plot.Plot, name string, pts plotter.XYs, i int, baseline bool) error {
	ln, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	styleLine(ln, i, baseline, vg.Points(1.2))
	p.Add(ln)
	p.Legend.Add(name, ln)
	return nil
}
