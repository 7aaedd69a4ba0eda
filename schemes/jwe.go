package schemes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/wfs"
)

// Key files of the jwe credential in .service/ (0600). For dir, JWEKeyFile
// holds the raw 32-byte workflow key that clients read to encrypt; for
// ECDH-ES, JWEPublicKeyFile holds the WFS's P-256 public key (PKIX PEM) and
// the private key never leaves the WFS's memory, so clients hold no shared
// secret.
const (
	JWEKeyFile       = "jwe.key"
	JWEPublicKeyFile = "jwe.pub"
)

// JWEPayload is the plaintext of a jwe request envelope.
type JWEPayload struct {
	// Tok is the WFS-minted token (a compact JWS, HS256 with a key only the
	// WFS holds: encryption alone authenticates no one, since with ECDH-ES
	// anyone holding the public key can encrypt).
	Tok string `json:"tok"`
	// Req is the request body.
	Req json.RawMessage `json:"req"`
}

// jwePart is the jwe credential: each request travels as one compact JWE
// (alg dir with the 32-byte workflow key, or ECDH-ES to the WFS's P-256
// key; enc A256GCM) whose payload carries the token and the request body, so
// an eavesdropper reads neither. Frame 0 goes empty and the WFS restores the
// body from the decrypted payload.
//
// Wire: ["", JWE{tok, req}]. A "token" request of the command and shared
// policies goes in clear as [body]: it carries nothing secret and its reply
// holds only a file name. Replies are not encrypted.
type jwePart struct {
	alg string
	pol policyConf
}

func jweInfo() PartInfo {
	return PartInfo{
		Name: "jwe", Kind: Credential,
		Doc:      "encrypted JWE (compact, dir+A256GCM workflow key or ECDH-ES+A256GCM to the WFS key) carrying the token and the request body",
		Algs:     []string{"dir", "ECDH-ES"},
		Policies: tokenPolicies(),
		Examples: []string{"jwe", "jwe:command", "jwe:shared=10s", "jwe:timed=60s/6s", "jwe/ECDH-ES:job=file"},
		New: func(sp Spec) (Part, error) {
			pol, err := parsePolicy(sp)
			if err != nil {
				return nil, err
			}
			alg := sp.Alg
			if alg == "" {
				alg = "dir"
			}
			return &jwePart{alg: alg, pol: pol}, nil
		},
	}
}

// Claims are the policy's token claims plus request confidentiality. JWE
// seals requests only: its replies travel in clear (SealReply is a no-op),
// so it does not declare RepliesConfidential.
func (p *jwePart) Claims() Claims {
	c := policyClaims(p.pol)
	c.Confidential = true
	return c
}

// envelope encrypts and decrypts request envelopes with one algorithm.
type envelope struct {
	alg     jose.KeyAlgorithm
	enc     jose.Encrypter // client side
	decrypt any            // server side: []byte or *ecdsa.PrivateKey
}

func (e *envelope) seal(p *JWEPayload) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("jwe payload: %w", err)
	}
	obj, err := e.enc.Encrypt(b)
	if err != nil {
		return "", fmt.Errorf("jwe encrypt: %w", err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("jwe serialise: %w", err)
	}
	return s, nil
}

// open decrypts a compact JWE with the one allowed alg and enc A256GCM.
func (e *envelope) open(s string) (*JWEPayload, error) {
	if len(s) == 0 || len(s) > maxTokenLen+wfs.DefaultMaxMsgSize {
		return nil, wfs.Rejectf("jwe: empty or oversized envelope")
	}
	if s[0] == '{' || strings.Count(s, ".") != 4 {
		return nil, wfs.Rejectf("jwe: not a compact JWE")
	}
	segs, err := strictCompact("jwe", s)
	if err != nil {
		return nil, err
	}
	// RFC 7516 §5.2 step 10: with alg dir the encrypted-key segment is
	// empty; go-jose ignores whatever it holds.
	if e.alg == jose.DIRECT && len(segs[1]) != 0 {
		return nil, wfs.Rejectf("jwe: alg dir with a non-empty encrypted key")
	}
	// Refuse compressed payloads before decrypting: nothing authbench sends
	// is compressed, and inflating is work an attacker chooses the size of.
	var h map[string]json.RawMessage
	if err := json.Unmarshal(segs[0], &h); err != nil {
		return nil, wfs.Rejectf("jwe: header: %v", err)
	}
	if _, zip := h["zip"]; zip {
		return nil, wfs.Rejectf("jwe: compressed payloads are refused")
	}
	if err := checkCrit("jwe", h); err != nil {
		return nil, err
	}
	obj, err := jose.ParseEncryptedCompact(s, []jose.KeyAlgorithm{e.alg}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, wfs.Rejectf("jwe: %v", err)
	}
	b, err := obj.Decrypt(e.decrypt)
	if err != nil {
		return nil, wfs.Rejectf("jwe: %v", err)
	}
	var p JWEPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, wfs.Rejectf("jwe payload: %v", err)
	}
	if p.Tok == "" || len(p.Req) == 0 {
		return nil, wfs.Rejectf("jwe payload: want tok and req")
	}
	return &p, nil
}

type jweServer struct {
	*tokenServer
	env *envelope
}

