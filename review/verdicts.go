// The verdict rules: one per design question, each turning an Answer's rows
// into a Verdict. Each rule names its criteria in order (a func returning
// them, printed with every verdict); the generic weighing in weigh.go ranks
// the options by them and words the trade-offs.

package review

import (
	"fmt"
	"strings"
)

// planCriteria are Q-A/B's criteria: the command budget, then what each
// scheme costs per command, then what it declares.
func planCriteria() []criterion {
	return []criterion{
		budgetGate("command {tail}", "the latency added to a command's tail, within the command budget in every scenario"),
		lower("WFS CPU/command", "the WFS CPU added per command, the lower the better"),
		lower("requests/command", "the WFS requests added per command"),
		lower("file ops/command", "the file operations added per command"),
		declares("the claims a scheme declares (conformance-checked) that the other does not, such as plan A's replay-proof"),
	}
}

// rulePlans weighs plan A's and plan B's schemes by planCriteria: a plan A
// that costs more than a plan B and declares more shows as the trade-off
// it is, with the figures of both.
func rulePlans(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	hasA := false
	for _, s := range sts {
		hasA = hasA || s.option == "A"
	}
	if !hasA {
		return Verdict{Outcome: "inconclusive", Text: fmt.Sprintf("inconclusive, as none of the %d schemes measured (%s) is a plan-A scheme (policy `command`): add `jwt:command`. %s", len(sts), names(sts), criteriaWords(planCriteria()))}
	}
	plan := func(s status) string {
		if s.option == "A" {
			return "plan-a"
		}
		return "plan-b"
	}
	return choice{
		crits: planCriteria(),
		word:  plan,
		pick: func(s status) string {
			if s.option == "A" {
				return fmt.Sprintf("choose plan A (`%s`)", s.scheme())
			}
			return fmt.Sprintf("choose plan B (`%s`)", s.scheme())
		},
		noun: "scheme", none: "neither",
	}.verdict(sts)
}

// jobStoreCriteria are Q-job's criteria: the message budget, then the
// files a store makes, then the WFS's CPU, then latency.
func jobStoreCriteria() []criterion {
	return []criterion{
		budgetGate("message {tail}", "the latency added to a job message's tail, within the message budget in every scenario"),
		lower("files created/job", "the files created per job, the fewer the better"),
		lower("peak live files", "the files live at peak"),
		lower("fsyncs/job", "the fsyncs per job"),
		lower("WFS CPU/job message", "the WFS CPU added per job message"),
		lower("message {tail}", "the latency added to a job message's tail"),
	}
}

// ruleJobStore weighs the one-job token stores by jobStoreCriteria.
func ruleJobStore(a *Answer) Verdict {
	return choice{
		crits: jobStoreCriteria(),
		word:  func(s status) string { return s.option },
		pick: func(s status) string {
			return fmt.Sprintf("keep one-job tokens in the `%s` store (`%s`)", s.option, s.scheme())
		},
		noun: "store", none: "neither",
	}.verdict(byOption(a, nil))
}

// q10Criteria are Q10's criteria: the message budget, then files per
// job, WFS CPU and latency.
func q10Criteria() []criterion {
	return []criterion{
		budgetGate("message {tail}", "the latency added to a job message's tail, within the message budget in every scenario"),
		lower("files created/job", "the files created per job, the fewer the better"),
		lower("WFS CPU/job message", "the WFS CPU added per job message"),
		lower("message {tail}", "the latency added to a job message's tail"),
	}
}

// rule1i2i weighs per-message tokens (1i) against per-job tokens (2i) by
// q10Criteria.
func rule1i2i(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	var has1, has2 bool
	for _, s := range sts {
		has1 = has1 || s.option == "1i"
		has2 = has2 || s.option == "2i"
	}
	if !has1 || !has2 {
		return Verdict{Outcome: "inconclusive", Text: fmt.Sprintf("inconclusive, as the schemes measured (%s) are not both a per-message (`jwt:command`) and a per-job (`jwt:job=...`) scheme on one job load, which the question needs. %s", names(sts), criteriaWords(q10Criteria()))}
	}
	return choice{
		crits: q10Criteria(),
		word:  func(s status) string { return s.option },
		pick: func(s status) string {
			if s.option == "1i" {
				return fmt.Sprintf("treat shared-file-system jobs like interactive commands (1i, `%s`)", s.scheme())
			}
			return fmt.Sprintf("treat shared-file-system jobs like remote jobs (2i, `%s`)", s.scheme())
		},
		noun: "policy", none: "neither",
	}.verdict(sts)
}

