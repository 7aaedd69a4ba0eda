package schemes_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// freshContext returns a ZMQ context of its own for one negative case:
// failing CURVE handshakes in a shared context disturb later ones.
func freshContext(t *testing.T) *zmq.Context {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = zctx.Term() })
	return zctx
}

// jobEnv is the client environment of a job's `cylc message`.
func (h *harness) jobEnv(id wfs.JobID, target string) schemes.ClientEnv {
	return schemes.ClientEnv{Run: h.run, Contact: h.srv.Contact(), Kind: schemes.KindJob, Identity: id.String(), Target: target}
}

// submit delivers a job-submit event (and makes the job directory, as job
// submission does whatever the scheme).
func (h *harness) submit(id wfs.JobID, target string) {
	h.t.Helper()
	if err := h.run.MakeJobDir(id); err != nil {
		h.t.Fatal(err)
	}
	if err := h.guard.Event(context.Background(), schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: target, Now: time.Now()}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) end(id wfs.JobID, target string) {
	h.t.Helper()
	if err := h.guard.Event(context.Background(), schemes.Event{Kind: schemes.EventJobEnd, Job: id, Target: target, Now: time.Now()}); err != nil {
		h.t.Fatal(err)
	}
}

// callWith runs one request through a loaded client part on a fresh socket
// in zctx with the monitor on: it returns the handshake time and the reply.
func (h *harness) callWith(zctx *zmq.Context, cl *schemes.Client, cmd string, args any) (time.Duration, json.RawMessage, error) {
	ctx := context.Background()
	zc := wfs.NewClient(zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: cl.Configure, Monitor: true})
	defer zc.Close()
	hs, err := zc.Handshake(ctx)
	if err != nil {
		return 0, nil, err
	}
	if _, err := cl.Begin(ctx, zc.Call); err != nil {
		return hs, nil, err
	}
	body, err := wfs.EncodeRequest(cmd, args, wfs.Meta{Prog: "test"})
	if err != nil {
		return hs, nil, err
	}
	frames, err := cl.Wrap(body)
	if err != nil {
		return hs, nil, err
	}
	rep, err := zc.Call(ctx, frames...)
	if err != nil {
		return hs, nil, err
	}
	if rep, err = cl.Unwrap(rep); err != nil {
		return hs, nil, err
	}
	data, err := wfs.DecodeReply(rep)
	return hs, data, err
}

// message sends a job message as the job env would.
func (h *harness) message(zctx *zmq.Context, env schemes.ClientEnv, taskJob, text string) error {
	cl, err := h.scheme.Client(context.Background(), env)
	if err != nil {
		return err
	}
	defer cl.Close()
	args := wfs.MessageArgs{TaskJob: taskJob, EventTime: time.Now().UTC().Format(time.RFC3339), Messages: [][2]string{{"INFO", text}}}
	_, _, err = h.callWith(zctx, cl, wfs.CmdMessage, args)
	return err
}

// handshakeWith tries a bare handshake with a socket configured by
// configure (nil for a NULL client) in a fresh context.
func (h *harness) handshakeWith(t *testing.T, configure func(*zmq.Socket) error) error {
	t.Helper()
	zctx := freshContext(t)
	zc := wfs.NewClient(zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: time.Second, Configure: configure, Monitor: true})
	defer zc.Close()
	if _, err := zc.Handshake(context.Background()); err != nil {
		return err
	}
	// A handshake that passed: try a request too.
	body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
	rep, err := zc.Call(context.Background(), body)
	if err != nil {
		return err
	}
	_, err = wfs.DecodeReply(rep)
	return err
}

func (h *harness) serverKey() wfs.CurveKey {
	h.t.Helper()
	pub, _ := wfs.KeyPaths(h.run.ServiceDir(), schemes.CurveServerKey)
	c, err := wfs.ReadCertificate(h.run.Files, pub)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.Public
}

func (h *harness) hostPair() wfs.KeyPair {
	h.t.Helper()
	_, sec := wfs.KeyPaths(h.run.ServiceDir(), schemes.CurveClientKey)
	c, err := wfs.ReadCertificate(h.run.Files, sec)
	if err != nil {
		h.t.Fatal(err)
	}
	kp, err := c.Pair()
	if err != nil {
		h.t.Fatal(err)
	}
	return kp
}

