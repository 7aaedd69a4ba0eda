package flows

import (
	"fmt"
	"io"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/results"
)

// tableRows are the per-transfer figures WriteTable shows: the label, the
// measured figure, whether the user's login counts in it (the model
// leaves the login out), the model's figure, and the format.
var tableRows = []struct {
	label, measured string
	login           bool
	model, format   string
}{
	{"issuer round trips", "issuer.round_trips_per_transfer", true, "model.round_trips_per_transfer", "%.3f"},
	{"  client credentials", "issuer.client_credentials_per_transfer", true, "model.client_credentials_per_transfer", "%.3f"},
	{"  token exchange", "issuer.token_exchange_per_transfer", false, "model.token_exchange_per_transfer", "%.3f"},
	{"  refresh", "issuer.refresh_per_transfer", false, "model.refresh_per_transfer", "%.3f"},
	{"access tokens stored", "issuer.access_stored_per_transfer", true, "model.access_stored_per_transfer", "%.3f"},
	{"refresh tokens stored", "issuer.refresh_stored_per_transfer", false, "model.refresh_stored_per_transfer", "%.3f"},
	{"issuer bytes (requests + responses)", "issuer.bytes_per_transfer", false, "", "%.0f"},
	{"leg: the user's login (client credentials)", "leg.login_per_transfer", false, "", "%.3f"},
	{"leg: Rucio's T_fts", "leg.t_fts_per_transfer", false, "", "%.3f"},
	{"leg: FTS's storage tokens (client credentials)", "leg.storage_cc_per_transfer", false, "", "%.3f"},
	{"leg: FTS's exchange 2 (offline_access)", "leg.exchange2_per_transfer", false, "", "%.3f"},
	{"leg: FTS's refreshes", "leg.refresh_per_transfer", false, "", "%.3f"},
}

// WriteTable writes a markdown table of a flow result's figures per
// transfer: measured at the issuer, the same without the user's login
// (one client-credentials token, stored, per login), which the model
// leaves out, and the model's (package issuerload) for the same inputs;
// under a line naming the scenario, the scheme and the transfers.
func WriteTable(w io.Writer, r *results.Result) error {
	st := r.SchemeStats
	fmt.Fprintf(w, "\n%s %s: %.0f transfers (%.0f failed, %.0f dropped); per transfer, measured at the issuer and modelled (package issuerload):\n",
		r.Scenario, r.Scheme, st["flow.transfers"], st["flow.transfers_failed"], st["flow.transfers_dropped"])
	t := mdtable.New(w, "per transfer", "measured", "without the login", "model")
	login := st["leg.login_per_transfer"]
	for _, row := range tableRows {
		v, ok := st[row.measured]
		if !ok {
			continue
		}
		without := v
		if row.login {
			without -= login
		}
		model := ""
		if m, ok := st[row.model]; ok && row.model != "" {
			model = fmt.Sprintf(row.format, m)
		}
		if err := t.Append([]string{row.label, fmt.Sprintf(row.format, v), fmt.Sprintf(row.format, without), model}); err != nil {
			return err
		}
	}
	return t.Render()
}
