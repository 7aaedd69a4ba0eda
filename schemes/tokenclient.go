package schemes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/authbench/authbench/wfs"
)

// SharedTokenPath is where a client of the shared policy keeps its token:
// in its state dir, one file per client kind and identity, so that a CLI and
// a job sharing a state dir never use each other's token.
func SharedTokenPath(env ClientEnv) string {
	kind := string(env.Kind)
	if kind == "" {
		kind = string(KindCLI)
	}
	id := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == '.' {
			return '_'
		}
		return r
	}, env.Identity)
	return filepath.Join(env.StateDir, "token-"+kind+"-"+id)
}

// tokenClient is the policy side of the jwt and jwe client parts: Begin
// loads or acquires the token the next request carries.
type tokenClient struct {
	NopClient
	pol policyConf
	env ClientEnv
	tok string
	exp time.Time // shared: the held token's exp
}

func newTokenClient(env ClientEnv, pol policyConf) (*tokenClient, error) {
	if env.Run == nil {
		return nil, errors.New("token client needs the run directory")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if pol.name == PolicyShared && env.StateDir == "" {
		return nil, errors.New("policy shared needs a client state directory to keep its shared token between calls (authbench client -state-dir DIR)")
	}
	if pol.perJob() && env.Kind == KindJob {
		if _, err := wfs.ParseJobID(env.Identity); err != nil {
			return nil, fmt.Errorf("job client identity: %w", err)
		}
	}
	return &tokenClient{pol: pol, env: env}, nil
}

// token returns the token Begin loaded.
func (c *tokenClient) token() (string, error) {
	if c.tok == "" {
		return "", errors.New("no token: Begin was not called")
	}
	return c.tok, nil
}

// Begin loads the token for the next request: it reads .service/token
// (workflow: once per client; timed: every time, since it rotates), the
// job's own token from its store (job policy, job clients: every message),
// or asks the WFS for one (command: every command; shared: when the held one
// is missing or near its end).
func (c *tokenClient) Begin(ctx context.Context, call Caller) (bool, error) {
	switch {
	case c.pol.perJob() && c.env.Kind == KindJob:
		id, _ := wfs.ParseJobID(c.env.Identity)
		tok, err := readJobToken(c.env.Run, c.pol.store, id, c.pol.unit(id))
		if err != nil {
			return false, err
		}
		c.tok = tok
		return false, nil
	case c.pol.name == PolicyCommand:
		tok, err := c.acquire(ctx, call)
		if err != nil {
			return true, err
		}
		c.tok = tok
		return true, nil
	case c.pol.name == PolicyShared:
		return c.shared(ctx, call)
	case c.pol.name == PolicyTimed || c.tok == "":
		b, err := c.env.Run.Files.ReadFile(c.env.Run.Service(TokenFile))
		if err != nil {
			return false, fmt.Errorf("token: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return false, errors.New("token: .service/token is empty")
		}
		c.tok = tok
	}
	return false, nil
}

// shared reuses the held token, or the one kept in the state dir, while it
// has at least a margin of its window left; otherwise it acquires one and
// keeps it (0600).
func (c *tokenClient) shared(ctx context.Context, call Caller) (bool, error) {
	now := c.env.Now()
	margin := min(time.Second, c.pol.window/10)
	if c.tok != "" && now.Add(margin).Before(c.exp) {
		return false, nil
	}
	path := SharedTokenPath(c.env)
	if b, err := c.env.Run.Files.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(b))
		if exp, err := unverifiedExpiry(tok); err == nil && now.Add(margin).Before(exp) {
			c.tok, c.exp = tok, exp
			return false, nil
		}
	}
	tok, err := c.acquire(ctx, call)
	if err != nil {
		return true, err
	}
	exp, err := unverifiedExpiry(tok)
	if err != nil {
		return true, fmt.Errorf("shared token: %w", err)
	}
	if err := c.env.Run.Files.MkdirAll(c.env.StateDir); err != nil {
		return true, err
	}
	if err := c.env.Run.Files.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return true, fmt.Errorf("keep shared token: %w", err)
	}
	c.tok, c.exp = tok, exp
	return true, nil
}

// acquire asks the WFS for a token (plan A) and reads it from the file the
// reply names.
func (c *tokenClient) acquire(ctx context.Context, call Caller) (string, error) {
	if call == nil {
		return "", errors.New("token request: no caller")
	}
	kind := string(c.env.Kind)
	if kind == "" {
		kind = string(KindCLI)
	}
	sub := c.env.Identity
	if sub == "" {
		sub = "owner"
	}
	body, err := wfs.EncodeRequest(CmdToken, TokenRequestArgs{Sub: sub, Kind: kind}, wfs.Meta{Prog: "authbench"})
	if err != nil {
		return "", err
	}
	rep, err := call(ctx, body)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	data, err := wfs.DecodeReply(rep)
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	var r TokenReply
	if err := json.Unmarshal(data, &r); err != nil {
		return "", &wfs.Error{Kind: wfs.KindProtocol, Msg: "token reply: " + err.Error()}
	}
	if !tokenFileName.MatchString(r.File) {
		return "", &wfs.Error{Kind: wfs.KindProtocol, Msg: fmt.Sprintf("token reply: bad file name %q", r.File)}
	}
	b, err := c.env.Run.Files.ReadFile(filepath.Join(c.env.Run.Service(TokensDir), r.File))
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", r.File)
	}
	return tok, nil
}