func mustJob(t *testing.T, s string) wfs.JobID {
	t.Helper()
	id, err := wfs.ParseJobID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantFailed(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: delivered, want a failed handshake", what)
	}
	if !errors.Is(err, wfs.ErrRejected) && !errors.Is(err, wfs.ErrTimeout) {
		t.Fatalf("%s: %v, want a rejected or timed-out handshake", what, err)
	}
}

func TestCurveRoundTrip(t *testing.T) {
	for _, spec := range []string{"curve", "curve-job", "curve+passphrase:workflow", "curve-job+passphrase:workflow"} {
		t.Run(spec, func(t *testing.T) {
			var run *wfs.RunDir
			// Registered first, so it runs after the harness has stopped.
			t.Cleanup(func() {
				if run == nil {
					return
				}
				if st := run.Files.Stats(); st.Live != 0 {
					t.Errorf("%d files live after shutdown, want 0 (%+v)", st.Live, st)
				}
				for _, name := range []string{"server.key", "server.key_secret", "client.key_secret", "client_public_keys/client_localhost.key"} {
					if _, err := os.Stat(run.Service(name)); !os.IsNotExist(err) {
						t.Errorf(".service/%s still there after shutdown (%v)", name, err)
					}
				}
			})
			h := start(t, spec)
			run = h.run
			data, err := h.call(wfs.CmdPing, nil)
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil || got["pong"] != true {
				t.Fatalf("ping reply %s (%v)", data, err)
			}
			for name, mode := range map[string]os.FileMode{"server.key": 0o644, "server.key_secret": 0o600, "client.key_secret": 0o600, "client_public_keys/client_localhost.key": 0o644} {
				fi, err := os.Stat(h.run.Service(name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != mode {
					t.Errorf(".service/%s mode %04o, want %04o", name, fi.Mode().Perm(), mode)
				}
			}
			// On the WFS host the client keypair is a copy of the server's.
			if h.hostPair().Public != h.serverKey() {
				t.Error("WFS-host client key is not the server's")
			}
			// A handshake is timed from the socket monitor.
			cl, err := h.scheme.Client(context.Background(), schemes.ClientEnv{Run: h.run, Kind: schemes.KindCLI, Identity: "owner"})
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			hs, _, err := h.callWith(h.zctx, cl, wfs.CmdPing, nil)
			if err != nil || hs <= 0 {
				t.Fatalf("monitored call: handshake %v, %v", hs, err)
			}
		})
	}
}

func TestCurveClaims(t *testing.T) {
	for spec, revoke := range map[string]bool{"curve": false, "curve-job": true} {
		sc, err := schemes.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		c := sc.Claims()
		if !c.Authenticates || !c.Confidential || !c.RepliesConfidential || !c.NeedsFS || c.JobRevocation != revoke {
			t.Errorf("%s claims %+v", spec, c)
		}
	}
	// Every composite on a curve transport keeps reply confidentiality;
	// the credentials alone do not give it (JWE seals requests only).
	for spec, replies := range map[string]bool{
		"curve+jwt:workflow": true, "curve-job+jwe:command": true, "curve+passphrase:workflow": true,
		"jwe": false, "jwe/ECDH-ES:job=file": false, "jwt": false, "passphrase": false, "plain": false,
	} {
		sc, err := schemes.Builtin().Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.Claims().RepliesConfidential; got != replies {
			t.Errorf("%s: RepliesConfidential %v, want %v", spec, got, replies)
		}
	}
}

func TestCurvePerTargetKeys(t *testing.T) {
	h := start(t, "curve")
	created := h.run.Files.Stats().Created
	jobs := []struct{ id, target string }{{"1/a/01", "localhost"}, {"1/b/01", "hpc1"}, {"1/c/01", "hpc1"}, {"1/d/01", "hpc2"}, {"1/e/01", ""}}
	for _, j := range jobs {
		h.submit(mustJob(t, j.id), j.target)
	}
	// hpc1 and hpc2 each: remote server.key, client.key, client.key_secret,
	// and the installed client_public_keys/client_<target>.key.
	if got := h.run.Files.Stats().Created - created; got != 8 {
		t.Errorf("per-target keys created %d files, want 8", got)
	}
	for _, target := range []string{"hpc1", "hpc2"} {
		inst, err := wfs.ReadCertificate(h.run.Files, schemes.CurveClientPublicKeyPath(h.run, target))
		if err != nil {
			t.Fatal(err)
		}
		_, sec := wfs.KeyPaths(schemes.CurveRemoteServiceDir(h.run, target), schemes.CurveClientKey)
		remote, err := wfs.ReadCertificate(h.run.Files, sec)
		if err != nil {
			t.Fatal(err)
		}
		if remote.Public != inst.Public {
			t.Errorf("%s: installed public key differs from the remote's", target)
		}
		if remote.Public == h.serverKey() {
			t.Errorf("%s: remote client key is the server's", target)
		}
	}
	for _, j := range jobs {
		if err := h.message(h.zctx, h.jobEnv(mustJob(t, j.id), j.target), j.id, "started"); err != nil {
			t.Fatalf("job %s on %q: %v", j.id, j.target, err)
		}
		b, err := os.ReadFile(h.run.JobStatusPath(mustJob(t, j.id)))
		if err != nil || !strings.Contains(string(b), "|INFO|started") {
			t.Fatalf("job.status of %s: %q %v", j.id, b, err)
		}
	}
	// A target whose keys were never installed has none to load.
	if _, err := h.scheme.Client(context.Background(), h.jobEnv(mustJob(t, "1/f/01"), "hpc3")); err == nil {
		t.Fatal("client for an uninstalled target loaded keys")
	}
	if err := h.guard.Event(context.Background(), schemes.Event{Kind: schemes.EventJobSubmit, Job: mustJob(t, "1/g/01"), Target: "../evil"}); err == nil {
		t.Fatal("a path as install target was accepted")
	}
}

func TestCurveJobRevocation(t *testing.T) {
	h := start(t, "curve-job")
	a, b := mustJob(t, "1/a/01"), mustJob(t, "1/b/01")
	before := h.run.Files.Stats()
	h.submit(a, "")
	h.submit(b, "")
	for _, id := range []wfs.JobID{a, b} {
		pub, sec := wfs.KeyPaths(h.run.JobDir(id), schemes.CurveClientKey)
		if _, err := os.Stat(pub); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(sec); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("job secret %s: %v %v", sec, fi, err)
		}
	}
	if err := h.message(h.zctx, h.jobEnv(a, ""), a.String(), "started"); err != nil {
		t.Fatalf("job message: %v", err)
	}
	// Job a's key may not speak for job b, nor run control commands.
	if err := h.message(h.zctx, h.jobEnv(a, ""), b.String(), "succeeded"); !errors.Is(err, wfs.ErrRejected) {
		t.Fatalf("job a messaging for job b: %v, want rejected", err)
	}
	cl, err := h.scheme.Client(context.Background(), h.jobEnv(a, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, _, err := h.callWith(h.zctx, cl, wfs.CmdStop, nil); !errors.Is(err, wfs.ErrRejected) {
		t.Fatalf("job key running stop: %v, want rejected", err)
	}
	// The job's client has loaded its keys; the job ends; its next message
	// fails its handshake.
	h.end(a, "")
	pub, sec := wfs.KeyPaths(h.run.JobDir(a), schemes.CurveClientKey)
	for _, p := range []string{pub, sec} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there after job end (%v)", p, err)
		}
	}
	t.Run("revoked", func(t *testing.T) {
		_, _, err := h.callWith(freshContext(t), cl, wfs.CmdMessage, wfs.MessageArgs{TaskJob: a.String(), EventTime: "t", Messages: [][2]string{{"INFO", "late"}}})
		if !errors.Is(err, wfs.ErrRejected) {
			t.Fatalf("message after job end: %v, want a refused handshake", err)
		}
	})
	// The server keeps serving: job b and the CLI still work.
	if err := h.message(h.zctx, h.jobEnv(b, ""), b.String(), "started"); err != nil {
		t.Fatalf("job b after a's revocation: %v", err)
	}
	if _, err := h.call(wfs.CmdPing, nil); err != nil {
		t.Fatalf("cli after revocation: %v", err)
	}
	h.end(b, "")
	after := h.run.Files.Stats()
	if got := after.Created - before.Created; got < 4 {
		t.Errorf("curve-job created %d files for 2 jobs, want at least 4", got)
	}
	// What stays is the two jobs' job.status files, none of the keys.
	if after.Live != before.Live+2 {
		t.Errorf("live files %d after both jobs ended, want %d (the two job.status files)", after.Live, before.Live+2)
	}
}

func TestCurveJobRemoteTarget(t *testing.T) {
	h := start(t, "curve-job")
	id := mustJob(t, "2/x/03")
	h.submit(id, "hpc1")
	if err := h.message(h.zctx, h.jobEnv(id, "hpc1"), id.String(), "started"); err != nil {
		t.Fatal(err)
	}
	h.end(id, "hpc1")
}

func TestCurveRefusals(t *testing.T) {
	h := start(t, "curve")
	serverKey, host := h.serverKey(), h.hostPair()
	stranger, err := wfs.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	wrongServer, _ := wfs.GenerateKeyPair()
	configure := func(server wfs.CurveKey, pair wfs.KeyPair) func(*zmq.Socket) error {
		return func(s *zmq.Socket) error {
			for _, err := range []error{s.SetCurveServerkey(server.Bytes()), s.SetCurvePublickey(pair.Public.Bytes()), s.SetCurveSecretkey(pair.Secret.Bytes())} {
				if err != nil {
					return err
				}
			}
			return nil
		}
	}
	cases := []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"unknown client key", func(t *testing.T) error {
			cp, err := schemes.NewCurveClient(serverKey, stranger)
			if err != nil {
				t.Fatal(err)
			}
			err = h.handshakeWith(t, cp.Configure)
			if !errors.Is(err, wfs.ErrRejected) {
				t.Errorf("unknown key: %v, want a refused handshake (ZAP 400)", err)
			}
			return err
		}},
		{"wrong server key", func(t *testing.T) error {
			cp, err := schemes.NewCurveClient(wrongServer.Public, host)
			if err != nil {
				t.Fatal(err)
			}
			return h.handshakeWith(t, cp.Configure)
		}},
		{"null client", func(t *testing.T) error { return h.handshakeWith(t, nil) }},
		{"all-zero keys", func(t *testing.T) error {
			if _, err := schemes.NewCurveClient(wfs.CurveKey{}, wfs.KeyPair{}); err == nil {
				t.Error("NewCurveClient accepted all-zero keys")
			}
			// Past the check, straight into libzmq.
			return h.handshakeWith(t, configure(wfs.CurveKey{}, wfs.KeyPair{}))
		}},
		{"all-zero client key, right server key", func(t *testing.T) error {
			return h.handshakeWith(t, configure(serverKey, wfs.KeyPair{}))
		}},
		{"mismatched keypair", func(t *testing.T) error {
			bad := wfs.KeyPair{Public: host.Public, Secret: stranger.Secret}
			if _, err := schemes.NewCurveClient(serverKey, bad); err == nil {
				t.Error("NewCurveClient accepted a secret key that does not match its public key")
			}
			return h.handshakeWith(t, configure(serverKey, bad))
		}},
		{"random bytes", func(t *testing.T) error {
			addr := strings.TrimPrefix(h.srv.Endpoint(), "tcp://")
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			junk := make([]byte, 4096)
			_, _ = rand.Read(junk)
			_ = conn.SetDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write(junk)
			buf := make([]byte, 512)
			for {
				if _, err := conn.Read(buf); err != nil {
					break
				}
			}
			return errors.New("sent junk")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := h.srv.Stats()
			err := c.run(t)
			t.Logf("%s: %v", c.name, err)
			if c.name != "random bytes" {
				wantFailed(t, c.name, err)
			}
			if got := h.srv.Stats(); got.Requests != before.Requests {
				t.Errorf("%s: a request reached the server (%+v)", c.name, got)
			}
			// The server keeps serving, and a valid client still works.
			if _, err := h.call(wfs.CmdPing, nil); err != nil {
				t.Fatalf("valid client after %s: %v", c.name, err)
			}
		})
	}
}

