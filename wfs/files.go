package wfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/counters"
)

// Files is the one counted file layer: every file create, write, append,
// read, delete, rename and fsync that authbench makes on behalf of a scheme or
// the WFS goes through it, so reports count file overhead exactly. Directories
// are made 0700. The zero value is not usable; use NewFiles.
type Files struct {
	created, written, appended, read, deleted, renamed, fsyncs atomic.Int64
	live, peak                                                 atomic.Int64
	modelDelay                                                 atomic.Int64 // ns
	// Sync makes every write and append fsync the file before returning, as a
	// careful implementation must for a credential that another process reads.
	Sync bool
	// Model is the file system's latency model: each operation sleeps for
	// its modelled cost (see FSModel). The zero value models nothing. Set it
	// before the layer is used.
	Model FSModel

	mu    sync.Mutex
	owned map[string]struct{} // files created through the layer and still live
}

// NewFiles returns a counted file layer. When sync is true every write is
// followed by an fsync.
func NewFiles(sync bool) *Files {
	return &Files{Sync: sync, owned: make(map[string]struct{})}
}

// Stats returns a snapshot of the counters.
func (f *Files) Stats() counters.FileStats {
	return counters.FileStats{
		Created: f.created.Load(), Written: f.written.Load(), Appended: f.appended.Load(),
		Read: f.read.Load(), Deleted: f.deleted.Load(), Renamed: f.renamed.Load(),
		Fsyncs: f.fsyncs.Load(), Live: f.live.Load(), PeakLive: f.peak.Load(),
		ModelDelay: time.Duration(f.modelDelay.Load()),
	}
}

// wait sleeps for d, one operation's modelled cost, and counts it. The
// sleep heeds nothing else (no context): the operation it stands for would
// not return early either.
func (f *Files) wait(d time.Duration) {
	if d <= 0 {
		return
	}
	f.modelDelay.Add(int64(d))
	time.Sleep(d)
}

// metadata charges one metadata operation (an open, create, rename or
// remove) under the layer's model.
func (f *Files) metadata() { f.wait(f.Model.MetadataRTT) }

func (f *Files) noteCreated(path string) {
	f.mu.Lock()
	_, had := f.owned[path]
	if !had {
		f.owned[path] = struct{}{}
	}
	f.mu.Unlock()
	if had {
		return
	}
	f.created.Add(1)
	n := f.live.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (f *Files) noteGone(path string) {
	f.mu.Lock()
	_, had := f.owned[path]
	delete(f.owned, path)
	f.mu.Unlock()
	if had {
		f.live.Add(-1)
	}
}

// MkdirAll makes dir and its parents with mode 0700 (directories are not
// counted as files).
func (f *Files) MkdirAll(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make directory %s: %w", dir, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// WriteFile writes data to path with mode perm, creating or truncating it, and
// fsyncs it when the layer syncs.
func (f *Files) WriteFile(path string, data []byte, perm fs.FileMode) error {
	isNew := !exists(path)
	f.metadata()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tighten(fh, path, perm); err != nil {
		return err
	}
	if isNew {
		f.noteCreated(path)
	}
	if err := f.finish(fh, path, data); err != nil {
		return err
	}
	f.written.Add(1)
	return nil
}

// CreateExclusive writes data to a new file at path with mode perm; it fails
// if the file exists.
func (f *Files) CreateExclusive(path string, data []byte, perm fs.FileMode) error {
	f.metadata()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f.noteCreated(path)
	if err := f.finish(fh, path, data); err != nil {
		return err
	}
	f.written.Add(1)
	return nil
}

// AppendFile appends data to path (created with perm when missing) and fsyncs
// it when the layer syncs.
func (f *Files) AppendFile(path string, data []byte, perm fs.FileMode) error {
	isNew := !exists(path)
	f.metadata()
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, perm)
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	if err := tighten(fh, path, perm); err != nil {
		return err
	}
	if isNew {
		f.noteCreated(path)
	}
	if err := f.finish(fh, path, data); err != nil {
		return err
	}
	f.appended.Add(1)
	return nil
}

// tighten narrows an existing file's mode to perm before anything is
// written into it: a file left group- or world-readable (by an earlier run,
// a restore, a hand copy) never receives a secret under its old mode. The
// open descriptor is closed on error.
func tighten(fh *os.File, path string, perm fs.FileMode) error {
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if st.Mode().Perm()&^perm == 0 {
		return nil
	}
	if err := fh.Chmod(st.Mode().Perm() & perm); err != nil {
		fh.Close()
		return fmt.Errorf("write %s: narrow mode %04o to %04o: %w", path, st.Mode().Perm(), perm, err)
	}
	return nil
}

func (f *Files) finish(fh *os.File, path string, data []byte) error {
	_, werr := fh.Write(data)
	var serr error
	if werr == nil && f.Sync {
		f.wait(f.Model.Fsync)
		serr = fh.Sync()
		f.fsyncs.Add(1)
	}
	cerr := fh.Close()
	for _, err := range []error{werr, serr, cerr} {
		if err != nil {
			// The *os.PathError names path again: keep its cause alone
			// ("write P: no space left on device", not "write P: write P: ...").
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Path == path {
				err = pe.Err
			}
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// ReadFile reads the whole file at path.
func (f *Files) ReadFile(path string) ([]byte, error) {
	f.metadata()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f.read.Add(1)
	return b, nil
}

// Remove deletes the file at path. A missing file is not an error.
func (f *Files) Remove(path string) error {
	f.metadata()
	err := os.Remove(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	if err == nil {
		f.deleted.Add(1)
		f.noteGone(path)
	}
	return nil
}

// Rename moves oldPath to newPath atomically (both in one directory tree), as
// used for write-to-temp-then-rename updates.
func (f *Files) Rename(oldPath, newPath string) error {
	f.metadata()
	if err := os.Rename(oldPath, newPath); err != nil {
		return fmt.Errorf("rename %s to %s: %w", oldPath, newPath, err)
	}
	f.renamed.Add(1)
	// The file keeps its ownership under its new name; a file it replaces is
	// gone. A rename creates nothing, so Created is unchanged and Live can
	// only fall (when it replaces a file the layer created).
	f.mu.Lock()
	before := len(f.owned)
	_, owned := f.owned[oldPath]
	delete(f.owned, oldPath)
	delete(f.owned, newPath)
	if owned {
		f.owned[newPath] = struct{}{}
	}
	gone := before - len(f.owned)
	f.mu.Unlock()
	f.live.Add(-int64(gone))
	return nil
}

// RemoveAll deletes every file under dir through the layer (so each is
// counted), then the directories.
func (f *Files) RemoveAll(dir string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	for _, p := range files {
		if err := f.Remove(p); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// CheckSecret returns an error if the file at path is readable or writable by
// group or others, or is not a regular file.
func CheckSecret(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("secret %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("secret %s: not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secret %s: mode %04o is open to group or others; want 0600", path, perm)
	}
	return nil
}