// Server makes the inner token's HS256 key (memory only), the envelope key
// (dir: written to .service/jwe.key for clients; ECDH-ES: the public half
// to .service/jwe.pub) and provisions the policy.
func (p *jwePart) Server(_ context.Context, env Env) (ServerPart, error) {
	kit, _, _, err := newSigningKit("HS256")
	if err != nil {
		return nil, fmt.Errorf("jwe: %w", err)
	}
	ev := &envelope{alg: jose.KeyAlgorithm(p.alg)}
	var keyPath string
	switch ev.alg {
	case jose.DIRECT:
		k := make([]byte, 32)
		if env.KeysDir != "" {
			path := filepath.Join(env.KeysDir, KeyFileName("jwe", "dir"))
			if k, err = os.ReadFile(path); err != nil {
				return nil, fmt.Errorf("jwe: -keys: %w", err)
			}
			if len(k) != 32 {
				return nil, fmt.Errorf("jwe: -keys: %s: %d bytes, want 32 for A256GCM", path, len(k))
			}
		} else if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("jwe: key: %w", err)
		}
		ev.decrypt = k
		keyPath = env.Run.Service(JWEKeyFile)
		if err := env.Run.Files.WriteFile(keyPath, k, 0o600); err != nil {
			return nil, fmt.Errorf("jwe: %w", err)
		}
	case jose.ECDH_ES:
		var k *ecdsa.PrivateKey
		if env.KeysDir != "" {
			path := filepath.Join(env.KeysDir, KeyFileName("jwe", "ECDH-ES"))
			key, err := loadPrivatePEM(path)
			if err != nil {
				return nil, fmt.Errorf("jwe: -keys: %w", err)
			}
			ek, ok := key.(*ecdsa.PrivateKey)
			if !ok || ek.Curve != elliptic.P256() {
				return nil, fmt.Errorf("jwe: -keys: %s: want a P-256 key for ECDH-ES", path)
			}
			k = ek
		} else if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("jwe: key: %w", err)
		}
		ev.decrypt = k
		_, pub, err := pemPair(k, &k.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("jwe: %w", err)
		}
		keyPath = env.Run.Service(JWEPublicKeyFile)
		if err := env.Run.Files.WriteFile(keyPath, pub, 0o600); err != nil {
			return nil, fmt.Errorf("jwe: %w", err)
		}
	default:
		return nil, fmt.Errorf("jwe: unsupported algorithm %q", p.alg)
	}
	ts, err := newTokenServer(env, p.pol, kit, []string{keyPath})
	if err != nil {
		return nil, fmt.Errorf("jwe:%s: %w", p.pol, err)
	}
	return &jweServer{tokenServer: ts, env: ev}, nil
}

// Verify decrypts the envelope in the last frame, verifies the token in it
// and restores the request body as the only frame.
func (s *jweServer) Verify(_ context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	n := len(in.Frames)
	if n == 0 {
		return wfs.Principal{}, &wfs.Error{Kind: wfs.KindProtocol, Msg: "empty request"}
	}
	if n < 2 {
		return s.noCredential(in.Frames[0])
	}
	if n != 2 || len(in.Frames[0]) != 0 {
		return wfs.Principal{}, wfs.Rejectf("jwe: want an empty frame then the envelope (a readable body beside a JWE is refused)")
	}
	p, err := s.env.open(string(in.Frames[1]))
	if err != nil {
		return wfs.Principal{}, err
	}
	who, err := s.accept(p.Tok)
	if err != nil {
		return wfs.Principal{}, err
	}
	in.Frames = [][]byte{p.Req}
	return who, nil
}

type jweClient struct {
	*tokenClient
	env *envelope
}

// Client reads the envelope key (dir: the workflow key; ECDH-ES: the WFS's
// public key) and loads the policy's client side.
func (p *jwePart) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	tc, err := newTokenClient(env, p.pol)
	if err != nil {
		return nil, fmt.Errorf("jwe: %w", err)
	}
	ev, err := clientEnvelope(env.Run, jose.KeyAlgorithm(p.alg))
	if err != nil {
		return nil, fmt.Errorf("jwe: %w", err)
	}
	return &jweClient{tokenClient: tc, env: ev}, nil
}

func clientEnvelope(run *wfs.RunDir, alg jose.KeyAlgorithm) (*envelope, error) {
	var key any
	switch alg {
	case jose.DIRECT:
		b, err := run.Files.ReadFile(run.Service(JWEKeyFile))
		if err != nil {
			return nil, err
		}
		if len(b) != 32 {
			return nil, fmt.Errorf("%s holds %d bytes, want 32", JWEKeyFile, len(b))
		}
		key = b
	case jose.ECDH_ES:
		b, err := run.Files.ReadFile(run.Service(JWEPublicKeyFile))
		if err != nil {
			return nil, err
		}
		k, err := parsePublicPEM(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", JWEPublicKeyFile, err)
		}
		pk, ok := k.(*ecdsa.PublicKey)
		if !ok || pk.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s: not a P-256 key", JWEPublicKeyFile)
		}
		key = pk
	default:
		return nil, fmt.Errorf("unsupported algorithm %q", alg)
	}
	return newEncryptingEnvelope(alg, key)
}

func newEncryptingEnvelope(alg jose.KeyAlgorithm, key any) (*envelope, error) {
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key}, nil)
	if err != nil {
		return nil, fmt.Errorf("%s encrypter: %w", alg, err)
	}
	return &envelope{alg: alg, enc: enc}, nil
}

// Wrap seals the token and the body into one JWE; frame 0 goes empty.
func (c *jweClient) Wrap(frames [][]byte) ([][]byte, error) {
	tok, err := c.token()
	if err != nil {
		return nil, fmt.Errorf("jwe: %w", err)
	}
	if len(frames) != 1 {
		return nil, errors.New("jwe: want exactly the request body to wrap")
	}
	if !json.Valid(frames[0]) {
		return nil, errors.New("jwe: request body is not JSON")
	}
	env, err := c.env.seal(&JWEPayload{Tok: tok, Req: frames[0]})
	if err != nil {
		return nil, err
	}
	return [][]byte{{}, []byte(env)}, nil
}
