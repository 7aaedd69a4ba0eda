// The verdict rules: one per design question, each turning an Answer's rows
// into a Verdict.

package review

import (
	"fmt"
	"strings"
)

// rulePlans: plan A if it is within budget everywhere (it is the safer
// plan: one-time tokens); plan B when A is over and a plan B is within.
func rulePlans(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	var A, B []status
	for _, s := range sts {
		if s.option == "A" {
			A = append(A, s)
		} else {
			B = append(B, s)
		}
	}
	switch {
	case len(A) == 0:
		return Verdict{Outcome: "inconclusive", Text: "inconclusive: no plan-A scheme (policy `command`) ran; add `jwt:command`."}
	case len(filter(A, Over)) > 0 && len(filter(B, Within)) > 0:
		w := filter(B, Within)
		return Verdict{Outcome: "plan-b", Decisive: true, Text: fmt.Sprintf("choose plan B (%s): plan A (`%s`) %s, while plan B stays within budget in every scenario.",
			names(w), filter(A, Over)[0].scheme(), summaryOf(filter(A, Over)[0].worst()))}
	case len(filter(A, Within)) > 0:
		w := filter(A, Within)[0]
		return Verdict{Outcome: "plan-a", Decisive: true, Text: fmt.Sprintf("plan A is affordable: at worst `%s` %s. %s",
			w.scheme(), summaryOf(w.worst()), planAWords(w, B))}
	case len(filter(A, Over)) > 0 && len(B) > 0 && !anyUndecided(B):
		return Verdict{Outcome: "neither", Decisive: true, Text: fmt.Sprintf("neither plan is within budget: plan A %s, and every plan B scheme is over too.", summaryOf(filter(A, Over)[0].worst()))}
	}
	return inconclusive(sts...)
}

// planAWords says what plan A buys and what plan B would save, from the
// rows: the claims plan A declares that no plan-B scheme does, and the
// difference between each plan B's judged median and plan A's.
func planAWords(a status, B []status) string {
	var only []string
	for _, c := range a.rows[0].Claims {
		shared := false
		for _, b := range B {
			shared = shared || contains(b.rows[0].Claims, c)
		}
		if !shared {
			only = append(only, c)
		}
	}
	text := "The rule chooses plan A wherever it is within the budget"
	if len(only) > 0 && len(B) > 0 {
		text += fmt.Sprintf(", for what it declares and no plan-B scheme here does (%s, conformance-checked)", strings.Join(only, ", "))
	}
	if len(B) == 0 {
		return text + "; no plan-B scheme ran to compare with."
	}
	var saves []string
	for _, b := range B {
		d := a.worst().judged().CI.Center - b.worst().judged().CI.Center
		st := a.worst().judged()
		saves = append(saves, fmt.Sprintf("`%s` %s", b.scheme(), fmtValue(d, st.Unit, true)))
	}
	return text + fmt.Sprintf(". Against plan A's worst row, plan B's medians differ by %s at %s (plan A's median less each plan B's).", strings.Join(saves, ", "), a.worst().judged().what())
}

// ruleJobStore: among the stores within budget, the fewest files created
// per job, then the fewest live at peak, then fsyncs, then latency.
func ruleJobStore(a *Answer) Verdict {
	sts := byOption(a, nil)
	within := filter(sts, Within)
	if len(within) == 0 {
		if anyUndecided(sts) {
			return inconclusive(sts...)
		}
		return Verdict{Outcome: "neither", Decisive: true, Text: "no store is within the message budget: each " + summaryOf(sts[0].worst()) + " at least."}
	}
	sortBy(within, "files created/job", "peak live files", "fsyncs/job", "message {tail}")
	best := within[0]
	f, p := best.stat("files created/job"), best.stat("peak live files")
	v := Verdict{Outcome: best.option, Decisive: true, Text: fmt.Sprintf("keep one-job tokens in the `%s` store (`%s`): within the message budget, it creates %s files per job and peaks at %s live files over plain, the fewest among the stores within budget (ties within 1 %% go to the next measure: live files, then fsyncs, then latency).",
		best.option, best.scheme(), fmtValue(f.CI.Center, Count, true), fmtValue(p.CI.Center, Count, true))}
	if undecided := len(sts) - len(within) - len(filter(sts, Over)); undecided > 0 {
		v.Text += " Other stores are not decided yet and might rank higher: " + inconclusive(sts...).Text + "."
		v.Decisive = false
		v.RoundsNeeded = inconclusive(sts...).RoundsNeeded
	}
	return v
}

// rule1i2i: 2i when a per-job store is within budget and creates no more
// files than per-message tokens; 1i when only per-message tokens are.
func rule1i2i(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	var one, two []status
	for _, s := range sts {
		if s.option == "1i" {
			one = append(one, s)
		} else {
			two = append(two, s)
		}
	}
	w1, w2 := filter(one, Within), filter(two, Within)
	files := func(s status) float64 { return s.stat("files created/job").CI.Center }
	switch {
	case len(w2) > 0:
		sortBy(w2, "files created/job")
		b := w2[0]
		if len(w1) == 0 || files(b) <= files(w1[0]) {
			return Verdict{Outcome: "2i", Decisive: !anyUndecided(one), Text: fmt.Sprintf("treat shared-file-system jobs like remote jobs (2i): `%s` %s and creates %s files per job over plain (per-message tokens: %s).",
				b.scheme(), summaryOf(b.worst()), fmtValue(files(b), Count, true), oneWords(one))}
		}
		return Verdict{Outcome: "1i", Decisive: true, Text: fmt.Sprintf("treat them like interactive commands (1i): both are within budget and per-message tokens (`%s`) create fewer files (%s per job against %s).",
			w1[0].scheme(), fmtValue(files(w1[0]), Count, true), fmtValue(files(b), Count, true))}
	case len(w1) > 0 && !anyUndecided(two):
		return Verdict{Outcome: "1i", Decisive: true, Text: fmt.Sprintf("treat them like interactive commands (1i): `%s` %s, while every per-job store is over budget.", w1[0].scheme(), summaryOf(w1[0].worst()))}
	case len(one) > 0 && len(two) > 0 && !anyUndecided(sts):
		return Verdict{Outcome: "neither", Decisive: true, Text: "neither policy is within the message budget: " + summaryOf(sts[0].worst()) + "."}
	case len(one) == 0 || len(two) == 0:
		return Verdict{Outcome: "inconclusive", Text: "inconclusive: the question needs both a per-message (`jwt:command`) and a per-job (`jwt:job=...`) scheme on one job load."}
	}
	return inconclusive(sts...)
}

