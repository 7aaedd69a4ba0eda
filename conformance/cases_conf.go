package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

func confidentialityCases() []Case {
	return []Case{
		{
			ID: "conf/payload-marker", Claim: "confidential", Applies: anyScheme,
			Title: "an eavesdropping relay records a genuine trigger request: is the marker in its payload readable?",
			Run:   runPayloadMarker,
		},
		{
			ID: "conf/reply-marker", Claim: "reply-confidential", Applies: anyScheme,
			Title: "the relay records a genuine ping whose reply carries a marker (the WFS's workflow id): is the marker readable in what the server sent?",
			Run:   runReplyMarker,
		},
		{
			ID: "conf/credential", Claim: "confidential", Applies: secured,
			Title: "the relay records a CLI command and a job message: is any credential (secret, key or token) readable?",
			Run:   runCredentialOnWire,
		},
		{
			ID: "conf/wire-replay", Claim: "replay-proof", Applies: anyScheme,
			Title: "the bytes a job client sent through the relay are replayed raw to the port: is the message taken twice?",
			Run:   runWireReplay,
		},
	}
}

// throughRelay runs calls with a relay in front of t and returns what it
// captured in both directions.
func throughRelay(t *Target, calls func(endpoint string) error) ([]byte, error) {
	up, down, err := throughRelaySplit(t, calls)
	if err != nil {
		return nil, err
	}
	return append(up, down...), nil
}

// throughRelaySplit is throughRelay keeping the directions apart: what the
// clients sent (up) and what the server sent (down).
func throughRelaySplit(t *Target, calls func(endpoint string) error) (up, down []byte, err error) {
	r, err := StartRelay(t.Addr())
	if err != nil {
		return nil, nil, err
	}
	err = calls(r.Endpoint())
	cerr := r.Close()
	if err != nil {
		return nil, nil, err
	}
	if cerr != nil {
		return nil, nil, cerr
	}
	up, down = r.Captured()
	return up, down, nil
}

func runPayloadMarker(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	marker := "MARKER-" + b64(randomBytes(12))
	wire, err := throughRelay(t, func(ep string) error {
		_, err := t.callVia(ctx, t.zctx, ep, CLI(), wfs.CmdTrigger, map[string]string{"task": marker})
		return err
	})
	if err != nil {
		return broken("trigger through the relay", err)
	}
	if bytes.Contains(wire, []byte(marker)) {
		return failf("the request's marker is readable in the %d bytes the relay captured", len(wire))
	}
	return passf("marker not found in %d captured bytes", len(wire))
}

// runReplyMarker plants a fresh random marker where a reply carries it: the
// WFS's workflow id, which every ping reply holds ({"workflow": ..., "pong":
// true}, as the UI server reads it). A genuine CLI ping goes through the
// relay; the genuine client must see the marker in its decoded reply (else
// the case proves nothing), and the case fails when the marker is readable
// in the bytes the server sent. Only the server-to-client direction counts:
// the requests are conf/payload-marker's business.
func runReplyMarker(ctx context.Context, e *Env) Result {
	marker := "reply-" + b64(randomBytes(12))
	t, err := e.Start(TargetConfig{Workflow: marker})
	if err != nil {
		return broken("start", err)
	}
	var reply json.RawMessage
	_, down, err := throughRelaySplit(t, func(ep string) error {
		var err error
		reply, err = t.callVia(ctx, t.zctx, ep, CLI(), wfs.CmdPing, nil)
		return err
	})
	if err != nil {
		return broken("ping through the relay", err)
	}
	var pong struct {
		Workflow string `json:"workflow"`
	}
	if err := json.Unmarshal(reply, &pong); err != nil || pong.Workflow != marker {
		return broken("ping reply", fmt.Errorf("the genuine client's reply %s does not carry the marker (%v)", trunc(string(reply), 80), err))
	}
	if bytes.Contains(down, []byte(marker)) {
		return failf("the reply's marker is readable in the %d bytes the relay captured from the server", len(down))
	}
	return passf("reply marker not found in %d bytes captured from the server", len(down))
}

