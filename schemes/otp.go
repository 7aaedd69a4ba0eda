package schemes

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/wfs"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// One-time-password credentials (issue 15 part 2): totp (RFC 6238) and hotp
// (RFC 4226), computed and verified with github.com/pquerna/otp.
//
// Secrets. The WFS makes a random 160-bit master secret at start and writes
// it, base32, to .service/otp_secret (0600); under the job policy it also
// makes one per job at submit, written to <job-dir>/otp_secret (0600) and
// deleted at job end. Neither is ever sent. A secret is fresh at every start
// (the server's replay memory and HOTP counters live in memory, so a secret
// that outlived them would let old codes back in).
//
// One prover per key. RFC 6238 section 5.2 has the verifier refuse a second
// use of a code, so a secret shared by every client of a workflow would let
// one request per step through, whoever sent it: a CLI command and a job
// message in the same 30 s would collide. So each client identity gets its
// own key, derived from the secret by OTPKey (HMAC-SHA256 over the workflow
// id, the client kind and the identity), and sends its kind and identity
// beside the code; the server derives the same key, verifies, and remembers
// the codes it accepted per key. Anyone who can read the secret can derive
// any identity's key (as anyone who can read a passphrase is anyone): the
// identity is a name for replay bookkeeping, not a proof.
//
// Concurrency within one identity. A TOTP code is one per step: a client
// that has used the current step waits for the next one (see otpClient);
// this latency is the scheme's real cost, up to one step per extra command
// of one identity, and shows in the acquire time of every exchange. An HOTP
// client takes the next counter instead, at no wait, but a counter that
// reaches the server after a higher one is refused (the server keeps only
// the last counter accepted, as RFC 4226 section 7.2 has it).
//
// Wire: [body, "KIND IDENTITY CODE"].

// OTP file names: the master secret in .service/ and a job's secret in its
// job directory (both 0600, base32).
const (
	OTPSecretFile    = "otp_secret"
	OTPJobSecretFile = "otp_secret"
)

// OTP defaults and bounds of the spec arguments.
const (
	OTPDefaultStep   = 30 * time.Second
	OTPDefaultSkew   = 1
	OTPDefaultWindow = 3
	OTPDefaultDigits = 6
	otpMaxStep       = time.Hour
	otpMaxSkew       = 10
	otpMaxWindow     = 100
	otpMinDigits     = 6
	otpMaxDigits     = 8
	// otpSecretBytes is the secret's size: 160 bits, RFC 4226's
	// recommendation (pyotp.random_base32's size too).
	otpSecretBytes = 20
	// otpMaxIdentity bounds the identity a client sends.
	otpMaxIdentity = 256
	// otpKeyLabel versions the key derivation.
	otpKeyLabel = "authbench-otp/v1"
)

// OTP protocols.
const (
	ProtoTOTP = "totp"
	ProtoHOTP = "hotp"
)

// Refusal labels of the otp server ("otp.refused.<label>" in Stats).
const (
	otpRefusedNoCode    = "no-code"
	otpRefusedMalformed = "malformed"
	otpRefusedDigits    = "digits"
	otpRefusedNoSecret  = "no-secret"
	otpRefusedWrong     = "wrong-code"
	otpRefusedReplayed  = "replayed"
	otpRefusedAuthz     = "authz"
)

// otpConf is a parsed totp or hotp spec.
type otpConf struct {
	proto  string
	policy string
	step   time.Duration // totp
	skew   uint          // totp, in steps
	window uint          // hotp look-ahead, in counters
	digits otp.Digits
}

