package schemes

import (
	"fmt"
	"strings"
	"time"

	"github.com/authbench/authbench/wfs"
)

// The tokens of the job, task and cycle policies: minted at a job's
// submit for its unit (the job, its task or its cycle point), shared by the
// unit's jobs, retired at the unit's end.

// unitToken is the live token of a job, a task or a cycle point, and who
// holds it.
type unitToken struct {
	jti, tok string
	jobs     map[string]wfs.JobID // live jobs using it
	tasks    map[string]bool      // live tasks ("cycle/task") using it
}

// jobSubmitted gives a submitted job its unit's token: minted for the
// unit's first job (a job, a task's first submission, a cycle point's
// first task), else the live one; stored where the policy's store keeps it.
// A job's token may send messages for that job alone; a task's for any job
// of the task ("job.message:cycle/task/"); a cycle point's for any job of
// the cycle point ("job.message:cycle/").
func (s *tokenServer) jobSubmitted(id wfs.JobID, now time.Time) error {
	key := s.pol.unit(id)
	scope := ScopeJobMessage + ":" + key
	if s.pol.name != PolicyJob {
		scope += "/"
	}
	s.mu.Lock()
	u := s.units[key]
	minted := u == nil
	if minted {
		s.mu.Unlock()
		tok, c, err := s.mint(TypJob, key, now, jobTokenTTL, scope)
		if err != nil {
			return err
		}
		s.mu.Lock()
		if u = s.units[key]; u == nil { // no concurrent submit minted it
			u = &unitToken{jti: c.ID, tok: tok, jobs: map[string]wfs.JobID{}, tasks: map[string]bool{}}
			s.units[key] = u
			s.issued[c.ID] = &issued{until: c.Expiry.Time(), job: key}
		} else {
			minted = false
		}
	}
	u.jobs[id.String()] = id
	u.tasks[id.Cycle+"/"+id.Task] = true
	tok := u.tok
	s.mu.Unlock()
	if minted || !s.store.perUnit() {
		if err := s.store.put(id, key, tok); err != nil {
			return fmt.Errorf("store job token: %w", err)
		}
	}
	return nil
}

// jobEnded retires what a job's end retires: its token (job policy), its
// task's unless the task will retry (task policy), its cycle point's once
// no task of it is live (cycle policy). The status store strips the
// token from the job's job.status at every job end.
func (s *tokenServer) jobEnded(id wfs.JobID, retrying bool) error {
	key := s.pol.unit(id)
	s.mu.Lock()
	u, ok := s.units[key]
	if !ok {
		s.mu.Unlock()
		return nil
	}
	delete(u.jobs, id.String())
	if !retrying {
		delete(u.tasks, id.Cycle+"/"+id.Task)
	}
	retire := false
	switch s.pol.name {
	case PolicyJob:
		retire = true
	case PolicyTask:
		retire = !retrying
	case PolicyCycle:
		retire = len(u.tasks) == 0
	}
	if retire {
		delete(s.units, key)
		delete(s.issued, u.jti)
	}
	s.mu.Unlock()
	if !s.store.perUnit() {
		if err := s.store.remove(id, key); err != nil {
			return fmt.Errorf("revoke job token: %w", err)
		}
	} else if retire {
		if err := s.store.remove(id, key); err != nil {
			return fmt.Errorf("revoke job token: %w", err)
		}
	}
	return nil
}

// jobScopeAllows reports whether scopes let a token send messages for job
// (cycle/task/NN): job.message alone, job.message:<job>, or a prefix scope
// job.message:<cycle>/ or job.message:<cycle>/<task>/.
func jobScopeAllows(scopes []string, job string) bool {
	for _, sc := range scopes {
		if sc == ScopeJobMessage {
			return true
		}
		rest, ok := strings.CutPrefix(sc, ScopeJobMessage+":")
		if !ok || rest == "" {
			continue
		}
		if rest == job || (strings.HasSuffix(rest, "/") && strings.HasPrefix(job, rest)) {
			return true
		}
	}
	return false
}
