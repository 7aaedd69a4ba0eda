package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/authbench/authbench/cylccal"
	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/scenarios"
)

// runCalibrate is `authbench calibrate`: a bare zmq4 REQ/REP loop and the
// plain scheme through the engine, interleaved in rounds, with their ratios
// against the targets.
func runCalibrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("calibrate", stderr)
	n := fs.Int("n", scenarios.DefaultCalibrateN, "round trips per loop per round")
	rounds := fs.Int("rounds", scenarios.DefaultCalibrateRounds, "interleaved `rounds` (with -cylc: of the concurrent loads, default 3)")
	pin := fs.String("pin", "", "pin the process to `CPUS` (e.g. 0, 0,1 or 0-1)")
	cylc := fs.String("cylc", "", "a real Cylc 8 scheduler's contact `FILE`: run the Cylc calibration loads against it and the cylc model instead (calibrate_cylc.go)")
	out := fs.String("o", "", "with -cylc, write the calibration as JSON to `FILE` (authbench report renders DIR/"+cylccal.FileName+")")
	quiet := fs.Bool("quiet", false, "with -cylc, no progress lines on stderr")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *cylc != "" {
		cylcRounds := 0 // each load's own
		if flagSet(fs, "rounds") {
			cylcRounds = *rounds
		}
		return runCalibrateCylc(ctx, *cylc, *out, *quiet, cylcRounds, args, stdout, stderr)
	}
	if *out != "" || *quiet {
		return fmt.Errorf("-o and -quiet go with -cylc")
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: want at least 1", *n)
	}
	if *rounds < 1 {
		return fmt.Errorf("-rounds %d: want at least 1", *rounds)
	}
	if *pin != "" {
		if err := process.Pin(*pin); err != nil {
			return err
		}
	}
	res, err := scenarios.Calibrate(ctx, scenarios.CalibrateConfig{N: *n, Rounds: *rounds})
	if err != nil {
		return err
	}
	return writeCalibration(stdout, &res)
}

// writeCalibration prints the loops and the ratios as markdown tables.
func writeCalibration(w io.Writer, res *scenarios.CalibrateResult) error {
	fmt.Fprintf(w, "calibration: %d rounds x %d round trips, %d B payload, GOMAXPROCS %d, CPUs %s\n\n",
		res.Rounds, res.N, res.Payload, res.GOMAXPROCS, res.Affinity)
	t := mdtable.New(w, "loop", "request B", "round trips", "p50 (median)", "p50 min-max", "p99", "ops/s (median)", "ops/s min-max")
	loops := []*scenarios.LoopResult{&res.Bare, &res.Engine}
	if res.Python != nil {
		loops = append(loops, res.Python)
	}
	for _, l := range loops {
		d := func(f float64) string { return mdtable.Duration(time.Duration(f)) }
		if err := t.Append([]string{
			l.Name, strconv.Itoa(l.RequestBytes), strconv.FormatInt(l.Count, 10),
			d(l.P50.Median), d(l.P50.Min) + "-" + d(l.P50.Max), mdtable.Duration(l.P99),
			fmt.Sprintf("%.0f", l.Rate.Median), fmt.Sprintf("%.0f-%.0f", l.Rate.Min, l.Rate.Max),
		}); err != nil {
			return fmt.Errorf("calibrate table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("calibrate table: %w", err)
	}
	fmt.Fprintln(w)
	rt := mdtable.New(w, "ratio", "value", "target", "verdict")
	ratios := []*scenarios.Ratio{&res.P50Ratio, &res.RateRatio}
	if res.BarePyP50 != nil {
		ratios = append(ratios, res.BarePyP50, res.BarePyRate)
	}
	for _, r := range ratios {
		target, verdict := r.Target, "met"
		if target == "" {
			target, verdict = "-", "-"
		} else if !r.Met {
			verdict = "not met"
		}
		if err := rt.Append([]string{r.Name, fmt.Sprintf("%.3f", r.Value), target, verdict}); err != nil {
			return fmt.Errorf("calibrate table: %w", err)
		}
	}
	if err := rt.Render(); err != nil {
		return fmt.Errorf("calibrate table: %w", err)
	}
	if res.PythonSkipped != "" {
		fmt.Fprintf(w, "\npyzmq loop skipped: %s\n", res.PythonSkipped)
	}
	return nil
}
