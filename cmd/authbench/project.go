package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/authbench/authbench/site"
)

// runProject is `authbench project`: project a site model's load (a
// built-in site or a YAML file) onto the schemes measured in results DIRs,
// every scheme's costs from one named scenario set (-set), as markdown or
// JSON; -list names the built-in sites with their sources and the sets.
func runProject(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("project", stderr)
	siteName := fs.String("site", "", "the site model: a built-in `NAME` (see -list) or a YAML FILE")
	format := fs.String("format", "md", "output `format`: md (a markdown section) or json (the projection model)")
	set := fs.String("set", site.DefaultSet, "the scenario `SET` every scheme's per-operation costs come from: "+strings.Join(site.SetNames(), ", ")+" (see -list)")
	list := fs.Bool("list", false, "list the built-in sites with their sources and the scenario sets, and exit")
	if err := parse(fs, args, 1<<20); err != nil {
		return err
	}
	if *list {
		if fs.NArg() > 0 {
			return fmt.Errorf("project: -list takes no results DIR (got %q)", fs.Arg(0))
		}
		return listSites(stdout)
	}
	if *format != "md" && *format != "json" {
		return fmt.Errorf("project: -format %q: want md or json", *format)
	}
	if _, err := site.LookupSet(*set); err != nil {
		return fmt.Errorf("project: -set: %w", err)
	}
	if *siteName == "" {
		names, _ := site.BuiltinNames()
		return fmt.Errorf("project: -site is required: a built-in site (%s) or a site YAML file", strings.Join(names, ", "))
	}
	if fs.NArg() == 0 {
		return errors.New("project: want at least one results DIR (holding results.json, and capacity.json when there is one)")
	}
	s, err := site.Load(*siteName)
	if err != nil {
		return fmt.Errorf("project: -site: %w", err)
	}
	var inputs []site.Input
	for _, dir := range fs.Args() {
		ins, err := site.ReadInputs(dir)
		if err != nil {
			return fmt.Errorf("project: %w", err)
		}
		inputs = append(inputs, ins...)
	}
	if inputs, err = site.MergeInputs(inputs); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	p, err := site.Project(s, inputs, site.Options{Command: "authbench project " + strings.Join(args, " "), Set: *set})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if *format == "json" {
		err = p.WriteJSON(&buf)
	} else {
		err = p.WriteMarkdown(&buf)
	}
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if _, err := stdout.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	return nil
}

// listSites prints the built-in sites, each with its description and
// source, then the scenario sets.
func listSites(w io.Writer) error {
	sites, err := site.Builtins()
	if err != nil {
		return fmt.Errorf("project: %w", err)
	}
	fmt.Fprintln(w, "Sites (-site):")
	for _, s := range sites {
		fmt.Fprintf(w, "%s\n    %s\n    source: %s\n", s.Name, s.Description, s.Source)
	}
	fmt.Fprintln(w, "\nScenario sets (-set):")
	for _, s := range site.ScenarioSets() {
		def := ""
		if s.Name == site.DefaultSet {
			def = " (default)"
		}
		q := ""
		if s.Queries != "" {
			q = ", UI-server queries from " + s.Queries + " when present"
		}
		fsm := s.FSModel
		if fsm == "" {
			fsm = "local disk"
		}
		fmt.Fprintf(w, "%s%s\n    %s\n    commands from %s, job messages from %s%s; %s server model, %s\n", s.Name, def, s.Description, s.Commands, s.Messages, q, s.ServerModel, fsm)
	}
	return nil
}
