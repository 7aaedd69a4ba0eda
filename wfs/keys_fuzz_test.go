package wfs

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseCertificate checks the key-file parser: no panic; a parsed
// certificate has a nonzero public key and, when it has a secret key, the
// secret's public key; and it renders (MarshalCertificate) and parses back
// to the same keys and metadata.
func FuzzParseCertificate(f *testing.F) {
	kp := KeyPair{}
	for i := range kp.Secret {
		kp.Secret[i] = byte(i + 1)
	}
	pub, err := PublicFromSecret(kp.Secret)
	if err != nil {
		f.Fatal(err)
	}
	kp.Public = pub
	secret := kp.Secret
	cert := &Certificate{Public: kp.Public, Secret: &secret, Metadata: map[string]string{"name": "client", "target": "hpc1"}}
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Add(string(MarshalCertificate(cert, true, at)))
	f.Add(string(MarshalCertificate(cert, false, at)))
	f.Add("curve\n    public-key = '" + kp.Public.Z85() + "'\n")
	f.Add("metadata\n    a = \"x\"\n    a = \"y\"\ncurve\n    public-key = \"" + kp.Public.Z85() + "\"\n")
	f.Add("curve\n    public-key = \"" + strings.Repeat("0", CurveKeyZ85Size) + "\"\n")
	f.Add("curve\n    secret-key = \"" + kp.Secret.Z85() + "\"\n")
	f.Add("    public-key = x\n")
	f.Add("metadata\n\tk = 'v\"\n")
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseCertificate("key", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "key:") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		if c.Public.IsZero() {
			t.Fatalf("ParseCertificate(%q): zero public key", data)
		}
		if c.Secret != nil {
			p, err := PublicFromSecret(*c.Secret)
			if err != nil || p != c.Public {
				t.Fatalf("ParseCertificate(%q): secret key does not match the public key", data)
			}
		}
		back, err := ParseCertificate("again", MarshalCertificate(c, c.Secret != nil, at))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", data, err)
		}
		if back.Public != c.Public || (back.Secret == nil) != (c.Secret == nil) || (c.Secret != nil && *back.Secret != *c.Secret) {
			t.Fatalf("round trip of %q changed the keys", data)
		}
		for k, v := range c.Metadata {
			// MarshalCertificate quotes values Go's way (%q), and ZPL has no
			// escapes: only values %q leaves alone survive unchanged.
			if strconv.Quote(v) == `"`+v+`"` && back.Metadata[k] != v {
				t.Fatalf("round trip of %q: metadata %s = %q, want %q", data, k, back.Metadata[k], v)
			}
		}
	})
}
