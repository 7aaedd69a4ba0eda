package schemes

import (
	"context"
	"errors"
	"fmt"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/wfs"
)

// ClientKind is the kind of WFS client: a CLI command, a job or the UI server.
type ClientKind string

// Client kinds.
const (
	KindCLI ClientKind = "cli"
	KindJob ClientKind = "job"
	KindUIS ClientKind = "uis"
)

// EventKind names a WFS-side lifecycle event.
type EventKind string

// Lifecycle events delivered to a scheme's server side.
const (
	EventJobSubmit EventKind = "job-submit" // WFS submits a job: mint its credential
	EventJobStart  EventKind = "job-start"  // the job starts running
	EventJobEnd    EventKind = "job-end"    // the job has ended: revoke its credential
	EventTick      EventKind = "tick"       // clock tick: rotate timed credentials
)

// Event is one lifecycle event.
type Event struct {
	Kind   EventKind
	Job    wfs.JobID // for job events
	Target string    // the job's install target (for per-target keys)
	Now    time.Time
	// Retrying, at job end, says the job's task will be submitted again
	// (a failed job with retries left, cylc's "execution retry delays"),
	// so a token of the task outlives the job.
	Retrying bool
}

// Env is what a scheme's server side is provisioned with.
type Env struct {
	// Run is the run directory; all file operations go through Run.Files.
	Run *wfs.RunDir
	// Workflow is the workflow id (credentials' audience).
	Workflow string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock-skew allowance token schemes give exp, nbf and
	// iat; 0 means DefaultLeeway.
	Leeway time.Duration
	// KeysDir, when set, holds the token schemes' keys to use instead of
	// fresh ones (file names: KeyFileName), so that long-lived test keys
	// and third-party vectors can be run against a live WFS.
	KeysDir string
	// ReloadAllKeys makes the CURVE schemes update their ZAP allow-list as
	// Cylc 8's pyzmq ThreadAuthenticator does: every key added or removed
	// re-reads every *.key file in .service/client_public_keys/ (through
	// Run.Files, so the reads are counted) and the list becomes what was
	// read (curve-job then installs each job's public key there too).
	// Otherwise keys are added and removed one at a time. The server model
	// says which (wfs.Model.ReloadAllKeys: set under cylc).
	ReloadAllKeys bool
	// Interpreter, when set, is the server's Python GIL stand-in (the cylc
	// model's, wfs.ServerConfig.Interpreter): the CURVE ZAP handler takes
	// it to answer each handshake, as pyzmq's ThreadAuthenticator thread
	// in a Cylc scheduler takes the scheduler's GIL. StartWFS sets it from
	// the server model.
	Interpreter *wfs.GIL
}

// ClientEnv is what a client starts from: the run directory as it sees it
// (on a shared file system, the WFS's own) and its identity.
type ClientEnv struct {
	Run      *wfs.RunDir
	Contact  wfs.Contact
	Kind     ClientKind
	Identity string // user name, job id (cycle/task/NN) or UI server name
	Target   string // install target, for job clients
	// StateDir is a private directory (0700) the client may keep state in
	// across commands (plan B1's shared token).
	StateDir string
	Now      func() time.Time
}

// Caller sends frames to the WFS and returns the reply frame; a client part
// uses it to acquire a credential with its own round trip.
type Caller func(ctx context.Context, frames ...[]byte) ([]byte, error)

// ServerPart is one part (transport or credential) of a scheme's server side.
// Embed NopServer for the methods a part does not need.
type ServerPart interface {
	// ConfigureServer sets options on the server socket before it binds.
	ConfigureServer(zctx *zmq.Context, sock *zmq.Socket) error
	// Verify authenticates in. A credential part consumes its frames,
	// leaving in.Frames as the plain body (one frame). It returns the
	// principal it vouches for (zero if none).
	Verify(ctx context.Context, in *wfs.Inbound) (wfs.Principal, error)
	// Authorize decides whether who may run req.
	Authorize(ctx context.Context, who wfs.Principal, req *wfs.Request) error
	// Handle serves a command the part defines.
	Handle(ctx context.Context, who wfs.Principal, req *wfs.Request) (any, bool, error)
	// SealReply may transform a reply.
	SealReply(who wfs.Principal, reply []byte) ([]byte, error)
	// Event handles a lifecycle event.
	Event(ctx context.Context, ev Event) error
	// CloseTransport closes sockets the part opened in the server's context.
	CloseTransport()
	// Close tears the part down: it removes its keys and tokens.
	Close() error
}

