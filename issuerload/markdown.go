package issuerload

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/mdtable"
)

// WriteMarkdown writes the model as markdown: the inputs, a table per flow
// (requests per hour by grant, tokens stored per hour, rows live, per
// transfer figures), a table of the legs, and a short reading.
func WriteMarkdown(w io.Writer, m *Model) error {
	ew := mdtable.NewWriter(w)
	in := m.Inputs
	ew.Printf("## Issuer load model\n\n")
	ew.Printf("Inputs: %s transfers/h; queue waits %s; access tokens %s, refresh tokens %s, margin %s (a token is used or reused up to %s after its issue); %s; %s; %d user(s), %d group(s), %d SEs, %d SE pair(s); refresh policy %s; service storage tokens fetched %s.\n",
		strconv.FormatFloat(in.TransfersPerHour, 'f', -1, 64), m.WaitSummary,
		fmtDuration(in.AccessLifetime), fmtDuration(in.RefreshLifetime), fmtDuration(in.Margin), fmtDuration(m.Window),
		pick(in.BothSEs, "one storage token for both SEs", "one storage token per SE"),
		pick(in.NoReuse, "no token reuse", "tokens not tied to one transfer are reused")+
			pick(in.JointRucioFTS, ", user tokens have Rucio and FTS as audience (no exchange 1)", ""),
		in.Users, in.Groups, in.SEs, in.SEPairs, in.RefreshPolicy, in.ServiceTokens)
	ew.Printf("\nPer hour unless stated; rows are the tokens the issuer holds at steady state (issue rate × time stored).\n\n")

	var rows [][]string
	for _, f := range m.Flows {
		rows = append(rows, []string{string(f.Flow),
			fmtNum(f.Requests.ClientCredentials), fmtNum(f.Requests.TokenExchange), fmtNum(f.Requests.Refresh), fmtNum(f.Requests.Total()),
			fmtNum(f.AccessPerHour), fmtNum(f.RefreshPerHour), fmtNum(f.AccessRows), fmtNum(f.RefreshRows),
			fmtNum(f.PerTransfer.RoundTrips), fmtNum(f.PerTransfer.AccessTokens + f.PerTransfer.RefreshTokens), fmtNum(f.PerTransfer.Refreshes)})
	}
	err := table(ew, rows, "flow", "client_credentials/h", "token_exchange/h", "refresh/h", "requests/h",
		"access stored/h", "refresh stored/h", "access rows", "refresh rows",
		"round trips/transfer", "tokens stored/transfer", "refreshes/transfer")

	rows = nil
	for _, f := range m.Flows {
		for _, lg := range f.Legs {
			keys := "per transfer"
			if lg.Keys > 0 {
				keys = strconv.Itoa(lg.Keys)
			}
			rows = append(rows, []string{string(f.Flow), lg.Name, lg.By, string(lg.Grant), keys,
				fmtNum(lg.RequestsPerHour), fmtNum(lg.AccessRows), fmtNum(lg.RefreshRows)})
		}
	}
	ew.Printf("\n")
	if e := table(ew, rows, "flow", "token", "by", "grant", "tokens kept", "requests/h", "access rows", "refresh rows"); err == nil {
		err = e
	}
	ew.Printf("\n%s\n", reading(m))
	if err == nil {
		err = ew.Err()
	}
	if err != nil {
		return fmt.Errorf("issuerload: %w", err)
	}
	return nil
}

// reading is a few sentences on what the tables say.
func reading(m *Model) string {
	var s []string
	busiest := &m.Flows[0]
	for i := range m.Flows {
		if m.Flows[i].Requests.Total() > busiest.Requests.Total() {
			busiest = &m.Flows[i]
		}
	}
	s = append(s, fmt.Sprintf("Reading: the %s flow asks the issuer most, %s requests/h (%s per transfer).",
		busiest.Flow, fmtNum(busiest.Requests.Total()), fmtNum(busiest.PerTransfer.RoundTrips)))
	if sv := m.Flow(FlowService); sv != nil {
		s = append(s, fmt.Sprintf("The service flow stores no refresh tokens; its %s rows are access tokens living %s each.",
			fmtNum(sv.Rows()), fmtDuration(m.Inputs.AccessLifetime)))
	}
	if u := m.Flow(FlowUser); u != nil && u.Rows() > 0 {
		s = append(s, fmt.Sprintf("The user flow holds %s rows, %.1f %% of them refresh tokens: each transfer's last refresh token stays stored for the refresh lifetime (%s) unless revoked; it makes %s refreshes per transfer (%s policy).",
			fmtNum(u.Rows()), 100*u.RefreshRows/u.Rows(), fmtDuration(m.Inputs.RefreshLifetime), fmtNum(u.PerTransfer.Refreshes), m.Inputs.RefreshPolicy))
		if u.ExpiredShare > 0 {
			s = append(s, fmt.Sprintf("%.2f %% of user transfers wait past the refresh lifetime and find their refresh token expired.", 100*u.ExpiredShare))
		}
	}
	if g := m.Flow(FlowGroups); g != nil && !m.Inputs.NoReuse {
		keys := g.Legs[len(g.Legs)-1].Keys
		s = append(s, fmt.Sprintf("The groups flow keeps %d group token(s) (one per group and audience), reused across transfers: %s requests/h, %s per transfer.",
			keys, fmtNum(g.Requests.Total()), fmtNum(g.PerTransfer.RoundTrips)))
	}
	if m.Inputs.BothSEs {
		s = append(s, "One storage token carries both SEs: one per SE would double the per-transfer storage tokens (the notes' halving).")
	} else {
		s = append(s, "One storage token per SE: one with both SEs as audience would halve the per-transfer storage tokens (the notes' trade-off).")
	}
	return strings.Join(s, " ")
}

// table renders rows under header with results.Markdown, returning the
// first Append or Render error (write errors stay in ew).
func table(ew *mdtable.Writer, rows [][]string, header ...string) error {
	t := mdtable.New(ew, header...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	return t.Render()
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// fmtNum prints a figure with precision suited to its size.
func fmtNum(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x >= 100 || x <= -100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10 || x <= -10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case x >= 0.01 || x <= -0.01:
		return strconv.FormatFloat(x, 'f', 2, 64)
	default:
		return strconv.FormatFloat(x, 'g', 2, 64)
	}
}

// fmtDuration prints whole days as "10d" and drops zero trailing units
// ("20m", "1h").
func fmtDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
