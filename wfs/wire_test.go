package wfs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// The hand-written envelope code in wire.go must agree byte for byte with
// encoding/json. These are the reference versions it replaced.

func refEncodeRequest(cmd string, args any, meta Meta) ([]byte, error) {
	r := Request{Command: cmd, Meta: meta}
	if args != nil {
		a, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		r.Args = a
	}
	return json.Marshal(r)
}

func refDecodeRequest(b []byte) (*Request, error) {
	var r Request
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &Error{Kind: KindProtocol, Msg: "request is not a JSON object: " + err.Error()}
	}
	if r.Command == "" {
		return nil, &Error{Kind: KindProtocol, Msg: "request has no command"}
	}
	return &r, nil
}

func refEncodeReply(data any) []byte {
	d, err := json.Marshal(data)
	if err != nil {
		return refEncodeError(KindInternal, "encode reply: "+err.Error())
	}
	b, _ := json.Marshal(Reply{Data: d})
	return b
}

func refEncodeError(kind ErrorKind, msg string) []byte {
	b, _ := json.Marshal(Reply{Error: &ReplyError{Message: msg, Kind: kind}})
	return b
}

func refDecodeReply(b []byte) (json.RawMessage, error) {
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

var trickyStrings = []string{
	"", "ping", "cylc-ping", "a\"b", `back\slash`, "<script>&</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "héllo wörld", "\u2028\u2029", "bad\xffutf8\xc3", "\xed\xa0\x80", "日本語",
	"emoji 😀", "ſ", "K", "\"", "\\", "/",
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Error() == b.Error()
}

func checkEncodeReply(t *testing.T, data any) {
	t.Helper()
	if got, want := EncodeReply(data), refEncodeReply(data); !bytes.Equal(got, want) {
		t.Errorf("EncodeReply(%#v)\n got %s\nwant %s", data, got, want)
	}
}

func TestEncodeReplyMatchesJSON(t *testing.T) {
	values := []any{nil, true, false, 0, -7, int64(1) << 62, 3.5, "", "x", map[string]any(nil), map[string]any{},
		map[string]any{"workflow": "a/b", "pong": true}, map[string]any{"command": "stop", "queued": true},
		map[string]any{"received": 3}, map[string]any{"z": map[string]any{"b": nil, "a": []int{1}}},
		[]string{"a"}, json.RawMessage(` { "a" : 1 } `), struct{ A int }{1},
		map[string]any{"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7, "8": 8, "9": 9}}
	for _, s := range trickyStrings {
		values = append(values, s, map[string]any{s: s, "k" + s: true})
	}
	for _, v := range values {
		checkEncodeReply(t, v)
	}
	deep := map[string]any{"leaf": "x"}
	for i := 0; i < 12; i++ {
		deep = map[string]any{"d": deep}
	}
	checkEncodeReply(t, deep)
	checkEncodeReply(t, map[string]any{"bad": make(chan int)})
}

func TestEncodeErrorMatchesJSON(t *testing.T) {
	for _, s := range trickyStrings {
		for _, k := range []ErrorKind{"", KindRejected, ErrorKind(s)} {
			if got, want := EncodeError(k, s), refEncodeError(k, s); !bytes.Equal(got, want) {
				t.Errorf("EncodeError(%q, %q)\n got %s\nwant %s", k, s, got, want)
			}
		}
	}
}

func TestEncodeRequestMatchesJSON(t *testing.T) {
	argsList := []any{nil, MessageArgs{TaskJob: "1/a/01", EventTime: "t", Messages: [][2]string{{"INFO", "<&>"}}},
		DataArgs{Size: 9}, json.RawMessage(" {\"a\" : \"<\"} "), map[string]any{}, "s"}
	for _, s := range trickyStrings {
		for _, args := range argsList {
			for _, m := range []Meta{{}, {Prog: s}, {Host: s}, {CommsMethod: s}, {Prog: "cylc-" + s, Host: "localhost", CommsMethod: "zmq"}} {
				got, gerr := EncodeRequest(s, args, m)
				want, werr := refEncodeRequest(s, args, m)
				if !bytes.Equal(got, want) || (gerr == nil) != (werr == nil) {
					t.Errorf("EncodeRequest(%q, %v, %+v)\n got %s %v\nwant %s %v", s, args, m, got, gerr, want, werr)
				}
			}
		}
	}
	if _, err := EncodeRequest("x", make(chan int), Meta{}); err == nil {
		t.Error("EncodeRequest with unencodable args: no error")
	}
}

var requestSeeds = []string{
	`{"command":"ping","meta":{"prog":"cylc-ping","host":"localhost","comms_method":"zmq"}}`,
	`{"command":"message","args":{"task_job":"1/a/01","messages":[["INFO","x"]]},"meta":{"prog":"cylc-message"}}`,
	` { "command" : "ping" , "args" : [ 1 , "a\"}" , {"x":[]} ] , "meta" : { } } `,
	`{"command":"ping","command":"stop"}`, `{"Command":"ping"}`, `{"COMMAND":"ping","command":"x"}`,
	`{"command":"p\u0069ng"}`, `{"command":"héllo"}`, `{"command":null}`, `{"command":1}`, `{"command":""}`,
	`{"args":null,"command":"a"}`, `{"args":1e5,"command":"a"}`, `{"args":"s","command":"a"}`, `{"args":true,"command":"a"}`,
	`{"argſ":{},"command":"a"}`, `{"meta":null,"command":"a"}`, `{"meta":[],"command":"a"}`, `{"meta":{"Prog":"x"},"command":"a"}`,
	`{"meta":{"prog":"x","prog":"y"},"command":"a"}`, `{"meta":{"hoſt":"x"},"command":"a"}`, `{"meta":{"other":{"a":[1,2]},"host":"h"},"command":"a"}`,
	`{"extra":[{"a":"}"}],"command":"a","more":-1.5e-3,"n":null,"t":true}`, `{}`, `[]`, `null`, `"ping"`, ``, `{`,
	`{"command":"ping"} x`, `{"command":"ping",}`, "{\"command\":\"a\tb\"}", `{"command":"a","args":{}}`,
	`{"command":"a","args":{"x":"\ud83d\ude00"}}`, "{\"command\":\"a\",\"args\":\"\xff\"}", `{"command":"a","meta":{"prog":1}}`,
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := DecodeRequest(b)
		want, werr := refDecodeRequest(b)
		if !sameErr(gerr, werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeRequest(%q)\n got %#v %v\nwant %#v %v", b, got, gerr, want, werr)
		}
		if got != nil && len(b) > 0 && len(got.Args) > 0 && &got.Args[0] == &b[0] {
			t.Fatal("Args aliases the input")
		}
	})
}

var replySeeds = []string{
	`{"data":{"pong":true,"workflow":"a"}}`, `{"data":"xxxx"}`, `{"data":null}`, `{"data":1}`, `{"data":[1,{"a":"]"}]}`,
	` { "data" : { "a" : [ ] } } `, `{"error":{"message":"no","kind":"rejected"}}`, `{"error":{"message":"no"}}`,
	`{"data":1,"error":{"message":"no"}}`, `{"Data":1}`, `{"DATA":1,"data":2}`, `{"data":1,"data":2}`, `{"other":1}`,
	`{}`, `null`, `[]`, `{"data":}`, `{"data":1}x`, `{"d\u0061ta":1}`, `{"x":"\"","data":"\\"}`, `{"data":-0.5e+7}`,
	`{"data":true}`, `{"data":false}`, `{"data":"\u2028"}`,
}

func FuzzDecodeReply(f *testing.F) {
	for _, s := range replySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gerr := DecodeReply(b)
		want, werr := refDecodeReply(b)
		if !sameErr(gerr, werr) || !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("DecodeReply(%q)\n got %q %v\nwant %q %v", b, got, gerr, want, werr)
		}
	})
}

