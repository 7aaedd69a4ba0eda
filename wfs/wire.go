package wfs

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
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
	// CmdGraphQL is cylc-flow 8's "graphql" endpoint
	// (cylc/flow/network/server.py, WorkflowRuntimeServer.graphql). authbench
	// serves one request through it: the job message mutation of
	// cylc/flow/task_message.py (MessageMutation), which both server models
	// accept beside CmdMessage.
	CmdGraphQL = "graphql"
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
	// Workflow is the workflow id. The "message" command does not carry it
	// (it is never in that encoding); the graphql encoding
	// (EncodeMessageMutation) sends it as $wFlows and requires it, and
	// DecodeMessageMutation fills it from $wFlows[0].
	Workflow string `json:"-"`
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
	// KindDiskFull: the WFS could not write its run directory, its file
	// system full (ENOSPC) or its quota spent (EDQUOT).
	KindDiskFull ErrorKind = "disk_full"
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
//
// The envelope is written by hand (byte for byte what encoding/json writes
// for Request; wire_test.go checks it against encoding/json): only args, an
// arbitrary value, goes through encoding/json.
func EncodeRequest(cmd string, args any, meta Meta) ([]byte, error) {
	var a []byte
	if args != nil {
		var err error
		if a, err = json.Marshal(args); err != nil {
			return nil, fmt.Errorf("encode %s args: %w", cmd, err)
		}
		// json.Marshal's output is already compact and HTML-escaped, which is
		// what encoding/json makes of a RawMessage field.
	}
	b := make([]byte, 0, 48+len(cmd)+len(a)+len(meta.Prog)+len(meta.Host)+len(meta.CommsMethod))
	b = append(b, `{"command":`...)
	b = appendString(b, cmd)
	if len(a) > 0 {
		b = append(b, `,"args":`...)
		b = append(b, a...)
	}
	b = append(b, `,"meta":{`...)
	sep := false
	for _, f := range [...]struct{ key, val string }{
		{`"prog":`, meta.Prog}, {`"host":`, meta.Host}, {`"comms_method":`, meta.CommsMethod},
	} {
		if f.val == "" {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		b = append(b, f.key...)
		b = appendString(b, f.val)
		sep = true
	}
	return append(b, '}', '}'), nil
}

// DecodeRequest parses a request frame; a missing command is a protocol error.
func DecodeRequest(b []byte) (*Request, error) {
	var r Request
	if !fastDecodeRequest(b, &r) {
		r = Request{}
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, &Error{Kind: KindProtocol, Msg: "request is not a JSON object: " + err.Error()}
		}
	}
	if r.Command == "" {
		return nil, &Error{Kind: KindProtocol, Msg: "request has no command"}
	}
	return &r, nil
}

// EncodeReply renders a data reply. Data made of maps with string keys,
// strings, bools, ints and nil is written by hand (as encoding/json writes
// it: sorted keys, HTML-safe escapes); anything else goes through
// encoding/json.
func EncodeReply(data any) []byte {
	if b, ok := appendValue(append(make([]byte, 0, 64), `{"data":`...), data, 0); ok {
		return append(b, '}')
	}
	d, err := json.Marshal(data)
	if err != nil {
		return EncodeError(KindInternal, "encode reply: "+err.Error())
	}
	b, _ := json.Marshal(Reply{Data: d})
	return b
}

// EncodeError renders an error reply.
func EncodeError(kind ErrorKind, msg string) []byte {
	b := make([]byte, 0, 40+len(msg)+len(kind))
	b = append(b, `{"error":{"message":`...)
	b = appendString(b, msg)
	if kind != "" {
		b = append(b, `,"kind":`...)
		b = appendString(b, string(kind))
	}
	return append(b, '}', '}')
}

