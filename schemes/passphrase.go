package schemes

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"os"

	"github.com/authbench/authbench/wfs"
)

// PassphraseFile is the passphrase's name in .service/.
const PassphraseFile = "passphrase"

// passphrase is Cylc 7's scheme: one random token per workflow, on disk 0600
// in .service/passphrase, sent in clear with every request as a second frame
// and compared in constant time. It authenticates whoever can read the file
// and nothing more: no expiry, no replay protection, no confidentiality.
type passphrase struct{}

func passphraseInfo() PartInfo {
	return PartInfo{
		Name: "passphrase", Kind: Credential,
		Doc:      "Cylc 7: one random 32-byte token per workflow in .service/passphrase (0600), sent in clear",
		Policies: []string{"workflow"},
		Examples: []string{"passphrase"},
		New:      func(Spec) (Part, error) { return passphrase{}, nil },
	}
}

func (passphrase) Claims() Claims {
	return Claims{Authenticates: true, NeedsFS: true}
}

type passphraseServer struct {
	NopServer
	run    *wfs.RunDir
	secret []byte
}

func (passphrase) Server(_ context.Context, env Env) (ServerPart, error) {
	path := env.Run.Service(PassphraseFile)
	if _, err := os.Lstat(path); err == nil {
		// A restart reuses the passphrase, as Cylc 7 did, but never one that
		// others could have read.
		if err := wfs.CheckSecret(path); err != nil {
			return nil, fmt.Errorf("refusing to start: %w", err)
		}
		b, err := env.Run.Files.ReadFile(path)
		if err != nil {
			return nil, err
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			return nil, fmt.Errorf("refusing to start: %s is empty", path)
		}
		return &passphraseServer{run: env.Run, secret: b}, nil
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	secret := []byte(base64.RawURLEncoding.EncodeToString(raw))
	if err := env.Run.Files.CreateExclusive(path, secret, 0o600); err != nil {
		return nil, err
	}
	return &passphraseServer{run: env.Run, secret: secret}, nil
}

func (s *passphraseServer) Verify(_ context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	if len(in.Frames) < 2 {
		return wfs.Principal{}, wfs.Rejectf("no passphrase")
	}
	got := in.Frames[len(in.Frames)-1]
	in.Frames = in.Frames[:len(in.Frames)-1]
	if subtle.ConstantTimeCompare(got, s.secret) != 1 {
		return wfs.Principal{}, wfs.Rejectf("wrong passphrase")
	}
	return wfs.Principal{Name: "owner", Kind: "user"}, nil
}

func (s *passphraseServer) Close() error {
	return s.run.Files.Remove(s.run.Service(PassphraseFile))
}

type passphraseClient struct {
	NopClient
	secret []byte
}

// Client reads the passphrase file, as every Cylc 7 client process did.
func (passphrase) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	b, err := env.Run.Files.ReadFile(env.Run.Service(PassphraseFile))
	if err != nil {
		return nil, fmt.Errorf("passphrase: %w", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("passphrase: file is empty")
	}
	return &passphraseClient{secret: b}, nil
}

func (c *passphraseClient) Wrap(frames [][]byte) ([][]byte, error) {
	return append(frames, c.secret), nil
}
