package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// otpKey derives the key of a client identity from the secret the WFS wrote,
// as an attacker (or a test) who can read the file does.
func (h *harness) otpKey(kind schemes.ClientKind, identity string) string {
	h.t.Helper()
	b, err := os.ReadFile(h.run.Service(schemes.OTPSecretFile))
	if err != nil {
		h.t.Fatal(err)
	}
	key, err := schemes.OTPKey(string(b), "wf", string(kind), identity)
	if err != nil {
		h.t.Fatal(err)
	}
	return key
}

// otpFrames are a stop request with a hand-made code frame.
func otpFrames(t *testing.T, kind, identity, code string) [][]byte {
	t.Helper()
	body, err := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{Prog: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{body, []byte(kind + " " + identity + " " + code)}
}

func wantRejected(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, wfs.ErrRejected) {
		t.Fatalf("%s: got %v, want a rejection", what, err)
	}
}

func stat(h *harness, name string) float64 { return h.guard.Stats()[name] }

func TestOTPRoundTrip(t *testing.T) {
	for _, spec := range []string{"totp", "totp:job", "totp:workflow=2s/1/8", "hotp", "hotp:job=1/7"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			if _, err := h.call(wfs.CmdPing, nil); err != nil {
				t.Fatalf("CLI ping: %v", err)
			}
			h.tkEvent(schemes.EventJobSubmit, "1/a/01")
			job := tkJobClient("1/a/01")
			job.stateDir = filepath.Join(t.TempDir(), "job-state")
			if _, err := h.tkCall(job, wfs.CmdMessage, tkMsg("1/a/01", "started")); err != nil {
				t.Fatalf("job message: %v", err)
			}
			if got := stat(h, "otp.accepted"); got != 2 {
				t.Errorf("otp.accepted = %v, want 2", got)
			}
			if got := stat(h, "otp.refused"); got != 0 {
				t.Errorf("otp.refused = %v, want 0", got)
			}
		})
	}
}

func TestOTPReplayRefused(t *testing.T) {
	for _, spec := range []string{"totp", "hotp", "totp:job", "hotp:job"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			frames := h.tkPrepare(tkCLI(), wfs.CmdHold, nil)
			if _, err := h.tkSend(frames...); err != nil {
				t.Fatalf("first use: %v", err)
			}
			_, err := h.tkSend(frames...)
			wantRejected(t, "the same code again", err)
			if !strings.Contains(err.Error(), "replayed") {
				t.Errorf("refusal %q does not say replayed", err)
			}
			if got := stat(h, "otp.refused.replayed"); got != 1 {
				t.Errorf("otp.refused.replayed = %v, want 1", got)
			}
			// The WFS still serves a fresh command (of another identity:
			// this one's next TOTP code is a step away).
			if _, err := h.tkCall(tkWho{kind: schemes.KindCLI, identity: "owner2"}, wfs.CmdPing, nil); err != nil {
				t.Fatalf("fresh command after the replay: %v", err)
			}
		})
	}
}

// TestOTPReplayConcurrent sends one code twice at once, many rounds:
// exactly one of each pair may pass.
func TestOTPReplayConcurrent(t *testing.T) {
	for _, spec := range []string{"totp", "hotp"} {
		t.Run(spec, func(t *testing.T) {
			clock := tkNewClock()
			h := tkStart(t, spec, clock)
			cli := tkCLI()
			cli.clock = clock
			for round := range 10 {
				clock.Add(30 * time.Second) // a fresh step for every round
				frames := h.tkPrepare(cli, wfs.CmdHold, nil)
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = h.tkSend(frames...)
					}()
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					if err == nil {
						ok++
					} else {
						wantRejected(t, "the concurrent twin", err)
					}
				}
				if ok != 1 {
					t.Fatalf("round %d: %d of 2 accepted (%v)", round, ok, errors.Join(errs...))
				}
			}
		})
	}
}

// TestTOTPSkewWindow runs clients whose clocks are off the server's by whole
// steps: within SKEW steps they are served, beyond it refused.
func TestTOTPSkewWindow(t *testing.T) {
	cases := []struct {
		spec   string
		offset time.Duration
		ok     bool
	}{
		{"totp", 0, true},
		{"totp", 30 * time.Second, true},
		{"totp", -30 * time.Second, true},
		{"totp", 60 * time.Second, false},
		{"totp", -60 * time.Second, false},
		{"totp:workflow=10s/0", 10 * time.Second, false},
		{"totp:workflow=10s/0", 0, true},
		{"totp:workflow=10s/3", -30 * time.Second, true},
		{"totp:workflow=10s/3", -40 * time.Second, false},
		{"totp", -time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.spec+"/"+c.offset.String(), func(t *testing.T) {
			server := tkNewClock()
			h := tkStart(t, c.spec, server)
			client := tkNewClock()
			client.Set(server.Now().Add(c.offset))
			who := tkCLI()
			who.clock = client
			_, err := h.tkSend(h.tkPrepare(who, wfs.CmdHold, nil)...)
			if c.ok && err != nil {
				t.Fatalf("client %s off: %v", c.offset, err)
			}
			if !c.ok {
				wantRejected(t, "client "+c.offset.String()+" off", err)
				if got := stat(h, "otp.refused.wrong-code"); got != 1 {
					t.Errorf("otp.refused.wrong-code = %v, want 1", got)
				}
			}
		})
	}
}

