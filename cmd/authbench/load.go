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

	"github.com/authbench/authbench/cylcpeer"
	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// runLoad is `authbench load`: one loader's share of a scenario's clients
// against a WFS already running (authbench serve, on this node or another),
// named by its contact file on a shared file system. Each loader writes its
// own results.json, tagged with its node and shard; `authbench report`
// merges the shards' directories exactly and names any shard missing.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("load", stderr)
	contact := fs.String("contact", "", "the running WFS's contact `FILE` (RUN_DIR/.service/contact): an authbench serve's, or a real Cylc 8 scheduler's (~/cylc-run/WORKFLOW/.service/contact)")
	scenarioName := fs.String("scenario", "smoke", "built-in scenario `NAME` or YAML FILE")
	shard := fs.String("shard", "0/1", "this loader's share `I/N` of the scenario (0-based): rates, counts and jobs split N ways")
	out := fs.String("out", "", "output `DIR` for this loader's results.json (one per loader)")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	clientCPUs := fs.String("client-cpus", "", "pin this loader to `CPUS`")
	pyClient := fs.String("python-client", "", "`PATH` of scripts/cylc_message.py for process: python")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *contact == "" {
		return errors.New("load: -contact is required (the WFS's RUN_DIR/.service/contact)")
	}
	if *out == "" {
		return errors.New("load: -out is required (a directory of this loader's own)")
	}
	i, n, err := scenarios.ParseShard(*shard)
	if err != nil {
		return err
	}
	c, err := wfs.ReadContact(*contact)
	if err != nil {
		return fmt.Errorf("-contact: %w", err)
	}
	if cylcpeer.IsCylc(c) { // a real Cylc scheduler's (load_cylc.go)
		return runLoadCylc(ctx, cylcLoad{contact: *contact, scenario: *scenarioName, shard: i, shards: n,
			out: *out, quiet: *quiet, clientCPUs: *clientCPUs, args: args}, stdout, stderr)
	}
	spec := c[wfs.ContactScheme]
	if spec == "" {
		return fmt.Errorf("-contact %s: no %s in it (is it an authbench serve's?)", *contact, wfs.ContactScheme)
	}
	scheme, err := schemes.Builtin().Parse(spec)
	if err != nil {
		return fmt.Errorf("-contact %s: scheme: %w", *contact, err)
	}
	sc, err := scenarios.Load(*scenarioName)
	if err != nil {
		return err
	}
	if _, err := sc.Shard(i, n); err != nil {
		return fmt.Errorf("-shard: %w", err)
	}
	// Refused before -out is touched.
	if err := scenarios.CheckCodeRate(sc, scheme, 0); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	// Pinned only when asked: the WFS is not this process's to place.
	if *clientCPUs != "" {
		orig, err := process.Affinity()
		if err != nil {
			return err
		}
		if err := process.Pin(*clientCPUs); err != nil {
			return fmt.Errorf("-client-cpus: %w", err)
		}
		defer func() { _ = process.Pin(orig) }()
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	work, err := os.MkdirTemp(*out, "work-")
	if err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o700); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("load: locate the authbench binary for process-mode clients: %w", err)
	}
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	node, _ := os.Hostname()
	run := &results.Run{Schema: results.SchemaVersion, Tool: "authbench", Started: time.Now().UTC(),
		Command: "authbench load " + strings.Join(args, " "), Env: scenarios.Environment()}
	run.Env.ClientCPUs = *clientCPUs
	res, runErr := scenarios.Drive(ctx, scenarios.DriveConfig{Scenario: sc, Shard: i, Shards: n, Scheme: scheme,
		Contact: *contact, WorkDir: work, Node: node, Progress: progress, ClientBinary: self,
		PythonClient: findPythonClient(*pyClient, self)})
	run.Ended = time.Now().UTC()
	if res == nil {
		return fmt.Errorf("load: %w", runErr)
	}
	run.Shard = res.Shard
	run.Results = []*results.Result{res}
	run.Partial = res.Partial
	path := filepath.Join(*out, "results.json")
	if err := run.Write(path); err != nil {
		return errors.Join(runErr, err)
	}
	if err := results.WriteSummary(stdout, run); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nresults: %s (shard %s on %s)\n", path, res.Shard, node)
	if ctx.Err() != nil {
		return &exitError{code: 130, err: fmt.Errorf("interrupted: partial results written to %s", path)}
	}
	if runErr != nil {
		return fmt.Errorf("load: %w", runErr)
	}
	return nil
}
