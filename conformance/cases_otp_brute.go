package conformance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// otp/brute-force (issue 23): RFC 4226 §7.3 requires throttling or lockout,
// RFC 6238 §5.2 relies on it. The case guesses as an attacker with one REQ
// socket would, as fast as the server answers, for bruteFor: first at one
// CLI identity, then (at a WFS of its own) at a fresh identity per guess,
// which a throttle counting per identity alone would let through at full
// speed. Every guess is a wrong code (the case knows the key and skips the
// codes the server would accept, so the outcome does not hang on luck).
//
// A guess counts as checked unless the server refused it as throttled (a
// refusal that says "throttled": the code was not looked at). The rate of
// checked guesses, over one step (TOTP's STEP but at least 30 s; HOTP,
// whose codes do not expire, 30 s), gives the chance that an attacker at
// that rate hits a code: 1-(1-A/10^DIGITS)^n, with A the codes the server
// accepts at once (2*SKEW+1 steps, or WINDOW counters). The case fails when
// it exceeds bruteMaxChance. So that a throttle cannot just say "throttled"
// while it checks, the right code is sent straight after a throttled
// refusal: it must be refused too. For the single identity the case then
// reports how long after the attack the right code is served (a delay
// policy serves it within its longest delay; a lockout much later).

const (
	// bruteFor is how long each phase of the brute force runs (not a
	// multiple of schemes.OTPDelayStep, so that the probe after it does
	// not meet a hold-off just as it ends).
	bruteFor = 2500 * time.Millisecond
	// bruteMaxChance is the largest per-step chance of hitting a code the
	// case allows.
	bruteMaxChance = 0.001
	// bruteStepFloor is the shortest step the chance is taken over.
	bruteStepFloor = 30 * time.Second
	// bruteRecoverWithin bounds the wait for the right code to be served
	// after the attack.
	bruteRecoverWithin = schemes.OTPMaxDelay + 5*time.Second
)

func runOTPBruteForce(ctx context.Context, e *Env) Result {
	par, err := schemes.ConformanceOTPParams(e.Scheme.Spec())
	if err != nil {
		return broken("spec", err)
	}
	one, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	r1, err := bruteForce(ctx, one, par, false)
	if err != nil {
		return broken("one identity", err)
	}
	many, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	r2, err := bruteForce(ctx, many, par, true)
	if err != nil {
		return broken("fresh identities", err)
	}
	detail := fmt.Sprintf("p per %s step, %d of 10^%d codes accepted at once; one identity: %s; fresh identities: %s", r1.step, r1.accepts, r1.digits, r1, r2)
	for _, r := range []bruteResult{r1, r2} {
		if r.fail != "" {
			return failf("%s: %s", r.fail, detail)
		}
	}
	return passf("%s", detail)
}

// bruteResult is one phase's measurement.
type bruteResult struct {
	sent, checked, throttled int
	elapsed                  time.Duration
	step                     time.Duration
	accepts                  int
	digits                   int
	chance                   float64
	probe                    string // what the right code in a hold-off got
	recovered                string // when the right code was served after the attack
	fail                     string
}

func (r bruteResult) String() string {
	s := fmt.Sprintf("%d codes/%.1fs (%.0f/s), %d checked (%.1f/s) p=%.4f %%",
		r.sent, r.elapsed.Seconds(), float64(r.sent)/r.elapsed.Seconds(), r.checked,
		float64(r.checked)/r.elapsed.Seconds(), 100*r.chance)
	if r.probe != "" {
		s += ", " + r.probe
	}
	if r.recovered != "" {
		s += ", " + r.recovered
	}
	return s
}

// bruteKeys derives the keys of the case's identities from the secret, as
// anyone who can read .service/otp_secret can.
type bruteKeys struct {
	secret, workflow string
	par              schemes.OTPParams
	clock            *Clock
}

func (k bruteKeys) key(id string) (string, error) {
	return schemes.OTPKey(k.secret, k.workflow, string(schemes.KindCLI), id)
}

// right returns the codes the server accepts now from a fresh identity (or
// one none of whose codes it accepted): TOTP the codes of the steps within
// SKEW of its clock, HOTP counters 1 to WINDOW.
func (k bruteKeys) right(key string) (map[string]bool, string, error) {
	out := map[string]bool{}
	var first string
	d := otp.Digits(k.par.Digits)
	if k.par.Proto == schemes.ProtoTOTP {
		now := k.clock.Now()
		for i := -int(k.par.Skew); i <= int(k.par.Skew); i++ {
			c, err := totp.GenerateCodeCustom(key, now.Add(time.Duration(i)*k.par.Step), totp.ValidateOpts{Period: uint(k.par.Step / time.Second), Digits: d})
			if err != nil {
				return nil, "", err
			}
			out[c] = true
			if i == 0 {
				first = c
			}
		}
		return out, first, nil
	}
	for c := uint64(1); c <= uint64(k.par.Window); c++ {
		code, err := hotp.GenerateCodeCustom(key, c, hotp.ValidateOpts{Digits: d})
		if err != nil {
			return nil, "", err
		}
		out[code] = true
		if c == 1 {
			first = code
		}
	}
	return out, first, nil
}

// bruteClient is the attacker's one REQ socket.
type bruteClient struct {
	zctx *zmq.Context
	zc   *wfs.Client
	body []byte
}

