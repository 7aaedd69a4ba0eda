package issuerload

import (
	"strings"
	"testing"
	"time"
)

// TestBuiltinSite: fts-run3 parses, cites its source, and its three
// lifetimes give three models whose issuer load falls as the lifetime
// grows (a longer-lived token is reused more).
func TestBuiltinSite(t *testing.T) {
	s, err := LoadSite("fts-run3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Source, "10.1051/epjconf/202429501031") || s.TransfersPerHour != 118500 {
		t.Errorf("site %+v", s)
	}
	ms, err := s.Models()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].Inputs.AccessLifetime != 20*time.Minute || ms[2].Inputs.AccessLifetime != 6*time.Hour {
		t.Fatalf("models at %d lifetimes", len(ms))
	}
	u0, u2 := ms[0].Flow(FlowUser), ms[2].Flow(FlowUser)
	if !(u2.Requests.Total() < u0.Requests.Total()) {
		t.Errorf("user flow: %.0f requests/h at 6 h against %.0f at 20 min, want fewer", u2.Requests.Total(), u0.Requests.Total())
	}
}

// TestBadSites: each bad file is one line naming the file, the line and
// the problem.
func TestBadSites(t *testing.T) {
	good := "name: x\nsource: y\ntransfers_per_hour: 10\nqueue_wait_mean: 1m\naccess_lifetimes: [20m]\nrefresh_lifetime: 240h\nmargin: 5m\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", good + "lifetime: 1h\n", "x.yaml:8: "},
		{"no source", strings.Replace(good, "source: y", "source: ''", 1), "x.yaml:2: source: required"},
		{"lifetime under margin", strings.Replace(good, "[20m]", "[20m, 1m]", 1), "x.yaml:5: access_lifetimes[1]: 1m0s: want more than margin"},
		{"zero rate", strings.Replace(good, "transfers_per_hour: 10", "transfers_per_hour: 0", 1), "x.yaml:3: transfers_per_hour: want more than 0"},
		{"NaN rate", strings.Replace(good, "transfers_per_hour: 10", "transfers_per_hour: .nan", 1), "x.yaml:3: transfers_per_hour: want a number"},
		{"empty", "", "x.yaml:1: empty"},
	} {
		_, err := ParseSite("x.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line with %q", tc.name, err, tc.want)
		}
	}
	if _, err := ParseSite("x.yaml", []byte(good)); err != nil {
		t.Errorf("good: %v", err)
	}
	if _, err := LoadSite("nowhere"); err == nil || !strings.Contains(err.Error(), "fts-run3") {
		t.Errorf("unknown built-in: %v, want the list", err)
	}
}
