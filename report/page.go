package report

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/authbench/authbench/conformance"
	"github.com/authbench/authbench/cylccal"
	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/review"
	"github.com/authbench/authbench/site"
	"github.com/authbench/authbench/vocab"
)

// Inputs are what a report is made from. Runs are required; the rest is
// shown when set.
type Inputs struct {
	// Runs are the results; each scenario must appear in one run only
	// (merge node runs first: results.MergeRuns).
	Runs []*results.Run
	// Summary is the design review of Runs (review.Evaluate).
	Summary *review.Model
	// Capacity is a capacity search (capacity.json).
	Capacity *results.CapacityRun
	// Projection is the schemes' costs projected onto a site.
	Projection *site.Projection
	// Conformance is a conformance matrix, read from ConformanceFile.
	Conformance     *conformance.Matrix
	ConformanceFile string
	// CylcCalibration is the cylc model against a real Cylc scheduler
	// (authbench calibrate -cylc), read from CylcCalibrationFile.
	CylcCalibration     *cylccal.Calibration
	CylcCalibrationFile string
	// Command is the command line that made the report.
	Command string
	// PlotLink, when set, is the path the page links its plots by
	// (relative to the report); WritePlots draws them.
	PlotLink string
}

// Page is the whole report, computed before it is rendered.
type Page struct {
	// Scenarios name the scenarios in the order of their sections, and
	// MaxRounds is the most rounds any scheme ran.
	Scenarios []string `json:"scenarios"`
	MaxRounds int      `json:"max_rounds"`
	// Notices are what the reader must know of the runs first: missing
	// shards, why rounds stopped, interrupted runs.
	Notices []Notice `json:"notices,omitempty"`
	// Summary is the design review.
	Summary  *review.Model `json:"summary,omitempty"`
	Sections []*Section    `json:"sections"`
	// Capacity is the capacity search, its plots linked by PlotLink.
	Capacity    *results.CapacityRun `json:"capacity,omitempty"`
	PlotLink    string               `json:"plot_link,omitempty"`
	Projection  *site.Projection     `json:"projection,omitempty"`
	Conformance *Conformance         `json:"conformance,omitempty"`
	// CylcCalibration is the section "The Cylc model against Cylc
	// VERSION".
	CylcCalibration *CylcCalibration `json:"cylc_calibration,omitempty"`
	// Environment has a column per source run.
	Environment []results.Source `json:"environment"`
	// Commands are every command line behind a figure, the report's last.
	Commands []string `json:"commands"`
}

// Notice kinds.
const (
	NoticeMissingShards = "missing-shards"
	NoticeStop          = "stop"
	NoticePartial       = "partial"
)

// Notice is one thing the reader must know of a run before its figures.
type Notice struct {
	Kind    string `json:"kind"`
	Command string `json:"command"`
	// Detail is the missing shards ("1/3, 2/3") or why rounds stopped.
	Detail string `json:"detail,omitempty"`
}

// Conformance is a conformance matrix and the file it was read from.
type Conformance struct {
	Matrix *conformance.Matrix `json:"matrix"`
	File   string              `json:"file,omitempty"`
}

// CylcCalibration is a calibration of the cylc model against a real Cylc
// scheduler and the file it was read from.
type CylcCalibration struct {
	Calibration *cylccal.Calibration `json:"calibration"`
	File        string               `json:"file,omitempty"`
}

// Section is one scenario's tables.
type Section struct {
	Name    string `json:"name"`
	Rounds  int    `json:"rounds"`
	Schemes int    `json:"schemes"`
	// Commands made it; Sources counts the runs it was merged from.
	Commands []string     `json:"commands"`
	Sources  int          `json:"sources"`
	Started  time.Time    `json:"started,omitzero"`
	Ended    time.Time    `json:"ended,omitzero"`
	Latency  []LatencyRow `json:"latency"`
	// ClosedLoop is set when some latency row came from a closed-loop
	// group; Saturated lists WFSs that used most of their CPU.
	ClosedLoop bool         `json:"closed_loop,omitempty"`
	Saturated  []Saturation `json:"saturated,omitempty"`
	// Works are the units of work the scenario's operations were (a
	// command, a job message, a transfer): each gets per-operation
	// columns in Resources, in this order.
	Works []figures.Work `json:"works,omitempty"`
	// Mixed is set when its clients sent more than one kind of operation,
	// whose shares of the WFS's CPU cannot be told apart.
	Mixed     bool          `json:"mixed,omitempty"`
	Resources []ResourceRow `json:"resources"`
	// Baseline is the scheme overheads are taken against ("" for none).
	Baseline  string        `json:"baseline,omitempty"`
	Overheads []OverheadRow `json:"overheads,omitempty"`
	Plots     []Plot        `json:"plots,omitempty"`
}

// LatencyRow is one op of one scheme. Latencies are in nanoseconds,
// medians over rounds with their range.
type LatencyRow struct {
	Scheme     string           `json:"scheme"`
	Op         string           `json:"op"`
	ClosedLoop bool             `json:"closed_loop,omitempty"`
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	P50        vocab.Spread     `json:"p50_ns"`
	P90        vocab.Spread     `json:"p90_ns"`
	P99        vocab.Spread     `json:"p99_ns"`
	// P999 and UncorrectedP99 are medians over rounds; Max the largest
	// of any round.
	P999           float64      `json:"p99_9_ns"`
	Max            float64      `json:"max_ns"`
	UncorrectedP99 float64      `json:"p99_uncorrected_ns"`
	Rate           vocab.Spread `json:"rate_per_s"`
	// Fewest is the fewest operations of any round: a tail is quoted only
	// where it reaches results.MinOps.
	Fewest int64 `json:"fewest_ops"`
}

