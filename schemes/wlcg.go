package schemes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/wlcg"
	"github.com/authbench/authbench/wlcg/rp"
)

// WLCGFile is the wlcg credential's file in .service/ (0600): where its
// issuer is, the client credentials a CLI and a job use there, and the
// audience the WFS expects (a [WLCGService] in JSON).
const WLCGFile = "wlcg"

// WLCGJobFile is the jobs' part of WLCGFile in .service/ (0600): the
// issuer, the audience and the job client alone, without the CLI's
// secret. Jobs read it, and remote-init installs it on an install target
// without a shared file system, as cylc-flow's remote-init installs the
// contact file there (cylc/flow/task_remote_mgr.py, _remote_init_items).
const WLCGJobFile = "wlcg-job"

// Client ids of the wlcg credential at its issuer: one for the workflow
// owner's CLI (and the UI server), one shared by every job.
const (
	WLCGCLIClient = "authbench-cli"
	WLCGJobClient = "authbench-job"
)

// Relying-party constants of the wlcg credential.
const (
	// WLCGJWKSTTL is how long the WFS caches the issuer's JWKS, the 6
	// hours the WLCG profile gives relying parties for caching an
	// issuer's public keys.
	WLCGJWKSTTL = rp.DefaultTTL
	// WLCGRefetchInterval bounds the refetches an unknown kid triggers: at
	// most one per interval, so that tokens with made-up kids cannot make
	// the WFS hammer the issuer.
	WLCGRefetchInterval = rp.DefaultMinRefetch
	// wlcgRenewMargin is how long before its exp a client stops using a
	// cached access token (less for short-lived tokens: a tenth of their
	// lifetime).
	wlcgRenewMargin = time.Minute
	// wlcgHTTPTimeout bounds every HTTP exchange with the issuer.
	wlcgHTTPTimeout = 5 * time.Second
)

// WLCGAudience is the audience a WFS of workflow expects in a wlcg token.
func WLCGAudience(workflow string) string { return "authbench:" + workflow }

// WLCGService is the content of .service/wlcg.
type WLCGService struct {
	// Issuer is the issuer URL (the iss claim).
	Issuer string `json:"issuer"`
	// TokenURL is the issuer's token endpoint.
	TokenURL string `json:"token_url"`
	// Audience is what clients ask the issuer for and the WFS requires.
	Audience string `json:"audience"`
	// CLI is the client of the CLI and the UI server; Job that of jobs.
	CLI WLCGClient `json:"cli"`
	Job WLCGClient `json:"job"`
}

// WLCGClient is one OAuth2 client at the issuer.
type WLCGClient struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
	// Scope is the space-separated scope a client asks for: the compute
	// scopes its commands need.
	Scope string `json:"scope"`
}

// ReadWLCGService reads .service/wlcg as the CLI and the UI server do
// (through run.Files, so the read is counted).
func ReadWLCGService(run *wfs.RunDir) (WLCGService, error) {
	return readWLCGService(run, WLCGFile)
}

// ReadWLCGJobService reads .service/wlcg-job as a job does: the job client
// alone (CLI is empty).
func ReadWLCGJobService(run *wfs.RunDir) (WLCGService, error) {
	return readWLCGService(run, WLCGJobFile)
}

func readWLCGService(run *wfs.RunDir, name string) (WLCGService, error) {
	var svc WLCGService
	b, err := run.Files.ReadFile(run.Service(name))
	if err != nil {
		return svc, fmt.Errorf("wlcg: %w", err)
	}
	if err := json.Unmarshal(b, &svc); err != nil {
		return svc, fmt.Errorf("wlcg: .service/%s: %w", name, err)
	}
	if svc.TokenURL == "" || svc.Audience == "" || svc.Job.ID == "" || (name == WLCGFile && svc.CLI.ID == "") {
		return svc, fmt.Errorf("wlcg: .service/%s lacks the token URL, the audience or a client", name)
	}
	if name == WLCGJobFile && svc.CLI != (WLCGClient{}) {
		return svc, fmt.Errorf("wlcg: .service/%s holds the CLI's credentials (it is the jobs' file)", name)
	}
	return svc, nil
}

