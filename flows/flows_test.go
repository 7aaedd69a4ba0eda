package flows

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/wlcg/rp"
)

// run runs cfg and fails the test on an error or a failed transfer.
func run(t *testing.T, cfg Config) *results.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := res.SchemeStats
	if st["flow.transfers"] != float64(cfg.Total) || st["flow.transfers_failed"] != 0 || st["flow.transfers_dropped"] != 0 {
		t.Fatalf("transfers %v, failed %v, dropped %v; want %d, 0, 0; ops errors %v",
			st["flow.transfers"], st["flow.transfers_failed"], st["flow.transfers_dropped"], cfg.Total, opErrors(res))
	}
	for _, se := range []string{"se_a", "se_b"} {
		if st[se+".accepted"] != float64(cfg.Total) || st[se+".refused"] != 0 {
			t.Errorf("%s accepted %v, refused %v; want %d, 0", se, st[se+".accepted"], st[se+".refused"], cfg.Total)
		}
	}
	if o := res.Op(OpTransfer); o == nil || o.Count != int64(cfg.Total) {
		t.Errorf("op %s: %+v, want %d", OpTransfer, o, cfg.Total)
	}
	if st["issuer.refused"] != 0 {
		t.Errorf("issuer refused %v requests", st["issuer.refused"])
	}
	return res
}

func opErrors(r *results.Result) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for _, o := range r.Ops {
		if len(o.Errors) > 0 {
			out[o.Name] = o.Errors
		}
	}
	return out
}

// want checks st[name] == v.
func want(t *testing.T, st map[string]float64, name string, v float64) {
	t.Helper()
	if got, ok := st[name]; !ok || math.Abs(got-v) > 1e-9 {
		t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
	}
}

// long is a lifetime no test outlives: every reusable token is fetched once.
const long = 120 * time.Second

// TestService: the service flow gets Rucio's token once (reused), then
// per transfer one client-credentials token for both SEs, or one per SE;
// no exchange, no refresh token. One token for both SEs halves the
// storage tokens stored.
func TestService(t *testing.T) {
	const n = 20
	both := run(t, Config{Flow: Service, Rate: 40, Total: n, BothSEs: true, AccessLifetime: long})
	perSE := run(t, Config{Flow: Service, Rate: 40, Total: n, AccessLifetime: long})
	for _, c := range []struct {
		res *results.Result
		a   float64 // storage tokens per transfer
	}{{both, 1}, {perSE, 2}} {
		st := c.res.SchemeStats
		want(t, st, "issuer.client_credentials", c.a*n+1)
		want(t, st, "issuer.client_credentials_per_transfer", c.a+1.0/n)
		want(t, st, "leg.storage_cc", c.a*n)
		want(t, st, "leg.t_fts", 1)
		want(t, st, "issuer.token_exchange", 0)
		want(t, st, "issuer.refresh", 0)
		want(t, st, "issuer.refresh_stored", 0)
		want(t, st, "issuer.access_stored", c.a*n+1)
		want(t, st, "issuer.round_trips_per_transfer", c.a+1.0/n)
		if st["issuer.bytes_per_transfer"] <= 0 {
			t.Errorf("bytes per transfer %v", st["issuer.bytes_per_transfer"])
		}
	}
	storage := func(r *results.Result) float64 {
		return r.SchemeStats["issuer.access_stored"] - r.SchemeStats["leg.t_fts"]
	}
	if storage(perSE) != 2*storage(both) {
		t.Errorf("storage tokens stored: per SE %v, both SEs %v: want half", storage(perSE), storage(both))
	}
	// The model: with a token reused for the whole run, Rucio's leg is
	// small; the storage leg is a per transfer.
	want(t, both.SchemeStats, "model.client_credentials_per_transfer", both.SchemeStats["model.round_trips_per_transfer"])
	if m := both.SchemeStats["model.round_trips_per_transfer"]; m < 1 || m > 1.1 {
		t.Errorf("model round trips per transfer %v, want 1 and a little", m)
	}
}

