package schemes

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/authbench/authbench/wfs"
)

// Where the job policy keeps one-job tokens (issue 4, Q-job):
//
//   - file: <job-dir>/token, one 0600 file per job, deleted at job end.
//   - combined: one .service/job_tokens file of "<job-id> <token>" lines for
//     every live job, rewritten whole (temp file, then rename) under the
//     store's lock at every submit and every job end.
//   - status: a "CYLC_JOB_TOKEN=<token>" line appended to the job's
//     job.status at submit; at job end job.status is rewritten without it
//     (temp file, then rename). A message the WFS appends to job.status while
//     that rewrite runs could be lost; jobs end after their last message, so
//     the WFS does not do that in practice.
//
// Under the task and cycle policies a job's token is its task's or its
// cycle point's (the "unit" key: "cycle/task" or "cycle"): the file store
// keeps it in log/job/<cycle>/<task>/token or log/job/<cycle>/token, one
// file per unit; the combined store has one line per unit; the status store
// still appends the line to each job's job.status (the file a job has
// anyway) and strips it at that job's end.
//
// Every operation goes through the run directory's counted file layer.

// JobTokenFile is the token's name in a job's log directory (job=file).
const JobTokenFile = "token"

// JobTokensFile is the combined store's name in .service (job=combined).
const JobTokensFile = "job_tokens"

// JobTokenStatusKey prefixes the token line in job.status (job=status).
const JobTokenStatusKey = "CYLC_JOB_TOKEN="

// jobStore is the WFS side of a job token store. key is the token's unit
// (policyConf.unit: the job id, its task or its cycle point). perUnit
// stores (file, combined) are written when a unit's token is minted and
// removed when it is retired; the others at every job's submit and end.
type jobStore interface {
	put(id wfs.JobID, key, tok string) error
	remove(id wfs.JobID, key string) error
	perUnit() bool
}

// unitTokenPath is the file store's token file of unit key: the job's
// directory for a job, log/job/<cycle>/<task>/ for a task, log/job/<cycle>/
// for a cycle point.
func unitTokenPath(run *wfs.RunDir, key string) string {
	return filepath.Join(run.Root, "log", "job", filepath.FromSlash(key), JobTokenFile)
}

func newJobStore(run *wfs.RunDir, kind string) (jobStore, error) {
	switch kind {
	case JobStoreFile:
		return fileJobStore{run: run}, nil
	case JobStoreCombined:
		return &combinedJobStore{run: run, toks: map[string]string{}}, nil
	case JobStoreStatus:
		return &statusJobStore{run: run}, nil
	}
	return nil, fmt.Errorf("unknown job token store %q", kind)
}

// readJobToken is the job client's side: it reads its own token from the
// store, as a job does before each message.
func readJobToken(run *wfs.RunDir, kind string, id wfs.JobID, key string) (string, error) {
	switch kind {
	case JobStoreFile:
		b, err := run.Files.ReadFile(unitTokenPath(run, key))
		if err != nil {
			return "", fmt.Errorf("job token: %w", err)
		}
		if tok := strings.TrimSpace(string(b)); tok != "" {
			return tok, nil
		}
		return "", fmt.Errorf("job token for %s: file is empty", id)
	case JobStoreCombined:
		b, err := run.Files.ReadFile(run.Service(JobTokensFile))
		if err != nil {
			return "", fmt.Errorf("job token: %w", err)
		}
		prefix := key + " "
		for _, line := range strings.Split(string(b), "\n") {
			if tok, ok := strings.CutPrefix(line, prefix); ok {
				return strings.TrimSpace(tok), nil
			}
		}
		return "", fmt.Errorf("job token: no line for %s in %s", key, JobTokensFile)
	case JobStoreStatus:
		b, err := run.Files.ReadFile(run.JobStatusPath(id))
		if err != nil {
			return "", fmt.Errorf("job token: %w", err)
		}
		tok := ""
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			if t, ok := strings.CutPrefix(sc.Text(), JobTokenStatusKey); ok {
				tok = strings.TrimSpace(t)
			}
		}
		if err := sc.Err(); err != nil {
			return "", fmt.Errorf("job token: read %s: %w", run.JobStatusPath(id), err)
		}
		if tok == "" {
			return "", fmt.Errorf("job token: no %s line in %s", strings.TrimSuffix(JobTokenStatusKey, "="), run.JobStatusPath(id))
		}
		return tok, nil
	}
	return "", fmt.Errorf("unknown job token store %q", kind)
}

// replaceFile writes data to a temporary file beside path and renames it over
// path, so that readers see the old or the new content, never a part.
func replaceFile(files *wfs.Files, path string, data []byte) error {
	tmp := path + ".tmp"
	if err := files.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := files.Rename(tmp, path); err != nil {
		_ = files.Remove(tmp)
		return err
	}
	return nil
}

type fileJobStore struct{ run *wfs.RunDir }

func (fileJobStore) perUnit() bool { return true }

func (s fileJobStore) put(id wfs.JobID, key, tok string) error {
	if err := s.run.MakeJobDir(id); err != nil {
		return err
	}
	path := unitTokenPath(s.run, key)
	if err := s.run.Files.MkdirAll(filepath.Dir(path)); err != nil {
		return err
	}
	return s.run.Files.WriteFile(path, []byte(tok+"\n"), 0o600)
}

func (s fileJobStore) remove(_ wfs.JobID, key string) error {
	return s.run.Files.Remove(unitTokenPath(s.run, key))
}

type combinedJobStore struct {
	run  *wfs.RunDir
	mu   sync.Mutex
	toks map[string]string // unit -> token
}

func (*combinedJobStore) perUnit() bool { return true }

// rewrite renders every live job's line and replaces the file; s.mu is held.
func (s *combinedJobStore) rewrite() error {
	ids := make([]string, 0, len(s.toks))
	for id := range s.toks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b bytes.Buffer
	for _, id := range ids {
		b.WriteString(id)
		b.WriteByte(' ')
		b.WriteString(s.toks[id])
		b.WriteByte('\n')
	}
	return replaceFile(s.run.Files, s.run.Service(JobTokensFile), b.Bytes())
}

func (s *combinedJobStore) put(id wfs.JobID, key, tok string) error {
	if err := s.run.MakeJobDir(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toks[key] = tok
	return s.rewrite()
}

func (s *combinedJobStore) remove(_ wfs.JobID, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.toks[key]; !ok {
		return nil
	}
	delete(s.toks, key)
	if len(s.toks) == 0 {
		return s.run.Files.Remove(s.run.Service(JobTokensFile))
	}
	return s.rewrite()
}

type statusJobStore struct {
	run *wfs.RunDir
	mu  sync.Mutex
}

func (*statusJobStore) perUnit() bool { return false }

func (s *statusJobStore) put(id wfs.JobID, _, tok string) error {
	if err := s.run.MakeJobDir(id); err != nil {
		return err
	}
	return s.run.Files.AppendFile(s.run.JobStatusPath(id), []byte(JobTokenStatusKey+tok+"\n"), 0o600)
}

func (s *statusJobStore) remove(id wfs.JobID, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := s.run.JobStatusPath(id)
	b, err := s.run.Files.ReadFile(path)
	if err != nil {
		return fmt.Errorf("revoke job token: %w", err)
	}
	var out bytes.Buffer
	found := false
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(JobTokenStatusKey)) {
			found = true
			continue
		}
		out.Write(line)
	}
	if !found {
		return nil
	}
	return replaceFile(s.run.Files, path, out.Bytes())
}
