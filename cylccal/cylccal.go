// Package cylccal holds a calibration of authbench's cylc server model
// against a real Cylc 8 scheduler (issue 22 #3): the same loads run against
// both, side by side with their model/real ratios, and the service CPU per
// request type fitted from them. `authbench calibrate -cylc CONTACT -o
// FILE` makes one; `authbench report` renders DIR/cylc-calibration.json as
// the section "The Cylc model against Cylc VERSION". It has no ZeroMQ in
// it, so that reports need none.
package cylccal

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
)

// SchemaVersion is the calibration file's schema.
const SchemaVersion = 1

// FileName is the calibration's name in a report's data directory.
const FileName = "cylc-calibration.json"

// Low and High bound a model/real ratio judged within the calibration
// (issue 22: each judged ratio within 0.8-1.25).
const (
	Low  = 0.8
	High = 1.25
)

// Request types, and the model's CPU for a drain's first request, as keys
// of the service CPU maps.
const (
	Ping       = "ping"
	Message    = "message"
	DrainStart = "drain_start"
)

// Figures judged.
const (
	JudgeCPU = "cpu"
	JudgeP50 = "p50"
)

// Calibration is one run of the calibration loads against a real
// scheduler and the model.
type Calibration struct {
	Schema  int       `json:"schema"`
	Made    time.Time `json:"made"`
	Command string    `json:"command"`
	// Server is the real scheduler ("cylc-flow 8.4.4") and CPUs the CPUs
	// it may run on; the model's WFS and both sides' clients ran on them
	// too.
	Server string `json:"server"`
	CPUs   string `json:"cpus"`
	// Scheme is CURVE, as Cylc 8 ships it; Model the server model.
	Scheme string `json:"scheme"`
	Model  string `json:"model"`
	// ServiceCPU is the model's service CPU per request type (ms) in this
	// run, and Fitted what the run fits it to: the model's burn plus the
	// real scheduler's CPU per request less the model's, on the load that
	// fits each type (FitLoad).
	ServiceCPU map[string]float64 `json:"service_cpu_ms"`
	Fitted     map[string]float64 `json:"fitted_service_cpu_ms,omitempty"`
	FitLoad    map[string]string  `json:"fit_load,omitempty"`
	Loads      []Load             `json:"loads"`
	// Python is the real `cylc message` against authbench's Python
	// stand-in (scripts/cylc_message.py), per process; nil when not
	// measured.
	Python *PythonClients `json:"python_client,omitempty"`
}

// PythonClients is issue 22 #4's measurement: job messages each sent by a
// new client process, one after the other, the real `cylc message`
// against the real scheduler (as a job runs it) and authbench's Python
// stand-in against the model.
type PythonClients struct {
	Real    Processes `json:"real"`
	StandIn Processes `json:"stand_in"`
}

// Processes is a series of client processes: their wall time (start to
// exit) and CPU (user plus system, rusage), median and range.
type Processes struct {
	// Command is what ran, for the reader.
	Command string    `json:"command"`
	WallMs  []float64 `json:"wall_ms"`
	CPUMs   []float64 `json:"cpu_ms"`
}

// Stats are the median, least and most of v (0s when empty).
func Stats(v []float64) (p50, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	p50 = s[n/2]
	if n%2 == 0 {
		p50 = (s[n/2-1] + s[n/2]) / 2
	}
	return p50, s[0], s[n-1]
}

// Load is one calibration load.
type Load struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Request     string `json:"request"`
	// Judge names the figures judged within Low-High for this load.
	Judge []string `json:"judge,omitempty"`
	// Rounds is how many times the load ran on each side, alternately;
	// Real and Model combine them (Combine).
	Rounds int  `json:"rounds"`
	Real   Side `json:"real"`
	Model  Side `json:"model"`
}

// Side is one side's figures for a load, both measured by one driver and
// client (package cylcpeer). CPUMs is the server's Python CPU per request,
// the part the model stands for: the real scheduler's threads but
// libzmq's (its main loop, server thread and ZAP thread; schedstat, net
// of what they use idle), and the model's threads that hold its GIL
// (server thread and main loop, metered, and the ZAP handler's burn).
// ProcessCPUMs is every thread of each process (schedstat), net of its
// idle: the real scheduler's with libzmq's I/O thread and CURVE's crypto,
// the model's with its Go runtime. Drains are the model's (a real
// scheduler's are not visible from outside).
type Side struct {
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	CPUMs        float64 `json:"cpu_ms_per_request"`
	ProcessCPUMs float64 `json:"process_cpu_ms_per_request"`
	P50Ms        float64 `json:"p50_ms"`
	P90Ms        float64 `json:"p90_ms"`
	Drains       int64   `json:"drains,omitempty"`
	MaxDrain     int64   `json:"max_drain,omitempty"`
	// RoundP50Ms is each round's p50, when there were rounds (P50Ms is
	// their median).
	RoundP50Ms []float64 `json:"round_p50_ms,omitempty"`
}

