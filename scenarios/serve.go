package scenarios

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// ServeConfig is a standalone WFS (`authbench serve`).
type ServeConfig struct {
	Scheme  *schemes.Scheme
	RunDir  string
	Listen  string
	Workers int
	// Leeway is the token schemes' clock-skew allowance (0: their default).
	Leeway time.Duration
	// Ready is called once the contact file is written.
	Ready func(contactPath, endpoint string)
}

// Serve runs a WFS for one scheme until ctx is cancelled, then removes its
// contact file and the scheme's credentials.
func Serve(ctx context.Context, cfg ServeConfig) error {
	root, err := filepath.Abs(cfg.RunDir)
	if err != nil {
		return fmt.Errorf("-run-dir: %w", err)
	}
	run, err := wfs.NewRunDir(root, wfs.NewFiles(true))
	if err != nil {
		return fmt.Errorf("-run-dir: %w", err)
	}
	workflow := filepath.Base(root)
	guard, err := cfg.Scheme.Server(ctx, schemes.Env{Run: run, Workflow: workflow, Leeway: cfg.Leeway})
	if err != nil {
		return err
	}
	srv, err := wfs.NewServer(wfs.ServerConfig{Run: run, Workflow: workflow, Listen: cfg.Listen, Guard: guard, Workers: cfg.Workers})
	if err != nil {
		return errors.Join(err, guard.Close())
	}
	if cfg.Ready != nil {
		cfg.Ready(run.ContactPath(), srv.Endpoint())
	}
	serveErr := srv.Serve(ctx)
	return errors.Join(serveErr, guard.Close())
}
