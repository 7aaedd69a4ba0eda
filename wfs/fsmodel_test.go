package wfs

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFSModelPresets: every preset parses by name and as model=NAME, a
// figure given replaces the preset's, a model of one's own takes both
// figures, and String reads back as the same model.
func TestFSModelPresets(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		in   string
		want FSModel
	}{
		{"local", FSModel{Name: "local"}},
		{"nfs-lan", FSModel{Name: "nfs-lan", MetadataRTT: ms, Fsync: 5 * ms}},
		{"lustre", FSModel{Name: "lustre", MetadataRTT: 2 * ms, Fsync: 5 * ms}},
		{" nfs-lan ", FSModel{Name: "nfs-lan", MetadataRTT: ms, Fsync: 5 * ms}},
		{"model=lustre", FSModel{Name: "lustre", MetadataRTT: 2 * ms, Fsync: 5 * ms}},
		{"model=nfs-lan,fsync=10ms", FSModel{Name: "nfs-lan", MetadataRTT: ms, Fsync: 10 * ms}},
		{"model=nfs,metadata_rtt=1ms,fsync=5ms", FSModel{Name: "nfs", MetadataRTT: ms, Fsync: 5 * ms}},
		{"metadata_rtt=300us, fsync=650us", FSModel{Name: "custom", MetadataRTT: 300 * time.Microsecond, Fsync: 650 * time.Microsecond}},
		{"model=gpfs,fsync=0s,metadata_rtt=0s", FSModel{Name: "gpfs"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFSModel(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			back, err := ParseFSModel(got.String())
			if err != nil || back != got {
				t.Fatalf("String %q reads back as %+v, %v", got.String(), back, err)
			}
		})
	}
	if got, want := strings.Join(FSPresetNames(), ","), "local,lustre,nfs-lan"; got != want {
		t.Errorf("presets %s, want %s", got, want)
	}
	for name, m := range FSPresets() {
		if m.Name != name {
			t.Errorf("preset %s is named %s", name, m.Name)
		}
	}
}

// TestFSModelErrors: bad models are refused with one line that names the
// input and what is wrong.
func TestFSModelErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `unknown file-system preset ""`},
		{"nfs", `unknown file-system preset "nfs": want one of local, lustre, nfs-lan`},
		{"model=nfs", `unknown file-system preset "nfs"`},
		{"model=nfs,metadata_rtt=1ms", `unknown file-system preset "nfs"`},
		{"model=nfs-lan,read=1ms", `unknown key "read"; want model, metadata_rtt or fsync`},
		{"model=nfs-lan,fsync", `"fsync" is not key=value`},
		{"model=nfs-lan,fsync=fast", `fsync: want a duration such as 1ms, got "fast"`},
		{"model=nfs-lan,model=local", "model given twice"},
		{"model=nfs-lan,metadata_rtt=-1ms", "metadata_rtt -1ms: want 0 to 10s"},
		{"model=nfs-lan,fsync=1m", "fsync 1m0s: want 0 to 10s"},
		{"model=My NFS,metadata_rtt=1ms,fsync=1ms", `name "My NFS": want lower-case letters`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ParseFSModel(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want one line containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "file-system model ") {
				t.Fatalf("got %q, want it to name the model", err)
			}
		})
	}
}

// TestFilesModelDelay: a layer with a model sleeps for each open, create,
// rename, remove and fsync, and counts exactly ops × figure; without one
// it counts nothing.
func TestFilesModelDelay(t *testing.T) {
	const rtt, fsync = 2 * time.Millisecond, 3 * time.Millisecond
	custom := FSModel{Name: "test", MetadataRTT: rtt, Fsync: fsync}
	tests := []struct {
		name  string
		model FSModel
		sync  bool
		// metadata and fsyncs are the operations the script below makes.
		metadata, fsyncs int64
	}{
		{"no model", FSModel{}, true, 8, 3},
		{"local preset", FSPresets()["local"], true, 8, 3},
		{"synced", custom, true, 8, 3},
		{"unsynced", custom, false, 8, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			f := NewFiles(tc.sync)
			f.Model = tc.model
			p := func(n string) string { return filepath.Join(dir, n) }
			start := time.Now()
			steps := []func() error{
				func() error { return f.WriteFile(p("a"), []byte("1"), 0o600) },    // create (+fsync)
				func() error { return f.WriteFile(p("a"), []byte("2"), 0o600) },    // open existing (+fsync)
				func() error { return f.AppendFile(p("a"), []byte("3"), 0o600) },   // open existing (+fsync)
				func() error { _, err := f.ReadFile(p("a")); return err },          // open for read
				func() error { return f.Rename(p("a"), p("b")) },                   // rename
				func() error { return f.Remove(p("b")) },                           // remove
				func() error { return f.Remove(p("b")) },                           // remove, missing: still a round trip
				func() error { _, err := f.ReadFile(p("b")); _ = err; return nil }, // open for read, fails: still a round trip
				func() error { return f.MkdirAll(p("d/e")) },                       // directories: not charged
			}
			for i, s := range steps {
				if err := s(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			elapsed := time.Since(start)
			st := f.Stats()
			want := time.Duration(tc.metadata)*tc.model.MetadataRTT + time.Duration(tc.fsyncs)*tc.model.Fsync
			if st.ModelDelay != want {
				t.Fatalf("model delay %s, want %d metadata × %s + %d fsyncs × %s = %s",
					st.ModelDelay, tc.metadata, tc.model.MetadataRTT, tc.fsyncs, tc.model.Fsync, want)
			}
			if st.Fsyncs != tc.fsyncs {
				t.Fatalf("fsyncs %d, want %d", st.Fsyncs, tc.fsyncs)
			}
			// The two failed operations are charged but not counted, so
			// Cost (of the counted ones) is two round trips short.
			if got := tc.model.Cost(st) + 2*tc.model.MetadataRTT; got != want {
				t.Fatalf("Cost %s + 2 round trips = %s, want %s (stats %+v)", tc.model.Cost(st), got, want, st)
			}
			// A real sleep: wall time is at least the modelled delay.
			if elapsed < want {
				t.Fatalf("took %s, less than the modelled %s", elapsed, want)
			}
		})
	}
}

// TestFilesModelCost: for operations that all succeed, the counted delay
// is Cost of the counted operations, and Sub takes it apart.
func TestFilesModelCost(t *testing.T) {
	dir := t.TempDir()
	f := NewFiles(true)
	f.Model = FSModel{Name: "test", MetadataRTT: time.Millisecond, Fsync: 2 * time.Millisecond}
	before := f.Stats()
	for i := range 3 {
		path := filepath.Join(dir, "tok")
		if err := f.CreateExclusive(path, []byte{byte(i)}, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := f.Rename(path, path+".used"); err != nil {
			t.Fatal(err)
		}
		if err := f.Remove(path + ".used"); err != nil {
			t.Fatal(err)
		}
	}
	d := f.Stats().Sub(before)
	// Each round: create (1 ms) + fsync (2 ms) + rename (1 ms) + remove (1 ms).
	if want := 3 * 5 * time.Millisecond; d.ModelDelay != want || f.Model.Cost(d) != want {
		t.Fatalf("delay %s, Cost %s, want %s (stats %+v)", d.ModelDelay, f.Model.Cost(d), want, d)
	}
}
