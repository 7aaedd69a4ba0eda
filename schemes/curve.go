package schemes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// Key-file names, as Cylc 8 lays them out in .service/.
const (
	// CurveServerKey is the server keypair's base name (server.key,
	// server.key_secret).
	CurveServerKey = "server"
	// CurveClientKey is a client keypair's base name (client.key,
	// client.key_secret).
	CurveClientKey = "client"
	// CurveClientPublicKeys is the .service/ folder of installed client
	// public keys, client_<install-target>.key.
	CurveClientPublicKeys = "client_public_keys"
	// LocalTarget is the WFS host's install target. Its client keypair is a
	// copy of the server's, as Cylc 8 makes it.
	LocalTarget = "localhost"
)

// User-Id prefix the ZAP handler gives install-target keys; job keys
// (curve-job) get the job id itself, which has no such prefix.
const curveTargetPrefix = "target:"

// validTarget reports whether an install-target name is safe as a path
// element and a file name: letters, digits, '.', '_' and '-', not leading
// with a punctuation mark.
func validTarget(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// CurveRemoteServiceDir is the simulated remote `.service` directory of an
// install target: <run>/remote/<target>/.service. The target's client
// keypair is made there, as Cylc's remote-init makes it on the remote host.
func CurveRemoteServiceDir(run *wfs.RunDir, target string) string {
	return filepath.Join(run.Root, "remote", target, ".service")
}

// CurveClientPublicKeyPath is .service/client_public_keys/client_<target>.key.
func CurveClientPublicKeyPath(run *wfs.RunDir, target string) string {
	return filepath.Join(run.Service(CurveClientPublicKeys), "client_"+target+wfs.PublicKeySuffix)
}

// CurveJobPublicKeyPath is where curve-job installs a job's public key in
// reload mode (Env.ReloadAllKeys), so that a directory reload finds it:
// .service/client_public_keys/job_<id>.key, the job id with '%' and '/'
// escaped as %25 and %2F (no install target's key is named job_*).
func CurveJobPublicKeyPath(run *wfs.RunDir, id wfs.JobID) string {
	name := strings.NewReplacer("%", "%25", "/", "%2F").Replace(id.String())
	return filepath.Join(run.Service(CurveClientPublicKeys), "job_"+name+wfs.PublicKeySuffix)
}

// curve is the CurveZMQ transport with a ZAP allow-list. With perJob false
// it is Cylc 8's scheme (a client keypair per install target); with perJob
// true it is curve-job (a keypair per job, allowed at submit and revoked at
// job end).
type curve struct {
	perJob bool
}

// curveInfos registers both CURVE securities.
func curveInfos() []PartInfo {
	return []PartInfo{
		{
			Name: "curve", Kind: Security,
			Doc:      "CurveZMQ as Cylc 8: server keypair at start, a client keypair per install target, ZAP allow-list",
			Examples: []string{"curve", "curve+passphrase:workflow"},
			New:      func(Spec) (Part, error) { return curve{}, nil },
		},
		{
			Name: "curve-job", Kind: Security,
			Doc:      "CurveZMQ with a client keypair per job, allowed at job submit and revoked at job end",
			Examples: []string{"curve-job"},
			New:      func(Spec) (Part, error) { return curve{perJob: true}, nil },
		},
	}
}

// RegisterCurve registers the curve and curve-job securities in r.
func RegisterCurve(r *Registry) {
	for _, p := range curveInfos() {
		r.Register(p)
	}
}

// Claims: CURVE encrypts the whole connection, so requests and replies are
// both unreadable on the wire (and every composite on a curve transport
// inherits both claims).
func (c curve) Claims() Claims {
	return Claims{Authenticates: true, Confidential: true, RepliesConfidential: true, JobRevocation: c.perJob, NeedsFS: true}
}

// curveServer is the WFS side of curve and curve-job.
type curveServer struct {
	perJob bool
	run    *wfs.RunDir
	server wfs.KeyPair
	allow  *allowList

	mu  sync.Mutex
	zap *zapHandler
	// pubZAP is the ZAP handler in the publisher's context (ConfigurePublisher).
	pubZAP  *zapHandler
	created map[string]struct{}    // key files this part made and has not removed
	targets map[string]bool        // install targets set up (remote keys made)
	jobs    map[wfs.JobID]struct{} // curve-job: jobs with a live keypair
	closed  bool

	keygens, keygenNanos atomic.Int64

	// reload is Env.ReloadAllKeys: every key added or removed re-reads the
	// whole client_public_keys directory (reloadKeys). reloadMu serialises
	// reloads, so that the last one to finish read the directory last.
	// gil is Env.Interpreter, taken by the ZAP handler.
	gil *wfs.GIL

	reload                                          bool
	reloadMu                                        sync.Mutex
	reloads, reloadFiles, reloadNanos, reloadErrors atomic.Int64
}

// Server makes the server keypair in .service/, and the WFS host's client
// keypair as a copy of it (client.key_secret and
// client_public_keys/client_localhost.key), and allows that key.
func (c curve) Server(_ context.Context, env Env) (ServerPart, error) {
	s := &curveServer{
		perJob: c.perJob, run: env.Run, allow: newAllowList(), reload: env.ReloadAllKeys, gil: env.Interpreter,
		created: map[string]struct{}{}, targets: map[string]bool{}, jobs: map[wfs.JobID]struct{}{},
	}
	s.allow.reloading = env.ReloadAllKeys
	svc := env.Run.ServiceDir()
	kp, err := wfs.GenerateKeyPair()
	if err != nil {
		return nil, err
	}
	pub, sec, err := wfs.WriteKeyPairFiles(env.Run.Files, svc, CurveServerKey, kp)
	s.note(pub, sec)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("curve: server keys: %w", err)
	}
	s.server = kp
	// Cylc copies the files: the client secret is the server's, and the
	// server's public key stands as the localhost client's public key.
	_, clientSec := wfs.KeyPaths(svc, CurveClientKey)
	if err := s.copyFile(sec, clientSec, true); err != nil {
		_ = s.Close()
		return nil, err
	}
	if err := env.Run.Files.MkdirAll(env.Run.Service(CurveClientPublicKeys)); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("curve: %w", err)
	}
	if err := s.copyFile(pub, CurveClientPublicKeyPath(env.Run, LocalTarget), false); err != nil {
		_ = s.Close()
		return nil, err
	}
	s.targets[LocalTarget] = true
	s.allow.allow(kp.Public, curveTargetPrefix+LocalTarget)
	if s.reload {
		// WorkflowRuntimeServer.start: "Initial load for the localhost
		// key", self.configure_curve() (cylc/flow/network/server.py).
		s.reloadKeys()
	}
	return s, nil
}

