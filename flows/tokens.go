package flows

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/authbench/authbench/vocab"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Ops recorded, "wlcg.OP".
const (
	OpSubmit            = "wlcg.submit"
	OpTransfer          = vocab.OpWLCGTransfer
	OpToken             = "wlcg.token"
	OpClientCredentials = "wlcg.client_credentials"
	OpTokenExchange     = "wlcg.token_exchange"
	OpRefresh           = "wlcg.refresh_token"
	OpTPC               = "wlcg.tpc"
)

// Legs: the driver's token requests by what they are for, as the model
// names them.
const (
	// LegLogin is the user's own token (client credentials), standing for
	// the user's login; the model leaves it out.
	LegLogin = "login"
	// LegTFTS is Rucio's token to FTS: client credentials in the service
	// flow, exchange 1 in the user and groups flows.
	LegTFTS = "t_fts"
	// LegStorageCC is FTS's storage token(s) by client credentials
	// (service flow).
	LegStorageCC = "storage_cc"
	// LegExchange2 is FTS's exchange with offline_access (user and groups
	// flows).
	LegExchange2 = "exchange2"
	// LegRefresh is FTS's refreshes.
	LegRefresh = "refresh"
)

var legs = []string{LegLogin, LegTFTS, LegStorageCC, LegExchange2, LegRefresh}

// OAuth2 grant types and token types.
const (
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantRefresh           = "refresh_token"
	tokenTypeAccess        = "urn:ietf:params:oauth:token-type:access_token"
)

// Audiences of Rucio and FTS.
const (
	AudienceRucio = "https://rucio.example"
	AudienceFTS   = "https://fts.example"
)

// Scopes of the services' APIs, after the notes.
const (
	scopeRucioSubmit = "rucio:submit-transfer"
	scopeFTSSubmit   = "fts:submit-transfer"
)

// client is an OAuth2 client's credentials.
type client struct{ id, secret string }

// token is what a grant returned.
type token struct {
	access, refresh string
	// sent is when the request was sent; expires when the access token
	// expires as the client reckons it, expires_in from sent, as an OAuth2
	// client does (its exp claim, in whole seconds, may be up to a second
	// earlier: hence a margin of at least 1s); refreshExpires when the
	// refresh token expires, by the configured lifetime from sent (no
	// later than the issuer's).
	sent, expires, refreshExpires time.Time
}

// usable reports whether the access token has at least margin left.
func (t *token) usable(margin time.Duration) bool {
	return t.access != "" && time.Until(t.expires) >= margin
}

// flowError is a failure with the label it is counted under.
type flowError struct {
	kind string
	err  error
}

func (e *flowError) Error() string { return e.kind + ": " + e.err.Error() }
func (e *flowError) Unwrap() error { return e.err }

// kindOf is the label an error is counted under.
func kindOf(err error) string {
	var fe *flowError
	switch {
	case errors.As(err, &fe):
		return fe.kind
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "other"
}

// netKind labels a transport error of a request to target.
func netKind(target string, err error) error {
	kind := target + ".unreachable"
	if errors.Is(err, context.Canceled) {
		kind = "canceled"
	} else if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Timeout") {
		kind = target + ".timeout"
	}
	return &flowError{kind: kind, err: err}
}

// grantOp is the op of a grant type.
func grantOp(grant string) string {
	switch grant {
	case grantClientCredentials:
		return OpClientCredentials
	case grantTokenExchange:
		return OpTokenExchange
	}
	return OpRefresh
}

// request makes one token request for leg and records it.
func (d *driver) request(ctx context.Context, c client, leg string, form url.Values) (token, error) {
	grant := form.Get("grant_type")
	sent := time.Now()
	tok, err := d.post(ctx, c, form, sent)
	end := time.Now()
	d.legs[leg].Add(1)
	if err != nil {
		d.rec.fail(OpToken, err)
		d.rec.fail(grantOp(grant), err)
		return tok, err
	}
	d.rec.ok(OpToken, sent, sent, end)
	d.rec.ok(grantOp(grant), sent, sent, end)
	return tok, nil
}

