package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/process"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// DriveConfig is one loader's run (authbench load): its share of a
// scenario's clients against a WFS that is already running, named by its
// contact file on a shared file system.
type DriveConfig struct {
	// Scenario is the whole scenario; Drive runs share Shard of Shards.
	Scenario      *Scenario
	Shard, Shards int
	// Scheme is the WFS's scheme (its contact file names it).
	Scheme *schemes.Scheme
	// Contact is the WFS's contact file.
	Contact string
	// WorkDir holds this loader's client state (its own, per loader).
	WorkDir string
	// Node names the host this loader runs on.
	Node string
	// Progress receives a progress line every ProgressEvery; nil is quiet.
	Progress      io.Writer
	ProgressEvery time.Duration
	// ClientBinary and PythonClient are as in Config.
	ClientBinary, PythonClient string
	Leeway                     time.Duration
}

// Drive runs the loader's share of the scenario against the running WFS
// and returns its result, tagged with the shard, the node and the WFS it
// shared. Job lifecycle requests (submit, start, end with revocation) go
// to the WFS over its owner-only control channel; job credentials are read
// from the run directory on the shared file system, as Cylc's job files
// are. The WFS's figures are its own account over this loader's window:
// loaders of one WFS share them, and a merge takes them once
// (results.MergeRuns). No clock is compared across nodes.
func Drive(ctx context.Context, dc DriveConfig) (*results.Result, error) {
	// The whole scenario's load: every shard sends as the same CLI users.
	if err := CheckCodeRate(dc.Scenario, dc.Scheme, 0); err != nil {
		return nil, err
	}
	sc, err := dc.Scenario.Shard(dc.Shard, dc.Shards)
	if err != nil {
		return nil, err
	}
	srv, err := process.Attach(dc.Contact)
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Stop() }()
	if got := srv.Contact()[wfs.ContactScheme]; got != "" && got != dc.Scheme.Name() && got != dc.Scheme.Spec().Canonical() {
		return nil, fmt.Errorf("%s: the WFS serves scheme %q, not %q", dc.Contact, got, dc.Scheme.Name())
	}
	root := srv.Contact()[wfs.ContactRunDir]
	if root == "" {
		root = filepath.Dir(filepath.Dir(dc.Contact))
	}
	files, statusFiles := wfs.NewFiles(true), wfs.NewFiles(false)
	// The WFS's file-system model, as its contact file names it, costs
	// this loader's file operations too.
	fsName := srv.Contact()[wfs.ContactFSModel]
	if fsName != "" {
		m, err := wfs.ParseFSModel(fsName)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dc.Contact, wfs.ContactFSModel, err)
		}
		files.Model, statusFiles.Model = m, m
	}
	// Job messages are sent as the scenario's model takes them, as in a
	// run the engine starts.
	model, err := sc.Server.WFSModel()
	if err != nil {
		return nil, err
	}
	state := filepath.Join(dc.WorkDir, "client-state")
	if err := os.MkdirAll(state, 0o700); err != nil {
		return nil, fmt.Errorf("client state: %w", err)
	}
	cfg := Config{Scenario: sc, Schemes: []*schemes.Scheme{dc.Scheme}, WorkDir: dc.WorkDir,
		Progress: dc.Progress, ProgressEvery: dc.ProgressEvery, ClientBinary: dc.ClientBinary,
		PythonClient: dc.PythonClient, Leeway: dc.Leeway, ShipRemote: true}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 5 * time.Second
	}
	if dc.Shards > 1 {
		cfg.JobPrefix = fmt.Sprintf("s%d-", dc.Shard)
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("client zmq context: %w", err)
	}
	defer func() { _ = zctx.Term() }()
	if err := zctx.SetMaxSockets(clientMaxSockets); err != nil {
		return nil, fmt.Errorf("client zmq context: max sockets: %w", err)
	}
	ss := &session{cfg: cfg, scheme: dc.Scheme, files: files, run: &wfs.RunDir{Root: root, Files: files},
		stateDir: state, srv: srv, model: model, zctx: zctx, workflow: srv.Contact()[wfs.ContactWorkflow], statusFiles: statusFiles, fs: fsName}
	s0, err := srv.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats from the WFS: %w", err)
	}
	label := fmt.Sprintf("%s %s (shard %d/%d)", sc.Name, dc.Scheme.Name(), dc.Shard, dc.Shards)
	res, runErr := ss.measure(ctx, sc, label)
	if res == nil {
		return nil, runErr
	}
	server := ss.last.Files.Sub(s0.Files)
	res.Round = 1
	res.Files = addFiles(ss.last.Files, files.Stats(), ss.statusFiles.Stats())
	res.Files = res.Files.Sub(s0.Files)
	res.ServerFiles = &server
	res.Shard = &results.Shard{Index: dc.Shard, Count: dc.Shards, Node: dc.Node,
		Server: srv.Contact()[wfs.ContactHost] + ":" + srv.Contact()[wfs.ContactPID]}
	if ctx.Err() != nil {
		res.Partial = true
		runErr = errors.Join(runErr, ctx.Err())
	}
	return res, runErr
}
