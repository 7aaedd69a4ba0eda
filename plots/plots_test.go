package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/plotter"

	"github.com/authbench/authbench/results"
)

// TestCapacity: a search with steps draws both plots as SVG.
func TestCapacity(t *testing.T) {
	var steps []results.CapacityStep
	for i, rate := range []float64{100, 160, 256} {
		steps = append(steps, results.CapacityStep{Offered: rate, Count: 2000, P99: time.Duration(i+1) * time.Millisecond,
			P90: time.Millisecond, ServerCPUPerOp: time.Duration(300+i*10) * time.Microsecond})
	}
	c := &results.CapacityRun{Rule: results.DefaultKneeRule, Curves: []*results.CapacityCurve{{Scheme: "plain", Op: "command", Steps: steps}}}
	dir := t.TempDir()
	if err := Capacity(dir, c); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"capacity-latency.svg", "capacity-cpu.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte("plain (command)")) {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestCapacityEmpty: a run that measured nothing writes no plot and does
// not panic (a log axis needs points).
func TestCapacityEmpty(t *testing.T) {
	dir := t.TempDir()
	c := &results.CapacityRun{Rule: results.DefaultKneeRule, Curves: []*results.CapacityCurve{{Scheme: "plain", Op: "command"}}}
	if err := Capacity(dir, c); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.svg")); len(m) != 0 {
		t.Errorf("plots written with no data: %v", m)
	}
}

// TestLinesSpectrumBars: each kind of plot writes SVG naming its series,
// and a path that is not .svg is refused.
func TestLinesSpectrumBars(t *testing.T) {
	dir := t.TempDir()
	h := results.NewHistogram()
	for i := range 500 {
		h.Record(time.Duration(i+1) * time.Microsecond)
	}
	for _, tc := range []struct {
		file, name string
		draw       func(path string) error
	}{
		{"lines.svg", "jwt:command", func(p string) error {
			return Lines(p, "t", "x", "y", []Line{{Name: "jwt:command", Points: plotter.XYs{{X: 1, Y: 2}, {X: 2, Y: 3}}}, {Name: "empty"}})
		}},
		{"spectrum.svg", "curve", func(p string) error { return Spectrum(p, "t", []Hist{{Name: "curve", H: h}}) }},
		{"bars.svg", "plain", func(p string) error { return Bars(p, "t", "y", []string{"plain", "curve"}, []float64{1, 2}) }},
	} {
		path := filepath.Join(dir, tc.file)
		if err := tc.draw(path); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || !bytes.Contains(b, []byte("<svg")) || !bytes.Contains(b, []byte(tc.name)) {
			t.Errorf("%s: %v, or lacks %q", tc.file, err, tc.name)
		}
	}
	if err := Bars(filepath.Join(dir, "bars.png"), "t", "y", []string{"a"}, []float64{1}); err == nil {
		t.Error("a .png path: want an error")
	}
}

// TestPaletteDistinct: the first 14 series (the default suite's schemes)
// get 14 different colours.
func TestPaletteDistinct(t *testing.T) {
	seen := map[string]int{}
	for i := 0; i < 14; i++ {
		r, g, b, _ := seriesColor(i).RGBA()
		k := fmt.Sprint(r, g, b)
		if j, ok := seen[k]; ok {
			t.Fatalf("series %d and %d share a colour", j, i)
		}
		seen[k] = i
	}
	// A plot draws at most seven series beside its black baseline: those
	// seven differ by ΔE76 30 at least in CIELAB (clearly different lines).
	for i := range 7 {
		for j := range i {
			if d := deltaE(palette()[i], palette()[j]); d < 30 {
				t.Errorf("series %d and %d are ΔE %.0f apart, want 30 at least", j, i, d)
			}
		}
	}
	if seriesDashes(0) != nil || seriesDashes(14) == nil {
		t.Fatal("want solid lines for the palette's first round, dashed after")
	}
}

// TestLogTicks: a log axis has at least two labelled ticks whatever its
// range, 1-2-5 over a decade or more, and every label reads as its value.
func TestLogTicks(t *testing.T) {
	cases := []struct {
		lo, hi float64
		want   []string
	}{
		{1, 1000, []string{"1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"}},
		{150, 480, []string{"200", "300", "400"}},
		{0.21, 0.38, []string{"0.25", "0.3", "0.35"}},
		{203, 290, []string{"210", "220", "230", "240", "250", "260", "270", "280", "290"}},
	}
	for _, c := range cases {
		var got []string
		for _, tk := range (logTicks{}).Ticks(c.lo, c.hi) {
			got = append(got, tk.Label)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("ticks over [%g, %g]: %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}

// deltaE is the CIE76 colour difference of two sRGB colours (D65).
func deltaE(a, b color.RGBA) float64 {
	lab := func(c color.RGBA) [3]float64 {
		lin := func(u uint8) float64 {
			v := float64(u) / 255
			if v > 0.04045 {
				return math.Pow((v+0.055)/1.055, 2.4)
			}
			return v / 12.92
		}
		r, g, bl := lin(c.R), lin(c.G), lin(c.B)
		x := (0.4124*r + 0.3576*g + 0.1805*bl) / 0.95047
		y := 0.2126*r + 0.7152*g + 0.0722*bl
		z := (0.0193*r + 0.1192*g + 0.9505*bl) / 1.08883
		f := func(t float64) float64 {
			if t > 0.008856 {
				return math.Cbrt(t)
			}
			return 7.787*t + 16.0/116
		}
		return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
	}
	p, q := lab(a), lab(b)
	return math.Sqrt((p[0]-q[0])*(p[0]-q[0]) + (p[1]-q[1])*(p[1]-q[1]) + (p[2]-q[2])*(p[2]-q[2]))
}
