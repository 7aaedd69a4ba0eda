package results

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/authbench/authbench/mdtable"
)

// WriteSummary writes the run's per-(scheme, op) markdown table: scheme, op,
// count, errors, p50, p99, max, ops/s.
func WriteSummary(w io.Writer, run *Run) error {
	rounds := false
	for _, r := range run.Results {
		rounds = rounds || r.Round > 1
	}
	header := []string{"scenario", "scheme", "op", "count", "errors", "p50", "p90", "p99", "max", "ops/s"}
	if rounds {
		header = append([]string{"round"}, header...)
	}
	t := mdtable.New(w, header...)
	for _, r := range run.Results {
		for _, o := range r.Ops {
			var lead []string
			if rounds {
				lead = []string{strconv.Itoa(r.Round)}
			}
			if err := t.Append(append(lead,
				r.Scenario, r.Scheme, o.Name,
				strconv.FormatInt(o.Count, 10), strconv.FormatInt(o.ErrorCount(), 10),
				mdtable.Duration(o.Hist.Percentile(50)), mdtable.Duration(o.Hist.Percentile(90)), tail(o, 99),
				mdtable.Duration(o.Hist.Max()), fmt.Sprintf("%.1f", o.Rate(r.Duration)),
			)); err != nil {
				return err
			}
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	// The WFS's own cost, apart from the clients'.
	var rows [][]string
	for _, r := range run.Results {
		sp := r.ServerProcess
		d, ok := sp.CPUPerRequest()
		if !ok {
			continue
		}
		client := ""
		if sp.Requests > 0 && r.Together <= 1 {
			client = mdtable.Duration(time.Duration(r.CPU / float64(sp.Requests) * float64(time.Second)))
		}
		fresh, reused, hs := "", "", ""
		if h := sp.Handshake; h != nil {
			fresh, reused, hs = mdtable.Duration(h.Fresh), mdtable.Duration(h.Reused), mdtable.Duration(h.PerHandshake())
		}
		rows = append(rows, []string{r.Scenario, r.Scheme, sp.CPUs, strconv.FormatInt(sp.Requests, 10), mdtable.Duration(d),
			fmt.Sprintf("%.2f", sp.Utilisation()), client, fresh, reused, hs})
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t = mdtable.New(w, "scenario", "scheme", "WFS CPUs", "requests", "WFS CPU/request", "WFS CPU share", "client CPU/request",
		"probe: WFS CPU/op fresh", "reused", "per handshake")
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// tail is o's percentile p, or why it is not quoted (too few operations).
func tail(o *Op, p float64) string {
	if o.Count < MinOps(p) {
		return tooFew(p)
	}
	return mdtable.Duration(o.Hist.Percentile(p))
}
