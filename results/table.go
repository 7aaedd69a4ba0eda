package results

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// FormatDuration prints a latency with a unit suited to its size.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// Markdown returns a new markdown table writer on w with the given header.
func Markdown(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	return t
}

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
	t := Markdown(w, header...)
	for _, r := range run.Results {
		for _, o := range r.Ops {
			var lead []string
			if rounds {
				lead = []string{strconv.Itoa(r.Round)}
			}
			if err := t.Append(append(lead,
				r.Scenario, r.Scheme, o.Name,
				strconv.FormatInt(o.Count, 10), strconv.FormatInt(o.ErrorCount(), 10),
				FormatDuration(o.Hist.Percentile(50)), FormatDuration(o.Hist.Percentile(90)), tail(o, 99),
				FormatDuration(o.Hist.Max()), fmt.Sprintf("%.1f", o.Rate(r.Duration)),
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
		if sp.Requests > 0 {
			client = FormatDuration(time.Duration(r.CPU / float64(sp.Requests) * float64(time.Second)))
		}
		fresh, reused, hs := "", "", ""
		if h := sp.Handshake; h != nil {
			fresh, reused, hs = FormatDuration(h.Fresh), FormatDuration(h.Reused), FormatDuration(h.PerHandshake())
		}
		rows = append(rows, []string{r.Scenario, r.Scheme, sp.CPUs, strconv.FormatInt(sp.Requests, 10), FormatDuration(d),
			fmt.Sprintf("%.2f", sp.Utilisation()), client, fresh, reused, hs})
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t = Markdown(w, "scenario", "scheme", "WFS CPUs", "requests", "WFS CPU/request", "WFS CPU share", "client CPU/request",
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
	return FormatDuration(o.Hist.Percentile(p))
}
