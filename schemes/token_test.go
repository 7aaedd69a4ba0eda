package schemes_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

func tkOK(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func tkRejected(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, wfs.ErrRejected) {
		t.Fatalf("%s: got %v, want a rejection", what, err)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	for _, spec := range []string{
		"jwt", "jwt/ES256", "jwt/EdDSA", "jwt:command", "jwt:shared=10s", "jwt:timed=60s/6s",
		"jwt:job=file", "jwt:job=combined", "jwt:job=status", "null+jwt/HS256:workflow",
		"jwe", "jwe/ECDH-ES", "jwe:command", "jwe/ECDH-ES:shared=10s", "jwe:timed=60s",
		"jwe:job=combined", "jwe/ECDH-ES:job=file",
	} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			for _, cmd := range []string{wfs.CmdPing, wfs.CmdHold, wfs.CmdStop, wfs.CmdData} {
				_, err := h.tkCall(tkCLI(), cmd, nil)
				tkOK(t, cmd, err)
			}
			job := "1/foo/01"
			h.tkEvent(schemes.EventJobSubmit, job)
			for _, text := range []string{"started", "succeeded"} {
				_, err := h.tkCall(tkJobClient(job), wfs.CmdMessage, tkMsg(job, text))
				tkOK(t, "job message "+text, err)
			}
			h.tkEvent(schemes.EventJobEnd, job)
			st, err := os.ReadFile(h.run.JobStatusPath(tkJobID(t, job)))
			tkOK(t, "job.status", err)
			if !strings.Contains(string(st), "|INFO|succeeded") {
				t.Fatalf("job.status lacks the message:\n%s", st)
			}
			if strings.Contains(string(st), schemes.JobTokenStatusKey) {
				t.Fatalf("job.status still holds the token after job end:\n%s", st)
			}
		})
	}
}

func tkJobID(t *testing.T, s string) wfs.JobID {
	t.Helper()
	id, err := wfs.ParseJobID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// forge signs claims as an attacker or a test would, with go-jose directly.
func tkForge(t *testing.T, alg jose.SignatureAlgorithm, key any, c any, opts *jose.SignerOptions) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func tkClaims(now time.Time) schemes.TokenClaims {
	return schemes.TokenClaims{
		Claims: jwt.Claims{
			Issuer: schemes.TokenIssuer("wf"), Subject: "owner", Audience: jwt.Audience{"wf"},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(time.Hour)), ID: "test-jti",
		},
		Typ: schemes.TypSession, Scope: schemes.ScopeRead + " " + schemes.ScopeControl,
	}
}

