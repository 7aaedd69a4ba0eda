package issuerload

import (
	"fmt"
	"math"
	"time"
)

// Lifetimes of the WLCG Common JWT Profile (the same as package issuer's
// defaults): version 1.0 recommends 20 minutes for access tokens and 10
// days for refresh tokens, later versions 1 hour and 30 days.
const (
	AccessLifetimeV10    = 20 * time.Minute
	RefreshLifetimeV10   = 10 * 24 * time.Hour
	AccessLifetimeLater  = time.Hour
	RefreshLifetimeLater = 30 * 24 * time.Hour
)

// DefaultMargin is the lifetime a token must have left to be used or
// reused.
const DefaultMargin = 5 * time.Minute

// Refresh policies of the user flow: when FTS refreshes a queued
// transfer's access token.
const (
	// RefreshKeepFresh refreshes whenever the token gets down to the
	// margin, so that a usable token is held through the whole wait.
	RefreshKeepFresh = "keep-fresh"
	// RefreshAtStart refreshes once, when the transfer starts, if the
	// token has less than the margin left (the notes' "if needed when the
	// transfer is starting").
	RefreshAtStart = "at-start"
)

// When the service flow's storage tokens are fetched.
const (
	// ServiceAtStart: FTS fetches them when the transfer is about to
	// start, as in the notes.
	ServiceAtStart = "at-start"
	// ServiceAtSubmit: Rucio fetches them at submission and hands them to
	// FTS, which fetches new ones at the start if they are too old.
	ServiceAtSubmit = "at-submit"
)

// WaitShare is one bar of a queue-wait histogram: a share of the
// transfers waits Wait.
type WaitShare struct {
	// Wait is the queue wait.
	Wait time.Duration `json:"wait_ns"`
	// Share is the share of transfers waiting it (any scale).
	Share float64 `json:"share"`
}

// Waits is the distribution of the time a transfer waits in FTS's queue.
// Exactly one of its forms is given.
type Waits struct {
	// Empirical is a list of observed waits, each as likely.
	Empirical []time.Duration `json:"empirical_ns,omitempty"`
	// Histogram is a list of waits with their shares (normalised to sum
	// to 1).
	Histogram []WaitShare `json:"histogram,omitempty"`
	// ExponentialMean makes the wait exponential with this mean.
	ExponentialMean time.Duration `json:"exponential_mean_ns,omitempty"`
}

// Inputs are the model's parameters. Durations are in nanoseconds in
// JSON.
type Inputs struct {
	// TransfersPerHour is the rate at which transfers are submitted.
	TransfersPerHour float64 `json:"transfers_per_hour"`
	// Waits is the queue-wait distribution.
	Waits Waits `json:"waits"`
	// AccessLifetime and RefreshLifetime are the tokens' lifetimes; the
	// refresh lifetime is at least the access lifetime.
	AccessLifetime  time.Duration `json:"access_lifetime_ns"`
	RefreshLifetime time.Duration `json:"refresh_lifetime_ns"`
	// Margin is the lifetime a token must have left to be used or reused:
	// 0 <= Margin < AccessLifetime.
	Margin time.Duration `json:"margin_ns"`
	// BothSEs asks for one storage token with both SEs as audience; false
	// is one token per SE.
	BothSEs bool `json:"both_ses"`
	// NoReuse fetches a token per transfer even where one could be reused
	// (Rucio's token for FTS, group tokens).
	NoReuse bool `json:"no_reuse"`
	// JointRucioFTS gives the user's token both Rucio and FTS as audience,
	// so that Rucio need not exchange it (exchange 1).
	JointRucioFTS bool `json:"joint_rucio_fts"`
	// Users is the number of users submitting, sharing the rate evenly.
	Users int `json:"users"`
	// Groups is the number of groups (groups flow), sharing the rate
	// evenly.
	Groups int `json:"groups"`
	// SEs and SEPairs are the storage elements and the (source,
	// destination) pairs transfers use, evenly (groups flow).
	SEs     int `json:"ses"`
	SEPairs int `json:"se_pairs"`
	// RefreshPolicy is RefreshKeepFresh (default when empty) or
	// RefreshAtStart.
	RefreshPolicy string `json:"refresh_policy"`
	// ServiceTokens is ServiceAtStart (default when empty) or
	// ServiceAtSubmit.
	ServiceTokens string `json:"service_tokens"`
}

