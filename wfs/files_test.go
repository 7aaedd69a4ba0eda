package wfs_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/wfs"
)

// liveFiles counts the regular files under dir: reality, to hold Live to.
func liveFiles(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFilesCounters(t *testing.T) {
	for _, sync := range []bool{false, true} {
		name := "nosync"
		if sync {
			name = "sync"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			f := wfs.NewFiles(sync)
			p := func(n string) string { return filepath.Join(dir, n) }
			fsyncs := func(n int64) int64 {
				if sync {
					return n
				}
				return 0
			}
			steps := []struct {
				name string
				do   func() error
				want counters.FileStats
			}{
				{"write a", func() error { return f.WriteFile(p("a"), []byte("1"), 0o600) },
					counters.FileStats{Created: 1, Written: 1, Fsyncs: fsyncs(1), Live: 1, PeakLive: 1}},
				{"rewrite a", func() error { return f.WriteFile(p("a"), []byte("22"), 0o600) },
					counters.FileStats{Created: 1, Written: 2, Fsyncs: fsyncs(2), Live: 1, PeakLive: 1}},
				{"append b (new)", func() error { return f.AppendFile(p("b"), []byte("x\n"), 0o600) },
					counters.FileStats{Created: 2, Written: 2, Appended: 1, Fsyncs: fsyncs(3), Live: 2, PeakLive: 2}},
				{"append b", func() error { return f.AppendFile(p("b"), []byte("y\n"), 0o600) },
					counters.FileStats{Created: 2, Written: 2, Appended: 2, Fsyncs: fsyncs(4), Live: 2, PeakLive: 2}},
				{"create c", func() error { return f.CreateExclusive(p("c"), []byte("c"), 0o600) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Fsyncs: fsyncs(5), Live: 3, PeakLive: 3}},
				{"read b", func() error { _, err := f.ReadFile(p("b")); return err },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Fsyncs: fsyncs(5), Live: 3, PeakLive: 3}},
				{"rename c to d", func() error { return f.Rename(p("c"), p("d")) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Renamed: 1, Fsyncs: fsyncs(5), Live: 3, PeakLive: 3}},
				{"rename d over a", func() error { return f.Rename(p("d"), p("a")) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Renamed: 2, Fsyncs: fsyncs(5), Live: 2, PeakLive: 3}},
				{"remove b", func() error { return f.Remove(p("b")) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Renamed: 2, Deleted: 1, Fsyncs: fsyncs(5), Live: 1, PeakLive: 3}},
				{"remove b again", func() error { return f.Remove(p("b")) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Renamed: 2, Deleted: 1, Fsyncs: fsyncs(5), Live: 1, PeakLive: 3}},
				{"remove a", func() error { return f.Remove(p("a")) },
					counters.FileStats{Created: 3, Written: 3, Appended: 2, Read: 1, Renamed: 2, Deleted: 2, Fsyncs: fsyncs(5), Live: 0, PeakLive: 3}},
			}
			for _, s := range steps {
				if err := s.do(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				got := f.Stats()
				if got != s.want {
					t.Fatalf("after %s:\n got %+v\nwant %+v", s.name, got, s.want)
				}
				if real := liveFiles(t, dir); got.Live != real {
					t.Fatalf("after %s: Live %d, but %d files exist", s.name, got.Live, real)
				}
			}
		})
	}
}

