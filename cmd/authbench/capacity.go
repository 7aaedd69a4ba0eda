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

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/plots"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// runCapacity is `authbench capacity`: each scheme's WFS, in a process of
// its own under a CPU quota, offered rising Poisson loads until its knee;
// capacity.json, CAPACITY.md and plots in -out, the table on stdout.
func runCapacity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("capacity", stderr)
	list := fs.String("schemes", "plain,curve,jwt:command", "comma-separated scheme `SPECS`")
	op := fs.String("op", "command", "what to offer: `command` (fresh connection each), message (job messages) or handshake (fresh, then reused at the same rate)")
	out := fs.String("out", "out/capacity", "output `DIR` for capacity.json, CAPACITY.md and plots")
	start := fs.Float64("start", 50, "first offered `RATE` (ops/s)")
	factor := fs.Float64("factor", 1.5, "each step offers `F` times the last")
	stepTime := fs.Duration("step", 6*time.Second, "each step's measured `TIME` (stretched up to -max-step for 1,000 ops, so that its p99 can be used)")
	maxStep := fs.Duration("max-step", 20*time.Second, "stretch a step to at most `TIME`")
	maxSteps := fs.Int("max-steps", 12, "at most `N` steps per scheme")
	workers := fs.Int("workers", 64, "the load generator's concurrent `CLIENTS`")
	serverCPUs := fs.String("server-cpus", "", "pin each WFS process to `CPUS` (default 0 on 2+ CPUs)")
	clientCPUs := fs.String("client-cpus", "", "pin the load generator to `CPUS` (default the rest)")
	quota := fs.Float64("server-quota", 0.5, "cap each WFS process at `CPUS` of CPU time (cgroup; 0 for none) so that the load generator can saturate it")
	serverWorkers := fs.Int("server-workers", 2, "WFS verification worker `goroutines`")
	model := fs.String("model", wfs.ModelNames()[0], "the WFS's serving `MODEL`: "+wfs.ModelUsage())
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	// Written so that NaN fails each check (NaN compares false): -start NaN
	// ran "NaN/s" steps and ended in "json: unsupported value: NaN".
	case !(*start > 0 && *start <= 1e6):
		return fmt.Errorf("-start %g: want a rate in (0, 1e6] ops/s", *start)
	case !(*factor > 1 && *factor <= 10):
		return fmt.Errorf("-factor %g: want more than 1 and at most 10", *factor)
	case *stepTime < time.Second:
		return fmt.Errorf("-step %s: want at least 1s", *stepTime)
	case *maxStep < *stepTime:
		return fmt.Errorf("-max-step %s: want at least -step (%s)", *maxStep, *stepTime)
	case *maxSteps < 1 || *maxSteps > 100:
		return fmt.Errorf("-max-steps %d: want 1 to 100", *maxSteps)
	case *workers < 1 || *workers > 4096:
		return fmt.Errorf("-workers %d: want 1 to 4096", *workers)
	case !(*quota >= 0 && *quota <= 1024):
		return fmt.Errorf("-server-quota %g: want a positive number of CPUs (or 0 for none)", *quota)
	case *serverWorkers < 0:
		return fmt.Errorf("-server-workers %d: want 0 or more", *serverWorkers)
	case *op != scenarios.CapCommand && *op != scenarios.CapMessage && *op != scenarios.CapHandshake:
		return fmt.Errorf("-op %q: want command, message or handshake", *op)
	}
	wm, err := wfs.ParseModel(*model)
	if err != nil {
		return fmt.Errorf("-model: %w", err)
	}
	sm := &scenarios.ServerModel{Model: wm.Name()}
	schs, err := schemes.Builtin().ParseList(*list)
	if err != nil {
		return fmt.Errorf("-schemes: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("capacity: locate the authbench binary: %w", err)
	}
	split, work, unpin, err := prepareLoad("", *serverCPUs, *clientCPUs, *out, *out)
	if err != nil {
		return err
	}
	defer unpin()
	// A quota above the CPUs the WFS is pinned to caps nothing, and "per
	// WFS CPU" would divide by CPUs it never had (253/s read as 84/s per
	// CPU under -server-quota 3 on one pinned CPU).
	if split.Server != "" && *quota > 0 {
		if cpus, err := process.ParseCPUList(split.Server); err == nil && *quota > float64(len(cpus)) {
			return fmt.Errorf("-server-quota %g: the WFS is pinned to %d CPU(s) (%s); a quota above that caps nothing", *quota, len(cpus), split.Server)
		}
	}
	defer os.RemoveAll(work)
	var progress io.Writer
	if !*quiet {
		progress = stderr
	}
	env := scenarios.Environment()
	env.ServerCPUs, env.ClientCPUs, env.ServerQuota = split.Server, split.Client, *quota
	run := &results.CapacityRun{Schema: results.SchemaVersion, Command: "authbench capacity " + strings.Join(args, " "),
		Started: time.Now().UTC(), Env: env, Rule: results.DefaultKneeRule}
	curves, capErr := scenarios.Capacity(ctx, scenarios.CapacityConfig{
		Schemes: schs, Op: *op, Start: *start, Factor: *factor, StepTime: *stepTime, MaxStepTime: *maxStep, MaxSteps: *maxSteps,
		Workers: *workers, Rule: run.Rule, WorkDir: work, ServerWorkers: *serverWorkers, Progress: progress,
		Server: serverLauncher(self, split.Server, *quota), Model: sm,
	})
	run.Curves, run.Ended, run.Partial = curves, time.Now().UTC(), ctx.Err() != nil || capErr != nil
	if err := run.Write(filepath.Join(*out, "capacity.json")); err != nil {
		return errors.Join(capErr, err)
	}
	plotDir := filepath.Join(*out, "capacity-plots")
	if err := plots.Capacity(plotDir, run); err != nil {
		return errors.Join(capErr, err)
	}
	plotLink := "capacity-plots"
	if len(curves) == 0 {
		plotLink = ""
	}
	md, err := os.Create(filepath.Join(*out, "CAPACITY.md"))
	if err != nil {
		return errors.Join(capErr, err)
	}
	werr := results.WriteCapacity(io.MultiWriter(md, stdout), run, plotLink)
	if err := errors.Join(werr, md.Close()); err != nil {
		return errors.Join(capErr, err)
	}
	fmt.Fprintf(stdout, "\ncapacity: %s\n", filepath.Join(*out, "capacity.json"))
	if ctx.Err() != nil {
		return &exitError{code: 130, err: fmt.Errorf("interrupted: partial capacity results written to %s", *out)}
	}
	if capErr != nil {
		return fmt.Errorf("capacity: %w", capErr)
	}
	return nil
}
