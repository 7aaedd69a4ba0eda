package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/schemes"
)

func TestCatalogue(t *testing.T) {
	cat := Catalogue()
	if len(cat) < 40 {
		t.Errorf("catalogue has %d cases, want at least 40", len(cat))
	}
	seen := map[string]bool{}
	for _, c := range cat {
		if seen[c.ID] {
			t.Errorf("case id %s twice", c.ID)
		}
		seen[c.ID] = true
		if !slices.Contains(vocab.ClaimNames(), c.Claim) {
			t.Errorf("%s: claim %q is not one of %v", c.ID, c.Claim, vocab.ClaimNames())
		}
		if c.Title == "" || c.Applies == nil || c.Run == nil || !strings.Contains(c.ID, "/") {
			t.Errorf("%s: incomplete case", c.ID)
		}
	}
	// Every case applies to some example scheme.
	reg := schemes.Builtin()
	for _, c := range cat {
		applies := false
		for _, ex := range reg.Examples() {
			sc, err := reg.Parse(ex)
			if err != nil {
				t.Fatal(err)
			}
			applies = applies || c.Applies(sc)
		}
		if !applies {
			t.Errorf("%s applies to no example scheme", c.ID)
		}
	}
	if _, err := Select([]string{"no/such-case"}); err == nil {
		t.Error("Select took an unknown id")
	}
}

// proofs names, for every case, a weakened verifier and a scheme it must
// fail on.
func proofs() map[string]struct {
	w    weakness
	spec string
} {
	type proof = struct {
		w    weakness
		spec string
	}
	accept := weakness{name: "accepts any credential", acceptAny: true}
	ignore := func(name string, subs ...string) weakness { return weakness{name: name, ignore: subs} }
	allow := weakness{name: "authorises everything", allowAll: true}
	fragile := weakness{name: "stops serving after a failed handshake", fragile: true}
	noCurve := weakness{name: "CURVE options never applied", noCurve: true}
	noEnd := weakness{name: "ignores job end", noEnd: true}
	ps := map[string]proof{
		"transport/no-credential":            {accept, "passphrase"},
		"transport/curve-without-credential": {accept, "curve+passphrase:workflow"},
		"transport/random-bytes":             {fragile, "curve"},
		"transport/oversized-frame":          {weakness{name: "no ZMQ_MAXMSGSIZE", noLimit: true}, "passphrase"},
		"transport/null-client":              {noCurve, "curve"},
		"transport/unknown-client-key":       {weakness{name: "ZAP allows any key", zapAny: true}, "curve"},
		"transport/wrong-server-key":         {fragile, "curve-job"},
		"transport/all-zero-keys":            {fragile, "curve"},
		"transport/job-key-after-end":        {noEnd, "curve-job"},
		"token/tampered-payload":             {accept, "jwt"},
		"token/other-key":                    {accept, "jwt/ES256"},
		"token/alg-none":                     {accept, "jwt"},
		"token/alg-NONE":                     {accept, "jwt/EdDSA"},
		"token/hs256-public-key":             {accept, "jwt/ES256"},
		"token/embedded-jwk":                 {accept, "jwt/EdDSA"},
		"token/jku":                          {accept, "jwt/ES256"},
		"token/x5u":                          {accept, "jwe"},
		"token/crit-unknown":                 {ignore("crit not checked", "critical header"), "jwt"},
		"token/crit-empty":                   {ignore("crit not checked", "critical header"), "jwe"},
		"token/noncanonical":                 {ignore("lax base64", "not canonical", "not base64url"), "jwt"},
		"token/b64-header":                   {ignore("b64 not checked", "b64 header"), "jwt/ES256"},
		"jwe/dir-encrypted-key":              {ignore("encrypted key ignored", "non-empty encrypted key"), "jwe"},
		"token/duplicate-exp":                {ignore("lax JSON: duplicate names taken", "duplicate key"), "jwt:command"},
		"token/missing-exp":                  {ignore("exp optional", "no exp"), "jwt:shared=10s"},
		"token/expired":                      {ignore("unbounded leeway", "expired"), "jwe:shared=10s"},
		"token/nbf-future":                   {ignore("nbf not checked", "not valid yet"), "jwt:timed=60s/6s"},
		"token/iat-future":                   {ignore("iat not checked", "issued in the future"), "jwe:command"},
		"token/wrong-aud":                    {ignore("audience not checked", "audience"), "jwt"},
		"token/missing-aud":                  {ignore("aud optional", "no aud"), "jwe"},
		"token/wrong-typ":                    {allow, "jwt:job=file"},
		"token/job-after-end":                {noEnd, "jwt:job=status"},
		"token/replay-sequential":            {ignore("replay cache off", "replayed"), "jwt:command"},
		"token/replay-concurrent":            {ignore("replay cache off", "replayed"), "jwe:command"},
		"token/replay-twin":                  {ignore("replay cache off, lax base64", "replayed", "not canonical", "not base64url"), "jwt:command"},
		"token/es256-high-s-twin":            {ignore("replay cache off", "replayed"), "jwt/ES256:command"},
		"token/other-workflow":               {accept, "jwt"},
		"token/rotated-out":                  {ignore("overlap not enforced", "no longer accepted"), "jwt:timed=60s/6s"},
		"token/shared-window-over":           {ignore("window not enforced", "no longer accepted"), "jwt:shared=10s"},
		"jwe/tampered-tag":                   {accept, "jwe"},
		"jwe/tampered-iv":                    {accept, "jwe/ECDH-ES"},
		"jwe/tampered-ciphertext":            {accept, "jwe"},
		"jwe/zip-bomb":                       {accept, "jwe"},
		"jwe/pbes2-p2c":                      {accept, "jwe/ECDH-ES"},
		"jwe/ecdh-off-curve":                 {accept, "jwe/ECDH-ES:job=file"},
		"conf/payload-marker":                {noCurve, "curve"},
		"conf/reply-marker":                  {noCurve, "curve-job"},
		"conf/credential":                    {noCurve, "curve+passphrase:workflow"},
		"conf/wire-replay":                   {ignore("replay cache off", "replayed"), "jwt:command"},
		"rest/secret-modes":                  {weakness{name: "secrets 0644", openModes: true}, "passphrase"},
		"rest/refuse-open-secrets":           {weakness{name: "secrets 0644", openModes: true}, "curve"},
		"rest/after-command":                 {weakness{name: "token files kept after use", keepTokenFiles: true}, "jwt:command"},
		"rest/after-job":                     {noEnd, "curve-job"},
		"rest/after-shutdown":                {weakness{name: "shutdown removes nothing", noClose: true}, "passphrase"},
		"authz/job-control":                  {allow, "jwt:job=file"},
		"authz/job-a-for-b":                  {allow, "jwe/ECDH-ES:job=file"},
		"authz/readonly-stop":                {allow, "jwt"},
	}
	for id, p := range wlcgProofs() {
		ps[id] = p
	}
	for id, p := range otpProofs() {
		ps[id] = p
	}
	return ps
}

