package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/authbench/authbench/scenarios"
)

// runVersion is `authbench version`: the build's module version and commit,
// and the Go, libzmq and libsodium it runs with.
func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	version, commit, modified := "(devel)", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	env := scenarios.Environment()
	fmt.Fprintf(stdout, "authbench %s, commit %s%s\n%s %s/%s, libzmq %s, libsodium %s\n",
		version, commit, modified, runtime.Version(), runtime.GOOS, runtime.GOARCH, env.Libzmq, env.Libsodium)
	return nil
}
