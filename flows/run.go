package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/tokenexchange"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/pace"
	"github.com/authbench/authbench/record"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/wlcg"
)

// lateThreshold is how late past its intended time a transfer may be
// submitted before it is counted as late.
const lateThreshold = time.Millisecond

// planStream keeps the transfers' draws apart from other uses of the seed.
const planStream = 0x776c63672d706c61 // "wlcg-pla"

// Client IDs at the issuer.
const (
	clientRucio = "rucio"
	clientFTS   = "fts"
)

// Run runs cfg's flow: it starts an issuer and two storage elements on
// loopback, drives the transfers, and returns their figures. The result's
// scenario and scheme fields are the caller's to fill in. On cancellation
// it returns the figures so far, marked partial, with ctx's error; a
// configuration error or a failure to start returns no result.
func Run(ctx context.Context, cfg Config) (*results.Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d, err := start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer d.close()

	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	s0 := d.iss.Stats()
	begin := time.Now()
	fault := d.armFault()
	d.drive(ctx)
	end := time.Now()
	faultAt, faultErr := fault()
	s1 := d.iss.Stats()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)

	res := &results.Result{
		Duration:    end.Sub(begin),
		Ops:         resultOps(d.rec, cfg.Rate, d.late.Load(), d.dropped.Load()),
		CPU:         cpuSeconds(ru1) - cpuSeconds(ru0),
		PeakRSSKB:   ru1.Maxrss,
		SchemeStats: d.stats(s0, s1),
	}
	if faultAt > 0 {
		// Said in the result: its errors are the fault's.
		res.SchemeStats["fault.issuer_down_at_s"] = faultAt.Seconds()
	}
	if faultErr != nil {
		return res, faultErr
	}
	if ctx.Err() != nil {
		res.Partial = true
		return res, ctx.Err()
	}
	return res, nil
}