// otpGrammar is what a totp or hotp spec's argument may be, for errors.
func otpGrammar(proto string) string {
	if proto == ProtoTOTP {
		return fmt.Sprintf("totp[:workflow|:job][=STEP[/SKEW[/DIGITS]]] with STEP a whole number of seconds from 1s to %s (default %s), SKEW 0-%d steps either side (default %d), DIGITS %d-%d (default %d), e.g. totp:workflow=30s/1",
			otpMaxStep, OTPDefaultStep, otpMaxSkew, OTPDefaultSkew, otpMinDigits, otpMaxDigits, OTPDefaultDigits)
	}
	return fmt.Sprintf("hotp[:workflow|:job][=WINDOW[/DIGITS]] with WINDOW the look-ahead, 1-%d counters (default %d), DIGITS %d-%d (default %d), e.g. hotp:workflow=3",
		otpMaxWindow, OTPDefaultWindow, otpMinDigits, otpMaxDigits, OTPDefaultDigits)
}

// parseOTP validates a totp or hotp spec's policy argument. Errors are one
// line naming the argument and what is valid.
func parseOTP(proto string, sp Spec) (otpConf, error) {
	c := otpConf{proto: proto, policy: sp.Policy, step: OTPDefaultStep, skew: OTPDefaultSkew, window: OTPDefaultWindow, digits: OTPDefaultDigits}
	bad := func(format string, a ...any) (otpConf, error) {
		return c, fmt.Errorf("%s:%s=%s: %s; valid: %s", proto, sp.Policy, sp.Arg, fmt.Sprintf(format, a...), otpGrammar(proto))
	}
	if sp.Policy != PolicyWorkflow && sp.Policy != PolicyJob {
		return c, fmt.Errorf("%s: unknown policy %q; valid: %s", proto, sp.Policy, otpGrammar(proto))
	}
	if sp.Arg == "" {
		return c, nil
	}
	parts := strings.Split(sp.Arg, "/")
	digitsAt := -1
	switch proto {
	case ProtoTOTP:
		if len(parts) > 3 {
			return bad("too many parts")
		}
		d, err := time.ParseDuration(parts[0])
		if err != nil {
			return bad("STEP %q is not a duration", parts[0])
		}
		if d < time.Second || d > otpMaxStep || d%time.Second != 0 {
			return bad("STEP %s is not a whole number of seconds from 1s to %s", d, otpMaxStep)
		}
		c.step = d
		if len(parts) > 1 {
			n, err := strconv.ParseUint(parts[1], 10, 32)
			if err != nil || n > otpMaxSkew {
				return bad("SKEW %q is not a whole number of steps from 0 to %d", parts[1], otpMaxSkew)
			}
			c.skew = uint(n)
		}
		if len(parts) > 2 {
			digitsAt = 2
		}
	case ProtoHOTP:
		if len(parts) > 2 {
			return bad("too many parts")
		}
		n, err := strconv.ParseUint(parts[0], 10, 32)
		if err != nil || n < 1 || n > otpMaxWindow {
			return bad("WINDOW %q is not a whole number of counters from 1 to %d", parts[0], otpMaxWindow)
		}
		c.window = uint(n)
		if len(parts) > 1 {
			digitsAt = 1
		}
	default:
		return c, fmt.Errorf("unknown one-time-password protocol %q", proto)
	}
	if digitsAt >= 0 {
		n, err := strconv.Atoi(parts[digitsAt])
		if err != nil || n < otpMinDigits || n > otpMaxDigits {
			return bad("DIGITS %q is not %d to %d", parts[digitsAt], otpMinDigits, otpMaxDigits)
		}
		c.digits = otp.Digits(n)
	}
	return c, nil
}

// otpPart is the totp or hotp credential.
type otpPart struct{ conf otpConf }

func totpInfo() PartInfo {
	return PartInfo{
		Name: ProtoTOTP, Kind: Credential,
		Doc:      "RFC 6238 time-based one-time code (pquerna/otp) from a secret in .service/otp_secret (per job: job=), key per client identity, as an extra frame; codes used once per step, refused outside the skew window",
		Policies: []string{PolicyWorkflow, PolicyJob},
		Examples: []string{"totp", "totp:job=30s/1"},
		New: func(sp Spec) (Part, error) {
			c, err := parseOTP(ProtoTOTP, sp)
			if err != nil {
				return nil, err
			}
			return &otpPart{conf: c}, nil
		},
	}
}

