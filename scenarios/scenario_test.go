package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/results"
)

func TestBuiltinsParse(t *testing.T) {
	all, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"cli-burst", "cli-interactive", "cycle-point", "dispatch-burst", "job-storm", "live-jobs-10k",
		"python-message", "review-cli", "review-cli-burst", "review-cli-fast", "review-cli-nfs", "review-jobs", "review-jobs-burst", "review-jobs-nfs", "review-keys-100", "review-keys-1000",
		"review-python", "review-scale", "review-scale-site", "review-uis", "site-day", "smoke", "uis-poll", "uis-session", "user-loop",
		"wlcg-transfer-groups", "wlcg-transfer-service", "wlcg-transfer-user"}
	var got []string
	for _, s := range all {
		got = append(got, s.Name)
		if s.Description == "" {
			t.Errorf("%s: no description", s.Name)
		}
		// Design-review scenarios arrive open loop at stated rates; the
		// rest say they are stress or closed loop.
		open := len(closedLoop(s)) == 0
		if !open && !strings.Contains(s.Description, "stress") && !strings.Contains(s.Description, "closed loop") && s.Name != "smoke" && s.Name != "python-message" {
			t.Errorf("%s: closed-loop groups but the description says neither stress nor closed loop", s.Name)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("built-ins %v, want %v", got, want)
	}
}

