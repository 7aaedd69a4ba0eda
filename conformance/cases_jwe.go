package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// The five parts of a compact JWE.
const (
	jweHeader = iota
	jweKey
	jweIV
	jweCiphertext
	jweTag
)

func isECDHES(sc *schemes.Scheme) bool { return isJWE(sc) && sc.Spec().Alg == "ECDH-ES" }

func jweCases() []Case {
	return []Case{
		tamperCase("jwe/tampered-tag", jweTag, "authentication tag"),
		tamperCase("jwe/tampered-iv", jweIV, "initialisation vector"),
		tamperCase("jwe/tampered-ciphertext", jweCiphertext, "ciphertext"),
		envelopeCase("jwe/dir-encrypted-key", "authn", func(sc *schemes.Scheme) bool { return isJWE(sc) && !isECDHES(sc) },
			"a genuine dir envelope with bytes in its encrypted-key segment (RFC 7516 section 5.2 step 10: it must be empty)",
			func(parts []string) (string, error) {
				if parts[1] != "" {
					return "", fmt.Errorf("want a dir JWE with an empty encrypted key")
				}
				parts[1] = b64([]byte("authbench-conform"))
				return "dir envelope with an encrypted key", nil
			}),
		{
			ID: "jwe/zip-bomb", Claim: "authn", Applies: isJWE,
			Title: `a valid envelope (genuine token, real key) with "zip":"DEF" inflating to 16 MiB`,
			Run: func(ctx context.Context, e *Env) Result {
				return envelopeAttack(ctx, e, "zip bomb", func(t *Target, body []byte) (string, error) {
					tok, err := t.StealToken(ctx, CLI())
					if err != nil {
						return "", err
					}
					payload, err := json.Marshal(schemes.JWEPayload{Tok: tok, Req: body})
					if err != nil {
						return "", fmt.Errorf("payload: %w", err)
					}
					// Trailing white space keeps the payload valid JSON.
					bomb := append(payload, strings.Repeat(" ", 16<<20)...)
					return t.Seal(bomb, &jose.EncrypterOptions{Compression: jose.DEFLATE})
				})
			},
		},
		{
			ID: "jwe/pbes2-p2c", Claim: "authn", Applies: isJWE,
			Title: "an envelope with alg PBES2-HS512+A256KW and p2c 2^31-1 (a password-hashing DoS): refused at once",
			Run: func(ctx context.Context, e *Env) Result {
				return envelopeAttack(ctx, e, "PBES2 with a huge p2c", func(*Target, []byte) (string, error) {
					h, err := json.Marshal(map[string]any{"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": b64(randomBytes(16)), "p2c": 1<<31 - 1})
					if err != nil {
						return "", err
					}
					return strings.Join([]string{b64(h), b64(randomBytes(40)), b64(randomBytes(12)), b64(randomBytes(64)), b64(randomBytes(16))}, "."), nil
				})
			},
		},
		{
			ID: "jwe/ecdh-off-curve", Claim: "confidential", Applies: isECDHES,
			Title: "an ECDH-ES envelope whose epk is not a point of P-256 (an invalid-curve key-recovery probe)",
			Run: func(ctx context.Context, e *Env) Result {
				return envelopeAttack(ctx, e, "off-curve epk", func(*Target, []byte) (string, error) {
					x, y := offCurvePoint()
					h, err := json.Marshal(map[string]any{"alg": "ECDH-ES", "enc": "A256GCM", "epk": map[string]string{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}})
					if err != nil {
						return "", err
					}
					return strings.Join([]string{b64(h), "", b64(randomBytes(12)), b64(randomBytes(64)), b64(randomBytes(16))}, "."), nil
				})
			},
		},
	}
}

// envelopeAttack sends an envelope made by build (for a stop request) as the
// request's envelope frame, over a valid transport: it must be rejected
// with a reply, promptly.
func envelopeAttack(ctx context.Context, e *Env, what string, build func(t *Target, body []byte) (string, error)) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	body, err := Body(wfs.CmdStop, nil)
	if err != nil {
		return broken("body", err)
	}
	env, err := build(t, body)
	if err != nil {
		return broken(what, err)
	}
	configure, done, err := t.transport(CLI())
	if err != nil {
		return broken("client", err)
	}
	defer done()
	data, err := t.Send(ctx, configure, []byte{}, []byte(env))
	return expectRejectedReply(fmt.Sprintf("%s (%d-byte envelope)", what, len(env)), data, err)
}

// tamperCase flips one bit of one part of a genuine client's envelope.
func tamperCase(id string, part int, name string) Case {
	return envelopeCase(id, "confidential", isJWE, "a genuine client's envelope with one bit of its "+name+" flipped",
		func(parts []string) (string, error) {
			raw, err := base64.RawURLEncoding.DecodeString(parts[part])
			if err != nil || len(raw) == 0 {
				return "", fmt.Errorf("part %d: %v", part, err)
			}
			raw[len(raw)/2] ^= 0x01
			parts[part] = b64(raw)
			return "envelope with a flipped " + name + " bit", nil
		})
}

// envelopeCase sends a genuine client's envelope (a compact JWE, its
// five parts) after edit changed it; edit names what it sent. The WFS
// must refuse it.
func envelopeCase(id, claim string, applies func(*schemes.Scheme) bool, title string, edit func(parts []string) (string, error)) Case {
	return Case{
		ID: id, Claim: claim, Applies: applies, Title: title,
		Run: func(ctx context.Context, e *Env) Result {
			t, err := e.Start(TargetConfig{})
			if err != nil {
				return broken("start", err)
			}
			p, err := t.Prepare(ctx, CLI(), wfs.CmdStop, nil)
			if err != nil {
				return broken("genuine client", err)
			}
			defer p.Close()
			if len(p.Frames) != 2 {
				return broken("envelope", fmt.Errorf("genuine request has %d frames, want 2", len(p.Frames)))
			}
			parts := strings.Split(string(p.Frames[1]), ".")
			if len(parts) != 5 {
				return broken("envelope", fmt.Errorf("%d parts, want 5", len(parts)))
			}
			what, err := edit(parts)
			if err != nil {
				return broken("envelope", err)
			}
			data, err := t.Send(ctx, p.Client.Configure, p.Frames[0], []byte(strings.Join(parts, ".")))
			return expectRejectedReply(what, data, err)
		},
	}
}
