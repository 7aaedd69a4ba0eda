package results_test

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/results/resultstest"
)

func TestBenchName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"jwt:command", "jwt:command"},
		{"jwt:timed=60s/6s", "jwt:timed=60s%2F6s"},
		{"curve+passphrase:workflow", "curve+passphrase:workflow"},
		{"jwe/ECDH-ES:job=file", "jwe%2FECDH-ES:job=file"},
		{"my scenario.yaml", "my%20scenario.yaml"},
		{"50%", "50%25"},
		{"tab\there", "tab%09here"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := results.BenchName(tc.in)
			if got != tc.want {
				t.Errorf("results.BenchName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back, err := url.PathUnescape(got); err != nil || back != tc.in {
				t.Errorf("unescape %q = %q, %v", got, back, err)
			}
		})
	}
}

// benchParts splits a benchmark name as golang.org/x/perf/benchfmt does:
// a trailing "-<digits>" is GOMAXPROCS, then parts at '/', each
// "key=value" split at the first '='.
func benchParts(t *testing.T, name string) (base string, kv map[string]string, procs string) {
	t.Helper()
	if i := strings.LastIndexByte(name, '-'); i >= 0 && i < len(name)-1 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name, procs = name[:i], name[i+1:]
		}
	}
	parts := strings.Split(name, "/")
	kv = map[string]string{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			t.Fatalf("positional part %q in %q", p, name)
		}
		if _, dup := kv[k]; dup {
			t.Fatalf("key %q twice in %q", k, name)
		}
		kv[k] = v
	}
	return parts[0], kv, procs
}

func TestBenchFormat(t *testing.T) {
	run := &results.Run{Schema: results.SchemaVersion, Command: "authbench run -schemes plain,jwt:timed=60s/6s",
		Env: results.Environment{Host: "h", CPU: "Some CPU", GOMAXPROCS: 2, Libzmq: "4.3.4"}}
	for round := 1; round <= 2; round++ {
		for _, scheme := range []string{"plain", "jwt:timed=60s/6s", "jwe/ECDH-ES:job=file"} {
			run.Results = append(run.Results, resultstest.SynthResult("cli burst", scheme, "", round, 2*time.Second,
				map[string][]time.Duration{"cli.command_total": resultstest.Latencies(uint64(round), 100, time.Millisecond), "uis.poll": nil}))
		}
	}
	var buf bytes.Buffer
	if err := results.FormatBench(&buf, run); err != nil {
		t.Fatal(err)
	}
	var lines int
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if !strings.HasPrefix(line, "Benchmark") {
			k, _, ok := strings.Cut(line, ": ")
			if !ok || k != strings.ToLower(k) || strings.ContainsAny(k, " \t") {
				t.Errorf("bad configuration line %q", line)
			}
			continue
		}
		lines++
		f := strings.Fields(line)
		if len(f) != 10 {
			t.Fatalf("want name, N and 4 value/unit pairs, got %q", line)
		}
		base, kv, procs := benchParts(t, f[0])
		if base != "BenchmarkAuth" || procs != "2" {
			t.Errorf("base %q procs %q", base, procs)
		}
		scheme, err := url.PathUnescape(kv["scheme"])
		if err != nil {
			t.Fatal(err)
		}
		if sc, _ := url.PathUnescape(kv["scenario"]); sc != "cli burst" || kv["op"] != "cli.command_total" {
			t.Errorf("name %q: scenario %q op %q", f[0], sc, kv["op"])
		}
		seen[scheme]++
		if n, err := strconv.Atoi(f[1]); err != nil || n != 100 {
			t.Errorf("N = %q", f[1])
		}
		for i, unit := range []string{"p50-ns", "p99-ns", "ops/s", "files/op"} {
			if f[3+2*i] != unit {
				t.Errorf("unit %d = %q, want %q", i, f[3+2*i], unit)
			}
			if _, err := strconv.ParseFloat(f[2+2*i], 64); err != nil {
				t.Errorf("value %q: %v", f[2+2*i], err)
			}
		}
		if f[6] != "50" {
			t.Errorf("ops/s = %s, want 50 (100 ops in 2 s)", f[6])
		}
	}
	// uis.poll had no successes: no line. Each scheme: one line per round.
	if lines != 6 {
		t.Errorf("%d benchmark lines, want 6", lines)
	}
	for _, s := range []string{"plain", "jwt:timed=60s/6s", "jwe/ECDH-ES:job=file"} {
		if seen[s] != 2 {
			t.Errorf("scheme %q: %d lines, want 2", s, seen[s])
		}
	}
}