// RemoteInstaller is a server part with files that remote-init installs
// on an install target without a shared file system, beside the contact
// file that cylc-flow's remote-init installs (cylc/flow/task_remote_mgr.py,
// _remote_init_items) and the keys under <run>/remote/<target>/.
type RemoteInstaller interface {
	// RemoteInitFiles are the files' paths in the run directory.
	RemoteInitFiles() []string
}

// ClientPart is one part of a scheme's client side. Embed NopClient.
type ClientPart interface {
	// Configure sets options on a fresh client socket before it connects.
	Configure(sock *zmq.Socket) error
	// Begin starts a command (or a job message): it loads or acquires the
	// credential, with a round trip through call if the policy needs one.
	// acquired reports whether it did acquisition work worth timing.
	Begin(ctx context.Context, call Caller) (acquired bool, err error)
	// Wrap turns the request frames into what goes on the wire.
	Wrap(frames [][]byte) ([][]byte, error)
	// Unwrap turns a reply frame back into the plain reply.
	Unwrap(reply []byte) ([]byte, error)
	// End ends a command.
	End(ctx context.Context) error
	// Close releases the client part.
	Close() error
}

// Part is a registered transport or credential, parsed from a spec.
type Part interface {
	// Claims are the properties the part gives a scheme.
	Claims() Claims
	// Server provisions the part's server side in env.Run.
	Server(ctx context.Context, env Env) (ServerPart, error)
	// Client loads a client's side from what the server provisioned.
	Client(ctx context.Context, env ClientEnv) (ClientPart, error)
}

// Scheme is a composed scheme: a transport and an optional credential.
type Scheme struct {
	spec      Spec
	transport Part
	cred      Part // nil for none
}

// Spec returns the parsed spec (Raw as the user wrote it).
func (s *Scheme) Spec() Spec { return s.spec }

// Name is the spec as the user wrote it.
func (s *Scheme) Name() string { return s.spec.Raw }

// Claims are the union of the parts' claims.
func (s *Scheme) Claims() Claims {
	c := s.transport.Claims()
	if s.cred != nil {
		c = c.Or(s.cred.Claims())
	}
	return c
}

func (s *Scheme) parts() []Part {
	if s.cred == nil {
		return []Part{s.transport}
	}
	return []Part{s.transport, s.cred}
}

// Server provisions the scheme's server side. The returned Server is the
// wfs.Guard the WFS runs with.
func (s *Scheme) Server(ctx context.Context, env Env) (*Server, error) {
	if env.Now == nil {
		env.Now = time.Now
	}
	srv := &Server{}
	for _, p := range s.parts() {
		sp, err := p.Server(ctx, env)
		if err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("scheme %s: %w", s.spec.Raw, err)
		}
		srv.parts = append(srv.parts, sp)
	}
	return srv, nil
}

// Client loads a client side.
func (s *Scheme) Client(ctx context.Context, env ClientEnv) (*Client, error) {
	if env.Now == nil {
		env.Now = time.Now
	}
	cl := &Client{}
	for _, p := range s.parts() {
		cp, err := p.Client(ctx, env)
		if err != nil {
			_ = cl.Close()
			return nil, fmt.Errorf("scheme %s: %w", s.spec.Raw, err)
		}
		cl.parts = append(cl.parts, cp)
	}
	return cl, nil
}

// Server is a composed server side; it implements wfs.Guard.
type Server struct {
	parts []ServerPart
}

var _ wfs.Guard = (*Server)(nil)

// RemoteInitFiles are the files its parts have remote-init install (see
// RemoteInstaller).
func (s *Server) RemoteInitFiles() []string {
	var out []string
	for _, p := range s.parts {
		if r, ok := p.(RemoteInstaller); ok {
			out = append(out, r.RemoteInitFiles()...)
		}
	}
	return out
}

