package scenarios

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/schemes"
)

// serveEnv makes this test binary act as `authbench serve` (with the test
// schemes registered), so that engine tests run each WFS as a process of
// its own, as `authbench run` does.
const serveEnv = "AUTHBENCH_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		os.Exit(serveMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func serveMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config := process.ServeFlags(fs, testRegistry())
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg.Ready = func(_, _, control string) { fmt.Println(process.ControlLinePrefix + control) }
	if err := process.Serve(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testRegistry is the built-in schemes plus the test-only ones.
func testRegistry() *schemes.Registry {
	reg := schemes.Builtin()
	reg.Register(schemes.PartInfo{Name: "stall", Kind: schemes.Credential, Policies: []string{"workflow"},
		New: func(schemes.Spec) (schemes.Part, error) { return stallPart{stall: time.Second}, nil }})
	reg.Register(schemes.PartInfo{Name: "die", Kind: schemes.Credential, Policies: []string{"workflow"},
		New: func(schemes.Spec) (schemes.Part, error) { return diePart{}, nil }})
	reg.Register(schemes.PartInfo{Name: "burn", Kind: schemes.Credential, Policies: []string{"workflow"},
		New: func(schemes.Spec) (schemes.Part, error) { return burnPart{}, nil }})
	return reg
}

// testLauncher runs each WFS as this test binary in serve mode.
func testLauncher(t testing.TB) process.ServerLauncher {
	t.Helper()
	return process.ServerLauncher{Command: []string{os.Args[0]}, Env: []string{serveEnv + "=1"}}
}
