package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/conformance"
	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/report"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/review"
	"github.com/authbench/authbench/site"
)

// runReport is `authbench report`: read DIR/results.json for every DIR,
// merge runs of the same scenarios, and write the markdown report (with SVG
// plots beside -o FILE) or Go benchmark lines.
func runReport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	out := fs.String("o", "", "write the report to `FILE` (plots go to FILE's directory); default stdout")
	format := fs.String("format", "md", "output `format`: md (markdown report), json (the whole report as data: the design review, every scenario table, capacity, projection and conformance) or bench (Go benchmark lines for benchstat)")
	capFile := fs.String("capacity", "", "capacity `FILE` (authbench capacity's capacity.json) to include; default DIR/capacity.json when present")
	siteName := fs.String("site", "metoffice-2016", "project the schemes' costs onto site `NAME|FILE` (see authbench project -list); none to leave it out")
	wlcgSite := fs.String("wlcg-site", "fts-run3", "compute the WLCG issuer load model (Q-wlcg) at WLCG site `NAME|FILE`'s transfer rate, queue waits and token lifetimes (built-in: "+strings.Join(issuerload.SiteNames(), ", ")+"); none to leave it out")
	conf := fs.String("conformance", "", "conformance matrix `FILE` (authbench conform -format json) to include; default DIR/conformance.json when present")
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("report: want at least one results DIR")
	}
	if *format != "md" && *format != "bench" && *format != "json" {
		return fmt.Errorf("report: -format %q: want md, json or bench", *format)
	}
	if *out != "" {
		if err := checkReportOut(*out, fs.Args()); err != nil {
			return err
		}
	}
	// A directory of result directories (REPORT-data) stands for each of
	// them; it is still searched for capacity.json and conformance.json.
	var resDirs []string
	var empty []string // given directories that hold no results
	for _, d := range fs.Args() {
		ds, err := results.ResultDirs(d)
		if err != nil {
			// A loader killed before it wrote (its directory holds only
			// work-*) is a missing shard among the others, not a reason to
			// report nothing: the merge names it.
			if st, serr := os.Stat(d); serr == nil && st.IsDir() && fs.NArg() > 1 {
				empty = append(empty, d)
				fmt.Fprintf(stderr, "report: %s holds no results.json (a run or loader that did not finish?): left out\n", d)
				continue
			}
			return fmt.Errorf("report: %w", err)
		}
		resDirs = append(resDirs, ds...)
	}
	if len(resDirs) == 0 {
		return fmt.Errorf("report: none of %s holds a results.json", strings.Join(empty, ", "))
	}
	runs, err := readMerged(resDirs)
	if err != nil {
		return err
	}
	caps, err := readCapacity(*capFile, fs.Args())
	if err != nil {
		return err
	}
	var ws *issuerload.Site
	if *wlcgSite != "none" && *wlcgSite != "" {
		if ws, err = issuerload.LoadSite(*wlcgSite); err != nil {
			return fmt.Errorf("report: -wlcg-site: %w", err)
		}
	}
	var st *site.Site
	if *siteName != "none" && *siteName != "" {
		if st, err = site.Load(*siteName); err != nil {
			return fmt.Errorf("report: -site: %w", err)
		}
	}
	cylcCal, cylcCalFile, err := readCylcCalibration(fs.Args())
	if err != nil {
		return err
	}
	model, err := review.Evaluate(runs, review.Options{Capacity: caps, WLCG: ws, PythonClient: pythonClientOf(cylcCal)})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	var buf bytes.Buffer
	if *format == "bench" {
		for _, r := range runs {
			if err := results.FormatBench(&buf, r); err != nil {
				return err
			}
		}
	} else {
		in := report.Inputs{Runs: runs, Summary: model, Command: "authbench report " + strings.Join(args, " ")}
		if in.Conformance, in.ConformanceFile, err = readConformance(*conf, fs.Args()); err != nil {
			return err
		}
		in.CylcCalibration, in.CylcCalibrationFile = cylcCal, cylcCalFile
		if len(caps) > 0 {
			in.Capacity = caps[0]
		}
		if st != nil {
			p, err := site.ProjectRuns(st, runs, caps)
			if err != nil && !errors.Is(err, site.ErrNoCPUFigure) {
				return fmt.Errorf("report: -site %s: %w", *siteName, err)
			}
			in.Projection = p
		}
		plotDir := ""
		if *out != "" && *format == "md" {
			stem := strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
			in.PlotLink = stem + "-plots"
			plotDir = filepath.Join(filepath.Dir(*out), in.PlotLink)
		}
		page, err := report.Build(in)
		if err != nil {
			return err
		}
		if *format == "json" {
			err = page.JSON(&buf)
		} else {
			err = page.Markdown(&buf)
		}
		if err != nil {
			return err
		}
		if plotDir != "" {
			if err := report.WritePlots(plotDir, in); err != nil {
				return err
			}
		}
	}
	if *out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	fmt.Fprintf(stderr, "report: %s\n", *out)
	return nil
}

