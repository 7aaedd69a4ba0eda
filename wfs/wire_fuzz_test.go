package wfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzWireDecode feeds one frame to both wire decoders and checks what a
// decoded frame promises: no panic; a request has a command and a reply
// either data or an error, both typed; and what decodes re-encodes to
// something that decodes the same.
func FuzzWireDecode(f *testing.F) {
	for _, s := range []string{
		`{"command":"ping","meta":{"prog":"cylc-ping","host":"localhost","comms_method":"zmq"}}`,
		`{"command":"message","args":{"task_job":"1/a/01","event_time":"t","messages":[["INFO","started"]]},"meta":{}}`,
		`{"command":"data","args":{"size":16}}`, `{"command":""}`, `{"command":null}`, `{"Command":"stop"}`,
		`{"data":{"pong":true,"workflow":"wf"}}`, `{"error":{"message":"no","kind":"rejected"}}`, `{"data":null}`,
		`{"error":{"message":"x"},"data":1}`, `{}`, `[]`, `null`, ``, `{`, `{"command":"a"} x`, "{\"command\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := DecodeRequest(b)
		switch {
		case err != nil:
			var we *Error
			if !errors.As(err, &we) || we.Kind != KindProtocol || req != nil {
				t.Fatalf("DecodeRequest(%q): %v (%T), request %v: want a protocol error alone", b, err, err, req)
			}
		case req.Command == "":
			t.Fatalf("DecodeRequest(%q) accepted a request with no command", b)
		default:
			var args any
			if len(req.Args) > 0 {
				args = req.Args
			}
			again, err := EncodeRequest(req.Command, args, req.Meta)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", req, err)
			}
			back, err := DecodeRequest(again)
			if err != nil || back.Command != req.Command || back.Meta != req.Meta || !sameJSON(back.Args, req.Args) {
				t.Fatalf("round trip of %q via %q: %+v %v, want %+v", b, again, back, err, req)
			}
		}

		data, err := DecodeReply(b)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) || we.Kind == "" || data != nil {
				t.Fatalf("DecodeReply(%q): %v, data %q: want a typed error alone", b, err, data)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("DecodeReply(%q) returned invalid JSON %q", b, data)
		}
		back, err := DecodeReply(EncodeReply(data))
		if err != nil || !sameJSON(back, data) {
			t.Fatalf("reply round trip of %q: %q %v", data, back, err)
		}
	})
}

// sameJSON compares two JSON texts by their compact forms.
func sameJSON(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	// Compare values, not text: encoding/json escapes <, > and & in what it
	// writes (\u0026), so a re-encoded request differs in bytes, not meaning.
	var va, vb any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}
