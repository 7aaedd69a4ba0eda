package wfs

import (
	"bufio"
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// CurveKeySize is the size of a CurveZMQ (Curve25519) key in bytes.
const CurveKeySize = 32

// CurveKeyZ85Size is the length of a CurveZMQ key in Z85 text.
const CurveKeyZ85Size = 40

// Key-file suffixes, as pyzmq's zmq.auth and czmq name them.
const (
	PublicKeySuffix = ".key"
	SecretKeySuffix = ".key_secret"
)

// CurveKey is a Curve25519 key, public or secret.
type CurveKey [CurveKeySize]byte

// Z85 returns the key in Z85 text (40 characters).
func (k CurveKey) Z85() string { return Z85Encode(k[:]) }

// Bytes returns the key's 32 bytes as a string, the form libzmq's
// ZMQ_CURVE_*KEY socket options take.
func (k CurveKey) Bytes() string { return string(k[:]) }

// IsZero reports whether every byte of the key is zero.
func (k CurveKey) IsZero() bool {
	var z CurveKey
	return subtle.ConstantTimeCompare(k[:], z[:]) == 1
}

// ParseCurveKey decodes a key from Z85 text. It is strict: exactly 40 Z85
// characters that decode to 32 bytes. pebbe/zmq4's ClientAuthCurve ignores
// a bad key, so every key authbench hands libzmq passes through here.
func ParseCurveKey(s string) (CurveKey, error) {
	var k CurveKey
	if len(s) != CurveKeyZ85Size {
		return k, fmt.Errorf("curve key: %d characters, want %d Z85 characters", len(s), CurveKeyZ85Size)
	}
	b, err := Z85Decode(s)
	if err != nil {
		return k, fmt.Errorf("curve key: %w", err)
	}
	copy(k[:], b)
	return k, nil
}

// KeyPair is a CurveZMQ keypair.
type KeyPair struct {
	Public CurveKey
	Secret CurveKey
}

// GenerateKeyPair makes a Curve25519 keypair in Go (crypto/ecdh with
// crypto/rand). It never calls zmq_curve_keypair, so it is safe beside live
// ZMQ contexts (libzmq issue 4241).
func GenerateKeyPair() (KeyPair, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("curve keypair: %w", err)
	}
	var kp KeyPair
	copy(kp.Secret[:], priv.Bytes())
	copy(kp.Public[:], priv.PublicKey().Bytes())
	return kp, nil
}

// PublicFromSecret derives the public key of a secret key.
func PublicFromSecret(secret CurveKey) (CurveKey, error) {
	priv, err := ecdh.X25519().NewPrivateKey(secret[:])
	if err != nil {
		return CurveKey{}, fmt.Errorf("curve secret key: %w", err)
	}
	var pub CurveKey
	copy(pub[:], priv.PublicKey().Bytes())
	return pub, nil
}

// Certificate is the content of a ZeroMQ certificate (key) file: a public
// key, the secret key in a secret file, and metadata.
type Certificate struct {
	Public CurveKey
	// Secret is nil in a public certificate.
	Secret *CurveKey
	// Metadata are the entries of the "metadata" section.
	Metadata map[string]string
}

// Pair returns the certificate's keypair; it fails for a public certificate.
func (c *Certificate) Pair() (KeyPair, error) {
	if c.Secret == nil {
		return KeyPair{}, errors.New("certificate has no secret key")
	}
	return KeyPair{Public: c.Public, Secret: *c.Secret}, nil
}

const publicBanner = `#   ****  Generated on %s by authbench  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

`

const secretBanner = `#   ****  Generated on %s by authbench  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

`

// MarshalCertificate renders c in the certificate format of pyzmq's
// zmq.auth and czmq. With secret false (or no secret key) it renders the
// public certificate.
func MarshalCertificate(c *Certificate, secret bool, now time.Time) []byte {
	var b bytes.Buffer
	stamp := now.Format("2006-01-02 15:04:05.000000")
	if secret && c.Secret != nil {
		fmt.Fprintf(&b, secretBanner, stamp)
	} else {
		fmt.Fprintf(&b, publicBanner, stamp)
	}
	b.WriteString("metadata\n")
	keys := make([]string, 0, len(c.Metadata))
	for k := range c.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "    %s = %q\n", k, c.Metadata[k])
	}
	b.WriteString("curve\n")
	fmt.Fprintf(&b, "    public-key = \"%s\"\n", c.Public.Z85())
	if secret && c.Secret != nil {
		fmt.Fprintf(&b, "    secret-key = \"%s\"\n", c.Secret.Z85())
	}
	return b.Bytes()
}