func oneWords(one []status) string {
	if len(one) == 0 {
		return "not run"
	}
	s := one[0]
	return fmt.Sprintf("`%s` %s, %s", s.scheme(), s.decision, s.worst().judged().cost())
}

// ruleCurve: CURVE within budget everywhere makes it the default.
func ruleCurve(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if anyUndecided(sts) {
		return inconclusive(sts...)
	}
	if over := filter(sts, Over); len(over) > 0 {
		return Verdict{Outcome: "keep-null", Decisive: true, Text: fmt.Sprintf("CURVE is over budget: `%s` %s. Keep an unencrypted option for sites that do not need confidentiality.", over[0].scheme(), summaryOf(over[0].worst()))}
	}
	w := sts[0]
	for _, s := range sts[1:] {
		if s.worst().judged().CI.Center > w.worst().judged().CI.Center {
			w = s
		}
	}
	cpu := w.stat("WFS CPU/command")
	return Verdict{Outcome: "curve-default", Decisive: true, Text: fmt.Sprintf("CURVE is affordable: at worst `%s` %s; on the WFS it %s. The rule makes CURVE the default wherever it is within the budget; what an unencrypted option would save is that cost (the capacity knee, where measured, says what it saves in throughput).",
		w.scheme(), summaryOf(w.worst()), cpu.cost())}
}

// ruleKeys: per-job keys against per-target keys.
func ruleKeys(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if anyUndecided(sts) {
		return inconclusive(sts...)
	}
	s := sts[0]
	files := s.stat("files created/job")
	if s.decision == Over {
		return Verdict{Outcome: "per-target", Decisive: true, Text: fmt.Sprintf("keep a key per install target: per-job keys (`%s`) %s.", s.scheme(), summaryOf(s.worst()))}
	}
	text := fmt.Sprintf("per-job keys are affordable: `%s` %s, and creates %s files per job more",
		s.scheme(), summaryOf(s.worst()), fmtValue(files.CI.Center, Count, false))
	if contains(s.rows[0].Claims, "job-revoke") {
		text += "; what they buy is revocation at job end (their declared, conformance-checked `job-revoke` claim)"
	}
	return Verdict{Outcome: "per-job", Decisive: true, Text: text + "."}
}

// ruleJose: among the schemes within budget, those sealing requests and
// replies first, then those sealing requests only; a signed token seals
// nothing.
func ruleJose(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	within := filter(sts, Within)
	claims := func(s status) []string { return s.rows[0].Claims }
	var both, reqOnly []status
	for _, s := range within {
		switch c := claims(s); {
		case contains(c, "confidential") && contains(c, "reply-confidential"):
			both = append(both, s)
		case contains(c, "confidential"):
			reqOnly = append(reqOnly, s)
		}
	}
	switch {
	case len(both) > 0:
		sortBy(both, "WFS CPU/command")
		b := both[0]
		v := Verdict{Outcome: b.option, Decisive: true, Text: fmt.Sprintf("for confidentiality use `%s`: it seals requests and replies, and %s.", b.scheme(), summaryOf(b.worst()))}
		if len(reqOnly) > 0 {
			verb := "seals requests only: its"
			if len(reqOnly) > 1 {
				verb = "seal requests only: their"
			}
			v.Text += fmt.Sprintf(" %s %s replies (the WFS's data) travel in clear.", names(reqOnly), verb)
		}
		v.Text += " A signed JWT seals nothing: an eavesdropper reads its claims and the request."
		return v
	case anyUndecided(sts):
		return inconclusive(sts...)
	case len(reqOnly) > 0:
		b := reqOnly[0]
		return Verdict{Outcome: b.option, Decisive: true, Text: fmt.Sprintf("only `%s` is a confidential scheme within budget, and it seals requests only: replies travel in clear. %s.", b.scheme(), summaryOf(b.worst()))}
	}
	return Verdict{Outcome: "neither", Decisive: true, Text: "no confidential scheme is within the command budget."}
}

// rulePython: a scheme whose cost is within a small share of a real
// Python client's is lost in it.
func rulePython(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if anyUndecided(sts) {
		return inconclusive(sts...)
	}
	if over := filter(sts, Over); len(over) > 0 {
		w := over[0].worst()
		return Verdict{Outcome: "matters", Decisive: true, Text: fmt.Sprintf("a scheme's cost matters against a real Python client's: `%s` %s.", w.Scheme, summaryOf(w))}
	}
	w := sts[0]
	for _, s := range sts[1:] {
		if s.worst().judged().CI.Center > w.worst().judged().CI.Center {
			w = s
		}
	}
	r := w.worst()
	return Verdict{Outcome: "lost", Decisive: true, Text: fmt.Sprintf("a scheme's cost is lost in a real Python client's: at worst `%s` %s.", r.Scheme, summaryOf(r))}
}
