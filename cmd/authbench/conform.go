package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/conformance"
	"github.com/authbench/authbench/schemes"
)

// runConform is `authbench conform`: the attack catalogue on every scheme
// given (every example scheme by default), as a markdown or JSON matrix. It
// exits 1 when a claim a scheme declares fails.
func runConform(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("conform", stderr)
	list := fs.String("schemes", "", "comma-separated scheme `SPECs` (default: every example in authbench list)")
	format := fs.String("format", "md", "output `format`: md or json")
	cases := fs.String("cases", "", "comma-separated case `IDs` to run (default: the whole catalogue)")
	parallel := fs.Int("parallel", 0, "cells run at once (`N`; 0: 8)")
	showCases := fs.Bool("list", false, "list the catalogue and exit")
	verbose := fs.Bool("v", false, "print each cell to stderr as it finishes")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *format != "md" && *format != "json" {
		return fmt.Errorf("conform: -format %q: want md or json", *format)
	}
	if *parallel < 0 {
		return fmt.Errorf("conform: -parallel %d: want 0 or more", *parallel)
	}
	if *showCases {
		t := mdtable.New(stdout, "case", "claim", "attack")
		for _, c := range conformance.Catalogue() {
			if err := t.Append([]string{c.ID, c.Claim, c.Title}); err != nil {
				return err
			}
		}
		return t.Render()
	}
	reg := schemes.Builtin()
	specs := *list
	if specs == "" {
		specs = strings.Join(reg.Examples(), ",")
	}
	scs, err := reg.ParseList(specs)
	if err != nil {
		return fmt.Errorf("-schemes: %w", err)
	}
	opt := conformance.Options{Cases: vocab.SplitList(*cases), Parallel: *parallel}
	if *verbose {
		opt.Progress = func(c conformance.Cell) {
			fmt.Fprintf(stderr, "%-28s %-36s %-4s %s\n", c.Scheme, c.Case, c.Outcome, c.Detail)
		}
	}
	m, err := conformance.Run(ctx, scs, opt)
	if err != nil {
		if m == nil || !errors.Is(err, context.Canceled) {
			return err
		}
		return &exitError{code: 130, err: fmt.Errorf("interrupted: %w", err)}
	}
	if *format == "json" {
		err = m.WriteJSON(stdout)
	} else {
		err = m.WriteMarkdown(stdout)
	}
	if err != nil {
		return err
	}
	if n := m.Failures(); n > 0 {
		return &exitError{code: 1, err: fmt.Errorf("conform: %d declared claim(s) fail (see the Failures table)", n)}
	}
	return nil
}
