package wfs

import (
	"encoding/json"
	"fmt"
)

// Commands the WFS serves. Control commands change workflow state; job
// messages come from jobs; data is the UI server's poll.
const (
	CmdPing    = "ping"
	CmdTrigger = "trigger"
	CmdHold    = "hold"
	CmdRelease = "release"
	CmdStop    = "stop"
	CmdMessage = "message"
	CmdData    = "data"
)

// IsControl reports whether cmd is a control command (trigger, hold, release, stop).
func IsControl(cmd string) bool {
	switch cmd {
	case CmdTrigger, CmdHold, CmdRelease, CmdStop:
		return true
	}
	return false
}

// Meta is the "meta" object Cylc clients send with every request.
type Meta struct {
	Prog        string `json:"prog,omitempty"`
	Host        string `json:"host,omitempty"`
	CommsMethod string `json:"comms_method,omitempty"`
}

// Request is one request frame: {"command": ..., "args": {...}, "meta": {...}}.
type Request struct {
	Command string          `json:"command"`
	Args    json.RawMessage `json:"args,omitempty"`
	Meta    Meta            `json:"meta"`
}

// MessageArgs are the args of a job "message" request, with Cylc's names.
type MessageArgs struct {
	TaskJob   string      `json:"task_job"`
	EventTime string      `json:"event_time"`
	Messages  [][2]string `json:"messages"` // [[severity, text], ...]
}

// DataArgs are the args of a UI-server "data" poll: the reply carries Size
// bytes of data.
type DataArgs struct {
	Size int `json:"size"`
}

// ErrorKind classifies an error reply so that clients can type their errors.
type ErrorKind string

// Error kinds carried in error replies and client errors.
const (
	KindRejected ErrorKind = "rejected" // not authenticated or not authorised
	KindProtocol ErrorKind = "protocol" // malformed request or reply
	KindUnknown  ErrorKind = "unknown_command"
	KindInternal ErrorKind = "internal"
	KindTimeout  ErrorKind = "timeout"
)

// ReplyError is the "error" object of an error reply.
type ReplyError struct {
	Message string    `json:"message"`
	Kind    ErrorKind `json:"kind,omitempty"`
}

// Reply is one reply frame: {"data": ...} or {"error": {...}}.
type Reply struct {
	Data  json.RawMessage `json:"data,omitempty"`
	Error *ReplyError     `json:"error,omitempty"`
}

// EncodeRequest renders a request frame. args may be nil.
func EncodeRequest(cmd string, args any, meta Meta) ([]byte, error) {
	r := Request{Command: cmd, Meta: meta}
	if args != nil {
		a, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("encode %s args: %w", cmd, err)
		}
		r.Args = a
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", cmd, err)
	}
	return b, nil
}

// DecodeRequest parses a request frame; a missing command is a protocol error.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &Error{Kind: KindProtocol, Msg: "request is not a JSON object: " + err.Error()}
	}
	if r.Command == "" {
		return nil, &Error{Kind: KindProtocol, Msg: "request has no command"}
	}
	return &r, nil
}

// EncodeReply renders a data reply.
func EncodeReply(data any) []byte {
	d, err := json.Marshal(data)
	if err != nil {
		return EncodeError(KindInternal, "encode reply: "+err.Error())
	}
	b, _ := json.Marshal(Reply{Data: d})
	return b
}

// EncodeError renders an error reply.
func EncodeError(kind ErrorKind, msg string) []byte {
	b, _ := json.Marshal(Reply{Error: &ReplyError{Message: msg, Kind: kind}})
	return b
}

// DecodeReply parses a reply frame and turns an error reply into an *Error.
func DecodeReply(b []byte) (json.RawMessage, error) {
	var r Reply
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &Error{Kind: KindProtocol, Msg: "reply is not JSON: " + err.Error()}
	}
	if r.Error != nil {
		k := r.Error.Kind
		if k == "" {
			k = KindInternal
		}
		return nil, &Error{Kind: k, Msg: r.Error.Message}
	}
	if r.Data == nil {
		return nil, &Error{Kind: KindProtocol, Msg: "reply has neither data nor error"}
	}
	return r.Data, nil
}

// Error is a typed WFS error, on either side of the wire.
type Error struct {
	Kind ErrorKind
	Msg  string
}

func (e *Error) Error() string { return string(e.Kind) + ": " + e.Msg }

// Is makes errors.Is(err, &Error{Kind: k}) match on kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Kind == e.Kind
}

// Sentinel errors for errors.Is: ErrTimeout, ErrRejected, ErrProtocol.
var (
	ErrTimeout  error = &Error{Kind: KindTimeout}
	ErrRejected error = &Error{Kind: KindRejected}
	ErrProtocol error = &Error{Kind: KindProtocol}
)

// Rejectf returns a rejection error (not authenticated or not authorised).
func Rejectf(format string, a ...any) error {
	return &Error{Kind: KindRejected, Msg: fmt.Sprintf(format, a...)}
}
