package site

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const goodSite = `# a test site
name: test-site
description: "a test site"
source: "made up for the tests"
workflows: 10
host_cpus: 2
tasks_per_day: 86400
messages_per_job: 2
cycle_point_burst: {jobs: 10, within: 5s}
cli_commands_per_hour: 3600
ui_servers: {count: 1, updates_per_job: 3, queries_per_hour: 3600}
fs_op_latency: 1ms
wfs_cpu_share_budget: {value: 0.0075, source: "made up for the tests"}
`

func TestParseGood(t *testing.T) {
	s, err := Parse("good.yaml", []byte(goodSite))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "test-site" || s.Workflows != 10 || s.HostCPUs != 2 || s.TasksPerDay != 86400 || s.MessagesPerJob != 2 ||
		s.CLICommandsPerHour != 3600 || s.FSOpLatency.D() != time.Millisecond {
		t.Errorf("parsed %+v", s)
	}
	if b := s.CyclePointBurst; b == nil || b.Jobs != 10 || b.Within.D() != 5*time.Second || b.Messages != 1 {
		t.Errorf("burst %+v, want 10 jobs within 5s, messages defaulting to 1", b)
	}
	if u := s.UIServers; u == nil || u.Count != 1 || u.UpdatesPerJob != 3 || u.QueriesPerHour != 3600 {
		t.Errorf("ui servers %+v", u)
	}
	if b := s.WFSCPUShareBudget; b == nil || b.Value != 0.0075 || b.Source != "made up for the tests" {
		t.Errorf("budget %+v", b)
	}
}

