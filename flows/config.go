package flows

import (
	"fmt"
	"math"
	"time"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/pace"
)

// The flows, by the names package issuerload models them under.
const (
	Service = issuerload.FlowService
	User    = issuerload.FlowUser
	Groups  = issuerload.FlowGroups
)

// Limits of a run: past them a setting means nothing one machine can do.
const (
	// MaxRate is the most transfers per second.
	MaxRate = 1000
	// MaxTotal is the most transfers.
	MaxTotal = 1_000_000
	// MaxUsers and MaxGroups bound the users and groups.
	MaxUsers  = 1000
	MaxGroups = 1000
	// MaxWait bounds a queue wait and the mean of an exponential one.
	MaxWait = 10 * time.Minute
	// MaxWaits bounds the list of queue waits.
	MaxWaits = 10000
	// DefaultMaxInFlight is the transfers alive at once past which a new
	// one is dropped (and counted).
	DefaultMaxInFlight = 10000
)

// Waits is the distribution of the time a transfer waits in FTS's queue:
// exponential with mean Mean, or drawn uniformly from List (the model's
// "empirical" waits, each as likely), or none (every wait 0) when both are
// empty.
type Waits struct {
	Mean time.Duration
	List []time.Duration
}

// model is the waits in the model's terms.
func (w Waits) model() issuerload.Waits {
	switch {
	case w.Mean > 0:
		return issuerload.Waits{ExponentialMean: w.Mean}
	case len(w.List) > 0:
		return issuerload.Waits{Empirical: w.List}
	}
	return issuerload.Waits{Empirical: []time.Duration{0}}
}

// Config is one run of a flow.
type Config struct {
	// Flow is Service, User or Groups.
	Flow issuerload.Flow
	// Rate is the transfers per second; Pacer, if set, spaces them (its
	// Rate should be this one), else they are evenly spaced (pace.Constant).
	Rate  float64
	Pacer pace.Pacer
	// Total ends the run after this many transfers, Duration after this
	// long (no new transfer starts after it; those in flight finish). At
	// least one of them is set.
	Total    int
	Duration time.Duration
	// BothSEs asks for one storage token with both SEs' audiences (the
	// notes' choice); false is one token per SE.
	BothSEs bool
	// NoReuse fetches a token per transfer even where one could be reused
	// (Rucio's token for FTS, group tokens), as the model's no_reuse.
	NoReuse bool
	// AccessLifetime and RefreshLifetime are the issuer's token lifetimes
	// in whole seconds (default the profile's 20 min and 10 d). Margin is
	// the lifetime a token must have left, by the client's reckoning
	// (expires_in from the request), to be used or reused: default a
	// quarter of AccessLifetime (the model's 5 min of 20), at least 1s,
	// since a token's exp claim, in whole seconds, may be up to a second
	// before the client's reckoning. AccessLifetime − Margin, the window a
	// token is used in (the model's V), is at least 1s.
	AccessLifetime, RefreshLifetime, Margin time.Duration
	// Waits is the queue-wait distribution.
	Waits Waits
	// Users submit the transfers (default 1), Groups are the groups of the
	// groups flow (default 1); each transfer's user and group are drawn
	// uniformly.
	Users, Groups int
	// Seed seeds the draws (users, groups, waits).
	Seed int64
	// Alg is the issuer's signature algorithm, ES256 (default) or RS256.
	Alg string
	// Leeway is the SEs' allowance for clock skew on exp and nbf (default
	// 0: one clock, and scaled lifetimes of seconds).
	Leeway time.Duration
	// MaxInFlight is the transfers alive at once past which a new one is
	// dropped (default DefaultMaxInFlight).
	MaxInFlight int
	// OnTransfer, if set, is called as each transfer ends, with its error.
	OnTransfer func(err error)
	// RequestTimeout bounds each HTTP request Rucio and FTS make, to the
	// issuer and to SE-B (default 10s): a transfer stuck on an issuer that
	// does not answer fails after it, counted as issuer.timeout.
	RequestTimeout time.Duration
	// Fault, if set, injects a fault mid-run, for fault tests.
	Fault *Fault
}

// Fault is a fault injected into a run of a flow.
type Fault struct {
	// IssuerDownAt kills the issuer this long after the transfers start
	// (issuer.Issuer.Kill: its connections cut, new ones refused, as when
	// its process dies). Transfers that need it from then on fail, counted
	// by kind (issuer.unreachable; issuer.timeout when it hangs); the run
	// goes on to its end.
	IssuerDownAt time.Duration
	// IssuerHang leaves the killed issuer's port listening but never
	// answered, as a frozen (stopped, swapping) issuer's is: each request
	// waits out RequestTimeout.
	IssuerHang bool
}

// MaxRequestTimeout bounds Config.RequestTimeout.
const MaxRequestTimeout = 5 * time.Minute

// defaultMargin is the margin for an access lifetime: a quarter of it (the
// model's 5 min of 20), at least 1s.
func defaultMargin(access time.Duration) time.Duration {
	return max(access/4, time.Second)
}

// ConfigError is a configuration error about one field, named as the
// scenario file names it (access_lifetime, queue_wait.waits[2]).
type ConfigError struct {
	Field, Msg string
}

func (e *ConfigError) Error() string { return "wlcg." + e.Field + ": " + e.Msg }

