package schemes

// The curve scheme's client part: the keys a CURVE client socket needs,
// read from the run directory's .service, an install target's copy of it,
// or (curve-job) the job's own directory.

import (
	"context"
	"errors"
	"fmt"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// curveClient holds the three keys a CURVE client socket needs.
type curveClient struct {
	NopClient
	serverKey wfs.CurveKey
	pair      wfs.KeyPair
	// certificate files the keys came from, for external clients
	serverFile, clientFile string
}

// CertificateFiles implements CertificateFiler.
func (c *curveClient) CertificateFiles() (serverPublic, clientSecret string) {
	return c.serverFile, c.clientFile
}

// Client reads the server's public key and the client's secret certificate
// from where the client kind finds them: a curve-job job its job directory;
// a curve job on a remote target that target's .service; everyone else the
// WFS host's .service (the copy of the server's keypair).
func (c curve) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	serverDir, clientDir := env.Run.ServiceDir(), env.Run.ServiceDir()
	if env.Kind == KindJob {
		target := env.Target
		if target == "" {
			target = LocalTarget
		}
		if target != LocalTarget {
			if !validTarget(target) {
				return nil, fmt.Errorf("curve: install target %q: want letters, digits, '.', '_' or '-'", target)
			}
			serverDir = CurveRemoteServiceDir(env.Run, target)
			clientDir = serverDir
		}
		if c.perJob {
			id, err := wfs.ParseJobID(env.Identity)
			if err != nil {
				return nil, fmt.Errorf("curve-job: job client identity: %w", err)
			}
			clientDir = env.Run.JobDir(id)
		}
	}
	serverPub, _ := wfs.KeyPaths(serverDir, CurveServerKey)
	_, clientSec := wfs.KeyPaths(clientDir, CurveClientKey)
	sc, err := wfs.ReadCertificate(env.Run.Files, serverPub)
	if err != nil {
		return nil, fmt.Errorf("curve: server key: %w", err)
	}
	cc, err := wfs.ReadCertificate(env.Run.Files, clientSec)
	if err != nil {
		return nil, fmt.Errorf("curve: client key: %w", err)
	}
	pair, err := cc.Pair()
	if err != nil {
		return nil, fmt.Errorf("curve: client key %s: %w", clientSec, err)
	}
	part, err := NewCurveClient(sc.Public, pair)
	if err != nil {
		return nil, err
	}
	if cc, ok := part.(*curveClient); ok {
		cc.serverFile, cc.clientFile = serverPub, clientSec
	}
	return part, nil
}

// NewCurveClient returns a client part that makes sockets CURVE clients of
// the server key with the given keypair. It validates the keys itself,
// because libzmq takes any 32 bytes and pebbe/zmq4's ClientAuthCurve
// ignores a bad key.
func NewCurveClient(serverKey wfs.CurveKey, pair wfs.KeyPair) (ClientPart, error) {
	if serverKey.IsZero() || pair.Public.IsZero() || pair.Secret.IsZero() {
		return nil, errors.New("curve: all-zero key")
	}
	pub, err := wfs.PublicFromSecret(pair.Secret)
	if err != nil {
		return nil, fmt.Errorf("curve: %w", err)
	}
	if pub != pair.Public {
		return nil, errors.New("curve: client secret key does not match its public key")
	}
	return &curveClient{serverKey: serverKey, pair: pair}, nil
}

// Configure makes the socket a CURVE client.
func (c *curveClient) Configure(sock *zmq.Socket) error {
	for _, set := range []func() error{
		func() error { return sock.SetCurveServerkey(c.serverKey.Bytes()) },
		func() error { return sock.SetCurvePublickey(c.pair.Public.Bytes()) },
		func() error { return sock.SetCurveSecretkey(c.pair.Secret.Bytes()) },
	} {
		if err := set(); err != nil {
			return fmt.Errorf("curve: client socket: %w", err)
		}
	}
	return nil
}
