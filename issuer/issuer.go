package issuer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Profile constants of the WLCG Common JWT Profile.
const (
	// AnyAudience is the profile's audience for a token meant for any
	// service; it is the default audience of a client whose audiences are
	// not restricted.
	AnyAudience = "https://wlcg.cern.ch/jwt/v1/any"
	// DefaultVersion is the profile version put in the wlcg.ver claim.
	DefaultVersion = "1.0"
	// ScopeOfflineAccess asks for a refresh token (token exchange only).
	ScopeOfflineAccess = "offline_access"
	// ScopeGroups asks for the wlcg.groups claim with all the subject's
	// groups; "wlcg.groups:/GROUP" asks for one group, listed first.
	ScopeGroups = "wlcg.groups"
)

// Lifetimes of the profile: version 1.0 recommends 20 minutes for access
// tokens and 10 days for refresh tokens; later versions 1 hour and 30 days.
const (
	DefaultAccessLifetime      = 20 * time.Minute
	DefaultRefreshLifetime     = 10 * 24 * time.Hour
	DefaultAccessLifetimeLate  = time.Hour
	DefaultRefreshLifetimeLate = 30 * 24 * time.Hour
)

// Signature algorithms the issuer can sign with.
const (
	RS256 = "RS256"
	ES256 = "ES256"
)

// Endpoint paths, relative to [Issuer.URL].
const (
	TokenPath = "/token"
	JWKSPath  = "/jwks"
)

// HTTP server limits.
const (
	// MaxBodyBytes bounds a request body (a token exchange carries one
	// subject token of a few kilobytes).
	MaxBodyBytes = 64 << 10
	// MaxHeaderBytes bounds the request header.
	MaxHeaderBytes     = 32 << 10
	readHeaderTimeout  = 5 * time.Second
	readTimeout        = 10 * time.Second
	writeTimeout       = 10 * time.Second
	idleTimeout        = 60 * time.Second
	shutdownTimeout    = 5 * time.Second
	defaultSweepPeriod = time.Minute
)

// Client is an OAuth2 client registered at the issuer (a service such as
// Rucio or FTS, or a user's agent).
type Client struct {
	// ID is the client_id; Secret its client_secret (HTTP Basic or form
	// post).
	ID, Secret string
	// Scopes are the scopes the client may be granted (see the package
	// doc for how capability scopes are matched). With no scope in a
	// client-credentials request, all of them but offline_access are
	// granted.
	Scopes []string
	// Groups are the subject's groups (wlcg.groups) in their default
	// order, for tokens the client obtains for itself; token exchange
	// carries the subject token's groups on.
	Groups []string
	// Audiences are the audiences the client may request. Empty means any
	// audience; with no audience in a request, the token's audience is
	// this list, or [AnyAudience] when the list is empty.
	Audiences []string
}

// Config configures an issuer. The zero value of every field but Clients
// has a default.
type Config struct {
	// Clients are the registered clients; IDs must be unique and
	// non-empty, secrets non-empty.
	Clients []Client
	// AccessLifetime and RefreshLifetime default to the profile's
	// recommendation for Version (20 min / 10 d for 1.0, 1 h / 30 d for
	// later versions).
	AccessLifetime, RefreshLifetime time.Duration
	// Algs are the signature algorithms ("RS256", "ES256"): one key per
	// algorithm is made and published in the JWKS, and the first signs.
	// Default {"RS256"}, the profile's required algorithm.
	Algs []string
	// Version is the wlcg.ver claim, default "1.0".
	Version string
	// KeyRetention is how long a key replaced by [Issuer.RotateKeys]
	// stays in the JWKS, so tokens it signed still verify. Default
	// AccessLifetime.
	KeyRetention time.Duration
}

// Issuer is a running issuer. Its methods are safe for concurrent use.
type Issuer struct {
	cfg     Config
	url     string
	clients map[string]*client
	keys    *keyring
	store   *store
	stats   counters
	srv     *http.Server
	ln      net.Listener

	closeOnce sync.Once
	closeErr  error
	stopCtx   func() bool
	served    chan struct{}
}

