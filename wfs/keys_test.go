package wfs_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

func TestKeyZ85Vectors(t *testing.T) {
	// RFC 32's test vector.
	in := []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}
	if got := wfs.Z85Encode(in); got != "HelloWorld" {
		t.Fatalf("Z85Encode = %q, want HelloWorld", got)
	}
	out, err := wfs.Z85Decode("HelloWorld")
	if err != nil || !bytes.Equal(out, in) {
		t.Fatalf("Z85Decode = %x, %v", out, err)
	}
	// Agree with libzmq on random keys.
	for i := 0; i < 100; i++ {
		var k wfs.CurveKey
		_, _ = rand.Read(k[:])
		if got, want := k.Z85(), zmq.Z85encode(string(k[:])); got != want {
			t.Fatalf("Z85 %x: got %q, libzmq %q", k, got, want)
		}
		back, err := wfs.ParseCurveKey(k.Z85())
		if err != nil || back != k {
			t.Fatalf("ParseCurveKey round trip: %x %v", back, err)
		}
	}
}

func TestKeyParseCurveKeyRejects(t *testing.T) {
	good := strings.Repeat("0", 40)
	for name, s := range map[string]string{
		"short":    good[:39],
		"long":     good + "0",
		"empty":    "",
		"bad char": good[:39] + "~",
		"space":    good[:39] + " ",
		"overflow": "%%%%%" + good[5:],
	} {
		if _, err := wfs.ParseCurveKey(s); err == nil {
			t.Errorf("%s: ParseCurveKey(%q) accepted", name, s)
		}
	}
}

func TestKeyGenerateMatchesLibzmq(t *testing.T) {
	for i := 0; i < 20; i++ {
		kp, err := wfs.GenerateKeyPair()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := zmq.AuthCurvePublic(kp.Secret.Z85())
		if err != nil {
			t.Fatal(err)
		}
		if pub != kp.Public.Z85() {
			t.Fatalf("public key %s, libzmq derives %s", kp.Public.Z85(), pub)
		}
		if kp.Public.IsZero() || kp.Secret.IsZero() {
			t.Fatal("zero key generated")
		}
	}
}

func TestKeyWriteKeyPair(t *testing.T) {
	files := wfs.NewFiles(true)
	dir := filepath.Join(t.TempDir(), "keys", ".service")
	kp, err := wfs.WriteKeyPair(files, dir, "server")
	if err != nil {
		t.Fatal(err)
	}
	pubPath, secPath := wfs.KeyPaths(dir, "server")
	if filepath.Base(pubPath) != "server.key" || filepath.Base(secPath) != "server.key_secret" {
		t.Fatalf("paths %s %s", pubPath, secPath)
	}
	st := files.Stats()
	if st.Created != 2 || st.Live != 2 || st.Fsyncs != 2 {
		t.Fatalf("file stats %+v, want 2 created, 2 live, 2 fsyncs", st)
	}
	for path, want := range map[string]os.FileMode{pubPath: 0o644, secPath: 0o600, dir: 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s mode %04o, want at most %04o", path, got, want)
		}
	}
	pub, err := wfs.ReadCertificate(files, pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Public != kp.Public || pub.Secret != nil {
		t.Fatalf("public certificate %+v", pub)
	}
	sec, err := wfs.ReadCertificate(files, secPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sec.Pair()
	if err != nil || got != kp {
		t.Fatalf("secret certificate pair %v %v", got, err)
	}
	text, _ := os.ReadFile(secPath)
	for _, want := range []string{"#   ZeroMQ CURVE **Secret** Certificate\n", "\nmetadata\ncurve\n",
		"    public-key = \"" + kp.Public.Z85() + "\"\n", "    secret-key = \"" + kp.Secret.Z85() + "\"\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("secret file lacks %q:\n%s", want, text)
		}
	}
	// Rewriting replaces the files and never inherits a wider mode.
	if err := os.Chmod(secPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := wfs.ReadCertificate(files, secPath); err == nil {
		t.Fatal("a world-readable secret certificate was accepted")
	}
	if _, err := wfs.WriteKeyPair(files, dir, "server"); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(secPath); fi.Mode().Perm() != 0o600 {
		t.Fatalf("rewritten secret mode %04o", fi.Mode().Perm())
	}
	if st := files.Stats(); st.Live != 2 {
		t.Fatalf("live files after rewrite %d, want 2", st.Live)
	}
}

func TestKeyWriteRefusesOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := wfs.WriteKeyPair(wfs.NewFiles(false), dir, "client"); err == nil || !strings.Contains(err.Error(), "0700") {
		t.Fatalf("secret written into a 0755 directory: %v", err)
	}
	if _, err := wfs.WriteKeyPair(wfs.NewFiles(false), t.TempDir(), "../x"); err == nil {
		t.Fatal("a path as key name was accepted")
	}
}

