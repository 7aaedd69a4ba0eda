package schemes

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/wfs"
)

// otpServer verifies codes and remembers the ones it accepted.
type otpServer struct {
	NopServer
	conf     otpConf
	run      *wfs.RunDir
	workflow string
	now      func() time.Time
	secret   string
	closeMu  sync.Mutex

	accepted atomic.Int64
	resynced atomic.Int64

	mu        sync.Mutex
	skew      uint                           // totp; a conformance hook may widen it
	jobs      map[string]string              // job id -> secret (job policy)
	used      map[string]map[int64]time.Time // totp: key -> accepted steps
	last      map[string]uint64              // hotp: key -> last accepted counter
	lastSweep int64                          // totp: step of the last full prune
	refused   map[string]int64               // label -> count
	throttle  *otpThrottle                   // nil: off (a conformance hook)
}

// Server makes the master secret and writes .service/otp_secret.
func (p *otpPart) Server(_ context.Context, env Env) (ServerPart, error) {
	now := env.Now
	if now == nil {
		now = time.Now
	}
	secret, err := newOTPSecret()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.conf.proto, err)
	}
	if err := writeOTPSecret(env.Run.Files, env.Run.Service(OTPSecretFile), secret); err != nil {
		return nil, fmt.Errorf("%s: %w", p.conf.proto, err)
	}
	return &otpServer{
		conf: p.conf, run: env.Run, workflow: env.Workflow, now: now, secret: secret, skew: p.conf.skew,
		jobs: map[string]string{}, used: map[string]map[int64]time.Time{}, last: map[string]uint64{}, refused: map[string]int64{},
		throttle: newOTPThrottle(),
	}, nil
}

// refuse counts a refusal under label and returns a rejection.
func (s *otpServer) refuse(label, format string, a ...any) error {
	s.mu.Lock()
	s.refused[label]++
	s.mu.Unlock()
	return wfs.Rejectf("%s: "+format, append([]any{s.conf.proto}, a...)...)
}

// otpFrame is a parsed credential frame.
type otpFrame struct{ kind, identity, code string }

// parseOTPFrame parses "KIND IDENTITY CODE" strictly: three parts, one space
// apart, a known kind and a printable identity without spaces. The code is
// checked by the caller.
func parseOTPFrame(b []byte) (otpFrame, error) {
	parts := strings.Split(string(b), " ")
	if len(parts) != 3 {
		return otpFrame{}, errors.New("credential frame is not KIND IDENTITY CODE")
	}
	f := otpFrame{kind: parts[0], identity: parts[1], code: parts[2]}
	switch ClientKind(f.kind) {
	case KindCLI, KindJob, KindUIS:
	default:
		return otpFrame{}, fmt.Errorf("unknown client kind %q", otpTrunc(f.kind, 16))
	}
	if f.identity == "" || len(f.identity) > otpMaxIdentity {
		return otpFrame{}, fmt.Errorf("identity empty or longer than %d bytes", otpMaxIdentity)
	}
	for _, r := range f.identity {
		if r <= ' ' || r == 0x7f {
			return otpFrame{}, errors.New("identity has a control character or space")
		}
	}
	return f, nil
}

func otpTrunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// checkDigits refuses a code that is not exactly DIGITS ASCII digits
// (pquerna/otp trims spaces before it compares lengths; the WFS takes the
// code as it came).
func (c otpConf) checkDigits(code string) error {
	if len(code) != c.digits.Length() {
		return fmt.Errorf("code has %d characters, want %d digits", len(code), c.digits.Length())
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("code has a non-digit, want %d digits", c.digits.Length())
		}
	}
	return nil
}

// Verify takes the code frame, derives the sender's key and checks the code:
// TOTP within SKEW steps of the server's clock and not accepted before for
// its step; HOTP within WINDOW counters after the last one accepted (which
// then moves to it: the resync). A code of an identity (or, for one never
// accepted, a source) held off after too many wrong codes is refused
// unchecked as throttled (otp_throttle.go).
func (s *otpServer) Verify(_ context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	n := len(in.Frames)
	if n == 0 {
		return wfs.Principal{}, &wfs.Error{Kind: wfs.KindProtocol, Msg: "empty request"}
	}
	if n < 2 {
		return wfs.Principal{}, s.refuse(otpRefusedNoCode, "no code")
	}
	raw := in.Frames[n-1]
	in.Frames = in.Frames[:n-1]
	f, err := parseOTPFrame(raw)
	if err != nil {
		return wfs.Principal{}, s.refuse(otpRefusedMalformed, "%v", err)
	}
	if err := s.conf.checkDigits(f.code); err != nil {
		return wfs.Principal{}, s.refuse(otpRefusedDigits, "%v", err)
	}
	secret := s.secret
	liveJob := false
	who := wfs.Principal{Name: f.identity, Kind: "user"}
	switch ClientKind(f.kind) {
	case KindUIS:
		who.Kind = "uis"
	case KindJob:
		if _, err := wfs.ParseJobID(f.identity); err != nil {
			return wfs.Principal{}, s.refuse(otpRefusedMalformed, "job identity: %v", err)
		}
		who.Kind = "job"
		if s.conf.policy == PolicyJob {
			s.mu.Lock()
			js, ok := s.jobs[f.identity]
			s.mu.Unlock()
			if !ok {
				return wfs.Principal{}, s.refuse(otpRefusedNoSecret, "no live secret for job %s (never submitted, or ended)", f.identity)
			}
			secret, liveJob = js, true
		}
	}
	key, err := OTPKey(secret, s.workflow, f.kind, f.identity)
	if err != nil {
		return wfs.Principal{}, fmt.Errorf("%s: %w", s.conf.proto, err)
	}
	a := otpAttempt{key: key, label: f.kind + " " + f.identity, source: in.Peer, liveJob: liveJob}
	if s.conf.proto == ProtoTOTP {
		err = s.checkTOTP(a, f.code)
	} else {
		err = s.checkHOTP(a, f.code)
	}
	if err != nil {
		return wfs.Principal{}, err
	}
	s.accepted.Add(1)
	return who, nil
}

