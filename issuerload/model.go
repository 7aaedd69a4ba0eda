package issuerload

import (
	"math"
	"time"
)

// Flow names one of the three token flows of the notes.
type Flow string

// The flows.
const (
	// FlowService is Rucio and FTS acting with their service identities,
	// client credentials only.
	FlowService Flow = "service"
	// FlowUser is a user's token exchanged by Rucio, then by FTS with
	// offline_access, refreshed while the transfer waits.
	FlowUser Flow = "user"
	// FlowGroups is group-based (wlcg.groups) tokens, one per group and
	// audience, reused across the group's transfers.
	FlowGroups Flow = "groups"
)

// Grant is a token-endpoint grant type, by the name the model reports it
// under.
type Grant string

// The grants.
const (
	// GrantClientCredentials is the client_credentials grant (RFC 6749).
	GrantClientCredentials Grant = "client_credentials"
	// GrantTokenExchange is the token-exchange grant (RFC 8693).
	GrantTokenExchange Grant = "token_exchange"
	// GrantRefresh is the refresh_token grant.
	GrantRefresh Grant = "refresh_token"
)

// Leg is one kind of token request of a flow.
type Leg struct {
	// Name says which token, as the notes name it.
	Name string `json:"name"`
	// By is the service asking: "Rucio" or "FTS".
	By string `json:"by"`
	// Grant is the grant used.
	Grant Grant `json:"grant"`
	// Keys is the tokens kept and reused (by user, or by group and
	// audience); 0 when a token is fetched per transfer.
	Keys int `json:"keys"`
	// RequestsPerHour is the issuer requests per hour.
	RequestsPerHour float64 `json:"requests_per_hour"`
	// AccessPerHour and RefreshPerHour are the tokens the issuer stores
	// per hour.
	AccessPerHour  float64 `json:"access_stored_per_hour"`
	RefreshPerHour float64 `json:"refresh_stored_per_hour"`
	// AccessRows and RefreshRows are the tokens held at steady state.
	AccessRows  float64 `json:"access_rows_live"`
	RefreshRows float64 `json:"refresh_rows_live"`
}

// Requests are issuer requests per hour by grant.
type Requests struct {
	// ClientCredentials, TokenExchange and Refresh are the requests per
	// hour of each grant.
	ClientCredentials float64 `json:"client_credentials"`
	TokenExchange     float64 `json:"token_exchange"`
	Refresh           float64 `json:"refresh_token"`
}

// Total is the requests of all grants.
func (r Requests) Total() float64 { return r.ClientCredentials + r.TokenExchange + r.Refresh }

// PerTransfer are a flow's figures divided by the transfer rate.
type PerTransfer struct {
	// RoundTrips is issuer requests per transfer.
	RoundTrips float64 `json:"round_trips"`
	// AccessTokens and RefreshTokens are the tokens stored per transfer.
	AccessTokens  float64 `json:"access_tokens"`
	RefreshTokens float64 `json:"refresh_tokens"`
	// Refreshes is refresh grants per transfer.
	Refreshes float64 `json:"refreshes"`
}

// FlowLoad is the issuer's load under one flow.
type FlowLoad struct {
	// Flow is the flow.
	Flow Flow `json:"flow"`
	// Legs are its kinds of token request.
	Legs []Leg `json:"legs"`
	// Requests is the sum of the legs' requests by grant.
	Requests Requests `json:"requests_per_hour"`
	// AccessPerHour and RefreshPerHour are the tokens stored per hour.
	AccessPerHour  float64 `json:"access_stored_per_hour"`
	RefreshPerHour float64 `json:"refresh_stored_per_hour"`
	// AccessRows and RefreshRows are the tokens held at steady state.
	AccessRows  float64 `json:"access_rows_live"`
	RefreshRows float64 `json:"refresh_rows_live"`
	// PerTransfer is the figures per transfer.
	PerTransfer PerTransfer `json:"per_transfer"`
	// ExpiredShare is the share of transfers whose refresh token expired
	// before they started (RefreshAtStart with waits past the refresh
	// lifetime); they are not counted further.
	ExpiredShare float64 `json:"expired_share"`
}

// Rows is the tokens held at steady state, access and refresh.
func (f *FlowLoad) Rows() float64 { return f.AccessRows + f.RefreshRows }

