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
	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/process"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
)

// cylcLoad is `authbench load` against a real Cylc 8 scheduler (issue 22):
// the contact file is one a scheduler wrote, not an authbench serve's.
type cylcLoad struct {
	contact    string
	scenario   string
	shard      int
	shards     int
	out        string
	quiet      bool
	clientCPUs string
	args       []string
}

// runLoadCylc loads a real scheduler through package cylcpeer: its own
// .service keys, Cylc's own ping query and message mutation, the
// scheduler's CPU and RSS from /proc. The result names the server
// "cylc-flow VERSION" and is written and summarised like any loader's.
func runLoadCylc(ctx context.Context, l cylcLoad, stdout, stderr io.Writer) error {
	c, err := cylcpeer.ReadContact(l.contact)
	if err != nil {
		return fmt.Errorf("-contact: %w", err)
	}
	if err := c.Alive(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	keys, err := cylcpeer.LoadKeys(c.ServiceDir)
	if err != nil {
		return fmt.Errorf("-contact %s: %w", l.contact, err)
	}
	sc, err := scenarios.Load(l.scenario)
	if err != nil {
		return err
	}
	share, err := sc.Shard(l.shard, l.shards)
	if err != nil {
		return fmt.Errorf("-shard: %w", err)
	}
	plan, err := cylcpeer.PlanFromScenario(share)
	if err != nil {
		return err
	}
	if l.clientCPUs != "" {
		orig, err := process.Affinity()
		if err != nil {
			return err
		}
		if err := process.Pin(l.clientCPUs); err != nil {
			return fmt.Errorf("-client-cpus: %w", err)
		}
		defer func() { _ = process.Pin(orig) }()
	}
	if err := os.MkdirAll(l.out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}
	var progress io.Writer
	if !l.quiet {
		progress = stderr
	}
	node, _ := os.Hostname()
	run := &results.Run{Schema: results.SchemaVersion, Tool: "authbench", Started: time.Now().UTC(),
		Command: "authbench load " + strings.Join(l.args, " "), Env: scenarios.Environment()}
	run.Env.ClientCPUs = l.clientCPUs
	res, rep, runErr := cylcpeer.Run(ctx, cylcpeer.RunConfig{Contact: c, Keys: keys, Plan: plan,
		Progress: progress, Node: node, Shard: l.shard, Shards: l.shards})
	run.Ended = time.Now().UTC()
	if res == nil {
		return fmt.Errorf("load: %w", runErr)
	}
	// The scheme is CURVE as Cylc 8 ships it: its spec and claims as
	// authbench's curve declares them, so that reports choose it alike.
	if scheme, err := schemes.Builtin().Parse("curve"); err == nil {
		spec, claims := scheme.Spec(), scheme.Claims()
		res.Spec, res.Claims = &spec, &claims
	}
	run.Env.ServerCPUs = ""
	if sp := res.ServerProcess; sp != nil {
		run.Env.ServerCPUs = sp.CPUs
	}
	run.Shard = res.Shard
	run.Results = []*results.Result{res}
	run.Partial = res.Partial
	path := filepath.Join(l.out, "results.json")
	if err := run.Write(path); err != nil {
		return errors.Join(runErr, err)
	}
	if err := results.WriteSummary(stdout, run); err != nil {
		return err
	}
	if err := writeCylcPhases(stdout, rep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\njob messages: %s-%s-NNNN (INFO) for %d live jobs; the scheduler logs each as (received)TEXT in %s\n",
		"authbench-load", rep.Tag, len(rep.Jobs), filepath.Join(c.RunDir, "log", "scheduler", "log"))
	fmt.Fprintf(stdout, "results: %s (shard %s on %s, server %s pid %d)\n", path, res.Shard, node, rep.Server, rep.PID)
	if ctx.Err() != nil {
		return &exitError{code: 130, err: fmt.Errorf("interrupted: partial results written to %s", path)}
	}
	if runErr != nil {
		return fmt.Errorf("load: %w", runErr)
	}
	return nil
}

// writeCylcPhases prints the scheduler's CPU per request type.
func writeCylcPhases(w io.Writer, rep *cylcpeer.Report) error {
	if len(rep.Phases) == 0 || rep.Phases[0].Window.Wall() == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%s (pid %d), idle %.2f%% of a CPU; CPU from its threads' schedstat (/proc/PID/task/*/schedstat; the WFS table above: utime+stime ticks):\n", rep.Server, rep.PID, 100*rep.IdleShare)
	t := mdtable.New(w, "op", "requests", "errors", "window", "scheduler CPU/request", "net of idle", "CPU share", "peak RSS")
	for _, ph := range rep.Phases {
		gross, net := ph.CPUPerRequest(rep.IdleShare)
		if err := t.Append([]string{ph.Op, fmt.Sprint(ph.Requests), fmt.Sprint(ph.Errors),
			mdtable.Duration(ph.Window.Wall()), mdtable.Duration(gross), mdtable.Duration(net),
			fmt.Sprintf("%.2f", ph.Window.Share()), fmt.Sprintf("%d kB", ph.Window.PeakRSSKB)}); err != nil {
			return err
		}
	}
	return t.Render()
}
