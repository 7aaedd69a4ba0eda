// Command authbench benchmarks and attacks authentication schemes between a
// workflow service and its clients over real ZeroMQ. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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

const usage = `authbench: benchmark and attack WFS authentication schemes over real ZeroMQ

usage:
  authbench run     [-scenario NAME|FILE] [-schemes SPEC,...] [-out DIR] [-repeat N] [-quiet]
                    [-server-cpus CPUS] [-client-cpus CPUS] [-server-quota CPUS]
  authbench capacity [-schemes SPEC,...] [-op command|message|handshake] [-server-quota CPUS] [-out DIR]
  authbench serve   -scheme SPEC -run-dir DIR [-listen tcp://*:PORT] [-control ENDPOINT] [-pin CPUS]
  authbench report  [-o FILE] [-format md|bench] [-budget 50ms] DIR...
  authbench compare [-fail-on-regression PCT] OLD NEW
  authbench show    NAME   (print a built-in scenario's YAML, to start a new one from)
  authbench list
  authbench keys    DIR NAME   (a CURVE keypair in the ZeroMQ certificate format)
  authbench calibrate [-n N] [-rounds R] [-pin CPUS]
  authbench client  -contact FILE [-scheme SPEC] [-kind cli|job] [-id ID] [-command CMD | -message SEV|TEXT]
  authbench conform [-schemes SPEC,...] [-format md|json] [-cases ID,...] [-list]
  authbench help

Flags come before positional arguments.`

// run dispatches a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runRun(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "list":
		return runList(ctx, rest, stdout, stderr)
	case "capacity":
		return runCapacity(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	case "show":
		return runShow(ctx, rest, stdout, stderr)
	case "compare":
		return runCompare(ctx, rest, stdout, stderr)
	case "client":
		return runClient(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "calibrate":
		return runCalibrate(ctx, rest, stdout, stderr)
	case "conform":
		return runConform(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; want run, capacity, serve, report, compare, conform, calibrate, keys, client, list, show or help", cmd)
}