// reloadKeys is what Cylc 8 does whenever a client key is added or removed
// (cylc/flow/task_remote_mgr.py, _remote_init_callback: "configure_curve
// must be called every time certificates are added or removed"):
// WorkflowRuntimeServer.configure_curve (cylc/flow/network/server.py) calls
// pyzmq's Authenticator.configure_curve(domain='*', location=
// client_public_keys) (zmq/auth/base.py), which loads every certificate in
// the directory (zmq/auth/certs.py, load_certificates: glob "*.key", then
// load_certificate on each) and makes them the allowed set. The files are
// read through the counted file layer. As in pyzmq, a file that fails to
// load fails the whole reload (pyzmq logs it) and the previous set stays;
// failures are counted (zap.reload_errors). Keys keep the name they were
// allowed under; a key file no event installed is named by its Z85 text,
// as pyzmq's curve_user_id names every key.
func (s *curveServer) reloadKeys() {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	t0 := time.Now()
	defer func() {
		s.reloads.Add(1)
		s.reloadNanos.Add(int64(time.Since(t0)))
	}()
	dir := s.run.Service(CurveClientPublicKeys)
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.reloadErrors.Add(1)
		return
	}
	keys := make(map[wfs.CurveKey]string, len(entries))
	for _, e := range entries {
		name := e.Name()
		// Python's glob "*.key" skips dot files.
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, wfs.PublicKeySuffix) {
			continue
		}
		c, err := wfs.ReadCertificate(s.run.Files, filepath.Join(dir, name))
		s.reloadFiles.Add(1)
		if err != nil {
			s.reloadErrors.Add(1)
			return
		}
		user, ok := s.allow.nameOf(c.Public)
		if !ok {
			user = c.Public.Z85()
		}
		keys[c.Public] = user
	}
	s.allow.replace(keys)
}