// TestServiceNoReuse: without reuse Rucio asks for its token per transfer.
func TestServiceNoReuse(t *testing.T) {
	const n = 10
	st := run(t, Config{Flow: Service, Rate: 40, Total: n, BothSEs: true, NoReuse: true, AccessLifetime: long}).SchemeStats
	want(t, st, "issuer.client_credentials_per_transfer", 2)
	want(t, st, "model.round_trips_per_transfer", 2)
}

// TestUserExchanges: the user flow does Rucio's exchange 1 and FTS's
// exchange 2 per transfer (without reuse), each exchange 2 storing an
// access and a refresh token; the user's login is one client-credentials
// token for the session. With reuse, exchange 1 is once per user.
func TestUserExchanges(t *testing.T) {
	const n = 12
	st := run(t, Config{Flow: User, Rate: 40, Total: n, BothSEs: true, NoReuse: true, AccessLifetime: long}).SchemeStats
	want(t, st, "issuer.token_exchange_per_transfer", 2)
	want(t, st, "issuer.client_credentials", 1)
	want(t, st, "leg.login", 1)
	want(t, st, "issuer.refresh_stored_per_transfer", 1)
	want(t, st, "issuer.access_stored", 2*n+1)
	want(t, st, "issuer.refresh", 0)
	want(t, st, "issuer.round_trips_per_transfer_without_login", 2)
	want(t, st, "model.round_trips_per_transfer", 2)
	want(t, st, "model.token_exchange_per_transfer", 2)

	st = run(t, Config{Flow: User, Rate: 40, Total: n, AccessLifetime: long, Users: 2}).SchemeStats
	// One exchange 2 per SE, exchange 1 and a login per user.
	want(t, st, "leg.exchange2", 2*n)
	if l := st["leg.login"]; l < 1 || l > 2 {
		t.Errorf("logins %v, want one per user who submitted", l)
	}
	want(t, st, "leg.t_fts", st["leg.login"])
	want(t, st, "issuer.refresh_stored_per_transfer", 2)
}

// TestUserRefreshes: a transfer waiting longer than the access lifetime
// minus the margin has its token refreshed while it waits, at least as
// often as the model's keep-fresh policy says (whole-second exp claims
// shorten the real window); one waiting less needs none. Every refresh
// stores an access and a refresh token.
func TestUserRefreshes(t *testing.T) {
	const n = 6
	base := Config{Flow: User, Rate: 20, Total: n, BothSEs: true, AccessLifetime: 2 * time.Second, Margin: time.Second}
	cases := []struct {
		name    string
		wait    time.Duration
		bothSEs bool
	}{
		{"short wait", 200 * time.Millisecond, true},
		{"long wait", 2500 * time.Millisecond, true},
		{"long wait per SE", 2500 * time.Millisecond, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			cfg.BothSEs = c.bothSEs
			cfg.Waits = Waits{List: []time.Duration{c.wait}}
			res := run(t, cfg)
			st := res.SchemeStats
			chains := 1.0
			if !c.bothSEs {
				chains = 2
			}
			in := issuerload.Inputs{AccessLifetime: cfg.AccessLifetime, RefreshLifetime: time.Hour, Margin: cfg.Margin}
			expect, _ := in.Refreshes(c.wait)
			// The wait is 0.5 s from a window's end: the keep-fresh
			// schedule gives exactly the model's count.
			got := st["issuer.refresh_per_transfer"]
			if got != chains*float64(expect) {
				t.Errorf("refreshes per transfer %v, want %v", got, chains*float64(expect))
			}
			want(t, st, "model.refresh_per_transfer", chains*float64(expect))
			want(t, st, "issuer.refreshes", st["issuer.refresh"])
			want(t, st, "leg.refresh", st["issuer.refresh"])
			want(t, st, "issuer.refresh_stored", chains*n+st["issuer.refresh"])
			if c.wait > time.Second {
				// The transfer latency is timed from the intended start,
				// after the queue wait.
				if p := res.Op(OpTransfer).Hist.Percentile(50); p > time.Second {
					t.Errorf("transfer p50 %s includes the queue wait", p)
				}
			}
		})
	}
}

