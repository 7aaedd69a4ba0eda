package conformance

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

func restCases() []Case {
	return []Case{
		{
			ID: "rest/secret-modes", Claim: "authn", Applies: secured,
			Title: "after commands and a job, every secret file is 0600 and every directory 0700 (public keys aside)",
			Run:   runSecretModes,
		},
		{
			ID: "rest/refuse-open-secrets", Claim: "authn", Applies: secured,
			Title: "group/world-readable files planted where the scheme keeps its secrets: refuse to start, or replace them privately",
			Run:   runRefuseOpen,
		},
		{
			ID: "rest/after-command", Claim: "replay-proof",
			Applies: func(sc *schemes.Scheme) bool { return policyIs(sc, schemes.PolicyCommand, schemes.PolicyShared) },
			Title:   "no requested token file is left in .service/tokens after the command that used it",
			Run:     runAfterCommand,
		},
		{
			ID: "rest/after-job", Claim: "job-revoke", Applies: secured,
			Title: "no secret made at a job's submit (file or line) is left after the job has ended",
			Run:   runAfterJob,
		},
		{
			ID: "rest/after-shutdown", Claim: "authn", Applies: secured,
			Title: "no secret file (key, token, passphrase, token line) is left in the run directory after shutdown",
			Run:   runAfterShutdown,
		},
	}
}

// exercise runs what makes a scheme write its files: a CLI command, and a
// job submitted to a remote target that sends a message.
func exercise(ctx context.Context, t *Target) error {
	if _, err := t.Call(ctx, CLI(), wfs.CmdHold, nil); err != nil {
		return fmt.Errorf("CLI hold: %w", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return err
	}
	if _, err := t.Call(ctx, job, wfs.CmdMessage, Message(job.ID, "started")); err != nil {
		return fmt.Errorf("job message: %w", err)
	}
	return nil
}

// isPublic reports whether b holds only public key material, which may be
// world-readable: a ZeroMQ certificate with no secret key, or PEM holding
// only PUBLIC KEY blocks.
func isPublic(name string, b []byte) bool {
	if c, err := wfs.ParseCertificate(name, b); err == nil {
		return c.Secret == nil
	}
	blocks := 0
	for rest := b; ; blocks++ {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			return blocks > 0 && len(bytes.TrimSpace(rest)) == 0
		}
		if blk.Type != "PUBLIC KEY" {
			return false
		}
	}
}

// modeViolations lists the files under root open to group or others (public
// certificates aside) and the directories that are not 0700.
func modeViolations(root string) ([]string, error) {
	var bad []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		perm := info.Mode().Perm()
		switch {
		case d.IsDir():
			if perm != 0o700 {
				bad = append(bad, fmt.Sprintf("dir %s %04o", rel, perm))
			}
		case info.Mode().IsRegular() && perm&0o077 != 0:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !isPublic(rel, b) {
				bad = append(bad, fmt.Sprintf("%s %04o", rel, perm))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return bad, nil
}

func listSome(items []string) string {
	if len(items) > 4 {
		return strings.Join(items[:4], ", ") + fmt.Sprintf(" and %d more", len(items)-4)
	}
	return strings.Join(items, ", ")
}

func runSecretModes(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	if err := exercise(ctx, t); err != nil {
		return broken("exercise", err)
	}
	bad, err := modeViolations(t.Dir)
	if err != nil {
		return broken("walk", err)
	}
	if len(bad) > 0 {
		return failf("open to group or others: %s", listSome(bad))
	}
	return passf("every secret file 0600, every directory 0700")
}

// provisioned lists the private files (mode 0600) a scheme makes when it
// provisions and a job is submitted, by path relative to the run directory,
// with their content; it uses a scratch run directory of its own.
func provisioned(ctx context.Context, e *Env) (map[string][]byte, error) {
	dir, err := e.ScratchDir("dry-")
	if err != nil {
		return nil, err
	}
	run, err := wfs.NewRunDir(filepath.Join(dir, "run"), wfs.NewFiles(false))
	if err != nil {
		return nil, err
	}
	guard, err := e.Scheme.Server(ctx, schemes.Env{Run: run, Workflow: DefaultWorkflow})
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	job := remoteJob("1/a/01")
	id, _ := wfs.ParseJobID(job.ID)
	err = run.MakeJobDir(id)
	if err == nil {
		err = guard.Event(ctx, schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: job.Target})
	}
	files := map[string][]byte{}
	if err == nil {
		err = filepath.WalkDir(run.Root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil || info.Mode().Perm()&0o077 != 0 {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(run.Root, p)
			files[rel] = b
			return nil
		})
	}
	return files, errors.Join(err, guard.Close())
}

func runRefuseOpen(ctx context.Context, e *Env) Result {
	files, err := provisioned(ctx, e)
	if err != nil {
		return broken("dry run", err)
	}
	if len(files) == 0 {
		return naf("the scheme keeps no secret file")
	}
	plant := func(run *wfs.RunDir) error {
		for rel, b := range files {
			p := filepath.Join(run.Root, rel)
			if err := run.Files.MkdirAll(filepath.Dir(p)); err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return fmt.Errorf("plant %s: %w", rel, err)
			}
			if err := os.Chmod(p, 0o644); err != nil {
				return fmt.Errorf("plant %s: %w", rel, err)
			}
		}
		return nil
	}
	t, err := e.Start(TargetConfig{Plant: plant})
	if errors.Is(err, ErrProvision) {
		return passf("refused to start: %v", err)
	}
	if err != nil {
		return broken("start", err)
	}
	if err := exercise(ctx, t); err != nil {
		return failf("started over planted world-readable files, then broke: %v", err)
	}
	var kept []string
	for rel := range files {
		info, err := os.Stat(filepath.Join(t.Run.Root, rel))
		if err != nil {
			continue // removed or never rewritten
		}
		if info.Mode().Perm()&0o077 != 0 {
			b, _ := os.ReadFile(filepath.Join(t.Run.Root, rel))
			if !isPublic(rel, b) {
				kept = append(kept, fmt.Sprintf("%s %04o", rel, info.Mode().Perm()))
			}
		}
	}
	sort.Strings(kept)
	if len(kept) > 0 {
		return failf("started and kept secrets in planted world-readable files: %s", listSome(kept))
	}
	return passf("started, and replaced all %d planted files with private ones", len(files))
}