func TestKeyParseCertificateErrors(t *testing.T) {
	kp, err := wfs.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := wfs.GenerateKeyPair()
	pub, sec := kp.Public.Z85(), kp.Secret.Z85()
	cases := []struct {
		name, text, want string
	}{
		{"no public", "metadata\ncurve\n", "f:2: no public-key"},
		{"bad key", "curve\n    public-key = \"abc\"\n", "f:2: public-key: curve key: 3 characters"},
		{"bad z85", "curve\n    public-key = \"" + strings.Repeat("~", 40) + "\"\n", "f:2: public-key: curve key: z85"},
		{"outside", "# c\npublic-key = \"" + pub + "\"\n", "f:2: entry"},
		{"unknown section", "certificate\n", "f:1: unknown section"},
		{"unknown entry", "curve\n    private-key = \"" + sec + "\"\n", "f:2: unknown curve entry"},
		{"unterminated", "curve\n    public-key = \"" + pub + "\n", "f:2: public-key: unterminated"},
		{"duplicate", "curve\n    public-key = \"" + pub + "\"\n    public-key = \"" + pub + "\"\n", "f:3: duplicate public-key (first at line 2)"},
		{"mismatch", "curve\n    public-key = \"" + other.Public.Z85() + "\"\n    secret-key = \"" + sec + "\"\n", "f:3: secret-key does not match"},
		{"zero", "curve\n    public-key = \"" + wfs.CurveKey{}.Z85() + "\"\n", "f:2: public-key is all zeros"},
		{"before section", "    public-key = \"" + pub + "\"\n", "f:1: indented entry before any section"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := wfs.ParseCertificate("f", []byte(c.text))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("got %v, want prefix %q", err, c.want)
			}
		})
	}
	// What pyzmq writes: unquoted metadata, single-quoted keys are read too.
	c, err := wfs.ParseCertificate("f", []byte("#  banner\n\nmetadata\n    owner = me\ncurve\n    public-key = '"+pub+"'\n    secret-key = \""+sec+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Metadata["owner"] != "me" || c.Public != kp.Public || c.Secret == nil || *c.Secret != kp.Secret {
		t.Fatalf("parsed %+v", c)
	}
}

func TestKeyCertificateMetadataRoundTrip(t *testing.T) {
	kp, _ := wfs.GenerateKeyPair()
	c := &wfs.Certificate{Public: kp.Public, Secret: &kp.Secret, Metadata: map[string]string{"target": "hpc1", "job": "1/a/01"}}
	text := wfs.MarshalCertificate(c, true, time.Unix(0, 0))
	back, err := wfs.ParseCertificate("f", text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if back.Metadata["target"] != "hpc1" || back.Metadata["job"] != "1/a/01" || *back.Secret != kp.Secret {
		t.Fatalf("round trip %+v", back)
	}
}

// BenchmarkKeyGenerate measures the cost of one Curve25519 keypair, what
// curve-job pays per job before any file work.
func BenchmarkKeyGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wfs.GenerateKeyPair(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyWriteKeyPair measures a keypair generated and written as two
// certificate files (with and without fsync), then removed.
func BenchmarkKeyWriteKeyPair(b *testing.B) {
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", sync), func(b *testing.B) {
			files := wfs.NewFiles(sync)
			dir := filepath.Join(b.TempDir(), "keys") // made 0700 by the layer
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				name := fmt.Sprintf("k%d", i)
				i++
				if _, err := wfs.WriteKeyPair(files, dir, name); err != nil {
					b.Fatal(err)
				}
				pub, sec := wfs.KeyPaths(dir, name)
				_ = files.Remove(pub)
				_ = files.Remove(sec)
			}
		})
	}
}