// TestEveryCaseCanFail runs each case against a deliberately weakened
// verifier of a scheme that declares the claim, and sees it fail; the cases
// proven to fail must be the whole catalogue.
func TestEveryCaseCanFail(t *testing.T) {
	ps := proofs()
	cat := Catalogue()
	if got, want := slices.Sorted(maps.Keys(ps)), ids(cat); !slices.Equal(got, want) {
		t.Fatalf("cases with a weakened verifier:\n%v\nthe catalogue:\n%v", got, want)
	}
	dir := t.TempDir()
	var mu sync.Mutex
	failed := map[string]bool{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, DefaultParallel)
	for _, c := range cat {
		p := ps[c.ID]
		sc, err := weakRegistry(p.w).Parse(p.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.ID, err)
		}
		if !c.Applies(sc) {
			t.Errorf("%s does not apply to %s", c.ID, p.spec)
			continue
		}
		if !Declares(sc.Claims(), c.Claim) {
			t.Errorf("%s: %s does not declare %s", c.ID, p.spec, c.Claim)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := RunCase(context.Background(), sc, c, dir)
			t.Logf("%-36s %-26s weakened (%s): %s: %s", c.ID, p.spec, p.w.name, r.Outcome, r.Detail)
			if r.Outcome != Fail {
				t.Errorf("%s on %s with a verifier that %s: %s, want fail (%s)", c.ID, p.spec, p.w.name, r.Outcome, r.Detail)
				return
			}
			if strings.HasPrefix(r.Detail, "setup:") {
				t.Errorf("%s on %s: failed in its set-up, not on the weakness: %s", c.ID, p.spec, r.Detail)
				return
			}
			mu.Lock()
			failed[c.ID] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if got, want := slices.Sorted(maps.Keys(failed)), ids(cat); !slices.Equal(got, want) {
		t.Errorf("cases proven to fail: %d of %d", len(got), len(want))
	}
}

// TestReplyMarkerOverclaim runs conf/reply-marker on schemes that declare
// reply-confidential but send replies in clear (null, and jwe, which seals
// requests only, each wrapped to declare it): the case must FAIL them as a
// declared claim. Beside them, the real jwe shows the marker readable as an
// undeclared fail and curve protects it.
func TestReplyMarkerOverclaim(t *testing.T) {
	over := weakRegistry(weakness{name: "declares reply confidentiality, replies in clear", claimReplies: true})
	var scs []*schemes.Scheme
	for _, spec := range []string{"plain", "null+jwe:workflow"} {
		sc, err := over.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if !Declares(sc.Claims(), "reply-confidential") {
			t.Fatalf("%s does not declare reply-confidential", spec)
		}
		scs = append(scs, sc)
	}
	builtin, err := schemes.Builtin().ParseList("jwe,curve")
	if err != nil {
		t.Fatal(err)
	}
	scs = append(scs, builtin...)
	m, err := Run(context.Background(), scs, Options{Cases: []string{"conf/reply-marker"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		scheme   string
		outcome  Outcome
		declared bool
	}{
		{"plain", Fail, true}, {"null+jwe:workflow", Fail, true},
		{"jwe", Fail, false}, {"curve", Pass, true},
	} {
		c, ok := m.Cell(want.scheme, "conf/reply-marker")
		t.Logf("%-18s %-4s declared=%v: %s", want.scheme, c.Outcome, c.Declared, c.Detail)
		if !ok || c.Outcome != want.outcome || c.Declared != want.declared {
			t.Errorf("%s: %+v, want %s (declared %v)", want.scheme, c, want.outcome, want.declared)
		}
		if strings.HasPrefix(c.Detail, "setup:") {
			t.Errorf("%s: failed in its set-up: %s", want.scheme, c.Detail)
		}
		if c.Outcome == Fail && !strings.Contains(c.Detail, "readable") {
			t.Errorf("%s: failed, but not on the marker: %s", want.scheme, c.Detail)
		}
	}
	if got := m.Failures(); got != 2 {
		t.Errorf("Failures() = %d, want 2 (the two overclaiming schemes)", got)
	}
	var md bytes.Buffer
	if err := m.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	row := ""
	for _, l := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(l, "| conf/reply-marker") {
			row = l
			break
		}
	}
	if f := strings.Fields(strings.ReplaceAll(row, "|", " ")); !slices.Equal(f, []string{"conf/reply-marker", "reply-confidential", "FAIL", "FAIL", "fail", "pass"}) {
		t.Errorf("matrix row %q", row)
	}
}

func ids(cs []Case) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	slices.Sort(out)
	return out
}

// TestBuiltinSchemes runs the whole catalogue on the example schemes: no
// declared claim fails, plain and passphrase
// fail or are n/a on what they do not declare, and the matrix renders.
func TestBuiltinSchemes(t *testing.T) {
	reg := schemes.Builtin()
	specs := reg.Examples()
	if testing.Short() {
		specs = []string{"plain", "passphrase", "curve", "curve-job", "jwt:command", "jwe/ECDH-ES:job=file"}
	}
	scs, err := reg.ParseList(strings.Join(specs, ","))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Run(context.Background(), scs, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Cells {
		switch {
		case c.Outcome == Fail && c.Declared:
			t.Errorf("%s %s (%s): %s", c.Scheme, c.Case, c.Claim, c.Detail)
		case strings.HasPrefix(c.Detail, "setup:"):
			t.Errorf("%s %s: %s", c.Scheme, c.Case, c.Detail)
		}
	}
	if got := m.Failures(); got != 0 {
		t.Errorf("Failures() = %d, want 0", got)
	}
	// plain declares nothing: whatever applies to it fails (or is n/a);
	// passphrase is readable on the wire.
	for _, c := range m.Cells {
		if c.Scheme == "plain" && c.Declared {
			t.Errorf("plain declares %s", c.Claim)
		}
	}
	for _, want := range []struct{ scheme, caseID string }{
		{"plain", "transport/no-credential"}, {"plain", "conf/payload-marker"},
		{"passphrase", "conf/payload-marker"}, {"passphrase", "conf/credential"}, {"passphrase", "conf/wire-replay"},
		// JWE seals requests only: its replies are readable, undeclared.
		{"plain", "conf/reply-marker"}, {"passphrase", "conf/reply-marker"}, {"jwe/ECDH-ES:job=file", "conf/reply-marker"},
	} {
		if c, ok := m.Cell(want.scheme, want.caseID); !ok || c.Outcome != Fail || c.Declared {
			t.Errorf("%s %s: %+v, want an undeclared fail", want.scheme, want.caseID, c)
		}
	}
	if c, _ := m.Cell("curve", "conf/payload-marker"); c.Outcome != Pass {
		t.Errorf("curve payload readable: %+v", c)
	}
	for _, sc := range []string{"curve", "curve-job"} {
		if c, _ := m.Cell(sc, "conf/reply-marker"); c.Outcome != Pass || !c.Declared {
			t.Errorf("%s reply marker: %+v, want a declared pass", sc, c)
		}
	}
	var md, js bytes.Buffer
	if err := m.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"| transport/no-credential", "| plain", "### Failures", "### Cases"} {
		if !strings.Contains(md.String(), s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
	if err := m.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js.Bytes(), &raw); err != nil || string(raw["failures"]) != fmt.Sprint(m.Failures()) {
		t.Fatalf("json: %v, failures %s", err, raw["failures"])
	}
	back, err := ReadMatrix(&js)
	if err != nil || len(back.Cells) != len(m.Cells) || back.Failures() != m.Failures() {
		t.Fatalf("read back: %v", err)
	}
}
