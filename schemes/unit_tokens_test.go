package schemes_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// TestTaskAndCycleTokens puts the task and cycle policies through a real WFS:
// which jobs share a token, which messages it may send, when it is retired
// (a task's outlives a failed job that retries; a cycle point's outlives
// every task of the cycle point but its last), and how many files each store
// writes.
func TestTaskAndCycleTokens(t *testing.T) {
	type step struct {
		do   string // submit, end, retry (end, task resubmits), msg, deny
		job  string
		as   string // msg/deny: the client's job id (default job)
		note string
	}
	tests := []struct {
		spec  string
		steps []step
		// mints is how many job tokens the WFS minted.
		mints int
		// tokenFiles are the unit token files after the steps (file store).
		tokenFiles []string
	}{
		{"jwt:task=file", []step{
			{do: "submit", job: "1/a/01"},
			{do: "msg", job: "1/a/01"},
			{do: "deny", job: "1/b/01", as: "1/a/01", note: "a task's token speaks for its task alone"},
			{do: "retry", job: "1/a/01"},
			{do: "submit", job: "1/a/02"},
			{do: "msg", job: "1/a/02", note: "the retry uses the task's token"},
			{do: "end", job: "1/a/02"},
			{do: "deny", job: "1/a/02", note: "retired at the task's end"},
		}, 1, nil},
		{"jwt:task=file", []step{
			{do: "submit", job: "1/a/01"},
			{do: "submit", job: "1/b/01"},
			{do: "end", job: "1/a/01"},
			{do: "msg", job: "1/b/01"},
		}, 2, []string{"log/job/1/b/token"}},
		{"jwt:cycle=file", []step{
			{do: "submit", job: "1/a/01"},
			{do: "submit", job: "1/b/01"},
			{do: "submit", job: "2/a/01"},
			{do: "msg", job: "1/b/01", as: "1/a/01", note: "a cycle point's token speaks for any job of it"},
			{do: "deny", job: "2/a/01", as: "1/a/01", note: "but not for another cycle point's"},
			{do: "end", job: "1/a/01"},
			{do: "msg", job: "1/b/01", note: "still live: task b runs"},
			{do: "retry", job: "1/b/01"},
			{do: "submit", job: "1/b/02"},
			{do: "end", job: "1/b/02"},
			{do: "deny", job: "1/b/02", note: "retired with the cycle point's last task"},
			{do: "msg", job: "2/a/01"},
		}, 2, []string{"log/job/2/token"}},
		{"jwt:cycle=combined", []step{
			{do: "submit", job: "1/a/01"},
			{do: "submit", job: "1/b/01"},
			{do: "msg", job: "1/b/01"},
			{do: "end", job: "1/a/01"},
			{do: "end", job: "1/b/01"},
			{do: "deny", job: "1/b/01"},
		}, 1, nil},
		{"jwt:cycle=status", []step{
			{do: "submit", job: "1/a/01"},
			{do: "submit", job: "1/b/01"},
			{do: "msg", job: "1/a/01"},
			{do: "msg", job: "1/b/01"},
			{do: "end", job: "1/a/01"},
			{do: "deny", job: "1/a/01", note: "its job.status line is gone"},
			{do: "msg", job: "1/b/01"},
		}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			h := tkStart(t, tc.spec, nil)
			before := h.guard.Stats()
			for i, s := range tc.steps {
				id, err := wfs.ParseJobID(s.job)
				tkOK(t, "job id", err)
				as := s.as
				if as == "" {
					as = s.job
				}
				switch s.do {
				case "submit":
					h.tkEvent(schemes.EventJobSubmit, s.job)
				case "end", "retry":
					if err := h.guard.Event(context.Background(), schemes.Event{Kind: schemes.EventJobEnd, Job: id, Retrying: s.do == "retry"}); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				case "msg":
					if _, err := h.tkCall(tkJobClient(as), wfs.CmdMessage, tkMsg(s.job, "step")); err != nil {
						t.Fatalf("step %d (%s as %s): %v %s", i, s.job, as, err, s.note)
					}
				case "deny":
					if _, err := h.tkCall(tkJobClient(as), wfs.CmdMessage, tkMsg(s.job, "step")); err == nil {
						t.Fatalf("step %d (%s as %s): accepted; %s", i, s.job, as, s.note)
					}
				}
			}
			if minted := h.guard.Stats()["token.job_minted"] - before["token.job_minted"]; int(minted) != tc.mints {
				t.Errorf("minted %v job tokens, want %d", minted, tc.mints)
			}
			var files []string
			_ = filepath.WalkDir(filepath.Join(h.run.Root, "log"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && d.Name() == schemes.JobTokenFile {
					rel, _ := filepath.Rel(h.run.Root, p)
					files = append(files, filepath.ToSlash(rel))
				}
				return nil
			})
			if len(files) != len(tc.tokenFiles) {
				t.Fatalf("token files %q, want %q", files, tc.tokenFiles)
			}
			for i := range files {
				if files[i] != tc.tokenFiles[i] {
					t.Fatalf("token files %q, want %q", files, tc.tokenFiles)
				}
			}
		})
	}
}