func TestCurveCompositeNeedsBothParts(t *testing.T) {
	h := start(t, "curve+passphrase:workflow")
	// The right CURVE key without the passphrase is refused by the
	// credential part.
	cp, err := schemes.NewCurveClient(h.serverKey(), h.hostPair())
	if err != nil {
		t.Fatal(err)
	}
	zc := wfs.NewClient(h.zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second, Configure: cp.Configure})
	defer zc.Close()
	body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{})
	rep, err := zc.Call(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wfs.DecodeReply(rep); !errors.Is(err, wfs.ErrRejected) {
		t.Fatalf("curve without passphrase: %v, want rejected", err)
	}
	// The passphrase without CURVE never gets past the handshake.
	pass, err := os.ReadFile(h.run.Service(schemes.PassphraseFile))
	if err != nil {
		t.Fatal(err)
	}
	zctx := freshContext(t)
	nc := wfs.NewClient(zctx, h.srv.Endpoint(), wfs.ClientConfig{Timeout: 500 * time.Millisecond})
	defer nc.Close()
	if _, err := nc.Call(context.Background(), body, pass); !errors.Is(err, wfs.ErrTimeout) {
		t.Fatalf("passphrase over NULL to a CURVE server: %v, want a timeout", err)
	}
}

// TestCurveComposesWithTokens runs curve with every token credential the
// registry knows, by composition alone.
func TestCurveComposesWithTokens(t *testing.T) {
	for _, spec := range []string{"curve+jwt:workflow", "curve+jwe:workflow", "curve-job+jwt:workflow"} {
		t.Run(spec, func(t *testing.T) {
			if _, err := schemes.Builtin().Parse(spec); err != nil {
				if strings.Contains(err.Error(), "unknown credential") {
					t.Skipf("credential not registered yet: %v", err)
				}
				t.Fatal(err)
			}
			h := start(t, spec)
			if _, err := h.call(wfs.CmdPing, nil); err != nil {
				t.Fatalf("ping: %v", err)
			}
		})
	}
}

