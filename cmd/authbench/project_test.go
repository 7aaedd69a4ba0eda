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

// projectResult is a synthetic open-loop result: the WFS served req
// requests for ops operations (job messages) with cpu seconds of CPU.
func projectResult(scheme string, req, ops int64, cpu float64) *results.Result {
	return &results.Result{Scenario: "mix", Scheme: scheme, Canonical: scheme, Round: 1, Jobs: ops / 2,
		Files:         counters.FileStats{Created: ops, Fsyncs: ops},
		Ops:           []*results.Op{{Name: "job.message", Count: ops, Hist: results.NewHistogram(), Uncorrected: results.NewHistogram()}},
		ServerProcess: &results.ServerProcess{Requests: req, UserSeconds: cpu, Window: 10 * time.Second}}
}

// projectDir writes a results dir: scheme a at 1 ms a request, scheme b at
// 0.5 ms a request and 2 requests an operation, with a capacity knee for b
// of 400 operations/s per WFS CPU.
func projectDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := &results.Run{Schema: results.SchemaVersion, Command: "authbench run -scenario mix -out " + dir,
		Results: []*results.Result{projectResult("a", 1000, 1000, 1), projectResult("b", 2000, 1000, 1)}}
	if err := run.Write(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
	c := &results.CapacityRun{Schema: results.SchemaVersion, Command: "authbench capacity -schemes b -out " + dir,
		Curves: []*results.CapacityCurve{{Scheme: "b", Op: "command", Quota: 0.5,
			Knee: results.Knee{Found: true, Step: 2, Rate: 300, Sustained: 200, PerServerCPU: 400}}}}
	if err := c.Write(filepath.Join(dir, "capacity.json")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestProject: at metoffice-2016 an average WFS's peak is 20.22
// operations/s (0.224 mean + 20 a burst), so scheme a (1 ms an operation)
// takes 2.02 % of a CPU at the peak with an estimated knee of 1,000/s
// (49.4× headroom), and b (2 requests of 0.5 ms) 2.02 % with its capacity
// knee of 400/s (19.8×).
func TestProject(t *testing.T) {
	dir := projectDir(t)
	var stdout, stderr bytes.Buffer
	if err := runProject(context.Background(), []string{"-site", "metoffice-2016", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("project: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	rows := map[string][]string{
		"a": {"1.00ms", "2.02 %", "1,000/s (estimated)", "49.4×"},
		"b": {"500µs", "2.02 %", "400/s (capacity, command)", "19.8×"},
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
	for _, w := range []string{"## Capacity projection: metoffice-2016", "Matthews", filepath.Join(dir, "capacity.json"),
		"authbench project -site metoffice-2016 " + dir, "authbench run -scenario mix -out " + dir} {
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
	if p.Site.Name != "burst" || len(p.Schemes) != 2 || p.Schemes[1].Knee.OpsPerSecond != 400 {
		t.Errorf("JSON projection: %+v", p)
	}
}

func TestProjectList(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runProject(context.Background(), []string{"-list"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"metoffice-2016", "research-host", "burst", "source: David Matthews", "dispatch-burst"} {
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
		{"no CPU figure", []string{"-site", "burst", old}, []string{"no scheme has a WFS CPU figure", old}},
		{"unknown scenario", []string{"-site", "burst", "-scenario", "nope", good}, []string{"no scheme has a WFS CPU figure", `"nope"`}},
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