// Model is the issuer's load under the three flows for one set of inputs.
type Model struct {
	// Inputs are the inputs, with the empty policies set to their
	// defaults.
	Inputs Inputs `json:"inputs"`
	// Window is how long a token is used or reused after its issue:
	// AccessLifetime − Margin.
	Window time.Duration `json:"window_ns"`
	// WaitSummary describes the wait distribution; WaitMean is its mean.
	WaitSummary string        `json:"wait_summary"`
	WaitMean    time.Duration `json:"wait_mean_ns"`
	// Flows is the service, user and groups flows, in that order.
	Flows []FlowLoad `json:"flows"`
}

// Flow returns the model's load under flow f, or nil.
func (m *Model) Flow(f Flow) *FlowLoad {
	for i := range m.Flows {
		if m.Flows[i].Flow == f {
			return &m.Flows[i]
		}
	}
	return nil
}

// ReuseRate is the fetches per hour of one token that is fetched on demand
// and reused by every demand within window of its issue, under Poisson
// demand at demandPerHour: d/(1 + d·window). It is at most the demand and
// at most one per window.
func ReuseRate(demandPerHour float64, window time.Duration) float64 {
	return demandPerHour / (1 + demandPerHour*window.Hours())
}

// Compute validates in and computes the issuer's load under the three
// flows.
func Compute(in Inputs) (*Model, error) {
	d, err := in.check()
	if err != nil {
		return nil, err
	}
	in = in.normalized()
	c := calc{
		in:  in,
		w:   d,
		lam: in.TransfersPerHour,
		l:   in.AccessLifetime.Hours(),
		r:   in.RefreshLifetime.Hours(),
		v:   in.Window(),
		a:   2,
	}
	if in.BothSEs {
		c.a = 1
	}
	m := &Model{
		Inputs:      in,
		Window:      c.v,
		WaitSummary: d.String(),
		WaitMean:    d.mean(),
		Flows:       []FlowLoad{c.service(), c.user(), c.groups()},
	}
	return m, nil
}

// calc holds the inputs in the units of the equations: rates per hour,
// lifetimes in hours.
type calc struct {
	in   Inputs
	w    dist
	lam  float64       // transfers per hour
	l, r float64       // access and refresh lifetimes, hours
	v    time.Duration // reuse window
	a    float64       // storage tokens per transfer
}

// leg is a leg of rate requests per hour, each storing one access token
// (stored for its lifetime) and, with refresh, one refresh token; their
// rows are refreshRows.
func (c *calc) leg(name, by string, g Grant, keys int, rate float64, refresh bool, refreshRows float64) Leg {
	lg := Leg{Name: name, By: by, Grant: g, Keys: keys, RequestsPerHour: rate, AccessPerHour: rate, AccessRows: rate * c.l}
	if refresh {
		lg.RefreshPerHour, lg.RefreshRows = rate, refreshRows
	}
	return lg
}

// reused is the fetches per hour of keys tokens sharing demand evenly,
// or the demand itself with NoReuse; and the keys reported.
func (c *calc) reused(demand float64, keys int) (float64, int) {
	if c.in.NoReuse {
		return demand, 0
	}
	return float64(keys) * ReuseRate(demand/float64(keys), c.v), keys
}

// storageName names the transfer's storage token(s): token, its
// audience, then the note.
func (c *calc) storageName(token, note string) string {
	aud := ", one per SE"
	if c.in.BothSEs {
		aud = ", aud se1 se2"
	}
	if note != "" {
		note = " (" + note + ")"
	}
	return token + aud + note
}

func (c *calc) service() FlowLoad {
	rate, keys := c.reused(c.lam, 1)
	legs := []Leg{c.leg("T_fts (aud fts)", "Rucio", GrantClientCredentials, keys, rate, false, 0)}
	if c.in.ServiceTokens == ServiceAtSubmit {
		legs = append(legs,
			c.leg(c.storageName("T_xfer", "at submit"), "Rucio", GrantClientCredentials, 0, c.a*c.lam, false, 0),
			c.leg(c.storageName("T_xfer", "again at start"), "FTS", GrantClientCredentials, 0, c.a*c.lam*c.w.survival(c.v), false, 0))
	} else {
		legs = append(legs, c.leg(c.storageName("T_xfer", "at start"), "FTS", GrantClientCredentials, 0, c.a*c.lam, false, 0))
	}
	return c.total(FlowService, legs, 0)
}

