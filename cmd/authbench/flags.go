package main

import (
	"flag"
	"fmt"
	"io"
)

// newFlags returns a FlagSet that reports errors rather than exiting; its
// -h prints the command's synopsis, summary and example (from commands())
// before its flags.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("authbench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		for _, c := range commands() {
			if c.name == name {
				fmt.Fprintf(stderr, "usage: %s\n\n%s\n\nexample: %s\n", c.synopsis(), c.summary, c.example)
			}
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args and refuses stray positional arguments and flags
// given after them (Go's flag package stops at the first argument, so
// `report DIR -o F` would read "-o" as a DIR).
func parse(fs *flag.FlagSet, args []string, positional int) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	for _, a := range fs.Args() {
		if len(a) > 1 && a[0] == '-' {
			return fmt.Errorf("%s: flag %s after an argument: flags come before arguments (%s -h lists them)", fs.Name(), a, fs.Name())
		}
	}
	if fs.NArg() > positional {
		return fmt.Errorf("%s: unexpected argument %q: it takes %s", fs.Name(), fs.Arg(positional), argCount(positional))
	}
	return nil
}

func argCount(n int) string {
	switch n {
	case 0:
		return "no arguments"
	case 1:
		return "one argument"
	case 2:
		return "two arguments"
	}
	return fmt.Sprintf("%d arguments", n)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