func cpuSeconds(ru syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// driver is one run: the issuer, the SEs, and the services' token state.
type driver struct {
	cfg      Config
	iss      *issuer.Issuer
	seA, seB *storageElement
	// hung is the listener a hung issuer's port is held by
	// (Fault.IssuerHang), closed with the run.
	hungMu sync.Mutex
	hung   net.Listener

	hc      *http.Client // Rucio's and FTS's
	tokenHC *http.Client // hc's transport, for the token requests
	rec     *record.Recorder
	pacer   pace.Pacer
	legs    map[string]*atomic.Int64

	exchangers map[string]tokenexchange.TokenExchanger // zitadel's, by client ID

	rucio, fts client
	users      []client
	logins     []cached // per user: the user's own token
	ex1        []cached // per user: Rucio's exchange 1
	rucioFTS   cached   // service flow: Rucio's token to FTS

	keysMu sync.Mutex
	keys   map[keyOf]*chain // groups flow

	waitSum                         atomic.Int64 // queue waits drawn, ns
	done, ok, failed, dropped, late atomic.Int64
}

// start starts the issuer and the SEs.
func start(ctx context.Context, cfg Config) (*driver, error) {
	d := &driver{
		cfg:    cfg,
		rec:    record.New(),
		pacer:  cfg.Pacer,
		legs:   map[string]*atomic.Int64{},
		keys:   map[keyOf]*chain{},
		hc:     newHTTPClient(64, cfg.RequestTimeout),
		logins: make([]cached, cfg.Users),
		ex1:    make([]cached, cfg.Users),
	}
	d.tokenHC = newTokenClient(d.hc)
	if d.pacer == nil {
		d.pacer = pace.Constant{PerSecond: cfg.Rate}
	}
	for _, l := range legs {
		d.legs[l] = &atomic.Int64{}
	}
	var err error
	if d.rucio, err = newClient(clientRucio); err != nil {
		return nil, err
	}
	if d.fts, err = newClient(clientFTS); err != nil {
		return nil, err
	}
	// Rucio and FTS may ask for the storage scopes under /cms, refresh
	// tokens and groups: the issuer's exchange policy wants every scope of
	// exchange 2 allowed to the owner of its subject token (Rucio) and to
	// FTS.
	storage := []string{wlcg.StorageRead + ":/cms", wlcg.StorageCreate + ":/cms", issuer.ScopeOfflineAccess, issuer.ScopeGroups}
	clients := []issuer.Client{
		{ID: d.rucio.id, Secret: d.rucio.secret, Scopes: append([]string{scopeFTSSubmit}, storage...), Audiences: []string{AudienceFTS}},
		{ID: d.fts.id, Secret: d.fts.secret, Scopes: storage, Audiences: []string{AudienceSEA, AudienceSEB}},
	}
	for u := range cfg.Users {
		c, err := newClient(fmt.Sprintf("user%d", u))
		if err != nil {
			return nil, err
		}
		d.users = append(d.users, c)
		clients = append(clients, issuer.Client{ID: c.id, Secret: c.secret,
			Scopes: []string{scopeRucioSubmit, scopeFTSSubmit, issuer.ScopeGroups}, Groups: d.groupsOf(),
			Audiences: []string{AudienceRucio}})
	}
	iss, err := issuer.Start(ctx, issuer.Config{
		Clients: clients, AccessLifetime: cfg.AccessLifetime, RefreshLifetime: cfg.RefreshLifetime,
		Algs: []string{cfg.Alg},
	})
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	d.iss = iss
	if err := d.newExchangers(ctx, d.rucio, d.fts); err != nil {
		return nil, errors.Join(err, d.close())
	}
	if d.seA, err = startSE(ctx, "se_a", AudienceSEA, iss.URL(), cfg.Leeway); err != nil {
		return nil, errors.Join(fmt.Errorf("flows: %w", err), d.close())
	}
	if d.seB, err = startSE(ctx, "se_b", AudienceSEB, iss.URL(), cfg.Leeway); err != nil {
		return nil, errors.Join(fmt.Errorf("flows: %w", err), d.close())
	}
	return d, nil
}

// close stops the SEs and the issuer.
func (d *driver) close() error {
	var errs []error
	for _, se := range []*storageElement{d.seA, d.seB} {
		if se != nil {
			errs = append(errs, se.close())
		}
	}
	if d.iss != nil {
		errs = append(errs, d.iss.Close())
	}
	d.hungMu.Lock()
	if d.hung != nil {
		errs = append(errs, d.hung.Close())
		d.hung = nil
	}
	d.hungMu.Unlock()
	d.hc.CloseIdleConnections()
	return errors.Join(errs...)
}

// armFault arms the run's fault (Config.Fault), timed from now; none is a
// no-op. The function it returns, called once the transfers are done,
// disarms a fault not yet due, or waits for one under way, and says when,
// from now, the issuer went down (0 if it did not) and whether the fault
// itself failed.
func (d *driver) armFault() func() (time.Duration, error) {
	f := d.cfg.Fault
	if f == nil || f.IssuerDownAt <= 0 {
		return func() (time.Duration, error) { return 0, nil }
	}
	begin := time.Now()
	var at time.Duration
	var err error
	done := make(chan struct{})
	t := time.AfterFunc(f.IssuerDownAt, func() {
		defer close(done)
		at = time.Since(begin)
		err = d.killIssuer(f.IssuerHang)
	})
	return func() (time.Duration, error) {
		if t.Stop() {
			return 0, nil
		}
		<-done
		return at, err
	}
}

// killIssuer kills the issuer (Issuer.Kill) and, to hang it instead,
// listens on its port again without ever accepting: connections are made
// by the kernel, requests sent, and no reply comes.
func (d *driver) killIssuer(hang bool) error {
	if err := d.iss.Kill(); err != nil {
		return fmt.Errorf("flows: kill the issuer: %w", err)
	}
	if !hang {
		return nil
	}
	u, err := url.Parse(d.iss.URL())
	if err != nil {
		return fmt.Errorf("flows: hang the issuer: %w", err)
	}
	ln, err := net.Listen("tcp", u.Host)
	if err != nil {
		return fmt.Errorf("flows: hang the issuer: hold its port: %w", err)
	}
	d.hungMu.Lock()
	d.hung = ln
	d.hungMu.Unlock()
	return nil
}

func newClient(id string) (client, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return client{}, fmt.Errorf("flows: secret: %w", err)
	}
	return client{id: id, secret: hex.EncodeToString(b)}, nil
}

// groupName is group g's name, /cms/gN (the VO's name first, as the
// profile wants).
func groupName(g int) string { return fmt.Sprintf("/cms/g%d", g) }