// admitLocked refuses, unchecked, a code that arrives while its identity
// (or, for an identity never accepted, its source) is held off; s.mu is
// held, so the admission, the check and the count of its outcome are one
// step and concurrent guesses cannot share a slot.
func (s *otpServer) admitLocked(a otpAttempt, now time.Time) error {
	if s.throttle == nil {
		return nil
	}
	if msg, ok := s.throttle.admit(a, now); !ok {
		s.refused[otpRefusedThrottled]++
		return wfs.Rejectf("%s: %s", s.conf.proto, msg)
	}
	return nil
}

// wrongLocked counts a wrong code of a and returns its refusal.
func (s *otpServer) wrongLocked(a otpAttempt, now time.Time, format string, args ...any) error {
	s.refused[otpRefusedWrong]++
	if s.throttle != nil {
		s.throttle.failed(a, now)
	}
	return wfs.Rejectf("%s: "+format, append([]any{s.conf.proto}, args...)...)
}

// acceptedLocked remembers that a's identity was accepted.
func (s *otpServer) acceptedLocked(a otpAttempt) {
	if s.throttle != nil {
		s.throttle.accepted(a)
	}
}

// checkTOTP verifies code against each step within the skew window with
// totp.ValidateCustom and accepts it at the first step it matches that has
// not been used; the check and the mark are one step under s.mu, so of two
// concurrent uses exactly one is accepted.
func (s *otpServer) checkTOTP(a otpAttempt, code string) error {
	now := s.now()
	cur := s.conf.stepOf(now)
	opts := s.conf.totpOpts()
	key := a.key
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admitLocked(a, now); err != nil {
		return err
	}
	s.pruneLocked(cur)
	replayed := int64(-1)
	cands := []int64{cur}
	for i := int64(1); i <= int64(s.skew); i++ {
		cands = append(cands, cur-i, cur+i)
	}
	for _, step := range cands {
		ok, err := totp.ValidateCustom(code, key, s.conf.stepStart(step), opts)
		if err != nil {
			s.refused[otpRefusedMalformed]++
			return wfs.Rejectf("%s: %v", s.conf.proto, err)
		}
		if !ok {
			continue
		}
		if _, done := s.used[key][step]; done {
			replayed = step
			continue
		}
		if s.used[key] == nil {
			s.used[key] = map[int64]time.Time{}
		}
		s.used[key][step] = now
		s.acceptedLocked(a)
		return nil
	}
	if replayed >= 0 {
		s.refused[otpRefusedReplayed]++
		return wfs.Rejectf("%s: code for step %d replayed (accepted once already)", s.conf.proto, replayed)
	}
	return s.wrongLocked(a, now, "wrong code, or a code outside the skew window (%d step(s) of %s)", s.skew, s.conf.step)
}

// pruneLocked forgets accepted steps that no code can match any more (older
// than the skew window): the replay memory holds at most 2*SKEW+1 steps per
// key. A full sweep runs at most once per step. s.mu is held.
func (s *otpServer) pruneLocked(cur int64) {
	if cur == s.lastSweep {
		return
	}
	s.lastSweep = cur
	oldest := cur - int64(s.skew)
	for key, steps := range s.used {
		for st := range steps {
			if st < oldest {
				delete(steps, st)
			}
		}
		if len(steps) == 0 {
			delete(s.used, key)
		}
	}
}

// checkHOTP verifies code with hotp.ValidateCustom at each counter in
// (last, last+WINDOW] and moves the key's last counter to the one it
// matches. A code that matches a counter at or up to WINDOW below the last
// one is counted as replayed.
func (s *otpServer) checkHOTP(a otpAttempt, code string) error {
	opts := s.conf.hotpOpts()
	now := s.now()
	key := a.key
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.admitLocked(a, now); err != nil {
		return err
	}
	last := s.last[key]
	for c := last + 1; c <= last+uint64(s.conf.window); c++ {
		ok, err := hotp.ValidateCustom(code, c, key, opts)
		if err != nil {
			s.refused[otpRefusedMalformed]++
			return wfs.Rejectf("%s: %v", s.conf.proto, err)
		}
		if ok {
			if c > last+1 {
				s.resynced.Add(1)
			}
			s.last[key] = c
			s.acceptedLocked(a)
			return nil
		}
	}
	for c := last; c >= 1 && c+uint64(s.conf.window) > last; c-- {
		if ok, _ := hotp.ValidateCustom(code, c, key, opts); ok {
			s.refused[otpRefusedReplayed]++
			return wfs.Rejectf("%s: counter %d replayed or behind (last accepted %d)", s.conf.proto, c, last)
		}
	}
	return s.wrongLocked(a, now, "wrong code, or a counter beyond the look-ahead window (%d after %d)", s.conf.window, last)
}

