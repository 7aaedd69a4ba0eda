package cylcpeer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/wfs"
)

// Key files in a workflow's .service directory, as cylc-flow names them
// (cylc/flow/workflow_files.py: KeyInfo, KeyOwner, WorkflowFiles.Service).
const (
	// ServerPublicKeyFile is the scheduler's public key, which a client
	// needs to reach it (ZMQ_CURVE_SERVERKEY).
	ServerPublicKeyFile = "server.key"
	// ClientSecretKeyFile is the client keypair of the scheduler's own
	// install target, which clients on the scheduler host use
	// (cylc/flow/network/__init__.py, ZMQSocketBase._socket_connect).
	ClientSecretKeyFile = "client.key_secret"
)

// Keys are what a Cylc client presents: the scheduler's public key and
// the client keypair.
type Keys struct {
	Server wfs.CurveKey
	Client wfs.KeyPair
}

// LoadKeys reads the workflow's CURVE keys from its .service directory, as
// cylc-flow's client does: the server's public key from server.key and the
// client keypair from client.key_secret (which must be the owner's only).
func LoadKeys(serviceDir string) (Keys, error) {
	var k Keys
	read := func(name string) (*wfs.Certificate, error) {
		path := filepath.Join(serviceDir, name)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no %s in %s: the workflow is not running, or this is not its owner's account", name, serviceDir)
		}
		if err != nil {
			return nil, err
		}
		return wfs.ParseCertificate(path, b)
	}
	srv, err := read(ServerPublicKeyFile)
	if err != nil {
		return k, err
	}
	cli, err := read(ClientSecretKeyFile)
	if err != nil {
		return k, err
	}
	if cli.Secret == nil {
		return k, fmt.Errorf("%s: no secret-key in it", filepath.Join(serviceDir, ClientSecretKeyFile))
	}
	if err := wfs.CheckSecret(filepath.Join(serviceDir, ClientSecretKeyFile)); err != nil {
		return k, err
	}
	k.Server = srv.Public
	k.Client = wfs.KeyPair{Public: cli.Public, Secret: *cli.Secret}
	return k, nil
}