// Combine is rounds of one side as one: requests, errors and drains
// summed, the largest drain, and the median over rounds of each
// percentile and CPU per request.
func Combine(rounds []Side) Side {
	var c Side
	if len(rounds) == 0 {
		return c
	}
	med := func(f func(Side) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	for _, r := range rounds {
		c.Requests += r.Requests
		c.Errors += r.Errors
		c.Drains += r.Drains
		c.MaxDrain = max(c.MaxDrain, r.MaxDrain)
	}
	c.CPUMs = med(func(s Side) float64 { return s.CPUMs })
	c.ProcessCPUMs = med(func(s Side) float64 { return s.ProcessCPUMs })
	c.P50Ms = med(func(s Side) float64 { return s.P50Ms })
	c.P90Ms = med(func(s Side) float64 { return s.P90Ms })
	c.RoundP50Ms = make([]float64, len(rounds))
	for i, r := range rounds {
		c.RoundP50Ms[i] = r.P50Ms
	}
	return c
}

// Ratio is model/real, 0 when either is missing.
func Ratio(model, real float64) float64 {
	if model <= 0 || real <= 0 {
		return 0
	}
	return model / real
}

// Within reports whether a ratio is within Low-High.
func Within(r float64) bool { return r >= Low && r <= High }

// Judged reports whether the load judges figure.
func (l *Load) Judged(figure string) bool {
	for _, j := range l.Judge {
		if j == figure {
			return true
		}
	}
	return false
}

// Outside lists the judged ratios outside Low-High, as "load figure
// ratio".
func (c *Calibration) Outside() []string {
	var out []string
	for i := range c.Loads {
		l := &c.Loads[i]
		for _, f := range []struct {
			name        string
			model, real float64
		}{{JudgeCPU, l.Model.CPUMs, l.Real.CPUMs}, {JudgeP50, l.Model.P50Ms, l.Real.P50Ms}} {
			if l.Judged(f.name) && !Within(Ratio(f.model, f.real)) {
				out = append(out, fmt.Sprintf("%s %s %.2f", l.Name, f.name, Ratio(f.model, f.real)))
			}
		}
	}
	return out
}

// Judged counts the judged ratios.
func (c *Calibration) Judged() int {
	n := 0
	for i := range c.Loads {
		n += len(c.Loads[i].Judge)
	}
	return n
}

// Read reads a calibration file.
func Read(path string) (*Calibration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Calibration
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: schema %d, want %d", path, c.Schema, SchemaVersion)
	}
	if len(c.Loads) == 0 {
		return nil, fmt.Errorf("%s: no loads", path)
	}
	return &c, nil
}