// Authorize: under the job policy a job message needs the key of the job
// it speaks for, and a job's key sends nothing else; the workflow policy
// authorises everything (a code is all-or-nothing).
func (s *otpServer) Authorize(_ context.Context, who wfs.Principal, req *wfs.Request) error {
	if s.conf.policy != PolicyJob {
		return nil
	}
	a, isMsg, err := wfs.JobMessage(req)
	if err != nil {
		return err
	}
	switch {
	case who.Kind == "job" && !isMsg:
		return s.refuse(otpRefusedAuthz, "job %s's code sends only its own messages, not %q", who.Name, req.Command)
	case who.Kind == "job" && a.TaskJob != who.Name:
		return s.refuse(otpRefusedAuthz, "job %s's code cannot send a message of job %s", who.Name, a.TaskJob)
	case who.Kind != "job" && isMsg:
		return s.refuse(otpRefusedAuthz, "a job message needs the job's own code under policy job (%s %s sent one)", who.Kind, who.Name)
	}
	return nil
}

// Event mints a job's secret at submit and deletes it at job end (job
// policy); job end also drops the job key's replay memory.
func (s *otpServer) Event(_ context.Context, ev Event) error {
	if s.conf.policy != PolicyJob {
		return nil
	}
	id := ev.Job.String()
	path := filepath.Join(s.run.JobDir(ev.Job), OTPJobSecretFile)
	switch ev.Kind {
	case EventJobSubmit:
		secret, err := newOTPSecret()
		if err != nil {
			return fmt.Errorf("%s: %w", s.conf.proto, err)
		}
		if err := s.run.MakeJobDir(ev.Job); err != nil {
			return fmt.Errorf("%s: %w", s.conf.proto, err)
		}
		if err := writeOTPSecret(s.run.Files, path, secret); err != nil {
			return fmt.Errorf("%s: job secret: %w", s.conf.proto, err)
		}
		s.mu.Lock()
		s.jobs[id] = secret
		s.mu.Unlock()
	case EventJobEnd:
		s.mu.Lock()
		secret, ok := s.jobs[id]
		delete(s.jobs, id)
		if ok {
			if key, err := OTPKey(secret, s.workflow, string(KindJob), id); err == nil {
				delete(s.used, key)
				delete(s.last, key)
			}
		}
		s.mu.Unlock()
		if err := s.run.Files.Remove(path); err != nil {
			return fmt.Errorf("%s: revoke job secret: %w", s.conf.proto, err)
		}
	}
	return nil
}

// Stats reports codes accepted, HOTP resyncs, refusals by label (codes
// refused unchecked during a hold-off under otp.refused.throttled), the
// replay memory's size, the live job secrets, and the throttle's state:
// identities and sources with failures tracked, identities known (accepted
// before), and how many of them are held off now.
func (s *otpServer) Stats() map[string]float64 {
	out := map[string]float64{
		"otp.accepted": float64(s.accepted.Load()),
		"otp.resynced": float64(s.resynced.Load()),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for label, n := range s.refused {
		out["otp.refused."+label] = float64(n)
		total += n
	}
	out["otp.refused"] = float64(total)
	mem := len(s.last)
	for _, steps := range s.used {
		mem += len(steps)
	}
	out["otp.replay_memory"] = float64(mem)
	out["otp.job_secrets"] = float64(len(s.jobs))
	if s.throttle != nil {
		now := s.now()
		out["otp.throttle.identities"] = float64(s.throttle.ids.len())
		out["otp.throttle.sources"] = float64(s.throttle.sources.len())
		out["otp.throttle.known"] = float64(s.throttle.known.len())
		out["otp.throttle.held"] = float64(held(s.throttle.ids, now) + held(s.throttle.sources, now))
	}
	return out
}

// Close removes the master secret and every live job secret.
func (s *otpServer) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.mu.Lock()
	jobs := make([]string, 0, len(s.jobs))
	for id := range s.jobs {
		jobs = append(jobs, id)
	}
	s.jobs = map[string]string{}
	s.mu.Unlock()
	errs := []error{s.run.Files.Remove(s.run.Service(OTPSecretFile))}
	for _, id := range jobs {
		if jid, err := wfs.ParseJobID(id); err == nil {
			errs = append(errs, s.run.Files.Remove(filepath.Join(s.run.JobDir(jid), OTPJobSecretFile)))
		}
	}
	return errors.Join(errs...)
}
