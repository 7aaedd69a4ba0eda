package scenarios

import (
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/schemes"
)

// TestCheckCodeRate: a load that needs more one-time codes of one identity
// than totp (one per step) or hotp (one in flight) gives is refused in one
// line naming the scenario, the key and the way out; a load within the
// rate, and any load under another scheme, passes (issue 24 #2, #15:
// smoke under totp ran at 1 operation a second; under hotp it lost 39-45 of
// 200 commands and exited 0).
func TestCheckCodeRate(t *testing.T) {
	smoke, err := Load("smoke")
	if err != nil {
		t.Fatal(err)
	}
	d := func(s string) Duration { v, _ := time.ParseDuration(s); return Duration(v) }
	cases := []struct {
		name   string
		sc     *Scenario
		scheme string
		probe  int
		want   string // "" passes
	}{
		{"smoke plain", smoke, "plain", 100, ""},
		{"smoke totp", smoke, "totp", 0, "cli is a closed loop (no cli.rate) of 200 commands as 1 user"},
		{"smoke totp job policy", smoke, "totp:job=30s/1", 0, "one code per identity per 30s step"},
		{"smoke hotp", smoke, "hotp", 0, "cli's 4 workers send at once as 1 user (cli.users); set cli.users to at least 4"},
		{"smoke hotp job policy", smoke, "hotp:job=3", 0, "refuses a counter below the last it accepted"},
		{"totp within rate", &Scenario{Name: "slow", Duration: d("1h"),
			CLI: &CLIGroup{Rate: 0.05, Concurrency: 2, Users: 2}}, "totp", 0, ""},
		{"totp over rate", &Scenario{Name: "fast", Duration: d("1m"),
			CLI: &CLIGroup{Rate: 1, Concurrency: 2, Users: 2}}, "totp", 0, "cli needs 15 codes per user per step (its peak rate over 2 users); give cli.rate at most 0.0667/s"},
		{"totp ramp peak", &Scenario{Name: "ramp",
			CLI: &CLIGroup{Stages: []Stage{{Duration: d("1m"), Rate: 0.01}, {Duration: d("1m"), Rate: 1}}, Concurrency: 1, Users: 1}}, "totp", 0, "cli needs 30 codes"},
		{"totp burst", &Scenario{Name: "burst", Duration: d("1m"),
			CLI: &CLIGroup{Burst: &Burst{Size: 5, Within: d("1s"), Every: d("1m")}, Concurrency: 5, Users: 5}}, "totp", 0, ""},
		{"totp burst over", &Scenario{Name: "burst", Duration: d("1m"),
			CLI: &CLIGroup{Burst: &Burst{Size: 5, Within: d("1s"), Every: d("1m")}, Concurrency: 5, Users: 2}}, "totp", 0, "cli needs 2.5 codes per user per step"},
		{"totp closed loop one each", &Scenario{Name: "few",
			CLI: &CLIGroup{Count: 2, Concurrency: 2, Users: 2}}, "totp", 0, ""},
		{"totp jobs three messages", &Scenario{Name: "jobs",
			Job: &JobGroup{Total: 10, Concurrency: 5, Messages: 3}}, "totp", 0, "each job is one identity and sends job.messages 3, job.think 0s apart; set job.think to at least 30s"},
		{"totp jobs think a step", &Scenario{Name: "jobs",
			Job: &JobGroup{Total: 10, Concurrency: 5, Messages: 3, Think: d("30s")}}, "totp", 0, ""},
		{"hotp jobs three messages", &Scenario{Name: "jobs",
			Job: &JobGroup{Total: 10, Concurrency: 5, Messages: 3}}, "hotp", 0, ""},
		{"totp pollers", &Scenario{Name: "uis", Duration: d("1m"),
			UIS: &UISGroup{Pollers: 1, Interval: d("200ms")}}, "totp", 0, "polls every uis.interval 200ms"},
		{"totp probe", &Scenario{Name: "jobs",
			Job: &JobGroup{Total: 10, Concurrency: 5, Messages: 2, Think: d("30s")}}, "totp", 100, "-probe 100"},
		{"hotp probe", &Scenario{Name: "jobs",
			Job: &JobGroup{Total: 10, Concurrency: 5, Messages: 2}}, "hotp", 100, ""},
		{"hotp users enough", &Scenario{Name: "cli",
			CLI: &CLIGroup{Count: 200, Concurrency: 4, Users: 4}}, "hotp", 0, ""},
		{"hotp open loop default workers", &Scenario{Name: "cli", Duration: d("1m"),
			CLI: &CLIGroup{Rate: 1, Users: 4}}, "hotp", 0, "cli's 32 workers send at once as 4 users"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.sc.Validate(); err != nil {
				t.Fatalf("the case's scenario: %v", err)
			}
			sch, err := schemes.Builtin().Parse(tc.scheme)
			if err != nil {
				t.Fatal(err)
			}
			err = CheckCodeRate(tc.sc, sch, tc.probe)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted; want a refusal saying %q", tc.want)
			case err != nil && (!strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") ||
				!strings.HasPrefix(err.Error(), "scenario "+tc.sc.Name+" cannot run under "+tc.scheme)):
				t.Fatalf("got %q, want one line saying %q", err, tc.want)
			}
		})
	}
}

// TestCheckCodeRateBuiltins: no built-in scenario is refused under a
// scheme without one-time codes.
func TestCheckCodeRateBuiltins(t *testing.T) {
	scs, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scs {
		name := sc.Name
		for _, spec := range []string{"plain", "curve", "jwt"} {
			sch, err := schemes.Builtin().Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckCodeRate(sc, sch, 100); err != nil {
				t.Errorf("%s under %s: %v", name, spec, err)
			}
		}
	}
}
