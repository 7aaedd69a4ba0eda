package schemes

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/wlcg"
)

// wlcgClient is the client side: it gets an access token from the issuer
// with the client credentials grant and keeps it until shortly before its
// exp, in memory and, when the client has a state directory, in a 0600
// file there (a fresh process per command otherwise asks the issuer every
// time).
type wlcgClient struct {
	NopClient
	env  ClientEnv
	svc  WLCGService
	cred WLCGClient
	hc   *http.Client
	tok  string
	exp  time.Time // the held token's exp
	life time.Duration
}

// Client reads the client it is: a job the job client from
// .service/wlcg-job, the CLI and the UI server the CLI client from
// .service/wlcg.
func (p *wlcgPart) Client(_ context.Context, env ClientEnv) (ClientPart, error) {
	if env.Run == nil {
		return nil, errors.New("wlcg: the client needs the run directory")
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	read, pick := ReadWLCGService, func(svc WLCGService) WLCGClient { return svc.CLI }
	if env.Kind == KindJob {
		read, pick = ReadWLCGJobService, func(svc WLCGService) WLCGClient { return svc.Job }
	}
	svc, err := read(env.Run)
	if err != nil {
		return nil, err
	}
	cred := pick(svc)
	return &wlcgClient{env: env, svc: svc, cred: cred, hc: wlcgHTTPClient()}, nil
}

// WLCGTokenCachePath is the file a client with a state directory keeps its
// access token in: one per (issuer, client, audience, scope), named by a
// hash that also covers the client secret, so that a token of an earlier
// WFS's issuer is never reused.
func WLCGTokenCachePath(stateDir string, svc WLCGService, cred WLCGClient) string {
	h := sha256.Sum256([]byte(strings.Join([]string{svc.TokenURL, cred.ID, cred.Secret, svc.Audience, cred.Scope}, "\n")))
	return filepath.Join(stateDir, "wlcg-token-"+hex.EncodeToString(h[:12]))
}

// wlcgFresh reports whether a token of this exp and lifetime is still
// worth sending at now: not within wlcgRenewMargin (or a tenth of its
// lifetime, if less) of its exp.
func wlcgFresh(now, exp time.Time, life time.Duration) bool {
	margin := wlcgRenewMargin
	if life > 0 {
		margin = min(margin, life/10)
	}
	return now.Add(margin).Before(exp)
}

// Begin makes sure a fresh token is held: the one in memory, else the one
// in the state directory's cache file, else a new one from the issuer
// (acquired: true).
func (c *wlcgClient) Begin(ctx context.Context, _ Caller) (bool, error) {
	now := c.env.Now()
	if c.tok != "" && wlcgFresh(now, c.exp, c.life) {
		return false, nil
	}
	var path string
	if c.env.StateDir != "" {
		path = WLCGTokenCachePath(c.env.StateDir, c.svc, c.cred)
		if b, err := c.env.Run.Files.ReadFile(path); err == nil {
			tok := strings.TrimSpace(string(b))
			if iat, exp, err := unverifiedTimes(tok); err == nil && wlcgFresh(now, exp, exp.Sub(iat)) {
				c.tok, c.exp, c.life = tok, exp, exp.Sub(iat)
				return false, nil
			}
		}
	}
	tok, err := c.fetch(ctx)
	if err != nil {
		return true, err
	}
	iat, exp, err := unverifiedTimes(tok)
	if err != nil {
		return true, fmt.Errorf("wlcg: access token: %w", err)
	}
	c.tok, c.exp, c.life = tok, exp, exp.Sub(iat)
	if path != "" {
		if err := c.keep(path, tok); err != nil {
			return true, fmt.Errorf("wlcg: keep access token: %w", err)
		}
	}
	return true, nil
}

// fetch runs the client credentials grant for the audience and the
// client's scopes.
func (c *wlcgClient) fetch(ctx context.Context) (string, error) {
	cfg := clientcredentials.Config{
		ClientID: c.cred.ID, ClientSecret: c.cred.Secret, TokenURL: c.svc.TokenURL,
		Scopes:         strings.Fields(c.cred.Scope),
		EndpointParams: url.Values{"audience": {c.svc.Audience}},
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	t, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, c.hc))
	if err != nil {
		return "", fmt.Errorf("wlcg: token from %s: %w", c.svc.TokenURL, err)
	}
	if t.AccessToken == "" {
		return "", errors.New("wlcg: the issuer returned no access token")
	}
	return t.AccessToken, nil
}

// keep writes the token to its cache file (0600), atomically: concurrent
// clients in one state directory each write a file of their own and rename
// it into place.
func (c *wlcgClient) keep(path, tok string) error {
	files := c.env.Run.Files
	if err := files.MkdirAll(c.env.StateDir); err != nil {
		return err
	}
	suffix, err := randomID(6)
	if err != nil {
		return err
	}
	tmp := path + "." + suffix + ".tmp"
	if err := files.CreateExclusive(tmp, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	if err := files.Rename(tmp, path); err != nil {
		_ = files.Remove(tmp)
		return err
	}
	return nil
}

// Wrap appends the token as the last frame.
func (c *wlcgClient) Wrap(frames [][]byte) ([][]byte, error) {
	if c.tok == "" {
		return nil, errors.New("wlcg: no token: Begin was not called")
	}
	return append(frames, []byte(c.tok)), nil
}

// Close drops the client's idle connections to the issuer.
func (c *wlcgClient) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// unverifiedTimes reads a token's iat and exp without verifying it: a
// client uses them to decide when to fetch a new token, never to trust one.
func unverifiedTimes(tok string) (iat, exp time.Time, err error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return iat, exp, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return iat, exp, fmt.Errorf("payload: %w", err)
	}
	var c wlcg.Claims
	if err := json.Unmarshal(b, &c); err != nil {
		return iat, exp, fmt.Errorf("payload: %w", err)
	}
	if c.Expiry == nil {
		return iat, exp, errors.New("no exp")
	}
	exp = c.Expiry.Time()
	iat = exp
	if c.IssuedAt != nil {
		iat = c.IssuedAt.Time()
	}
	return iat, exp, nil
}
