package results

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// only keeps the results of the named schemes.
func only(r *Run, schemes ...string) *Run {
	c := *r
	c.Results = nil
	for _, res := range r.Results {
		if containsString(schemes, res.Scheme) {
			c.Results = append(c.Results, res)
		}
	}
	return &c
}

func TestReportGolden(t *testing.T) {
	smoke, err := Read("testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		runs      []*Run
		opts      ReportOptions
		wantPlots []string
	}{
		{"smoke", []*Run{smoke}, ReportOptions{Command: "authbench report -o REPORT.md results/testdata/smoke"}, []string{
			"smoke-cli.command_total-spectrum.svg", "smoke-job.message-spectrum.svg", "smoke-files.svg"}},
		{"baseline-only", []*Run{only(smoke, "plain", "passphrase")}, ReportOptions{}, nil},
		{"no-plain", []*Run{only(smoke, "jwt:command", "jwt:shared=10s")}, ReportOptions{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := tc.opts
			if tc.wantPlots != nil {
				opts.PlotDir = filepath.Join(dir, "REPORT-plots")
				opts.PlotLink = "REPORT-plots"
			}
			var got bytes.Buffer
			if err := Report(&got, tc.runs, opts); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := Report(&again, tc.runs, opts); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), again.Bytes()) {
				t.Fatal("two renderings of the same input differ")
			}
			golden := filepath.Join("testdata", tc.name+".md")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./results -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("report differs from %s (go test ./results -update rewrites it):\n%s", golden, firstDiff(string(want), got.String()))
			}
			for _, p := range tc.wantPlots {
				b, err := os.ReadFile(filepath.Join(opts.PlotDir, p))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(b, []byte("<svg")) {
					t.Errorf("%s is not SVG", p)
				}
				if !strings.Contains(got.String(), "](REPORT-plots/"+p+")") {
					t.Errorf("report does not link %s", p)
				}
			}
		})
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant: " + w + "\ngot:  " + g
		}
	}
	return ""
}

func TestReportBadInput(t *testing.T) {
	mk := func(scenario string) *Run {
		return &Run{Schema: SchemaVersion, Command: "run " + scenario, Results: []*Result{
			synthResult(scenario, "plain", "null", 1, time.Second, map[string][]time.Duration{"cli.command_total": {time.Millisecond}}),
		}}
	}
	old := mk("a")
	old.Schema = 0
	dup := mk("a")
	dup.Results = append(dup.Results, dup.Results[0])
	tests := []struct {
		name string
		runs []*Run
		want string
	}{
		{"none", nil, "no runs"},
		{"scenario in two runs", []*Run{mk("a"), mk("a")}, "merge them first"},
		{"schema", []*Run{old}, "results schema 0"},
		{"round twice", []*Run{dup}, "appears twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Report(&bytes.Buffer{}, tc.runs, ReportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}
