package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

func anyScheme(*schemes.Scheme) bool { return true }

func transportCases() []Case {
	return []Case{
		{
			ID: "transport/no-credential", Claim: "authn", Applies: anyScheme,
			Title: "a stop request with no credential at all, over NULL",
			Run: func(ctx context.Context, e *Env) Result {
				t, err := e.Start(TargetConfig{})
				if err != nil {
					return broken("start", err)
				}
				body, err := Body(wfs.CmdStop, nil)
				if err != nil {
					return broken("body", err)
				}
				data, err := t.Send(ctx, nil, body)
				return expectRefused("stop with no credential", data, err)
			},
		},
		{
			ID: "transport/curve-without-credential", Claim: "authn",
			Applies: func(sc *schemes.Scheme) bool { return hasCurve(sc) && hasCred(sc) },
			Title:   "valid CURVE keys but no credential frame: the credential layer must still refuse",
			Run: func(ctx context.Context, e *Env) Result {
				t, err := e.Start(TargetConfig{})
				if err != nil {
					return broken("start", err)
				}
				configure, done, err := t.transport(CLI())
				if err != nil {
					return broken("client", err)
				}
				defer done()
				body, err := Body(wfs.CmdStop, nil)
				if err != nil {
					return broken("body", err)
				}
				data, err := t.Send(ctx, configure, body)
				return expectRefused("stop over CURVE without the credential", data, err)
			},
		},
		{
			ID: "transport/random-bytes", Claim: "authn", Applies: anyScheme,
			Title: "random bytes, a ZMTP greeting then junk, and a NULL handshake then junk, straight to the port",
			Run:   runRandomBytes,
		},
		{
			ID: "transport/oversized-frame", Claim: "authn", Applies: anyScheme,
			Title: "an unauthenticated peer sends a frame twice the server's ZMQ_MAXMSGSIZE",
			Run: func(ctx context.Context, e *Env) Result {
				t, err := e.Start(TargetConfig{})
				if err != nil {
					return broken("start", err)
				}
				pad := strings.Repeat("x", 2*wfs.DefaultMaxMsgSize)
				body, err := Body(wfs.CmdPing, map[string]string{"pad": pad})
				if err != nil {
					return broken("body", err)
				}
				before := t.Server.Stats()
				data, err := t.Send(ctx, nil, body)
				r := expectRefused(fmt.Sprintf("a %d-byte frame", len(body)), data, err)
				if r.Outcome == Pass && t.Server.Stats().Requests != before.Requests {
					return failf("a %d-byte frame reached the scheme's verifier (only refused after reading it)", len(body))
				}
				return r
			},
		},
		{
			ID: "transport/null-client", Claim: "authn", Applies: hasCurve,
			Title: "a NULL client (no CURVE) sends a genuine client's request frames to the CURVE server",
			Run: func(ctx context.Context, e *Env) Result {
				return curveAttack(ctx, e, "NULL client", func(*Target) ([]func(*zmq.Socket) error, error) {
					return []func(*zmq.Socket) error{nil}, nil
				})
			},
		},
		{
			ID: "transport/unknown-client-key", Claim: "authn", Applies: hasCurve,
			Title: "a CURVE client with the right server key and a keypair not in the ZAP allow-list",
			Run: func(ctx context.Context, e *Env) Result {
				return curveAttack(ctx, e, "unknown client key", func(t *Target) ([]func(*zmq.Socket) error, error) {
					server, err := t.serverKey()
					if err != nil {
						return nil, err
					}
					stranger, err := wfs.GenerateKeyPair()
					if err != nil {
						return nil, err
					}
					return []func(*zmq.Socket) error{rawCurve(server, stranger)}, nil
				})
			},
		},
		{
			ID: "transport/wrong-server-key", Claim: "authn", Applies: hasCurve,
			Title: "a CURVE client with an allowed client keypair but another server's key",
			Run: func(ctx context.Context, e *Env) Result {
				return curveAttack(ctx, e, "wrong server key", func(t *Target) ([]func(*zmq.Socket) error, error) {
					host, err := t.hostPair()
					if err != nil {
						return nil, err
					}
					other, err := wfs.GenerateKeyPair()
					if err != nil {
						return nil, err
					}
					return []func(*zmq.Socket) error{rawCurve(other.Public, host)}, nil
				})
			},
		},
		{
			ID: "transport/all-zero-keys", Claim: "authn", Applies: hasCurve,
			Title: "CURVE with all-zero keys straight into libzmq: all three zero; zero client keys; an allowed public key with a zero secret",
			Run: func(ctx context.Context, e *Env) Result {
				return curveAttack(ctx, e, "all-zero keys", func(t *Target) ([]func(*zmq.Socket) error, error) {
					server, err := t.serverKey()
					if err != nil {
						return nil, err
					}
					host, err := t.hostPair()
					if err != nil {
						return nil, err
					}
					var zero wfs.KeyPair
					return []func(*zmq.Socket) error{
						rawCurve(wfs.CurveKey{}, zero),
						rawCurve(server, zero),
						rawCurve(server, wfs.KeyPair{Public: host.Public}),
					}, nil
				})
			},
		},
		{
			ID: "transport/job-key-after-end", Claim: "job-revoke", Applies: hasCurve,
			Title: "a job's CURVE client, its keys loaded while the job ran, sends a message after the job has ended",
			Run:   runJobAfterEnd,
		},
	}
}