func TestOTPWrongDigits(t *testing.T) {
	clock := tkNewClock()
	h := tkStart(t, "totp", clock)
	key := h.otpKey(schemes.KindCLI, "owner")
	code := func(d otp.Digits) string {
		s, err := totp.GenerateCodeCustom(key, clock.Now(), totp.ValidateOpts{Period: 30, Digits: d})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	six, eight := code(otp.DigitsSix), code(otp.DigitsEight)
	if eight[2:] != six {
		t.Fatalf("the 8-digit code %s does not end in the 6-digit %s", eight, six)
	}
	cases := []struct{ name, code string }{
		{"8-digit code of the same step", eight},
		{"7 digits", eight[1:]},
		{"5 digits", six[1:]},
		{"empty", ""},
		{"trailing newline", six + "\n"},
		{"leading space", " " + six},
		{"non-digit", six[:5] + "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := h.tkSend(otpFrames(t, "cli", "owner", c.code)...)
			wantRejected(t, c.name, err)
		})
	}
	if got, want := stat(h, "otp.refused.digits")+stat(h, "otp.refused.malformed"), float64(len(cases)); got != want {
		t.Errorf("refused as digits or malformed: %v, want %v (%v)", got, want, h.guard.Stats())
	}
	// The genuine six digits were never burnt by the attempts.
	if _, err := h.tkSend(otpFrames(t, "cli", "owner", six)...); err != nil {
		t.Fatalf("the genuine code: %v", err)
	}
	// Another identity's frame with this code is another key: refused.
	_, err := h.tkSend(otpFrames(t, "cli", "mallory", code(otp.DigitsSix))...)
	wantRejected(t, "the code under another identity", err)
}

// TestHOTPLookAheadResync: codes for counters the server has not seen are
// accepted within the look-ahead window (resyncing it), codes behind it are
// refused, and a client that has run beyond the window is refused until a
// code inside it resyncs it.
func TestHOTPLookAheadResync(t *testing.T) {
	h := start(t, "hotp:workflow=3")
	var frames [][][]byte // frames[i] carries counter i+1
	for range 11 {
		frames = append(frames, h.tkPrepare(tkCLI(), wfs.CmdHold, nil))
	}
	send := func(counter int, ok bool) {
		t.Helper()
		_, err := h.tkSend(frames[counter-1]...)
		if ok && err != nil {
			t.Fatalf("counter %d: %v", counter, err)
		}
		if !ok {
			wantRejected(t, fmt.Sprintf("counter %d", counter), err)
		}
	}
	send(3, true)  // 1..3 ahead of 0: accepted, resync to 3
	send(2, false) // behind
	send(1, false)
	send(5, true)   // 4..6: resync to 5
	send(10, false) // beyond 6..8
	send(9, false)
	send(8, true)  // 6..8: resync to 8
	send(11, true) // 9..11
	if got := stat(h, "otp.resynced"); got != 4 {
		t.Errorf("otp.resynced = %v, want 4", got)
	}
	if got := stat(h, "otp.refused.replayed"); got != 2 {
		t.Errorf("otp.refused.replayed = %v, want 2 (counters 2 and 1)", got)
	}
	if got := stat(h, "otp.refused.wrong-code"); got != 2 {
		t.Errorf("otp.refused.wrong-code = %v, want 2 (counters 10 and 9)", got)
	}
	// The client's counter lives in its state dir: the next command takes
	// counter 12.
	if _, err := h.call(wfs.CmdPing, nil); err != nil {
		t.Fatalf("next command: %v", err)
	}
	key := h.otpKey(schemes.KindCLI, "owner")
	c13, err := hotp.GenerateCodeCustom(key, 13, hotp.ValidateOpts{Digits: otp.DigitsSix})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.tkSend(otpFrames(t, "cli", "owner", c13)...); err != nil {
		t.Fatalf("counter 13 made from the secret file: %v", err)
	}
}