// post sends a token request and reads the token response.
func (d *driver) post(ctx context.Context, c client, form url.Values, sent time.Time) (token, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.iss.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return token{}, &flowError{kind: "issuer.request", err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	resp, err := d.hc.Do(req)
	if err != nil {
		return token{}, netKind("issuer", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return token{}, netKind("issuer", err)
	}
	var body struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Error        string `json:"error"`
		Description  string `json:"error_description"`
	}
	if len(b) > maxBody || json.Unmarshal(b, &body) != nil {
		return token{}, &flowError{kind: "issuer.malformed", err: fmt.Errorf("token response (%s) is not a JSON object of at most %d bytes", resp.Status, maxBody)}
	}
	if resp.StatusCode != http.StatusOK {
		code := body.Error
		if code == "" {
			code = fmt.Sprint(resp.StatusCode)
		}
		return token{}, &flowError{kind: "issuer." + code, err: fmt.Errorf("%s %s: %s", form.Get("grant_type"), resp.Status, body.Description)}
	}
	exp, err := expiry(body.AccessToken)
	if err != nil {
		return token{}, &flowError{kind: "issuer.malformed", err: err}
	}
	if body.ExpiresIn > 0 {
		exp = sent.Add(time.Duration(body.ExpiresIn) * time.Second)
	}
	t := token{access: body.AccessToken, refresh: body.RefreshToken, sent: sent, expires: exp}
	if t.refresh != "" {
		t.refreshExpires = sent.Add(d.cfg.RefreshLifetime)
	}
	return t, nil
}

// expiry reads the exp claim of a JWT the client was given (its own
// token: no signature check is needed to know when it expires), for a
// response without expires_in.
func expiry(jwt string) (time.Time, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("access token is not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("access token payload: %w", err)
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Exp == 0 {
		return time.Time{}, errors.New("access token has no exp")
	}
	return time.Unix(c.Exp, 0), nil
}

// clientCredentials asks for a token of c's own.
func (d *driver) clientCredentials(ctx context.Context, c client, leg, scope string, aud ...string) (token, error) {
	return d.request(ctx, c, leg, url.Values{
		"grant_type": {grantClientCredentials},
		"scope":      {scope},
		"audience":   {strings.Join(aud, " ")},
	})
}

// exchange exchanges subject for a token of c's (RFC 8693).
func (d *driver) exchange(ctx context.Context, c client, leg, subject, scope string, aud ...string) (token, error) {
	return d.request(ctx, c, leg, url.Values{
		"grant_type":         {grantTokenExchange},
		"subject_token":      {subject},
		"subject_token_type": {tokenTypeAccess},
		"scope":              {scope},
		"audience":           {strings.Join(aud, " ")},
	})
}

// refresh uses (and so spends: the issuer rotates it) t's refresh token.
func (d *driver) refresh(ctx context.Context, c client, t token) (token, error) {
	return d.request(ctx, c, LegRefresh, url.Values{
		"grant_type":    {grantRefresh},
		"refresh_token": {t.refresh},
	})
}

// cached is a token fetched on demand and reused while it has the margin
// left; the first demand after that fetches a new one while the others
// wait for it (the model's reuse).
type cached struct {
	mu  sync.Mutex
	tok token
}

func (c *cached) get(margin time.Duration, fetch func() (token, error)) (token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.usable(margin) {
		return c.tok, nil
	}
	t, err := fetch()
	if err != nil {
		return t, err
	}
	c.tok = t
	return t, nil
}

// chain is an access token with its refresh token, kept fresh: FTS's
// token of one transfer (user flow) or of one key (groups flow), for the
// audiences aud.
type chain struct {
	aud   []string
	scope string

	mu  sync.Mutex // held while the chain's tokens are renewed
	tok token
}

// keyOf names a groups-flow key.
type keyOf struct {
	group int
	se    string // "pair" with BothSEs, else se_a or se_b
}
