package schemes_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// otpRight is the code a fresh identity's key is accepted with now: TOTP
// the current step's, HOTP counter 1's.
func otpRight(t *testing.T, proto, key string, now time.Time) string {
	t.Helper()
	var code string
	var err error
	if proto == schemes.ProtoTOTP {
		code, err = totp.GenerateCode(key, now)
	} else {
		code, err = hotp.GenerateCode(key, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestOTPThrottleOverZMQ: an identity's OTPFreeFailures+1 wrong codes are
// checked; the next code, even the right one, is refused unchecked as
// throttled (counted apart), while another identity is served; once the
// hold-off has passed the right code is served.
func TestOTPThrottleOverZMQ(t *testing.T) {
	for _, spec := range []string{"totp", "hotp", "totp:job=30s/1", "hotp:job=3"} {
		t.Run(spec, func(t *testing.T) {
			clock := tkNewClock()
			h := tkStart(t, spec, clock)
			proto := strings.SplitN(spec, ":", 2)[0]
			key := h.otpKey(schemes.KindCLI, "victim")
			right := otpRight(t, proto, key, clock.Now())
			wrong := "000000"
			if wrong == right {
				wrong = "000001"
			}
			for i := range schemes.OTPFreeFailures + 1 {
				_, err := h.tkSend(otpFrames(t, "cli", "victim", wrong)...)
				wantRejected(t, fmt.Sprint("wrong code ", i+1), err)
				if !strings.Contains(err.Error(), "wrong code") {
					t.Fatalf("wrong code %d: %v, want it checked", i+1, err)
				}
			}
			for _, what := range []string{"a wrong code", "the right code"} {
				code := wrong
				if what == "the right code" {
					code = right
				}
				_, err := h.tkSend(otpFrames(t, "cli", "victim", code)...)
				wantRejected(t, what+" in the hold-off", err)
				if !strings.Contains(err.Error(), "throttled") {
					t.Fatalf("%s in the hold-off: %v, want throttled", what, err)
				}
			}
			if got := stat(h, "otp.refused.throttled"); got != 2 {
				t.Errorf("otp.refused.throttled = %v, want 2", got)
			}
			if got := stat(h, "otp.refused.wrong-code"); got != schemes.OTPFreeFailures+1 {
				t.Errorf("otp.refused.wrong-code = %v, want %d", got, schemes.OTPFreeFailures+1)
			}
			if got := stat(h, "otp.throttle.held"); got != 1 {
				t.Errorf("otp.throttle.held = %v, want 1", got)
			}
			other := tkCLI()
			other.clock = clock
			if _, err := h.tkCall(other, wfs.CmdPing, nil); err != nil {
				t.Fatalf("another identity in the victim's hold-off: %v", err)
			}
			clock.Add(schemes.OTPDelayStep)
			right = otpRight(t, proto, key, clock.Now())
			if _, err := h.tkSend(otpFrames(t, "cli", "victim", right)...); err != nil {
				t.Fatalf("the right code after the hold-off: %v", err)
			}
		})
	}
}

// TestOTPThrottleGenuineLatency measures what a brute force on one identity
// costs a genuine client of another: the genuine client's round trips
// (load, code, request, reply) alone and while one REQ socket sends wrong
// codes as fast as the server answers. The figures are logged; the test
// asserts that every genuine request is served and that the throttled
// refusals kept the attacker to a handful of checked codes.
func TestOTPThrottleGenuineLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2 s brute force per scheme")
	}
	for _, spec := range []string{"hotp", "totp"} {
		t.Run(spec, func(t *testing.T) {
			clock := tkNewClock()
			clock.Set(time.Now())
			h := tkStart(t, spec, clock)
			// A TOTP identity has one code per step: the genuine client
			// uses a known identity per request, each accepted once a step
			// before (the clock is then moved on a step).
			const n = 300
			who := func(i int) tkWho {
				w := tkWho{kind: schemes.KindCLI, identity: "owner", stateDir: filepath.Join(t.TempDir(), "state"), clock: clock}
				if spec == "totp" {
					w.identity = fmt.Sprint("owner-", i)
				}
				return w
			}
			ws := make([]tkWho, 2*n)
			for i := range ws {
				ws[i] = who(i)
				if spec == "hotp" {
					ws[i].stateDir = ws[0].stateDir
				}
			}
			if spec == "totp" {
				for _, w := range ws {
					if _, err := h.tkCall(w, wfs.CmdPing, nil); err != nil {
						t.Fatal(err)
					}
				}
				clock.Add(30 * time.Second)
			}
			measure := func(ws []tkWho) []time.Duration {
				var d []time.Duration
				for _, w := range ws {
					t0 := time.Now()
					if _, err := h.tkCall(w, wfs.CmdPing, nil); err != nil {
						t.Fatalf("genuine %s: %v", w.identity, err)
					}
					d = append(d, time.Since(t0))
				}
				return d
			}
			alone := measure(ws[:n])

			zctx, err := zmq.NewContext()
			if err != nil {
				t.Fatal(err)
			}
			defer zctx.Term()
			ctx, cancel := context.WithCancel(context.Background())
			var sent, throttled atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				zc := wfs.NewClient(zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second})
				defer zc.Close()
				body, _ := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{Prog: "attacker"})
				for i := 0; ctx.Err() == nil; i++ {
					rep, err := zc.Call(ctx, body, []byte(fmt.Sprintf("cli attacker %06d", i)))
					if err == nil {
						_, err = wfs.DecodeReply(rep)
					}
					sent.Add(1)
					if err != nil && strings.Contains(err.Error(), "throttled") {
						throttled.Add(1)
					}
				}
			}()
			time.Sleep(200 * time.Millisecond)
			start := time.Now()
			attacked := measure(ws[n:])
			attackedFor := time.Since(start)
			cancel()
			wg.Wait()
			a, b := pcts(alone), pcts(attacked)
			t.Logf("%s: genuine round trip alone p50 %s p90 %s max %s; during a brute force on another identity p50 %s p90 %s max %s (added p50 %s p90 %s); attacker sent %d codes (%.0f/s), %d refused unchecked as throttled",
				spec, a[0], a[1], a[2], b[0], b[1], b[2], b[0]-a[0], b[1]-a[1], sent.Load(), float64(sent.Load())/(attackedFor+200*time.Millisecond).Seconds(), throttled.Load())
			if checked := sent.Load() - throttled.Load(); checked > 20 {
				t.Errorf("%d of the attacker's codes were checked, want a handful", checked)
			}
		})
	}
}

// pcts are the median, 90th percentile and maximum of d.
func pcts(d []time.Duration) [3]time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		return s[min(len(s)-1, int(q*float64(len(s))))].Round(10 * time.Microsecond)
	}
	return [3]time.Duration{at(0.5), at(0.9), s[len(s)-1].Round(10 * time.Microsecond)}
}