// curveCriteria are Q-curve's criteria: CURVE against no transport
// encryption (the baseline, plain, weighed as an option of its own).
func curveCriteria() []criterion {
	return []criterion{
		budgetGate("command {tail}", "the latency CURVE adds to a fresh-connection command's tail, within the command budget in every scenario"),
		lower("WFS CPU/command", "the WFS CPU added per command (what an unencrypted option saves)"),
		lower("command {tail}", "the latency added to a command's tail"),
		declares("what it seals on the wire, by its declared (conformance-checked) claims (what an unencrypted option gives up; plain declares none)", "confidential", "reply-confidential"),
	}
}

// ruleCurve weighs CURVE against keeping an unencrypted option: CURVE is
// the default when it is within budget and no cost of it is clearly
// measured; where it costs CPU or latency, the verdict shows what it buys
// against what it costs.
func ruleCurve(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if anyUndecided(sts) {
		v := inconclusive(sts...)
		v.Text += ". " + criteriaWords(curveCriteria())
		return v
	}
	// The worst CURVE scheme stands for CURVE.
	w := sts[0]
	for _, s := range sts[1:] {
		if s.worst().judged().CI.Center > w.worst().judged().CI.Center {
			w = s
		}
	}
	opts := []status{w}
	if b, ok := baselineStatus(a, "no encryption"); ok {
		opts = append(opts, b)
	}
	return choice{
		crits: curveCriteria(),
		word: func(s status) string {
			if s.baseline {
				return "keep-null"
			}
			return "curve-default"
		},
		pick: func(s status) string {
			if s.baseline {
				return fmt.Sprintf("keep an unencrypted option (`%s`)", s.scheme())
			}
			return fmt.Sprintf("make CURVE (`%s`) the default", s.scheme())
		},
		noun: "option", none: "keep-null",
	}.verdict(opts)
}

// keysCriteria are Q-keys' criteria: per-job keys against per-target
// keys (the baseline, weighed as an option of its own).
func keysCriteria() []criterion {
	return []criterion{
		budgetGate("message {tail}", "the latency per-job keys add to a job message's tail, within the message budget in every scenario"),
		lower("WFS CPU/job message", "the WFS CPU added per job message"),
		lower("files created/job", "the files created per job"),
		lower("peak live files", "the files live at peak"),
		lower("message {tail}", "the latency added to a job message's tail"),
		declares("revocation at job end, by the declared (conformance-checked) `job-revoke` claim (per-target keys are the baseline because they do not declare it)", "job-revoke"),
	}
}

// ruleKeys weighs per-job keys against per-target keys by keysCriteria.
func ruleKeys(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	if b, ok := baselineStatus(a, "per install target"); ok {
		sts = append(sts, b)
	}
	return choice{
		crits: keysCriteria(),
		word: func(s status) string {
			if s.baseline {
				return "per-target"
			}
			return "per-job"
		},
		pick: func(s status) string {
			if s.baseline {
				return fmt.Sprintf("keep a key per install target (`%s`)", s.scheme())
			}
			return fmt.Sprintf("give each job its own key (`%s`)", s.scheme())
		},
		noun: "key scope", none: "per-target",
	}.verdict(sts)
}

