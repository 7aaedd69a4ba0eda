package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/wlcg"
)

// weakness is a deliberately weakened verifier: the builtin parts, each
// wrapped so that one check (or a few) is off. The weakened schemes declare
// the same claims as the real ones; the conformance cases must catch them.
type weakness struct {
	name string
	// acceptAny: the credential part lets every request through, whatever
	// its credential says (a body it cannot read becomes a ping).
	acceptAny bool
	// ignore: the credential part lets through the requests it rejects with
	// an error whose message contains one of these (one check switched off:
	// "replayed" is a replay cache that is off, "expired" an unbounded
	// leeway, and so on).
	ignore []string
	// allowAll: every part's Authorize allows everything.
	allowAll bool
	// zapAny: the CURVE server's ZAP handler allows any client key.
	zapAny bool
	// noCurve: the curve parts set no CURVE option on either side (the
	// pebbe/zmq4 trap: a key that is not applied leaves the socket NULL).
	noCurve bool
	// fragile: the WFS stops serving after a failed handshake (as a
	// handler that panics on a bad peer takes it down).
	fragile bool
	// noLimit: the server socket has no ZMQ_MAXMSGSIZE.
	noLimit bool
	// openModes: every private file the part provisions is made 0644.
	openModes bool
	// noEnd: job-end events are ignored (no revocation).
	noEnd bool
	// noClose: shutdown removes nothing.
	noClose bool
	// keepTokenFiles: requested token files are put back after use.
	keepTokenFiles bool
	// claimReplies: every part declares RepliesConfidential, whatever it
	// does to replies (a scheme that overclaims: on null or jwe, replies
	// still travel in clear).
	claimReplies bool
	// exactVersion: the wlcg part refuses every token whose wlcg.ver is not
	// exactly "1.0" (a relying party that refuses newer minor versions).
	exactVersion bool
	// refetchAlways: the wlcg part refetches its issuer's JWKS for every
	// unknown kid (no rate limit).
	refetchAlways bool
	// storageAllows, when set, is the wlcg part's storage rule in place of
	// wlcg.Allows (see schemes.ConformanceWLCGStorageAllows).
	storageAllows func(scopes []wlcg.Scope, op, path string) bool
	// otpSkew, when set, is the totp part's skew window in steps in place
	// of the spec's (a huge one lets stale and future codes in).
	otpSkew uint
	// otpNoThrottle: the otp part checks every code, however many wrong
	// ones came before (no RFC 4226 §7.3 throttle).
	otpNoThrottle bool
}

// weakRegistry returns the builtin parts wrapped with w.
func weakRegistry(w weakness) *schemes.Registry {
	base := schemes.Builtin()
	r := schemes.NewRegistry()
	for _, kind := range []schemes.PartKind{schemes.Security, schemes.Credential} {
		for _, name := range base.Names(kind) {
			info, _ := base.Info(name)
			inner := info.New
			info.New = func(sp schemes.Spec) (schemes.Part, error) {
				p, err := inner(sp)
				if err != nil {
					return nil, err
				}
				return &weakPart{Part: p, w: w, kind: kind, name: name}, nil
			}
			r.Register(info)
		}
	}
	return r
}

type weakPart struct {
	schemes.Part
	w    weakness
	kind schemes.PartKind
	name string
}

// Claims are the real part's, plus reply confidentiality under claimReplies.
func (p *weakPart) Claims() schemes.Claims {
	c := p.Part.Claims()
	if p.w.claimReplies {
		c.RepliesConfidential = true
	}
	return c
}

func (p *weakPart) curve() bool { return p.name == "curve" || p.name == "curve-job" }

func (p *weakPart) Server(ctx context.Context, env schemes.Env) (schemes.ServerPart, error) {
	sp, err := p.Part.Server(ctx, env)
	if err != nil {
		return nil, err
	}
	if p.w.openModes {
		if err := openModes(env.Run.Root); err != nil {
			_ = sp.Close()
			return nil, err
		}
	}
	if p.w.refetchAlways && p.name == "wlcg" {
		if err := schemes.ConformanceWLCGRefetchInterval(sp, 0); err != nil {
			_ = sp.Close()
			return nil, err
		}
	}
	if p.w.otpSkew > 0 && p.name == schemes.ProtoTOTP {
		if err := schemes.ConformanceOTPSkew(sp, p.w.otpSkew); err != nil {
			_ = sp.Close()
			return nil, err
		}
	}
	if p.w.otpNoThrottle && (p.name == schemes.ProtoTOTP || p.name == schemes.ProtoHOTP) {
		if err := schemes.ConformanceOTPNoThrottle(sp); err != nil {
			_ = sp.Close()
			return nil, err
		}
	}
	return &weakServer{ServerPart: sp, p: p, env: env}, nil
}

