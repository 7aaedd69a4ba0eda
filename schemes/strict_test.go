package schemes_test

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/authbench/authbench/wfs"
)

// tkSegments splits a compact token and decodes its segments.
func tkSegments(t *testing.T, tok string) []string {
	t.Helper()
	return strings.Split(tok, ".")
}

// TestStrictTokenParsing: a genuine token's non-canonical spellings, a b64
// header, and a dir JWE with an encrypted key are refused; the genuine
// token then works once.
func TestStrictTokenParsing(t *testing.T) {
	for _, spec := range []string{"jwt:command", "jwt/ES256:command", "jwt/EdDSA:command"} {
		t.Run(spec, func(t *testing.T) {
			h := tkStart(t, spec, nil)
			frames := h.tkPrepare(tkCLI(), wfs.CmdStop, nil)
			body, tok := frames[0], string(frames[len(frames)-1])
			seg := tkSegments(t, tok)
			hdr := map[string]any{}
			raw, _ := base64.RawURLEncoding.DecodeString(seg[0])
			_ = json.Unmarshal(raw, &hdr)
			hdr["b64"] = true
			b64hdr, _ := json.Marshal(hdr)
			for _, bad := range []struct{ name, tok string }{
				{"trailing newline", tok + "\n"},
				{"CRLF inside the signature", seg[0] + "." + seg[1] + "." + seg[2][:4] + "\r\n" + seg[2][4:]},
				{"changed unused bits", tkMalleate(tok)},
				{"padding", tok + "=="},
				{"b64 header without crit", base64.RawURLEncoding.EncodeToString(b64hdr) + "." + seg[1] + "." + seg[2]},
			} {
				_, err := h.tkSend(body, []byte(bad.tok))
				tkRejected(t, bad.name, err)
			}
			_, err := h.tkSend(body, []byte(tok))
			tkOK(t, "the genuine token after its twins", err)
		})
	}
}

// TestES256HighSTwin: the high-S twin of a used ES256 command token
// verifies as a signature but is refused as a replay of its jti (authbench
// does not reject high S: signers do not normalise it).
func TestES256HighSTwin(t *testing.T) {
	h := tkStart(t, "jwt/ES256:command", nil)
	frames := h.tkPrepare(tkCLI(), wfs.CmdStop, nil)
	body, tok := frames[0], string(frames[len(frames)-1])
	seg := tkSegments(t, tok)
	sig, err := base64.RawURLEncoding.DecodeString(seg[2])
	if err != nil || len(sig) != 64 {
		t.Fatalf("signature: %v (%d bytes)", err, len(sig))
	}
	n := elliptic.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	twinS := new(big.Int).Sub(n, s).FillBytes(make([]byte, 32))
	twin := seg[0] + "." + seg[1] + "." + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, sig[:32]...), twinS...))
	_, err = h.tkSend(body, []byte(tok))
	tkOK(t, "the genuine token", err)
	_, err = h.tkSend(body, []byte(twin))
	tkRejected(t, "its high-S twin (same jti)", err)
}

// TestJWEDirEncryptedKey: RFC 7516 §5.2 step 10: a dir JWE whose
// encrypted-key segment is not empty is refused, though go-jose would
// decrypt it.
func TestJWEDirEncryptedKey(t *testing.T) {
	h := tkStart(t, "jwe:command", nil)
	frames := h.tkPrepare(tkCLI(), wfs.CmdStop, nil)
	idx := -1
	for i, f := range frames {
		if strings.Count(string(f), ".") == 4 {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("no compact JWE among the frames")
	}
	seg := strings.Split(string(frames[idx]), ".")
	if seg[1] != "" {
		t.Fatalf("dir JWE with encrypted key %q", seg[1])
	}
	bad := make([][]byte, len(frames))
	copy(bad, frames)
	bad[idx] = []byte(seg[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("extra")) + "." + strings.Join(seg[2:], "."))
	_, err := h.tkSend(bad...)
	tkRejected(t, "dir JWE with an encrypted key", err)
	_, err = h.tkSend(frames...)
	tkOK(t, "the genuine envelope", err)
}
