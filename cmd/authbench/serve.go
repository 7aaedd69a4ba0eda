package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/schemes"
)

// runServe is `authbench serve`: a WFS for one scheme, with its owner-only
// control channel, until SIGINT/SIGTERM.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	config := process.ServeFlags(fs, schemes.Builtin())
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	spec := cfg.Scheme.Name()
	cfg.Log = stderr
	cfg.Ready = func(contact, endpoint, control string) {
		fmt.Fprintf(stdout, "serving %s on %s\ncontact file: %s\n%s%s\n", spec, endpoint, contact, process.ControlLinePrefix, control)
	}
	return process.Serve(ctx, cfg)
}