func TestFilesContent(t *testing.T) {
	dir := t.TempDir()
	f := wfs.NewFiles(false)
	p := filepath.Join(dir, "x")
	if err := f.WriteFile(p, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.AppendFile(p, []byte("world\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := f.ReadFile(p)
	if err != nil || string(got) != "hello\nworld\n" {
		t.Fatalf("read %q %v", got, err)
	}
	if err := f.WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.ReadFile(p); string(got) != "new" {
		t.Fatalf("WriteFile did not truncate: %q", got)
	}
}

func TestFilesErrors(t *testing.T) {
	dir := t.TempDir()
	f := wfs.NewFiles(true)
	p := filepath.Join(dir, "x")
	if err := f.CreateExclusive(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := f.Stats()
	cases := []struct {
		name string
		do   func() error
	}{
		{"create existing", func() error { return f.CreateExclusive(p, nil, 0o600) }},
		{"write in missing dir", func() error { return f.WriteFile(filepath.Join(dir, "no", "x"), nil, 0o600) }},
		{"append in missing dir", func() error { return f.AppendFile(filepath.Join(dir, "no", "x"), nil, 0o600) }},
		{"read missing", func() error { _, err := f.ReadFile(filepath.Join(dir, "missing")); return err }},
		{"rename missing", func() error { return f.Rename(filepath.Join(dir, "missing"), filepath.Join(dir, "y")) }},
	}
	for _, tc := range cases {
		if err := tc.do(); err == nil {
			t.Errorf("%s: no error", tc.name)
		} else if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: error %q does not name the path", tc.name, err)
		}
	}
	if after := f.Stats(); after != before {
		t.Fatalf("failed operations were counted:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestFilesRenameOverForeign replaces a file the layer did not create (one
// left by an earlier run, or written by another process's layer) with one it
// did, as a write-to-temp-then-rename update does.
func TestFilesRenameOverForeign(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "token")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := wfs.NewFiles(false)
	tmp := target + ".tmp"
	if err := f.WriteFile(tmp, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Rename(tmp, target); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Live != 1 {
		t.Fatalf("after rename over a foreign file: Live %d, want 1 (%+v)", st.Live, st)
	}
	if err := f.Remove(target); err != nil {
		t.Fatal(err)
	}
	if st := f.Stats(); st.Live != 0 {
		t.Fatalf("after removing it: Live %d, want 0 (%+v)", st.Live, st)
	}
}

func TestFilesRemoveAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tree")
	f := wfs.NewFiles(false)
	for _, d := range []string{"a", "a/b", "c"} {
		if err := f.MkdirAll(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a/1", "a/b/2", "a/b/3", "c/4"} {
		if err := f.WriteFile(filepath.Join(dir, n), []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// One file the layer did not create: deleted and counted, but not live.
	if err := os.WriteFile(filepath.Join(dir, "foreign"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s still exists: %v", dir, err)
	}
	st := f.Stats()
	if st.Deleted != 5 || st.Live != 0 || st.PeakLive != 4 {
		t.Fatalf("stats %+v: want 5 deleted, 0 live, peak 4", st)
	}
	if err := f.RemoveAll(dir); err != nil {
		t.Fatalf("RemoveAll of a missing tree: %v", err)
	}
}

func TestFilesConcurrent(t *testing.T) {
	dir := t.TempDir()
	f := wfs.NewFiles(false)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				p := filepath.Join(dir, strings.Repeat("w", w+1)+string(rune('a'+i)))
				if err := f.AppendFile(p, []byte("x"), 0o600); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	st := f.Stats()
	if st.Created != workers*each || st.Live != workers*each || st.PeakLive != workers*each || st.Appended != workers*each {
		t.Fatalf("stats %+v", st)
	}
	if real := liveFiles(t, dir); real != st.Live {
		t.Fatalf("Live %d, %d files exist", st.Live, real)
	}
}

func TestCheckSecret(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		make func(p string) error
		ok   bool
	}{
		{"0600", func(p string) error { return writeMode(p, 0o600) }, true},
		{"0400", func(p string) error { return writeMode(p, 0o400) }, true},
		{"0644", func(p string) error { return writeMode(p, 0o644) }, false},
		{"0640", func(p string) error { return writeMode(p, 0o640) }, false},
		{"0602", func(p string) error { return writeMode(p, 0o602) }, false},
		{"directory", func(p string) error { return os.Mkdir(p, 0o700) }, false},
		{"symlink", func(p string) error {
			if err := writeMode(p+".target", 0o600); err != nil {
				return err
			}
			return os.Symlink(p+".target", p)
		}, false},
		{"missing", func(string) error { return nil }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := tc.make(p); err != nil {
				t.Fatal(err)
			}
			err := wfs.CheckSecret(p)
			if tc.ok && err != nil {
				t.Fatalf("CheckSecret: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("CheckSecret accepted it")
			}
		})
	}
}

// writeMode writes a file and sets its mode exactly (the umask does not
// apply to chmod).
func writeMode(p string, mode os.FileMode) error {
	if err := os.WriteFile(p, []byte("secret"), 0o600); err != nil {
		return err
	}
	return os.Chmod(p, mode)
}

// TestWriteTightensOpenFiles: writing or appending with mode 0600 into a file
// left 0644 narrows it to 0600 before any byte is written.
func TestWriteTightensOpenFiles(t *testing.T) {
	for _, op := range []string{"write", "append"} {
		t.Run(op, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			f := wfs.NewFiles(false)
			var err error
			if op == "write" {
				err = f.WriteFile(path, []byte("new\n"), 0o600)
			} else {
				err = f.AppendFile(path, []byte("new\n"), 0o600)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := wfs.CheckSecret(path); err != nil {
				t.Fatalf("after %s: %v", op, err)
			}
		})
	}
}
