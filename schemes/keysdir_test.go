package schemes_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// TestKeysDir: with Env.KeysDir a jwt WFS verifies with the key given,
// so a token signed outside authbench with that key (a third-party vector,
// a long-lived test key) is accepted over the wire, and one signed with
// another key is not; a key of the wrong kind is one clear error.
func TestKeysDir(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	if err := os.WriteFile(filepath.Join(dir, schemes.KeyFileName("jwt", "ES256")), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := schemes.Builtin().Parse("jwt/ES256")
	if err != nil {
		t.Fatal(err)
	}
	run, err := wfs.NewRunDir(filepath.Join(t.TempDir(), "run"), wfs.NewFiles(false))
	if err != nil {
		t.Fatal(err)
	}
	w, err := schemes.StartWFS(context.Background(), schemes.WFSConfig{Scheme: sc,
		Env:    schemes.Env{Run: run, Workflow: "wf", KeysDir: dir},
		Server: wfs.ServerConfig{Listen: "tcp://127.0.0.1:*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer zctx.Term()
	c := tkClaims(time.Now())
	good := tkForge(t, jose.ES256, key, c, nil)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := tkForge(t, jose.ES256, other, c, nil)
	send := func(tok string) error {
		zc := wfs.NewClient(zctx, w.Server.Endpoint(), wfs.ClientConfig{Timeout: 2 * time.Second})
		defer zc.Close()
		body, _ := wfs.EncodeRequest(wfs.CmdPing, nil, wfs.Meta{Prog: "test"})
		rep, err := zc.Call(context.Background(), body, []byte(tok))
		if err != nil {
			return err
		}
		_, err = wfs.DecodeReply(rep)
		return err
	}
	tkOK(t, "a token signed outside with the given key", send(good))
	tkRejected(t, "a token signed with another key", send(bad))

	// The wrong kind of key: an EdDSA scheme given a P-256 key.
	if err := os.WriteFile(filepath.Join(dir, schemes.KeyFileName("jwt", "EdDSA")), pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	ed, _ := schemes.Builtin().Parse("jwt/EdDSA")
	_, err = ed.Server(context.Background(), schemes.Env{Run: run, Workflow: "wf", KeysDir: dir})
	if err == nil || !strings.Contains(err.Error(), "-keys") || !strings.Contains(err.Error(), "Ed25519") {
		t.Fatalf("EdDSA with a P-256 key: %v", err)
	}
	// A missing key file names it.
	hs, _ := schemes.Builtin().Parse("jwt")
	_, err = hs.Server(context.Background(), schemes.Env{Run: run, Workflow: "wf", KeysDir: dir})
	if err == nil || !strings.Contains(err.Error(), "jwt-HS256.key") {
		t.Fatalf("missing HS256 key: %v", err)
	}
}