func newBruteClient(t *Target) (*bruteClient, func(), error) {
	configure, done, err := t.transport(otpWho("brute"))
	if err != nil {
		return nil, nil, err
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		done()
		return nil, nil, err
	}
	body, err := Body(wfs.CmdStop, nil)
	if err != nil {
		done()
		_ = zctx.Term()
		return nil, nil, err
	}
	zc := wfs.NewClient(zctx, t.Endpoint(), wfs.ClientConfig{Timeout: attackTimeout, Configure: configure})
	return &bruteClient{zctx: zctx, zc: zc, body: body}, func() { zc.Close(); _ = zctx.Term(); done() }, nil
}

// send sends a stop request with a code as identity id and returns the
// reply's error (nil: accepted).
func (c *bruteClient) send(ctx context.Context, id, code string) error {
	b, err := c.zc.Call(ctx, withCode(c.body, string(schemes.KindCLI), id, code)...)
	if err != nil {
		return err
	}
	_, err = wfs.DecodeReply(b)
	return err
}

func isThrottled(err error) bool {
	return errors.Is(err, wfs.ErrRejected) && strings.Contains(err.Error(), "throttled")
}

// bruteForce runs one phase against t: wrong codes as fast as one socket
// can for bruteFor, at one identity or at a fresh one per guess.
func bruteForce(ctx context.Context, t *Target, par schemes.OTPParams, fresh bool) (bruteResult, error) {
	secret, err := t.readService(schemes.OTPSecretFile)
	if err != nil {
		return bruteResult{}, err
	}
	keys := bruteKeys{secret: strings.TrimSpace(string(secret)), workflow: t.Workflow, par: par, clock: t.Clock}
	cl, done, err := newBruteClient(t)
	if err != nil {
		return bruteResult{}, err
	}
	defer done()
	r := bruteResult{digits: par.Digits, step: max(par.Step, bruteStepFloor), accepts: 2*int(par.Skew) + 1}
	if par.Proto == schemes.ProtoHOTP {
		r.step, r.accepts = bruteStepFloor, int(par.Window)
	}
	space := int(math.Pow10(par.Digits))
	identity := func(i int) string {
		if fresh {
			return fmt.Sprintf("conform-spray-%d", i)
		}
		return "conform-brute"
	}
	// guess sends the i-th wrong code and reports whether it was throttled.
	guess := func(i int) (bool, error) {
		id := identity(i)
		key, err := keys.key(id)
		if err != nil {
			return false, err
		}
		right, _, err := keys.right(key)
		if err != nil {
			return false, err
		}
		n := i
		code := fmt.Sprintf("%0*d", par.Digits, n%space)
		for right[code] {
			n++
			code = fmt.Sprintf("%0*d", par.Digits, n%space)
		}
		err = cl.send(ctx, id, code)
		r.sent++
		switch {
		case err == nil:
			return false, fmt.Errorf("the wrong code %s of %s was accepted", code, id)
		case isThrottled(err):
			r.throttled++
			return true, nil
		case classify(err) == unexpected:
			return false, fmt.Errorf("guess %d: %w", i, err)
		}
		r.checked++
		return false, nil
	}
	start := time.Now()
	i, throttled := 0, false
	for ; time.Since(start) < bruteFor; i++ {
		if throttled, err = guess(i); err != nil {
			if strings.Contains(err.Error(), "was accepted") {
				r.fail = err.Error()
				break
			}
			return r, err
		}
	}
	r.elapsed = time.Since(start)
	// End on a throttled refusal, if the server throttles at all, so that
	// the probe below meets a hold-off.
	for end := time.Now().Add(time.Second); r.throttled > 0 && !throttled && time.Now().Before(end); i++ {
		if throttled, err = guess(i); err != nil {
			return r, err
		}
	}
	n := float64(r.checked) / r.elapsed.Seconds() * r.step.Seconds()
	r.chance = 1 - math.Pow(1-float64(r.accepts)/float64(space), n)
	if r.fail == "" && r.chance > bruteMaxChance {
		r.fail = fmt.Sprintf("%.0f checked guesses a %s step give a %.2f %% chance (over %.1f %%)", n, r.step, 100*r.chance, 100*bruteMaxChance)
	}
	if !throttled {
		return r, nil
	}
	// The right code straight after a throttled refusal: refused unchecked.
	id := identity(i)
	if fresh {
		id = "conform-spray-probe"
	}
	key, err := keys.key(id)
	if err != nil {
		return r, err
	}
	_, code, err := keys.right(key)
	if err != nil {
		return r, err
	}
	err = cl.send(ctx, id, code)
	switch {
	case err == nil:
		r.fail = "the server refused codes as throttled, yet took the right code in the same hold-off: throttled codes are checked"
		r.probe = "right code in hold-off accepted"
		return r, nil
	case isThrottled(err):
		r.probe = "right code in hold-off refused"
	default:
		r.probe = fmt.Sprintf("right code in hold-off refused (%v)", err)
	}
	if fresh {
		return r, nil
	}
	// How long after the attack the identity's right code is served.
	stopped := time.Now()
	for time.Since(stopped) < bruteRecoverWithin {
		if _, code, err = keys.right(key); err != nil {
			return r, err
		}
		if err = cl.send(ctx, id, code); err == nil {
			r.recovered = fmt.Sprintf("served %s after", time.Since(stopped).Round(10*time.Millisecond))
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	r.recovered = fmt.Sprintf("not served within %s after (%v)", bruteRecoverWithin, err)
	return r, nil
}