// note records key files this part made, for removal at Close.
func (s *curveServer) note(paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range paths {
		if p != "" {
			s.created[p] = struct{}{}
		}
	}
}

// copyFile copies a key file through the counted file layer, as Cylc's
// shutil.copyfile does, parsing it on the way so that a bad file is caught.
func (s *curveServer) copyFile(from, to string, secret bool) error {
	c, err := wfs.ReadCertificate(s.run.Files, from)
	if err != nil {
		return fmt.Errorf("curve: %w", err)
	}
	err = wfs.WriteCertificate(s.run.Files, to, c, secret)
	s.note(to)
	if err != nil {
		return fmt.Errorf("curve: %w", err)
	}
	return nil
}

// ConfigureServer starts the ZAP handler in the server's context and makes
// the socket a CURVE server with the server's secret key.
func (s *curveServer) ConfigureServer(zctx *zmq.Context, sock *zmq.Socket) error {
	return s.secure(zctx, sock, &s.zap, "server socket", "ZAP handler already running: one server per curve server part")
}

// ConfigurePublisher makes the publish socket a CURVE server with the
// server's secret key, as Cylc's WorkflowPublisher is (cylc-flow
// cylc/flow/network/__init__.py, ZMQSocketBase._socket_bind), and starts a
// ZAP handler on the same allow-list in the publisher's context, so that
// only clients with a key the workflow allows subscribe.
func (s *curveServer) ConfigurePublisher(zctx *zmq.Context, sock *zmq.Socket) error {
	return s.secure(zctx, sock, &s.pubZAP, "publish socket", "publisher ZAP handler already running")
}

// secure starts a ZAP handler on the workflow's allow-list in zctx, kept in
// *slot (busy is the error when one already runs there), and makes sock,
// named what in errors, a CURVE server with the server's secret key.
func (s *curveServer) secure(zctx *zmq.Context, sock *zmq.Socket, slot **zapHandler, what, busy string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("curve: server part is closed")
	}
	if *slot != nil {
		return errors.New("curve: " + busy)
	}
	zap, err := startZAP(zctx, s.allow, s.gil)
	if err != nil {
		return fmt.Errorf("curve: %s: %w", what, err)
	}
	for _, set := range []func() error{
		func() error { return sock.SetZapDomain(CurveZAPDomain) },
		func() error { return sock.SetCurveServer(1) },
		func() error { return sock.SetCurveSecretkey(s.server.Secret.Bytes()) },
	} {
		if err := set(); err != nil {
			zap.close()
			return fmt.Errorf("curve: %s: %w", what, err)
		}
	}
	*slot = zap
	return nil
}

// ClosePublisher stops the publisher's ZAP handler (wfs.PublishCloser).
func (s *curveServer) ClosePublisher() {
	s.mu.Lock()
	zap := s.pubZAP
	s.pubZAP = nil
	s.mu.Unlock()
	if zap != nil {
		zap.close()
	}
}

