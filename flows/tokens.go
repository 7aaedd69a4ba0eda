package flows

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authbench/authbench/vocab"
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

// tokenCall is what the token client's transport saw of one token
// request: the response's status, and a transport error or an error
// reading the response body.
type tokenCall struct {
	status int
	err    error
}

type tokenCallKey struct{}

// tokenTransport is the token client's transport: the driver's, noting
// in the tokenCall of a request's context what it saw (the libraries do
// not all keep the status or wrap transport errors).
type tokenTransport struct{ base http.RoundTripper }

func (t tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	c, _ := req.Context().Value(tokenCallKey{}).(*tokenCall)
	if c == nil {
		return resp, err
	}
	if err != nil {
		c.err = err
		return resp, err
	}
	c.status = resp.StatusCode
	resp.Body = &tokenBody{ReadCloser: resp.Body, call: c}
	return resp, nil
}

// tokenBody notes an error reading a token response.
type tokenBody struct {
	io.ReadCloser
	call *tokenCall
}

func (b *tokenBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.call.err = err
	}
	return n, err
}

// newTokenClient is the client of the token requests: d.hc's timeout and
// transport (its connections), through tokenTransport.
func newTokenClient(hc *http.Client) *http.Client {
	return &http.Client{Timeout: hc.Timeout, Transport: tokenTransport{base: hc.Transport}}
}

// newExchangers builds zitadel's token exchanger of each client that
// exchanges, once (building one fetches the issuer's metadata: done at
// the start, it is not counted against the transfers).
func (d *driver) newExchangers(ctx context.Context, cs ...client) error {
	d.exchangers = map[string]tokenexchange.TokenExchanger{}
	for _, c := range cs {
		te, err := tokenexchange.NewTokenExchangerClientCredentials(ctx, d.iss.URL(), c.id, c.secret,
			tokenexchange.WithHTTPClient(d.tokenHC))
		if err != nil {
			return fmt.Errorf("flows: token exchanger for %s: %w", c.id, err)
		}
		d.exchangers[c.id] = te
	}
	return nil
}

// grantFunc makes one token request and returns the access and refresh
// tokens and expires_in (0 if absent) of its response.
type grantFunc func(ctx context.Context) (access, refresh string, expiresIn int64, err error)

// request makes one token request for leg by do and records it.
func (d *driver) request(ctx context.Context, leg, grant string, do grantFunc) (token, error) {
	sent := time.Now()
	tok, err := d.call(ctx, grant, sent, do)
	end := time.Now()
	d.legs[leg].Add(1)
	if err != nil {
		d.rec.Fail(OpToken, kindOf(err))
		d.rec.Fail(grantOp(grant), kindOf(err))
		return tok, err
	}
	d.rec.OK(OpToken, sent, sent, end)
	d.rec.OK(grantOp(grant), sent, sent, end)
	return tok, nil
}

// call runs do, sent at sent, and makes its response a token or its
// failure a flowError.
func (d *driver) call(ctx context.Context, grant string, sent time.Time, do grantFunc) (token, error) {
	c := &tokenCall{}
	ctx = context.WithValue(ctx, tokenCallKey{}, c)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, d.tokenHC)
	access, refresh, expiresIn, err := do(ctx)
	if err != nil {
		return token{}, grantError(grant, c, err)
	}
	exp, err := expiry(access)
	if err != nil {
		return token{}, &flowError{kind: "issuer.malformed", err: err}
	}
	if expiresIn > 0 {
		exp = sent.Add(time.Duration(expiresIn) * time.Second)
	}
	t := token{access: access, refresh: refresh, sent: sent, expires: exp}
	if t.refresh != "" {
		t.refreshExpires = sent.Add(d.cfg.RefreshLifetime)
	}
	return t, nil
}

