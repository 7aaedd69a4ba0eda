package flows

import (
	"time"

	"github.com/authbench/authbench/issuer"
	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/record"
	"github.com/authbench/authbench/results"
)

// stats are the run's figures: the issuer's counters over the run, in
// total and per transfer, the legs, the model's figures for the same
// inputs, and the SEs' counters.
func (d *driver) stats(s0, s1 issuer.Stats) map[string]float64 {
	n := float64(d.done.Load())
	st := map[string]float64{
		"flow.transfers":         n,
		"flow.transfers_ok":      float64(d.ok.Load()),
		"flow.transfers_failed":  float64(d.failed.Load()),
		"flow.transfers_dropped": float64(d.dropped.Load()),
		"flow.transfers_late":    float64(d.late.Load()),
	}
	total := func(name string, v float64) {
		st[name] = v
		if n > 0 {
			st[name+"_per_transfer"] = v / n
		}
	}
	roundTrips := float64(s1.TokenRequests() - s0.TokenRequests())
	total("issuer.round_trips", roundTrips)
	total("issuer.client_credentials", float64(s1.ClientCredentials.Requests-s0.ClientCredentials.Requests))
	total("issuer.token_exchange", float64(s1.TokenExchange.Requests-s0.TokenExchange.Requests))
	total("issuer.refresh", float64(s1.Refresh.Requests-s0.Refresh.Requests))
	total("issuer.access_stored", float64(s1.AccessTokensStored-s0.AccessTokensStored))
	total("issuer.refresh_stored", float64(s1.RefreshTokensStored-s0.RefreshTokensStored))
	total("issuer.bytes", float64(s1.BytesIn+s1.BytesOut-s0.BytesIn-s0.BytesOut))
	st["issuer.refreshes"] = float64(s1.Refreshes - s0.Refreshes)
	st["issuer.refused"] = float64(s1.ClientCredentials.Refused + s1.TokenExchange.Refused + s1.Refresh.Refused + s1.OtherGrants.Refused -
		s0.ClientCredentials.Refused - s0.TokenExchange.Refused - s0.Refresh.Refused - s0.OtherGrants.Refused)
	st["issuer.jwks_requests"] = float64(s1.JWKS - s0.JWKS)
	st["issuer.access_live_end"] = float64(s1.AccessTokensLive)
	st["issuer.refresh_live_end"] = float64(s1.RefreshTokensLive)
	for _, l := range legs {
		total("leg."+l, float64(d.legs[l].Load()))
	}
	if n > 0 {
		st["issuer.round_trips_per_transfer_without_login"] = (roundTrips - float64(d.legs[LegLogin].Load())) / n
		st["flow.queue_wait_mean_s"] = time.Duration(d.waitSum.Load()).Seconds() / n
	}
	if m, err := issuerload.Compute(d.cfg.modelInputs()); err == nil {
		if f := m.Flow(d.cfg.Flow); f != nil {
			lam := m.Inputs.TransfersPerHour
			st["model.round_trips_per_transfer"] = f.PerTransfer.RoundTrips
			st["model.client_credentials_per_transfer"] = f.Requests.ClientCredentials / lam
			st["model.token_exchange_per_transfer"] = f.Requests.TokenExchange / lam
			st["model.refresh_per_transfer"] = f.PerTransfer.Refreshes
			st["model.access_stored_per_transfer"] = f.PerTransfer.AccessTokens
			st["model.refresh_stored_per_transfer"] = f.PerTransfer.RefreshTokens
		}
	}
	d.seA.stats(st)
	d.seB.stats(st)
	return st
}

// opOrder is the order ops appear in results.
func opOrder() []string {
	return []string{OpTransfer, OpSubmit, OpTPC, OpToken, OpClientCredentials, OpTokenExchange, OpRefresh}
}

// resultOps is rec's ops in opOrder; the submission op carries the asked
// rate and the transfers submitted late or dropped, the transfer op the
// asked rate.
func resultOps(rec *record.Recorder, rate float64, late, dropped int64) []*results.Op {
	if late > 0 || dropped > 0 {
		rec.Late(OpSubmit, late)
		rec.Dropped(OpSubmit, dropped)
	}
	out := rec.Ops(opOrder())
	for _, o := range out {
		switch o.Name {
		case OpSubmit, OpTransfer:
			o.Asked = rate
		}
	}
	return out
}