// TestParseErrors: every error is one line "site FILE line N: field:
// problem" naming the line the field stands on.
func TestParseErrors(t *testing.T) {
	// with replaces the line starting with key (or appends it).
	with := func(key, line string) string {
		var out []string
		done := false
		for _, l := range strings.Split(strings.TrimSuffix(goodSite, "\n"), "\n") {
			if strings.HasPrefix(l, key+":") {
				if line != "" {
					out = append(out, line)
				}
				done = true
				continue
			}
			out = append(out, l)
		}
		if !done {
			out = append(out, line)
		}
		return strings.Join(out, "\n") + "\n"
	}
	cases := []struct {
		name, yaml string
		line       int
		want       []string
	}{
		{"unknown field", with("frob", "frob: 1"), 14, []string{"frob", "unknown field", "workflows"}},
		{"unknown nested field", with("cycle_point_burst", "cycle_point_burst: {jobs: 10, within: 5s, extra: 1}"), 9, []string{"cycle_point_burst.extra", "unknown field", "within"}},
		{"no name", with("name", ""), 2, []string{"name", "required"}},
		{"bad name", with("name", "name: Big Name"), 2, []string{"name", "lower-case"}},
		{"no source", with("source", ""), 2, []string{"source", "required"}},
		{"empty source", with("source", `source: "  "`), 4, []string{"source", "required"}},
		{"zero workflows", with("workflows", "workflows: 0"), 5, []string{"workflows", "1 to 100000"}},
		{"too many workflows", with("workflows", "workflows: 1000000"), 5, []string{"workflows", "got 1000000"}},
		{"words for workflows", with("workflows", "workflows: many"), 5, []string{"workflows", "whole number", `"many"`}},
		{"fraction of workflows", with("workflows", "workflows: 2.5"), 5, []string{"workflows", "whole number"}},
		{"negative host CPUs", with("host_cpus", "host_cpus: -1"), 6, []string{"host_cpus", "got -1"}},
		{"negative tasks", with("tasks_per_day", "tasks_per_day: -5"), 7, []string{"tasks_per_day", "got -5"}},
		{"infinite tasks", with("tasks_per_day", "tasks_per_day: .inf"), 7, []string{"tasks_per_day"}},
		{"quoted number", with("tasks_per_day", `tasks_per_day: "5"`), 7, []string{"tasks_per_day", "want a number"}},
		{"no job rate", with("tasks_per_day", ""), 2, []string{"tasks_per_day", "active_jobs with mean_job_duration"}},
		{"both job rates", with("host_cpus", "host_cpus: 2\nactive_jobs: 5\nmean_job_duration: 1m"), 7, []string{"active_jobs", "not both"}},
		{"active jobs without duration", with("tasks_per_day", "active_jobs: 100"), 7, []string{"active_jobs", "needs mean_job_duration"}},
		{"short job", with("tasks_per_day", "active_jobs: 100\nmean_job_duration: 10ms"), 8, []string{"mean_job_duration", "got 10ms"}},
		{"bad duration", with("tasks_per_day", "active_jobs: 100\nmean_job_duration: soon"), 8, []string{"mean_job_duration", "duration such as", `"soon"`}},
		{"no messages", with("messages_per_job", ""), 2, []string{"messages_per_job", "got 0"}},
		{"too many messages", with("messages_per_job", "messages_per_job: 5000"), 8, []string{"messages_per_job", "1 to 1000"}},
		{"burst of nothing", with("cycle_point_burst", "cycle_point_burst: {jobs: 0, within: 5s}"), 9, []string{"cycle_point_burst.jobs", "got 0"}},
		{"burst in no time", with("cycle_point_burst", "cycle_point_burst: {jobs: 10, within: 0s}"), 9, []string{"cycle_point_burst.within", "positive"}},
		{"burst messages past the job's", with("cycle_point_burst", "cycle_point_burst: {jobs: 10, within: 5s, messages: 3}"), 9, []string{"cycle_point_burst.messages", "messages_per_job (2)"}},
		{"burst not a mapping", with("cycle_point_burst", "cycle_point_burst: 10"), 9, []string{"cycle_point_burst", "want a mapping"}},
		{"negative commands", with("cli_commands_per_hour", "cli_commands_per_hour: -1"), 10, []string{"cli_commands_per_hour", "got -1"}},
		{"no UI servers", with("ui_servers", "ui_servers: {count: 0, updates_per_job: 3}"), 11, []string{"ui_servers.count", "got 0"}},
		{"UI server polling", with("ui_servers", "ui_servers: {count: 1, poll_interval: 5s}"), 11, []string{"ui_servers.poll_interval", "does not poll", "updates_per_job", "queries_per_hour"}},
		{"no updates per job", with("ui_servers", "ui_servers: {count: 1, queries_per_hour: 6}"), 11, []string{"ui_servers.updates_per_job", "got 0"}},
		{"negative queries", with("ui_servers", "ui_servers: {count: 1, updates_per_job: 3, queries_per_hour: -1}"), 11, []string{"ui_servers.queries_per_hour", "got -1"}},
		{"budget past one CPU", with("wfs_cpu_share_budget", `wfs_cpu_share_budget: {value: 1.5, source: "x"}`), 13, []string{"wfs_cpu_share_budget.value", "got 1.5"}},
		{"budget without a source", with("wfs_cpu_share_budget", "wfs_cpu_share_budget: {value: 0.1}"), 13, []string{"wfs_cpu_share_budget.source", "required"}},
		{"negative fs latency", with("fs_op_latency", "fs_op_latency: -1ms"), 12, []string{"fs_op_latency", "got -1ms"}},
		{"slow fs", with("fs_op_latency", "fs_op_latency: 1m"), 12, []string{"fs_op_latency", "want 0 to 10s", "got 1m0s"}},
		{"a field twice", with("host_cpus", "host_cpus: 2\nhost_cpus: 3"), 7, []string{"host_cpus", "given twice"}},
		{"two documents", goodSite + "---\nname: other\n", 0, []string{"second YAML document"}},
		{"empty", "", 1, []string{"empty site file"}},
		{"a list", "- a\n- b\n", 1, []string{"the site", "want a mapping"}},
		{"syntax", "name: [x\n", 0, []string{"site bad.yaml line"}},
		{"tab", "name: x\n\tworkflows: 1\n", 2, []string{"site bad.yaml line 2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatalf("want an error for:\n%s", c.yaml)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if c.line > 0 && !strings.HasPrefix(msg, "site bad.yaml line "+strconv.Itoa(c.line)+": ") {
				t.Errorf("error %q does not start with \"site bad.yaml line %d: \"", msg, c.line)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestParseOversized(t *testing.T) {
	big := goodSite + "# " + strings.Repeat("x", MaxFile) + "\n"
	_, err := Parse("big.yaml", []byte(big))
	if err == nil || !strings.Contains(err.Error(), "site big.yaml line 1:") || !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("got %v, want a size error naming the file and the limit", err)
	}
	// Through Load, the file is refused before it is read.
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "1048576") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Load: got %v, want a one-line size error", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(p, []byte(goodSite), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Origin != p || s.Name != "test-site" {
		t.Errorf("Load(%s): origin %q name %q", p, s.Origin, s.Name)
	}
	for _, c := range []struct {
		arg  string
		want []string
	}{
		{"nosuch", []string{`"nosuch"`, "metoffice-2016", "research-host", "burst"}},
		{filepath.Join(dir, "missing.yaml"), []string{"missing.yaml", "no such file"}},
		{dir, []string{dir, "not a regular file"}},
	} {
		_, err := Load(c.arg)
		if err == nil {
			t.Errorf("Load(%q): want an error", c.arg)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Load(%q): error %q does not mention %q on one line", c.arg, err, w)
			}
		}
	}
}

