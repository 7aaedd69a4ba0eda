package scenarios

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/wfs"
)

// shipped reports whether jobs on target get their files over the owner
// channel (Config.ShipRemote, and the target has no shared file system).
func (r *runner) shipped(target string) bool {
	if !r.cfg.ShipRemote {
		return false
	}
	for _, t := range r.sc.Job.Targets {
		if t.Name == target {
			return !t.SharedFS
		}
	}
	return false
}

// runFor is the run directory a job on target reads: this loader's copy
// of what its remote host received (remoteRoot) when its files are
// shipped, else the WFS's run directory.
func (r *runner) runFor(target string) *wfs.RunDir {
	if r.shipped(target) {
		return &wfs.RunDir{Root: r.remoteRoot(), Files: r.run.Files}
	}
	return r.run
}

// remoteRoot is where this loader installs shipped files.
func (r *runner) remoteRoot() string { return filepath.Join(r.stateDir, "remote-host") }

// install writes a job's shipped files into this loader's copy of the
// remote host, each under its run-relative path (which must stay inside
// it), mode 0600 in 0700 directories: they hold credentials.
func (r *runner) install(jf process.JobFiles) error {
	root := r.remoteRoot()
	for rel, b := range jf.Files {
		clean := filepath.Clean(filepath.FromSlash(rel))
		if clean == "." || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
			return fmt.Errorf("shipped file %q: not a path inside the run directory", rel)
		}
		path := filepath.Join(root, clean)
		if path == (&wfs.RunDir{Root: root}).ContactPath() {
			// The remote host's contact file names its own run directory.
			var err error
			if b, err = remoteContact(b, root); err != nil {
				return err
			}
		}
		if err := r.run.Files.MkdirAll(filepath.Dir(path)); err != nil {
			return err
		}
		if err := r.run.Files.WriteFile(path, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// remoteContact is a contact file as a remote host has it: its run
// directory is the remote host's.
func remoteContact(b []byte, root string) ([]byte, error) {
	c, err := wfs.ParseContact("shipped contact file", b)
	if err != nil {
		return nil, err
	}
	c[wfs.ContactRunDir] = root
	return c.Marshal(), nil
}

// submit submits a job to the WFS; a job whose files are shipped installs
// them in this loader's copy of its remote host, the first job on a target
// with what remote-init installs there (under a lock, so that no job on
// the target reads a half-installed key).
func (r *runner) submit(ctx context.Context, ev process.JobEvent) error {
	if !ev.Ship {
		return r.srv.Call(ctx, process.CtlJobSubmit, ev, nil)
	}
	r.shipMu.Lock()
	if !r.remoteInit[ev.Target] {
		defer r.shipMu.Unlock()
		ev.RemoteInit = true
		var jf process.JobFiles
		if err := r.srv.Call(ctx, process.CtlJobSubmit, ev, &jf); err != nil {
			return err
		}
		if err := r.install(jf); err != nil {
			return err
		}
		if r.remoteInit == nil {
			r.remoteInit = map[string]bool{}
		}
		r.remoteInit[ev.Target] = true
		return nil
	}
	r.shipMu.Unlock()
	var jf process.JobFiles
	if err := r.srv.Call(ctx, process.CtlJobSubmit, ev, &jf); err != nil {
		return err
	}
	return r.install(jf)
}
