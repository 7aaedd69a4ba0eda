package scenarios

import (
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// burnCPU is the CPU the burn credential's server spends verifying each
// request.
const burnCPU = 3 * time.Millisecond

// burnPart is a test credential whose server burns burnCPU of its own
// thread's CPU time on every request: a known cost for the accounting.
type burnPart struct{}

func (burnPart) Claims() schemes.Claims { return schemes.Claims{} }

func (burnPart) Server(context.Context, schemes.Env) (schemes.ServerPart, error) {
	return burnServer{}, nil
}

func (burnPart) Client(context.Context, schemes.ClientEnv) (schemes.ClientPart, error) {
	return schemes.NopClient{}, nil
}

type burnServer struct{ schemes.NopServer }

func (burnServer) Verify(context.Context, *wfs.Inbound) (wfs.Principal, error) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	until := ts.Nano() + int64(burnCPU)
	for ts.Nano() < until {
		_ = unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	}
	return wfs.Principal{}, nil
}

// TestServerCPUAccounting: the WFS process's whole CPU per request, taken
// from its own getrusage, rises by the CPU a scheme is known to burn per
// request (burn against plain, same load, same run).
func TestServerCPUAccounting(t *testing.T) {
	if testing.Short() {
		t.Skip("starts WFS processes")
	}
	const n = 300
	sc := &Scenario{Name: "cpu-accounting", CLI: &CLIGroup{Count: n, Concurrency: 1, Connection: "reuse"}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := testRegistry()
	var schs []*schemes.Scheme
	for _, spec := range []string{"plain", "null+burn"} {
		s, err := reg.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		schs = append(schs, s)
	}
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: schs, WorkDir: t.TempDir(), Server: testLauncher(t)})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]time.Duration{}
	for _, r := range res {
		sp := r.ServerProcess
		if sp == nil {
			t.Fatalf("%s: no server process figures", r.Scheme)
		}
		if sp.Requests != n {
			t.Errorf("%s: server counted %d requests in the window, want %d", r.Scheme, sp.Requests, n)
		}
		if sp.PID <= 0 || sp.Threads < 2 {
			t.Errorf("%s: server process pid %d threads %d", r.Scheme, sp.PID, sp.Threads)
		}
		d, ok := sp.CPUPerRequest()
		if !ok {
			t.Fatalf("%s: no CPU per request", r.Scheme)
		}
		per[r.Scheme] = d
	}
	diff := per["null+burn"] - per["plain"]
	t.Logf("server CPU per request: plain %s, burn %s, difference %s (burned %s)", per["plain"], per["null+burn"], diff, burnCPU)
	if diff < burnCPU*9/10 || diff > burnCPU*3/2 {
		t.Errorf("server CPU per request rose by %s, want about %s", diff, burnCPU)
	}
}