func runAfterCommand(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	if _, err := t.Call(ctx, CLI(), wfs.CmdHold, nil); err != nil {
		return broken("CLI hold", err)
	}
	left, err := os.ReadDir(t.Run.Service(schemes.TokensDir))
	if err != nil {
		return broken("list tokens", err)
	}
	if len(left) > 0 {
		return failf("%d token file(s) left in .service/%s after the command", len(left), schemes.TokensDir)
	}
	return passf(".service/%s is empty after the command", schemes.TokensDir)
}

// snapshot reads every regular file under root: relative path to lines.
func snapshot(root string) (map[string][]string, error) {
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if isPublic(rel, b) {
			return nil
		}
		out[rel] = strings.Split(string(b), "\n")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	return out, nil
}

func runAfterJob(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	s0, err := snapshot(t.Run.Root)
	if err != nil {
		return broken("snapshot", err)
	}
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	s1, err := snapshot(t.Run.Root)
	if err != nil {
		return broken("snapshot", err)
	}
	if _, err := t.Call(ctx, job, wfs.CmdMessage, Message(job.ID, "succeeded")); err != nil {
		return broken("job message", err)
	}
	if err := t.End(ctx, job); err != nil {
		return broken("end", err)
	}
	s2, err := snapshot(t.Run.Root)
	if err != nil {
		return broken("snapshot", err)
	}
	// What the submit made: new files' lines, and lines new in old files.
	made, left := 0, []string{}
	for rel, lines := range s1 {
		before := map[string]bool{}
		for _, l := range s0[rel] {
			before[l] = true
		}
		after := map[string]bool{}
		for _, l := range s2[rel] {
			after[l] = true
		}
		for _, l := range lines {
			if strings.TrimSpace(l) == "" || before[l] {
				continue
			}
			made++
			if after[l] {
				left = append(left, rel)
				break
			}
		}
	}
	sort.Strings(left)
	if len(left) > 0 {
		return failf("what the job's submit wrote is still there after job end: %s", listSome(left))
	}
	if made == 0 {
		return passf("the job's submit wrote no secret (jobs use the workflow's credential)")
	}
	return passf("all %d secret line(s) the job's submit wrote are gone after job end", made)
}

func runAfterShutdown(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	if err := exercise(ctx, t); err != nil {
		return broken("exercise", err)
	}
	if err := t.Stop(); err != nil {
		return failf("shutdown: %v", err)
	}
	var left []string
	err = filepath.WalkDir(t.Run.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(t.Run.Root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case d.Name() == "job.status":
			if strings.Contains(string(b), schemes.JobTokenStatusKey) {
				left = append(left, rel+" (token line)")
			}
		case isPublic(rel, b):
		default:
			left = append(left, rel)
		}
		return nil
	})
	if err != nil {
		return broken("walk", err)
	}
	sort.Strings(left)
	if len(left) > 0 {
		return failf("left after shutdown: %s", listSome(left))
	}
	return passf("nothing secret left in the run directory after shutdown")
}