// ParseCertificate parses a certificate file in the ZPL subset pyzmq and
// czmq write: comment and blank lines, top-level section names ("metadata",
// "curve"), and indented `name = value` entries (value quoted or bare).
// It requires a public key, checks a secret key against it, and reports
// errors as name:line: message.
func ParseCertificate(name string, data []byte) (*Certificate, error) {
	c := &Certificate{Metadata: map[string]string{}}
	var (
		section   string
		havePub   bool
		secret    CurveKey
		haveSec   bool
		pubLine   int
		secLine   int
		seenNames = map[string]int{}
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	line := 0
	for sc.Scan() {
		line++
		raw := strings.TrimRight(sc.Text(), "\r")
		t := strings.TrimSpace(raw)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		indented := raw[0] == ' ' || raw[0] == '\t'
		if !indented {
			if strings.Contains(t, "=") {
				return nil, fmt.Errorf("%s:%d: entry %q outside a section (want it indented under \"metadata\" or \"curve\")", name, line, trunc(t, 60))
			}
			if t != "metadata" && t != "curve" {
				return nil, fmt.Errorf("%s:%d: unknown section %q (want \"metadata\" or \"curve\")", name, line, trunc(t, 60))
			}
			section = t
			continue
		}
		if section == "" {
			return nil, fmt.Errorf("%s:%d: indented entry before any section", name, line)
		}
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: want `name = value`, got %q", name, line, trunc(t, 60))
		}
		v, err := unquoteZPL(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", name, line, k, err)
		}
		full := section + "/" + k
		if prev, dup := seenNames[full]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate %s (first at line %d)", name, line, k, prev)
		}
		seenNames[full] = line
		switch section {
		case "metadata":
			c.Metadata[k] = v
		case "curve":
			switch k {
			case "public-key":
				key, err := ParseCurveKey(v)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: public-key: %w", name, line, err)
				}
				c.Public, havePub, pubLine = key, true, line
			case "secret-key":
				key, err := ParseCurveKey(v)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: secret-key: %w", name, line, err)
				}
				secret, haveSec, secLine = key, true, line
			default:
				return nil, fmt.Errorf("%s:%d: unknown curve entry %q (want public-key or secret-key)", name, line, k)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if !havePub {
		return nil, fmt.Errorf("%s:%d: no public-key in a curve section", name, line)
	}
	if c.Public.IsZero() {
		return nil, fmt.Errorf("%s:%d: public-key is all zeros", name, pubLine)
	}
	if haveSec {
		if secret.IsZero() {
			return nil, fmt.Errorf("%s:%d: secret-key is all zeros", name, secLine)
		}
		pub, err := PublicFromSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, secLine, err)
		}
		if subtle.ConstantTimeCompare(pub[:], c.Public[:]) != 1 {
			return nil, fmt.Errorf("%s:%d: secret-key does not match the public-key at line %d", name, secLine, pubLine)
		}
		c.Secret = &secret
	}
	return c, nil
}

// unquoteZPL strips the single or double quotes around a ZPL value.
func unquoteZPL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	q := v[0]
	if q != '"' && q != '\'' {
		if strings.ContainsAny(v, "\"'") {
			return "", fmt.Errorf("stray quote in value %q", trunc(v, 60))
		}
		return v, nil
	}
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("unterminated quoted value %q", trunc(v, 60))
	}
	return v[1 : len(v)-1], nil
}

// KeyPaths returns dir/name.key and dir/name.key_secret.
func KeyPaths(dir, name string) (public, secret string) {
	base := filepath.Join(dir, name)
	return base + PublicKeySuffix, base + SecretKeySuffix
}

// ReadCertificate reads and parses a certificate file through the counted
// file layer. A certificate holding a secret key must not be open to group
// or others.
func ReadCertificate(files *Files, path string) (*Certificate, error) {
	b, err := files.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	c, err := ParseCertificate(path, b)
	if err != nil {
		return nil, err
	}
	if c.Secret != nil {
		if err := CheckSecret(path); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
	}
	return c, nil
}