func FuzzEncode(f *testing.F) {
	for i, s := range trickyStrings {
		f.Add(s, trickyStrings[(i+1)%len(trickyStrings)], i%2 == 0, int64(i*1000-5000))
	}
	f.Fuzz(func(t *testing.T, s1, s2 string, flag bool, n int64) {
		checkEncodeReply(t, s1)
		checkEncodeReply(t, map[string]any{s1: s2, s2: flag, "n": n, "i": int(n), "m": map[string]any{s2: s1}})
		if got, want := EncodeError(ErrorKind(s2), s1), refEncodeError(ErrorKind(s2), s1); !bytes.Equal(got, want) {
			t.Fatalf("EncodeError(%q, %q)\n got %s\nwant %s", s2, s1, got, want)
		}
		m := Meta{Prog: s1, Host: s2}
		if flag {
			m.CommsMethod = s1 + s2
		}
		for _, args := range []any{nil, map[string]string{s1: s2}} {
			got, _ := EncodeRequest(s1, args, m)
			want, _ := refEncodeRequest(s1, args, m)
			if !bytes.Equal(got, want) {
				t.Fatalf("EncodeRequest(%q, %v, %+v)\n got %s\nwant %s", s1, args, m, got, want)
			}
			// What is encoded decodes the same both ways.
			r1, e1 := DecodeRequest(got)
			r2, e2 := refDecodeRequest(got)
			if !sameErr(e1, e2) || !reflect.DeepEqual(r1, r2) {
				t.Fatalf("round trip of %s: got %#v %v want %#v %v", got, r1, e1, r2, e2)
			}
		}
		rep := EncodeReply(map[string]any{"s": s1})
		d1, e1 := DecodeReply(rep)
		d2, e2 := refDecodeReply(rep)
		if !sameErr(e1, e2) || !bytes.Equal(d1, d2) {
			t.Fatalf("reply round trip of %s: got %q %v want %q %v", rep, d1, e1, d2, e2)
		}
	})
}

