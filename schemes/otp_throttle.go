package schemes

import (
	"container/list"
	"fmt"
	"math"
	"time"
)

// Throttled verification (issue 23; RFC 4226 §7.3, which RFC 6238 §5.2
// relies on). Without it one REQ socket tries about 8,000 codes a second,
// and a 6-digit code of which the server accepts 3 at once (skew ±1, the
// HOTP look-ahead) falls in one 30 s step about half the time.
//
// Policy: a delay that grows with the failures, not a lockout. An identity
// (a client key: kind, identity and, under the job policy, the job's
// secret) may send OTPFreeFailures wrong codes; after its k-th failure
// beyond those, no code of it is checked for min(k × OTPDelayStep,
// OTPMaxDelay). A code that arrives in that hold-off is refused at once,
// unchecked, as "throttled" (its own refusal class: otp.refused.throttled),
// so no worker waits and the answer says nothing about the code. Failures
// are forgotten one per OTPForget, not at a success, so a genuine client's
// successes do not give an attacker of its identity fresh free guesses.
//
// Identities are names a client picks (any CLI identity is served under
// the workflow policy), so an attacker could spread guesses over fresh
// identities, each with its own free failures. Failures of identities this
// WFS has never accepted (and that hold no live job secret) are also
// counted per source (the peer address libzmq reports; one source for
// peers without one), with OTPSourceFreeFailures free and the same delays,
// and while a source is held off its unknown identities are throttled.
// Identities the WFS has accepted before are not held off by their source,
// so a genuine client on the attacker's host keeps working.
//
// Trade-off. A lockout (refuse an identity for, say, 15 minutes after 5
// failures) lets anyone who can reach the port lock out a genuine job or
// user with 5 requests. The delay bounds guesses without that: one
// identity's codes are checked at most 8 times in the first 30 s of a brute
// force (3 free, then after holds of 2, 4, 6 and 8 s) and about once per
// 30 s once the hold-off reaches OTPMaxDelay; fresh identities from one
// source at most 10 times. With 3 codes accepted at once (the defaults)
// that is a chance of about 0.003 % per 30 s of hitting a 6-digit code;
// it reaches 0.1 % only with HOTP's widest look-ahead, 100. What it cannot
// avoid: while a brute force on one identity runs, that identity's
// own genuine client competes with the attacker for one check per hold-off,
// and is served within OTPMaxDelay of the attack's end; other identities
// are not delayed. A brute force spread over many source addresses gets
// the source allowance once per address (bounded by the sources tracked).
//
// Memory is bounded: at most otpMaxIdentities identities and otpMaxSources
// sources are tracked, and otpMaxKnown accepted identities remembered, the
// least recently used evicted first. The state lives in the server part;
// every method is called with otpServer.mu held.

// Throttle parameters.
const (
	// OTPFreeFailures is the wrong codes an identity may send before its
	// codes are held off.
	OTPFreeFailures = 3
	// OTPSourceFreeFailures is the wrong codes of identities never accepted
	// that one source may send before those identities are held off.
	OTPSourceFreeFailures = 5
	// OTPDelayStep is the hold-off after the first failure beyond the free
	// ones; the k-th waits k times as long (RFC 4226 §7.3's delay scheme).
	OTPDelayStep = 2 * time.Second
	// OTPMaxDelay caps the hold-off.
	OTPMaxDelay = 30 * time.Second
	// OTPForget is how long it takes to forget one failure.
	OTPForget = time.Minute

	otpMaxIdentities = 4096
	otpMaxSources    = 1024
	otpMaxKnown      = 4096
)

// Refusal label of a code refused unchecked during a hold-off.
const otpRefusedThrottled = "throttled"

// otpThrottle is the throttle state of one otp server part.
type otpThrottle struct {
	ids     *lru[*otpBucket] // identity key -> its failures
	sources *lru[*otpBucket] // peer address -> failures of unknown identities
	known   *lru[struct{}]   // identity keys accepted at least once
}

func newOTPThrottle() *otpThrottle {
	return &otpThrottle{
		ids:     newLRU[*otpBucket](otpMaxIdentities),
		sources: newLRU[*otpBucket](otpMaxSources),
		known:   newLRU[struct{}](otpMaxKnown),
	}
}

