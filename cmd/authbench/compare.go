package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/authbench/authbench/compare"
	"github.com/authbench/authbench/results"
)

// runCompare is `authbench compare OLD NEW`: per (scheme, op), the change
// in p50, p99 and throughput with a Mann-Whitney U test over rounds, as
// markdown. With -fail-on-regression PCT it exits 1 when a regression
// exceeds PCT percent.
func runCompare(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", stderr)
	fail := fs.Float64("fail-on-regression", -1, "exit 1 when p50, p99 or throughput worsens by more than `PCT` percent (significantly, or in every round when the rounds are too few to test)")
	alpha := fs.Float64("alpha", compare.DefaultAlpha, "significance `level` of the Mann-Whitney U test")
	if err := parse(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("compare: want OLD and NEW results DIRs, got %d argument(s)", fs.NArg())
	}
	if *alpha <= 0 || *alpha >= 1 {
		return fmt.Errorf("compare: -alpha %g: want a level between 0 and 1", *alpha)
	}
	failSet := false
	fs.Visit(func(f *flag.Flag) { failSet = failSet || f.Name == "fail-on-regression" })
	if failSet && *fail < 0 {
		return fmt.Errorf("compare: -fail-on-regression %g: want a percentage of 0 or more", *fail)
	}
	old, err := results.Read(fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := results.Read(fs.Arg(1))
	if err != nil {
		return err
	}
	opts := compare.Options{Alpha: *alpha}
	if failSet {
		opts.Threshold = *fail
		if *fail == 0 {
			opts.Threshold = -1 // any worsening
		}
	}
	c, err := compare.Runs(old, cur, opts)
	if err != nil {
		return err
	}
	if err := c.WriteMarkdown(stdout); err != nil {
		return err
	}
	if regs := c.Regressions(); failSet && len(regs) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("compare: %d regression(s) beyond %g%%", len(regs), *fail)}
	}
	return nil
}