func hotpInfo() PartInfo {
	return PartInfo{
		Name: ProtoHOTP, Kind: Credential,
		Doc:      "RFC 4226 counter-based one-time code (pquerna/otp) from a secret in .service/otp_secret (per job: job=), key per client identity, as an extra frame; counter kept in the client's state dir, accepted within a look-ahead window",
		Policies: []string{PolicyWorkflow, PolicyJob},
		Examples: []string{"hotp", "hotp:job=3"},
		New: func(sp Spec) (Part, error) {
			c, err := parseOTP(ProtoHOTP, sp)
			if err != nil {
				return nil, err
			}
			return &otpPart{conf: c}, nil
		},
	}
}

// Claims of the otp credentials:
//
//   - authenticates: a code proves the client read a secret the WFS wrote
//     0600 (and needs-fs: it is read from the file system);
//   - replay-proof: the server refuses a code it has accepted (per key and
//     step, or per key and counter), so a captured request, or the code cut
//     from it, is refused once used; what a wire eavesdropper can still do
//     is race the genuine request with the code before it arrives (a
//     pre-play, not a replay: codes are bound to no request body);
//   - expires: a TOTP code is accepted only while the server's clock is
//     within SKEW steps of the code's step. An HOTP code does not expire:
//     an unused one stays good until a later counter is accepted, so hotp
//     does not claim it;
//   - audience: the secret is random per WFS (and a job's per job, made by
//     that WFS) and each key is derived over the workflow id too, so a code
//     made for one workflow verifies at another only by chance, with the
//     odds of a guess ((2*SKEW+1) or WINDOW in 10^DIGITS), the same odds that
//     bound authn itself;
//   - job-revoke under the job policy only: a job's secret is deleted, and
//     forgotten by the server, at job end, and job messages need a job's own
//     key; under the workflow policy jobs use the workflow secret;
//   - not confidential (codes and bodies travel in clear) and not
//     fine-grained (no capabilities; the job policy only ties a job's key to
//     its own job's messages).
func (p *otpPart) Claims() Claims {
	return Claims{
		Authenticates: true,
		ReplayProof:   true,
		Expires:       p.conf.proto == ProtoTOTP,
		Audience:      true,
		JobRevocation: p.conf.policy == PolicyJob,
		NeedsFS:       true,
	}
}

// OTPKey derives the base32 OTP key of one client identity from a base32
// secret: HMAC-SHA256(secret, "authbench-otp/v1" NUL workflow NUL kind NUL
// identity), first 20 bytes, base32 without padding. It is the secret that
// pyotp.TOTP or pyotp.HOTP takes.
func OTPKey(secret, workflow, kind, identity string) (string, error) {
	raw, err := decodeOTPSecret(secret)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, raw)
	m.Write([]byte(otpKeyLabel + "\x00" + workflow + "\x00" + kind + "\x00" + identity))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:otpSecretBytes]), nil
}

func decodeOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.TrimSpace(secret))
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("otp secret: not base32: %w", err)
	}
	if len(raw) < 16 {
		return nil, fmt.Errorf("otp secret: %d bytes, want at least 16 (128 bits, RFC 4226)", len(raw))
	}
	return raw, nil
}

// newOTPSecret makes a fresh base32 secret.
func newOTPSecret() (string, error) {
	raw := make([]byte, otpSecretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("otp secret: %w", err)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw), nil
}

// writeOTPSecret writes a secret to path 0600 as a new file: whatever was
// there (an earlier run's secret, a planted group-readable file, a symlink)
// is removed first, so the secret never lands in a file someone else made.
func writeOTPSecret(files *wfs.Files, path, secret string) error {
	if err := files.Remove(path); err != nil {
		return err
	}
	return files.CreateExclusive(path, []byte(secret+"\n"), 0o600)
}