// DecodeReply parses a reply frame and turns an error reply into an *Error.
func DecodeReply(b []byte) (json.RawMessage, error) {
	if d, ok := fastDecodeReply(b); ok {
		return d, nil
	}
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

// The hand-written paths below cover the envelopes the WFS and its clients
// exchange on every request without reflection. Each decoder answers only
// when it is sure to agree with encoding/json (the input is valid JSON, keys
// and the strings it keeps are plain ASCII without escapes, no key is
// repeated or matches a field only case-insensitively) and otherwise leaves
// the input to encoding/json, so errors and odd inputs behave exactly as
// before. wire_test.go fuzzes both against encoding/json.

// maxFastDepth bounds appendValue's recursion.
const maxFastDepth = 8

// appendValue appends v as encoding/json would when v is nil, a string, a
// bool, an int or int64, or a map[string]any of those; ok is false (and dst
// is garbage) for anything else.
func appendValue(dst []byte, v any, depth int) (_ []byte, ok bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		if depth >= maxFastDepth || len(x) > 8 {
			return dst, false
		}
		var arr [8]string
		keys := arr[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			if dst, ok = appendValue(dst, x[k], depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	return dst, false
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does
// (HTML-safe: <, > and & escaped; invalid UTF-8 as U+FFFD; U+2028 and U+2029
// escaped).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// maxValidDepth is the deepest nesting quickValid follows; deeper input
// takes the encoding/json path.
const maxValidDepth = 64

// quickValid reports whether b is one JSON value, surrounded by whitespace
// or not, as json.Valid decides (nested at most maxValidDepth deep: it says
// false for deeper input, which then takes the encoding/json path).
func quickValid(b []byte) bool {
	v := scan{b: b}
	v.ws()
	if !v.valid(0) {
		return false
	}
	v.ws()
	return v.i == len(b)
}

func (p *scan) valid(depth int) bool {
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; c {
	case '{', '[':
		if depth >= maxValidDepth {
			return false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == end {
			p.i++
			return true
		}
		for {
			if c == '{' {
				if p.i >= len(p.b) || p.b[p.i] != '"' || !p.validString() {
					return false
				}
				p.ws()
				if p.i >= len(p.b) || p.b[p.i] != ':' {
					return false
				}
				p.i++
				p.ws()
			}
			if !p.valid(depth + 1) {
				return false
			}
			p.ws()
			if p.i >= len(p.b) {
				return false
			}
			switch p.b[p.i] {
			case ',':
				p.i++
				p.ws()
			case end:
				p.i++
				return true
			default:
				return false
			}
		}
	case '"':
		return p.validString()
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	}
	return p.validNumber()
}

func (p *scan) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// validString checks the string whose opening quote is at p.i: no control
// characters, only JSON's escapes; any other byte (even invalid UTF-8) is
// allowed, as encoding/json allows it.
func (p *scan) validString() bool {
	for p.i++; p.i < len(p.b); {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return false
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+5 >= len(p.b) || !isHex(p.b[p.i+2]) || !isHex(p.b[p.i+3]) || !isHex(p.b[p.i+4]) || !isHex(p.b[p.i+5]) {
					return false
				}
				p.i += 6
			default:
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

func (p *scan) digits() int {
	n := 0
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// validNumber checks -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at p.i.
func (p *scan) validNumber() bool {
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i >= len(p.b) {
		return false
	}
	if p.b[p.i] == '0' {
		p.i++
	} else if p.digits() == 0 {
		return false
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		p.i++
		if p.digits() == 0 {
			return false
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return false
		}
	}
	return true
}

// scan walks JSON already checked by quickValid.
type scan struct {
	b []byte
	i int
}

func (p *scan) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// plainString reads a string at p.i and returns its bytes, or ok false when
// it is not a string or holds an escape or a non-ASCII byte.
func (p *scan) plainString() (_ []byte, ok bool) {
	if p.b[p.i] != '"' {
		return nil, false
	}
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return p.b[start:j], true
		case c == '\\' || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// value skips the value at p.i and returns its bytes.
func (p *scan) value() []byte {
	start := p.i
	depth := 0
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '"':
			for p.i++; p.b[p.i] != '"'; p.i++ {
				if p.b[p.i] == '\\' {
					p.i++
				}
			}
			p.i++
		case '{', '[':
			depth++
			p.i++
			continue
		case '}', ']':
			if depth == 0 {
				return p.b[start:p.i]
			}
			depth--
			p.i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return p.b[start:p.i]
			}
			p.i++
			continue
		default: // literals, numbers, ':'
			p.i++
			continue
		}
		if depth == 0 { // a string or container has just closed
			return p.b[start:p.i]
		}
	}
	return p.b[start:p.i]
}

// object calls field for each member of the object at p.i; it stops with
// false when the value is not an object, a key is not a plain string, or
// field returns false. field must consume the member's value.
func (p *scan) object(field func(key []byte) bool) bool {
	if p.b[p.i] != '{' {
		return false
	}
	p.i++
	p.ws()
	if p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		key, ok := p.plainString()
		if !ok {
			return false
		}
		p.ws()
		p.i++ // ':'
		p.ws()
		if !field(key) {
			return false
		}
		p.ws()
		c := p.b[p.i]
		p.i++
		if c == '}' {
			return true
		}
		p.ws() // after ','
	}
}

// foldsTo reports whether key matches one of names only case-insensitively
// (encoding/json would then fill that field).
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && strings.EqualFold(string(key), n) {
			return true
		}
	}
	return false
}

func fastDecodeRequest(b []byte, r *Request) bool {
	if !quickValid(b) {
		return false
	}
	p := scan{b: b}
	p.ws()
	var seen, seenMeta uint8
	return p.object(func(key []byte) bool {
		switch string(key) {
		case "command":
			if seen&1 != 0 {
				return false
			}
			seen |= 1
			s, ok := p.plainString()
			if !ok {
				return false
			}
			r.Command = string(s)
		case "args":
			if seen&2 != 0 || p.b[p.i] == 'n' {
				return false
			}
			seen |= 2
			r.Args = append(json.RawMessage(nil), p.value()...)
		case "meta":
			if seen&4 != 0 {
				return false
			}
			seen |= 4
			return p.object(func(key []byte) bool {
				var dst *string
				var bit uint8
				switch string(key) {
				case "prog":
					dst, bit = &r.Meta.Prog, 1
				case "host":
					dst, bit = &r.Meta.Host, 2
				case "comms_method":
					dst, bit = &r.Meta.CommsMethod, 4
				default:
					if foldsTo(key, "prog", "host", "comms_method") {
						return false
					}
					p.value()
					return true
				}
				if seenMeta&bit != 0 {
					return false
				}
				seenMeta |= bit
				s, ok := p.plainString()
				if !ok {
					return false
				}
				*dst = string(s)
				return true
			})
		default:
			if foldsTo(key, "command", "args", "meta") {
				return false
			}
			p.value()
		}
		return true
	})
}

func fastDecodeReply(b []byte) (json.RawMessage, bool) {
	if !quickValid(b) {
		return nil, false
	}
	p := scan{b: b}
	p.ws()
	var data json.RawMessage
	ok := p.object(func(key []byte) bool {
		switch {
		case string(key) == "data":
			if data != nil || p.b[p.i] == 'n' {
				return false
			}
			data = append(json.RawMessage(nil), p.value()...)
			return true
		case foldsTo(key, "data", "error"):
			return false // "error" included: error replies take the slow path
		}
		p.value()
		return true
	})
	if !ok || data == nil {
		return nil, false
	}
	return data, true
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

// ErrDiskFull matches a disk_full error reply (errors.Is); IsDiskFull also
// matches the ENOSPC and EDQUOT of this side's own file operations.
var ErrDiskFull error = &Error{Kind: KindDiskFull}

// IsDiskFull reports whether err is a full file system: ENOSPC or EDQUOT
// from a file operation on this side, or a WFS's disk_full error reply.
func IsDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, ErrDiskFull)
}

// replyKind is the kind of error reply err makes: its own kind for a typed
// Error, disk_full for a full file system, else def.
func replyKind(err error, def ErrorKind) (ErrorKind, *Error) {
	var we *Error
	switch {
	case errors.As(err, &we):
		return we.Kind, we
	case IsDiskFull(err):
		return KindDiskFull, nil
	}
	return def, nil
}

// Rejectf returns a rejection error (not authenticated or not authorised).
func Rejectf(format string, a ...any) error {
	return &Error{Kind: KindRejected, Msg: fmt.Sprintf(format, a...)}
}
