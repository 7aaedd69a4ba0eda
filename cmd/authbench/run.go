package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
)

// runRun is `authbench run`: every scheme through a scenario on loopback,
// results.json in -out, and a markdown table on stdout.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	scenario := fs.String("scenario", "smoke", "built-in scenario `NAME` or YAML FILE")
	list := fs.String("schemes", "plain,passphrase", "comma-separated scheme `SPECS` (see authbench list)")
	out := fs.String("out", "out", "output `DIR` for results.json")
	repeat := fs.Int("repeat", 1, "run every scheme `N` times, interleaved")
	workers := fs.Int("server-workers", 2, "WFS verification worker `goroutines` (0 serves inline)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	keep := fs.Bool("keep", false, "keep the run directories under -out/work")
	pyClient := fs.String("python-client", "", "`PATH` of scripts/cylc_message.py for process: python (default: found beside the binary or in ./scripts)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *repeat < 1 {
		return fmt.Errorf("-repeat %d: want at least 1", *repeat)
	}
	if *workers < 0 {
		return fmt.Errorf("-server-workers %d: want 0 or more", *workers)
	}
	reg := schemes.Builtin()
	schs, err := reg.ParseList(*list)
	if err != nil {
		return fmt.Errorf("-schemes: %w", err)
	}
	sc, err := scenarios.Load(*scenario)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	work, err := os.MkdirTemp(*out, "work-")
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if err := os.Chmod(work, 0o700); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	if !*keep {
		defer os.RemoveAll(work)
	}
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	resPath := filepath.Join(*out, "results.json")
	runRec := &results.Run{
		Schema: results.SchemaVersion, Tool: "authbench", Started: time.Now().UTC(),
		Command: "authbench run " + strings.Join(args, " "),
		Env:     scenarios.Environment(),
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("run: locate the authbench binary for process-mode clients: %w", err)
	}
	res, runErr := scenarios.Run(ctx, scenarios.Config{
		Scenario: sc, Schemes: schs, Repeat: *repeat, WorkDir: work,
		ServerWorkers: *workers, Progress: progress, ClientBinary: self,
		PythonClient: findPythonClient(*pyClient, self),
	})
	runRec.Ended = time.Now().UTC()
	runRec.Results = res
	interrupted := ctx.Err() != nil
	runRec.Partial = interrupted
	if err := runRec.Write(resPath); err != nil {
		return errors.Join(runErr, err)
	}
	if err := results.WriteSummary(stdout, runRec); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults: %s\n", resPath)
	if interrupted {
		return &exitError{code: 130, err: fmt.Errorf("interrupted: partial results written to %s", resPath)}
	}
	if runErr != nil {
		return fmt.Errorf("run: %w", runErr)
	}
	crossed, err := scenarios.CheckThresholds(sc, res)
	if err != nil {
		return err
	}
	if len(crossed) > 0 {
		var lines []string
		for _, c := range crossed {
			lines = append(lines, c.String())
		}
		return &exitError{code: 3, err: fmt.Errorf("thresholds crossed: %s", strings.Join(lines, "; "))}
	}
	return nil
}

// findPythonClient returns the Python client script: the flag's value, else
// scripts/cylc_message.py beside the binary's directory or in the working
// directory; "" when none is found (process: python then fails clearly).
func findPythonClient(flagValue, self string) string {
	if flagValue != "" {
		return flagValue
	}
	for _, p := range []string{
		filepath.Join(filepath.Dir(self), "..", "scripts", "cylc_message.py"),
		filepath.Join("scripts", "cylc_message.py"),
	} {
		if _, err := os.Stat(p); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
		}
	}
	return ""
}