func TestCurveKeyFilesLayout(t *testing.T) {
	h := start(t, "curve")
	h.submit(mustJob(t, "1/a/01"), "hpc1")
	want := []string{
		".service/server.key", ".service/server.key_secret", ".service/client.key_secret",
		".service/client_public_keys/client_localhost.key", ".service/client_public_keys/client_hpc1.key",
		"remote/hpc1/.service/server.key", "remote/hpc1/.service/client.key", "remote/hpc1/.service/client.key_secret",
	}
	for _, rel := range want {
		p := filepath.Join(h.run.Root, rel)
		if _, err := wfs.ReadCertificate(wfs.NewFiles(false), p); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	}
}

// TestCurveJobConcurrent submits, messages and ends jobs from many
// goroutines at once, on several targets, as a job storm does.
func TestCurveJobConcurrent(t *testing.T) {
	for _, spec := range []string{"curve", "curve-job"} {
		t.Run(spec, func(t *testing.T) {
			h := start(t, spec)
			before := h.run.Files.Stats()
			const n = 24
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := wfs.JobID{Cycle: "1", Task: fmt.Sprintf("t%d", i), Submit: 1}
					target := fmt.Sprintf("hpc%d", i%3)
					ctx := context.Background()
					if err := h.run.MakeJobDir(id); err != nil {
						errs <- err
						return
					}
					if err := h.guard.Event(ctx, schemes.Event{Kind: schemes.EventJobSubmit, Job: id, Target: target}); err != nil {
						errs <- err
						return
					}
					for _, text := range []string{"started", "succeeded"} {
						if err := h.message(h.zctx, h.jobEnv(id, target), id.String(), text); err != nil {
							errs <- fmt.Errorf("%s %s: %w", id, text, err)
							return
						}
					}
					if err := h.guard.Event(ctx, schemes.Event{Kind: schemes.EventJobEnd, Job: id, Target: target}); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			after := h.run.Files.Stats()
			// Left: n job.status files, and for curve 3 targets x 4 key files.
			want := before.Live + n
			if spec == "curve" {
				want += 3 * 4
			} else {
				want += 3 // each remote target's server.key
			}
			if after.Live != want {
				t.Errorf("live files %d, want %d", after.Live, want)
			}
			t.Logf("%s: %d jobs created %d files", spec, n, after.Created-before.Created)
		})
	}
}
