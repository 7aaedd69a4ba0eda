package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// The otp/* cases attack the totp and hotp credentials: a code used twice
// (in turn and at once), a code cut from its request and relabelled, a
// client clock outside the skew window, codes of the wrong length, HOTP
// counters at and behind the last accepted, and a job's code after job end.
// The attacker can read the WFS's file system (the secret in
// .service/otp_secret), as every client can; what a case attacks is the
// server's bookkeeping, not the secret. Each case acts as a CLI identity of
// its own, so that the runner's health check (a CLI ping as "owner") does
// not wait for the next TOTP step.

func isOTP(sc *schemes.Scheme) bool {
	c := sc.Spec().Credential
	return c == schemes.ProtoTOTP || c == schemes.ProtoHOTP
}

func isTOTP(sc *schemes.Scheme) bool { return sc.Spec().Credential == schemes.ProtoTOTP }

func isHOTP(sc *schemes.Scheme) bool { return sc.Spec().Credential == schemes.ProtoHOTP }

func otpJobPolicy(sc *schemes.Scheme) bool {
	return isOTP(sc) && sc.Spec().Policy == schemes.PolicyJob
}

func otpCases() []Case {
	return []Case{
		{
			ID: "otp/replay-step", Claim: "replay-proof", Applies: isOTP,
			Title: "a genuine request sent twice inside its step (or before its counter moves on), then its code cut out and sent with a stop request",
			Run:   runOTPReplayStep,
		},
		{
			ID: "otp/replay-concurrent", Claim: "replay-proof", Applies: isOTP,
			Title: "a genuine request sent twice at once, five rounds: exactly one of each pair may pass",
			Run:   runOTPReplayConcurrent,
		},
		{
			ID: "otp/identity-swap", Claim: "replay-proof", Applies: isOTP,
			Title: "a genuine CLI code cut from its request and sent under another CLI identity, as the UI server and as a job",
			Run:   runOTPIdentitySwap,
		},
		{
			ID: "otp/hotp-counter-reuse", Claim: "replay-proof", Applies: isHOTP,
			Title: "HOTP codes for counters 1-3 prepared, counter 3 used, then 3, 2 and 1 sent: none may pass",
			Run:   runHOTPCounterReuse,
		},
		{
			ID: "otp/skew-outside", Claim: "expires", Applies: isTOTP,
			Title: "TOTP codes from client clocks SKEW+1 steps behind and ahead of the WFS's (a client SKEW steps ahead is served)",
			Run:   runTOTPSkewOutside,
		},
		{
			ID: "otp/wrong-digits", Claim: "authn", Applies: isOTP,
			Title: "codes of the wrong length from the right key: DIGITS+2 (whose tail is the genuine code), DIGITS+1, DIGITS-1, and the genuine code with a newline",
			Run:   runOTPWrongDigits,
		},
		{
			ID: "otp/brute-force", Claim: "authn", Applies: isOTP,
			Title: "wrong codes as fast as one REQ socket can for 2.5 s, at one identity, then at a fresh identity per code: the codes the server checks at that rate may hit a 6-digit code (any of those it accepts at once) with at most 0.1 % chance a step, and the right code sent in a hold-off is refused",
			Run:   runOTPBruteForce,
		},
		{
			ID: "otp/job-after-end", Claim: "job-revoke", Applies: otpJobPolicy,
			Title: "a job's code made while the job ran (its secret read then) sent after the job has ended",
			Run:   runOTPJobAfterEnd,
		},
	}
}

// otpWho is a CLI identity of a case's own.
func otpWho(name string) Who { return Who{Kind: schemes.KindCLI, ID: "conform-" + name} }

// codeFrame is the credential frame of prepared frames, split into kind,
// identity and code.
func codeFrame(p *Prepared) (kind, identity, code string, err error) {
	if len(p.Frames) < 2 {
		return "", "", "", errors.New("no credential frame")
	}
	f := strings.Split(string(p.Frames[len(p.Frames)-1]), " ")
	if len(f) != 3 {
		return "", "", "", fmt.Errorf("credential frame %q is not KIND IDENTITY CODE", p.Frames[len(p.Frames)-1])
	}
	return f[0], f[1], f[2], nil
}

// withCode is a request body with a hand-made credential frame.
func withCode(body []byte, kind, identity, code string) [][]byte {
	return [][]byte{body, []byte(kind + " " + identity + " " + code)}
}