func tkB64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestJWTForgedTokens sends tokens made outside the WFS to a jwt:workflow
// WFS (which accepts any token its key signed with the right claims) and
// checks that exactly the good ones get through.
func TestJWTForgedTokens(t *testing.T) {
	now := time.Now()
	otherKey := make([]byte, 32)
	_, _ = rand.Read(otherKey)

	hs := tkStart(t, "jwt", nil)
	hsKey := hs.tkService(schemes.JWTKeyFile)
	es := tkStart(t, "jwt/ES256", nil)
	esPriv := tkPrivPEM(t, es.tkService(schemes.JWTKeyFile))
	esPubPEM := es.tkService(schemes.JWTPublicKeyFile)
	blk, _ := pem.Decode(esPubPEM)
	otherES := tkPrivPEM(t, tkStart(t, "jwt/ES256", nil).tkService(schemes.JWTKeyFile))

	mod := func(f func(c *schemes.TokenClaims)) schemes.TokenClaims {
		c := tkClaims(now)
		f(&c)
		return c
	}
	cases := []struct {
		name string
		h    *harness
		tok  func() string
		ok   bool
	}{
		{"HS256 good", hs, func() string { return tkForge(t, jose.HS256, hsKey, tkClaims(now), nil) }, true},
		{"ES256 good", es, func() string { return tkForge(t, jose.ES256, esPriv, tkClaims(now), nil) }, true},
		{"within leeway after exp", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Expiry = jwt.NewNumericDate(now.Add(-20 * time.Second)) }), nil)
		}, true},
		{"expired", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) {
				c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
				c.NotBefore = c.IssuedAt
				c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute))
			}), nil)
		}, false},
		{"not yet valid", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }), nil)
		}, false},
		{"issued in the future", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) }), nil)
		}, false},
		{"wrong audience", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Audience = jwt.Audience{"other-workflow"} }), nil)
		}, false},
		{"two audiences", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Audience = jwt.Audience{"wf", "other-workflow"} }), nil)
		}, false},
		{"wrong issuer", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Issuer = "someone-else" }), nil)
		}, false},
		{"no exp", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Expiry = nil }), nil)
		}, false},
		{"no aud", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Audience = nil }), nil)
		}, false},
		{"no jti", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.ID = "" }), nil)
		}, false},
		{"bad typ", hs, func() string {
			return tkForge(t, jose.HS256, hsKey, mod(func(c *schemes.TokenClaims) { c.Typ = "admin" }), nil)
		}, false},
		{"wrong key", hs, func() string { return tkForge(t, jose.HS256, otherKey, tkClaims(now), nil) }, false},
		{"ES256 key of another WFS", es, func() string { return tkForge(t, jose.ES256, otherES, tkClaims(now), nil) }, false},
		{"HS384 with the right key", hs, func() string { return tkForge(t, jose.HS384, append(hsKey, hsKey[:16]...), tkClaims(now), nil) }, false},
		{"alg none", hs, func() string {
			return tkB64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + tkB64(tkClaims(now)) + "."
		}, false},
		{"alg none on ES256", es, func() string {
			return tkB64(map[string]string{"alg": "none"}) + "." + tkB64(tkClaims(now)) + "."
		}, false},
		{"HS256 signed with the ES256 public key (PEM)", es, func() string { return tkForge(t, jose.HS256, esPubPEM, tkClaims(now), nil) }, false},
		{"HS256 signed with the ES256 public key (DER)", es, func() string { return tkForge(t, jose.HS256, blk.Bytes, tkClaims(now), nil) }, false},
		{"JSON serialisation", hs, func() string {
			s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: hsKey}, nil)
			b, _ := json.Marshal(tkClaims(now))
			obj, _ := s.Sign(b)
			return obj.FullSerialize()
		}, false},
		{"garbage", hs, func() string { return "not.a.token" }, false},
		{"empty", hs, func() string { return "" }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, _ := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{})
			_, err := c.h.tkSend(body, []byte(c.tok()))
			if c.ok {
				tkOK(t, c.name, err)
			} else {
				tkRejected(t, c.name, err)
			}
		})
	}
	// The server kept serving its own clients.
	_, err := hs.tkCall(tkCLI(), wfs.CmdPing, nil)
	tkOK(t, "valid client after attacks", err)
}

func tkPrivPEM(t *testing.T, b []byte) any {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if ek, ok := k.(*ecdsa.PrivateKey); ok {
		return ek
	}
	return k
}

func TestCommandTokenReplay(t *testing.T) {
	for _, spec := range []string{"jwt:command", "jwe:command", "jwt/EdDSA:command"} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			t.Run("sequential", func(t *testing.T) {
				frames := h.tkPrepare(tkCLI(), wfs.CmdStop, nil)
				_, err := h.tkSend(frames...)
				tkOK(t, "first use", err)
				_, err = h.tkSend(frames...)
				tkRejected(t, "replay", err)
				left, _ := os.ReadDir(h.run.Service(schemes.TokensDir))
				if len(left) != 0 {
					t.Fatalf("%d token files left after use", len(left))
				}
			})
			t.Run("malleated base64", func(t *testing.T) {
				if !strings.HasPrefix(spec, "jwt") {
					t.Skip("the jwe token travels inside the envelope")
				}
				frames := h.tkPrepare(tkCLI(), wfs.CmdStop, nil)
				tok := string(frames[len(frames)-1])
				twin := tkMalleate(tok)
				if twin == tok {
					t.Fatal("could not malleate")
				}
				body := frames[0]
				// The twin decodes to the same bytes (the last character's
				// unused bits differ): it is not canonical base64url, so it
				// is refused outright, and the genuine token still works
				// once.
				_, err := h.tkSend(body, []byte(twin))
				tkRejected(t, "malleated twin (non-canonical base64url)", err)
				_, err = h.tkSend(body, []byte(tok))
				tkOK(t, "original after its refused twin", err)
				_, err = h.tkSend(body, []byte(tok))
				tkRejected(t, "original replayed", err)
			})
			t.Run("concurrent", func(t *testing.T) {
				for i := 0; i < 20; i++ {
					frames := h.tkPrepare(tkCLI(), wfs.CmdHold, nil)
					var wg sync.WaitGroup
					errs := make([]error, 2)
					for j := range errs {
						wg.Add(1)
						go func() {
							defer wg.Done()
							_, errs[j] = h.tkSend(frames...)
						}()
					}
					wg.Wait()
					ok := 0
					for _, err := range errs {
						if err == nil {
							ok++
						} else if !errors.Is(err, wfs.ErrRejected) {
							t.Fatalf("round %d: %v", i, err)
						}
					}
					if ok != 1 {
						t.Fatalf("round %d: %d of 2 concurrent uses accepted, want exactly 1 (%v)", i, ok, errs)
					}
				}
			})
			t.Run("no token", func(t *testing.T) {
				body, _ := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{})
				_, err := h.tkSend(body)
				tkRejected(t, "stop without token", err)
			})
		})
	}
}

