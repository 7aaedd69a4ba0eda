package conformance

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wlcg"
	relyingparty "github.com/authbench/authbench/wlcg/rp"
)

// The storage relying party.

// storageAudience is the storage relying party's audience.
const storageAudience = "https://storage.conform.invalid"

// storageClient is the storage issuer's client id.
const storageClient = "conform-storage"

// storageRP is a small storage endpoint over HTTP on loopback, a WLCG relying
// party as a storage element is one: it verifies a bearer token with package
// wlcg/rp (its issuer's JWKS, RS256 or ES256 by kid, and the profile's claim
// rules with its own audience), then authorises the request's
// operation on its path with rule (the scheme's: see
// schemes.ConformanceWLCGStorageAllows). GET reads, PUT creates (or
// modifies, when the file exists), DELETE deletes; a path is authorised as
// the request names it and served cleaned, as a file system resolves it.
type storageRP struct {
	rp   *relyingparty.Verifier
	rule func(scopes []wlcg.Scope, op, path string) bool

	mu    sync.Mutex
	files map[string]string

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// storageRig is a storage relying party with its own issuer, whose client
// may be granted storage.read, storage.create and storage.modify on /cms.
type storageRig struct {
	iss    *issuer.Issuer
	rp     *storageRP
	hc     *http.Client
	secret string
}

func startStorage(ctx context.Context, r *wlcgRig) (*storageRig, error) {
	rule := schemes.ConformanceWLCGStorageAllows(r.t.Guard)
	if rule == nil {
		return nil, errors.New("the scheme has no wlcg capability rule")
	}
	secret := hex.EncodeToString(randomBytes(16))
	iss, err := issuer.Start(ctx, issuer.Config{Algs: []string{r.alg}, Clients: []issuer.Client{{
		ID: storageClient, Secret: secret,
		Scopes: []string{wlcg.StorageRead + ":/cms", wlcg.StorageCreate + ":/cms", wlcg.StorageModify + ":/cms"},
	}}})
	if err != nil {
		return nil, fmt.Errorf("storage issuer: %w", err)
	}
	s := &storageRig{iss: iss, hc: r.hc, secret: secret}
	rp := &storageRP{
		rule:  rule,
		files: map[string]string{"/cms/data.root": "cms data", "/cmsx/secret.root": "cmsx secret"},
		done:  make(chan struct{}),
	}
	if rp.rp, err = relyingparty.New(ctx, relyingparty.Config{Issuer: iss.URL(), Audience: storageAudience, Leeway: schemes.DefaultLeeway, HTTP: r.hc}); err != nil {
		_ = iss.Close()
		return nil, fmt.Errorf("storage relying party: %w", err)
	}
	if rp.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		_ = iss.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	rp.srv = &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(rp.serve)}
	go func() {
		defer close(rp.done)
		_ = rp.srv.Serve(rp.ln)
	}()
	s.rp = rp
	return s, nil
}

func (s *storageRig) close() {
	_ = s.rp.srv.Close()
	<-s.rp.done
	_ = s.iss.Close()
}

// token asks the storage issuer for a token of scope for the storage
// audience.
func (s *storageRig) token(ctx context.Context, scope string) (string, error) {
	return mintWLCG(ctx, s.hc, s.iss.TokenURL(), schemes.WLCGClient{ID: storageClient, Secret: s.secret}, scope, storageAudience)
}

// verify checks a bearer token and returns its capability scopes.
func (rp *storageRP) verify(ctx context.Context, tok string) ([]wlcg.Scope, error) {
	c, err := rp.rp.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	return wlcg.ParseScopes(c.Scope)
}

func (rp *storageRP) serve(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "no bearer token", http.StatusUnauthorized)
		return
	}
	scopes, err := rp.verify(r.Context(), tok)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	name := path.Clean(p)
	rp.mu.Lock()
	defer rp.mu.Unlock()
	_, exists := rp.files[name]
	var op string
	switch r.Method {
	case http.MethodGet:
		op = wlcg.OpRead
	case http.MethodPut:
		op = wlcg.OpCreate
		if exists {
			op = wlcg.OpModify
		}
	case http.MethodDelete:
		op = wlcg.OpDelete
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !rp.rule(scopes, op, p) {
		http.Error(w, fmt.Sprintf("%s %s not allowed", op, p), http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet:
		if !exists {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, rp.files[name])
	case http.MethodPut:
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		rp.files[name] = string(b)
		if exists {
			w.WriteHeader(http.StatusNoContent)
		} else {
			w.WriteHeader(http.StatusCreated)
		}
	case http.MethodDelete:
		delete(rp.files, name)
		w.WriteHeader(http.StatusNoContent)
	}
}

// do sends one storage request with tok and returns its status.
func (s *storageRig) do(ctx context.Context, tok, method, p string) (int, error) {
	var body io.Reader
	if method == http.MethodPut {
		body = strings.NewReader("conform")
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.rp.ln.Addr().String()+p, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// storageStep is one request to the storage relying party and whether it
// must be allowed (a 2xx) or refused (403).
type storageStep struct {
	scope, method, path string
	allow               bool
}

// runStorage mints a token per scope and runs the steps in order.
func runStorage(ctx context.Context, r *wlcgRig, steps []storageStep) Result {
	s, err := startStorage(ctx, r)
	if err != nil {
		return broken("storage relying party", err)
	}
	defer s.close()
	toks := map[string]string{}
	var rs []Result
	for _, st := range steps {
		tok, ok := toks[st.scope]
		if !ok {
			if tok, err = s.token(ctx, st.scope); err != nil {
				return broken("storage token", err)
			}
			toks[st.scope] = tok
		}
		code, err := s.do(ctx, tok, st.method, st.path)
		if err != nil {
			return broken("storage request", err)
		}
		what := fmt.Sprintf("%s %s with %s: %d", st.method, st.path, st.scope, code)
		switch {
		case st.allow && code/100 == 2:
			rs = append(rs, passf("%s (allowed)", what))
		case st.allow:
			rs = append(rs, failf("%s, want allowed", what))
		case code == http.StatusForbidden:
			rs = append(rs, passf("%s (refused)", what))
		default:
			rs = append(rs, failf("%s, want 403", what))
		}
	}
	return all(rs...)
}

func runWLCGStoragePrefix(ctx context.Context, r *wlcgRig) Result {
	const sc = "storage.read:/cms storage.create:/cms/out"
	return runStorage(ctx, r, []storageStep{
		{sc, http.MethodGet, "/cms/data.root", true},
		{sc, http.MethodPut, "/cms/out/f.root", true},
		{sc, http.MethodGet, "/cmsx/secret.root", false},
		{sc, http.MethodGet, "/cms/../cmsx/secret.root", false},
		{sc, http.MethodPut, "/cms/outx/f.root", false},
	})
}

func runWLCGStorageCreateModify(ctx context.Context, r *wlcgRig) Result {
	const create, modify = "storage.create:/cms", "storage.modify:/cms"
	return runStorage(ctx, r, []storageStep{
		{create, http.MethodPut, "/cms/new.root", true},
		{create, http.MethodGet, "/cms/data.root", false},
		{create, http.MethodPut, "/cms/data.root", false},
		{create, http.MethodDelete, "/cms/data.root", false},
		{modify, http.MethodPut, "/cms/new2.root", true},
		{modify, http.MethodPut, "/cms/data.root", true},
		{modify, http.MethodGet, "/cms/data.root", false},
	})
}