// readOTPSecret reads a secret file.
func readOTPSecret(files *wfs.Files, path string) (string, error) {
	b, err := files.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if _, err := decodeOTPSecret(s); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (c otpConf) totpOpts() totp.ValidateOpts {
	return totp.ValidateOpts{Period: uint(c.step / time.Second), Skew: 0, Digits: c.digits, Algorithm: otp.AlgorithmSHA1}
}

func (c otpConf) hotpOpts() hotp.ValidateOpts {
	return hotp.ValidateOpts{Digits: c.digits, Algorithm: otp.AlgorithmSHA1}
}

// stepOf is the TOTP step (counter) of t.
func (c otpConf) stepOf(t time.Time) int64 {
	p := int64(c.step / time.Second)
	u := t.Unix()
	if u < 0 {
		return (u - p + 1) / p
	}
	return u / p
}

// stepStart is when step n begins.
func (c otpConf) stepStart(n int64) time.Time { return time.Unix(n*int64(c.step/time.Second), 0) }

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
// then moves to it: the resync).
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
			secret = js
		}
	}
	key, err := OTPKey(secret, s.workflow, f.kind, f.identity)
	if err != nil {
		return wfs.Principal{}, fmt.Errorf("%s: %w", s.conf.proto, err)
	}
	if s.conf.proto == ProtoTOTP {
		err = s.checkTOTP(key, f.code)
	} else {
		err = s.checkHOTP(key, f.code)
	}
	if err != nil {
		return wfs.Principal{}, err
	}
	s.accepted.Add(1)
	return who, nil
}

// checkTOTP verifies code against each step within the skew window with
// totp.ValidateCustom and accepts it at the first step it matches that has
// not been used; the check and the mark are one step under s.mu, so of two
// concurrent uses exactly one is accepted.
func (s *otpServer) checkTOTP(key, code string) error {
	now := s.now()
	cur := s.conf.stepOf(now)
	opts := s.conf.totpOpts()
	s.mu.Lock()
	defer s.mu.Unlock()
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
		return nil
	}
	if replayed >= 0 {
		s.refused[otpRefusedReplayed]++
		return wfs.Rejectf("%s: code for step %d replayed (accepted once already)", s.conf.proto, replayed)
	}
	s.refused[otpRefusedWrong]++
	return wfs.Rejectf("%s: wrong code, or a code outside the skew window (%d step(s) of %s)", s.conf.proto, s.skew, s.conf.step)
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
func (s *otpServer) checkHOTP(key, code string) error {
	opts := s.conf.hotpOpts()
	s.mu.Lock()
	defer s.mu.Unlock()
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
			return nil
		}
	}
	for c := last; c >= 1 && c+uint64(s.conf.window) > last; c-- {
		if ok, _ := hotp.ValidateCustom(code, c, key, opts); ok {
			s.refused[otpRefusedReplayed]++
			return wfs.Rejectf("%s: counter %d replayed or behind (last accepted %d)", s.conf.proto, c, last)
		}
	}
	s.refused[otpRefusedWrong]++
	return wfs.Rejectf("%s: wrong code, or a counter beyond the look-ahead window (%d after %d)", s.conf.proto, s.conf.window, last)
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

// Stats reports codes accepted, HOTP resyncs, refusals by label, the replay
// memory's size and the live job secrets.
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

