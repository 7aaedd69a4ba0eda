package wfs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// Rejectf returns a rejection error (not authenticated or not authorised).
func Rejectf(format string, a ...any) error {
	return &Error{Kind: KindRejected, Msg: fmt.Sprintf(format, a...)}
}

// MessageMutation is the GraphQL request a job message is sent as: the
// MUTATION constant of cylc-flow's cylc/flow/task_message.py, byte for byte.
// Its fields are those of the Message mutation in cylc/flow/network/schema.py
// (resolver mutator(command='put_messages')), which reaches
// Resolvers.put_messages in cylc/flow/network/resolvers.py.
const MessageMutation = `
mutation (
  $wFlows: [WorkflowID]!,
  $taskJob: String!,
  $eventTime: String,
  $messages: [[String]]
) {
  message (
    workflows: $wFlows,
    taskJob: $taskJob,
    eventTime: $eventTime,
    messages: $messages
  ) {
    result
  }
}
`

// messageMutationArgs are the args of a "graphql" message request, in the
// order cylc-flow's task_message.send_messages builds them.
type messageMutationArgs struct {
	RequestString string              `json:"request_string"`
	Variables     messageMutationVars `json:"variables"`
}

// messageMutationVars are MessageMutation's variables, in task_message.py's
// order.
type messageMutationVars struct {
	WFlows    []string    `json:"wFlows"`
	TaskJob   string      `json:"taskJob"`
	EventTime string      `json:"eventTime"`
	Messages  [][2]string `json:"messages"`
}

// EncodeMessageMutation renders a job message as cylc-flow 8's `cylc
// message` sends it (cylc/flow/task_message.py, send_messages): command
// "graphql", args {"request_string": MessageMutation, "variables":
// {"wFlows": [a.Workflow], "taskJob": a.TaskJob, "eventTime": a.EventTime,
// "messages": a.Messages}}, then meta. Keys come in task_message.py's
// order; separators are compact, as EncodeRequest writes every request
// (Python's json.dumps would put a space after ':' and ','). a.Workflow
// and a.TaskJob are required; nil Messages are sent as [].
func EncodeMessageMutation(a MessageArgs, meta Meta) ([]byte, error) {
	if a.Workflow == "" {
		return nil, fmt.Errorf("encode message mutation: no workflow (MessageArgs.Workflow)")
	}
	if a.TaskJob == "" {
		return nil, fmt.Errorf("encode message mutation: no task job")
	}
	msgs := a.Messages
	if msgs == nil {
		msgs = [][2]string{}
	}
	return EncodeRequest(CmdGraphQL, messageMutationArgs{
		RequestString: MessageMutation,
		Variables: messageMutationVars{
			WFlows: []string{a.Workflow}, TaskJob: a.TaskJob, EventTime: a.EventTime, Messages: msgs,
		},
	}, meta)
}

// normalGraphQL is s with GraphQL's insignificant characters (ASCII white
// space, line terminators, commas and # comments) dropped, keeping one space only
// between two name characters, so that two layouts of one request compare
// equal.
func normalGraphQL(s string) string {
	isName := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	b := make([]byte, 0, len(s))
	sep := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\n', '\r', ',':
			sep = true
			continue
		case '#':
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
			sep = true
			continue
		}
		if sep && len(b) > 0 && isName(b[len(b)-1]) && isName(c) {
			b = append(b, ' ')
		}
		sep = false
		b = append(b, c)
	}
	return string(b)
}

var normalMessageMutation = normalGraphQL(MessageMutation)

// IsMessageMutation reports whether a GraphQL request string is
// MessageMutation, laid out in any way.
func IsMessageMutation(requestString string) bool {
	return normalGraphQL(requestString) == normalMessageMutation
}

func protocolf(format string, a ...any) error {
	return &Error{Kind: KindProtocol, Msg: fmt.Sprintf(format, a...)}
}