// WriteCertificate writes c to path through the counted file layer: the
// secret certificate (secret true) with mode 0600, the public one 0644. Its
// directory is made 0700 if missing; a secret is refused in a directory that
// group or others can read or write. An existing file is replaced by a new
// one, so that a wider mode is never inherited.
func WriteCertificate(files *Files, path string, c *Certificate, secret bool) error {
	dir := filepath.Dir(path)
	if err := files.MkdirAll(dir); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	perm := os.FileMode(0o644)
	if secret {
		if c.Secret == nil {
			return fmt.Errorf("certificate %s: no secret key to write", path)
		}
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
		if p := st.Mode().Perm(); p&0o077 != 0 {
			return fmt.Errorf("certificate %s: directory mode %04o is open to group or others; want 0700", path, p)
		}
		perm = 0o600
	}
	if err := files.Remove(path); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	if err := files.CreateExclusive(path, MarshalCertificate(c, secret, time.Now()), perm); err != nil {
		return fmt.Errorf("certificate: %w", err)
	}
	return nil
}

// WriteKeyPairFiles writes kp as dir/name.key (public, 0644) and
// dir/name.key_secret (0600) and returns the two paths.
func WriteKeyPairFiles(files *Files, dir, name string, kp KeyPair) (public, secret string, err error) {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return "", "", fmt.Errorf("key pair name %q: want a plain file name", name)
	}
	public, secret = KeyPaths(dir, name)
	sk := kp.Secret
	c := &Certificate{Public: kp.Public, Secret: &sk}
	if err := WriteCertificate(files, public, c, false); err != nil {
		return "", "", err
	}
	if err := WriteCertificate(files, secret, c, true); err != nil {
		return "", "", err
	}
	return public, secret, nil
}

// WriteKeyPair makes a fresh keypair and writes it as dir/name.key and
// dir/name.key_secret, as zmq.auth.create_certificates does.
func WriteKeyPair(files *Files, dir, name string) (KeyPair, error) {
	kp, err := GenerateKeyPair()
	if err != nil {
		return KeyPair{}, err
	}
	if _, _, err := WriteKeyPairFiles(files, dir, name, kp); err != nil {
		return KeyPair{}, err
	}
	return kp, nil
}

// WritePublicKey writes a public certificate for pub at path (0644).
func WritePublicKey(files *Files, path string, pub CurveKey) error {
	return WriteCertificate(files, path, &Certificate{Public: pub}, false)
}

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// z85Value returns the Z85 digit value of c, or -1 when c is not Z85.
func z85Value(c byte) int {
	i := strings.IndexByte(z85Alphabet, c)
	if i < 0 {
		return -1
	}
	return i
}

// Z85Encode encodes data (a multiple of 4 bytes) in ZeroMQ's Z85 (RFC 32).
// It panics on other lengths, which are a programming error.
func Z85Encode(data []byte) string {
	if len(data)%4 != 0 {
		panic(fmt.Sprintf("Z85Encode: %d bytes is not a multiple of 4", len(data)))
	}
	out := make([]byte, 0, len(data)/4*5)
	for i := 0; i < len(data); i += 4 {
		v := uint32(data[i])<<24 | uint32(data[i+1])<<16 | uint32(data[i+2])<<8 | uint32(data[i+3])
		var chunk [5]byte
		for j := 4; j >= 0; j-- {
			chunk[j] = z85Alphabet[v%85]
			v /= 85
		}
		out = append(out, chunk[:]...)
	}
	return string(out)
}

// Z85Decode decodes Z85 text (a multiple of 5 characters); it rejects
// characters outside the alphabet and groups that overflow 32 bits.
func Z85Decode(s string) ([]byte, error) {
	if len(s)%5 != 0 {
		return nil, fmt.Errorf("z85: length %d is not a multiple of 5", len(s))
	}
	out := make([]byte, 0, len(s)/5*4)
	for i := 0; i < len(s); i += 5 {
		var v uint64
		for j := 0; j < 5; j++ {
			d := z85Value(s[i+j])
			if d < 0 {
				return nil, fmt.Errorf("z85: character %q at offset %d is not Z85", s[i+j], i+j)
			}
			v = v*85 + uint64(d)
		}
		if v > 0xFFFFFFFF {
			return nil, fmt.Errorf("z85: group %q at offset %d overflows 32 bits", s[i:i+5], i)
		}
		out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return out, nil
}