// grantError labels a failed token request: by the OAuth2 error code of
// a refusal (x/oauth2's RetrieveError, zitadel's oidc.Error) or else its
// status; a transport error as the issuer unreachable or timing out; a
// response that is not a token as malformed.
func grantError(grant string, c *tokenCall, err error) error {
	var re *oauth2.RetrieveError
	var oe *oidc.Error
	var ue *url.Error
	switch {
	case errors.As(err, &re):
		code := re.ErrorCode
		if code == "" {
			code = fmt.Sprint(re.Response.StatusCode)
		}
		return &flowError{kind: "issuer." + code, err: fmt.Errorf("%s: %w", grant, err)}
	case errors.As(err, &oe):
		return &flowError{kind: "issuer." + string(oe.ErrorType), err: fmt.Errorf("%s: %w", grant, err)}
	case errors.As(err, &ue):
		return netKind("issuer", err)
	case c.err != nil:
		// x/oauth2 does not wrap an error reading the body.
		return netKind("issuer", fmt.Errorf("%w (%v)", c.err, err))
	case c.status == 0:
		return &flowError{kind: "issuer.request", err: err}
	case c.status != http.StatusOK:
		return &flowError{kind: "issuer." + fmt.Sprint(c.status), err: fmt.Errorf("%s: %w", grant, err)}
	}
	return &flowError{kind: "issuer.malformed", err: fmt.Errorf("%s: %w", grant, err)}
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

// clientCredentials asks for a token of c's own (x/oauth2's
// clientcredentials).
func (d *driver) clientCredentials(ctx context.Context, c client, leg, scope string, aud ...string) (token, error) {
	cfg := &clientcredentials.Config{
		ClientID: c.id, ClientSecret: c.secret, TokenURL: d.iss.TokenURL(),
		Scopes:         strings.Fields(scope),
		EndpointParams: url.Values{"audience": {strings.Join(aud, " ")}},
		AuthStyle:      oauth2.AuthStyleInHeader,
	}
	return d.request(ctx, leg, grantClientCredentials, func(ctx context.Context) (string, string, int64, error) {
		t, err := cfg.Token(ctx)
		if err != nil {
			return "", "", 0, err
		}
		return t.AccessToken, refreshOf(t), t.ExpiresIn, nil
	})
}

// exchange exchanges subject for a token of c's (RFC 8693; zitadel's
// token-exchange client).
func (d *driver) exchange(ctx context.Context, c client, leg, subject, scope string, aud ...string) (token, error) {
	te := d.exchangers[c.id]
	return d.request(ctx, leg, grantTokenExchange, func(ctx context.Context) (string, string, int64, error) {
		if te == nil {
			return "", "", 0, fmt.Errorf("no token exchanger for %s", c.id)
		}
		t, err := tokenexchange.ExchangeToken(ctx, te, subject, oidc.AccessTokenType, "", "", nil,
			aud, strings.Fields(scope), "")
		if err != nil {
			return "", "", 0, err
		}
		return t.AccessToken, t.RefreshToken, int64(t.ExpiresIn), nil
	})
}

// refresh uses (and so spends: the issuer rotates it) t's refresh token
// (x/oauth2: a token source of a token past its expiry refreshes it).
func (d *driver) refresh(ctx context.Context, c client, t token) (token, error) {
	cfg := &oauth2.Config{
		ClientID: c.id, ClientSecret: c.secret,
		Endpoint: oauth2.Endpoint{TokenURL: d.iss.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader},
	}
	return d.request(ctx, LegRefresh, grantRefresh, func(ctx context.Context) (string, string, int64, error) {
		nt, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh, Expiry: time.Unix(1, 0)}).Token()
		if err != nil {
			return "", "", 0, err
		}
		return nt.AccessToken, refreshOf(nt), nt.ExpiresIn, nil
	})
}

// refreshOf is the refresh token of t's response (x/oauth2 keeps the one
// refreshed when a response has none).
func refreshOf(t *oauth2.Token) string {
	rt, _ := t.Extra("refresh_token").(string)
	return rt
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
