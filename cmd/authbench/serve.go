package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
)

// runServe is `authbench serve`: a WFS for one scheme until SIGINT/SIGTERM.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	spec := fs.String("scheme", "", "scheme `SPEC` (see authbench list)")
	runDir := fs.String("run-dir", "", "workflow run `DIR` (made 0700 if missing)")
	listen := fs.String("listen", "", "`ENDPOINT` to bind (tcp://*:PORT or ipc://PATH); default a free port in 43001-43101 on 127.0.0.1")
	workers := fs.Int("server-workers", 2, "verification worker `goroutines`")
	leeway := fs.Duration("leeway", 0, "token schemes' clock-skew allowance on exp, nbf and iat (default 30s)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *spec == "" {
		return errors.New("serve: -scheme is required")
	}
	if *runDir == "" {
		return errors.New("serve: -run-dir is required")
	}
	if *leeway < 0 {
		return fmt.Errorf("serve: -leeway %s: must not be negative", *leeway)
	}
	sc, err := schemes.Builtin().Parse(*spec)
	if err != nil {
		return fmt.Errorf("-scheme: %w", err)
	}
	return scenarios.Serve(ctx, scenarios.ServeConfig{
		Scheme: sc, RunDir: *runDir, Listen: *listen, Workers: *workers, Leeway: *leeway,
		Ready: func(contact, endpoint string) {
			fmt.Fprintf(stdout, "serving %s on %s\ncontact file: %s\n", *spec, endpoint, contact)
		},
	})
}
