package conformance

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// Scheme predicates the cases' Applies use.

func hasCurve(sc *schemes.Scheme) bool {
	s := sc.Spec().Security
	return s == "curve" || s == "curve-job"
}

func hasCred(sc *schemes.Scheme) bool { return sc.Spec().Credential != "" }

// secured reports whether the scheme has anything to attack: a transport
// key or a credential.
func secured(sc *schemes.Scheme) bool { return hasCurve(sc) || hasCred(sc) }

func isToken(sc *schemes.Scheme) bool {
	c := sc.Spec().Credential
	return c == "jwt" || c == "jwe"
}

func isJWE(sc *schemes.Scheme) bool { return sc.Spec().Credential == "jwe" }

func policyIs(sc *schemes.Scheme, names ...string) bool {
	if !isToken(sc) {
		return false
	}
	for _, n := range names {
		if sc.Spec().Policy == n {
			return true
		}
	}
	return false
}

// perJobCreds reports whether a job holds a credential of its own, distinct
// from the workflow's: a job token (job policy, or one requested as a job
// under the command and shared policies), a curve-job key, or, for curve
// alone, the install target's key.
func perJobCreds(sc *schemes.Scheme) bool {
	switch {
	case policyIs(sc, schemes.PolicyJob, schemes.PolicyCommand, schemes.PolicyShared):
		return true
	case sc.Spec().Security == "curve-job":
		return true
	case sc.Spec().Security == "curve" && !hasCred(sc):
		return true
	}
	return false
}

// remoteJob is the job the cases submit: on a remote install target, as
// most Cylc jobs run.
func remoteJob(id string) Who { return Who{Kind: schemes.KindJob, ID: id, Target: "hpc1"} }

// attack sends frames as an attacker: a REQ socket in a fresh ZMQ context,
// its transport set up by configure (nil: NULL), watched by a socket
// monitor so that a refused handshake or a dropped connection is seen at
// once. Both are rejections; no reply within timeout is a timeout.
func attack(ctx context.Context, endpoint string, configure func(*zmq.Socket) error, timeout time.Duration, frames ...[]byte) (json.RawMessage, error) {
	if len(frames) == 0 {
		return nil, errors.New("attack: no frames")
	}
	zctx, err := zmq.NewContext()
	if err != nil {
		return nil, fmt.Errorf("attack: zmq context: %w", err)
	}
	defer func() { _ = zctx.Term() }()
	sock, err := zctx.NewSocket(zmq.REQ)
	if err != nil {
		return nil, fmt.Errorf("attack: socket: %w", err)
	}
	addr := fmt.Sprintf("inproc://conform-attack-%p", sock)
	var mon *zmq.Socket
	defer func() {
		if mon != nil {
			_ = sock.Monitor("", 0)
			_ = mon.Close()
		}
		_ = sock.Close()
	}()
	for _, set := range []func() error{
		func() error { return sock.SetLinger(0) },
		func() error { return sock.SetSndtimeo(timeout) },
		func() error { return sock.SetRcvtimeo(timeout) },
		func() error { return sock.SetMaxmsgsize(wfs.DefaultMaxMsgSize) },
		func() error {
			if configure == nil {
				return nil
			}
			return configure(sock)
		},
		func() error {
			return sock.Monitor(addr, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL|zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL|
				zmq.EVENT_HANDSHAKE_FAILED_AUTH|zmq.EVENT_DISCONNECTED)
		},
	} {
		if err := set(); err != nil {
			return nil, fmt.Errorf("attack: configure socket: %w", err)
		}
	}
	if mon, err = zctx.NewSocket(zmq.PAIR); err != nil {
		return nil, fmt.Errorf("attack: monitor socket: %w", err)
	}
	for _, err := range []error{mon.SetLinger(0), mon.SetRcvtimeo(timeout), mon.SetSndtimeo(timeout)} {
		if err != nil {
			return nil, fmt.Errorf("attack: monitor socket: %w", err)
		}
	}
	if err := mon.Connect(addr); err != nil {
		return nil, fmt.Errorf("attack: monitor: %w", err)
	}
	if err := sock.Connect(endpoint); err != nil {
		return nil, fmt.Errorf("attack: connect %s: %w", endpoint, err)
	}
	for i, f := range frames {
		flag := zmq.SNDMORE
		if i == len(frames)-1 {
			flag = 0
		}
		if _, err := sock.SendBytes(f, flag); err != nil {
			return nil, &wfs.Error{Kind: wfs.KindTimeout, Msg: "send: " + err.Error()}
		}
	}
	poller := zmq.NewPoller()
	poller.Add(sock, zmq.POLLIN)
	poller.Add(mon, zmq.POLLIN)
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			return nil, &wfs.Error{Kind: wfs.KindTimeout, Msg: fmt.Sprintf("no reply within %s", timeout)}
		}
		polled, err := poller.Poll(min(left, 100*time.Millisecond))
		if err != nil {
			continue
		}
		for _, p := range polled {
			if p.Socket == mon {
				ev, _, _, err := mon.RecvEvent(0)
				if err != nil {
					continue
				}
				what := "handshake refused"
				if ev == zmq.EVENT_DISCONNECTED {
					what = "connection dropped"
				}
				return nil, &wfs.Error{Kind: wfs.KindRejected, Msg: what + " (" + ev.String() + ")"}
			}
			msg, err := sock.RecvMessageBytes(0)
			if err != nil {
				return nil, &wfs.Error{Kind: wfs.KindTimeout, Msg: "receive: " + err.Error()}
			}
			if len(msg) != 1 {
				return nil, &wfs.Error{Kind: wfs.KindProtocol, Msg: fmt.Sprintf("reply has %d frames", len(msg))}
			}
			return wfs.DecodeReply(msg[0])
		}
	}
}