// otpAttempt is who sends a code: the identity's key, a label for messages
// ("cli owner"), the source, and whether a live job secret vouches for the
// identity (it is then treated as known).
type otpAttempt struct {
	key, label, source string
	liveJob            bool
}

// otpBucket counts failures, forgetting one per OTPForget.
type otpBucket struct {
	level float64   // failures not yet forgotten
	at    time.Time // when level was brought up to date
	until time.Time // no code is checked before this
}

func (b *otpBucket) decay(now time.Time) {
	if now.After(b.at) {
		b.level = math.Max(0, b.level-float64(now.Sub(b.at))/float64(OTPForget))
		b.at = now
	}
}

// fail counts a failure at now and sets the hold-off: none while the
// failures are at most free, then k × OTPDelayStep for the k-th beyond,
// at most OTPMaxDelay.
func (b *otpBucket) fail(now time.Time, free int) {
	b.decay(now)
	b.level++
	if k := int(math.Round(b.level)) - free; k > 0 {
		d := min(time.Duration(k)*OTPDelayStep, OTPMaxDelay)
		b.until = now.Add(d)
	}
}

func (t *otpThrottle) isKnown(a otpAttempt) bool {
	if a.liveJob {
		return true
	}
	_, ok := t.known.get(a.key)
	return ok
}

// admit returns a refusal message when a's code may not be checked at now.
func (t *otpThrottle) admit(a otpAttempt, now time.Time) (string, bool) {
	if b, ok := t.ids.get(a.key); ok && now.Before(b.until) {
		b.decay(now)
		return fmt.Sprintf("throttled: %.0f failed codes for %s; none of its codes is checked for %s more (RFC 4226 §7.3)",
			math.Round(b.level), a.label, b.until.Sub(now).Round(time.Millisecond)), false
	}
	if t.isKnown(a) {
		return "", true
	}
	if b, ok := t.sources.get(a.source); ok && now.Before(b.until) {
		b.decay(now)
		return fmt.Sprintf("throttled: %.0f failed codes of identities never accepted from source %q; none of them is checked for %s more (RFC 4226 §7.3)",
			math.Round(b.level), a.source, b.until.Sub(now).Round(time.Millisecond)), false
	}
	return "", true
}

// failed counts a wrong code of a at now.
func (t *otpThrottle) failed(a otpAttempt, now time.Time) {
	t.bucket(t.ids, a.key, now).fail(now, OTPFreeFailures)
	if !t.isKnown(a) {
		t.bucket(t.sources, a.source, now).fail(now, OTPSourceFreeFailures)
	}
}

// accepted remembers that a's identity was accepted.
func (t *otpThrottle) accepted(a otpAttempt) { t.known.put(a.key, struct{}{}) }

func (t *otpThrottle) bucket(c *lru[*otpBucket], key string, now time.Time) *otpBucket {
	if b, ok := c.get(key); ok {
		return b
	}
	b := &otpBucket{at: now}
	c.put(key, b)
	return b
}

// held counts the entries of c held off at now.
func held(c *lru[*otpBucket], now time.Time) int {
	n := 0
	for e := c.l.Front(); e != nil; e = e.Next() {
		if now.Before(e.Value.(*lruEntry[*otpBucket]).val.until) {
			n++
		}
	}
	return n
}

// lru is a map of at most max entries that evicts the least recently used.
type lru[V any] struct {
	max int
	m   map[string]*list.Element
	l   *list.List // of *lruEntry[V], most recently used first
}

type lruEntry[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, m: map[string]*list.Element{}, l: list.New()}
}

func (c *lru[V]) get(key string) (V, bool) {
	e, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.l.MoveToFront(e)
	return e.Value.(*lruEntry[V]).val, true
}

func (c *lru[V]) put(key string, v V) {
	if e, ok := c.m[key]; ok {
		e.Value.(*lruEntry[V]).val = v
		c.l.MoveToFront(e)
		return
	}
	if c.l.Len() >= c.max {
		old := c.l.Back()
		c.l.Remove(old)
		delete(c.m, old.Value.(*lruEntry[V]).key)
	}
	c.m[key] = c.l.PushFront(&lruEntry[V]{key: key, val: v})
}

func (c *lru[V]) len() int { return c.l.Len() }
