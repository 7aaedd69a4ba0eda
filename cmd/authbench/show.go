package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/authbench/authbench/scenarios"
)

// runShow is `authbench show NAME`: a built-in scenario's YAML on stdout
// (docs/scenarios.md describes the format).
func runShow(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", stderr)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("show: want the NAME of a built-in scenario (authbench list names them)")
	}
	b, err := scenarios.BuiltinYAML(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("show: %w", err)
	}
	_, err = stdout.Write(b)
	return err
}
