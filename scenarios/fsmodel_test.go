package scenarios

import (
	"context"
	"flag"
	"regexp"
	"strings"
	"testing"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/vocab"
	"github.com/authbench/authbench/wfs"
)

// TestScenarioFS: a scenario's fs: key takes a preset's name or a mapping;
// an unknown preset, key or a bad figure is one line naming the file, the
// line and the column.
func TestScenarioFS(t *testing.T) {
	const head = "name: x\nduration: 1s\ncli: {concurrency: 1}\n"
	tests := []struct{ name, fs, want, err string }{
		{"none", "", "", ""},
		{"preset", "fs: nfs-lan\n", "model=nfs-lan,metadata_rtt=1ms,fsync=5ms", ""},
		{"quoted preset", "fs: \"lustre\"\n", "model=lustre,metadata_rtt=2ms,fsync=5ms", ""},
		{"mapping", "fs: {model: nfs, metadata_rtt: 1ms, fsync: 5ms}\n", "model=nfs,metadata_rtt=1ms,fsync=5ms", ""},
		{"preset override", "fs:\n  model: nfs-lan\n  fsync: 8ms\n", "model=nfs-lan,metadata_rtt=1ms,fsync=8ms", ""},
		{"unknown preset", "fs: nfs\n", "", `f.yaml:4:5: fs.model: unknown file-system preset "nfs"`},
		{"unknown preset in mapping", "fs:\n  model: gpfs\n  fsync: 1ms\n", "", `f.yaml:5:10: fs.model: unknown file-system preset "gpfs"`},
		{"unknown key", "fs: {model: nfs-lan, read: 1ms}\n", "", `f.yaml:4:22: unknown key "read" in fs; want one of fsync, metadata_rtt, model`},
		{"bad duration", "fs: {model: nfs-lan, fsync: soon}\n", "", `f.yaml:4:29: fs.fsync: want a duration`},
		{"negative", "fs: {model: nfs-lan, metadata_rtt: -1ms}\n", "", `f.yaml:4:36: fs.metadata_rtt: want 0 to 10s`},
		{"list", "fs: [nfs-lan]\n", "", `f.yaml:4:5: fs: want a mapping of fsync, metadata_rtt, model`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := Parse("f.yaml", []byte(head+tc.fs))
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("got %v, want one line starting %q", err, tc.err)
				}
				if !regexp.MustCompile(`^f\.yaml:\d+:\d+: `).MatchString(err.Error()) {
					t.Fatalf("got %q, want file:line:column", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := sc.FSModel()
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if m != nil {
				got = m.String()
			}
			if got != tc.want {
				t.Fatalf("model %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServeArgsFS: the model the engine passes a WFS process (process.ServeArgs)
// is the model serve's -fs flag reads back.
func TestServeArgsFS(t *testing.T) {
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	m := wfs.FSModel{Name: "site", MetadataRTT: 1500000, Fsync: 7000000}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	config := process.ServeFlags(fs, schemes.Builtin())
	if err := fs.Parse(process.ServeArgs(process.ServeConfig{Scheme: plain, RunDir: t.TempDir(), FS: &m})); err != nil {
		t.Fatal(err)
	}
	cfg, err := config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FS == nil || *cfg.FS != m {
		t.Fatalf("serve read -fs as %+v, want %+v", cfg.FS, m)
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	config = process.ServeFlags(fs, schemes.Builtin())
	if err := fs.Parse([]string{"-scheme", "plain", "-run-dir", t.TempDir(), "-fs", "nfs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := config(); err == nil || !strings.Contains(err.Error(), "serve: -fs: ") {
		t.Fatalf("got %v, want a -fs error", err)
	}
}

// TestFSModelRun: a short real run of a scenario with fs: nfs-lan records
// the model in its result, and both sides' file layers (the WFS process's
// and the clients') slept exactly the model's cost of the operations they
// counted.
func TestFSModelRun(t *testing.T) {
	const jobs, msgs = 6, 2
	sc, err := Parse("fs.yaml", []byte("name: fs-small\nfs: nfs-lan\njob: {total: 6, concurrency: 3, messages: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := schemes.Builtin().Parse("plain")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Config{Scenario: sc, Schemes: []*schemes.Scheme{plain}, WorkDir: t.TempDir(), Server: testLauncher(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	nfs := wfs.FSPresets()["nfs-lan"]
	if r.FSModel != nfs.String() {
		t.Fatalf("fs_model %q, want %q", r.FSModel, nfs.String())
	}
	if m := r.Op(vocab.OpJobMessage); m == nil || m.Count != jobs*msgs || m.ErrorCount() != 0 {
		t.Fatalf("job messages: %+v", m)
	}
	f := r.Files
	t.Logf("files %+v, fs_model %s", f, r.FSModel)
	// The WFS writes the contact and control files and each job's script
	// (and removes the first two); each message is an fsynced append.
	want := counters.FileStats{Written: f.Written, Appended: f.Appended, Read: f.Read, Renamed: f.Renamed,
		Deleted: f.Deleted, Fsyncs: f.Fsyncs}
	if got := nfs.Cost(want); f.ModelDelay != got || got == 0 {
		t.Fatalf("model delay %s, want the cost of %+v, %s", f.ModelDelay, f, got)
	}
	if f.Appended != jobs*msgs || f.Written < 2+jobs {
		t.Fatalf("file stats %+v: want %d appends and at least %d writes", f, jobs*msgs, 2+jobs)
	}
}
