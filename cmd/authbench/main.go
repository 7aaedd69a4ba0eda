// Command authbench benchmarks and attacks authentication schemes between a
// workflow service and its clients over real ZeroMQ. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// exitError carries a process exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// errUsage marks a usage error already printed by the flag package.
var errUsage = errors.New("usage")

func main() {
	// The embedded WLCG issuer's library (zitadel/oidc) logs every route it
	// registers and every refused token request to the default logger; a
	// benchmark's stderr is for progress and errors. AUTHBENCH_LOG=debug
	// shows them.
	level := slog.LevelError
	if os.Getenv("AUTHBENCH_LOG") == "debug" {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	fmt.Fprintln(stderr, "authbench:", err)
	return code
}

// command is one subcommand: its entry point and the help that usage,
// each command's -h and the README's command list all print.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string
	example string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the CLI's catalogue, in the order help lists it.
func commands() []command {
	return []command{
		{"run", "[-scenario NAME|FILE]... [-schemes SPEC,...] [-out DIR] [-work DIR] [-repeat N] [-until-decisive [-max-time D]] [-server-cpus CPUS] [-client-cpus CPUS] [-server-quota CPUS] [-probe N] [-fs MODEL] [-cylc CONTACT] [-format md|bench] [-quiet]",
			"run scenarios over schemes, each WFS in a pinned process of its own; results.json in -out",
			"authbench run -scenario smoke -schemes plain,curve -out out", runRun},
		{"capacity", "[-schemes SPEC,...] [-op command|message|handshake] [-model fast|cylc] [-server-quota CPUS] [-start RATE] [-factor F] [-step TIME] [-max-steps N] [-out DIR]",
			"find each scheme's capacity knee under rising Poisson load",
			"authbench capacity -schemes plain,curve,jwt:command", runCapacity},
		{"serve", "-scheme SPEC -run-dir DIR [-listen ENDPOINT] [-control ENDPOINT] [-model fast|cylc] [-service-cpu D] [-keys DIR] [-pin CPUS] [-stats-out FILE] [-leeway D] [-fs MODEL] [-publish [-delta-size BYTES] [-publish-rate R]]",
			"a WFS for one scheme, with its owner-only control channel, until SIGINT, SIGTERM or SIGHUP",
			"authbench serve -scheme curve -run-dir /tmp/wf", runServe},
		{"load", "-contact FILE [-scenario NAME|FILE] [-shard I/N] -out DIR [-client-cpus CPUS] [-quiet]",
			"one loader's share of a scenario against a running serve (multi-node runs: one WFS, loaders on many nodes)",
			"authbench load -contact /shared/wf/.service/contact -scenario smoke -shard 0/2 -out out/shard-0", runLoad},
		{"report", "[-o FILE] [-format md|json|bench] [-site NAME|FILE] [-wlcg-site NAME|FILE] [-conformance FILE] [-capacity FILE] DIR...",
			"a markdown design-review report (with plots) of one or more results DIRs",
			"authbench report -o out/REPORT.md out", runReport},
		{"project", "-site NAME|FILE [-set SET] [-format md|json] [-list] DIR...",
			"project a site model's load onto the schemes in results DIRs, every scheme's costs from one scenario set: WFS CPU per operation, WFS and host CPU share against the site's budget, headroom to the knee, files a day",
			"authbench project -site metoffice-2016 REPORT-data", runProject},
		{"compare", "[-fail-on-regression PCT] [-alpha A] OLD NEW",
			"compare two runs' results DIRs per (scenario, scheme, op)",
			"authbench compare REPORT-data out", runCompare},
		{"conform", "[-schemes SPEC,...] [-format md|json] [-cases ID,...] [-list]",
			"attack a live WFS per scheme with the conformance catalogue; a failed declared claim exits non-zero",
			"authbench conform -schemes jwt,curve", runConform},
		{"calibrate", "[-n N] [-rounds R] [-pin CPUS] | -cylc CONTACT [-o FILE]",
			"the engine's overhead against a bare zmq4 loop and pyzmq, in one run; with -cylc, the cylc model against a real Cylc 8 scheduler, side by side with ratios",
			"authbench calibrate -pin 0", runCalibrate},
		{"keys", "[-force] DIR NAME",
			"a CURVE keypair in the ZeroMQ certificate format (refuses to replace one without -force)",
			"authbench keys /tmp/keys client", runKeys},
		{"client", "-contact FILE [-scheme SPEC] [-kind cli|job] [-id ID] [-command CMD | -message SEV|TEXT] [-timeout D]",
			"one request as a separate process (the scheme defaults to the contact file's)",
			"authbench client -contact /tmp/wf/.service/contact -command ping", runClient},
		{"list", "", "the schemes with their claims, and the built-in scenarios", "authbench list", runList},
		{"show", "NAME", "a built-in scenario's YAML, to start a new one from (docs/scenarios.md)", "authbench show site-day > mine.yaml", runShow},
		{"version", "", "authbench's version, commit and Go, libzmq and libsodium", "authbench version", runVersion},
	}
}

// synopsis is a command's usage line.
func (c command) synopsis() string {
	return strings.TrimSpace("authbench " + c.name + " " + c.args)
}

// usageText is the top-level help: every command's synopsis and summary.
func usageText() string {
	var b strings.Builder
	b.WriteString("authbench: benchmark and attack WFS authentication schemes over real ZeroMQ\n\nusage:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %s\n      %s\n", c.synopsis(), c.summary)
	}
	b.WriteString("  authbench help\n\nFlags come before positional arguments; authbench COMMAND -h lists a command's flags.")
	return b.String()
}

// commandNames lists the commands for error messages.
func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ") + " or help"
}

// run dispatches a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageText())
		return errUsage
	}
	name, rest := args[0], args[1:]
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, rest, stdout, stderr)
		}
	}
	switch name {
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usageText())
		return nil
	}
	return fmt.Errorf("unknown command %q; want %s", name, commandNames())
}
