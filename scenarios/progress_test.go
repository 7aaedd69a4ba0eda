package scenarios

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/vocab"
)

// TestProgressCounts: progress counts top-level operations only (a command
// is one, not three with its handshake and round trip), and a run shorter
// than the reporting interval still gets its final line.
func TestProgressCounts(t *testing.T) {
	p := &progress{}
	rec := newRecorder(time.Time{}, p)
	now := time.Now()
	for _, op := range []string{vocab.OpCLICommand, vocab.OpCLIHandshake, vocab.OpCLIRoundTrip, vocab.OpCLISendLag, vocab.OpJobMessage, vocab.OpJobHandshake} {
		rec.ok(op, now, now, now.Add(time.Millisecond))
	}
	rec.fail(vocab.OpCLIHandshake, now, errors.New("x"))
	rec.fail(vocab.OpCLICommand, now, errors.New("x"))
	if n, e := p.ops.Load(), p.errs.Load(); n != 2 || e != 1 {
		t.Fatalf("progress counted %d ops and %d errors, want 2 and 1", n, e)
	}
	var out bytes.Buffer
	stop := p.start(&out, time.Hour, "smoke plain (scheme 1 of 2, round 1 of 1)", now, time.Time{})
	stop()
	line := out.String()
	if !strings.Contains(line, "scheme 1 of 2, round 1 of 1") || !strings.Contains(line, "2 operations") || !strings.Contains(line, "done") {
		t.Fatalf("final line %q", line)
	}
}