// awayFromStepEnd waits, when the clock is within half a second of a TOTP
// step boundary, until it has passed, so that a code made now is checked in
// the step it was made for.
func awayFromStepEnd(ctx context.Context, c *Clock, step time.Duration) error {
	if step < 2*time.Second {
		return nil
	}
	left := step - time.Duration(c.Now().UnixNano()%int64(step))
	if left >= 500*time.Millisecond {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(left + 20*time.Millisecond):
		return nil
	}
}

func runOTPReplayStep(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, otpWho("replay"), wfs.CmdHold, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	kind, id, code, err := codeFrame(p)
	if err != nil {
		return broken("genuine request", err)
	}
	if _, err := t.SendPrepared(ctx, p); err != nil {
		return broken("first (genuine) use", err)
	}
	data, err := t.SendPrepared(ctx, p)
	r1 := expectRefused("the same request again", data, err)
	stop, err := Body(wfs.CmdStop, nil)
	if err != nil {
		return broken("body", err)
	}
	data, err = t.Send(ctx, p.Client.Configure, withCode(stop, kind, id, code)...)
	return all(r1, expectRefused("its code with a stop request", data, err))
}

func runOTPReplayConcurrent(ctx context.Context, e *Env) Result {
	// An identity per round: a TOTP client has one code per step.
	return concurrentPairs(ctx, e, func(round int) Who { return otpWho(fmt.Sprintf("concurrent-%d", round)) })
}

func runOTPIdentitySwap(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, otpWho("swap"), wfs.CmdHold, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	_, id, code, err := codeFrame(p)
	if err != nil {
		return broken("genuine request", err)
	}
	stop, err := Body(wfs.CmdStop, nil)
	if err != nil {
		return broken("body", err)
	}
	var rs []Result
	for _, as := range []struct{ kind, id string }{
		{string(schemes.KindCLI), id + "x"}, {string(schemes.KindCLI), "owner"},
		{string(schemes.KindUIS), id}, {string(schemes.KindJob), "1/a/01"},
	} {
		data, err := t.Send(ctx, p.Client.Configure, withCode(stop, as.kind, as.id, code)...)
		rs = append(rs, expectRefused(fmt.Sprintf("the code as %s %s", as.kind, as.id), data, err))
	}
	if r := all(rs...); r.Outcome != Pass {
		return r
	}
	if _, err := t.SendPrepared(ctx, p); err != nil {
		return broken("the genuine request after the swaps", err)
	}
	return all(rs...)
}

func runHOTPCounterReuse(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	var ps []*Prepared
	defer func() {
		for _, p := range ps {
			p.Close()
		}
	}()
	for range 3 {
		p, err := t.Prepare(ctx, otpWho("counter"), wfs.CmdHold, nil)
		if err != nil {
			return broken("genuine client", err)
		}
		ps = append(ps, p)
	}
	if _, err := t.SendPrepared(ctx, ps[2]); err != nil {
		return broken("counter 3 (within the look-ahead)", err)
	}
	var rs []Result
	for _, i := range []int{2, 1, 0} {
		data, err := t.SendPrepared(ctx, ps[i])
		rs = append(rs, expectRefused(fmt.Sprintf("counter %d after counter 3", i+1), data, err))
	}
	return all(rs...)
}

func runTOTPSkewOutside(ctx context.Context, e *Env) Result {
	par, err := schemes.ConformanceOTPParams(e.Scheme.Spec())
	if err != nil {
		return broken("spec", err)
	}
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	// send prepares a hold as a client whose clock is off the WFS's by
	// steps and sends it.
	send := func(name string, steps int) (Result, error) {
		if err := awayFromStepEnd(ctx, t.Clock, par.Step); err != nil {
			return Result{}, err
		}
		w := otpWho(name)
		env := t.ClientEnv(w)
		off := time.Duration(steps) * par.Step
		env.Now = func() time.Time { return t.Clock.Now().Add(off) }
		cl, err := t.Scheme.Client(ctx, env)
		if err != nil {
			return Result{}, err
		}
		defer cl.Close()
		if _, err := cl.Begin(ctx, nil); err != nil {
			return Result{}, err
		}
		body, err := Body(wfs.CmdHold, nil)
		if err != nil {
			return Result{}, err
		}
		frames, err := cl.Wrap(body)
		if err != nil {
			return Result{}, err
		}
		data, err := t.Send(ctx, cl.Configure, frames...)
		return expectRefused(fmt.Sprintf("a code from a clock %+d step(s) of %s off (skew %d)", steps, par.Step, par.Skew), data, err), nil
	}
	inside, err := send("skew-inside", int(par.Skew))
	if err != nil {
		return broken("client inside the window", err)
	}
	if inside.Outcome == Pass {
		return broken("client inside the window", fmt.Errorf("a client %d step(s) ahead was refused: %s", par.Skew, inside.Detail))
	}
	var rs []Result
	for _, c := range []struct {
		name  string
		steps int
	}{{"skew-behind", -int(par.Skew) - 1}, {"skew-ahead", int(par.Skew) + 1}} {
		r, err := send(c.name, c.steps)
		if err != nil {
			return broken(c.name, err)
		}
		rs = append(rs, r)
	}
	return all(rs...)
}

