package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/site"
)

// projectResult is a synthetic open-loop result under the cylc model: the
// WFS served req requests for ops operations of kind op with cpu seconds
// of CPU.
func projectResult(scenario, scheme, op string, req, ops int64, cpu float64) *results.Result {
	r := &results.Result{Scenario: scenario, Scheme: scheme, Canonical: scheme, Round: 1, ServerModel: "cylc",
		Files:         counters.FileStats{Created: ops, Fsyncs: ops},
		Ops:           []*results.Op{{Name: op, Count: ops, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}},
		ServerProcess: &results.ServerProcess{Requests: req, UserSeconds: cpu, Window: 10 * time.Second}}
	if op == "job.message" {
		r.Jobs = ops / 2
	} else {
		r.Commands = ops
	}
	return r
}

// projectDir writes set review's results: scheme plain at 1 ms a command
// and a message, scheme jwt:command at 2 requests and 1 ms an operation,
// with a capacity knee (under the cylc model) for jwt:command of 400 job
// messages/s per WFS CPU.
func projectDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sc := range []struct{ name, op string }{{"review-cli", "cli.command_total"}, {"review-jobs", "job.message"}} {
		d := filepath.Join(dir, sc.name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		run := &results.Run{Schema: results.SchemaVersion, Command: "authbench run -scenario " + sc.name + " -out " + d,
			Results: []*results.Result{projectResult(sc.name, "plain", sc.op, 1000, 1000, 1), projectResult(sc.name, "jwt:command", sc.op, 2000, 1000, 1)}}
		if err := run.Write(filepath.Join(d, "results.json")); err != nil {
			t.Fatal(err)
		}
	}
	c := &results.CapacityRun{Schema: results.SchemaVersion, Command: "authbench capacity -model cylc -schemes jwt:command -op message -out " + dir,
		Curves: []*results.CapacityCurve{{Scheme: "jwt:command", Op: "message", Quota: 0.5,
			Knee: results.Knee{Found: true, Step: 2, Rate: 300, Sustained: 200, PerServerCPU: 400}}}}
	if err := c.Write(filepath.Join(dir, "capacity.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestProject: at metoffice-2016 an average WFS's peak is 20.02 job
// messages/s (0.022 mean + 20 a burst), 0.0018 commands/s, 1 delta/s and
// 0.0017 queries/s; at 1 ms an operation (a delta and a query charged as
// a command, no query scenario being given) plain takes 2.10 % of a CPU at
// the peak (47.6× headroom on its estimated knee of 1,000 messages/s);
// jwt:command the same, with its measured knee of 400/s (40 % of its
// estimate: 19×).
func TestProject(t *testing.T) {
	dir := projectDir(t)
	var stdout, stderr bytes.Buffer
	if err := runProject(context.Background(), []string{"-site", "metoffice-2016", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("project: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	rows := map[string][]string{
		"plain":       {"2.1 %", "within: 2.1 % ≤ 14.3 %", "1,000/s job messages (estimated)", "47.6×"},
		"jwt:command": {"2.1 %", "400/s job messages (measured, cylc model)", "19×"},
	}
	for scheme, want := range rows {
		var row string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "| `"+scheme+"`") && strings.Contains(l, "×") {
				row = l
				break
			}
		}
		if row == "" {
			t.Errorf("no CPU and headroom row for %s:\n%s", scheme, out)
			continue
		}
		for _, w := range want {
			if !strings.Contains(row, w) {
				t.Errorf("%s's row lacks %q: %s", scheme, w, row)
			}
		}
	}
	for _, w := range []string{"## Capacity projection: metoffice-2016", "Matthews", "set `review`", "UI-server deltas", filepath.Join(dir, "capacity.json"),
		"authbench project -site metoffice-2016 " + dir, "authbench run -scenario review-cli -out " + filepath.Join(dir, "review-cli")} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}

	// -format json is the model.
	stdout.Reset()
	if err := runProject(context.Background(), []string{"-site", "burst", "-format", "json", dir}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var p site.Projection
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatalf("-format json: %v\n%s", err, stdout.String())
	}
	if p.Site.Name != "burst" || p.Set.Name != "review" || len(p.Schemes) != 2 || p.Schemes[1].Knee.OpsPerSecond != 400 {
		t.Errorf("JSON projection: %+v", p)
	}
}

func TestProjectList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runProject(context.Background(), []string{"-list"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"metoffice-2016", "research-host", "burst", "source: David Matthews", "dispatch-burst",
		"Scenario sets (-set):", "review (default)", "commands from review-cli, job messages from review-jobs", "review-nfs", "nfs-lan"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("-list lacks %q:\n%s", w, stdout.String())
		}
	}
}

func TestProjectErrors(t *testing.T) {
	good := projectDir(t)
	empty := t.TempDir()
	old := t.TempDir() // results from before the WFS ran as its own process
	run := &results.Run{Schema: results.SchemaVersion, Results: []*results.Result{{Scenario: "mix", Scheme: "plain", Round: 1}}}
	if err := run.Write(filepath.Join(old, "results.json")); err != nil {
		t.Fatal(err)
	}
	oldSet := t.TempDir() // the set's scenarios without a WFS CPU figure
	run = &results.Run{Schema: results.SchemaVersion, Results: []*results.Result{{Scenario: "review-cli", Scheme: "plain", Round: 1}, {Scenario: "review-jobs", Scheme: "plain", Round: 1}}}
	if err := run.Write(filepath.Join(oldSet, "results.json")); err != nil {
		t.Fatal(err)
	}
	badSite := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badSite, []byte("name: x\nsource: y\nworkflows: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no site", []string{good}, []string{"-site", "required", "metoffice-2016"}},
		{"unknown site", []string{"-site", "nowhere", good}, []string{`"nowhere"`, "metoffice-2016", "research-host", "burst"}},
		{"bad site file", []string{"-site", badSite, good}, []string{"bad.yaml line 3", "workflows"}},
		{"no dir", []string{"-site", "burst"}, []string{"results DIR"}},
		{"missing dir", []string{"-site", "burst", filepath.Join(empty, "nope")}, []string{"nope", "no such directory"}},
		{"no results.json", []string{"-site", "burst", empty}, []string{empty, "no results.json"}},
		{"set missing", []string{"-site", "burst", old}, []string{"set review", "no review-cli or review-jobs", "they hold mix", "-set"}},
		{"no CPU figure", []string{"-site", "burst", oldSet}, []string{"no scheme has a WFS CPU figure", "no server_process"}},
		{"unknown set", []string{"-site", "burst", "-set", "nope", good}, []string{"-set", `"nope"`, "review, review-burst, review-nfs"}},
		{"set of another model", []string{"-site", "burst", "-set", "review-nfs", good}, []string{"set review-nfs", "no review-cli-nfs or review-jobs-nfs"}},
		{"bad format", []string{"-site", "burst", "-format", "xml", good}, []string{"-format", "xml"}},
		{"flag after dir", []string{"-site", "burst", good, "-format", "json"}, []string{"-format", "flags come before arguments"}},
		{"list with a dir", []string{"-list", good}, []string{"-list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runProject(context.Background(), c.args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("want an error; output:\n%s", stdout.String())
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if code := exitCode(err, &stderr); code == 0 {
				t.Error("exit code 0")
			}
		})
	}
}