func TestJobTokens(t *testing.T) {
	for _, spec := range []string{"jwt:job=file", "jwt:job=combined", "jwt:job=status", "jwe/ECDH-ES:job=status", "jwt:command", "jwt:shared=10s"} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			a, b := "1/a/01", "1/b/01"
			h.tkEvent(schemes.EventJobSubmit, a)
			h.tkEvent(schemes.EventJobSubmit, b)

			_, err := h.tkCall(tkJobClient(a), wfs.CmdMessage, tkMsg(a, "started"))
			tkOK(t, "A's own message", err)
			_, err = h.tkCall(tkJobClient(a), wfs.CmdMessage, tkMsg(b, "succeeded"))
			tkRejected(t, "job A's token for job B", err)
			_, err = h.tkCall(tkJobClient(a), wfs.CmdStop, nil)
			tkRejected(t, "job token for stop", err)
			_, err = h.tkCall(tkCLI(), wfs.CmdMessage, tkMsg(a, "succeeded"))
			tkRejected(t, "CLI token for a job message", err)

			if !strings.HasPrefix(spec, "jwt:job") && !strings.HasPrefix(spec, "jwe/ECDH-ES:job") {
				return
			}
			// Keep A's token, end the job, try again.
			frames := h.tkPrepare(tkJobClient(a), wfs.CmdMessage, tkMsg(a, "late"))
			h.tkEvent(schemes.EventJobEnd, a)
			_, err = h.tkSend(frames...)
			tkRejected(t, "job token after job end", err)
			if _, err := h.tkCall(tkJobClient(a), wfs.CmdMessage, tkMsg(a, "late")); err == nil {
				t.Fatal("job client after job end: accepted")
			}
			_, err = h.tkCall(tkJobClient(b), wfs.CmdMessage, tkMsg(b, "still running"))
			tkOK(t, "B after A ended", err)
		})
	}
}

func TestCommandTokenForJobMessage(t *testing.T) {
	h := tkStart(t, "jwt:command", nil)
	job := "1/a/01"
	h.tkEvent(schemes.EventJobSubmit, job)
	frames := h.tkPrepare(tkCLI(), wfs.CmdMessage, tkMsg(job, "started"))
	_, err := h.tkSend(frames...)
	tkRejected(t, "command token for a job message", err)
}

