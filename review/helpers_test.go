package review

import (
	"testing"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// The test schemes: specs and the claims the real schemes declare that the
// rules read.
var (
	authn    = vocab.Claims{Authenticates: true}
	plain    = tscheme{"plain", vocab.Claims{}}
	planA    = tscheme{"jwt:command", vocab.Claims{Authenticates: true, ReplayProof: true}}
	planB1   = tscheme{"jwt:shared=10s", authn}
	planB2   = tscheme{"jwt:timed=60s/6s", vocab.Claims{Authenticates: true, Expires: true}}
	jobFile  = tscheme{"jwt:job=file", vocab.Claims{Authenticates: true, JobRevocation: true}}
	jobComb  = tscheme{"jwt:job=combined", vocab.Claims{Authenticates: true, JobRevocation: true}}
	jobStat  = tscheme{"jwt:job=status", vocab.Claims{Authenticates: true, JobRevocation: true}}
	curve    = tscheme{"curve", vocab.Claims{Authenticates: true, Confidential: true, RepliesConfidential: true}}
	curveJob = tscheme{"curve-job", vocab.Claims{Authenticates: true, Confidential: true, RepliesConfidential: true, JobRevocation: true}}
	jwt      = tscheme{"jwt", authn}
	jwe      = tscheme{"jwe", vocab.Claims{Authenticates: true, Confidential: true}}
	wlcg     = tscheme{"wlcg:command", vocab.Claims{Authenticates: true, Expires: true}}
)

type tscheme struct {
	name   string
	claims vocab.Claims
}

// fig is one round's figures for a synthetic result.
type fig struct {
	lat   time.Duration // every op recorded at this latency
	ops   int           // ops recorded (default 200)
	cpu   time.Duration // WFS CPU per operation (default 200µs)
	reqs  int           // WFS requests per operation (default 1)
	files int64         // files created per job
	peak  int64
	errs  int64
	// stats are the result's SchemeStats (a flow's per-transfer figures).
	stats map[string]float64
}

// builder makes a synthetic run: one result per (scheme, round).
type builder struct {
	run     *results.Run
	budgets map[string]time.Duration
	// server is the serving model the results name ("" names none) and
	// sources the budgets' sources.
	server  string
	sources map[string]string
	// shares are the budgets stated as a share of the real client's time
	// (results.Result.BudgetShares).
	shares map[string]float64
}

func newRun(budgets map[string]time.Duration) *builder {
	return &builder{run: &results.Run{Schema: results.SchemaVersion, Command: "authbench run -test"}, budgets: budgets}
}

// add records rounds of scheme s in scenario sc on op, with the figures
// given per round.
func (b *builder) add(sc string, s tscheme, op string, rounds ...fig) *builder {
	sp, err := vocab.ParseSpec(s.name)
	if err != nil {
		panic(err)
	}
	for i, f := range rounds {
		if f.ops == 0 {
			f.ops = 200
		}
		if f.cpu == 0 {
			f.cpu = 200 * time.Microsecond
		}
		if f.reqs == 0 {
			f.reqs = 1
		}
		reqs := int64(f.ops * f.reqs)
		h := results.NewHistogram()
		for range f.ops {
			h.Record(f.lat)
		}
		o := &results.Op{Name: op, Count: int64(f.ops), Hist: h}
		if f.errs > 0 {
			o.Errors = map[string]int64{"timeout": f.errs}
		}
		c := s.claims
		spec := sp
		jobs := int64(100)
		b.run.Results = append(b.run.Results, &results.Result{
			Scenario: sc, Scheme: s.name, Canonical: sp.Canonical(), Spec: &spec, Claims: &c,
			Budgets: b.budgets, BudgetSources: b.sources, BudgetShares: b.shares, ServerModel: b.server, Round: i + 1, Duration: time.Second, Ops: []*results.Op{o},
			Jobs: jobs, Files: counters.FileStats{Created: f.files * jobs, PeakLive: f.peak}, SchemeStats: f.stats,
			Commands: commands(op, f.ops),
			Server:   counters.ServerStats{Requests: reqs},
			ServerProcess: &results.ServerProcess{Requests: reqs, UserSeconds: f.cpu.Seconds() * float64(f.ops),
				Handshake: &results.HandshakeProbe{Ops: 100, Fresh: f.cpu + time.Millisecond, Reused: f.cpu}},
		})
	}
	return b
}

// commands are the commands a synthetic round of op issued.
func commands(op string, ops int) int64 {
	if op == vocab.OpCLICommand {
		return int64(ops)
	}
	return 0
}

// evaluate is Evaluate, failing t on an error.
func evaluate(t testing.TB, runs []*results.Run, opts Options) *Model {
	t.Helper()
	m, err := Evaluate(runs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rounds makes n rounds at lat + delta(i).
func rounds(n int, lat time.Duration, delta func(i int) time.Duration, f fig) []fig {
	out := make([]fig, n)
	for i := range out {
		g := f
		g.lat = lat + delta(i)
		out[i] = g
	}
	return out
}

// steady is a small spread around d: d-2ms .. d+3ms.
func steady(d time.Duration) func(int) time.Duration {
	return func(i int) time.Duration { return d + time.Duration(i%6-2)*time.Millisecond }
}

// wide straddles d by ±100 ms.
func wide(d time.Duration) func(int) time.Duration {
	return func(i int) time.Duration { return d + time.Duration(i%6*40-100)*time.Millisecond }
}

var ms = time.Millisecond

// base is the baseline's rounds: 10 ms each.
func base(n int) []fig { return rounds(n, 10*ms, func(int) time.Duration { return 0 }, fig{}) }
