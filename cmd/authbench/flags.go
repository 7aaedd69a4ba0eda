package main

import (
	"flag"
	"fmt"
	"io"
)

// newFlags returns a FlagSet that reports errors rather than exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("authbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args and refuses stray positional arguments.
func parse(fs *flag.FlagSet, args []string, positional int) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > positional {
		return fmt.Errorf("%s: unexpected argument %q (flags come before arguments)", fs.Name(), fs.Arg(positional))
	}
	return nil
}