// jwsPattern finds compact JWS tokens (header and payload are base64url
// JSON objects, so start with eyJ).
var jwsPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

func runCredentialOnWire(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	wire, err := throughRelay(t, func(ep string) error {
		if _, err := t.callVia(ctx, t.zctx, ep, CLI(), wfs.CmdHold, nil); err != nil {
			return err
		}
		_, err := t.callVia(ctx, t.zctx, ep, job, wfs.CmdMessage, Message(job.ID, "started"))
		return err
	})
	if err != nil {
		return broken("calls through the relay", err)
	}
	secrets, err := t.secrets()
	if err != nil {
		return broken("secrets", err)
	}
	for name, s := range secrets {
		if bytes.Contains(wire, s) {
			return failf("%s is readable in the %d bytes the relay captured", name, len(wire))
		}
	}
	for _, m := range jwsPattern.FindAll(wire, -1) {
		if _, c, _, err := decodeToken(string(m)); err == nil && c["iss"] == schemes.TokenIssuer(t.Workflow) {
			return failf("a token (sub %v, scope %q) is readable in the %d bytes the relay captured", c["sub"], c["scope"], len(wire))
		}
	}
	return passf("none of %d secrets and no token found in %d captured bytes", len(secrets), len(wire))
}

// secrets returns what the scheme keeps secret on disk, by file: the
// content of every private file in the run directory (trimmed), each secret
// CURVE key raw and in Z85, and the token lines of job.status files.
func (t *Target) secrets() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(t.Run.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(t.Run.Root, p)
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		switch {
		case d.Name() == "contact":
			return nil
		case d.Name() == "job.status":
			for _, line := range strings.Split(string(b), "\n") {
				if tok, ok := strings.CutPrefix(line, schemes.JobTokenStatusKey); ok && tok != "" {
					out[rel+" token"] = []byte(tok)
				}
			}
			return nil
		}
		if c, err := wfs.ParseCertificate(rel, b); err == nil {
			if c.Secret != nil {
				out[rel+" (raw)"] = c.Secret[:]
				out[rel+" (Z85)"] = []byte(c.Secret.Z85())
			}
			return nil
		}
		if info.Mode().Perm()&0o077 == 0 {
			if s := bytes.TrimSpace(b); len(s) >= 8 {
				out[rel] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk run dir: %w", err)
	}
	return out, nil
}

func runWireReplay(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return broken("submit", err)
	}
	marker := "replay-" + b64(randomBytes(9))
	r, err := StartRelay(t.Addr())
	if err != nil {
		return broken("relay", err)
	}
	before := t.Server.Stats().Requests
	_, err = t.callVia(ctx, t.zctx, r.Endpoint(), job, wfs.CmdMessage, Message(job.ID, marker))
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return broken("the job's message through the relay", err)
	}
	requests := t.Server.Stats().Requests - before
	up, _ := r.Captured()
	id, _ := wfs.ParseJobID(job.ID)
	count := func() int {
		b, _ := os.ReadFile(t.Run.JobStatusPath(id))
		return bytes.Count(b, []byte("|"+marker))
	}
	if n := count(); n != 1 {
		return broken("job.status", fmt.Errorf("the genuine message is there %d times, want 1", n))
	}
	start := t.Server.Stats().Requests
	if err := replay(t.Addr(), up, attackTimeout, func() bool { return t.Server.Stats().Requests-start >= requests }); err != nil {
		return broken("replay", err)
	}
	// Let a request the replay delivered finish.
	time.Sleep(20 * time.Millisecond)
	if n := count(); n > 1 {
		return failf("the replayed %d bytes delivered the message again (%d copies in job.status)", len(up), n)
	}
	return passf("the replayed %d bytes were not taken (%d request(s) reached the verifier)", len(up), t.Server.Stats().Requests-start)
}