// curveAttack sends a genuine CLI client's stop request over each of the
// socket set-ups keys returns, each in a fresh ZMQ context: every one must
// be refused before any request reaches the WFS's verifier.
func curveAttack(ctx context.Context, e *Env, what string, keys func(t *Target) ([]func(*zmq.Socket) error, error)) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, CLI(), wfs.CmdStop, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	configs, err := keys(t)
	if err != nil {
		return broken("keys", err)
	}
	var rs []Result
	for i, configure := range configs {
		before := t.Server.Stats()
		data, err := t.Send(ctx, configure, p.Frames...)
		label := what
		if len(configs) > 1 {
			label = fmt.Sprintf("%s #%d", what, i+1)
		}
		r := expectRefused(label, data, err)
		if r.Outcome == Pass && t.Server.Stats().Requests != before.Requests {
			r = failf("%s: the handshake passed and the request reached the verifier (%v)", label, err)
		}
		rs = append(rs, r)
	}
	return all(rs...)
}

// zmtpGreeting is a ZMTP 3.0 greeting for mechanism (RFC 23): signature,
// version, mechanism padded to 20 bytes, as-server, filler.
func zmtpGreeting(mechanism string) []byte {
	g := []byte{0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0}
	mech := make([]byte, 20)
	copy(mech, mechanism)
	g = append(g, mech...)
	g = append(g, 0)
	return append(g, make([]byte, 31)...)
}

func runRandomBytes(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	// A NULL READY command (ZMTP 3.0 command frame: flags 0x04, size, name)
	// with a Socket-Type property, then a frame of junk.
	ready := []byte{0x04, 0x19, 0x05, 'R', 'E', 'A', 'D', 'Y', 0x0B, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 3, 'R', 'E', 'Q'}
	streams := map[string][]byte{
		"random bytes":             randomBytes(4096),
		"ZMTP greeting then junk":  append(zmtpGreeting("CURVE"), randomBytes(4096)...),
		"NULL handshake then junk": append(append(zmtpGreeting("NULL"), ready...), randomBytes(4096)...),
	}
	before := t.Server.Stats()
	errs := make(chan error, len(streams))
	for name, b := range streams {
		go func() {
			if err := junk(ctx, t.Addr(), b); err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				return
			}
			errs <- nil
		}()
	}
	for range streams {
		if err := <-errs; err != nil {
			return broken("junk", err)
		}
	}
	after := t.Server.Stats()
	if n := after.OK - before.OK; n > 0 {
		return failf("junk was served as %d request(s)", n)
	}
	if hasCurve(t.Scheme) && after.Requests != before.Requests {
		return failf("junk got past the CURVE handshake: %d request(s) reached the verifier", after.Requests-before.Requests)
	}
	return passf("3 junk streams dropped (%d reached the verifier, %d malformed envelopes)", after.Requests-before.Requests, after.Malformed-before.Malformed)
}

// junk writes b to addr on a raw TCP connection and reads what comes back
// until the server closes the connection or a quarter of a second passes.
func junk(ctx context.Context, addr string, b []byte) error {
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(250 * time.Millisecond))
	_, _ = conn.Write(b)
	var sink bytes.Buffer
	buf := make([]byte, 4096)
	for sink.Len() < 1<<20 {
		n, err := conn.Read(buf)
		sink.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return nil
}

// runJobAfterEnd prepares two messages as a job (credential loaded, as a
// running job holds it), sends the first, ends the job, and sends the
// second: it must be refused.
func runJobAfterEnd(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	first, err := t.Prepare(ctx, job, wfs.CmdMessage, Message(job.ID, "started"))
	if err != nil {
		return broken("job client", err)
	}
	defer first.Close()
	late, err := t.Prepare(ctx, job, wfs.CmdMessage, Message(job.ID, "late"))
	if err != nil {
		return broken("job client", err)
	}
	defer late.Close()
	if _, err := t.SendPrepared(ctx, first); err != nil {
		return broken("the job's own message while it runs", err)
	}
	if err := t.End(ctx, job); err != nil {
		return broken("end", err)
	}
	data, err := t.SendPrepared(ctx, late)
	return expectRefused("message after job end", data, err)
}
