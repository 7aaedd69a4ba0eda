package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/wlcg"
	"github.com/authbench/authbench/wlcg/rp"
)

// The storage elements' audiences.
const (
	AudienceSEA = "https://se-a.example"
	AudienceSEB = "https://se-b.example"
)

// HTTP limits of the storage elements and of every client here.
const (
	httpTimeout       = 10 * time.Second
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 32 << 10
	maxBody           = 1 << 20
	// jwksRefetch is the least time between two JWKS fetches for an
	// unknown kid.
	jwksRefetch = time.Second
	// fileSize is the bytes SE-A serves for a file.
	fileSize = 1024
)

// refusedSource is SE-B's refusal label, besides the relying party's
// (package wlcg/rp), when the source SE refused or failed.
const refusedSource = "source"

// refusedHeader carries a refusal's label in the response; sourceHeader,
// on a COPY the source refused, the source's label.
const (
	refusedHeader = "X-Refused"
	sourceHeader  = "X-Source-Refused"
)

// storageElement is a relying party: an HTTP server on loopback that
// verifies the bearer token of each request against the issuer's JWKS,
// the profile's claim rules with its own audience, and authorises the
// operation on the path with wlcg.Allows (or, for a token without
// capabilities, by its groups, each group reading and creating under the
// path of the same name).
//
//	GET /PATH    read: the file's bytes
//	PUT /PATH    create
//	COPY /PATH   create, by pulling the file from the URL in the Source
//	             header with the token in TransferHeaderAuthorization
//	             (HTTP-TPC pull mode)
type storageElement struct {
	name   string // se_a, se_b
	rp     *rp.Verifier
	hc     *http.Client
	srv    *http.Server
	url    string
	served chan struct{}

	accepted atomic.Int64
	mu       sync.Mutex
	refused  map[string]int64
}

// startSE starts a storage element named name with audience aud that
// trusts the issuer at issuerURL, whose JWKS it discovers and fetches once
// before it returns.
func startSE(ctx context.Context, name, aud, issuerURL string, leeway time.Duration) (*storageElement, error) {
	se := &storageElement{
		name:    name,
		hc:      newHTTPClient(4, httpTimeout),
		refused: map[string]int64{},
		served:  make(chan struct{}),
	}
	v, err := rp.New(ctx, rp.Config{Issuer: issuerURL, Audience: aud, Leeway: leeway, HTTP: se.hc, MinRefetch: jwksRefetch})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	se.rp = v
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("%s: listen: %w", name, err)
	}
	se.url = "http://" + ln.Addr().String()
	se.srv = &http.Server{
		Handler:           http.HandlerFunc(se.serve),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       httpTimeout,
		WriteTimeout:      2 * httpTimeout, // a COPY waits for the source's answer
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	go func() {
		defer close(se.served)
		_ = se.srv.Serve(ln)
	}()
	return se, nil
}

// close stops the server, waiting at most 5 s for requests in flight.
func (se *storageElement) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := se.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, se.srv.Close())
	}
	<-se.served
	se.hc.CloseIdleConnections()
	return err
}

// stats are the SE's acceptances and refusals by label, under its name.
func (se *storageElement) stats(out map[string]float64) {
	out[se.name+".accepted"] = float64(se.accepted.Load())
	se.mu.Lock()
	defer se.mu.Unlock()
	var total int64
	for label, n := range se.refused {
		out[se.name+".refused."+label] = float64(n)
		total += n
	}
	out[se.name+".refused"] = float64(total)
	out[se.name+".jwks_fetches"] = float64(se.rp.Stats().Fetches)
}

// refuse counts a refusal and answers it: 401 for a token that is absent
// or not acceptable, 403 for one that does not authorise the operation,
// 502 for a source that refused.
func (se *storageElement) refuse(w http.ResponseWriter, label string, err error) {
	se.mu.Lock()
	se.refused[label]++
	se.mu.Unlock()
	status := http.StatusUnauthorized
	switch label {
	case rp.RefusedScope:
		status = http.StatusForbidden
	case refusedSource:
		status = http.StatusBadGateway
	}
	w.Header().Set(refusedHeader, label)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	http.Error(w, se.name+": "+err.Error(), status)
}

