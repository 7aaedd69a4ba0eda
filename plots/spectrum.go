package plots

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/results"
)

// FileSafe replaces characters that do not belong in a file name.
func FileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// Hist is one line of a percentile-spectrum plot: a scheme's latencies.
type Hist struct {
	Name string
	H    *results.Histogram
	// Style picks its colour (the Style-th of the palette), so that a
	// scheme keeps its colour across plots; Baseline draws it apart.
	Style    int
	Baseline bool
}

// spectrumPoints samples h as HdrHistogram's percentile-distribution plot
// does: x is 1/(1-p), on a log axis, so 90%, 99%, 99.9% are evenly spaced;
// y is the latency in milliseconds. The spectrum stops where the histogram
// has no more resolution (x at most its count) and ends at the max.
func spectrumPoints(h *results.Histogram) plotter.XYs {
	n := float64(h.Count())
	var pts plotter.XYs
	for k := 0; ; k++ {
		x := math.Pow(10, float64(k)/20)
		if x > n || x > 1e6 {
			break
		}
		p := 100 * (1 - 1/x)
		pts = append(pts, plotter.XY{X: x, Y: float64(h.Percentile(p)) / 1e6})
	}
	if n > 1 {
		pts = append(pts, plotter.XY{X: n, Y: float64(h.Max()) / 1e6})
	}
	return pts
}

// percentileTicks label the 1/(1-p) axis in percentiles.
type percentileTicks struct{}

// Ticks returns a tick per power of ten: 0%, 90%, 99%, 99.9%, ...
func (percentileTicks) Ticks(lo, hi float64) []plot.Tick {
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	var ticks []plot.Tick
	for i, l := range labels {
		v := math.Pow10(i)
		if v > hi*1.0001 {
			break
		}
		if v >= lo/1.0001 {
			ticks = append(ticks, plot.Tick{Value: v, Label: l})
		}
	}
	return ticks
}

// Spectrum writes a percentile-spectrum SVG to path: a log latency
// axis (so schemes a few milliseconds apart are not squashed near zero by
// one slow one), a colour per scheme, the legend beside the plot.
func Spectrum(path, title string, series []Hist) error {
	p := newPlot(title, "percentile", "latency (ms, log)")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.X.Min = 1
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Add(plotter.NewGrid())
	var names []string
	for _, s := range series {
		pts := spectrumPoints(s.H)
		if len(pts) < 2 {
			continue
		}
		for k := range pts {
			pts[k].Y = math.Max(pts[k].Y, 0.001) // a log axis needs > 0
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("plot %s: %w", s.Name, err)
		}
		styleLine(l, s.Style, s.Baseline, vg.Points(1.5))
		p.Add(l)
		name := legendName(s.Name, s.Baseline)
		p.Legend.Add(name, l)
		names = append(names, name)
	}
	return savePlotLegendRight(p, names, path, 8*vg.Inch, 5*vg.Inch)
}

// Bars writes a bar chart SVG, one named bar per value, its names
// upright so that long ones do not collide.
func Bars(path, title, ylabel string, names []string, values []float64) error {
	p := newPlot(title, "", ylabel)
	p.Y.Min = 0
	top := 0.0
	for _, v := range values {
		top = math.Max(top, v)
	}
	p.Y.Max = top * 1.1 // room above the tallest bar
	bars, err := plotter.NewBarChart(plotter.Values(values), vg.Points(18))
	if err != nil {
		return fmt.Errorf("plot %s: %w", title, err)
	}
	bars.Color = seriesColor(0)
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars)
	p.NominalX(names...)
	// Half a slot of room either side, so the end bars are whole.
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.X.Tick.Label.Rotation = -math.Pi / 2 // upright names hanging from their bars: none overlaps
	p.X.Tick.Label.XAlign = draw.XLeft
	p.X.Tick.Label.YAlign = draw.YCenter
	// gonum leaves too little room under rotated tick labels: pad the
	// axis label by the longest name's length.
	long := 0
	for _, n := range names {
		long = max(long, len(n))
	}
	p.X.Label.Text = "scheme"
	p.X.Label.Padding = vg.Length(long) * vg.Points(1.2)
	w := max(6*vg.Inch, vg.Length(len(names))*0.6*vg.Inch)
	return savePlot(p, path, w, 6.5*vg.Inch)
}

// savePlot writes p as SVG to path, with room above its title.
func savePlot(p *plot.Plot, path string, w, h vg.Length) error {
	return savePlotLegendRight(p, nil, path, w, h)
}