// Verify names the client by the User-Id its key got from the ZAP handler,
// and refuses a key revoked since its connection's handshake.
func (s *curveServer) Verify(_ context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	if in.UserID == "" {
		return wfs.Principal{}, wfs.Rejectf("no CURVE client identity")
	}
	if !s.allow.allowed(in.UserID) {
		return wfs.Principal{}, wfs.Rejectf("client key %s has been revoked", in.UserID)
	}
	if target, ok := strings.CutPrefix(in.UserID, curveTargetPrefix); ok {
		kind := "job"
		if target == LocalTarget {
			kind = "user"
		}
		return wfs.Principal{Name: in.UserID, Kind: kind}, nil
	}
	return wfs.Principal{Name: in.UserID, Kind: "job"}, nil
}

// Authorize confines a curve-job key to its own job: it may ping and send
// messages whose task_job is its job id, and nothing else.
func (s *curveServer) Authorize(_ context.Context, who wfs.Principal, req *wfs.Request) error {
	if !s.perJob {
		return nil
	}
	job, err := wfs.ParseJobID(who.Transport)
	if err != nil {
		return nil // not a job key: the WFS host's key
	}
	if req.Command == wfs.CmdPing {
		return nil
	}
	// A job message, as the message command or as cylc's GraphQL mutation.
	if a, ok, err := wfs.JobMessage(req); ok {
		if err != nil {
			return err
		}
		got, err := wfs.ParseJobID(a.TaskJob)
		if err != nil || got != job {
			return wfs.Rejectf("job key %s may not send messages for %q", job, a.TaskJob)
		}
		return nil
	}
	return wfs.Rejectf("job key %s may not run %q", job, req.Command)
}

// Handle handles nothing.
func (s *curveServer) Handle(context.Context, wfs.Principal, *wfs.Request) (any, bool, error) {
	return nil, false, nil
}

// SealReply returns the reply unchanged (CURVE encrypts the wire).
func (s *curveServer) SealReply(_ wfs.Principal, reply []byte) ([]byte, error) { return reply, nil }

// Event installs a target's keys on its first job (curve), or makes, allows,
// revokes and deletes a job's keypair (curve-job).
func (s *curveServer) Event(_ context.Context, ev Event) error {
	switch ev.Kind {
	case EventJobSubmit:
		target := ev.Target
		if target == "" {
			target = LocalTarget
		}
		if err := s.ensureTarget(target); err != nil {
			return err
		}
		if s.perJob {
			return s.submitJob(ev.Job)
		}
	case EventJobEnd:
		if s.perJob {
			return s.endJob(ev.Job)
		}
	}
	return nil
}

// ensureTarget does what Cylc's remote-init does on a target's first job:
// install the server's public key in the target's .service, and (curve)
// make the target's client keypair there and bring its public key back to
// client_public_keys/, allowing it in the ZAP handler at once.
func (s *curveServer) ensureTarget(target string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("curve: server part is closed")
	}
	if s.targets[target] {
		return nil
	}
	if !validTarget(target) {
		return fmt.Errorf("curve: install target %q: want letters, digits, '.', '_' or '-'", target)
	}
	files := s.run.Files
	remote := CurveRemoteServiceDir(s.run, target)
	if err := files.MkdirAll(remote); err != nil {
		return fmt.Errorf("curve: %w", err)
	}
	serverPub, _ := wfs.KeyPaths(remote, CurveServerKey)
	s.created[serverPub] = struct{}{}
	if err := wfs.WritePublicKey(files, serverPub, s.server.Public); err != nil {
		return fmt.Errorf("curve: target %s: %w", target, err)
	}
	if !s.perJob {
		kp, err := s.generate()
		if err != nil {
			return err
		}
		pub, sec, err := wfs.WriteKeyPairFiles(files, remote, CurveClientKey, kp)
		for _, p := range []string{pub, sec} {
			if p != "" {
				s.created[p] = struct{}{}
			}
		}
		if err != nil {
			return fmt.Errorf("curve: target %s: %w", target, err)
		}
		// The public key comes back from the remote: read it as sent.
		c, err := wfs.ReadCertificate(files, pub)
		if err != nil {
			return fmt.Errorf("curve: target %s: %w", target, err)
		}
		installed := CurveClientPublicKeyPath(s.run, target)
		s.created[installed] = struct{}{}
		if err := wfs.WritePublicKey(files, installed, c.Public); err != nil {
			return fmt.Errorf("curve: target %s: %w", target, err)
		}
		s.allow.allow(c.Public, curveTargetPrefix+target)
		if s.reload {
			s.reloadKeys()
		}
	}
	s.targets[target] = true
	return nil
}