// Write writes c as indented JSON.
func (c *Calibration) Write(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func ms(v float64) string {
	if v <= 0 {
		return "-"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// ratioCell is a ratio, marked when judged: "1.03 ✓" within, "1.40 ✗"
// outside; unjudged ratios are shown bare.
func ratioCell(model, real float64, judged bool) string {
	r := Ratio(model, real)
	if r == 0 {
		return "-"
	}
	s := fmt.Sprintf("%.2f", r)
	switch {
	case !judged:
	case Within(r):
		s += " ✓"
	default:
		s += " ✗"
	}
	return s
}

// WriteTable writes the side-by-side table and the fitted service CPU.
func (c *Calibration) WriteTable(w *mdtable.Writer) {
	rows := make([][]string, 0, len(c.Loads))
	for i := range c.Loads {
		l := &c.Loads[i]
		drains := "-"
		if l.Model.Drains > 0 {
			drains = fmt.Sprintf("%.1f (max %d)", float64(l.Model.Requests)/float64(l.Model.Drains), l.Model.MaxDrain)
		}
		rows = append(rows, []string{l.Name, l.Request, fmt.Sprintf("%d / %d", l.Real.Requests, l.Model.Requests),
			ms(l.Real.CPUMs), ms(l.Model.CPUMs), ratioCell(l.Model.CPUMs, l.Real.CPUMs, l.Judged(JudgeCPU)),
			ms(l.Real.ProcessCPUMs), ms(l.Model.ProcessCPUMs), ratioCell(l.Model.ProcessCPUMs, l.Real.ProcessCPUMs, false),
			ms(l.Real.P50Ms), ms(l.Model.P50Ms), ratioCell(l.Model.P50Ms, l.Real.P50Ms, l.Judged(JudgeP50)),
			ms(l.Real.P90Ms), ms(l.Model.P90Ms), ratioCell(l.Model.P90Ms, l.Real.P90Ms, false), drains})
	}
	w.Table([]string{"load", "request", "requests real / model", "real Python CPU/req", "model", "ratio",
		"real process CPU/req", "model", "ratio",
		"real p50", "model p50", "ratio", "real p90", "model p90", "ratio", "model requests per drain"}, rows)
	for i := range c.Loads {
		l := &c.Loads[i]
		w.Printf("- %s: %s", l.Name, l.Description)
		if l.Rounds > 1 {
			w.Printf("; %d rounds, real and model in turn, medians over rounds (p50 by round: real %s, model %s)",
				l.Rounds, msList(l.Real.RoundP50Ms), msList(l.Model.RoundP50Ms))
		}
		w.Printf("\n")
	}
	if len(c.Fitted) > 0 {
		var parts []string
		for _, t := range []string{Ping, Message, DrainStart} {
			if v, ok := c.Fitted[t]; ok {
				parts = append(parts, fmt.Sprintf("%s %.2f ms (model ran %.2f ms; from %s)", t, v, c.ServiceCPU[t], c.FitLoad[t]))
			}
		}
		w.Printf("\nThe model's CPU fitted by this run (the real Python CPU per request taken as linear in the model's drains per request: a service CPU per request type and a drain's first request's extra): %s.\n", strings.Join(parts, ", "))
	}
	if p := c.Python; p != nil && len(p.Real.WallMs) > 0 {
		w.Printf("\nJob messages each from a new client process, one after the other (issue 22 #4): the real `cylc message` as a job runs it, against the scheduler, and authbench's Python stand-in, against the model:\n")
		rows := [][]string{}
		for _, side := range []struct {
			name string
			p    Processes
		}{{"real `cylc message`", p.Real}, {"authbench's stand-in", p.StandIn}} {
			if len(side.p.WallMs) == 0 {
				continue
			}
			wall, wlo, whi := Stats(side.p.WallMs)
			cpu, clo, chi := Stats(side.p.CPUMs)
			rows = append(rows, []string{side.name, mdtable.Code(side.p.Command), fmt.Sprint(len(side.p.WallMs)),
				fmt.Sprintf("%s (%s-%s)", ms(wall), ms(wlo), ms(whi)), fmt.Sprintf("%s (%s-%s)", ms(cpu), ms(clo), ms(chi))})
		}
		w.Table([]string{"client", "command", "processes", "wall p50 (min-max)", "CPU p50 (min-max)"}, rows)
		if wall, _, _ := Stats(p.Real.WallMs); wall > 0 {
			w.Printf("A real `cylc message` here takes %s, its wait for the scheduler's next wake (0-0.2 s) included; cylc-flow PR 5790 measured 1.2-1.7 s on its machines.\n", ms(wall))
		}
	}
	out := c.Outside()
	if len(out) == 0 {
		w.Printf("\nEvery judged ratio (%d) is within %.2f-%.2f (✓).\n", c.Judged(), Low, High)
	} else {
		w.Printf("\n%d of %d judged ratios outside %.2f-%.2f (✗): %s.\n", len(out), c.Judged(), Low, High, strings.Join(out, "; "))
	}
}

// WriteSection writes the report's section on c, made from file.
func (c *Calibration) WriteSection(w io.Writer, file string) error {
	mw := mdtable.NewWriter(w)
	mw.Printf("## The Cylc model against %s\n\n", orDash(c.Server))
	mw.Printf("The same loads, by the same driver and client (package cylcpeer: cylc ping's query and cylc message's mutation, each on a fresh connection and CURVE handshake), against a real scheduler and against authbench's `%s` server model under `%s` (`authbench serve`, four live jobs), the model's WFS and both sides' clients on the scheduler's CPUs (%s). ", c.Model, c.Scheme, orDash(c.CPUs))
	mw.Printf("Python CPU per request is what the model stands for: the real scheduler's threads but libzmq's (main loop, server thread, ZAP thread; schedstat, net of their idle) against the model's threads that hold its GIL; process CPU is every thread of each, net of its idle (the model's with its Go runtime). A ratio is model/real, judged (✓ or ✗) where the issue asks it to be within %.2f-%.2f. ", Low, High)
	mw.Printf("The model shares a CPython-like GIL between its server thread, its main loop and its CURVE ZAP handler, as the scheduler's threads share one (wfs/gil.go): a handshake made while the scheduler drains waits for it, so concurrent fresh clients' next requests often arrive after the drain has ended and wait out the 0.2 s sleep, which sets the p90s. ")
	mw.Printf("Whether a drain goes on turns on a few milliseconds of a client's turnaround, so the p50 of concurrent loads changes from round to round on both sides of this machine, shared with other work (the rounds' p50s are listed under the table); the sequential and trickle loads, where every request is served alone, are steady.\n")
	c.WriteTable(mw)
	mw.Printf("\nMade %s by: `%s`", c.Made.UTC().Format("2006-01-02 15:04 MST"), c.Command)
	if file != "" {
		mw.Printf(" (%s)", file)
	}
	mw.Printf("\n")
	return mw.Err()
}

func msList(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, ", ") + " ms"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