// TestGroups: group tokens are reused across the group's transfers, so
// the issuer sees fewer than one request per transfer; with a short
// lifetime they are refreshed by their refresh tokens, not exchanged again.
func TestGroups(t *testing.T) {
	const n = 30
	st := run(t, Config{Flow: Groups, Rate: 40, Total: n, BothSEs: true, Groups: 2, AccessLifetime: long}).SchemeStats
	want(t, st, "leg.exchange2", 2) // one key per group
	want(t, st, "issuer.round_trips", 4)
	if rt := st["issuer.round_trips_per_transfer"]; rt >= 1 {
		t.Errorf("round trips per transfer %v, want below 1", rt)
	}
	st = run(t, Config{Flow: Groups, Rate: 40, Total: n, Groups: 2, AccessLifetime: long}).SchemeStats
	want(t, st, "leg.exchange2", 4) // a key per group and SE

	st = run(t, Config{Flow: Groups, Rate: 15, Total: n, BothSEs: true, Groups: 1,
		AccessLifetime: 2 * time.Second, Margin: time.Second}).SchemeStats
	if st["leg.refresh"] < 1 {
		t.Errorf("no refresh over %d transfers at 15/s with a 2s lifetime", n)
	}
	if st["leg.exchange2"] != 1 {
		t.Errorf("exchange 2 %v times, want once (then refreshes)", st["leg.exchange2"])
	}
	if rt := st["issuer.round_trips_per_transfer"]; rt >= 1 {
		t.Errorf("round trips per transfer %v, want below 1", rt)
	}
}

// TestGroupsNoReuse: without reuse the groups flow is the user flow with
// group scopes.
func TestGroupsNoReuse(t *testing.T) {
	const n = 8
	st := run(t, Config{Flow: Groups, Rate: 40, Total: n, BothSEs: true, NoReuse: true, Groups: 3, AccessLifetime: long}).SchemeStats
	want(t, st, "issuer.token_exchange_per_transfer", 2)
	want(t, st, "model.token_exchange_per_transfer", 2)
}

// TestSERefusals: the SEs verify the token against the issuer's JWKS, the
// profile's rules with their own audience, and the path by whole
// components.
func TestSERefusals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := Config{Flow: User, Rate: 1, Total: 1, Groups: 1}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Flow = Groups
	d, err := start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	read, err := d.clientCredentials(ctx, d.fts, LegStorageCC, "storage.read:/cms", AudienceSEA)
	if err != nil {
		t.Fatal(err)
	}
	create, err := d.clientCredentials(ctx, d.fts, LegStorageCC, "storage.create:/cms/out", AudienceSEA, AudienceSEB)
	if err != nil {
		t.Fatal(err)
	}
	ex1, err := d.tokenToFTS(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	group, err := d.exchange(ctx, d.fts, LegExchange2, ex1.access, "offline_access wlcg.groups:/cms/g0", AudienceSEA)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method string
		se           *storageElement
		path, token  string
		status       int
		label        string
	}{
		{"read in scope", http.MethodGet, d.seA, "/cms/file", read.access, 200, ""},
		{"read the scope's own path", http.MethodGet, d.seA, "/cms", read.access, 200, ""},
		{"read a sibling sharing a prefix", http.MethodGet, d.seA, "/cmsx/file", read.access, 403, rp.RefusedScope},
		{"read with a create token", http.MethodGet, d.seA, "/cms/out/f", create.access, 403, rp.RefusedScope},
		{"create in scope", http.MethodPut, d.seB, "/cms/out/f", create.access, 201, ""},
		{"create beside the scope", http.MethodPut, d.seB, "/cms/outx", create.access, 403, rp.RefusedScope},
		{"create with a read token", http.MethodPut, d.seA, "/cms/f", read.access, 403, rp.RefusedScope},
		{"wrong audience", http.MethodGet, d.seB, "/cms/file", read.access, 401, "audience"},
		{"no token", http.MethodGet, d.seA, "/cms/file", "", 401, rp.RefusedNoToken},
		{"forged signature", http.MethodGet, d.seA, "/cms/file", read.access[:len(read.access)-4] + "AAAA", 401, rp.RefusedSignature},
		{"not a JWT", http.MethodGet, d.seA, "/cms/file", "abc", 401, rp.RefusedMalformed},
		{"unclean path", http.MethodGet, d.seA, "/cms/../etc/passwd", read.access, 403, rp.RefusedScope},
		{"group area", http.MethodGet, d.seA, "/cms/g0/f", group.access, 200, ""},
		{"group area, create", http.MethodPut, d.seA, "/cms/g0/f", group.access, 201, ""},
		{"another group's area", http.MethodGet, d.seA, "/cms/g1/f", group.access, 403, rp.RefusedScope},
		{"a group area sharing a prefix", http.MethodGet, d.seA, "/cms/g0x/f", group.access, 403, rp.RefusedScope},
		{"group token, wrong audience", http.MethodGet, d.seB, "/cms/g0/f", group.access, 401, "audience"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, c.method, c.se.url+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := d.hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || resp.Header.Get(refusedHeader) != c.label {
				t.Errorf("%s %s: %d %q (%s), want %d %q", c.method, c.path, resp.StatusCode, resp.Header.Get(refusedHeader), strings.TrimSpace(string(body)), c.status, c.label)
			}
		})
	}
	// A TPC whose source token is for the wrong audience is refused by the
	// source, and counted as SE-A's refusal.
	err = d.copy(ctx, "/cms/out/f", create.access /* aud se-a se-b, but no read */, create.access)
	if kindOf(err) != "se_a."+rp.RefusedScope {
		t.Errorf("copy with a source token that cannot read: %v (%s), want se_a.%s", err, kindOf(err), rp.RefusedScope)
	}
	err = d.copy(ctx, "/cms/out/f", create.access, read.access)
	if kindOf(err) != "se_b.audience" {
		t.Errorf("copy with a destination token for SE-A: %v (%s), want se_b.audience", err, kindOf(err))
	}
}

