package conformance

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/authbench/authbench/wfs"
)

// The replay cases' runners: a genuine token used twice, at once, as a
// non-canonical twin, and as its ES256 high-S twin.

func runReplaySequential(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	p, err := t.Prepare(ctx, CLI(), wfs.CmdHold, nil)
	if err != nil {
		return broken("genuine client", err)
	}
	defer p.Close()
	if _, err := t.SendPrepared(ctx, p); err != nil {
		return broken("first (genuine) use", err)
	}
	data, err := t.SendPrepared(ctx, p)
	return expectRefused("the same request again", data, err)
}

func runReplayConcurrent(ctx context.Context, e *Env) Result {
	return concurrentPairs(ctx, e, func(int) Who { return CLI() })
}

// concurrentPairs sends each of 5 genuine requests twice at once, the
// request of round i prepared by who(i), and passes when exactly one of
// each pair is accepted and the other refused as unauthorised.
func concurrentPairs(ctx context.Context, e *Env, who func(round int) Who) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	const rounds = 5
	for round := 1; round <= rounds; round++ {
		p, err := t.Prepare(ctx, who(round), wfs.CmdHold, nil)
		if err != nil {
			return broken("genuine client", err)
		}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = t.SendPrepared(ctx, p)
			}()
		}
		wg.Wait()
		p.Close()
		ok := 0
		for _, err := range errs {
			switch classify(err) {
			case accepted:
				ok++
			case unexpected:
				return failf("round %d: not refused as unauthorised: %v", round, err)
			}
		}
		if ok != 1 {
			return failf("round %d: %d of 2 concurrent uses accepted, want exactly 1 (%v)", round, ok, errors.Join(errs...))
		}
	}
	return passf("%d rounds: exactly one of each concurrent pair accepted", rounds)
}

func runReplayTwin(ctx context.Context, e *Env) Result {
	tok, send, done, bad := stolenHold(ctx, e)
	if bad != nil {
		return *bad
	}
	defer done()
	twin := malleate(tok)
	_, _, sig, err := decodeToken(tok)
	if err != nil {
		return broken("token", err)
	}
	a, errA := base64.RawURLEncoding.DecodeString(sig)
	b, errB := base64.RawURLEncoding.DecodeString(twin[strings.LastIndexByte(twin, '.')+1:])
	if twin == tok || errA != nil || errB != nil || string(a) != string(b) {
		return broken("malleate", errors.New("no non-canonical twin of this signature"))
	}
	data, err := send(twin)
	switch classify(err) {
	case refused:
		return passf("the non-canonical twin is refused outright (%v)", err)
	case unexpected:
		return failf("twin: not refused as unauthorised: %v", err)
	}
	data, err = send(tok)
	return expectRefused("the token itself after its twin was accepted", data, err)
}

// stolenHold starts a target, steals a genuine CLI token and returns it
// with send, which presents a token with a hold request over a valid
// transport; done releases the client. A non-nil Result is a broken setup.
func stolenHold(ctx context.Context, e *Env) (string, func(string) (json.RawMessage, error), func(), *Result) {
	bad := func(what string, err error) (string, func(string) (json.RawMessage, error), func(), *Result) {
		r := broken(what, err)
		return "", nil, nil, &r
	}
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return bad("start", err)
	}
	tok, err := t.StealToken(ctx, CLI())
	if err != nil {
		return bad("steal a genuine token", err)
	}
	configure, done, err := t.transport(CLI())
	if err != nil {
		return bad("client", err)
	}
	body, err := Body(wfs.CmdHold, nil)
	if err != nil {
		done()
		return bad("body", err)
	}
	send := func(tk string) (json.RawMessage, error) {
		frames, err := t.TokenFrames(tk, body)
		if err != nil {
			return nil, err
		}
		return t.Send(ctx, configure, frames...)
	}
	return tok, send, done, nil
}

// runHighSTwin uses a genuine ES256 token, then sends its high-S twin: a
// second valid signature over the same claims. authbench does not refuse
// high S (signers do not normalise it); the twin must be refused as a
// replay of the token's jti.
func runHighSTwin(ctx context.Context, e *Env) Result {
	tok, send, done, bad := stolenHold(ctx, e)
	if bad != nil {
		return *bad
	}
	defer done()
	_, _, sig, err := decodeToken(tok)
	if err != nil {
		return broken("token", err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(raw) != 64 {
		return broken("signature", fmt.Errorf("want 64 bytes of r||s, got %d (%v)", len(raw), err))
	}
	n := elliptic.P256().Params().N
	twinS := new(big.Int).Sub(n, new(big.Int).SetBytes(raw[32:])).FillBytes(make([]byte, 32))
	twin := tok[:strings.LastIndexByte(tok, '.')+1] + base64.RawURLEncoding.EncodeToString(append(append([]byte{}, raw[:32]...), twinS...))
	if _, err := send(tok); classify(err) != accepted {
		return broken("the genuine token", err)
	}
	data, err := send(twin)
	return expectRefused("its high-S twin after the token was used", data, err)
}
