package scenarios

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// dieAfter is the request on which the die credential's server kills its
// own process: a WFS that crashes mid-run.
const dieAfter = 100

type diePart struct{}

func (diePart) Claims() schemes.Claims { return schemes.Claims{} }

func (diePart) Server(context.Context, schemes.Env) (schemes.ServerPart, error) {
	return &dieServer{}, nil
}

func (diePart) Client(context.Context, schemes.ClientEnv) (schemes.ClientPart, error) {
	return schemes.NopClient{}, nil
}

type dieServer struct {
	schemes.NopServer
	n atomic.Int64
}

func (s *dieServer) Verify(context.Context, *wfs.Inbound) (wfs.Principal, error) {
	if s.n.Add(1) == dieAfter {
		os.Exit(7)
	}
	return wfs.Principal{}, nil
}

// TestServerKilledMidRun: a WFS process that dies mid-run ends the run at
// once with a clear error naming the exit, and the result so far is kept,
// marked partial.
func TestServerKilledMidRun(t *testing.T) {
	sc := &Scenario{Name: "killed", Duration: Duration(20 * time.Second),
		CLI: &CLIGroup{Rate: 100, Concurrency: 4, Connection: "reuse"}}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	die, err := testRegistry().Parse("null+die")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{die}, WorkDir: t.TempDir(), Server: testLauncher(t)})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "exited mid-run") || !strings.Contains(err.Error(), "exit status 7") {
		t.Fatalf("error %v, want the WFS process's exit named", err)
	}
	if took > 15*time.Second {
		t.Errorf("the run went on %s after its WFS died (planned 20 s)", took)
	}
	if len(res) != 1 || !res[0].Partial {
		t.Fatalf("want one partial result, got %+v", res)
	}
	cmd := res[0].Op(vocab.OpCLICommand)
	if cmd == nil || cmd.Count < dieAfter-10 {
		t.Fatalf("partial result lost the commands before the crash: %+v", cmd)
	}
}
