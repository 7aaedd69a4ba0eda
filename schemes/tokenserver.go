package schemes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authbench/authbench/wfs"
)

// CmdToken is the command a client of the command and shared policies sends,
// without a credential, to ask for a token. The reply names a new file under
// .service/tokens/; reading it proves access to the WFS's file system.
const CmdToken = "token"

// TokenFile is the workflow-life or timed token's name in .service/.
const TokenFile = "token"

// TokensDir is the directory in .service/ of requested tokens.
const TokensDir = "tokens"

// TokenRequestArgs are the args of a "token" request.
type TokenRequestArgs struct {
	// Sub is who asks: a user name, or a job id when Kind is "job".
	Sub string `json:"sub"`
	// Kind is the client kind: "cli", "job" or "uis".
	Kind string `json:"kind"`
}

// TokenReply is the data of a "token" reply: the token file's name in
// .service/tokens/, never the token itself.
type TokenReply struct {
	File string `json:"file"`
}

// tokenFileName is what a token file may be called (the jti: base64url).
var tokenFileName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// issued is what the WFS remembers of a token it must track: when it stops
// being accepted (server clock, no leeway), the file to delete at its first
// use, whether it may be used once only, and the job it speaks for.
type issued struct {
	until time.Time
	file  string
	once  bool
	job   string
}

// tokenServer is the policy engine shared by the jwt and jwe server parts: it
// mints tokens, stores them where the policy says, tracks the ones the policy
// must be able to retire, and checks verified claims against the policy and
// the operation. The credential parts supply the framing (Verify).
type tokenServer struct {
	NopServer
	pol      policyConf
	kit      *signingKit
	rules    tokenRules
	run      *wfs.RunDir
	workflow string
	now      func() time.Time
	replay   *replayCache
	store    jobStore   // job, task and cycle policies
	keyFiles []string   // removed at Close
	closeMu  sync.Mutex // serialises Close
	stop     chan struct{}
	stopped  chan struct{} // closed when the timed rotation loop has ended

	minted    atomic.Int64 // tokens signed
	jobMinted atomic.Int64 // of which job, task and cycle tokens

	mu         sync.Mutex
	issued     map[string]*issued    // jti -> tracked token
	units      map[string]*unitToken // unit -> its live token (job, task, cycle)
	current    string                // jti of .service/token (timed)
	nextRotate time.Time             // timed
	lastPrune  time.Time
}