// withDefaults validates cfg and fills in its defaults.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	late := cfg.Version != "1.0"
	if cfg.AccessLifetime == 0 {
		cfg.AccessLifetime = DefaultAccessLifetime
		if late {
			cfg.AccessLifetime = DefaultAccessLifetimeLate
		}
	}
	if cfg.RefreshLifetime == 0 {
		cfg.RefreshLifetime = DefaultRefreshLifetime
		if late {
			cfg.RefreshLifetime = DefaultRefreshLifetimeLate
		}
	}
	if cfg.AccessLifetime < time.Second || cfg.RefreshLifetime < time.Second {
		return cfg, fmt.Errorf("issuer: lifetimes must be at least 1s (access %v, refresh %v)", cfg.AccessLifetime, cfg.RefreshLifetime)
	}
	if cfg.KeyRetention == 0 {
		cfg.KeyRetention = cfg.AccessLifetime
	}
	if cfg.KeyRetention < 0 {
		return cfg, fmt.Errorf("issuer: negative key retention %v", cfg.KeyRetention)
	}
	if len(cfg.Algs) == 0 {
		cfg.Algs = []string{RS256}
	}
	cfg.Algs = slices.Clone(cfg.Algs)
	for i, a := range cfg.Algs {
		if a != RS256 && a != ES256 {
			return cfg, fmt.Errorf("issuer: unsupported signature algorithm %q (want RS256 or ES256)", a)
		}
		if slices.Contains(cfg.Algs[:i], a) {
			return cfg, fmt.Errorf("issuer: algorithm %q listed twice", a)
		}
	}
	if len(cfg.Clients) == 0 {
		return cfg, errors.New("issuer: no clients")
	}
	cfg.Clients = slices.Clone(cfg.Clients)
	return cfg, nil
}

// Start starts an issuer on 127.0.0.1 with a free port and returns once it
// is listening (connections made after Start returns are served). When
// ctx is cancelled the issuer is closed.
func Start(ctx context.Context, cfg Config) (*Issuer, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	clients := make(map[string]*client, len(cfg.Clients))
	for _, c := range cfg.Clients {
		if c.ID == "" || c.Secret == "" {
			return nil, fmt.Errorf("issuer: client %q needs an ID and a secret", c.ID)
		}
		if _, dup := clients[c.ID]; dup {
			return nil, fmt.Errorf("issuer: client %q registered twice", c.ID)
		}
		for _, s := range c.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") {
				return nil, fmt.Errorf("issuer: client %q: bad scope %q", c.ID, s)
			}
		}
		clients[c.ID] = newClient(c)
	}
	keys, err := newKeyring(cfg.Algs, cfg.KeyRetention)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("issuer: listen: %w", err)
	}
	i := &Issuer{
		cfg:     cfg,
		url:     "http://" + ln.Addr().String(),
		clients: clients,
		keys:    keys,
		store:   newStore(defaultSweepPeriod),
		ln:      ln,
		served:  make(chan struct{}),
	}
	i.srv = &http.Server{
		Handler:           i.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	go func() {
		defer close(i.served)
		_ = i.srv.Serve(ln) // ErrServerClosed after Close
	}()
	i.stopCtx = context.AfterFunc(ctx, func() { _ = i.shutdown() })
	return i, nil
}

// handler builds the HTTP handler: the counting and limiting middleware
// around zitadel's metadata handler (the well-known paths) and its
// op.Server router (everything else).
func (i *Issuer) handler() http.Handler {
	srv := &server{iss: i}
	endpoints := op.Endpoints{
		Token:   op.NewEndpoint(TokenPath),
		JwksURI: op.NewEndpoint(JWKSPath),
	}
	meta := op.RegisterMetadataServer(&metadata{iss: i})
	oidcHandler := op.RegisterServer(srv, endpoints)
	return i.count(meta.Intercept(oidcHandler))
}

// URL is the issuer URL, the iss claim of every token
// ("http://127.0.0.1:PORT").
func (i *Issuer) URL() string { return i.url }

// TokenURL is the token endpoint.
func (i *Issuer) TokenURL() string { return i.url + TokenPath }

// JWKSURL is the JWKS endpoint (jwks_uri).
func (i *Issuer) JWKSURL() string { return i.url + JWKSPath }

// Config is the configuration in force, defaults filled in.
func (i *Issuer) Config() Config {
	c := i.cfg
	c.Clients = slices.Clone(c.Clients)
	c.Algs = slices.Clone(c.Algs)
	return c
}

// RotateKeys makes a new key for the signing algorithm, with a new kid, and
// signs with it from now on. The replaced key stays in the JWKS for
// Config.KeyRetention, so tokens it signed still verify until then.
func (i *Issuer) RotateKeys() error { return i.keys.rotate() }

// KeyID is the kid of the key that signs new tokens.
func (i *Issuer) KeyID() string { return i.keys.signingKeyID() }

// Close stops the server (waiting up to 5 s for requests in flight) and
// releases the listener. It is idempotent.
func (i *Issuer) Close() error {
	i.stopCtx()
	return i.shutdown()
}

// Kill stops the issuer as a crash would, for fault tests: the listener
// and every open connection are closed at once, requests in flight cut
// without a reply, and new connections refused. Close after Kill does
// nothing more; Stats still reads the counters.
func (i *Issuer) Kill() error {
	i.stopCtx()
	i.closeOnce.Do(func() {
		i.closeErr = i.srv.Close()
		<-i.served
	})
	return i.closeErr
}

// shutdown is Close without releasing the context watch, so that the
// context's AfterFunc can call it.
func (i *Issuer) shutdown() error {
	i.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := i.srv.Shutdown(ctx); err != nil {
			i.closeErr = errors.Join(err, i.srv.Close())
		}
		<-i.served
	})
	return i.closeErr
}