// otpKeyOf derives an identity's key from the secret in .service/otp_secret,
// as anyone who can read it can.
func (t *Target) otpKeyOf(kind schemes.ClientKind, identity string) (string, error) {
	b, err := t.readService(schemes.OTPSecretFile)
	if err != nil {
		return "", err
	}
	return schemes.OTPKey(string(b), t.Workflow, string(kind), identity)
}

func runOTPWrongDigits(ctx context.Context, e *Env) Result {
	par, err := schemes.ConformanceOTPParams(e.Scheme.Spec())
	if err != nil {
		return broken("spec", err)
	}
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	w := otpWho("digits")
	key, err := t.otpKeyOf(w.Kind, w.ID)
	if err != nil {
		return broken("key", err)
	}
	if err := awayFromStepEnd(ctx, t.Clock, par.Step); err != nil {
		return broken("wait", err)
	}
	// The codes of one step (the WFS's current one) or of counter 1 (the
	// next for an identity the WFS has not seen), of each length.
	now := t.Clock.Now()
	code := func(digits int) (string, error) {
		d := otp.Digits(digits)
		if par.Proto == schemes.ProtoTOTP {
			return totp.GenerateCodeCustom(key, now, totp.ValidateOpts{Period: uint(par.Step / time.Second), Digits: d})
		}
		return hotp.GenerateCodeCustom(key, 1, hotp.ValidateOpts{Digits: d})
	}
	genuine, err := code(par.Digits)
	if err != nil {
		return broken("code", err)
	}
	long, err := code(par.Digits + 2)
	if err != nil {
		return broken("code", err)
	}
	if !strings.HasSuffix(long, genuine) {
		return broken("code", fmt.Errorf("the %d-digit code %s does not end in the %d-digit %s", par.Digits+2, long, par.Digits, genuine))
	}
	stop, err := Body(wfs.CmdStop, nil)
	if err != nil {
		return broken("body", err)
	}
	configure, done, err := t.transport(w)
	if err != nil {
		return broken("client", err)
	}
	defer done()
	var rs []Result
	for _, a := range []struct{ what, code string }{
		{fmt.Sprintf("%d digits (the genuine code's own longer form)", par.Digits+2), long},
		{fmt.Sprintf("%d digits", par.Digits+1), long[1:]},
		{fmt.Sprintf("%d digits", par.Digits-1), genuine[1:]},
		{"the genuine code and a newline", genuine + "\n"},
	} {
		data, err := t.Send(ctx, configure, withCode(stop, string(w.Kind), w.ID, a.code)...)
		rs = append(rs, expectRefused(a.what, data, err))
	}
	if r := all(rs...); r.Outcome != Pass {
		return r
	}
	ping, err := Body(wfs.CmdPing, nil)
	if err != nil {
		return broken("body", err)
	}
	if _, err := t.Send(ctx, configure, withCode(ping, string(w.Kind), w.ID, genuine)...); err != nil {
		return broken("the genuine code after the attempts", err)
	}
	return all(rs...)
}

func runOTPJobAfterEnd(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	id, _ := wfs.ParseJobID(job.ID)
	path := filepath.Join(t.Run.JobDir(id), schemes.OTPJobSecretFile)
	if _, err := os.ReadFile(path); err != nil {
		return broken("the job's secret", err)
	}
	p, err := t.Prepare(ctx, job, wfs.CmdMessage, Message(job.ID, "succeeded"))
	if err != nil {
		return broken("job client", err)
	}
	defer p.Close()
	if err := t.End(ctx, job); err != nil {
		return broken("end", err)
	}
	data, err := t.SendPrepared(ctx, p)
	r := expectRefused("the job's message after job end", data, err)
	if _, err := os.Stat(path); err == nil && r.Outcome == Pass {
		return failf("the job's message was refused, but its secret %s is still there after job end", filepath.Base(path))
	}
	return r
}
