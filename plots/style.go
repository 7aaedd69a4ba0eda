// Package plots draws authbench's SVG plots in one style: a colour per
// scheme from a 14-colour palette, padded titles, clean tick labels and the
// legend outside the data. Its callers (package report, the capacity
// search) say what to draw; plots never reads results files.
package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// palette is 14 distinct colours (Okabe-Ito and Tol's muted scheme), one
// per scheme of the default suite: gonum's plotutil has 7, so plain and
// jwt:timed were both red. Black is kept for the baseline (baselineStyle).
// The first seven, the most a plot draws beside its baseline (plots of
// more series are split), are the seven of the fourteen farthest apart in
// CIELAB (ΔE76 37 at least): orange and sand (ΔE 14), and then bluish
// green and teal, were hard to tell apart in one plot.
func palette() []color.RGBA {
	return []color.RGBA{
		{213, 94, 0, 255}, {86, 180, 233, 255}, {136, 34, 85, 255}, {68, 170, 153, 255},
		{153, 153, 51, 255}, {51, 34, 136, 255}, {17, 119, 51, 255}, {136, 136, 136, 255},
		{230, 159, 0, 255}, {204, 121, 167, 255}, {0, 114, 178, 255}, {204, 102, 119, 255},
		{0, 158, 115, 255}, {221, 170, 51, 255},
	}
}

// seriesColor is the i-th series' colour; past the palette, colours
// repeat with dashes (seriesDashes).
func seriesColor(i int) color.Color { p := palette(); return p[i%len(p)] }

// seriesDashes is the i-th series' line style: solid for the first
// palette's worth, dashed after.
func seriesDashes(i int) []vg.Length {
	if i < len(palette()) {
		return nil
	}
	return []vg.Length{vg.Points(6), vg.Points(3)}
}

// BaselineSuffix marks the baseline's legend entry.
const BaselineSuffix = " (baseline)"

// styleLine gives l the i-th series' colour and dashes, or, for the
// baseline, a thicker solid black line drawn apart from the schemes'.
func styleLine(l *plotter.Line, i int, baseline bool, width vg.Length) {
	if baseline {
		l.Color, l.Dashes, l.Width = color.Black, nil, vg.Points(2.6)
		return
	}
	l.Color, l.Dashes, l.Width = seriesColor(i), seriesDashes(i), width
}

// legendName is a series' legend entry.
func legendName(name string, baseline bool) string {
	if baseline {
		return name + BaselineSuffix
	}
	return name
}

// newPlot is a plot with a padded title (it was clipped at the top edge)
// and y tick labels without trailing zeros ("50", not "50.00").
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = cleanTicks{plot.DefaultTicks{}}
	return p
}

// cleanTicks relabels another Ticker's ticks in the shortest form.
type cleanTicks struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (c cleanTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := c.Ticker.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = shortNumber(ts[i].Value)
		}
	}
	return ts
}

// shortNumber prints a tick value without trailing zeros or an exponent:
// 10000, 0.5, 2.
func shortNumber(v float64) string {
	// Rounded to 10 significant digits first: a tick made as 2.3×100
	// reads 230, not 229.99999999999997.
	if r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64); err == nil {
		v = r
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// logTicks labels a log axis at 1, 2 and 5 times each power of ten, in
// the shortest form.
type logTicks struct{}

// Ticks implements plot.Ticker. A range narrower than a decade (a Python
// client's 150-480 ms) may hold one 1-2-5 value or none; it is then
// labelled at whole multiples of its power of ten, else at halves, else
// at tenths: the first of these that gives at least two labels, so that a
// reader always has two to read a line against.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for _, step := range []float64{0, 1, 0.5, 0.1} {
		ms := []float64{1, 2, 5}
		if step > 0 {
			ms = nil
			for m := 1.0; m < 9.99; m += step {
				ms = append(ms, math.Round(m*10)/10)
			}
		}
		if ts = logTicksAt(lo, hi, ms); len(ts) >= 2 {
			break
		}
	}
	return ts
}

// logTicksAt are the ticks m×10^e within [lo, hi] for each mantissa m.
func logTicksAt(lo, hi float64, mantissas []float64) []plot.Tick {
	var ts []plot.Tick
	for e := -6; e <= 9; e++ {
		for _, m := range mantissas {
			v := m * pow10(e)
			if v >= lo/1.0001 && v <= hi*1.0001 {
				ts = append(ts, plot.Tick{Value: v, Label: shortNumber(v)})
			}
		}
	}
	return ts
}

func pow10(e int) float64 {
	v := 1.0
	for ; e > 0; e-- {
		v *= 10
	}
	for ; e < 0; e++ {
		v /= 10
	}
	return v
}

// titleRoom is kept above a plot's title: gonum draws it against the top
// edge, where renderers clip its ascenders.
const titleRoom = 6 * vg.Millimeter / 2

// legendWidth is the room kept at the right for a legend of names.
func legendWidth(names []string) vg.Length {
	n := 0
	for _, s := range names {
		n = max(n, len(s))
	}
	return vg.Length(n)*vg.Points(7.5) + vg.Points(40)
}

// savePlotLegendRight writes p as SVG with its legend (the entries named
// in names; none when names is empty) outside the data, at the right:
// legends sat on the curves and were cut off.
func savePlotLegendRight(p *plot.Plot, names []string, path string, w, h vg.Length) error {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	lw := vg.Length(0)
	if len(names) > 0 {
		lw = legendWidth(names)
	}
	c := vgsvg.New(w+lw, h)
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -lw, 0, -titleRoom))
	if len(names) > 0 {
		leg.Top, leg.Left = true, true
		leg.YOffs = -vg.Points(24)
		leg.Draw(draw.Crop(dc, w+vg.Points(8), 0, 0, 0))
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if strings.ToLower(filepath.Ext(path)) != ".svg" {
		return fmt.Errorf("plot %s: want an .svg path", path)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}