// DefaultInputs are inputs at the given rate and waits with the profile
// 1.0 lifetimes, DefaultMargin, one token for both SEs (the notes' choice),
// reuse, one user, one group, two SEs and one pair (the notes' example)
// and the default policies.
func DefaultInputs(transfersPerHour float64, waits Waits) Inputs {
	return Inputs{
		TransfersPerHour: transfersPerHour,
		Waits:            waits,
		AccessLifetime:   AccessLifetimeV10,
		RefreshLifetime:  RefreshLifetimeV10,
		Margin:           DefaultMargin,
		BothSEs:          true,
		Users:            1,
		Groups:           1,
		SEs:              2,
		SEPairs:          1,
		RefreshPolicy:    RefreshKeepFresh,
		ServiceTokens:    ServiceAtStart,
	}
}

// normalized is in with the empty policies set to their defaults.
func (in Inputs) normalized() Inputs {
	if in.RefreshPolicy == "" {
		in.RefreshPolicy = RefreshKeepFresh
	}
	if in.ServiceTokens == "" {
		in.ServiceTokens = ServiceAtStart
	}
	return in
}

// Validate checks the inputs; its error is one line naming the field by
// its JSON name.
func (in Inputs) Validate() error {
	_, err := in.check()
	return err
}

// check validates in and returns its wait distribution.
func (in Inputs) check() (dist, error) {
	in = in.normalized()
	if r := in.TransfersPerHour; math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		return nil, fieldErr("transfers_per_hour", "must be a number > 0, got %v", r)
	}
	if in.AccessLifetime <= 0 {
		return nil, fieldErr("access_lifetime_ns", "must be > 0, got %v", in.AccessLifetime)
	}
	if in.RefreshLifetime <= 0 {
		return nil, fieldErr("refresh_lifetime_ns", "must be > 0, got %v", in.RefreshLifetime)
	}
	if in.RefreshLifetime < in.AccessLifetime {
		return nil, fieldErr("refresh_lifetime_ns", "must be at least access_lifetime_ns (%v), got %v", in.AccessLifetime, in.RefreshLifetime)
	}
	if in.Margin < 0 {
		return nil, fieldErr("margin_ns", "must be >= 0, got %v", in.Margin)
	}
	if in.Margin >= in.AccessLifetime {
		return nil, fieldErr("margin_ns", "must be less than access_lifetime_ns (%v), got %v", in.AccessLifetime, in.Margin)
	}
	for _, c := range []struct {
		name string
		v    int
		min  int
	}{{"users", in.Users, 1}, {"groups", in.Groups, 1}, {"ses", in.SEs, 2}, {"se_pairs", in.SEPairs, 1}} {
		if c.v < c.min {
			return nil, fieldErr(c.name, "must be >= %d, got %d", c.min, c.v)
		}
	}
	if most := in.SEs * (in.SEs - 1); in.SEPairs > most {
		return nil, fieldErr("se_pairs", "must be at most ses×(ses−1) = %d, got %d", most, in.SEPairs)
	}
	switch in.RefreshPolicy {
	case RefreshKeepFresh, RefreshAtStart:
	default:
		return nil, fieldErr("refresh_policy", "must be %q or %q, got %q", RefreshKeepFresh, RefreshAtStart, in.RefreshPolicy)
	}
	switch in.ServiceTokens {
	case ServiceAtStart, ServiceAtSubmit:
	default:
		return nil, fieldErr("service_tokens", "must be %q or %q, got %q", ServiceAtStart, ServiceAtSubmit, in.ServiceTokens)
	}
	return in.Waits.dist()
}

// fieldErr is the one-line error about a field.
func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("issuerload: %s: "+format, append([]any{field}, args...)...)
}

// Window is how long after its issue a token can be used or reused:
// AccessLifetime − Margin.
func (in Inputs) Window() time.Duration { return in.AccessLifetime - in.Margin }

// Refreshes is the refreshes a user-flow transfer that waited wait needs
// before it starts, under the inputs' refresh policy, and whether its
// refresh token expired first (then n is 0: the transfer cannot start).
// Keep-fresh: 0 for wait <= Window(), else ceil(wait/Window()) − 1.
// At-start: 1 for Window() < wait <= RefreshLifetime, else 0. The inputs
// are assumed valid.
func (in Inputs) Refreshes(wait time.Duration) (n int64, expired bool) {
	v := in.Window()
	if wait <= v {
		return 0, false
	}
	if in.normalized().RefreshPolicy == RefreshAtStart {
		if wait > in.RefreshLifetime {
			return 0, true
		}
		return 1, false
	}
	return keepFreshCount(wait, v), false
}