// DecodeMessageMutation parses and checks the args of a "graphql" request
// as cylc-flow's server would execute MessageMutation: request_string must
// be MessageMutation (authbench runs no other GraphQL request), $wFlows a
// non-null list of workflow ids, $taskJob a non-null string, $eventTime a
// string or null, and $messages a non-null list of [severity, message]
// string pairs (Resolvers.put_messages unpacks each into two; a null list
// fails there). It returns the message args (Workflow is $wFlows[0], ""
// when the list is empty) and every workflow in $wFlows. Any other input is
// a KindProtocol *Error: cylc-flow answers such a request with an error
// reply (WorkflowRuntimeServer.graphql raises on execution errors).
// Variable names are case-sensitive, as in GraphQL; unknown args are
// refused (WorkflowRuntimeServer.graphql takes no others) and unknown
// variables ignored.
func DecodeMessageMutation(args json.RawMessage) (MessageArgs, []string, error) {
	var top map[string]json.RawMessage
	if len(args) == 0 {
		return MessageArgs{}, nil, protocolf("graphql: no args")
	}
	if err := json.Unmarshal(args, &top); err != nil || top == nil {
		return MessageArgs{}, nil, protocolf("graphql args: want an object")
	}
	for k := range top {
		switch k {
		case "request_string", "variables", "meta":
		default:
			return MessageArgs{}, nil, protocolf("graphql: unexpected argument %q", k)
		}
	}
	var rs string
	if raw, ok := top["request_string"]; !ok || json.Unmarshal(raw, &rs) != nil || rs == "" {
		return MessageArgs{}, nil, protocolf("graphql: request_string must be a non-empty string")
	}
	if !IsMessageMutation(rs) {
		return MessageArgs{}, nil, protocolf("graphql: only the job message mutation of cylc-flow's task_message.py is served")
	}
	var vars map[string]json.RawMessage
	if raw, ok := top["variables"]; !ok || json.Unmarshal(raw, &vars) != nil || vars == nil {
		return MessageArgs{}, nil, protocolf("graphql: variables must be an object")
	}
	isNull := func(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }
	var a MessageArgs
	var workflows []*string
	if raw := vars["wFlows"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $wFlows of required type [WorkflowID]! was not provided")
	} else if err := json.Unmarshal(raw, &workflows); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $wFlows: want a list of workflow ids")
	}
	wf := make([]string, 0, len(workflows))
	for _, w := range workflows {
		if w == nil || *w == "" {
			return MessageArgs{}, nil, protocolf("graphql: variable $wFlows: null or empty workflow id")
		}
		wf = append(wf, *w)
	}
	if len(wf) > 0 {
		a.Workflow = wf[0]
	}
	if raw := vars["taskJob"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $taskJob of required type String! was not provided")
	} else if err := json.Unmarshal(raw, &a.TaskJob); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $taskJob: want a string")
	}
	if raw := vars["eventTime"]; !isNull(raw) {
		if err := json.Unmarshal(raw, &a.EventTime); err != nil {
			return MessageArgs{}, nil, protocolf("graphql: variable $eventTime: want a string")
		}
	}
	var msgs [][]*string
	if raw := vars["messages"]; isNull(raw) {
		return MessageArgs{}, nil, protocolf("graphql: variable $messages: want a list of [severity, message] pairs, got null")
	} else if err := json.Unmarshal(raw, &msgs); err != nil {
		return MessageArgs{}, nil, protocolf("graphql: variable $messages: want a list of [severity, message] string pairs")
	}
	a.Messages = make([][2]string, 0, len(msgs))
	for i, m := range msgs {
		if len(m) != 2 || m[0] == nil || m[1] == nil {
			return MessageArgs{}, nil, protocolf("graphql: variable $messages[%d]: want [severity, message]", i)
		}
		a.Messages = append(a.Messages, [2]string{*m[0], *m[1]})
	}
	return a, wf, nil
}

// JobMessage returns the job message a request carries, in either
// encoding: the "message" command's args, or a "graphql" request's
// MessageMutation variables (Workflow filled). ok is false for any other
// command; err is a KindProtocol *Error when the args do not parse. Schemes
// that authorise job messages per job use it, so that both encodings are
// held to the same rule.
func JobMessage(req *Request) (a MessageArgs, ok bool, err error) {
	switch req.Command {
	case CmdMessage:
		if err := json.Unmarshal(req.Args, &a); err != nil {
			return MessageArgs{}, true, protocolf("message args: %v", err)
		}
		return a, true, nil
	case CmdGraphQL:
		a, _, err := DecodeMessageMutation(req.Args)
		return a, true, err
	}
	return MessageArgs{}, false, nil
}

// JobMessageRequest is a job message as a client sends it to a WFS of the
// given model. Against the cylc model it does what `cylc message` does
// (cylc-flow cylc/flow/task_message.py, record_messages): it appends the
// message to the job's job.status itself through files, without fsync
// (_append_job_status_file), then encodes the GraphQL mutation
// (send_messages, MUTATION); a.Workflow must be set. Against the fast model
// it encodes the message command, and the WFS appends.
func JobMessageRequest(model string, run *RunDir, files *Files, a MessageArgs, meta Meta) ([]byte, error) {
	if model != ModelCylc {
		return EncodeRequest(CmdMessage, a, meta)
	}
	id, err := ParseJobID(a.TaskJob)
	if err != nil {
		return nil, err
	}
	if err := CheckJobStatusFields(a); err != nil {
		return nil, err
	}
	if err := files.AppendFile(run.JobStatusPath(id), JobStatusLines(a), 0o600); err != nil {
		return nil, fmt.Errorf("append job.status: %w", err)
	}
	return EncodeMessageMutation(a, meta)
}