// Saturation is a WFS that used more than its CPU's saturatedShare.
type Saturation struct {
	Scheme string  `json:"scheme"`
	Share  float64 `json:"share"`
}

// ResourceRow is one scheme's resources, per round (median and range over
// rounds). Durations are nanoseconds; per-job figures are per job.
type ResourceRow struct {
	Scheme   string       `json:"scheme"`
	Requests vocab.Spread `json:"requests"`
	// PerOp are the per-operation costs, one per Section.Works.
	PerOp             []OpCost     `json:"per_operation"`
	CPUPerRequest     vocab.Spread `json:"wfs_cpu_per_request_ns"`
	Placement         string       `json:"wfs_cpus"`
	Share             vocab.Spread `json:"wfs_cpu_share"`
	Handshake         vocab.Spread `json:"wfs_cpu_per_handshake_ns"`
	ClientPerRequest  vocab.Spread `json:"client_cpu_per_request_ns"`
	BytesAdded        vocab.Spread `json:"bytes_added_per_request"`
	FilesPerJob       vocab.Spread `json:"files_created_per_job"`
	PeakLive          vocab.Spread `json:"peak_live_files"`
	FsyncsPerJob      vocab.Spread `json:"fsyncs_per_job"`
	FileOpsPerRequest vocab.Spread `json:"file_ops_per_request"`
	PeakRSSMB         vocab.Spread `json:"client_peak_rss_mb"`
}

// OpCost is what one operation (a command, a job message) cost: the WFS's
// CPU (ns) and requests over the window per operation in it, and the file
// operations over the run per Files (the operation, or the job for a job
// message: files are counted over the run, job messages over the window).
type OpCost struct {
	Work     figures.Work `json:"per"`
	CPU      vocab.Spread `json:"wfs_cpu_ns"`
	Requests vocab.Spread `json:"requests"`
	Files    figures.Work `json:"files_per"`
	FileOps  vocab.Spread `json:"file_ops"`
}

// OverheadRow is one scheme against the baseline: an op's latency ratios
// and tail added (Op set), or the ratio of WFS CPU per unit of work (Per
// set). A ratio is nil where it is undefined.
type OverheadRow struct {
	Scheme string       `json:"scheme"`
	Op     string       `json:"op,omitempty"`
	Per    figures.Work `json:"per,omitempty"`
	// Tail is the percentile the tail columns read: p99 where every round
	// of both had 1,000 operations, else p90.
	Tail      string       `json:"tail,omitempty"`
	P50Ratio  *float64     `json:"p50_ratio,omitempty"`
	TailRatio *float64     `json:"tail_ratio,omitempty"`
	TailAdded vocab.Spread `json:"tail_added_ns"`
	RateRatio *float64     `json:"rate_ratio,omitempty"`
	CPURatio  *float64     `json:"wfs_cpu_ratio,omitempty"`
}

// Plot is one plot the page links: its file (under the plot link) and
// title.
type Plot struct {
	File  string `json:"file"`
	Title string `json:"title"`
}

// Build computes the page of in.
func Build(in Inputs) (*Page, error) {
	if len(in.Runs) == 0 {
		return nil, fmt.Errorf("report: no runs")
	}
	scs, err := figures.Collect(in.Runs)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	p := &Page{Summary: in.Summary, Capacity: in.Capacity, Projection: in.Projection, PlotLink: in.PlotLink}
	if in.Conformance != nil {
		p.Conformance = &Conformance{Matrix: in.Conformance, File: in.ConformanceFile}
	}
	if in.CylcCalibration != nil {
		p.CylcCalibration = &CylcCalibration{Calibration: in.CylcCalibration, File: in.CylcCalibrationFile}
	}
	for _, sc := range scs {
		p.Scenarios = append(p.Scenarios, sc.Name)
		p.MaxRounds = max(p.MaxRounds, sc.Rounds)
		s := section(sc)
		if in.PlotLink != "" {
			for _, j := range planPlots(sc) {
				s.Plots = append(s.Plots, j.Plot)
			}
		}
		p.Sections = append(p.Sections, s)
	}
	for _, run := range in.Runs {
		if len(run.Missing) > 0 {
			p.Notices = append(p.Notices, Notice{Kind: NoticeMissingShards, Command: run.Command, Detail: joinComma(run.Missing)})
		}
		if run.Stop != "" {
			p.Notices = append(p.Notices, Notice{Kind: NoticeStop, Command: run.Command, Detail: run.Stop})
		}
		for _, s := range run.Inputs() {
			if s.Partial {
				p.Notices = append(p.Notices, Notice{Kind: NoticePartial, Command: s.Command})
			}
		}
		p.Environment = append(p.Environment, run.Inputs()...)
		for _, s := range run.Inputs() {
			if !contains(p.Commands, s.Command) {
				p.Commands = append(p.Commands, s.Command)
			}
		}
	}
	if in.Command != "" {
		p.Commands = append(p.Commands, in.Command)
	}
	return p, nil
}

// JSON writes the page as indented JSON: everything the markdown shows.
func (p *Page) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// ReadJSON reads a page JSON wrote.
func ReadJSON(r io.Reader) (*Page, error) {
	var p Page
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &p, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