func (p *weakPart) Client(ctx context.Context, env schemes.ClientEnv) (schemes.ClientPart, error) {
	cp, err := p.Part.Client(ctx, env)
	if err != nil || !(p.w.noCurve && p.curve()) {
		return cp, err
	}
	return nullClient{cp}, nil
}

// nullClient is a curve client part whose keys never reach the socket.
type nullClient struct{ schemes.ClientPart }

func (nullClient) Configure(*zmq.Socket) error { return nil }

// openModes makes every private file under root readable by all.
func openModes(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() == 0o600 {
			return os.Chmod(p, 0o644)
		}
		return nil
	})
}

type weakServer struct {
	schemes.ServerPart
	p   *weakPart
	env schemes.Env

	broken atomic.Bool
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// Unwrap lets the schemes hooks reach the real part.
func (s *weakServer) Unwrap() schemes.ServerPart { return s.ServerPart }

func (s *weakServer) ConfigureServer(zctx *zmq.Context, sock *zmq.Socket) error {
	w := s.p.w
	switch {
	case s.p.curve() && w.noCurve:
	case s.p.curve() && w.zapAny:
		if err := s.startAnyZAP(zctx, sock); err != nil {
			return err
		}
	default:
		if err := s.ServerPart.ConfigureServer(zctx, sock); err != nil {
			return err
		}
	}
	if s.p.kind != schemes.Security {
		return nil
	}
	if w.noLimit {
		if err := sock.SetMaxmsgsize(-1); err != nil {
			return err
		}
	}
	if w.fragile {
		return s.watchHandshakes(zctx, sock)
	}
	return nil
}

// startAnyZAP serves ZAP in zctx allowing every key, and makes the socket a
// CURVE server with the provisioned server key.
func (s *weakServer) startAnyZAP(zctx *zmq.Context, sock *zmq.Socket) error {
	_, sec := wfs.KeyPaths(s.env.Run.ServiceDir(), schemes.CurveServerKey)
	c, err := wfs.ReadCertificate(s.env.Run.Files, sec)
	if err != nil {
		return err
	}
	kp, err := c.Pair()
	if err != nil {
		return err
	}
	zap, err := zctx.NewSocket(zmq.REP)
	if err != nil {
		return err
	}
	for _, err := range []error{zap.SetLinger(0), zap.SetRcvtimeo(50 * time.Millisecond), zap.SetSndtimeo(time.Second), zap.Bind(schemes.ZAPEndpoint)} {
		if err != nil {
			_ = zap.Close()
			return err
		}
	}
	s.loop(zap, func() {
		req, err := zap.RecvMessageBytes(0)
		if err != nil || len(req) < 2 {
			return
		}
		_, _ = zap.SendMessage("1.0", req[1], "200", "OK", "weak-any", "")
	})
	for _, err := range []error{sock.SetZapDomain(schemes.CurveZAPDomain), sock.SetCurveServer(1), sock.SetCurveSecretkey(kp.Secret.Bytes())} {
		if err != nil {
			return err
		}
	}
	return nil
}

// watchHandshakes marks the server broken at the first failed handshake.
func (s *weakServer) watchHandshakes(zctx *zmq.Context, sock *zmq.Socket) error {
	addr := fmt.Sprintf("inproc://weak-monitor-%p", s)
	if err := sock.Monitor(addr, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL|zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL|zmq.EVENT_HANDSHAKE_FAILED_AUTH); err != nil {
		return err
	}
	mon, err := zctx.NewSocket(zmq.PAIR)
	if err != nil {
		return err
	}
	for _, err := range []error{mon.SetLinger(0), mon.SetRcvtimeo(50 * time.Millisecond), mon.SetSndtimeo(time.Second), mon.Connect(addr)} {
		if err != nil {
			_ = mon.Close()
			return err
		}
	}
	s.loop(mon, func() {
		if _, _, _, err := mon.RecvEvent(0); err == nil {
			s.broken.Store(true)
		}
	})
	return nil
}

// loop runs step on its own goroutine until CloseTransport, then closes
// sock there (a ZMQ socket belongs to one goroutine).
func (s *weakServer) loop(sock *zmq.Socket, step func()) {
	if s.stop == nil {
		s.stop = make(chan struct{})
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer sock.Close()
		for {
			select {
			case <-s.stop:
				return
			default:
				step()
			}
		}
	}()
}

func (s *weakServer) Verify(ctx context.Context, in *wfs.Inbound) (wfs.Principal, error) {
	w := s.p.w
	if w.fragile {
		// libzmq reports a failed handshake to the monitor asynchronously:
		// give the monitor's loop (50 ms a turn) time to see one that has
		// happened, so that the runner's health check after an attack does
		// not race it.
		for deadline := time.Now().Add(250 * time.Millisecond); !s.broken.Load() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if s.broken.Load() {
		return wfs.Principal{}, &wfs.Error{Kind: wfs.KindInternal, Msg: "weak: wedged after a failed handshake"}
	}
	if s.p.curve() && (w.noCurve || w.zapAny) {
		return wfs.Principal{Name: "weak-any", Kind: "user"}, nil
	}
	if s.p.kind != schemes.Credential {
		return s.ServerPart.Verify(ctx, in)
	}
	if w.exactVersion && s.p.name == "wlcg" && len(in.Frames) > 1 {
		if v := wlcgVersion(in.Frames[len(in.Frames)-1]); v != "1.0" {
			return wfs.Principal{}, wfs.Rejectf("weak: wlcg.ver %q is not 1.0", v)
		}
	}
	saved := slices.Clone(in.Frames)
	var kept map[string][]byte
	if w.keepTokenFiles {
		kept = readDir(s.env.Run.Service(schemes.TokensDir))
	}
	who, err := s.ServerPart.Verify(ctx, in)
	for name, b := range kept {
		p := filepath.Join(s.env.Run.Service(schemes.TokensDir), name)
		if _, serr := os.Stat(p); os.IsNotExist(serr) {
			_ = os.WriteFile(p, b, 0o600)
		}
	}
	if err == nil || !(w.acceptAny || ignored(w.ignore, err)) {
		return who, err
	}
	body := saved[0]
	if len(body) == 0 {
		body = []byte(`{"command":"ping","meta":{}}`)
	}
	in.Frames = [][]byte{body}
	scopes := []string{schemes.ScopeRead, schemes.ScopeControl, schemes.ScopeJobMessage}
	if s.p.name == "wlcg" {
		scopes = []string{wlcg.ComputeRead, wlcg.ComputeModify, wlcg.ComputeCancel}
	}
	return wfs.Principal{Name: "weak", Kind: "user", Scopes: scopes}, nil
}

// wlcgVersion is the wlcg.ver claim of a token, unverified ("" when it has
// none or is not a JWS).
func wlcgVersion(tok []byte) string {
	_, c, _, err := decodeToken(string(tok))
	if err != nil {
		return ""
	}
	v, _ := c["wlcg.ver"].(string)
	return v
}

// WLCGStorageAllows is the wlcg part's storage rule: storageAllows when
// set, else the real one.
func (s *weakServer) WLCGStorageAllows(scopes []wlcg.Scope, op, path string) bool {
	if s.p.w.storageAllows != nil {
		return s.p.w.storageAllows(scopes, op, path)
	}
	return wlcg.Allows(scopes, op, path)
}

// Stats are the wrapped part's, so that cases reading the scheme's counters
// see them on a weakened scheme too.
func (s *weakServer) Stats() map[string]float64 {
	if r, ok := s.ServerPart.(schemes.StatsReporter); ok {
		return r.Stats()
	}
	return nil
}

func ignored(subs []string, err error) bool {
	for _, s := range subs {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func readDir(dir string) map[string][]byte {
	out := map[string][]byte{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
			out[e.Name()] = b
		}
	}
	return out
}

func (s *weakServer) Authorize(ctx context.Context, who wfs.Principal, req *wfs.Request) error {
	if s.p.w.allowAll {
		return nil
	}
	return s.ServerPart.Authorize(ctx, who, req)
}

func (s *weakServer) Event(ctx context.Context, ev schemes.Event) error {
	if s.p.w.noEnd && ev.Kind == schemes.EventJobEnd {
		return nil
	}
	return s.ServerPart.Event(ctx, ev)
}

func (s *weakServer) CloseTransport() {
	s.once.Do(func() {
		if s.stop != nil {
			close(s.stop)
			s.wg.Wait()
		}
	})
	s.ServerPart.CloseTransport()
}

func (s *weakServer) Close() error {
	s.CloseTransport()
	if s.p.w.noClose {
		return nil
	}
	return s.ServerPart.Close()
}

// laxPrefix is a storage rule with the classic path bug: a scope grants a
// path its own path is a string prefix of (storage.read:/cms grants
// /cmsx/f, and /cms/../cmsx/f), uncleaned.
func laxPrefix(scopes []wlcg.Scope, op, path string) bool {
	for _, s := range scopes {
		if s.Path != "" && strings.HasPrefix(path, s.Path) && wlcg.Allows([]wlcg.Scope{{Kind: s.Kind, Path: "/"}}, op, "/") {
			return true
		}
	}
	return false
}

// createReadWrite is a storage rule that takes storage.create for read and
// write: it grants reading, overwriting and deleting too.
func createReadWrite(scopes []wlcg.Scope, op, path string) bool {
	var wide []wlcg.Scope
	for _, s := range scopes {
		wide = append(wide, s)
		if s.Kind == wlcg.StorageCreate {
			wide = append(wide, wlcg.Scope{Kind: wlcg.StorageModify, Path: s.Path}, wlcg.Scope{Kind: wlcg.StorageRead, Path: s.Path})
		}
	}
	return wlcg.Allows(wide, op, path)
}

// wlcgProofs are the weakened verifiers the wlcg/* cases must fail on (see
// proofs): each switches off the one rule its case tests.
func wlcgProofs() map[string]struct {
	w    weakness
	spec string
} {
	type proof = struct {
		w    weakness
		spec string
	}
	ignore := func(name string, subs ...string) weakness { return weakness{name: name, ignore: subs} }
	allow := weakness{name: "authorises everything", allowAll: true}
	algs := ignore("any alg", "RS256 or ES256 only")
	return map[string]proof{
		"wlcg/wrong-aud":             {ignore("audience not checked", "audience rejected"), "wlcg"},
		"wlcg/missing-aud":           {ignore("aud optional", "aud claim missing"), "curve+wlcg"},
		"wlcg/any-aud":               {ignore("any audience accepted, as the profile allows", "a token for any audience is refused"), "wlcg"},
		"wlcg/expired":               {ignore("unbounded leeway", "token expired"), "wlcg/RS256"},
		"wlcg/nbf-future":            {ignore("nbf not checked", "not yet valid"), "wlcg"},
		"wlcg/version-major":         {ignore("wlcg.ver not checked", "unsupported wlcg.ver"), "wlcg"},
		"wlcg/version-minor":         {weakness{name: `refuses every wlcg.ver but "1.0"`, exactVersion: true}, "curve+wlcg"},
		"wlcg/scope-lacks-command":   {allow, "wlcg"},
		"wlcg/storage-scope-no-path": {ignore("scope syntax not checked", "invalid scope"), "wlcg"},
		"wlcg/other-capabilities":    {allow, "wlcg/RS256"},
		"wlcg/storage-path-prefix":   {weakness{name: "storage paths matched as string prefixes", storageAllows: laxPrefix}, "wlcg"},
		"wlcg/storage-create-modify": {weakness{name: "storage.create taken for read and write", storageAllows: createReadWrite}, "curve+wlcg"},
		"wlcg/other-issuer":          {ignore("iss not checked", "issuer rejected"), "wlcg"},
		"wlcg/jwks-rotation":         {weakness{name: "JWKS refetched for every unknown kid", refetchAlways: true}, "curve+wlcg"},
		"wlcg/crit-empty":            {ignore("crit not checked", "critical header"), "wlcg/RS256"},
		"wlcg/alg-none":              {algs, "wlcg"},
		"wlcg/hs256-jwks-key":        {algs, "wlcg/RS256"},
		"wlcg/other-key":             {weakness{name: "accepts any credential", acceptAny: true}, "wlcg"},
	}
}

// otpProofs are the weakened verifiers the otp/* cases must fail on (see
// proofs): no replay memory, a huge skew window, code length not checked,
// no revocation at job end, any credential accepted, no throttle.
func otpProofs() map[string]struct {
	w    weakness
	spec string
} {
	type proof = struct {
		w    weakness
		spec string
	}
	noReplay := weakness{name: "no replay memory", ignore: []string{"replayed"}}
	return map[string]proof{
		"otp/replay-step":        {noReplay, "totp"},
		"otp/replay-concurrent":  {noReplay, "hotp"},
		"otp/identity-swap":      {weakness{name: "accepts any credential", acceptAny: true}, "totp:job=30s/1"},
		"otp/hotp-counter-reuse": {noReplay, "hotp:job=3"},
		"otp/skew-outside":       {weakness{name: "huge skew window", otpSkew: 1000}, "totp"},
		"otp/wrong-digits":       {weakness{name: "digit length not checked", ignore: []string{"digits"}}, "hotp"},
		"otp/job-after-end":      {weakness{name: "ignores job end", noEnd: true}, "totp:job=30s/1"},
		"otp/brute-force":        {weakness{name: "no throttle", otpNoThrottle: true}, "hotp:job=3"},
	}
}
