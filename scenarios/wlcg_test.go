package scenarios

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/flows"
	"github.com/authbench/authbench/schemes"
)

// TestWlcgParseErrors: a bad wlcg group is one error line with
// file:line:column and what was expected.
func TestWlcgParseErrors(t *testing.T) {
	head := "name: x\nduration: 10s\nwlcg:\n"
	cases := []struct {
		name, yaml string
		line, col  int
		want       string
	}{
		{"unknown key", head + "  flow: user\n  rate: 1\n  both_se: true\n", 6, 3, `unknown key "both_se" in wlcg`},
		{"bad flow", head + "  flow: rucio\n  rate: 1\n", 4, 9, `wlcg.flow: want service, user or groups, got "rucio"`},
		{"no rate", head + "  flow: user\n", 4, 3, "wlcg.rate: want more than 0"},
		{"bad arrival", head + "  flow: user\n  rate: 1\n  arrival: bursty\n", 6, 12, `wlcg.arrival: want constant or poisson`},
		{"fractional lifetime", head + "  flow: user\n  rate: 1\n  access_lifetime: 1500ms\n", 6, 20, "wlcg.access_lifetime: want whole seconds"},
		{"margin", head + "  flow: user\n  rate: 1\n  access_lifetime: 2s\n  margin: 1500ms\n", 7, 11, "wlcg.margin: access_lifetime − margin"},
		{"small margin", head + "  flow: user\n  rate: 1\n  access_lifetime: 10s\n  margin: 100ms\n", 7, 11, "wlcg.margin: want at least 1s"},
		{"refresh shorter", head + "  flow: user\n  rate: 1\n  access_lifetime: 10s\n  refresh_lifetime: 5s\n", 7, 21, "wlcg.refresh_lifetime: must be at least access_lifetime"},
		{"both waits", head + "  flow: user\n  rate: 1\n  queue_wait: {mean: 1s, waits: [1s]}\n", 6, 15, "wlcg.queue_wait: give mean or waits, not both"},
		{"empty queue wait", head + "  flow: user\n  rate: 1\n  queue_wait: {}\n", 6, 15, "wlcg.queue_wait: empty"},
		{"negative wait", head + "  flow: user\n  rate: 1\n  queue_wait: {waits: [1s, -2s]}\n", 6, 28, "wlcg.queue_wait.waits[1]: want 0 to"},
		{"wait not a duration", head + "  flow: user\n  rate: 1\n  queue_wait: {mean: long}\n", 6, 22, "want a duration"},
		{"groups in the user flow", head + "  flow: user\n  rate: 1\n  groups: 3\n", 6, 11, "wlcg.groups: applies to flow groups only"},
		{"with a cli group", head + "  flow: user\n  rate: 1\ncli: {rate: 1}\n", 4, 3, "wlcg: a WLCG flow runs alone"},
		{"with a server", head + "  flow: user\n  rate: 1\nserver: {model: cylc}\n", 6, 9, "server: a WLCG flow runs no WFS"},
		{"with a warmup", "name: x\nwarmup: 1s\nduration: 10s\nwlcg:\n  flow: user\n  rate: 1\n", 2, 9, "warmup: not with wlcg"},
		{"unbounded", "name: x\nwlcg:\n  flow: user\n  rate: 1\n", 3, 3, "wlcg.total: neither total nor a duration"},
		{"both_ses not a bool", head + "  flow: user\n  rate: 1\n  both_ses: yes please\n", 6, 13, "want true or false"},
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
			if m[1] != itoa(c.line) || m[2] != itoa(c.col) {
				t.Errorf("position %s:%s, want %d:%d in %q", m[1], m[2], c.line, c.col, msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("%q does not say %q", msg, c.want)
			}
		})
	}
}

// TestWlcgBuiltinsFlowConfig: the built-in WLCG scenarios are the three
// flows, with a both-SEs token, scaled lifetimes and Poisson arrivals.
func TestWlcgBuiltinsFlowConfig(t *testing.T) {
	for name, flow := range map[string]string{"wlcg-transfer-service": "service", "wlcg-transfer-user": "user", "wlcg-transfer-groups": "groups"} {
		sc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		fc := sc.WLCG.FlowConfig(sc.Seed, sc.Duration.D())
		if string(fc.Flow) != flow || !fc.BothSEs || fc.AccessLifetime != 2*time.Second || fc.Pacer == nil || fc.Waits.Mean != time.Second {
			t.Errorf("%s: %+v", name, fc)
		}
		yaml, _ := BuiltinYAML(name)
		if !strings.Contains(string(yaml), "seed 003") {
			t.Errorf("%s does not cite the notes", name)
		}
	}
}

func wlcgScheme(t *testing.T, spec string) *schemes.Scheme {
	t.Helper()
	sc, err := schemes.Builtin().Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestWlcgFlowRun: the engine runs a scenario with a wlcg group as the
// flow driver, no WFS, and the result carries the issuer's round trips and
// tokens stored per transfer; the table of them goes to the progress
// writer. (wlcg-transfer-user, cut to 15 transfers at 10/s.)
func TestWlcgFlowRun(t *testing.T) {
	sc, err := Load("wlcg-transfer-user")
	if err != nil {
		t.Fatal(err)
	}
	sc.WLCG.Total, sc.WLCG.Rate = 15, 10
	var prog bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Scenario: sc, Schemes: []*schemes.Scheme{wlcgScheme(t, "wlcg")}, WorkDir: t.TempDir(), Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results, want 1", len(res))
	}
	r := res[0]
	if r.Scenario != "wlcg-transfer-user" || r.Scheme != "wlcg" || r.Spec == nil || r.Spec.Credential != "wlcg" || r.Claims == nil ||
		r.Round != 1 || r.ServerProcess != nil || r.ScenarioHash == "" || r.Partial {
		t.Errorf("result fields: %+v", r)
	}
	st := r.SchemeStats
	if st["flow.transfers"] != 15 || st["flow.transfers_failed"] != 0 {
		t.Fatalf("transfers %v, failed %v", st["flow.transfers"], st["flow.transfers_failed"])
	}
	for _, name := range []string{"issuer.round_trips_per_transfer", "issuer.token_exchange_per_transfer",
		"issuer.access_stored_per_transfer", "issuer.refresh_stored_per_transfer", "model.round_trips_per_transfer"} {
		if st[name] <= 0 {
			t.Errorf("%s = %v", name, st[name])
		}
	}
	// Exchange 2 per transfer, and exchange 1 at least once.
	if ex := st["issuer.token_exchange_per_transfer"]; ex <= 1 || ex > 2 {
		t.Errorf("token exchanges per transfer %v, want in (1, 2]", ex)
	}
	if o := r.Op(flows.OpTransfer); o == nil || o.Count != 15 || o.ErrorCount() != 0 {
		t.Errorf("op %s: %+v", flows.OpTransfer, o)
	}
	if !strings.Contains(prog.String(), "issuer round trips") || !strings.Contains(prog.String(), "refresh tokens stored") {
		t.Errorf("progress has no per-transfer table:\n%s", prog.String())
	}
	if cs, err := CheckThresholds(sc, res); err != nil || len(cs) != 0 {
		t.Errorf("thresholds: %v %v", cs, err)
	}
}

// TestWlcgNeedsWlcgScheme: a WLCG flow scenario with another scheme is one
// error line saying which scheme to use, and runs nothing.
func TestWlcgNeedsWlcgScheme(t *testing.T) {
	sc, err := Load("wlcg-transfer-service")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{wlcgScheme(t, "jwt")}, WorkDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "scenario wlcg-transfer-service runs WLCG token flows: use -schemes wlcg") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
}