// TestBadScenarioFiles checks that each bad file gives one error line with
// file:line:column and what was expected.
func TestBadScenarioFiles(t *testing.T) {
	cases := []struct {
		name, yaml string
		line, col  int
		want       string
	}{
		{"unknown top key", "name: x\nduraton: 1s\ncli: {concurrency: 1}\n", 2, 1, `unknown key "duraton"`},
		{"unknown cli key", "name: x\nduration: 1s\ncli:\n  concurency: 2\n", 4, 3, `unknown key "concurency" in cli`},
		{"wrong type", "name: x\nduration: 1s\ncli:\n  concurrency: many\n", 4, 16, "want a whole number"},
		{"bad duration", "name: x\nduration: ten\ncli: {concurrency: 1}\n", 2, 11, "want a duration"},
		{"negative rate", "name: x\nduration: 1s\ncli:\n  rate: -5\n", 4, 9, "cli.rate: must be positive"},
		// A typo was stored and never judged (issue 24 #14).
		{"unknown budget", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  comand_p99_budget: 1ns\n", 5, 22, `budgets.comand_p99_budget: unknown budget "comand_p99_budget": want KIND_pNN_budget with KIND one of command,`},
		{"two percentiles of one kind", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p50_budget: 1ms\n  command_p90_budget: 2ms\n", 6, 23, "a second command budget (with command_p50_budget): state one percentile"},
		{"budget source too long", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p50_budget: {value: 1ms, source: " + strings.Repeat("x", 501) + "}\n", 5, 44, "source: 501 characters: at most 500"},
		{"budget mapping with unknown key", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p50_budget: {value: 1ms, sauce: x}\n", 5, 36, "sauce"},
		{"zero budget", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p99_budget: 0s\n", 5, 23, "budgets.command_p99_budget: must be positive"},
		{"zero concurrency open", "name: x\nduration: 1s\ncli:\n  count: 3\n", 4, 3, "want rate, stages or burst"},
		{"no duration or count", "name: x\nuis: {pollers: 1, interval: 1s}\n", 1, 1, "neither duration nor count"},
		{"unknown command", "name: x\nduration: 1s\ncli:\n  concurrency: 1\n  mix: {ping: 1, explode: 2}\n", 5, 18, `unknown command "explode"`},
		{"all zero mix", "name: x\nduration: 1s\ncli:\n  concurrency: 1\n  mix: {ping: 0}\n", 5, 8, "all weights are zero"},
		{"one message", "name: x\njob:\n  total: 5\n  concurrency: 1\n  messages: 1\n", 5, 13, "at least 2"},
		{"fail ratio", "name: x\njob:\n  total: 5\n  concurrency: 1\n  messages: 2\n  fail_ratio: 2\n", 6, 15, "want 0 to 1"},
		{"bad connection", "name: x\nduration: 1s\ncli:\n  concurrency: 1\n  connection: sometimes\n", 5, 15, "want fresh or reuse"},
		{"rate and burst", "name: x\nduration: 1s\ncli:\n  rate: 2\n  burst: {size: 5, within: 1s, every: 2s}\n", 4, 3, "not several"},
		{"bad threshold", "name: x\nduration: 1s\ncli: {concurrency: 1}\nthresholds:\n  cli.command_total.p99: fast\n", 5, 26, "positive duration"},
		{"target without name", "name: x\njob:\n  total: 5\n  concurrency: 1\n  messages: 2\n  targets:\n    - {share: 1}\n", 7, 7, "needs a name"},
		{"bad process mode", "name: x\nduration: 1s\ncli:\n  concurrency: 1\n  process: maybe\n", 5, 12, "want false, true"},
		{"list expected", "name: x\nduration: 1s\njob:\n  total: 1\n  concurrency: 1\n  messages: 2\n  targets: localhost\n", 7, 12, "want a list"},
		{"absurd concurrency", "name: x\nduration: 1s\ncli:\n  concurrency: 100000000\n", 4, 16, "at most 20000"},
		{"absurd rate", "name: x\nduration: 1s\ncli:\n  rate: 1e300\n", 4, 9, "at most 100000"},
		{"absurd job total", "name: x\njob:\n  total: 100000000\n  concurrency: 1\n  messages: 2\n", 3, 10, "at most 10000000"},
		{"absurd job concurrency", "name: x\njob:\n  total: 10\n  concurrency: 30000\n  messages: 2\n", 4, 16, "at most 20000"},
		{"absurd pollers", "name: x\nduration: 1s\nuis: {pollers: 5000, interval: 1s}\n", 3, 16, "want 1 to 1000"},
		{"subscribe under fast", "name: x\nduration: 1s\nuis: {pollers: 1, interval: 1s, subscribe: true}\n", 3, 44, "uis.subscribe: only with server: {model: cylc}"},
		{"delta size without subscribe", "name: x\nduration: 1s\nuis: {pollers: 1, interval: 1s, delta_size: 100}\n", 3, 45, "uis.delta_size: only with subscribe: true"},
		{"tiny delta", "name: x\nduration: 1s\nserver: {model: cylc}\nuis: {pollers: 1, interval: 1s, subscribe: true, delta_size: 4}\n", 4, 62, "uis.delta_size: want 8 to 524288 bytes, got 4"},
		{"publish rate past the main loop", "name: x\nduration: 1s\nserver: {model: cylc}\nuis: {pollers: 1, interval: 1s, subscribe: true, publish_rate: 2}\n", 4, 64, "uis.publish_rate: want 0 to 1 deltas a second"},
		{"bad cli arrival", "name: x\nduration: 1s\ncli:\n  rate: 5\n  arrival: bursty\n", 5, 12, `cli.arrival: want constant or poisson, got "bursty"`},
		{"cli arrival without rate", "name: x\nduration: 1s\ncli:\n  concurrency: 1\n  arrival: poisson\n", 5, 12, "cli.arrival: applies to rate only"},
		{"cli arrival with stages", "name: x\ncli:\n  stages: [{duration: 1s, rate: 5}]\n  arrival: constant\n", 4, 12, "cli.arrival: applies to rate only"},
		{"cli arrival list", "name: x\nduration: 1s\ncli:\n  rate: 5\n  arrival: [poisson]\n", 5, 12, "cli.arrival: want a string value"},
		{"bad job arrival", "name: x\njob:\n  total: 5\n  concurrency: 1\n  messages: 2\n  rate: 2\n  arrival: Poisson\n", 7, 12, `job.arrival: want constant or poisson, got "Poisson"`},
		{"job arrival without rate", "name: x\njob:\n  total: 5\n  concurrency: 1\n  messages: 2\n  arrival: poisson\n", 6, 12, "job.arrival: applies to rate only"},
		{"job arrival with cycle points", "name: x\njob:\n  cycle_points: 2\n  tasks_per_cycle: 3\n  cycle_interval: 1s\n  concurrency: 1\n  messages: 2\n  arrival: poisson\n", 8, 12, "job.arrival: applies to rate only: give rate, or drop arrival"},
		{"unknown server model", "name: x\nduration: 1s\ncli: {concurrency: 1}\nserver: {model: slow}\n", 4, 17, `server.model: unknown server model "slow": want fast or cylc`},
		{"server model in capitals", "name: x\nduration: 1s\ncli: {concurrency: 1}\nserver:\n  model: Cylc\n", 5, 10, `server.model: unknown server model "Cylc": want fast or cylc`},
		{"negative service CPU", "name: x\nduration: 1s\ncli: {concurrency: 1}\nserver: {model: cylc, service_cpu: -1ms}\n", 4, 36, "server.service_cpu: want 0 to 1s"},
		// The real client's job group (issue 22 #4): every process is a
		// Python interpreter of about 0.3 s CPU.
		{"cylc jobs none", "name: x\nduration: 1s\ncli: {concurrency: 1}\ncylc_jobs: {total: 0, messages: 2}\n", 4, 20, "cylc_jobs.total: want 1 to 200 jobs a round, got 0"},
		{"cylc jobs messages", "name: x\nduration: 1s\ncli: {concurrency: 1}\ncylc_jobs: {total: 3, messages: 30}\n", 4, 33, "cylc_jobs.messages: want 1 to 20, got 30"},
		{"cylc jobs concurrency", "name: x\nduration: 1s\ncli: {concurrency: 1}\ncylc_jobs: {total: 3, concurrency: 50}\n", 4, 36, "cylc_jobs.concurrency: want 1 to 16, got 50"},
		{"cylc jobs rate", "name: x\nduration: 1s\ncli: {concurrency: 1}\ncylc_jobs: {total: 3, rate: -1}\n", 4, 29, "cylc_jobs.rate: want 0"},
		{"cylc jobs arrival", "name: x\nduration: 1s\ncli: {concurrency: 1}\ncylc_jobs: {total: 3, arrival: bursty}\n", 4, 32, `cylc_jobs.arrival: want constant or poisson, got "bursty"`},
		{"cylc jobs with wlcg", "name: x\nduration: 1s\nwlcg: {flow: service, rate: 1}\ncylc_jobs: {total: 3}\n", 4, 12, "cylc_jobs: not with wlcg"},
		{"of_real on another budget", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p50_budget: {value: 1ms, of_real: 0.1}\n", 5, 45, "budgets.command_p50_budget.of_real: only python_added_budget is a share of a real client's time"},
		{"of_real over one", "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  python_added_budget: {value: 1ms, of_real: 2}\n", 5, 46, "budgets.python_added_budget.of_real: 2: want a share above 0 and at most 1"},
		{"no groups", "name: x\nduration: 1s\n", 1, 1, "no client groups"},
		{"empty", "", 1, 1, "empty scenario"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("parsed; want an error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %q", msg)
			}
			m := regexp.MustCompile(`^bad\.yaml:(\d+):(\d+): `).FindStringSubmatch(msg)
			if m == nil {
				t.Fatalf("no file:line:column in %q", msg)
			}
			if want := []string{itoa(c.line), itoa(c.col)}; m[1] != want[0] || m[2] != want[1] {
				t.Errorf("position %s:%s, want %d:%d in %q", m[1], m[2], c.line, c.col, msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("%q does not say %q", msg, c.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestServerModelField: a scenario's server.model names the WFS model the
// engine asks (wfs.ParseModel), the default when unset.
func TestServerModelField(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string
		probe      bool
	}{
		{"unset", "", "fast", true},
		{"empty", "server: {}\n", "fast", true},
		{"fast", "server: {model: fast}\n", "fast", true},
		{"cylc", "server: {model: cylc}\n", "cylc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("f.yaml", []byte("name: x\nduration: 1s\ncli: {concurrency: 1}\n"+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			m, err := sc.Server.WFSModel()
			if err != nil {
				t.Fatal(err)
			}
			if m.Name() != tc.want || m.HandshakeProbe() != tc.probe {
				t.Fatalf("model %s (probe %v), want %s (probe %v)", m.Name(), m.HandshakeProbe(), tc.want, tc.probe)
			}
		})
	}
}

func TestThresholdParse(t *testing.T) {
	good := map[string]string{"errors": "0", "cli.command_total.p99": "50ms", "job.message.p99.9": "1s", "uis.poll.max": "2s", "job.message.errors": "3"}
	for k, v := range good {
		if _, err := ParseThreshold(k, v); err != nil {
			t.Errorf("%s: %s: %v", k, v, err)
		}
	}
	bad := map[string]string{"errors": "-1", "cli.p99": "50ms", "cli.command_total.pxx": "1s", "cli.command_total": "1s", "uis.poll.max": "0s"}
	for k, v := range bad {
		if _, err := ParseThreshold(k, v); err == nil {
			t.Errorf("%s: %s accepted", k, v)
		}
	}
}

// TestScenarioFileKinds: only a regular file of at most MaxScenarioFile
// bytes is read; a FIFO (which would block), a device (which never ends), a
// directory or a large file is one clear error, at once.
func TestScenarioFileKinds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxScenarioFile + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct{ name, path, want string }{
		{"fifo", fifo, "not a regular file"},
		{"device", "/dev/zero", "not a regular file"},
		{"directory", dir + "/.", "not a regular file"},
		{"too big", big, "more than the 1048576"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := Load(tc.path); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line with %q", err, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Load blocked")
			}
		})
	}
}

// TestCheckUnique: two scenarios of one name in one run are refused, naming
// both sources.
func TestCheckUnique(t *testing.T) {
	a, b := &Scenario{Name: "smoke", Source: "built-in smoke"}, &Scenario{Name: "smoke", Source: "mine.yaml"}
	err := CheckUnique([]*Scenario{a, &Scenario{Name: "other"}, b})
	if err == nil || !strings.Contains(err.Error(), "built-in smoke") || !strings.Contains(err.Error(), "mine.yaml") {
		t.Fatalf("got %v", err)
	}
	if err := CheckUnique([]*Scenario{a, {Name: "other"}}); err != nil {
		t.Fatal(err)
	}
}

// TestThresholdNoData: a threshold evaluated on zero operations fails; it
// never passes (every request rejected left no latency to judge).
func TestThresholdNoData(t *testing.T) {
	sc := &Scenario{Name: "x", Thresholds: map[string]string{"cli.command_total.p99": "50ms", "errors": "0"}}
	res := []*results.Result{{Scenario: "x", Scheme: "jwt"}}
	cs, err := CheckThresholds(sc, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("crossings %v, want both thresholds failed for want of data", cs)
	}
	for _, c := range cs {
		if !c.NoData || !strings.Contains(c.String(), "no operations") {
			t.Errorf("%s: %+v", c.String(), c)
		}
	}
	// All rejected: the latency has no data; the error count does.
	res[0].Ops = []*results.Op{{Name: vocab.OpCLICommand, Errors: map[string]int64{"rejected": 40}, Hist: results.NewHistogram()}}
	cs, _ = CheckThresholds(sc, res)
	var noData, errs int
	for _, c := range cs {
		if c.NoData {
			noData++
		} else if c.Threshold.Stat == "errors" && c.Got == 40 {
			errs++
		}
	}
	if noData != 1 || errs != 1 {
		t.Fatalf("crossings %v: want the p99 without data and 40 errors", cs)
	}
}

// TestYAMLErrorsOneLine: syntax errors, a duplicate key, a tab and a second
// document are each one line with file:line:column.
func TestYAMLErrorsOneLine(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"duplicate key", "name: x\nduration: 1s\nduration: 2s\ncli: {concurrency: 1}\n", `f.yaml:3:1: `},
		{"tab", "name: x\nduration: 1s\ncli:\n\tconcurrency: 1\n", "f.yaml:4:1: "},
		{"second document", "name: x\nduration: 1s\ncli: {concurrency: 1}\n---\nname: y\n", "f.yaml:4:1: a second YAML document"},
		{"no client groups", "name: x\nduration: 1s\n", "f.yaml:1:1: "},
		{"unclosed flow", "name: x\ncli: {concurrency: 1\n", "f.yaml:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %q, want one line starting %q", err, tc.want)
			}
			if !regexp.MustCompile(`^f\.yaml:\d+:\d+: `).MatchString(err.Error()) {
				t.Fatalf("got %q, want file:line:column", err)
			}
		})
	}
}
