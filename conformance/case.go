// Package conformance is authbench's attack catalogue: cases that attack a
// live WFS on loopback for a scheme, each testing one of the claims a scheme
// declares (schemes.Claims, named as in schemes.ClaimNames), and the matrix
// of scheme by case they produce. A case passes when its attack is refused
// and the WFS still serves a valid client right after.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// Outcome is a cell of the matrix.
type Outcome string

// Outcomes.
const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	NA   Outcome = "n/a"
)

// Result is a case's outcome with a one-line detail.
type Result struct {
	Outcome Outcome `json:"outcome"`
	Detail  string  `json:"detail"`
}

// passf, failf and naf make results.
func passf(format string, a ...any) Result {
	return Result{Outcome: Pass, Detail: oneLine(fmt.Sprintf(format, a...))}
}

func failf(format string, a ...any) Result {
	return Result{Outcome: Fail, Detail: oneLine(fmt.Sprintf(format, a...))}
}

func naf(format string, a ...any) Result {
	return Result{Outcome: NA, Detail: oneLine(fmt.Sprintf(format, a...))}
}

// broken is the result of a case that could not set its attack up: a
// scheme whose genuine clients do not work fails the case.
func broken(what string, err error) Result {
	return failf("setup: %s: %v", what, err)
}

// oneLine keeps a detail on one line of bounded length.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return s
}

// Case is one attack in the catalogue.
type Case struct {
	// ID is unique and stable: group/name.
	ID string
	// Title says what the attack is, in one line.
	Title string
	// Claim is the claim the case tests, as named by schemes.ClaimNames.
	Claim string
	// Applies reports whether the case means anything for a scheme; the
	// matrix shows n/a where it does not.
	Applies func(sc *schemes.Scheme) bool
	// Run attacks: it starts the WFS it needs through env and returns the
	// outcome. When it returns Pass with a target still running, the runner
	// checks that the target still serves a valid client.
	Run func(ctx context.Context, env *Env) Result
}

// Env is what a case runs with: the scheme under test and a scratch
// directory; targets it starts are stopped when the case ends.
type Env struct {
	Scheme *schemes.Scheme
	dir    string

	mu      sync.Mutex
	targets []*Target
	primary *Target
	n       int
}

// Start starts a WFS for the scheme (the first one started is the primary
// target, whose health the runner checks after a pass).
func (e *Env) Start(cfg TargetConfig) (*Target, error) {
	return e.StartScheme(e.Scheme, cfg)
}

// StartScheme starts a WFS for another scheme (or the same scheme as
// another workflow).
func (e *Env) StartScheme(sc *schemes.Scheme, cfg TargetConfig) (*Target, error) {
	e.mu.Lock()
	e.n++
	n := e.n
	e.mu.Unlock()
	dir, err := os.MkdirTemp(e.dir, fmt.Sprintf("wfs%d-", n))
	if err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	cfg.Dir = dir
	t, err := StartTarget(sc, cfg)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.targets = append(e.targets, t)
	if e.primary == nil {
		e.primary = t
	}
	e.mu.Unlock()
	return t, nil
}

// ScratchDir makes a fresh directory in the case's scratch directory.
func (e *Env) ScratchDir(prefix string) (string, error) {
	d, err := os.MkdirTemp(e.dir, prefix)
	if err != nil {
		return "", fmt.Errorf("scratch dir: %w", err)
	}
	return d, nil
}

// close stops every target.
func (e *Env) close() error {
	e.mu.Lock()
	ts := e.targets
	e.targets = nil
	e.mu.Unlock()
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.Stop())
	}
	return errors.Join(errs...)
}

// verdict classifies a reply to an attack: accepted (a data reply), refused
// (a rejection, a refused handshake or no reply at all: the server dropped
// the peer) or something else.
type verdict int

const (
	accepted verdict = iota
	refused
	unexpected
)

func classify(err error) verdict {
	switch {
	case err == nil:
		return accepted
	case errors.Is(err, wfs.ErrRejected), errors.Is(err, wfs.ErrTimeout):
		return refused
	}
	return unexpected
}

// expectRefused turns the reply to one attack into a result.
func expectRefused(what string, data json.RawMessage, err error) Result {
	switch classify(err) {
	case accepted:
		return failf("%s: accepted (reply %s)", what, trunc(string(data), 80))
	case refused:
		return passf("%s: refused (%v)", what, err)
	}
	return failf("%s: not refused as unauthorised: %v", what, err)
}

// expectRejectedReply is expectRefused for attacks that must be answered
// with a rejection, promptly: a timeout means the server was busy with the
// attack (a PBES2 count, say), which is a failure.
func expectRejectedReply(what string, data json.RawMessage, err error) Result {
	if errors.Is(err, wfs.ErrTimeout) {
		return failf("%s: no reply within %s (the server is working on it)", what, attackTimeout)
	}
	return expectRefused(what, data, err)
}

// all folds the results of several attacks in one case: the first failure,
// else a pass listing them.
func all(rs ...Result) Result {
	var parts []string
	for _, r := range rs {
		if r.Outcome != Pass {
			return r
		}
		parts = append(parts, r.Detail)
	}
	return passf("%s", strings.Join(parts, "; "))
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Catalogue returns every case, in matrix order.
func Catalogue() []Case {
	var cs []Case
	for _, group := range [][]Case{transportCases(), tokenCases(), jweCases(), confidentialityCases(), restCases(), authzCases(), wlcgCases(), otpCases()} {
		cs = append(cs, group...)
	}
	return cs
}

// Select returns the cases with the given ids (all when ids is empty), in
// catalogue order; an unknown id is an error.
func Select(ids []string) ([]Case, error) {
	cat := Catalogue()
	if len(ids) == 0 {
		return cat, nil
	}
	known := map[string]bool{}
	for _, c := range cat {
		known[c.ID] = true
	}
	for _, id := range ids {
		if !known[id] {
			return nil, fmt.Errorf("unknown case %q (see the catalogue: authbench conform -list)", id)
		}
	}
	var out []Case
	for _, c := range cat {
		if slices.Contains(ids, c.ID) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Declares reports whether claims include the named claim.
func Declares(c schemes.Claims, name string) bool {
	i := slices.Index(vocab.ClaimNames(), name)
	return i >= 0 && c.List()[i]
}
