// Package mdtable writes markdown: text and tables (olekukonko/tablewriter's
// markdown renderer), keeping the first write error so that rendering code
// stays linear, and the duration format every report table shares.
package mdtable

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Duration prints a latency with a unit suited to its size ("-" for none).
func Duration(d time.Duration) string {
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

// Code quotes s as inline markdown code.
func Code(s string) string {
	if strings.Contains(s, "`") {
		return "``" + s + "``"
	}
	return "`" + s + "`"
}

// New returns a new markdown table writer on w with the given header.
func New(w io.Writer, header ...string) *tablewriter.Table {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewMarkdown()),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	return t
}

// Writer writes markdown text and tables, keeping the first write error:
// check Err once at the end.
type Writer struct {
	w   io.Writer
	err error
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write writes p unless an earlier write failed; it never returns an error
// (Err has the first).
func (e *Writer) Write(p []byte) (int, error) {
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
func (e *Writer) Printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// Table renders rows under header as a markdown table, with blank lines
// around it.
func (e *Writer) Table(header []string, rows [][]string) {
	e.Printf("\n")
	t := New(e, header...)
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
func (e *Writer) Err() error { return e.err }
