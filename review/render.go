package review

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"
)

// JSON writes the model as indented JSON.
func JSON(w io.Writer, m *Model) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return fmt.Errorf("review: %w", err)
	}
	return nil
}

// Markdown writes the review's summary: a verdict table, then one section
// per question with its rows, findings, verdict and the commands that made
// its data.
func Markdown(w io.Writer, m *Model) error {
	ew := mdtable.NewWriter(w)
	ew.Printf("## Summary\n\n")
	ew.Printf("Every judged figure is the median over rounds of a per-round paired difference against the baseline (schemes run in interleaved rounds, each round in a random order), with its %.0f %% confidence interval (order statistics: golang.org/x/perf's benchmath); a verdict needs the whole interval on one side of the budget the scenario states, otherwise it is inconclusive, with the rounds that would decide it. A latency is judged at the percentile its budget names (`command_p50_budget`: the median), and only where every round of both schemes has the operations that percentile needs (20 for p50, 100 for p90, 1,000 for p99); an unjudged tail is p99 where every round has 1,000 operations or more, else p90, as labelled. Each question says which server model its verdicts hold for: the cylc model (Cylc 8's server as shipped) where its scenarios ran under it, with the fast server's rows beside them for reference, never judged. Costs are per operation: WFS CPU per command or per job message is the WFS process's whole CPU over the measured window divided by the commands or job messages sent in it, so a scheme that makes two requests per command pays for both; figures per WFS request are secondary columns, labelled. Cells read median [interval].\n",
		100*Confidence)
	var rows [][]string
	for _, a := range m.Questions {
		dec, need := "yes", ""
		switch {
		case a.Verdict.Outcome == "no-data":
			dec = "no data"
		case !a.Verdict.Decisive:
			dec = "**no**"
			if a.Verdict.RoundsNeeded > 0 {
				need = fmt.Sprint(a.Verdict.RoundsNeeded)
			} else {
				need = "more rounds would not settle it"
			}
		}
		answer, _, _ := strings.Cut(a.Verdict.Text, ": ")
		rows = append(rows, []string{a.ID, answer, a.Verdict.Outcome, dec, need})
	}
	ew.Table([]string{"question", "answer", "outcome", "decisive", "rounds needed"}, rows)
	var unanswered []string
	for _, a := range m.Questions {
		if a.Verdict.Outcome == "no-data" {
			unanswered = append(unanswered, a.ID)
		}
	}
	if len(unanswered) > 0 {
		ew.Printf("Not answered by these results: %s. `make report` runs the design review's scenarios, at a site's rate and in bursts under the cylc model, and answers every question; each section below says what to run for it.\n\n", strings.Join(unanswered, ", "))
	}
	if f := m.Family; f.Judged > 0 {
		ew.Printf("**Many rows at once.** %d rows were judged against their budgets and %d decided, each at a one-sided %.1f %% (its %.0f %% interval wholly on one side). Judged together, some would be decided by chance alone: Holm's step-down procedure at a family-wise %.1f %% keeps %d of the %d decisions", f.Judged, f.Decided, 100*FamilyAlpha, 100*Confidence, 100*FamilyAlpha, f.HolmKept, f.Decided)
		if f.HolmKept < f.Decided {
			ew.Printf("; a row whose every round falls on one side of its budget survives it from %d rounds", f.RoundsForAll)
		}
		ew.Printf(".")
		if f.Sequential {
			ew.Printf(" Rounds were added until the verdicts were decisive (`-until-decisive`), looking after each round: the intervals make no allowance for those repeated looks, so their error rate may exceed the nominal.")
		}
		ew.Printf("\n\n")
	}
	for _, a := range m.Questions {
		writeAnswer(ew, a)
	}
	if err := ew.Err(); err != nil {
		return fmt.Errorf("review: %w", err)
	}
	return nil
}