// joseCriteria are Q-jose's criteria: sealing requests is what the
// question asks, so it is a gate; then the budget, then sealing replies,
// then costs.
func joseCriteria() []criterion {
	return []criterion{
		claimsGate("seals requests on the wire, by the declared (conformance-checked) `confidential` claim: a scheme that does not is no answer to the question", "confidential"),
		budgetGate("command {tail}", "the latency added to a command's tail, within the command budget in every scenario"),
		declares("seals replies as well (the declared `reply-confidential` claim)", "reply-confidential"),
		lower("WFS CPU/command", "the WFS CPU added per command"),
		lower("bytes added/request", "the bytes added per request"),
		lower("command {tail}", "the latency added to a command's tail"),
	}
}

// ruleJose weighs the confidential schemes by joseCriteria, and says for
// each option what an eavesdropper reads, from its declared claims.
func ruleJose(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	v := choice{
		crits: joseCriteria(),
		word:  func(s status) string { return s.option },
		pick:  func(s status) string { return fmt.Sprintf("for confidentiality use `%s`", s.scheme()) },
		noun:  "confidential scheme", none: "neither",
	}.verdict(sts)
	var wire []string
	for _, s := range sts {
		c := s.claims()
		switch {
		case !contains(c, "confidential"):
			wire = append(wire, fmt.Sprintf("`%s` seals nothing: it declares %s, so an eavesdropper reads its credential and the request (%s)", s.scheme(), claimList(c), s.rows[0].Wire))
		case !contains(c, "reply-confidential"):
			wire = append(wire, fmt.Sprintf("`%s` seals requests only: its replies (the WFS's data) travel in clear (%s)", s.scheme(), s.rows[0].Wire))
		}
	}
	if len(wire) > 0 {
		// Before the criteria, which end the text.
		at := strings.LastIndex(v.Text, " Criteria, in order")
		v.Text = v.Text[:at] + " On the wire, by declared claims: " + strings.Join(wire, "; ") + "." + v.Text[at:]
	}
	return v
}

// pythonCriteria is Q-python's one criterion: the budget, a share of the
// real `cylc message` measured in the same run (realclient.go).
func pythonCriteria() []criterion {
	return []criterion{
		budgetGate("process p50", "the time a scheme adds to a whole Python client process per message, within the scenario's budget in every scenario: its stated share of the median wall time of the real `cylc message` measured in the same run (the budget the scenario states where none was); the added time's share of that real client's time is shown beside it, cylc-flow PR 5790's 1.2-1.7 s as context"),
	}
}

// rulePython: a scheme whose added time is within the budget, a small
// share of a real Python client's, is lost in it; one over it matters.
func rulePython(a *Answer) Verdict {
	sts := bySchemes(a, nil)
	crit := criteriaWords(pythonCriteria())
	if anyUndecided(sts) {
		v := inconclusive(sts...)
		v.Text += ". " + crit
		return v
	}
	over := filter(sts, Over)
	outcome, verb, among := "lost", "is lost in a real Python client's", sts
	if len(over) > 0 {
		outcome, verb, among = "matters", "matters against a real Python client's", over
	}
	w := among[0]
	for _, s := range among[1:] {
		if s.worst().judged().CI.Center > w.worst().judged().CI.Center {
			w = s
		}
	}
	r := w.worst()
	share := ""
	if st := r.judged(); st.Valid && st.CI.Center > 0 {
		share = fmt.Sprintf(", %.2g %% of a real client's %s", 100*st.CI.Center/float64(r.clientCost()), roundDur(r.clientCost()))
		if r.Client != nil && r.Client.SameRun {
			share = fmt.Sprintf(", %.2g %% of the %s the real `cylc message` took in this run (median wall time)", 100*st.CI.Center/float64(r.clientCost()), roundDur(r.clientCost()))
		}
	}
	head := fmt.Sprintf("a scheme's cost %s, as at worst `%s` adds %s%s", verb, w.scheme(), judgedShort(w), share)
	if len(over) > 0 {
		head = fmt.Sprintf("a scheme's cost %s, as %d of %d schemes are over budget, at worst `%s` at %s%s", verb, len(over), len(sts), w.scheme(), judgedShort(w), share)
	}
	return Verdict{Outcome: outcome, Decisive: true, Text: fmt.Sprintf("%s: `%s` %s. %s", head, r.Scheme, summaryOf(r), crit)}
}