// TestCancel: a run cancelled while transfers wait returns at once, partial,
// with the context's error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	begin := time.Now()
	res, err := Run(ctx, Config{Flow: User, Rate: 20, Duration: time.Minute, Waits: Waits{Mean: time.Minute}})
	if !errors.Is(err, context.Canceled) || res == nil || !res.Partial {
		t.Fatalf("got %v, %+v; want a partial result and context.Canceled", err, res)
	}
	if el := time.Since(begin); el > 10*time.Second {
		t.Errorf("took %s to stop", el)
	}
}

// TestDuration: a run bounded by a duration ends after it, with the
// transfers in flight finished.
func TestDuration(t *testing.T) {
	res, err := Run(context.Background(), Config{Flow: Service, Rate: 20, Duration: 500 * time.Millisecond, BothSEs: true})
	if err != nil {
		t.Fatal(err)
	}
	n := res.SchemeStats["flow.transfers"]
	if n < 8 || n > 12 || res.SchemeStats["flow.transfers_failed"] != 0 {
		t.Errorf("%v transfers (%v failed) in 0.5 s at 20/s", n, res.SchemeStats["flow.transfers_failed"])
	}
}

// TestConfigErrors: each bad setting is one error naming its field.
func TestConfigErrors(t *testing.T) {
	ok := Config{Flow: User, Rate: 5, Total: 10}
	cases := []struct {
		name   string
		change func(*Config)
		field  string
	}{
		{"flow", func(c *Config) { c.Flow = "rucio" }, "flow"},
		{"rate", func(c *Config) { c.Rate = 0 }, "rate"},
		{"rate NaN", func(c *Config) { c.Rate = math.NaN() }, "rate"},
		{"unbounded", func(c *Config) { c.Total = 0 }, "total"},
		{"fractional lifetime", func(c *Config) { c.AccessLifetime = 2500 * time.Millisecond }, "access_lifetime"},
		{"short refresh", func(c *Config) { c.AccessLifetime, c.RefreshLifetime = 10*time.Second, 5*time.Second }, "refresh_lifetime"},
		{"margin too large", func(c *Config) { c.AccessLifetime, c.Margin = 2*time.Second, 1500*time.Millisecond }, "margin"},
		{"margin under 1s", func(c *Config) { c.AccessLifetime, c.Margin = 4*time.Second, 500*time.Millisecond }, "margin"},
		{"lifetime too short for the default margin", func(c *Config) { c.AccessLifetime = time.Second }, "margin"},
		{"both waits", func(c *Config) { c.Waits = Waits{Mean: time.Second, List: []time.Duration{time.Second}} }, "queue_wait"},
		{"negative wait", func(c *Config) { c.Waits = Waits{List: []time.Duration{time.Second, -time.Second}} }, "queue_wait.waits[1]"},
		{"groups in the user flow", func(c *Config) { c.Groups = 3 }, "groups"},
		{"alg", func(c *Config) { c.Alg = "HS256" }, "alg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.change(&cfg)
			err := cfg.Validate()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != c.field || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want a one-line error about %s", err, c.field)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestIssuerDownMidFlow kills the issuer in the middle of each flow (issue
// 23 #5), or hangs it (its port listening, never answered): the transfers
// before it succeed; those that need it after fail, counted under the
// kind that names the fault (issuer.unreachable, issuer.timeout), and
// every transfer is either a success or a counted failure; the run ends
// within its duration plus one request timeout, with no error, and the
// result says when the issuer went down.
func TestIssuerDownMidFlow(t *testing.T) {
	const (
		duration = 2 * time.Second
		downAt   = 800 * time.Millisecond
		timeout  = 500 * time.Millisecond
	)
	cases := []struct {
		name string
		cfg  Config
		hang bool
		// kinds are the error kinds wlcg.transfer may count; want the one
		// it must.
		kinds []string
		want  string
	}{
		{"service killed", Config{Flow: Service, AccessLifetime: long}, false, []string{"issuer.unreachable"}, "issuer.unreachable"},
		{"user killed", Config{Flow: User, AccessLifetime: long}, false, []string{"issuer.unreachable"}, "issuer.unreachable"},
		// The groups flow reuses its keys' tokens: with 2 s tokens (used
		// while 1 s is left) it needs the issuer again within the run.
		{"groups killed", Config{Flow: Groups, Groups: 2, AccessLifetime: 2 * time.Second, Margin: time.Second}, false, []string{"issuer.unreachable"}, "issuer.unreachable"},
		// Requests on connections the kill cut are unreachable; later ones
		// wait out the timeout.
		{"service hung", Config{Flow: Service, AccessLifetime: long}, true, []string{"issuer.unreachable", "issuer.timeout"}, "issuer.timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Rate, cfg.Duration, cfg.RequestTimeout = 20, duration, timeout
			cfg.Fault = &Fault{IssuerDownAt: downAt, IssuerHang: c.hang}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			t0 := time.Now()
			res, err := Run(ctx, cfg)
			took := time.Since(t0)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			// Start-up (keys, the issuer, the SEs) comes before the
			// duration: allow a second for it.
			if limit := duration + timeout + time.Second; took > limit {
				t.Errorf("the run took %s, want at most %s (its duration, one request timeout and a second)", took, limit)
			}
			st := res.SchemeStats
			if at := st["fault.issuer_down_at_s"]; at < downAt.Seconds() || at > downAt.Seconds()+0.5 {
				t.Errorf("fault.issuer_down_at_s = %v, want about %v", at, downAt.Seconds())
			}
			tr := res.Op(OpTransfer)
			if tr == nil {
				t.Fatal("no wlcg.transfer op")
			}
			t.Logf("%v transfers: %d ok, errors %v (%v)", st["flow.transfers"], tr.Count, tr.Errors, took.Round(time.Millisecond))
			if tr.Count == 0 || tr.Errors[c.want] == 0 {
				t.Errorf("transfers ok %d, errors %v: want some before the fault and some failed with %s", tr.Count, tr.Errors, c.want)
			}
			for kind := range tr.Errors {
				if !slices.Contains(c.kinds, kind) {
					t.Errorf("transfers failed with %q (%d), want only %v", kind, tr.Errors[kind], c.kinds)
				}
			}
			if st["flow.transfers_ok"] != float64(tr.Count) || st["flow.transfers_failed"] != float64(tr.ErrorCount()) ||
				st["flow.transfers"] != st["flow.transfers_ok"]+st["flow.transfers_failed"] {
				t.Errorf("transfers %v = ok %v + failed %v; the op counts %d ok, %d errors",
					st["flow.transfers"], st["flow.transfers_ok"], st["flow.transfers_failed"], tr.Count, tr.ErrorCount())
			}
		})
	}
}