func TestOTPJobSecretLifecycle(t *testing.T) {
	for _, spec := range []string{"totp:job", "hotp:job"} {
		t.Run(spec, func(t *testing.T) {
			// One clock for the WFS and its clients, moved a step before
			// each command, so that no TOTP client waits for a step.
			clock := tkNewClock()
			h := tkStart(t, spec, clock)
			cli := tkCLI()
			cli.clock = clock
			const id = "1/a/01"
			jid, _ := wfs.ParseJobID(id)
			path := filepath.Join(h.run.JobDir(jid), schemes.OTPJobSecretFile)
			h.tkEvent(schemes.EventJobSubmit, id)
			st, err := os.Stat(path)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("job secret: %v %v", st, err)
			}
			for dir := h.run.JobDir(jid); dir != h.run.Root; dir = filepath.Dir(dir) {
				if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
					t.Fatalf("%s: %v %v, want 0700", dir, st, err)
				}
			}
			job := tkJobClient(id)
			job.stateDir = filepath.Join(t.TempDir(), "job-state")
			job.clock = clock
			if _, err := h.tkCall(job, wfs.CmdMessage, tkMsg(id, "started")); err != nil {
				t.Fatalf("job message: %v", err)
			}
			// Job messages need the job's own key; its key sends nothing
			// else and speaks for no other job.
			clock.Add(30 * time.Second)
			_, err = h.tkCall(cli, wfs.CmdMessage, tkMsg(id, "forged by the CLI"))
			wantRejected(t, "a CLI-key job message", err)
			h.tkEvent(schemes.EventJobSubmit, "1/b/01")
			clock.Add(30 * time.Second)
			_, err = h.tkCall(job, wfs.CmdMessage, tkMsg("1/b/01", "succeeded"))
			wantRejected(t, "job a's key for job b", err)
			clock.Add(30 * time.Second)
			_, err = h.tkCall(job, wfs.CmdStop, nil)
			wantRejected(t, "job a's key for stop", err)
			// A code made from the job's secret before job end is refused
			// after it, and the file is gone.
			clock.Add(30 * time.Second)
			frames := h.tkPrepare(job, wfs.CmdMessage, tkMsg(id, "succeeded"))
			h.tkEvent(schemes.EventJobEnd, id)
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("job secret after job end: %v", err)
			}
			_, err = h.tkSend(frames...)
			wantRejected(t, "the ended job's code", err)
			if got := stat(h, "otp.refused.no-secret"); got != 1 {
				t.Errorf("otp.refused.no-secret = %v, want 1", got)
			}
			if got := stat(h, "otp.job_secrets"); got != 1 {
				t.Errorf("otp.job_secrets = %v, want 1 (job b)", got)
			}
		})
	}
}

func TestOTPSecretModes(t *testing.T) {
	for _, spec := range []string{"totp", "hotp:job"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			// An earlier, group-readable file in the secret's place is
			// replaced, not reused.
			path := h.run.Service(schemes.OTPSecretFile)
			if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("secret: %v %v", st, err)
			}
			state := filepath.Join(t.TempDir(), "state")
			who := tkCLI()
			who.stateDir = state
			if _, err := h.tkCall(who, wfs.CmdPing, nil); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Stat(state); err != nil || st.Mode().Perm() != 0o700 {
				t.Fatalf("state dir: %v %v", st, err)
			}
			ents, err := os.ReadDir(state)
			if err != nil || len(ents) != 1 {
				t.Fatalf("state dir holds %v (%v), want one claim", ents, err)
			}
			if st, _ := os.Stat(filepath.Join(state, ents[0].Name())); st.Mode().Perm() != 0o600 {
				t.Fatalf("claim %s mode %04o", ents[0].Name(), st.Mode().Perm())
			}
			if err := h.guard.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("secret after shutdown: %v", err)
			}
		})
	}
}