// The scopes of the wlcg clients: the CLI may read, modify and stop the
// workflow; a job may send messages (compute.modify). See wlcgScopeFor.
var (
	wlcgCLIScopes = []string{wlcg.ComputeRead, wlcg.ComputeModify, wlcg.ComputeCancel}
	wlcgJobScopes = []string{wlcg.ComputeModify}
)

// wlcgPart is the wlcg credential: an access token of the WLCG Common JWT
// Profile, obtained by the client from an OAuth2 issuer with the client
// credentials grant and sent, as the jwt credential sends its token, as the
// request's last frame. The issuer runs inside the WFS process (package
// issuer, on loopback), so the WFS's CPU includes the issuer's. The WFS is
// the relying party: it verifies the JWS against the issuer's JWKS (fetched
// over HTTP, cached for 6 h, refetched once for an unknown kid, at most
// once per 10 s), applies the profile's claim rules (package wlcg: iss,
// aud, exp, nbf, wlcg.ver) and authorises each command by compute scope.
//
// Wire: [body, token].
type wlcgPart struct {
	alg string
}

func wlcgInfo() PartInfo {
	return PartInfo{
		Name: "wlcg", Kind: Credential,
		Doc:      "WLCG profile access token (client credentials from an issuer run by the WFS, ES256 or RS256) as an extra frame; JWKS-verified, iss aud exp nbf wlcg.ver checked, compute.* scopes per command",
		Algs:     []string{issuer.ES256, issuer.RS256},
		Policies: []string{PolicyWorkflow},
		Examples: []string{"wlcg", "curve+wlcg"},
		New: func(sp Spec) (Part, error) {
			alg := sp.Alg
			if alg == "" {
				alg = issuer.ES256
			}
			return &wlcgPart{alg: alg}, nil
		},
	}
}

// Claims: a bearer token bound to the workflow's audience, expiring, with
// capability scopes; clients read the issuer's client credentials from
// .service/wlcg. It is neither replay-proof (a bearer token is good until
// its exp) nor confidential, and a job's token outlives the job.
func (p *wlcgPart) Claims() Claims {
	return Claims{Authenticates: true, Expires: true, Audience: true, NeedsFS: true, FineGrained: true}
}

// wlcgServer is the relying party.
type wlcgServer struct {
	NopServer
	iss      *issuer.Issuer
	run      *wfs.RunDir
	svc      WLCGService
	now      func() time.Time
	rp       *rp.Verifier
	hc       *http.Client
	closeMu  sync.Mutex
	verified atomic.Int64

	refusedMu sync.Mutex
	refused   map[string]int64 // label -> count
}

// Server starts the issuer, with a client for the CLI and one for jobs, and
// writes .service/wlcg; it then discovers the issuer's JWKS and fetches it
// once, as a relying party does at start.
func (p *wlcgPart) Server(ctx context.Context, env Env) (ServerPart, error) {
	cliSecret, err := randomID(32)
	if err != nil {
		return nil, fmt.Errorf("wlcg: %w", err)
	}
	jobSecret, err := randomID(32)
	if err != nil {
		return nil, fmt.Errorf("wlcg: %w", err)
	}
	// The issuer lives until Close, not until the provisioning context
	// ends. Like IAM, it lets a client ask for any audience: binding a
	// token to this workflow is the relying party's check.
	iss, err := issuer.Start(context.WithoutCancel(ctx), issuer.Config{
		Algs: []string{p.alg},
		Clients: []issuer.Client{
			{ID: WLCGCLIClient, Secret: cliSecret, Scopes: wlcgCLIScopes},
			{ID: WLCGJobClient, Secret: jobSecret, Scopes: wlcgJobScopes},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("wlcg: %w", err)
	}
	now := env.Now
	if now == nil {
		now = time.Now
	}
	aud := WLCGAudience(env.Workflow)
	s := &wlcgServer{
		iss: iss, run: env.Run, now: now,
		svc: WLCGService{
			Issuer: iss.URL(), TokenURL: iss.TokenURL(), Audience: aud,
			CLI: WLCGClient{ID: WLCGCLIClient, Secret: cliSecret, Scope: strings.Join(wlcgCLIScopes, " ")},
			Job: WLCGClient{ID: WLCGJobClient, Secret: jobSecret, Scope: strings.Join(wlcgJobScopes, " ")},
		},
		hc:      wlcgHTTPClient(),
		refused: map[string]int64{},
	}
	jobs := s.svc
	jobs.CLI = WLCGClient{}
	for name, svc := range map[string]WLCGService{WLCGFile: s.svc, WLCGJobFile: jobs} {
		b, err := json.MarshalIndent(svc, "", "  ")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("wlcg: %w", err), s.Close())
		}
		if err := env.Run.Files.WriteFile(env.Run.Service(name), append(b, '\n'), 0o600); err != nil {
			return nil, errors.Join(fmt.Errorf("wlcg: %w", err), s.Close())
		}
	}
	s.rp, err = rp.New(ctx, rp.Config{
		Issuer: iss.URL(), Audience: aud, Leeway: leewayOf(env), HTTP: s.hc, Now: now,
		TTL: WLCGJWKSTTL, MinRefetch: WLCGRefetchInterval,
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("wlcg: %w", err), s.Close())
	}
	return s, nil
}