// submitJob makes the job's keypair in its job directory and allows it.
func (s *curveServer) submitJob(id wfs.JobID) error {
	if err := s.run.MakeJobDir(id); err != nil {
		return fmt.Errorf("curve-job: %w", err)
	}
	kp, err := s.generate()
	if err != nil {
		return err
	}
	pub, sec, err := wfs.WriteKeyPairFiles(s.run.Files, s.run.JobDir(id), CurveClientKey, kp)
	installed := ""
	if err == nil && s.reload {
		// Reload mode: the ZAP handler allows what is in
		// client_public_keys/, so the job's public key goes there too.
		installed = CurveJobPublicKeyPath(s.run, id)
		err = wfs.WritePublicKey(s.run.Files, installed, kp.Public)
	}
	s.mu.Lock()
	for _, p := range []string{pub, sec, installed} {
		if p != "" {
			s.created[p] = struct{}{}
		}
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("curve-job: %w", err)
	}
	if s.closed {
		s.mu.Unlock()
		return errors.New("curve-job: server part is closed")
	}
	s.jobs[id] = struct{}{}
	s.allow.allow(kp.Public, id.String())
	s.mu.Unlock()
	if s.reload {
		s.reloadKeys()
	}
	return nil
}

// endJob revokes the job's key, so its next handshake fails, and deletes
// its key files.
func (s *curveServer) endJob(id wfs.JobID) error {
	s.allow.revoke(id.String())
	s.mu.Lock()
	delete(s.jobs, id)
	pub, sec := wfs.KeyPaths(s.run.JobDir(id), CurveClientKey)
	delete(s.created, pub)
	delete(s.created, sec)
	installed := ""
	if s.reload {
		installed = CurveJobPublicKeyPath(s.run, id)
		delete(s.created, installed)
	}
	s.mu.Unlock()
	err := errors.Join(s.run.Files.Remove(pub), s.run.Files.Remove(sec))
	if s.reload {
		// The key leaves the directory, then the handler reloads it.
		err = errors.Join(err, s.run.Files.Remove(installed))
		s.reloadKeys()
	}
	return err
}

// CloseTransport stops the ZAP handler (the server calls it before it
// terminates its context).
func (s *curveServer) CloseTransport() {
	s.mu.Lock()
	zap := s.zap
	s.zap = nil
	s.mu.Unlock()
	if zap != nil {
		zap.close()
	}
}

// Close stops the ZAP handler if it still runs, empties the allow-list and
// removes every key file the part made, as Cylc removes its keys at
// shutdown.
func (s *curveServer) Close() error {
	s.CloseTransport()
	s.ClosePublisher()
	s.mu.Lock()
	s.closed = true
	paths := make([]string, 0, len(s.created))
	for p := range s.created {
		paths = append(paths, p)
	}
	clear(s.created)
	clear(s.jobs)
	s.mu.Unlock()
	s.allow.clear()
	var errs []error
	for _, p := range paths {
		errs = append(errs, s.run.Files.Remove(p))
	}
	return errors.Join(errs...)
}

// generate makes a keypair, counting its cost.
func (s *curveServer) generate() (wfs.KeyPair, error) {
	t0 := time.Now()
	kp, err := wfs.GenerateKeyPair()
	s.keygenNanos.Add(int64(time.Since(t0)))
	s.keygens.Add(1)
	return kp, err
}

// AllowedKeys is the size of the ZAP allow-list.
func (s *curveServer) AllowedKeys() int { return s.allow.len() }