func TestFastPathsTaken(t *testing.T) {
	// The common envelopes must not fall back to encoding/json.
	body, _ := EncodeRequest(CmdPing, nil, Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"})
	var r Request
	if !fastDecodeRequest(body, &r) || r.Command != CmdPing || r.Meta.CommsMethod != "zmq" {
		t.Errorf("fast request decode of %s: %+v", body, r)
	}
	msg, _ := EncodeRequest(CmdMessage, MessageArgs{TaskJob: "1/a/01", EventTime: "t", Messages: [][2]string{{"INFO", "started"}}}, Meta{})
	if r = (Request{}); !fastDecodeRequest(msg, &r) || string(r.Args) == "" {
		t.Errorf("fast request decode of %s: %+v", msg, r)
	}
	rep := EncodeReply(map[string]any{"workflow": "w", "pong": true})
	if d, ok := fastDecodeReply(rep); !ok || string(d) != `{"pong":true,"workflow":"w"}` {
		t.Errorf("fast reply decode of %s: %s %v", rep, d, ok)
	}
	if _, ok := appendValue(nil, map[string]any{"workflow": "w", "pong": true}, 0); !ok {
		t.Error("ping data not on the fast path")
	}
}

func BenchmarkWirePing(b *testing.B) {
	body, _ := EncodeRequest(CmdPing, nil, Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"})
	b.ReportAllocs()
	for b.Loop() {
		req, err := DecodeRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		rep := EncodeReply(map[string]any{"workflow": "authbench/calibrate", "pong": req.Command == CmdPing})
		if _, err := DecodeReply(rep); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWirePingRef(b *testing.B) {
	body, _ := EncodeRequest(CmdPing, nil, Meta{Prog: "cylc-ping", Host: "localhost", CommsMethod: "zmq"})
	b.ReportAllocs()
	for b.Loop() {
		req, err := refDecodeRequest(body)
		if err != nil {
			b.Fatal(err)
		}
		rep := refEncodeReply(map[string]any{"workflow": "authbench/calibrate", "pong": req.Command == CmdPing})
		if _, err := refDecodeReply(rep); err != nil {
			b.Fatal(fmt.Sprint(err))
		}
	}
}

func FuzzQuickValid(f *testing.F) {
	for _, s := range append(append([]string{`0`, `-0.0e+0`, `01`, `1.`, `.5`, `-`, `1e`, `"\u12"`, `"\uZZZZ"`, "\"\x01\"",
		`"\/"`, `"\x"`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{,}`, `{"a":1,}`, ` `, `tru`, `nulll`, `[[[[]]]]`, "\"\xff\xfe\"",
		`{"a":[1,{"b":null}],"c":"d"}`, strings.Repeat("[", 64) + strings.Repeat("]", 64),
		strings.Repeat("[", 65) + strings.Repeat("]", 65)}, requestSeeds...), replySeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := quickValid(b), json.Valid(b)
		if got && !want {
			t.Fatalf("quickValid(%q) = true, json.Valid false", b)
		}
		if !got && want && bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) <= maxValidDepth {
			t.Fatalf("quickValid(%q) = false, json.Valid true", b)
		}
	})
}

// TestDiskFullKind: a full file system under a handler (ENOSPC, EDQUOT,
// wrapped as the file layer wraps it) is replied as disk_full, which the
// client side decodes back to an error IsDiskFull knows; typed errors keep
// their kind and anything else the default.
func TestDiskFullKind(t *testing.T) {
	pathErr := func(errno syscall.Errno) error {
		return fmt.Errorf("append to /run/log/job/1/a/01/job.status: %w", &os.PathError{Op: "write", Path: "job.status", Err: errno})
	}
	cases := []struct {
		name string
		err  error
		want ErrorKind
		full bool
	}{
		{"ENOSPC", pathErr(syscall.ENOSPC), KindDiskFull, true},
		{"EDQUOT", pathErr(syscall.EDQUOT), KindDiskFull, true},
		{"EACCES", pathErr(syscall.EACCES), KindInternal, false},
		{"typed", &Error{Kind: KindProtocol, Msg: "bad"}, KindProtocol, false},
		{"typed disk full", fmt.Errorf("wrapped: %w", &Error{Kind: KindDiskFull, Msg: "x"}), KindDiskFull, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := IsDiskFull(c.err); got != c.full {
				t.Errorf("IsDiskFull(%v) = %v, want %v", c.err, got, c.full)
			}
			kind, _ := replyKind(c.err, KindInternal)
			if kind != c.want {
				t.Fatalf("reply kind %q, want %q", kind, c.want)
			}
			_, err := DecodeReply(EncodeError(kind, c.err.Error()))
			if IsDiskFull(err) != c.full || !strings.Contains(err.Error(), string(c.want)) {
				t.Errorf("decoded %v: IsDiskFull %v, want %v", err, IsDiskFull(err), c.full)
			}
		})
	}
}