func writeAnswer(w *mdtable.Writer, a *Answer) {
	w.Printf("### %s: %s\n\n", a.ID, a.Title)
	w.Printf("Settled by: %s.\n", a.Settles)
	if len(a.Rows) == 0 {
		w.Printf("\n**No data.** To answer it, %s.\n\n", a.Need)
		return
	}
	w.Printf("%s\n", serverWords(a))
	header := []string{"scenario", "server", "scheme", "option", "claims"}
	tails := columnTails(a)
	for i, c := range a.Columns {
		c = strings.ReplaceAll(c, "{tail}", tails[i])
		if len(a.Rows[0].Stats) > i && a.Rows[0].Stats[i].Paired {
			c = "Δ " + c
		}
		if len(a.Rows[0].Stats) > i && a.Rows[0].Stats[i].Secondary {
			c += " (secondary)"
		}
		header = append(header, c)
	}
	wire := a.Rows[0].Wire != ""
	if wire {
		header = append(header, "an eavesdropper reads")
	}
	header = append(header, "budget", "decision")
	var rows [][]string
	for _, r := range append(append([]*Row(nil), a.Rows...), a.Reference...) {
		row := []string{r.Scenario, r.Server, r.Scheme, r.Option, strings.Join(r.Claims, " ")}
		for i, st := range r.Stats {
			cell := st.Cell()
			if tails[i] == "tail" && st.Tail != "" {
				cell += " (" + st.Tail + ")"
			}
			row = append(row, cell)
		}
		dec := string(r.Decision)
		if r.Decision == Inconclusive && r.RoundsNeeded > 0 {
			dec += fmt.Sprintf(" (~%d rounds)", r.RoundsNeeded)
		}
		if r.Errors > 0 && r.Decision != Failed {
			dec += fmt.Sprintf(" (%d operations failed)", r.Errors)
		}
		if wire {
			row = append(row, r.Wire)
		}
		budget := "–"
		if r.Budget > 0 {
			budget = fmtValue(r.Budget, Duration, false)
		}
		rows = append(rows, append(row, budget, dec))
	}
	w.Table(header, rows)
	for _, d := range a.Drains {
		w.Printf("- %s: the WFS served %.2f requests per drain of its socket (median over schemes and rounds; at most %.0f in one): ", d.Scenario, d.PerDrain, d.MaxDrain)
		if d.PerDrain < 1.5 {
			w.Printf("requests arrived about one at a time into the sleeping server, as at a site's rate.\n")
		} else {
			w.Printf("requests arrived together and shared its drains, as in a burst.\n")
		}
	}
	for _, u := range a.Budgets {
		src := "the scenario states no source"
		if u.Source != "" {
			src = "source: " + u.Source
		}
		w.Printf("- Budget `%s` in %s: %s (%s).\n", u.Name, u.Scenario, fmtValue(u.Value, Duration, false), src)
	}
	for _, r := range a.Rows {
		if r.Judged >= 0 {
			w.Printf("- %s\n", r.finding())
		}
	}
	w.Printf("\n**Verdict:** %s\n", a.Verdict.Text)
	if fl := flipWords(a); fl != "" {
		w.Printf("\n**Where it flips:** %s\n", fl)
	}
	for _, n := range a.Notes {
		w.Printf("\n%s\n", n)
	}
	for _, u := range a.RealClients {
		writeRealClient(w, u, a.Verdict.Outcome)
	}
	if len(a.Commands) > 0 {
		w.Printf("\nMade by:")
		for _, c := range a.Commands {
			w.Printf(" `%s`", c)
		}
		w.Printf("\n")
	}
	w.Printf("\n")
}

// serverWords says which serving model the judged rows ran against, and
// what the reference rows are.
func serverWords(a *Answer) string {
	var b strings.Builder
	switch a.Server {
	case vocab.ServerModelCylc:
		b.WriteString("Judged on the cylc model: the WFS serves as Cylc 8's scheduler does, one request at a time, with a 0.2 s sleep whenever its socket is empty (cylc-flow network/server.py).")
	case "":
	default:
		fmt.Fprintf(&b, "Judged on the `%s` server model, not Cylc's: no scenario of this question ran under `server: {model: cylc}`, so these verdicts hold for that server only.", a.Server)
	}
	if len(a.Reference) > 0 {
		models := map[string]bool{}
		var names []string
		for _, r := range a.Reference {
			if !models[r.Server] {
				models[r.Server] = true
				names = append(names, "`"+r.Server+"`")
			}
		}
		fmt.Fprintf(&b, " Rows of the %s server are shown for reference (what a scheme costs on a server without Cylc's sleep), labelled and never judged.", strings.Join(names, ", "))
	}
	return b.String()
}

// columnTails is each column's tail label when every row agrees ("p99" or
// "p90"), "tail" when they differ.
func columnTails(a *Answer) []string {
	out := make([]string, len(a.Columns))
	for i := range a.Columns {
		for _, r := range append(append([]*Row(nil), a.Rows...), a.Reference...) {
			if i >= len(r.Stats) || r.Stats[i].Tail == "" {
				continue
			}
			switch out[i] {
			case "":
				out[i] = r.Stats[i].Tail
			case r.Stats[i].Tail:
			default:
				out[i] = "tail"
			}
		}
		if out[i] == "" {
			out[i] = "p99"
		}
	}
	return out
}

// flipWords says at which budgets the verdict would change, or that none
// would ("" when nothing was judged against a budget).
func flipWords(a *Answer) string {
	v := a.Verdict
	judged := false
	for _, r := range a.Rows {
		judged = judged || (r.Judged >= 0 && r.Budget > 0)
	}
	if !judged {
		return ""
	}
	at := func(f *Flip) string {
		if f.Budget > 0 {
			return "a budget of " + fmtValue(f.Budget, Duration, false)
		}
		return fmt.Sprintf("%.2g× the stated budgets", f.Factor)
	}
	var parts []string
	for _, side := range []struct {
		word string
		f    *Flip
	}{{"below", v.FlipBelow}, {"above", v.FlipAbove}} {
		if side.f == nil {
			continue
		}
		p := fmt.Sprintf("%s %s it would read `%s`", side.word, at(side.f), side.f.Outcome)
		if t := side.f.Then; t != nil {
			p += fmt.Sprintf(", and %s %s `%s`", side.word, at(t), t.Outcome)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no budget changes it: the verdict is `%s` whatever budget the rows are judged against (each row's decision changes only where the budget crosses an end of its interval, and none of those changes the verdict).", v.Outcome)
	}
	return strings.Join(parts, "; ") + " (each row's decision changes only where the budget crosses an end of its interval; the nearest such ends are given)."
}