// Send sends frames to the target as an attacker (see attack).
func (t *Target) Send(ctx context.Context, configure func(*zmq.Socket) error, frames ...[]byte) (json.RawMessage, error) {
	return attack(ctx, t.Endpoint(), configure, attackTimeout, frames...)
}

// SendPrepared sends a prepared request on an attacker's socket set up as
// the client that prepared it.
func (t *Target) SendPrepared(ctx context.Context, p *Prepared) (json.RawMessage, error) {
	return t.Send(ctx, p.Client.Configure, p.Frames...)
}

// transport returns the socket set-up of a genuine client of w (its CURVE
// keys, if any): attacks on the credential go over a valid transport.
func (t *Target) transport(w Who) (func(*zmq.Socket) error, func(), error) {
	cl, err := t.Client(w)
	if err != nil {
		return nil, nil, err
	}
	return cl.Configure, func() { _ = cl.Close() }, nil
}

// StealToken gets a genuine token for w as an attacker with access to the
// WFS's file system gets it: it reads .service/token, the job's token from
// its store, or asks for one (command and shared policies) and reads the
// file the reply names.
func (t *Target) StealToken(ctx context.Context, w Who) (string, error) {
	sp := t.Scheme.Spec()
	switch {
	case sp.Policy == schemes.PolicyJob && w.Kind == schemes.KindJob:
		return t.stealJobToken(w)
	case sp.Policy == schemes.PolicyCommand || sp.Policy == schemes.PolicyShared:
		configure, done, err := t.transport(w)
		if err != nil {
			return "", err
		}
		defer done()
		body, err := Body(schemes.CmdToken, schemes.TokenRequestArgs{Sub: w.ID, Kind: string(w.Kind)})
		if err != nil {
			return "", err
		}
		data, err := attack(ctx, t.Endpoint(), configure, validTimeout, body)
		if err != nil {
			return "", fmt.Errorf("token request: %w", err)
		}
		var r schemes.TokenReply
		if err := json.Unmarshal(data, &r); err != nil || r.File == "" || strings.ContainsAny(r.File, "/\\") {
			return "", fmt.Errorf("token reply %s: no usable file name", trunc(string(data), 60))
		}
		b, err := t.readService(filepath.Join(schemes.TokensDir, r.File))
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := t.readService(schemes.TokenFile)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func (t *Target) stealJobToken(w Who) (string, error) {
	id, err := wfs.ParseJobID(w.ID)
	if err != nil {
		return "", err
	}
	var path, prefix string
	switch t.Scheme.Spec().Arg {
	case "", schemes.JobStoreFile:
		path = filepath.Join(t.Run.JobDir(id), schemes.JobTokenFile)
	case schemes.JobStoreCombined:
		path, prefix = t.Run.Service(schemes.JobTokensFile), id.String()+" "
	case schemes.JobStoreStatus:
		path, prefix = t.Run.JobStatusPath(id), schemes.JobTokenStatusKey
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("job token: %w", err)
	}
	if prefix == "" {
		return strings.TrimSpace(string(b)), nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if tok, ok := strings.CutPrefix(line, prefix); ok {
			return strings.TrimSpace(tok), nil
		}
	}
	return "", fmt.Errorf("job token: no %q line in %s", prefix, path)
}

// TokenFrames puts a token on the wire as the scheme's client does: jwt as
// the last frame beside the body, jwe sealed with the body in an envelope
// (the attacker holds the envelope key: .service/jwe.key for dir, the WFS's
// public key for ECDH-ES).
func (t *Target) TokenFrames(tok string, body []byte) ([][]byte, error) {
	if !isJWE(t.Scheme) {
		return [][]byte{body, []byte(tok)}, nil
	}
	payload, err := json.Marshal(schemes.JWEPayload{Tok: tok, Req: body})
	if err != nil {
		return nil, fmt.Errorf("envelope payload: %w", err)
	}
	env, err := t.Seal(payload, nil)
	if err != nil {
		return nil, err
	}
	return [][]byte{{}, []byte(env)}, nil
}

// Seal encrypts payload to the scheme's envelope key as a client does, with
// encrypter options (compression, say).
func (t *Target) Seal(payload []byte, opts *jose.EncrypterOptions) (string, error) {
	alg := jose.KeyAlgorithm(t.Scheme.Spec().Alg)
	var key any
	switch alg {
	case jose.DIRECT:
		b, err := t.readService(schemes.JWEKeyFile)
		if err != nil {
			return "", err
		}
		key = b
	case jose.ECDH_ES:
		pub, err := t.publicKey(schemes.JWEPublicKeyFile)
		if err != nil {
			return "", err
		}
		key = pub
	default:
		return "", fmt.Errorf("envelope: unknown algorithm %q", alg)
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", fmt.Errorf("envelope: %w", err)
	}
	obj, err := enc.Encrypt(payload)
	if err != nil {
		return "", fmt.Errorf("envelope: %w", err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("envelope: %w", err)
	}
	return s, nil
}

// publicKey parses a PKIX PEM public key in .service.
func (t *Target) publicKey(name string) (any, error) {
	b, err := t.readService(name)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf(".service/%s: no PEM block", name)
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf(".service/%s: %w", name, err)
	}
	return k, nil
}

// tokenAlg is the algorithm the scheme's tokens are signed with: the jwt
// credential's, or HS256 for the token inside a jwe envelope.
func tokenAlg(sc *schemes.Scheme) string {
	if isJWE(sc) {
		return "HS256"
	}
	return sc.Spec().Alg
}

// realKey returns the key the WFS signs its tokens with: from .service/jwt.key
// (as an attacker who can read it holds it) or, for a jwe scheme's inner
// token, whose key never leaves the WFS's memory, through the schemes hook.
func (t *Target) realKey() (string, any, error) {
	alg := tokenAlg(t.Scheme)
	if isJWE(t.Scheme) {
		k, err := schemes.ConformanceHMACKey(t.Guard)
		return alg, k, err
	}
	b, err := t.readService(schemes.JWTKeyFile)
	if err != nil {
		return "", nil, err
	}
	if alg == "HS256" {
		return alg, b, nil
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", nil, fmt.Errorf(".service/%s: no PEM block", schemes.JWTKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return "", nil, fmt.Errorf(".service/%s: %w", schemes.JWTKeyFile, err)
	}
	return alg, k, nil
}

// freshKey makes a key of alg that the WFS has never seen.
func freshKey(alg string) (any, error) {
	switch alg {
	case "HS256":
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("random key: %w", err)
		}
		return k, nil
	case "ES256":
		k, err := ecdsaP256()
		if err != nil {
			return nil, err
		}
		return k, nil
	case "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("ed25519 key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("no key for %q", alg)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// signJWS signs header and payload bytes as they are (duplicate names and
// unknown headers included) with alg: HS256/HS384 (key []byte), ES256
// (*ecdsa.PrivateKey), EdDSA (ed25519.PrivateKey), or none (no signature).
func signJWS(alg string, key any, header, payload []byte) (string, error) {
	input := b64(header) + "." + b64(payload)
	var sig []byte
	switch strings.ToLower(alg) {
	case "none":
	case "hs256":
		k, ok := key.([]byte)
		if !ok {
			return "", fmt.Errorf("HS256 key is %T", key)
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "es256":
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return "", fmt.Errorf("ES256 key is %T", key)
		}
		h := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			return "", fmt.Errorf("ES256 sign: %w", err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case "eddsa":
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return "", fmt.Errorf("EdDSA key is %T", key)
		}
		var err error
		if sig, err = k.Sign(rand.Reader, []byte(input), crypto.Hash(0)); err != nil {
			return "", fmt.Errorf("EdDSA sign: %w", err)
		}
	default:
		return "", fmt.Errorf("cannot sign with %q", alg)
	}
	return input + "." + b64(sig), nil
}

// header renders a JWS header: alg, typ JWT and extra entries.
func header(alg string, extra map[string]any) []byte {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	for k, v := range extra {
		h[k] = v
	}
	b, _ := json.Marshal(h)
	return b
}

// Claims are a token's claims as a JSON object, numbers kept exact.
type Claims map[string]any

// decodeToken splits a compact JWS into its header, claims and signature.
func decodeToken(tok string) ([]byte, Claims, string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, "", errors.New("not a compact JWS")
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, nil, "", fmt.Errorf("token header: %w", err)
	}
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, "", fmt.Errorf("token payload: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var c Claims
	if err := dec.Decode(&c); err != nil {
		return nil, nil, "", fmt.Errorf("token payload: %w", err)
	}
	return h, c, parts[2], nil
}

// resign decodes a genuine token, lets change edit its claims, and signs
// the result with the WFS's real key: the token differs from a genuine one
// only by the edit, so the case tests that one claim check. The jti stays,
// so a policy that tracks its tokens still knows it.
func (t *Target) resign(tok string, change func(c Claims)) (string, error) {
	_, c, _, err := decodeToken(tok)
	if err != nil {
		return "", err
	}
	change(c)
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("claims: %w", err)
	}
	alg, key, err := t.realKey()
	if err != nil {
		return "", err
	}
	return signJWS(alg, key, header(alg, nil), payload)
}

// malleate flips an unused padding bit of the token's last base64url
// character: a lenient decoder reads the same signature from the twin.
func malleate(tok string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, tok[len(tok)-1])
	if i < 0 {
		return tok
	}
	return tok[:len(tok)-1] + string(alphabet[i^1])
}

// Curve key material, read as an attacker with file access reads it.

func (t *Target) serverKey() (wfs.CurveKey, error) {
	pub, _ := wfs.KeyPaths(t.Run.ServiceDir(), schemes.CurveServerKey)
	c, err := wfs.ReadCertificate(t.Run.Files, pub)
	if err != nil {
		return wfs.CurveKey{}, err
	}
	return c.Public, nil
}

func (t *Target) hostPair() (wfs.KeyPair, error) {
	_, sec := wfs.KeyPaths(t.Run.ServiceDir(), schemes.CurveClientKey)
	c, err := wfs.ReadCertificate(t.Run.Files, sec)
	if err != nil {
		return wfs.KeyPair{}, err
	}
	return c.Pair()
}

// rawCurve makes a socket a CURVE client with exactly these keys, passing
// no check on the way (libzmq takes any 32 bytes).
func rawCurve(server wfs.CurveKey, pair wfs.KeyPair) func(*zmq.Socket) error {
	return func(s *zmq.Socket) error {
		for _, err := range []error{
			s.SetCurveServerkey(server.Bytes()),
			s.SetCurvePublickey(pair.Public.Bytes()),
			s.SetCurveSecretkey(pair.Secret.Bytes()),
		} {
			if err != nil {
				return fmt.Errorf("curve keys: %w", err)
			}
		}
		return nil
	}
}

// offCurvePoint returns P-256 coordinates that are not on the curve.
func offCurvePoint() (x, y []byte) {
	x = make([]byte, 32)
	y = make([]byte, 32)
	new(big.Int).SetInt64(1).FillBytes(x)
	new(big.Int).SetInt64(1).FillBytes(y)
	return x, y
}

func ecdsaP256() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("P-256 key: %w", err)
	}
	return k, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