// refuse counts a refusal under label and returns err.
func (s *wlcgServer) refuse(label string, err error) error {
	s.refusedMu.Lock()
	s.refused[label]++
	s.refusedMu.Unlock()
	return err
}

// Verify takes the token from the last frame and verifies it.
func (s *wlcgServer) Verify(ctx context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	n := len(in.Frames)
	if n == 0 {
		return wfs.Principal{}, &wfs.Error{Kind: wfs.KindProtocol, Msg: "empty request"}
	}
	if n < 2 {
		return wfs.Principal{}, s.refuse(rp.RefusedNoToken, wfs.Rejectf("no token"))
	}
	tok := string(in.Frames[n-1])
	in.Frames = in.Frames[:n-1]
	c, label, err := s.check(ctx, tok)
	if err != nil {
		return wfs.Principal{}, s.refuse(label, err)
	}
	s.verified.Add(1)
	who := wfs.Principal{Name: c.Subject, Kind: "user", Scopes: strings.Fields(c.Scope)}
	if c.Subject == s.svc.Job.ID {
		who.Kind = "job"
	}
	if who.Scopes == nil {
		who.Scopes = []string{}
	}
	return who, nil
}

// check verifies a token: as schemes' other tokens, a canonical compact
// JWS (strictJWS); then the relying party's checks (package wlcg/rp: alg
// RS256 or ES256 and the alg of the JWKS key its kid names, the signature,
// the profile's claim rules and this WFS's audience); and, stricter than
// the profile, an aud naming this workflow. It returns the refusal label
// with the error.
func (s *wlcgServer) check(ctx context.Context, tok string) (*wlcg.Claims, string, error) {
	if len(tok) == 0 || len(tok) > maxTokenLen {
		return nil, rp.RefusedMalformed, wfs.Rejectf("token: empty or longer than %d bytes", maxTokenLen)
	}
	if tok[0] == '{' || strings.Count(tok, ".") != 2 {
		return nil, rp.RefusedMalformed, wfs.Rejectf("token: not a compact JWS")
	}
	if err := strictJWS(tok, ""); err != nil {
		return nil, rp.RefusedMalformed, err
	}
	c, err := s.rp.Verify(ctx, tok)
	if err != nil {
		return nil, rp.Label(err), wfs.Rejectf("%v", err)
	}
	// Stricter than the profile: a token for any relying party
	// (wlcg.AnyAudience) is not bound to this workflow.
	aud := s.rp.Expect().Audience
	if !c.Audience.Contains(aud) {
		return nil, "audience", wfs.Rejectf("token: aud %q does not name %q (a token for any audience is refused)", []string(c.Audience), aud)
	}
	return c, "", nil
}

// wlcgScopeFor is the compute scope a request needs: reading (ping, the UI
// server's data poll) compute.read; changing the workflow (trigger, hold,
// release, a job message and anything else) compute.modify; stopping it
// compute.cancel.
func wlcgScopeFor(req *wfs.Request) (string, error) {
	switch req.Command {
	case wfs.CmdPing, wfs.CmdData:
		return wlcg.ComputeRead, nil
	case wfs.CmdStop:
		return wlcg.ComputeCancel, nil
	case wfs.CmdMessage, wfs.CmdGraphQL:
		// A job message, as the message command or as cylc's GraphQL
		// mutation (any other graphql request is a protocol error).
		if _, _, err := wfs.JobMessage(req); err != nil {
			return "", err
		}
		return wlcg.ComputeModify, nil
	}
	return wlcg.ComputeModify, nil
}