// otpClient computes one code per command. It reads its secret from the run
// directory (.service/otp_secret, or its job directory's under the job
// policy) once per client, as a Cylc client reads .service files, and keeps
// what it has used in its state directory, in claim files named
// otp-PROTO-TAG.N (TAG from the key, N the step or counter; 0600): a claim
// is made with O_EXCL, so clients of one identity sharing a state dir (the
// CLI commands of one user) never send one code twice, and claims below the
// newest are deleted.
//
// A real pyotp client would call pyotp.TOTP(key).now() (or
// pyotp.HOTP(key).at(counter) with a counter it stores) and send that: a
// second command in the same step sends the same code and is refused as a
// replay, so the user retries after the step turns. This client models a
// careful one: TOTP waits until the next step begins when the current one is
// claimed (Begin reports the wait as acquisition, so its latency shows);
// HOTP takes the next counter at once.
type otpClient struct {
	NopClient
	conf     otpConf
	env      ClientEnv
	kind     string
	identity string
	workflow string
	key      string
	tag      string
	frame    []byte
}

// Client checks what the client needs; the secret is read at the first
// Begin (a job's appears at submit).
func (p *otpPart) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	if env.Run == nil {
		return nil, fmt.Errorf("%s: client needs the run directory", p.conf.proto)
	}
	if env.StateDir == "" {
		return nil, fmt.Errorf("%s: client needs a state directory (ClientEnv.StateDir) for its used codes", p.conf.proto)
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	kind := string(env.Kind)
	if kind == "" {
		kind = string(KindCLI)
	}
	id := env.Identity
	if id == "" {
		id = "owner"
	}
	if _, err := parseOTPFrame([]byte(kind + " " + id + " 0")); err != nil {
		return nil, fmt.Errorf("%s: %w", p.conf.proto, err)
	}
	if env.Kind == KindJob {
		if _, err := wfs.ParseJobID(id); err != nil {
			return nil, fmt.Errorf("%s: job client identity: %w", p.conf.proto, err)
		}
	}
	wf := env.Contact[wfs.ContactWorkflow]
	if wf == "" {
		c, err := readContact(env.Run)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.conf.proto, err)
		}
		if wf = c[wfs.ContactWorkflow]; wf == "" {
			return nil, fmt.Errorf("%s: contact file has no %s", p.conf.proto, wfs.ContactWorkflow)
		}
	}
	return &otpClient{conf: p.conf, env: env, kind: kind, identity: id, workflow: wf}, nil
}

// readContact reads the contact file through the counted file layer.
func readContact(run *wfs.RunDir) (wfs.Contact, error) {
	b, err := run.Files.ReadFile(run.ContactPath())
	if err != nil {
		return nil, err
	}
	return wfs.ParseContact(run.ContactPath(), b)
}

// load reads the secret and derives the key, once.
func (c *otpClient) load() error {
	if c.key != "" {
		return nil
	}
	path := c.env.Run.Service(OTPSecretFile)
	if c.conf.policy == PolicyJob && c.kind == string(KindJob) {
		id, err := wfs.ParseJobID(c.identity)
		if err != nil {
			return err
		}
		path = filepath.Join(c.env.Run.JobDir(id), OTPJobSecretFile)
	}
	secret, err := readOTPSecret(c.env.Run.Files, path)
	if err != nil {
		return fmt.Errorf("%s: %w", c.conf.proto, err)
	}
	key, err := OTPKey(secret, c.workflow, c.kind, c.identity)
	if err != nil {
		return fmt.Errorf("%s: %w", c.conf.proto, err)
	}
	sum := sha256.Sum256([]byte(key))
	c.key, c.tag = key, hex.EncodeToString(sum[:8])
	return nil
}

// claimPrefix is the name prefix of this key's claim files.
func (c *otpClient) claimPrefix() string { return "otp-" + c.conf.proto + "-" + c.tag + "." }

// newestClaim is the highest step or counter claimed in the state dir (-1
// when none).
func (c *otpClient) newestClaim() (int64, error) {
	ents, err := os.ReadDir(c.env.StateDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return -1, fmt.Errorf("%s: state dir: %w", c.conf.proto, err)
	}
	newest := int64(-1)
	prefix := c.claimPrefix()
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok {
			if n, err := strconv.ParseInt(rest, 10, 64); err == nil && n > newest {
				newest = n
			}
		}
	}
	return newest, nil
}

