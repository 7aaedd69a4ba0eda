package issuer

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// GrantStats counts the token-endpoint requests of one grant type.
type GrantStats struct {
	// Requests is every request with this grant_type, refused or not.
	Requests int64
	// Refused is those answered with an error (HTTP status >= 400).
	Refused int64
}

// Issued is the requests that got tokens.
func (g GrantStats) Issued() int64 { return g.Requests - g.Refused }

// Stats is a snapshot of the issuer's counters since Start.
type Stats struct {
	// ClientCredentials, TokenExchange and Refresh count the token
	// requests of each grant; OtherGrants those with another grant_type,
	// none, or an unreadable form.
	ClientCredentials, TokenExchange, Refresh, OtherGrants GrantStats
	// Discovery counts requests to the well-known metadata paths; JWKS
	// those to the key set; Requests every HTTP request.
	Discovery, JWKS, Requests int64
	// AccessTokensStored and RefreshTokensStored count the tokens the
	// issuer has stored, as IAM stores both by default (client
	// credentials store no refresh token). Refreshes counts refresh-token
	// rotations (successful refresh grants).
	AccessTokensStored, RefreshTokensStored, Refreshes int64
	// AccessTokensLive and RefreshTokensLive are the tokens held now:
	// rotated refresh tokens are gone, expired tokens are dropped at the
	// next sweep (at most a minute later, on the next insertion).
	AccessTokensLive, RefreshTokensLive int
	// BytesIn is the request body bytes read; BytesOut the response body
	// bytes served.
	BytesIn, BytesOut int64
}

// TokenRequests is the token-endpoint requests of all grants.
func (s Stats) TokenRequests() int64 {
	return s.ClientCredentials.Requests + s.TokenExchange.Requests + s.Refresh.Requests + s.OtherGrants.Requests
}

// grantCounters are the live counters behind a GrantStats.
type grantCounters struct{ requests, refused atomic.Int64 }

func (g *grantCounters) snapshot() GrantStats {
	return GrantStats{Requests: g.requests.Load(), Refused: g.refused.Load()}
}

// counters are the issuer's live counters.
type counters struct {
	cc, exchange, refresh, other grantCounters
	discovery, jwks, requests    atomic.Int64
	accessStored, refreshStored  atomic.Int64
	refreshes                    atomic.Int64
	bytesIn, bytesOut            atomic.Int64
}

func (c *counters) forGrant(gt string) *grantCounters {
	switch oidc.GrantType(gt) {
	case oidc.GrantTypeClientCredentials:
		return &c.cc
	case oidc.GrantTypeTokenExchange:
		return &c.exchange
	case oidc.GrantTypeRefreshToken:
		return &c.refresh
	default:
		return &c.other
	}
}

// Stats returns a snapshot of the counters.
func (i *Issuer) Stats() Stats {
	c := &i.stats
	s := Stats{
		ClientCredentials:   c.cc.snapshot(),
		TokenExchange:       c.exchange.snapshot(),
		Refresh:             c.refresh.snapshot(),
		OtherGrants:         c.other.snapshot(),
		Discovery:           c.discovery.Load(),
		JWKS:                c.jwks.Load(),
		Requests:            c.requests.Load(),
		AccessTokensStored:  c.accessStored.Load(),
		RefreshTokensStored: c.refreshStored.Load(),
		Refreshes:           c.refreshes.Load(),
		BytesIn:             c.bytesIn.Load(),
		BytesOut:            c.bytesOut.Load(),
	}
	s.AccessTokensLive, s.RefreshTokensLive = i.store.live()
	return s
}

// count is the outermost middleware: it bounds the request body, counts
// requests by endpoint and grant, refusals, and bytes in and out.
func (i *Issuer) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &i.stats
		c.requests.Add(1)
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() { c.bytesOut.Add(cw.n) }()
		r.Body = &countingReader{rc: http.MaxBytesReader(cw, r.Body, MaxBodyBytes), n: &c.bytesIn}

		var g *grantCounters
		switch {
		case r.URL.Path == TokenPath:
			// Parsed here to read grant_type; zitadel's own ParseForm
			// then finds the form parsed.
			if err := r.ParseForm(); err != nil {
				c.other.requests.Add(1)
				c.other.refused.Add(1)
				status := http.StatusBadRequest
				if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
					status = http.StatusRequestEntityTooLarge
				}
				op.WriteError(cw, r, op.NewStatusError(oidc.ErrInvalidRequest().WithDescription("error parsing form").WithParent(err), status), nil)
				return
			}
			g = c.forGrant(r.Form.Get("grant_type"))
			g.requests.Add(1)
		case r.URL.Path == JWKSPath:
			c.jwks.Add(1)
		case strings.HasPrefix(r.URL.Path, "/.well-known/"):
			c.discovery.Add(1)
		}
		next.ServeHTTP(cw, r)
		if g != nil && cw.status >= http.StatusBadRequest {
			g.refused.Add(1)
		}
	})
}

// countingWriter records the status and counts the body bytes written.
type countingWriter struct {
	http.ResponseWriter
	status      int
	n           int64
	wroteHeader bool
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingReader counts the request body bytes read.
type countingReader struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n.Add(int64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