// newTokenServer provisions the policy: it writes the workflow token for the
// policies that have one and makes the directories the policy needs.
func newTokenServer(env Env, pol policyConf, kit *signingKit, keyFiles []string) (*tokenServer, error) {
	now := env.Now
	if now == nil {
		now = time.Now
	}
	s := &tokenServer{
		pol: pol, kit: kit, run: env.Run, workflow: env.Workflow, now: now,
		rules:    tokenRules{issuer: TokenIssuer(env.Workflow), audience: env.Workflow, leeway: leewayOf(env)},
		replay:   newReplayCache(),
		keyFiles: keyFiles,
		issued:   map[string]*issued{},
		units:    map[string]*unitToken{},
	}
	t := now()
	switch pol.name {
	case PolicyWorkflow:
		if err := s.writeSessionToken(t, workflowTokenTTL, ScopeRead, ScopeControl, ScopeJobMessage); err != nil {
			return nil, err
		}
	case PolicyJob, PolicyTask, PolicyCycle:
		// The CLI and UI server use a workflow-life token without the job
		// message capability; jobs get their job's, task's or cycle
		// point's at submit.
		if err := s.writeSessionToken(t, workflowTokenTTL, ScopeRead, ScopeControl); err != nil {
			return nil, err
		}
		st, err := newJobStore(env.Run, pol.store)
		if err != nil {
			return nil, err
		}
		s.store = st
	case PolicyTimed:
		s.mu.Lock()
		err := s.rotateLocked(t)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		s.stop, s.stopped = make(chan struct{}), make(chan struct{})
		go s.rotateLoop()
	case PolicyCommand, PolicyShared:
		if err := env.Run.Files.MkdirAll(env.Run.Service(TokensDir)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// mint signs a new token.
func (s *tokenServer) mint(typ, sub string, iat time.Time, ttl time.Duration, scopes ...string) (string, *TokenClaims, error) {
	s.minted.Add(1)
	if typ == TypJob {
		s.jobMinted.Add(1)
	}
	jti, err := randomID(16)
	if err != nil {
		return "", nil, err
	}
	c := &TokenClaims{
		Claims: jwt.Claims{
			Issuer:    s.rules.issuer,
			Subject:   sub,
			Audience:  jwt.Audience{s.workflow},
			IssuedAt:  jwt.NewNumericDate(iat),
			NotBefore: jwt.NewNumericDate(iat),
			Expiry:    jwt.NewNumericDate(iat.Add(ttl)),
			ID:        jti,
		},
		Typ:   typ,
		Scope: strings.Join(scopes, " "),
	}
	tok, err := s.kit.sign(c)
	if err != nil {
		return "", nil, err
	}
	return tok, c, nil
}

// writeSessionToken mints the workflow-life token and writes .service/token.
func (s *tokenServer) writeSessionToken(t time.Time, ttl time.Duration, scopes ...string) error {
	tok, _, err := s.mint(TypSession, "owner", t, ttl, scopes...)
	if err != nil {
		return err
	}
	return s.run.Files.WriteFile(s.run.Service(TokenFile), []byte(tok+"\n"), 0o600)
}

// rotateLocked makes a new timed token, valid from at for LIFETIME+OVERLAP,
// retires the current one OVERLAP after at, and replaces .service/token
// atomically. s.mu is held.
func (s *tokenServer) rotateLocked(at time.Time) error {
	tok, c, err := s.mint(TypSession, "owner", at, s.pol.lifetime+s.pol.overlap, ScopeRead, ScopeControl, ScopeJobMessage)
	if err != nil {
		return err
	}
	if err := replaceFile(s.run.Files, s.run.Service(TokenFile), []byte(tok+"\n")); err != nil {
		return err
	}
	if old, ok := s.issued[s.current]; ok {
		if end := at.Add(s.pol.overlap); end.Before(old.until) {
			old.until = end
		}
	}
	s.issued[c.ID] = &issued{until: c.Expiry.Time()}
	s.current = c.ID
	s.nextRotate = at.Add(s.pol.lifetime)
	s.pruneLocked(at) // retired timed tokens have no files
	return nil
}

// maybeRotate rotates the timed token when its lifetime is up, on the
// schedule (a late tick or request rotates as of the scheduled time, unless a
// whole lifetime was missed).
func (s *tokenServer) maybeRotate(now time.Time) error {
	if s.pol.name != PolicyTimed {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.nextRotate) {
		return nil
	}
	at := s.nextRotate
	if now.Sub(at) >= s.pol.lifetime {
		at = now
	}
	return s.rotateLocked(at)
}

// rotateLoop rotates the timed token on the WFS's own clock (env.Now), so
// that .service/token stays fresh when no request or tick comes for a while.
func (s *tokenServer) rotateLoop() {
	defer close(s.stopped)
	every := min(max(s.pol.lifetime/10, 100*time.Millisecond), time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_ = s.maybeRotate(s.now()) // a failed rotation is retried next tick
		}
	}
}

// noCredential decides a request that carries no token: only a "token"
// request, under a policy that hands tokens out on request, gets through
// (with no principal; Authorize lets it run CmdToken only).
func (s *tokenServer) noCredential(body []byte) (wfs.Principal, error) {
	if s.pol.onRequest() {
		if req, err := wfs.DecodeRequest(body); err == nil && req.Command == CmdToken {
			return wfs.Principal{}, nil
		}
		return wfs.Principal{}, wfs.Rejectf("no token: send a %q request first", CmdToken)
	}
	return wfs.Principal{}, wfs.Rejectf("no token")
}

// accept verifies a token string and applies the policy: tracked tokens must
// still be live on the server's clock, one-use tokens are consumed (exactly
// once, even under concurrent use) and their file deleted.
func (s *tokenServer) accept(tok string) (wfs.Principal, error) {
	now := s.now()
	if err := s.maybeRotate(now); err != nil {
		return wfs.Principal{}, fmt.Errorf("rotate token: %w", err)
	}
	c, err := s.kit.verify(tok, s.rules, now)
	if err != nil {
		return wfs.Principal{}, err
	}
	return s.acceptClaims(c, now)
}

// acceptClaims applies the policy to verified claims.
func (s *tokenServer) acceptClaims(c *TokenClaims, now time.Time) (wfs.Principal, error) {
	var removeFile string
	s.mu.Lock()
	e, tracked := s.issued[c.ID]
	switch {
	case tracked && !now.Before(e.until):
		s.mu.Unlock()
		return wfs.Principal{}, wfs.Rejectf("token %s: no longer accepted (its window, overlap or job has ended)", c.ID)
	case tracked && e.once:
		if !s.replay.first(c.ID, c.Expiry.Time().Add(s.rules.leeway), now) {
			s.mu.Unlock()
			return wfs.Principal{}, wfs.Rejectf("token %s: replayed", c.ID)
		}
		delete(s.issued, c.ID)
		removeFile = e.file
	case tracked && e.file != "":
		removeFile, e.file = e.file, ""
	case !tracked && s.mustTrack(c):
		s.mu.Unlock()
		if s.replay.has(c.ID) {
			return wfs.Principal{}, wfs.Rejectf("token %s: replayed", c.ID)
		}
		return wfs.Principal{}, wfs.Rejectf("token %s: revoked, rotated out or not issued by this WFS", c.ID)
	}
	s.mu.Unlock()
	if removeFile != "" {
		if err := s.run.Files.Remove(removeFile); err != nil {
			return wfs.Principal{}, fmt.Errorf("delete used token: %w", err)
		}
	}
	who := wfs.Principal{Name: c.Subject, Kind: "user", Scopes: c.Scopes()}
	if c.Typ == TypJob {
		who.Kind = "job"
	}
	if who.Scopes == nil {
		who.Scopes = []string{}
	}
	return who, nil
}

// mustTrack reports whether a token of these claims is valid only while the
// WFS remembers it. Session tokens of the workflow and job policies are
// stateless: any token the WFS's key signed with the right claims is good.
func (s *tokenServer) mustTrack(c *TokenClaims) bool {
	switch s.pol.name {
	case PolicyWorkflow:
		return false
	case PolicyJob, PolicyTask, PolicyCycle:
		return c.Typ != TypSession
	}
	return true
}

// Authorize checks that the token's typ and scope fit the operation: control
// needs workflow.control, data workflow.read, a job message job.message for
// that very job; a token request needs nothing (Verify let it through only
// under a policy that serves it).
func (s *tokenServer) Authorize(_ context.Context, who wfs.Principal, req *wfs.Request) error {
	switch {
	case req.Command == CmdToken:
		if !s.pol.onRequest() {
			return wfs.Rejectf("policy %s hands out no tokens on request", s.pol.name)
		}
		return nil
	case who.Scopes == nil:
		return wfs.Rejectf("no verified token")
	case req.Command == wfs.CmdPing:
		return nil
	case req.Command == wfs.CmdData:
		if !hasScope(who.Scopes, ScopeRead) {
			return wfs.Rejectf("%s token of %s lacks %s", who.Kind, who.Name, ScopeRead)
		}
		return nil
	case req.Command == wfs.CmdMessage || req.Command == wfs.CmdGraphQL:
		// A job message, as the message command or as cylc's GraphQL
		// mutation (any other graphql request is a protocol error).
		a, _, err := wfs.JobMessage(req)
		if err != nil {
			return err
		}
		if jobScopeAllows(who.Scopes, a.TaskJob) {
			return nil
		}
		if who.Kind == "job" {
			return wfs.Rejectf("token of job %s cannot speak for job %s", who.Name, a.TaskJob)
		}
		return wfs.Rejectf("a %s's token cannot send job messages", who.Kind)
	default:
		if !hasScope(who.Scopes, ScopeControl) {
			return wfs.Rejectf("%s token of %s lacks %s for %q", who.Kind, who.Name, ScopeControl, req.Command)
		}
		return nil
	}
}

// Handle serves CmdToken under the command and shared policies: it mints a
// token, writes it to a new 0600 file under .service/tokens/ and replies
// with the file's name.
func (s *tokenServer) Handle(_ context.Context, _ wfs.Principal, req *wfs.Request) (any, bool, error) {
	if req.Command != CmdToken || !s.pol.onRequest() {
		return nil, false, nil
	}
	var a TokenRequestArgs
	if len(req.Args) > 0 {
		if err := json.Unmarshal(req.Args, &a); err != nil {
			return nil, true, &wfs.Error{Kind: wfs.KindProtocol, Msg: "token args: " + err.Error()}
		}
	}
	if a.Sub == "" || len(a.Sub) > 256 || strings.ContainsAny(a.Sub, "\n\x00") {
		return nil, true, &wfs.Error{Kind: wfs.KindProtocol, Msg: "token args: sub must be 1-256 characters"}
	}
	typ, scopes := TypCommand, []string{ScopeRead, ScopeControl}
	if s.pol.name == PolicyShared {
		typ = TypSession
	}
	job := ""
	if a.Kind == string(KindJob) {
		id, err := wfs.ParseJobID(a.Sub)
		if err != nil {
			return nil, true, &wfs.Error{Kind: wfs.KindProtocol, Msg: "token args: " + err.Error()}
		}
		job = id.String()
		typ, scopes = TypJob, []string{ScopeJobMessage + ":" + job}
	}
	ttl := commandTokenTTL
	if s.pol.name == PolicyShared {
		ttl = s.pol.window
	}
	now := s.now()
	tok, c, err := s.mint(typ, a.Sub, now, ttl, scopes...)
	if err != nil {
		return nil, true, err
	}
	path := filepath.Join(s.run.Service(TokensDir), c.ID)
	if err := s.run.Files.CreateExclusive(path, []byte(tok+"\n"), 0o600); err != nil {
		return nil, true, fmt.Errorf("token file: %w", err)
	}
	s.mu.Lock()
	s.issued[c.ID] = &issued{until: c.Expiry.Time(), file: path, once: s.pol.name == PolicyCommand, job: job}
	stale := s.pruneLocked(now)
	s.mu.Unlock()
	s.removeFiles(stale)
	return TokenReply{File: c.ID}, true, nil
}

// pruneLocked forgets tracked tokens past their end (at most once a second)
// and returns the files of those never used, for deletion. s.mu is held.
func (s *tokenServer) pruneLocked(now time.Time) []string {
	if now.Sub(s.lastPrune) < time.Second {
		return nil
	}
	s.lastPrune = now
	var files []string
	for jti, e := range s.issued {
		if e.job != "" && s.pol.perJob() {
			continue // job, task and cycle tokens die at their unit's end
		}
		if now.After(e.until.Add(s.rules.leeway)) {
			delete(s.issued, jti)
			if e.file != "" {
				files = append(files, e.file)
			}
		}
	}
	return files
}

func (s *tokenServer) removeFiles(paths []string) {
	for _, p := range paths {
		_ = s.run.Files.Remove(p)
	}
}

// Event mints a job's token at submit and revokes it at job end (job
// policy), and rotates the timed token on a tick.
func (s *tokenServer) Event(_ context.Context, ev Event) error {
	now := ev.Now
	if now.IsZero() {
		now = s.now()
	}
	switch ev.Kind {
	case EventTick:
		return s.maybeRotate(now)
	case EventJobSubmit:
		if !s.pol.perJob() {
			return nil
		}
		return s.jobSubmitted(ev.Job, now)
	case EventJobEnd:
		if !s.pol.perJob() {
			return nil
		}
		return s.jobEnded(ev.Job, ev.Retrying)
	}
	return nil
}

// Stats reports the tokens the WFS signed ("token.minted"), the job, task
// and cycle tokens among them ("token.job_minted") and, under the job, task
// and cycle policies, the live ones ("token.units_live").
func (s *tokenServer) Stats() map[string]float64 {
	out := map[string]float64{"token.minted": float64(s.minted.Load())}
	if s.pol.perJob() {
		s.mu.Lock()
		out["token.units_live"] = float64(len(s.units))
		s.mu.Unlock()
		out["token.job_minted"] = float64(s.jobMinted.Load())
	}
	return out
}

// Close revokes every live job token and deletes the token files and keys.
func (s *tokenServer) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.stop != nil {
		close(s.stop)
		<-s.stopped
		s.stop = nil
	}
	var errs []error
	s.mu.Lock()
	units := s.units
	var files []string
	for _, e := range s.issued {
		if e.file != "" {
			files = append(files, e.file)
		}
	}
	s.units, s.issued = map[string]*unitToken{}, map[string]*issued{}
	s.mu.Unlock()
	for key, u := range units {
		if s.store == nil {
			break
		}
		if s.store.perUnit() {
			var any wfs.JobID
			for _, id := range u.jobs {
				any = id
				break
			}
			errs = append(errs, s.store.remove(any, key))
			continue
		}
		for _, id := range u.jobs {
			errs = append(errs, s.store.remove(id, key))
		}
	}
	for _, f := range files {
		errs = append(errs, s.run.Files.Remove(f))
	}
	errs = append(errs, s.run.Files.Remove(s.run.Service(TokenFile)))
	for _, k := range s.keyFiles {
		errs = append(errs, s.run.Files.Remove(k))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("token teardown: %w", err)
	}
	return nil
}

// leewayOf is the environment's leeway, DefaultLeeway when unset.
func leewayOf(env Env) time.Duration {
	if env.Leeway > 0 {
		return env.Leeway
	}
	return DefaultLeeway
}
