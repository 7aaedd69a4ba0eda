package process

import (
	"flag"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// TestServeArgsModel: the model the engine passes a WFS process
// (ServeArgs) is the model serve's -model flag reads back, for every
// registered model and for none (the default); an unknown name is one line
// naming the flag and the registered models.
func TestServeArgsModel(t *testing.T) {
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	parse := func(args []string) (ServeConfig, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		config := ServeFlags(fs, schemes.Builtin())
		if err := fs.Parse(args); err != nil {
			return ServeConfig{}, err
		}
		return config()
	}
	cases := []struct{ name, want string }{{"none", ""}}
	for _, n := range wfs.ModelNames() {
		cases = append(cases, struct{ name, want string }{n, n})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := ServeConfig{Scheme: plain, RunDir: t.TempDir()}
			if tc.want != "" {
				m, err := wfs.ParseModel(tc.want)
				if err != nil {
					t.Fatal(err)
				}
				in.Model = m
			}
			cfg, err := parse(ServeArgs(in))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = wfs.ModelNames()[0] // serve's default
			}
			if cfg.Model == nil || cfg.Model.Name() != want {
				t.Fatalf("serve read -model as %v, want %s", cfg.Model, want)
			}
		})
	}
	_, err = parse([]string{"-scheme", "plain", "-run-dir", t.TempDir(), "-model", "slow"})
	if want := `serve: -model: unknown server model "slow": want fast or cylc`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestServeArgsPublish: the publisher the engine asks of a WFS process
// (ServeArgs) is what serve's flags read back.
func TestServeArgsPublish(t *testing.T) {
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []ServeConfig{
		{Scheme: plain},
		{Scheme: plain, Publish: true},
		{Scheme: plain, Publish: true, DeltaSize: 2000, PublishRate: 0.5},
	} {
		in.RunDir = t.TempDir()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		config := ServeFlags(fs, schemes.Builtin())
		if err := fs.Parse(ServeArgs(in)); err != nil {
			t.Fatal(err)
		}
		got, err := config()
		if err != nil {
			t.Fatal(err)
		}
		if got.Publish != in.Publish || got.DeltaSize != in.DeltaSize || got.PublishRate != in.PublishRate {
			t.Errorf("serve read publish %v, delta size %d, rate %g; want %v, %d, %g", got.Publish, got.DeltaSize, got.PublishRate, in.Publish, in.DeltaSize, in.PublishRate)
		}
	}
}
