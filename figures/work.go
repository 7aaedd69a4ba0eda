package figures

import (
	"slices"
	"strings"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// Work is a unit of work a cost is divided by, named as a label names it.
// It counts itself in each of a result's two windows: the whole run
// (files, jobs, commands and WFS requests are counted over it) and the
// measured window after the warm-up (the WFS process's CPU and the ops'
// histograms are).
type Work string

// The units of work.
const (
	// Request is one request the WFS served, whichever client sent it.
	Request Work = "request"
	// Command is one CLI command a user issued, with every request it
	// took (a token request first, under plan A).
	Command Work = "command"
	// Message is one job message (started, succeeded, ...) a job sent.
	Message Work = "job message"
	// Job is one job of the workflow, from its start to its last message.
	Job Work = "job"
	// Transfer is one WLCG transfer of a token flow (package flows).
	Transfer Work = "transfer"
)

// Operations are the units of work a question may weigh, in the order a
// scenario table lists them: a scenario that recorded one's op gets its
// columns.
func Operations() []Work { return []Work{Command, Message, Transfer} }

// Op is the op whose operations w counts in the measured window ("" for
// the request and the job, which no op counts).
func (w Work) Op() string {
	switch w {
	case Command:
		return vocab.OpCLICommand
	case Message:
		return vocab.OpJobMessage
	case Transfer:
		return vocab.OpWLCGTransfer
	}
	return ""
}

// group is the op group w's operations are recorded under ("cli").
func (w Work) group() string {
	g, _, _ := strings.Cut(w.Op(), ".")
	return g
}

// clientGroups are the op groups of the clients that send the WFS
// requests: commands, job messages, UI-server polls, token flows.
func clientGroups() []string { return []string{"cli", "job", "uis", "wlcg"} }

// Alone reports whether w's operations are the only ones r's clients sent
// (no other client group recorded operations): only then is the WFS's
// whole CPU, and every request it served, w's. A scenario that mixes
// commands and job messages cannot tell their shares apart.
func (w Work) Alone(r *results.Result) bool {
	if w.Op() == "" {
		return w == Request
	}
	for _, o := range r.Ops {
		g, _, _ := strings.Cut(o.Name, ".")
		if g != w.group() && slices.Contains(clientGroups(), g) && o.Count+o.ErrorCount() > 0 {
			return false
		}
	}
	return true
}

// CountedOverRun reports whether results count w over the whole run
// (every unit but the job message, counted over the window only).
func (w Work) CountedOverRun() bool { return w != Message }

// InRun is w's count over r's whole run; ok is false when r has none (or
// does not count w over its whole run: job messages).
func (w Work) InRun(r *results.Result) (float64, bool) {
	var n float64
	switch w {
	case Request:
		n = float64(r.Server.Requests)
	case Command:
		n = float64(r.Commands)
	case Job:
		n = float64(r.Jobs)
	case Transfer:
		n = r.SchemeStats["flow.transfers"]
	}
	return n, n > 0
}

// InWindow is w's count over r's measured window, failed operations
// included (the WFS worked on each); ok is false when r has none (or does
// not count w over its window: jobs).
func (w Work) InWindow(r *results.Result) (float64, bool) {
	var n float64
	switch w {
	case Request:
		if r.ServerProcess != nil {
			n = float64(r.ServerProcess.Requests)
		}
	default:
		if o := r.Op(w.Op()); o != nil && w.Op() != "" {
			n = float64(o.Count + o.ErrorCount())
		}
	}
	return n, n > 0
}
