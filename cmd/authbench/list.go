package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
)

// runList prints every scheme's canonical spec and claims, and the built-in
// scenarios.
func runList(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("list", stderr)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	reg := schemes.Builtin()
	fmt.Fprintln(stdout, "## Schemes")
	fmt.Fprintln(stdout)
	t := mdtable.New(stdout, append([]string{"spec", "canonical"}, vocab.ClaimNames()...)...)
	for _, ex := range reg.Examples() {
		sc, err := reg.Parse(ex)
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		row := []string{ex, sc.Spec().Canonical()}
		for _, c := range sc.Claims().List() {
			row = append(row, yesNo(c))
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "Spec grammar: SECURITY[+CREDENTIAL[/ALG]][:POLICY[=ARG]]")
	for _, kind := range []schemes.PartKind{schemes.Security, schemes.Credential} {
		for _, name := range reg.Names(kind) {
			p, _ := reg.Info(name)
			extra := ""
			if len(p.Algs) > 0 {
				extra += "; algs " + strings.Join(p.Algs, ", ")
			}
			if len(p.Policies) > 0 {
				extra += "; policies " + strings.Join(p.Policies, ", ")
			}
			fmt.Fprintf(stdout, "- %s %s: %s%s\n", kind, name, p.Doc, extra)
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "## Scenarios")
	fmt.Fprintln(stdout)
	all, err := scenarios.Builtins()
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	st := mdtable.New(stdout, "scenario", "description")
	for _, s := range all {
		if err := st.Append([]string{s.Name, s.Description}); err != nil {
			return err
		}
	}
	return st.Render()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}