func (se *storageElement) serve(w http.ResponseWriter, r *http.Request) {
	var op string
	switch r.Method {
	case http.MethodGet:
		op = wlcg.OpRead
	case http.MethodPut, "COPY":
		op = wlcg.OpCreate
	default:
		w.Header().Set("Allow", "GET, PUT, COPY")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tok, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		se.refuse(w, rp.RefusedNoToken, errors.New("no bearer token"))
		return
	}
	if label, err := se.authorize(r.Context(), tok, op, r.URL.Path); err != nil {
		se.refuse(w, label, err)
		return
	}
	switch r.Method {
	case http.MethodGet:
		se.accepted.Add(1)
		w.Header().Set("Content-Length", fmt.Sprint(fileSize))
		_, _ = w.Write(make([]byte, fileSize))
	case http.MethodPut:
		if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		se.accepted.Add(1)
		w.WriteHeader(http.StatusCreated)
	case "COPY":
		if srcLabel, err := se.pull(r.Context(), r.Header.Get("Source"), r.Header.Get("TransferHeaderAuthorization")); err != nil {
			w.Header().Set(sourceHeader, srcLabel)
			se.refuse(w, refusedSource, err)
			return
		}
		se.accepted.Add(1)
		w.WriteHeader(http.StatusCreated)
	}
}

// pull reads the source file with the forwarded authorization (an
// HTTP-TPC pull copy); on failure it returns the source's refusal label
// ("unreachable" when it did not answer).
func (se *storageElement) pull(ctx context.Context, source, auth string) (string, error) {
	if !strings.HasPrefix(source, "http://127.0.0.1:") {
		return "bad_source", fmt.Errorf("source %q is not a loopback SE", source)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return "bad_source", err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := se.hc.Do(req)
	if err != nil {
		return "unreachable", fmt.Errorf("source: %w", err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		label := resp.Header.Get(refusedHeader)
		if label == "" {
			label = "status"
		}
		return label, fmt.Errorf("source refused (%s): %s", label, resp.Status)
	}
	if err != nil {
		return "unreachable", fmt.Errorf("source: %w", err)
	}
	return "", nil
}

// bearer returns the token of an "Authorization: Bearer TOKEN" header.
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// authorize verifies tok and decides whether it allows op on path; it
// returns the refusal label with the error.
func (se *storageElement) authorize(ctx context.Context, tok, op, path string) (string, error) {
	c, err := se.rp.Verify(ctx, tok)
	if err != nil {
		return rp.Label(err), err
	}
	scopes, _, err := wlcg.SplitScopes(c.Scope)
	if err != nil { // Validate has parsed them already
		return wlcg.Classify(err), err
	}
	if !wlcg.HasCapability(scopes) {
		// §2.2.3: a token without capability statements is authorised by
		// its groups; this SE lets a group read and create under the path
		// of its name.
		scopes = nil
		for _, g := range c.Groups {
			scopes = append(scopes, wlcg.Scope{Kind: wlcg.StorageRead, Path: g}, wlcg.Scope{Kind: wlcg.StorageCreate, Path: g})
		}
	}
	if !wlcg.Allows(scopes, op, path) {
		return rp.RefusedScope, fmt.Errorf("token of %s does not allow %s on %q (scope %q, groups %q)", c.Subject, op, path, c.Scope, c.Groups)
	}
	return "", nil
}

// newHTTPClient is a client with a timeout, its own connections (idle ones
// kept per host), never through a proxy.
func newHTTPClient(idlePerHost int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			MaxIdleConnsPerHost:   idlePerHost,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: 2 * httpTimeout,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}
}