// TestBuiltins: every built-in parses, is named as its file, cites its
// source both in source: and in a comment, and Load finds it by name.
func TestBuiltins(t *testing.T) {
	sites, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, s := range sites {
		names[s.Name] = true
		b, err := BuiltinYAML(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "#") || !strings.Contains(strings.ToLower(string(b)), "source") {
			t.Errorf("%s: no leading comment citing its source", s.Name)
		}
		if strings.TrimSpace(s.Source) == "" || s.Description == "" {
			t.Errorf("%s: source %q description %q", s.Name, s.Source, s.Description)
		}
		l, err := Load(s.Name)
		if err != nil || l.Name != s.Name || l.Origin != "built-in "+s.Name {
			t.Errorf("Load(%s): %+v, %v", s.Name, l, err)
		}
	}
	for _, want := range []string{"metoffice-2016", "research-host", "burst"} {
		if !names[want] {
			t.Errorf("no built-in site %s (have %v)", want, names)
		}
	}
	// The figures the built-ins cite.
	mo, _ := Load("metoffice-2016")
	if mo.Workflows != 28 || mo.TasksPerDay != 18000 || mo.HostCPUs != 4 {
		t.Errorf("metoffice-2016: %d workflows, %g tasks a day, %d CPUs; want 28, 18,000, 4", mo.Workflows, mo.TasksPerDay, mo.HostCPUs)
	}
	rh, _ := Load("research-host")
	if l := ComputeWorkload(rh); rh.Workflows != 200 || !near(l.MessagesPerSecond.PerWFS, 1) {
		t.Errorf("research-host: %d workflows at %g messages/s each; want 200 at 1", rh.Workflows, l.MessagesPerSecond.PerWFS)
	}
	b, _ := Load("burst")
	if c := b.CyclePointBurst; c == nil || c.Jobs != 100 || c.Within.D() != 5*time.Second {
		t.Errorf("burst: %+v, want 100 jobs within 5s", c)
	}
	if _, err := BuiltinYAML("../site"); err == nil {
		t.Error("BuiltinYAML accepted a path")
	}
}

func near(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	scale := b
	if scale < 0 {
		scale = -scale
	}
	return d <= 1e-9*max(scale, 1)
}