// groupsOf is the users' groups: every group of the groups flow, or the
// VO's.
func (d *driver) groupsOf() []string {
	if d.cfg.Flow != Groups {
		return []string{"/cms"}
	}
	out := make([]string, d.cfg.Groups)
	for g := range out {
		out[g] = groupName(g)
	}
	return out
}

// drive sends the transfers as the pacer asks, each in a goroutine of its
// own, until the count, the duration or ctx ends it, then waits for those
// in flight (they stop early only when ctx ends).
func (d *driver) drive(ctx context.Context) {
	dctx := ctx
	if d.cfg.Duration > 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, d.cfg.Duration)
		defer cancel()
	}
	slots := make(chan struct{}, d.cfg.MaxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	for n := uint64(0); dctx.Err() == nil; n++ {
		if d.cfg.Total > 0 && n >= uint64(d.cfg.Total) {
			return
		}
		elapsed := time.Since(start)
		wait, stop := d.pacer.Pace(elapsed, n)
		if stop {
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-dctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		intended := start.Add(elapsed + wait)
		if time.Since(intended) > lateThreshold {
			d.late.Add(1)
		}
		select {
		case slots <- struct{}{}:
		default:
			d.dropped.Add(1)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			err := d.transfer(ctx, n, intended)
			d.done.Add(1)
			if err != nil {
				d.failed.Add(1)
			} else {
				d.ok.Add(1)
			}
			if d.cfg.OnTransfer != nil {
				d.cfg.OnTransfer(err)
			}
		}()
	}
}

// plan is one transfer's draws: its user, group, queue wait and file.
type plan struct {
	n           uint64
	user, group int
	wait        time.Duration
	path        string
}

// plan draws transfer n's user, group and wait from the seed and n alone,
// so a seed gives the same transfers whatever order they run in.
func (d *driver) plan(n uint64) plan {
	rng := mrand.New(mrand.NewPCG(uint64(d.cfg.Seed)^planStream, n))
	p := plan{n: n, user: rng.IntN(d.cfg.Users), group: rng.IntN(d.cfg.Groups)}
	switch w := d.cfg.Waits; {
	case w.Mean > 0:
		// Inverse transform: 1-Float64() is in (0, 1].
		x := -math.Log(1-rng.Float64()) * float64(w.Mean)
		p.wait = time.Duration(min(x, float64(MaxWait)))
	case len(w.List) > 0:
		p.wait = w.List[rng.IntN(len(w.List))]
	}
	switch d.cfg.Flow {
	case Service:
		p.path = fmt.Sprintf("/cms/data/xfer-%06d", n)
	case User:
		p.path = fmt.Sprintf("/cms/user%d/xfer-%06d", p.user, n)
	default:
		p.path = fmt.Sprintf("%s/xfer-%06d", groupName(p.group), n)
	}
	return p
}

// spec is one storage token a transfer needs: its audiences and the
// scopes it asks for (besides offline_access).
type spec struct {
	key   string // pair, se_a or se_b
	aud   []string
	scope string
}

// specs are the storage tokens of transfer p: one for both SEs, or one per
// SE (SE-A reads, SE-B creates); group scopes in the groups flow.
func (d *driver) specs(p plan) []spec {
	read, create := wlcg.StorageRead+":"+p.path, wlcg.StorageCreate+":"+p.path
	if d.cfg.Flow == Groups {
		read = issuer.ScopeGroups + ":" + groupName(p.group)
		create = read
	}
	if d.cfg.BothSEs {
		scope := read + " " + create
		if read == create {
			scope = read
		}
		return []spec{{key: "pair", aud: []string{AudienceSEA, AudienceSEB}, scope: scope}}
	}
	return []spec{{key: "se_a", aud: []string{AudienceSEA}, scope: read}, {key: "se_b", aud: []string{AudienceSEB}, scope: create}}
}

// transfer runs transfer n, intended to be submitted at intended.
func (d *driver) transfer(ctx context.Context, n uint64, intended time.Time) error {
	p := d.plan(n)
	d.waitSum.Add(int64(p.wait))
	fail := func(op string, err error) error {
		d.rec.Fail(op, kindOf(err))
		if op != OpTransfer {
			d.rec.Fail(OpTransfer, kindOf(err))
		}
		return err
	}
	// Submission: Rucio's tokens, and FTS's when it queues the transfer.
	submitted := time.Now()
	chains, err := d.submit(ctx, p)
	if err != nil {
		return fail(OpSubmit, err)
	}
	d.rec.OK(OpSubmit, intended, submitted, time.Now())
	// The queue: FTS keeps its tokens fresh until the start.
	startAt := intended.Add(p.wait)
	if err := d.queue(ctx, chains, startAt); err != nil {
		return fail(OpTransfer, err)
	}
	started := time.Now()
	tokA, tokB, err := d.startTokens(ctx, p, chains)
	if err != nil {
		return fail(OpTransfer, err)
	}
	if err := d.tpc(ctx, p.path, tokA, tokB); err != nil {
		return fail(OpTransfer, err)
	}
	d.rec.OK(OpTransfer, startAt, started, time.Now())
	return nil
}

// submit does the token work at submission: Rucio's token to FTS (and the
// user's own before it), then, in the user flow, FTS's exchange 2 per
// storage token; in the groups flow FTS makes sure the group's keys have
// tokens. It returns the transfer's own chains (user flow).
func (d *driver) submit(ctx context.Context, p plan) ([]*chain, error) {
	margin := d.cfg.Margin
	if d.cfg.Flow == Service {
		fetch := func() (token, error) {
			return d.clientCredentials(ctx, d.rucio, LegTFTS, scopeFTSSubmit, AudienceFTS)
		}
		var err error
		if d.cfg.NoReuse {
			_, err = fetch()
		} else {
			_, err = d.rucioFTS.get(margin, fetch)
		}
		return nil, err
	}
	tFTS, err := d.tokenToFTS(ctx, p.user)
	if err != nil {
		return nil, err
	}
	if d.cfg.Flow == Groups && !d.cfg.NoReuse {
		for _, s := range d.specs(p) {
			k := d.key(p.group, s)
			k.mu.Lock()
			if !k.tok.usable(margin) && !refreshLive(k.tok) {
				k.tok, err = d.exchange(ctx, d.fts, LegExchange2, tFTS.access, issuer.ScopeOfflineAccess+" "+s.scope, s.aud...)
			}
			k.mu.Unlock()
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	var chains []*chain
	for _, s := range d.specs(p) {
		t, err := d.exchange(ctx, d.fts, LegExchange2, tFTS.access, issuer.ScopeOfflineAccess+" "+s.scope, s.aud...)
		if err != nil {
			return nil, err
		}
		chains = append(chains, &chain{aud: s.aud, scope: s.scope, tok: t})
	}
	return chains, nil
}

// tokenToFTS is Rucio's token to FTS for user u: the user's own token
// (reused for the user's session), exchanged by Rucio (exchange 1; reused
// per user unless NoReuse).
func (d *driver) tokenToFTS(ctx context.Context, u int) (token, error) {
	margin := d.cfg.Margin
	loginScope, ex1Scope := scopeRucioSubmit, scopeFTSSubmit
	if d.cfg.Flow == Groups {
		loginScope += " " + issuer.ScopeGroups
		ex1Scope += " " + issuer.ScopeGroups
	}
	fetch := func() (token, error) {
		login, err := d.logins[u].get(margin, func() (token, error) {
			return d.clientCredentials(ctx, d.users[u], LegLogin, loginScope, AudienceRucio)
		})
		if err != nil {
			return token{}, err
		}
		return d.exchange(ctx, d.rucio, LegTFTS, login.access, ex1Scope, AudienceFTS)
	}
	if d.cfg.NoReuse {
		return fetch()
	}
	return d.ex1[u].get(margin, fetch)
}

// refreshLive reports whether t's refresh token has not expired.
func refreshLive(t token) bool {
	return t.refresh != "" && time.Now().Before(t.refreshExpires)
}

// key returns the groups flow's key for group g and storage token s.
func (d *driver) key(g int, s spec) *chain {
	d.keysMu.Lock()
	defer d.keysMu.Unlock()
	k := keyOf{group: g, se: s.key}
	c := d.keys[k]
	if c == nil {
		c = &chain{aud: s.aud, scope: s.scope}
		d.keys[k] = c
	}
	return c
}

// queue waits until startAt, refreshing the transfer's chains whenever
// one has less than the margin left (the model's keep-fresh policy).
func (d *driver) queue(ctx context.Context, chains []*chain, startAt time.Time) error {
	for {
		var next *chain
		for _, c := range chains {
			if next == nil || c.tok.expires.Before(next.tok.expires) {
				next = c
			}
		}
		if next == nil || !next.tok.expires.Add(-d.cfg.Margin).Before(startAt) {
			return sleepUntil(ctx, startAt)
		}
		if err := sleepUntil(ctx, next.tok.expires.Add(-d.cfg.Margin)); err != nil {
			return err
		}
		t, err := d.refresh(ctx, d.fts, next.tok)
		if err != nil {
			return err
		}
		next.tok = t
	}
}

// sleepUntil sleeps until t or ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	wait := time.Until(t)
	if wait <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(wait)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// startTokens are the tokens presented at the start, for SE-A and SE-B:
// fetched now by client credentials (service flow), the transfer's own
// (user flow), or the group's keys', refreshed if they have less than the
// margin left (groups flow).
func (d *driver) startTokens(ctx context.Context, p plan, chains []*chain) (string, string, error) {
	var toks []string
	switch {
	case d.cfg.Flow == Service:
		for _, s := range d.specs(p) {
			t, err := d.clientCredentials(ctx, d.fts, LegStorageCC, s.scope, s.aud...)
			if err != nil {
				return "", "", err
			}
			toks = append(toks, t.access)
		}
	case d.cfg.Flow == Groups && !d.cfg.NoReuse:
		for _, s := range d.specs(p) {
			t, err := d.freshKey(ctx, p, d.key(p.group, s))
			if err != nil {
				return "", "", err
			}
			toks = append(toks, t)
		}
	default:
		for _, c := range chains {
			toks = append(toks, c.tok.access)
		}
	}
	return toks[0], toks[len(toks)-1], nil
}

// freshKey returns key k's access token, renewed first if it has less
// than the margin left: by its refresh token while that lives, else by
// exchange 2 afresh.
func (d *driver) freshKey(ctx context.Context, p plan, k *chain) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.tok.usable(d.cfg.Margin) {
		return k.tok.access, nil
	}
	if refreshLive(k.tok) {
		t, err := d.refresh(ctx, d.fts, k.tok)
		if err == nil {
			k.tok = t
			return t.access, nil
		}
		if kindOf(err) != "issuer.invalid_grant" {
			return "", err
		}
	}
	tFTS, err := d.tokenToFTS(ctx, p.user)
	if err != nil {
		return "", err
	}
	t, err := d.exchange(ctx, d.fts, LegExchange2, tFTS.access, issuer.ScopeOfflineAccess+" "+k.scope, k.aud...)
	if err != nil {
		return "", err
	}
	k.tok = t
	return t.access, nil
}

// tpc asks SE-B to pull path from SE-A (HTTP-TPC): tokB authorises the
// creation at SE-B, tokA, forwarded by SE-B, the read at SE-A.
func (d *driver) tpc(ctx context.Context, path, tokA, tokB string) error {
	sent := time.Now()
	err := d.copy(ctx, path, tokA, tokB)
	if err != nil {
		d.rec.Fail(OpTPC, kindOf(err))
		return err
	}
	d.rec.OK(OpTPC, sent, sent, time.Now())
	return nil
}

func (d *driver) copy(ctx context.Context, path, tokA, tokB string) error {
	req, err := http.NewRequestWithContext(ctx, "COPY", d.seB.url+path, nil)
	if err != nil {
		return &flowError{kind: "se_b.request", err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tokB)
	req.Header.Set("Source", d.seA.url+path)
	req.Header.Set("TransferHeaderAuthorization", "Bearer "+tokA)
	resp, err := d.hc.Do(req)
	if err != nil {
		return netKind("se_b", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusCreated {
		return nil
	}
	kind := "se_b." + labelOr(resp.Header.Get(refusedHeader), fmt.Sprint(resp.StatusCode))
	if src := resp.Header.Get(sourceHeader); src != "" {
		kind = "se_a." + src
	}
	return &flowError{kind: kind, err: fmt.Errorf("COPY %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))}
}

func labelOr(label, def string) string {
	if label == "" {
		return def
	}
	return label
}