// ConfigureServer lets every part configure the socket.
func (s *Server) ConfigureServer(zctx *zmq.Context, sock *zmq.Socket) error {
	for _, p := range s.parts {
		if err := p.ConfigureServer(zctx, sock); err != nil {
			return err
		}
	}
	return nil
}

// ConfigurePublisher lets every part that secures a publish socket
// configure it (wfs.PublishConfigurer): the transport's security, as on
// the request socket.
func (s *Server) ConfigurePublisher(zctx *zmq.Context, sock *zmq.Socket) error {
	for _, p := range s.parts {
		if pc, ok := p.(wfs.PublishConfigurer); ok {
			if err := pc.ConfigurePublisher(zctx, sock); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClosePublisher implements wfs.PublishCloser.
func (s *Server) ClosePublisher() {
	for _, p := range s.parts {
		if pc, ok := p.(wfs.PublishCloser); ok {
			pc.ClosePublisher()
		}
	}
}

// Open runs every part's Verify in order (transport first); the last part
// that names a principal decides who the caller is, and the transport's
// principal is kept as Principal.Transport.
func (s *Server) Open(ctx context.Context, in *wfs.Inbound) ([]byte, wfs.Principal, error) {
	who := wfs.Principal{Name: "anonymous", Kind: "anonymous"}
	for i, p := range s.parts {
		pr, err := p.Verify(ctx, in)
		if err != nil {
			return nil, wfs.Principal{}, err
		}
		if pr.Name != "" {
			transport := who.Transport
			if i == 0 {
				transport = pr.Name
			}
			who = pr
			who.Transport = transport
		}
	}
	if len(in.Frames) != 1 {
		return nil, wfs.Principal{}, &wfs.Error{Kind: wfs.KindProtocol, Msg: fmt.Sprintf("request has %d frames the scheme did not consume", len(in.Frames)-1)}
	}
	return in.Frames[0], who, nil
}

// Authorize asks every part.
func (s *Server) Authorize(ctx context.Context, who wfs.Principal, req *wfs.Request) error {
	for _, p := range s.parts {
		if err := p.Authorize(ctx, who, req); err != nil {
			return err
		}
	}
	return nil
}

// Handle offers the command to each part in turn.
func (s *Server) Handle(ctx context.Context, who wfs.Principal, req *wfs.Request) (any, bool, error) {
	for _, p := range s.parts {
		if d, ok, err := p.Handle(ctx, who, req); ok || err != nil {
			return d, ok, err
		}
	}
	return nil, false, nil
}

// SealReply lets each part transform the reply, credential first.
func (s *Server) SealReply(who wfs.Principal, reply []byte) ([]byte, error) {
	var err error
	for i := len(s.parts) - 1; i >= 0; i-- {
		if reply, err = s.parts[i].SealReply(who, reply); err != nil {
			return nil, err
		}
	}
	return reply, nil
}

// Event delivers a lifecycle event to every part.
func (s *Server) Event(ctx context.Context, ev Event) error {
	for _, p := range s.parts {
		if err := p.Event(ctx, ev); err != nil {
			return fmt.Errorf("%s %s: %w", ev.Kind, ev.Job, err)
		}
	}
	return nil
}

// StatsReporter is implemented by server parts with figures worth
// recording in results (for example the ZAP allow-list's size and lookup
// cost, or tokens minted).
type StatsReporter interface {
	Stats() map[string]float64
}

// Stats merges the figures of every part that reports some.
func (s *Server) Stats() map[string]float64 {
	out := map[string]float64{}
	for _, p := range s.parts {
		if r, ok := p.(StatsReporter); ok {
			for k, v := range r.Stats() {
				out[k] = v
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// CloseTransport implements wfs.TransportCloser.
func (s *Server) CloseTransport() {
	for _, p := range s.parts {
		p.CloseTransport()
	}
}

// Close tears every part down.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.parts) - 1; i >= 0; i-- {
		errs = append(errs, s.parts[i].Close())
	}
	return errors.Join(errs...)
}

// Client is a composed client side.
type Client struct {
	parts []ClientPart
}

// Configure sets every part's socket options.
func (c *Client) Configure(sock *zmq.Socket) error {
	for _, p := range c.parts {
		if err := p.Configure(sock); err != nil {
			return err
		}
	}
	return nil
}

// Begin starts a command in every part.
func (c *Client) Begin(ctx context.Context, call Caller) (bool, error) {
	any := false
	for _, p := range c.parts {
		a, err := p.Begin(ctx, call)
		if err != nil {
			return any, err
		}
		any = any || a
	}
	return any, nil
}

// Wrap lets each part wrap the request, transport last.
func (c *Client) Wrap(body []byte) ([][]byte, error) {
	frames := [][]byte{body}
	var err error
	for i := len(c.parts) - 1; i >= 0; i-- {
		if frames, err = c.parts[i].Wrap(frames); err != nil {
			return nil, err
		}
	}
	return frames, nil
}

// Unwrap undoes SealReply, transport first.
func (c *Client) Unwrap(reply []byte) ([]byte, error) {
	var err error
	for _, p := range c.parts {
		if reply, err = p.Unwrap(reply); err != nil {
			return nil, err
		}
	}
	return reply, nil
}

// End ends a command in every part.
func (c *Client) End(ctx context.Context) error {
	var errs []error
	for _, p := range c.parts {
		errs = append(errs, p.End(ctx))
	}
	return errors.Join(errs...)
}

// Close releases every part.
func (c *Client) Close() error {
	var errs []error
	for _, p := range c.parts {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// NopServer is a ServerPart that does nothing and allows everything; parts
// embed it.
type NopServer struct{}

// ConfigureServer does nothing.
func (NopServer) ConfigureServer(*zmq.Context, *zmq.Socket) error { return nil }

// Verify vouches for no one.
func (NopServer) Verify(context.Context, *wfs.Inbound) (wfs.Principal, error) {
	return wfs.Principal{}, nil
}

// Authorize allows everything.
func (NopServer) Authorize(context.Context, wfs.Principal, *wfs.Request) error { return nil }

// Handle handles nothing.
func (NopServer) Handle(context.Context, wfs.Principal, *wfs.Request) (any, bool, error) {
	return nil, false, nil
}

// SealReply returns the reply unchanged.
func (NopServer) SealReply(_ wfs.Principal, r []byte) ([]byte, error) { return r, nil }

// Event ignores the event.
func (NopServer) Event(context.Context, Event) error { return nil }

// CloseTransport does nothing.
func (NopServer) CloseTransport() {}

// Close does nothing.
func (NopServer) Close() error { return nil }

// NopClient is a ClientPart that does nothing; parts embed it.
type NopClient struct{}

// Configure does nothing.
func (NopClient) Configure(*zmq.Socket) error { return nil }

// Begin does nothing.
func (NopClient) Begin(context.Context, Caller) (bool, error) { return false, nil }

// Wrap returns the frames unchanged.
func (NopClient) Wrap(f [][]byte) ([][]byte, error) { return f, nil }

// Unwrap returns the reply unchanged.
func (NopClient) Unwrap(r []byte) ([]byte, error) { return r, nil }

// End does nothing.
func (NopClient) End(context.Context) error { return nil }

// Close does nothing.
func (NopClient) Close() error { return nil }

// CertificateFiler is implemented by client parts whose credential is a pair
// of ZeroMQ certificate files (CURVE), so that an external client (the Python
// client of scripts/cylc_message.py) can load them itself.
type CertificateFiler interface {
	CertificateFiles() (serverPublic, clientSecret string)
}

// ExternalClientArgs returns the key-file arguments for the Python client
// (scripts/cylc_message.py) for a client env: none for NULL, --server-key and
// --client-key for CURVE. Schemes with a credential are refused: the Python
// client sends none.
func (s *Scheme) ExternalClientArgs(ctx context.Context, env ClientEnv) ([]string, error) {
	if s.cred != nil {
		return nil, fmt.Errorf("scheme %s: the Python client sends no credential; it runs plain, curve and curve-job", s.spec.Raw)
	}
	cp, err := s.transport.Client(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("scheme %s: %w", s.spec.Raw, err)
	}
	defer cp.Close()
	if cf, ok := cp.(CertificateFiler); ok {
		srv, cl := cf.CertificateFiles()
		return []string{"--server-key", srv, "--client-key", cl}, nil
	}
	return nil, nil
}
