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

// MarkdownWriter writes markdown text and tables, keeping the first write
// error, so that rendering code stays linear: check Err once at the end.
type MarkdownWriter struct {
	w   io.Writer
	err error
}

// NewMarkdownWriter writes to w.
func NewMarkdownWriter(w io.Writer) *MarkdownWriter { return &MarkdownWriter{w: w} }

// Write writes p unless an earlier write failed; it never returns an error
// (Err has the first).
func (e *MarkdownWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, nil
}

// Printf writes formatted text.
func (e *MarkdownWriter) Printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// Table renders rows under header as a markdown table, with blank lines
// around it.
func (e *MarkdownWriter) Table(header []string, rows [][]string) {
	e.Printf("\n")
	t := Markdown(e, header...)
	for _, r := range rows {
		if err := t.Append(r); err != nil && e.err == nil {
			e.err = err
		}
	}
	if err := t.Render(); err != nil && e.err == nil {
		e.err = err
	}
	e.Printf("\n")
}

// Err is the first error a write or a table met.
func (e *MarkdownWriter) Err() error { return e.err }
