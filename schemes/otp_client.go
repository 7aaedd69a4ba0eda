package schemes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/wfs"
)

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
		return nil, fmt.Errorf("%s: the client needs a state directory to keep the codes it has used between calls (authbench client -state-dir DIR)", p.conf.proto)
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
				if err := c.waitForStep(ctx, n); err != nil {
					return true, err
				}
				waited = true
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

// waitForStep waits until step n begins. A wait that would end past ctx's
// deadline (a client's -timeout, a run that is ending) is refused at once,
// in a line that says how long the code is away and why: a second command
// of one identity within a step waits for the next (issue 24 #3: a client
// with -timeout 1s blocked 26 s). Cancelling ctx ends the wait.
func (c *otpClient) waitForStep(ctx context.Context, n int64) error {
	wait := c.conf.stepStart(n).Sub(c.env.Now())
	if wait <= 0 {
		return nil
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
		return &wfs.Error{Kind: wfs.KindTimeout, Msg: fmt.Sprintf(
			"%s: the next code of %s %s is %s away (step %d), past the request's deadline in %s: %s gives one code per identity per %s step, and this one's is used",
			c.conf.proto, c.kind, c.identity, wait.Round(time.Millisecond), n, max(0, time.Until(d)).Round(time.Millisecond), c.conf.proto, c.conf.step)}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting %s for step %d: %w", c.conf.proto, wait.Round(time.Millisecond), n, ctx.Err())
	case <-t.C:
		return nil
	}
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

// OTPParamsOf returns the parameters of sp's totp or hotp credential,
// defaults filled in, and false for a scheme without one or a spec that
// does not parse. The engine reads them to refuse a load that needs more
// codes of one identity than the credential gives (scenarios.CheckCodeRate).
func OTPParamsOf(sp Spec) (OTPParams, bool) {
	p, err := ConformanceOTPParams(sp)
	return p, err == nil
}