// TestOTPPlantedSecretReplaced: a world-readable file where the secret goes
// is removed and the secret written to a new 0600 file.
func TestOTPPlantedSecretReplaced(t *testing.T) {
	run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(false))
	if err != nil {
		t.Fatal(err)
	}
	path := run.Service(schemes.OTPSecretFile)
	if err := os.WriteFile(path, []byte("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := schemes.Builtin().Parse("totp")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sc.Server(context.Background(), schemes.Env{Run: run, Workflow: "wf"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b, err := os.ReadFile(path)
	st, _ := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || strings.HasPrefix(string(b), "JBSWY3DP") {
		t.Fatalf("planted secret kept: mode %v, %q (%v)", st.Mode(), b, err)
	}
}

// TestTOTPWaitsForNextStep: commands of one identity within one step wait
// for the next step (a 1 s step here), and Begin reports the wait; the
// server refuses nothing.
func TestTOTPWaitsForNextStep(t *testing.T) {
	h := start(t, "totp:workflow=1s/1")
	state := filepath.Join(t.TempDir(), "state")
	var mu sync.Mutex
	var waits []time.Duration
	var wg sync.WaitGroup
	const n = 3
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			cl, err := h.scheme.Client(ctx, schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner", StateDir: state})
			if err != nil {
				errs[i] = err
				return
			}
			defer cl.Close()
			zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 5 * time.Second, Configure: cl.Configure})
			defer zc.Close()
			body, _ := wfs.EncodeRequest(wfs.CmdHold, nil, wfs.Meta{Prog: "test"})
			x, err := schemes.Request(ctx, cl, zc, body)
			errs[i] = err
			mu.Lock()
			if x.Acquired {
				waits = append(waits, x.Acquire)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := stat(h, "otp.accepted"); got != n {
		t.Errorf("otp.accepted = %v, want %d", got, n)
	}
	if got := stat(h, "otp.refused"); got != 0 {
		t.Errorf("otp.refused = %v, want 0", got)
	}
	// Three commands share at most one step: at least two waited, the
	// last for more than one step boundary away from the first.
	if len(waits) < n-1 {
		t.Fatalf("%d of %d commands waited, want at least %d (waits %v)", len(waits), n, n-1, waits)
	}
	t.Logf("TOTP waits of concurrent commands of one identity (1 s step): %v", waits)
}

// TestOTPReplayMemoryBounded: the replay memory keeps only the steps inside
// the skew window, however many codes were accepted.
func TestOTPReplayMemoryBounded(t *testing.T) {
	clock := tkNewClock()
	h := tkStart(t, "totp", clock)
	cli := tkCLI()
	cli.clock = clock
	for range 20 {
		if _, err := h.tkCall(cli, wfs.CmdPing, nil); err != nil {
			t.Fatal(err)
		}
		clock.Add(30 * time.Second)
	}
	if got := stat(h, "otp.replay_memory"); got > 3 {
		t.Errorf("otp.replay_memory = %v after 20 steps, want at most 2*SKEW+1 = 3", got)
	}
	if got := stat(h, "otp.accepted"); got != 20 {
		t.Errorf("otp.accepted = %v, want 20", got)
	}
}

func TestOTPSpecErrors(t *testing.T) {
	reg := schemes.Builtin()
	for _, c := range []struct{ spec, want string }{
		{"totp:workflow=abc", `STEP "abc" is not a duration`},
		{"totp:workflow=1500ms", "whole number of seconds"},
		{"totp:workflow=2h", "whole number of seconds from 1s to 1h0m0s"},
		{"totp:workflow=30s/x", `SKEW "x"`},
		{"totp:workflow=30s/11", `SKEW "11"`},
		{"totp:job=30s/1/5", `DIGITS "5"`},
		{"totp:workflow=30s/1/6/1", "too many parts"},
		{"hotp:workflow=0", `WINDOW "0"`},
		{"hotp:workflow=3s", `WINDOW "3s"`},
		{"hotp:job=3/9", `DIGITS "9"`},
		{"totp:command", `no policy "command"`},
	} {
		_, err := reg.Parse(c.spec)
		if err == nil {
			t.Errorf("%s parsed", c.spec)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, "valid") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line with %q and what is valid", c.spec, msg, c.want)
		}
	}
	for _, spec := range []string{"totp", "totp:workflow=30s/1", "totp:job=10s/0/8", "null+totp:job", "curve+totp", "hotp:workflow=3", "hotp:job=100/8"} {
		if _, err := reg.Parse(spec); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
	}
}

func TestOTPClaims(t *testing.T) {
	reg := schemes.Builtin()
	for _, c := range []struct {
		spec             string
		expires, revoked bool
	}{
		{"totp", true, false}, {"totp:job", true, true}, {"hotp", false, false}, {"hotp:job", false, true},
	} {
		sc, err := reg.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		cl := sc.Claims()
		if !cl.Authenticates || !cl.ReplayProof || !cl.NeedsFS || !cl.Audience || cl.Confidential || cl.FineGrained ||
			cl.Expires != c.expires || cl.JobRevocation != c.revoked {
			t.Errorf("%s: claims %+v", c.spec, cl)
		}
	}
}

// TestClientNeedsStateDirSaysWhich: a client of a scheme that must keep
// state between calls, given none, says which directory it needs in the
// command's terms (it named the Go field ClientEnv.StateDir: issue 24 #11).
func TestClientNeedsStateDirSaysWhich(t *testing.T) {
	for _, spec := range []string{"totp", "hotp", "jwt:shared=10s"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			_, err := h.scheme.Client(context.Background(), schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindCLI, Identity: "owner"})
			if err == nil || !strings.Contains(err.Error(), "-state-dir") || strings.Contains(err.Error(), "ClientEnv") {
				t.Fatalf("Client without a state directory: %v; want one naming -state-dir", err)
			}
		})
	}
}