// exchange1 is Rucio's exchange of the user's token for one to FTS, if
// any.
func (c *calc) exchange1() []Leg {
	if c.in.JointRucioFTS {
		return nil
	}
	rate, keys := c.reused(c.lam, c.in.Users)
	return []Leg{c.leg("T_fts from T_rucio (exchange 1)", "Rucio", GrantTokenExchange, keys, rate, false, 0)}
}

// perTransferChain is FTS's exchange 2 per transfer (per SE token) with
// offline_access and the refreshes before the start, and the share of
// transfers whose refresh token expired.
func (c *calc) perTransferChain() ([]Leg, float64) {
	n := c.a * c.lam // chains started per hour
	v := c.v.Hours()
	sv := c.w.survival(c.v)
	var refreshes, rowsEx, rowsRef, expired float64
	if c.in.RefreshPolicy == RefreshAtStart {
		p := sv - c.w.survival(c.in.RefreshLifetime)
		refreshes = n * p
		rowsEx = n * (c.w.partialMean(c.v, c.in.RefreshLifetime) + c.r*(1-p))
		rowsRef = n * p * c.r
		expired = c.w.survival(c.in.RefreshLifetime)
	} else {
		en := c.w.keepFresh(c.v)
		refreshes = n * en
		rowsEx = n * (sv*v + (1-sv)*c.r)
		rowsRef = n * ((en-sv)*v + sv*c.r)
	}
	return []Leg{
		c.leg(c.storageName("T_xfer+R_xfer", "exchange 2"), "FTS", GrantTokenExchange, 0, n, true, rowsEx),
		c.leg(c.storageName("T_xfer", "refresh"), "FTS", GrantRefresh, 0, refreshes, true, rowsRef),
	}, expired
}

func (c *calc) user() FlowLoad {
	chain, expired := c.perTransferChain()
	return c.total(FlowUser, append(c.exchange1(), chain...), expired)
}

func (c *calc) groups() FlowLoad {
	legs := c.exchange1()
	if c.in.NoReuse {
		chain, expired := c.perTransferChain()
		return c.total(FlowGroups, append(legs, chain...), expired)
	}
	// Keys and the demand on each.
	keys := c.in.Groups * c.in.SEPairs
	d := c.lam / float64(keys)
	if !c.in.BothSEs {
		keys = c.in.Groups * c.in.SEs
		d = 2 * c.lam / float64(keys)
	}
	v := c.v.Hours()
	renew := ReuseRate(d, c.v)
	e := math.Exp(-d * (c.r - v)) // the refresh token expired at a renewal
	stay := v + (1-e)/d           // a refresh token's mean time stored
	ex := float64(keys) * renew * e
	ref := float64(keys) * renew * (1 - e)
	legs = append(legs,
		c.leg(c.storageName("group T_xfer+R_xfer", "exchange 2"), "FTS", GrantTokenExchange, keys, ex, true, ex*stay),
		c.leg(c.storageName("group T_xfer", "refresh"), "FTS", GrantRefresh, keys, ref, true, ref*stay))
	return c.total(FlowGroups, legs, 0)
}

// total sums the legs into a flow's load.
func (c *calc) total(f Flow, legs []Leg, expired float64) FlowLoad {
	fl := FlowLoad{Flow: f, Legs: legs, ExpiredShare: expired}
	for _, lg := range legs {
		switch lg.Grant {
		case GrantClientCredentials:
			fl.Requests.ClientCredentials += lg.RequestsPerHour
		case GrantTokenExchange:
			fl.Requests.TokenExchange += lg.RequestsPerHour
		case GrantRefresh:
			fl.Requests.Refresh += lg.RequestsPerHour
		}
		fl.AccessPerHour += lg.AccessPerHour
		fl.RefreshPerHour += lg.RefreshPerHour
		fl.AccessRows += lg.AccessRows
		fl.RefreshRows += lg.RefreshRows
	}
	fl.PerTransfer = PerTransfer{
		RoundTrips:    fl.Requests.Total() / c.lam,
		AccessTokens:  fl.AccessPerHour / c.lam,
		RefreshTokens: fl.RefreshPerHour / c.lam,
		Refreshes:     fl.Requests.Refresh / c.lam,
	}
	return fl
}
