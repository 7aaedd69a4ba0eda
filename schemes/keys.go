package schemes

import (
	"fmt"

	"github.com/authbench/authbench/wfs"
)

// WriteKeyPair makes a CURVE keypair and writes it as dir/name.key (public)
// and dir/name.key_secret (0600) in the ZeroMQ certificate format that
// pyzmq's zmq.auth and czmq read; dir is made 0700 if missing. It returns the
// two paths and the public key in Z85. It backs `authbench keys`.
func WriteKeyPair(dir, name string) (public, secret, z85 string, err error) {
	files := wfs.NewFiles(true)
	if err := files.MkdirAll(dir); err != nil {
		return "", "", "", err
	}
	kp, err := wfs.WriteKeyPair(files, dir, name)
	if err != nil {
		return "", "", "", fmt.Errorf("keys: %w", err)
	}
	public, secret = wfs.KeyPaths(dir, name)
	return public, secret, kp.Public.Z85(), nil
}

// KeyPairPaths are the public and secret key files WriteKeyPair writes.
func KeyPairPaths(dir, name string) []string {
	public, secret := wfs.KeyPaths(dir, name)
	return []string{public, secret}
}