// readMerged reads every DIR's results.json and merges the runs that hold
// the same scenarios (nodes of one run). Runs of different scenario sets
// are kept apart; two sets that share a scenario are an error.
func readMerged(dirs []string) ([]*results.Run, error) {
	var ins []site.Input
	for _, d := range dirs {
		r, err := results.Read(d)
		if err != nil {
			return nil, err
		}
		ins = append(ins, site.Input{Dir: d, Run: r})
	}
	merged, err := site.MergeInputs(ins)
	if err != nil {
		return nil, err
	}
	out := make([]*results.Run, 0, len(merged))
	for _, in := range merged {
		out = append(out, in.Run)
	}
	return out, nil
}

// readConformance reads the conformance matrix to include: the -conformance
// file, else the first DIR/conformance.json found; nil when there is none.
func readConformance(file string, dirs []string) (*conformance.Matrix, string, error) {
	if file = inputFile(file, dirs, "conformance.json"); file == "" {
		return nil, "", nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", fmt.Errorf("report: -conformance: %w", err)
	}
	defer f.Close()
	m, err := conformance.ReadMatrix(f)
	if err != nil {
		return nil, "", fmt.Errorf("report: %s: %w", file, err)
	}
	return m, file, nil
}

// readCapacity reads the capacity search the report includes (-capacity,
// else DIR/capacity.json when present); none is no error.
func readCapacity(file string, dirs []string) ([]*results.CapacityRun, error) {
	if file = inputFile(file, dirs, "capacity.json"); file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("report: -capacity: %w", err)
	}
	var c results.CapacityRun
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("report: %s: %w", file, err)
	}
	if c.Schema != results.SchemaVersion {
		return nil, fmt.Errorf("report: %s: schema %d, want %d", file, c.Schema, results.SchemaVersion)
	}
	if len(c.Curves) == 0 {
		return nil, fmt.Errorf("report: %s holds no capacity curves: give -capacity the capacity.json that `authbench capacity` writes", file)
	}
	return []*results.CapacityRun{&c}, nil
}

// checkReportOut refuses a report path that would destroy data or fail
// half-way: a directory, one of the input files, or any results, capacity
// or conformance file (report -o out/results.json out overwrote the results
// with markdown). It runs before anything is written.
func checkReportOut(out string, dirs []string) error {
	if info, err := os.Stat(out); err == nil && info.IsDir() {
		return fmt.Errorf("report: -o %s is a directory; give a file such as %s", out, filepath.Join(out, "REPORT.md"))
	}
	switch filepath.Base(out) {
	case "results.json", "capacity.json", "conformance.json", "cylc-calibration.json":
		return fmt.Errorf("report: -o %s would overwrite a data file; give a markdown file such as REPORT.md", out)
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return fmt.Errorf("report: -o: %w", err)
	}
	for _, d := range dirs {
		for _, in := range []string{d, filepath.Join(d, "results.json")} {
			if a, err := filepath.Abs(in); err == nil && a == abs {
				return fmt.Errorf("report: -o %s is an input (%s); write the report elsewhere", out, d)
			}
		}
	}
	return nil
}

// inputFile is the flag's file, else the first DIR/name that exists, else "".
func inputFile(flagValue string, dirs []string, name string) string {
	if flagValue != "" {
		return flagValue
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