// TestTimedOverlap checks timed=60s/6s on an injected clock: the old token
// is accepted one second before the overlap ends and rejected one second
// after, while the new one is accepted throughout.
func TestTimedOverlap(t *testing.T) {
	for _, via := range []string{"request", "tick"} {
		t.Run(via, func(t *testing.T) {
			clock := tkNewClock()
			t0 := clock.Now()
			h := tkStart(t, "jwt:timed=60s/6s", clock)
			c := tkWho{kind: schemes.KindCLI, identity: "owner", clock: clock}
			old := h.tkPrepare(c, wfs.CmdHold, nil)
			_, err := h.tkSend(old...)
			tkOK(t, "fresh token", err)

			clock.Set(t0.Add(60 * time.Second))
			if via == "tick" {
				if err := h.guard.Event(t.Context(), schemes.Event{Kind: schemes.EventTick, Now: clock.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(t0.Add(65 * time.Second))
			_, err = h.tkSend(old...)
			tkOK(t, "old token 1s before the overlap ends", err)
			fresh := h.tkPrepare(c, wfs.CmdHold, nil)
			if string(fresh[len(fresh)-1]) == string(old[len(old)-1]) {
				t.Fatal(".service/token was not rotated")
			}
			clock.Set(t0.Add(67 * time.Second))
			_, err = h.tkSend(old...)
			tkRejected(t, "old token 1s after the overlap ends", err)
			_, err = h.tkSend(fresh...)
			tkOK(t, "new token after the overlap", err)
		})
	}
}

// TestTimedChangeoverNoRejections runs clients across many rotations on a
// clock that moves faster than their read-to-send time: with the overlap
// longer than that, none is rejected.
func TestTimedChangeoverNoRejections(t *testing.T) {
	clock := tkNewClock()
	h := tkStart(t, "jwt:timed=10s/2s", clock)
	c := tkWho{kind: schemes.KindCLI, identity: "owner", clock: clock}
	for i := 0; i < 60; i++ {
		frames := h.tkPrepare(c, wfs.CmdHold, nil) // reads .service/token
		clock.Add(1500 * time.Millisecond)         // read-to-send time under the 2s overlap
		if _, err := h.tkSend(frames...); err != nil {
			t.Fatalf("command %d at +%s: %v", i, clock.Now().Sub(tkNewClock().Now()), err)
		}
	}
}

func TestSharedWindow(t *testing.T) {
	clock := tkNewClock()
	h := tkStart(t, "jwt:shared=10s", clock)
	c := tkWho{kind: schemes.KindCLI, identity: "owner", clock: clock, stateDir: filepath.Join(t.TempDir(), "state")}
	first := h.tkPrepare(c, wfs.CmdHold, nil)
	_, err := h.tkSend(first...)
	tkOK(t, "first", err)
	clock.Add(5 * time.Second)
	second := h.tkPrepare(c, wfs.CmdHold, nil)
	if string(second[1]) != string(first[1]) {
		t.Fatal("token not reused within the window")
	}
	_, err = h.tkSend(second...)
	tkOK(t, "reused within the window", err)
	st, err := os.Stat(schemes.SharedTokenPath(schemes.ClientEnv{Kind: c.kind, Identity: c.identity, StateDir: c.stateDir}))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kept token: %v %v", st, err)
	}
	clock.Add(6 * time.Second) // 11s after minting: window over
	_, err = h.tkSend(second...)
	tkRejected(t, "after the window", err)
	third := h.tkPrepare(c, wfs.CmdHold, nil)
	if string(third[1]) == string(first[1]) {
		t.Fatal("expired token reused")
	}
	_, err = h.tkSend(third...)
	tkOK(t, "new token after the window", err)
}

// TestTokenFileCounts checks what each policy costs the file system, counted
// by the run's file layer.
func TestTokenFileCounts(t *testing.T) {
	const n = 10
	for _, c := range []struct {
		spec string
		jobs bool
		// check gets the file-stat delta over n commands (or n jobs of
		// submit, two messages, end).
		check func(t *testing.T, d counters.FileStats)
	}{
		{"jwt", false, func(t *testing.T, d counters.FileStats) {
			if d.Created != 0 || d.Deleted != 0 || d.Read < n {
				t.Fatalf("workflow: %+v", d)
			}
		}},
		{"jwt:command", false, func(t *testing.T, d counters.FileStats) {
			if d.Created != n || d.Deleted != n || d.Read < n {
				t.Fatalf("command: want %d created and deleted: %+v", n, d)
			}
		}},
		{"jwt:shared=1h", false, func(t *testing.T, d counters.FileStats) {
			// one token file on the WFS (deleted at first use) and one kept by the client
			if d.Created != 2 || d.Deleted != 1 {
				t.Fatalf("shared: %+v", d)
			}
		}},
		{"jwt:timed=60s", false, func(t *testing.T, d counters.FileStats) {
			if d.Created != 0 || d.Read < n {
				t.Fatalf("timed: %+v", d)
			}
		}},
		{"jwt:job=file", true, func(t *testing.T, d counters.FileStats) {
			// per job: the token file and job.status; the token file deleted
			if d.Created != 2*n || d.Deleted != n {
				t.Fatalf("job=file: %+v", d)
			}
		}},
		{"jwt:job=combined", true, func(t *testing.T, d counters.FileStats) {
			// per job: job.status, plus temp files renamed over job_tokens
			if d.Renamed != n || d.Deleted != n {
				t.Fatalf("job=combined: %+v", d)
			}
		}},
		{"jwt:job=status", true, func(t *testing.T, d counters.FileStats) {
			// per job: job.status only (the token is a line in it); revoking renames a temp over it
			if d.Created != 2*n || d.Renamed != n || d.Deleted != 0 {
				t.Fatalf("job=status: %+v", d)
			}
		}},
	} {
		t.Run(c.spec, func(t *testing.T) {
			h := tkStart(t, c.spec, nil)
			base := h.run.Files.Stats()
			for i := 0; i < n; i++ {
				if !c.jobs {
					_, err := h.tkCall(tkCLI(), wfs.CmdHold, nil)
					tkOK(t, "hold", err)
					continue
				}
				job := wfs.JobID{Cycle: "1", Task: "t", Submit: i + 1}.String()
				h.tkEvent(schemes.EventJobSubmit, job)
				for _, m := range []string{"started", "succeeded"} {
					_, err := h.tkCall(tkJobClient(job), wfs.CmdMessage, tkMsg(job, m))
					tkOK(t, m, err)
				}
				h.tkEvent(schemes.EventJobEnd, job)
			}
			d := h.run.Files.Stats().Sub(base)
			t.Logf("%s: %+v", c.spec, d)
			c.check(t, d)
		})
	}
}

func TestTokenSpecErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"jwt:shared", "missing duration"},
		{"jwt:shared=abc", "not a duration"},
		{"jwt:shared=100ms", "under 1s"},
		{"jwt:timed=60s/2m", "longer than LIFETIME"},
		{"jwt:timed=5s", "under 1s"},
		{"jwt:timed=x/1s", "not a duration"},
		{"jwt:job=disk", "unknown store"},
		{"jwt:workflow=1", "takes no argument"},
		{"jwt:command=1", "takes no argument"},
		{"jwt:forever", "no policy"},
		{"jwt/RS256", "no algorithm"},
		{"jwe/A128KW", "no algorithm"},
	} {
		_, err := schemes.Builtin().Parse(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.spec, err, c.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", c.spec, err)
		}
	}
	for _, spec := range []string{"jwt:job", "jwt:timed=60s/6s", "jwe/ECDH-ES:job=status", "null+jwt/EdDSA:shared=10s"} {
		if _, err := schemes.Builtin().Parse(spec); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
	}
}

