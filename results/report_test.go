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
		// A tight budget turns verdicts; plain and passphrase alone answer
		// no question but name what would.
		{"smoke-budget-2ms", []*Run{smoke}, ReportOptions{Budget: 2 * time.Millisecond}, nil},
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

func TestReportSummaryVerdicts(t *testing.T) {
	smoke, err := Read("testdata/smoke")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Report(&buf, []*Run{smoke}, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"### Q-A/B:", "### Q-job:", "### Q10:", "### Q-curve:", "### Q-keys:", "### Q-jose:", "### Q-wlcg:",
		"Plan A (`jwt:command`)", "budget 50ms: sustainable",
		"**No data.** Needs the `wlcg` credential",
		"| jwe/ECDH-ES:job=file |", // schemes exactly as written
		"authbench run -quiet -schemes plain,passphrase,jwt:command",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
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

func TestReportSpecParts(t *testing.T) {
	tests := []struct {
		in   string
		want specParts
	}{
		{"null", specParts{security: "null"}},
		{"curve-job", specParts{security: "curve-job"}},
		{"null+jwt/HS256:command", specParts{"null", "jwt", "HS256", "command", ""}},
		{"null+jwt/HS256:timed=60s/6s", specParts{"null", "jwt", "HS256", "timed", "60s/6s"}},
		{"curve+passphrase:workflow", specParts{"curve", "passphrase", "", "workflow", ""}},
		{"jwe/ECDH-ES:job=file", specParts{"null", "jwe", "ECDH-ES", "job", "file"}},
		{"jwt", specParts{"null", "jwt", "", "workflow", ""}},
	}
	for _, tc := range tests {
		if got := parseSpec(tc.in); got != tc.want {
			t.Errorf("parseSpec(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestReportNotSettled: a scheme whose commands failed gets no verdict.
func TestReportNotSettled(t *testing.T) {
	ok := map[string][]time.Duration{"cli.command_total": latencies(1, 40, time.Millisecond)}
	plain := synthResult("smoke", "plain", "null", 1, time.Second, ok)
	curve := synthResult("smoke", "curve", "curve", 1, time.Second, map[string][]time.Duration{"cli.command_total": latencies(2, 10, 2*time.Millisecond)})
	curve.Op("cli.command_total").Errors = map[string]int64{"rejected": 30}
	run := &Run{Schema: SchemaVersion, Command: "authbench run -schemes plain,curve", Results: []*Result{plain, curve}}
	var buf bytes.Buffer
	if err := Report(&buf, []*Run{run}, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	if want := "not settled: 30 of 40 commands failed"; !strings.Contains(buf.String(), want) {
		t.Errorf("report lacks %q:\n%s", want, buf.String())
	}
}

// TestReportPythonQuestion: interpreter start against handshake and round
// trip, with the verdict on the seed's claim.
func TestReportPythonQuestion(t *testing.T) {
	op := func(name string, d time.Duration) *Op {
		o := &Op{Name: name, Hist: NewHistogram(), Uncorrected: NewHistogram()}
		for _, x := range latencies(7, 50, d) {
			o.Count++
			o.Hist.Record(x)
			o.Uncorrected.Record(x)
		}
		return o
	}
	res := func(scheme string, imp, hs, rt time.Duration) *Result {
		return &Result{Scenario: "python-message", Scheme: scheme, Canonical: scheme, Round: 1, Duration: time.Second,
			Ops: []*Op{op("job.message", 200*time.Millisecond), op("job.process_total", 200*time.Millisecond),
				op("job.interpreter_import", imp), op("job.handshake", hs), op("job.round_trip", rt)}}
	}
	cases := []struct {
		name        string
		imp, hs, rt time.Duration
		want        string
	}{
		{"holds", 100 * time.Millisecond, 5 * time.Millisecond, time.Millisecond, "the claim holds"},
		{"does not hold", 10 * time.Millisecond, 5 * time.Millisecond, time.Millisecond, "the claim does not hold"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := &Run{Schema: SchemaVersion, Command: "authbench run -scenario python-message", Results: []*Result{
				res("plain", c.imp, c.hs/2, c.rt), res("curve", c.imp, c.hs, c.rt)}}
			var buf bytes.Buffer
			if err := Report(&buf, []*Run{run}, ReportOptions{}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.Contains(out, "### Q-python") || !strings.Contains(out, c.want) {
				t.Errorf("report lacks %q in Q-python:\n%s", c.want, out)
			}
		})
	}
}