func cerr(field, format string, a ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// withDefaults fills in the defaults and validates the result.
func (c Config) withDefaults() (Config, error) {
	if c.AccessLifetime == 0 {
		c.AccessLifetime = issuer.DefaultAccessLifetime
	}
	if c.RefreshLifetime == 0 {
		c.RefreshLifetime = issuer.DefaultRefreshLifetime
	}
	if c.Margin == 0 {
		c.Margin = defaultMargin(c.AccessLifetime)
	}
	if c.Users == 0 {
		c.Users = 1
	}
	if c.Groups == 0 {
		c.Groups = 1
	}
	if c.Alg == "" {
		c.Alg = issuer.ES256
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = httpTimeout
	}
	return c, c.Validate()
}

// Validate checks c as given (zero values standing for their defaults);
// its error is a *ConfigError.
func (c Config) Validate() error {
	switch c.Flow {
	case Service, User, Groups:
	default:
		return cerr("flow", "want service, user or groups, got %q", c.Flow)
	}
	if math.IsNaN(c.Rate) || c.Rate <= 0 || c.Rate > MaxRate {
		return cerr("rate", "want more than 0 and at most %d transfers per second, got %g", MaxRate, c.Rate)
	}
	if c.Total < 0 || c.Total > MaxTotal {
		return cerr("total", "want 0 to %d transfers, got %d", MaxTotal, c.Total)
	}
	if c.Duration < 0 {
		return cerr("total", "the duration must not be negative, got %s", c.Duration)
	}
	if c.Total == 0 && c.Duration == 0 {
		return cerr("total", "neither total nor a duration: give total, or the scenario's duration")
	}
	access, refresh, margin := c.AccessLifetime, c.RefreshLifetime, c.Margin
	if access == 0 {
		access = issuer.DefaultAccessLifetime
	}
	if refresh == 0 {
		refresh = issuer.DefaultRefreshLifetime
	}
	if margin == 0 {
		margin = defaultMargin(access)
	}
	switch {
	case access < time.Second || access%time.Second != 0:
		return cerr("access_lifetime", "want whole seconds, at least 1s (a JWT's exp is in seconds), got %s", access)
	case refresh < time.Second || refresh%time.Second != 0:
		return cerr("refresh_lifetime", "want whole seconds, at least 1s, got %s", refresh)
	case refresh < access:
		return cerr("refresh_lifetime", "must be at least access_lifetime (%s), got %s", access, refresh)
	case margin < time.Second:
		return cerr("margin", "want at least 1s (a token's exp, in whole seconds, may be up to 1s before expires_in says), got %s", margin)
	case access-margin < time.Second:
		return cerr("margin", "access_lifetime − margin, the window a token is used in, must be at least 1s, got %s − %s", access, margin)
	}
	if c.Waits.Mean != 0 && len(c.Waits.List) > 0 {
		return cerr("queue_wait", "give mean or waits, not both")
	}
	if c.Waits.Mean < 0 || c.Waits.Mean > MaxWait {
		return cerr("queue_wait.mean", "want 0 to %s, got %s", MaxWait, c.Waits.Mean)
	}
	if len(c.Waits.List) > MaxWaits {
		return cerr("queue_wait.waits", "at most %d waits, got %d", MaxWaits, len(c.Waits.List))
	}
	for i, w := range c.Waits.List {
		if w < 0 || w > MaxWait {
			return cerr(fmt.Sprintf("queue_wait.waits[%d]", i), "want 0 to %s, got %s", MaxWait, w)
		}
	}
	if c.Users < 0 || c.Users > MaxUsers {
		return cerr("users", "want 1 to %d, got %d", MaxUsers, c.Users)
	}
	if c.Groups < 0 || c.Groups > MaxGroups {
		return cerr("groups", "want 1 to %d, got %d", MaxGroups, c.Groups)
	}
	if c.Groups > 1 && c.Flow != Groups {
		return cerr("groups", "applies to flow groups only, the flow is %s", c.Flow)
	}
	switch c.Alg {
	case "", issuer.ES256, issuer.RS256:
	default:
		return cerr("alg", "want ES256 or RS256, got %q", c.Alg)
	}
	if c.Leeway < 0 {
		return cerr("leeway", "must not be negative, got %s", c.Leeway)
	}
	if c.MaxInFlight < 0 {
		return cerr("max_in_flight", "must not be negative, got %d", c.MaxInFlight)
	}
	if c.RequestTimeout < 0 || c.RequestTimeout > MaxRequestTimeout {
		return cerr("request_timeout", "want 0 (default 10s) to %s, got %s", MaxRequestTimeout, c.RequestTimeout)
	}
	if f := c.Fault; f != nil {
		switch {
		case f.IssuerDownAt <= 0:
			return cerr("fault.issuer_down_at", "want a positive time from the start, got %s", f.IssuerDownAt)
		case c.Duration > 0 && f.IssuerDownAt >= c.Duration:
			return cerr("fault.issuer_down_at", "%s is not before the run's end (%s): the fault would never happen", f.IssuerDownAt, c.Duration)
		}
	}
	return nil
}

// modelInputs are the model's inputs for c (defaults filled in).
func (c Config) modelInputs() issuerload.Inputs {
	in := issuerload.DefaultInputs(c.Rate*3600, c.Waits.model())
	in.AccessLifetime = c.AccessLifetime
	in.RefreshLifetime = c.RefreshLifetime
	in.Margin = c.Margin
	in.BothSEs = c.BothSEs
	in.NoReuse = c.NoReuse
	in.Users = c.Users
	in.Groups = c.Groups
	return in
}