func TestTokenClaimsDeclared(t *testing.T) {
	for _, c := range []struct {
		spec string
		want schemes.Claims
	}{
		{"jwt", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true}},
		{"jwt:command", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, ReplayProof: true, Expires: true}},
		{"jwt:shared=10s", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, Expires: true}},
		{"jwt:timed=60s", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, Expires: true}},
		{"jwt:job=file", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, JobRevocation: true}},
		{"jwe", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, Confidential: true}},
		{"jwe/ECDH-ES:command", schemes.Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true, Confidential: true, ReplayProof: true, Expires: true}},
	} {
		sc, err := schemes.Builtin().Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Claims(); got != c.want {
			t.Errorf("%s: claims %+v, want %+v", c.spec, got, c.want)
		}
	}
}

// TestJWEHidesBody checks that nothing of the request or the token is
// readable on the wire, and that a readable body beside an envelope is
// refused.
func TestJWEHidesBody(t *testing.T) {
	for _, spec := range []string{"jwe", "jwe/ECDH-ES", "jwe:command"} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			secret := "SECRET-TASK-NAME"
			frames := h.tkPrepare(tkCLI(), wfs.CmdTrigger, map[string]string{"task": secret})
			for i, f := range frames {
				for _, plain := range []string{secret, "trigger", schemes.TokenIssuer("wf")} {
					if strings.Contains(string(f), plain) {
						t.Fatalf("frame %d shows %q on the wire", i, plain)
					}
				}
			}
			if len(frames) != 2 || len(frames[0]) != 0 {
				t.Fatalf("want [empty, envelope], got %d frames", len(frames))
			}
			body, _ := wfs.EncodeRequest(wfs.CmdStop, nil, wfs.Meta{})
			_, err := h.tkSend(body, frames[1])
			tkRejected(t, "readable body beside the envelope", err)
			if spec != "jwe:command" {
				_, err = h.tkSend(frames...)
				tkOK(t, "the envelope", err)
			}
		})
	}
}

func TestTokenFilesAreSecret(t *testing.T) {
	for _, spec := range []string{"jwt", "jwt/ES256", "jwe", "jwe/ECDH-ES", "jwt:job=file", "jwt:timed=60s"} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			h.tkEvent(schemes.EventJobSubmit, "1/a/01")
			_ = filepath.WalkDir(h.run.Root, func(p string, d os.DirEntry, err error) error {
				if err != nil {
					return err
				}
				info, _ := d.Info()
				if d.IsDir() && info.Mode().Perm()&0o077 != 0 {
					t.Errorf("dir %s mode %o", p, info.Mode().Perm())
				}
				if !d.IsDir() {
					if err := wfs.CheckSecret(p); err != nil {
						t.Error(err)
					}
				}
				return nil
			})
			if err := h.guard.Close(); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{schemes.TokenFile, schemes.JWTKeyFile, schemes.JWTPublicKeyFile, schemes.JWEKeyFile, schemes.JWEPublicKeyFile} {
				if _, err := os.Stat(h.run.Service(f)); err == nil {
					t.Errorf("%s left after Close", f)
				}
			}
		})
	}
}

// tkMalleate flips a padding bit of the signature's last base64url
// character: lenient decoders (go-jose's) read the same signature, so the
// twin is a different string for the same token.
func tkMalleate(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	if i < 0 {
		return tok
	}
	return tok[:len(tok)-1] + string(alphabet[i^1])
}
