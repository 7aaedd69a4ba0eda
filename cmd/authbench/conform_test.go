package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authbench/authbench/conformance"
)

func TestConformJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"conform", "-schemes", "plain,passphrase,curve,jwe", "-cases", "transport/no-credential,conf/payload-marker,conf/reply-marker", "-format", "json"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("conform: %v\n%s", err, stderr.String())
	}
	m, err := conformance.ReadMatrix(&stdout)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Schemes) != 4 || len(m.Cases) != 3 || m.Failures() != 0 {
		t.Fatalf("matrix: %d schemes, %d cases, %d failures", len(m.Schemes), len(m.Cases), m.Failures())
	}
	// plain declares nothing: its failures are shown, not counted.
	if c, _ := m.Cell("plain", "conf/payload-marker"); c.Outcome != conformance.Fail || c.Declared {
		t.Errorf("plain payload marker: %+v", c)
	}
	if c, _ := m.Cell("curve", "conf/payload-marker"); c.Outcome != conformance.Pass {
		t.Errorf("curve payload marker: %+v", c)
	}
	// JWE seals requests only: its replies are readable, and it does not
	// claim otherwise; CURVE claims and keeps them unreadable.
	if c, _ := m.Cell("jwe", "conf/reply-marker"); c.Outcome != conformance.Fail || c.Declared {
		t.Errorf("jwe reply marker: %+v, want an undeclared fail", c)
	}
	if c, _ := m.Cell("curve", "conf/reply-marker"); c.Outcome != conformance.Pass || !c.Declared {
		t.Errorf("curve reply marker: %+v, want a declared pass", c)
	}
}

func TestConformMarkdownAndList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"conform", "-schemes", "passphrase", "-cases", "transport/no-credential"}, &stdout, &stderr); err != nil {
		t.Fatalf("conform: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"## Conformance", "| transport/no-credential", "passphrase", "pass"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"conform", "-list"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout.String(), "\n| "); n < 40 {
		t.Errorf("-list shows %d cases, want at least 40", n)
	}
}

func TestConformBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"conform", "-format", "xml"},
		{"conform", "-schemes", "nosuch"},
		{"conform", "-cases", "no/such-case", "-schemes", "plain"},
		{"conform", "-parallel", "-1"},
		{"conform", "stray"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		var ee *exitError
		if errors.As(err, &ee) {
			t.Errorf("%v: exit error %v, want an input error", args, err)
		}
	}
}