// Authorize checks the token's scopes against the command (wlcgScopeFor)
// with wlcg.Allows.
func (s *wlcgServer) Authorize(_ context.Context, who wfs.Principal, req *wfs.Request) error {
	if who.Scopes == nil {
		return s.refuse(rp.RefusedNoToken, wfs.Rejectf("no verified token"))
	}
	need, err := wlcgScopeFor(req)
	if err != nil {
		return err
	}
	scopes, err := wlcg.ParseScopes(strings.Join(who.Scopes, " "))
	if err != nil { // Validate parsed them already
		return s.refuse(wlcg.Classify(err), wfs.Rejectf("token: %v", err))
	}
	if !wlcg.Allows(scopes, need, "") {
		return s.refuse(rp.RefusedScope, wfs.Rejectf("%s token of %s lacks %s for %q", who.Kind, who.Name, need, req.Command))
	}
	return nil
}

// Stats reports the issuer's counters (requests per grant, access tokens
// stored), the relying party's JWKS fetches and cache hits, tokens
// verified, and refusals by label.
func (s *wlcgServer) Stats() map[string]float64 {
	is := s.iss.Stats()
	out := map[string]float64{
		"wlcg.issuer.requests":                   float64(is.Requests),
		"wlcg.issuer.token_requests":             float64(is.TokenRequests()),
		"wlcg.issuer.client_credentials":         float64(is.ClientCredentials.Requests),
		"wlcg.issuer.client_credentials_refused": float64(is.ClientCredentials.Refused),
		"wlcg.issuer.token_exchange":             float64(is.TokenExchange.Requests),
		"wlcg.issuer.refresh":                    float64(is.Refresh.Requests),
		"wlcg.issuer.other_grants":               float64(is.OtherGrants.Requests),
		"wlcg.issuer.discovery":                  float64(is.Discovery),
		"wlcg.issuer.jwks":                       float64(is.JWKS),
		"wlcg.issuer.access_tokens_stored":       float64(is.AccessTokensStored),
		"wlcg.issuer.access_tokens_live_end":     float64(is.AccessTokensLive),
		"wlcg.verified":                          float64(s.verified.Load()),
	}
	if s.rp != nil {
		ks := s.rp.Stats()
		out["wlcg.jwks_fetches"] = float64(ks.Fetches)
		out["wlcg.jwks_refetches"] = float64(ks.Refetches)
		out["wlcg.jwks_refetch_limited"] = float64(ks.Limited)
		out["wlcg.jwks_fetch_errors"] = float64(ks.Errors)
		out["wlcg.jwks_cache_hits"] = float64(ks.Hits)
	}
	s.refusedMu.Lock()
	var total int64
	for label, n := range s.refused {
		out["wlcg.refused."+label] = float64(n)
		total += n
	}
	s.refusedMu.Unlock()
	out["wlcg.refused"] = float64(total)
	return out
}

// Close stops the issuer and removes .service/wlcg and .service/wlcg-job.
func (s *wlcgServer) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	err := s.iss.Close()
	s.hc.CloseIdleConnections()
	return errors.Join(err, s.run.Files.Remove(s.run.Service(WLCGFile)), s.run.Files.Remove(s.run.Service(WLCGJobFile)))
}

// RemoteInitFiles is what remote-init installs for the wlcg credential on
// an install target without a shared file system: .service/wlcg-job.
func (s *wlcgServer) RemoteInitFiles() []string {
	return []string{s.run.Service(WLCGJobFile)}
}

// WLCGIssuer returns the issuer a wlcg scheme's WFS runs, or nil when srv
// has no wlcg credential: tests and the conformance suite use it to rotate
// its keys or read its counters.
func WLCGIssuer(srv *Server) *issuer.Issuer {
	for _, p := range srv.parts {
		for range 8 { // bounded unwrapping
			switch v := p.(type) {
			case *wlcgServer:
				return v.iss
			case ServerPartWrapper:
				p = v.Unwrap()
				continue
			}
			break
		}
	}
	return nil
}

// wlcgHTTPClient is an HTTP client of its own (its own connections, as a
// separate process would have), never through a proxy.
func wlcgHTTPClient() *http.Client {
	return &http.Client{
		Timeout:   wlcgHTTPTimeout,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
	}
}
