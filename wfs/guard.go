package wfs

import (
	"context"

	zmq "github.com/pebbe/zmq4"
)

// Inbound is one request as the server received it, before authentication.
type Inbound struct {
	// Frames are the request frames after the REQ envelope: the body and, when
	// the scheme sends one, a credential frame.
	Frames [][]byte
	// UserID is the ZAP User-Id the transport attached (for CURVE, the name
	// the scheme's ZAP handler gave the client key); empty for NULL.
	UserID string
	// Peer is the peer's address as libzmq reports it.
	Peer string
}

// Principal is who a verified request comes from and what it may do.
type Principal struct {
	// Name is the user name, job id or UI server name.
	Name string `json:"name"`
	// Kind is "user", "job", "uis" or "anonymous".
	Kind string `json:"kind"`
	// Scopes are capabilities such as "workflow.read", "workflow.control" and
	// "job.message:<job-id>"; nil means the scheme does not authorise finely.
	Scopes []string `json:"scopes,omitempty"`
	// Transport is the identity the transport vouched for (the CURVE key's
	// name), when it differs from the credential's.
	Transport string `json:"transport,omitempty"`
}

// Guard is everything the WFS asks of an authentication scheme. The WFS knows
// no scheme by name: each scheme's server side implements Guard.
type Guard interface {
	// ConfigureServer is called on the server's socket before it binds; a
	// transport-security scheme sets its options (and ZAP handler, in zctx)
	// here.
	ConfigureServer(zctx *zmq.Context, sock *zmq.Socket) error
	// Open authenticates an inbound request and returns the plain request
	// body (frame 0 for most schemes; decrypted for sealing schemes) and the
	// caller. A rejection is an *Error of KindRejected.
	Open(ctx context.Context, in *Inbound) (body []byte, who Principal, err error)
	// Authorize decides whether who may run req.
	Authorize(ctx context.Context, who Principal, req *Request) error
	// Handle serves a command the scheme defines (for example "token", a
	// one-command token request). It returns handled=false for commands it
	// does not own.
	Handle(ctx context.Context, who Principal, req *Request) (data any, handled bool, err error)
	// SealReply may transform a reply frame for the caller (encrypting it,
	// say); most schemes return it unchanged.
	SealReply(who Principal, reply []byte) ([]byte, error)
}

// OpenGuard is a Guard that lets everyone do everything: no transport
// security and no credential. Schemes embed it for the methods they do not
// override.
type OpenGuard struct{}

// ConfigureServer does nothing.
func (OpenGuard) ConfigureServer(*zmq.Context, *zmq.Socket) error { return nil }

// Open accepts the request as anonymous. Extra frames are a protocol error.
func (OpenGuard) Open(_ context.Context, in *Inbound) ([]byte, Principal, error) {
	if len(in.Frames) != 1 {
		return nil, Principal{}, &Error{Kind: KindProtocol, Msg: "unexpected credential frame"}
	}
	return in.Frames[0], Principal{Name: "anonymous", Kind: "anonymous"}, nil
}

// Authorize allows everything.
func (OpenGuard) Authorize(context.Context, Principal, *Request) error { return nil }

// Handle handles nothing.
func (OpenGuard) Handle(context.Context, Principal, *Request) (any, bool, error) {
	return nil, false, nil
}

// SealReply returns the reply unchanged.
func (OpenGuard) SealReply(_ Principal, reply []byte) ([]byte, error) { return reply, nil }

// TransportCloser is implemented by guards that open sockets in the server's
// ZMQ context (a ZAP handler, say). The server calls CloseTransport after
// closing its own socket and before terminating the context.
type TransportCloser interface {
	CloseTransport()
}