// claim takes n (O_EXCL); taken reports that another process had it.
func (c *otpClient) claim(n int64) (taken bool, err error) {
	path := filepath.Join(c.env.StateDir, c.claimPrefix()+strconv.FormatInt(n, 10))
	err = c.env.Run.Files.CreateExclusive(path, []byte(strconv.FormatInt(n, 10)+"\n"), 0o600)
	if errors.Is(err, fs.ErrExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: claim %d: %w", c.conf.proto, n, err)
	}
	return false, nil
}

// forgetBelow deletes this key's claims below n.
func (c *otpClient) forgetBelow(n int64) error {
	ents, err := os.ReadDir(c.env.StateDir)
	if err != nil {
		return fmt.Errorf("%s: state dir: %w", c.conf.proto, err)
	}
	prefix := c.claimPrefix()
	var errs []error
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok {
			if m, err := strconv.ParseInt(rest, 10, 64); err == nil && m < n {
				errs = append(errs, c.env.Run.Files.Remove(filepath.Join(c.env.StateDir, e.Name())))
			}
		}
	}
	return errors.Join(errs...)
}

// maxClaimAttempts bounds the claims one Begin tries (other processes of the
// same identity taking the ones it tried).
const maxClaimAttempts = 64

// Begin claims the next step (TOTP: the current one, or the next after the
// newest claimed, waiting until it begins) or counter (HOTP) and computes
// its code. acquired reports a TOTP wait.
func (c *otpClient) Begin(ctx context.Context, _ Caller) (bool, error) {
	c.frame = nil
	if err := c.load(); err != nil {
		return false, err
	}
	if err := c.env.Run.Files.MkdirAll(c.env.StateDir); err != nil {
		return false, fmt.Errorf("%s: %w", c.conf.proto, err)
	}
	waited := false
	for range maxClaimAttempts {
		newest, err := c.newestClaim()
		if err != nil {
			return waited, err
		}
		var n int64
		if c.conf.proto == ProtoTOTP {
			cur := c.conf.stepOf(c.env.Now())
			n = max(cur, newest+1)
			if n > cur+1+int64(c.conf.skew) {
				// Claims from a clock that has since gone back: no
				// server would take their successors now.
				n = cur
			} else if n > cur {
				wait := c.conf.stepStart(n).Sub(c.env.Now())
				if wait > 0 {
					waited = true
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						t.Stop()
						return waited, fmt.Errorf("%s: waiting %s for step %d: %w", c.conf.proto, wait, n, ctx.Err())
					case <-t.C:
					}
				}
			}
		} else {
			n = max(newest+1, 1)
		}
		taken, err := c.claim(n)
		if err != nil {
			return waited, err
		}
		if taken {
			continue
		}
		if err := c.forgetBelow(n); err != nil {
			return waited, err
		}
		var code string
		if c.conf.proto == ProtoTOTP {
			code, err = totp.GenerateCodeCustom(c.key, c.conf.stepStart(n), c.conf.totpOpts())
		} else {
			code, err = hotp.GenerateCodeCustom(c.key, uint64(n), c.conf.hotpOpts())
		}
		if err != nil {
			return waited, fmt.Errorf("%s: code: %w", c.conf.proto, err)
		}
		c.frame = []byte(c.kind + " " + c.identity + " " + code)
		return waited, nil
	}
	return waited, fmt.Errorf("%s: no free step or counter after %d claims (other clients of %s %s took them)", c.conf.proto, maxClaimAttempts, c.kind, c.identity)
}

// Wrap appends the code frame Begin made.
func (c *otpClient) Wrap(frames [][]byte) ([][]byte, error) {
	if c.frame == nil {
		return nil, fmt.Errorf("%s: no code: Begin was not called", c.conf.proto)
	}
	return append(frames, c.frame), nil
}

// End drops the code: one code per command.
func (c *otpClient) End(context.Context) error {
	c.frame = nil
	return nil
}
