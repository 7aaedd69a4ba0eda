package review

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/vocab"
)

// scalePoint is one point of the Cylc proposal's Q5 granularity scale
// (../shared/seeds/000_*: "workflow, cycle point, task, job, set of
// commands, single command"): the token policy that stands for it, its
// rank (coarsest first) and what a token stolen from a job's file system
// grants: its scope and how long it stays good.
type scalePoint struct {
	policy string
	name   string
	rank   int
	stolen string
}

// scalePoints is the scale, coarsest first. The timed policy (a rotated
// workflow token) sits beside the workflow's.
func scalePoints() []scalePoint {
	return []scalePoint{
		{"workflow", "workflow", 1, "every command and every job's messages, until the workflow stops"},
		{"timed", "workflow (timed)", 2, "every command and every job's messages, until the rotated token's LIFETIME (+ OVERLAP) ends"},
		{"cycle", "cycle point", 3, "messages for any job of its cycle point, until the cycle point's last live task ends"},
		{"task", "task", 4, "messages for its task's jobs, retries included, until the task ends"},
		{"job", "job", 5, "messages for its one job, until the job ends"},
		{"shared", "set of commands", 6, "what its client may do (a job: its own messages), for the sharing WINDOW"},
		{"command", "single command", 7, "one request, once; an unused one for at most a minute"},
	}
}

// scaleOf: a token credential, by its policy's point on the scale.
func scaleOf(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if !c.Authenticates || (sp.Credential != "jwt" && sp.Credential != "jwe") {
		return "", false
	}
	for _, p := range scalePoints() {
		if p.policy == sp.Policy {
			return fmt.Sprintf("%d. %s", p.rank, p.name), true
		}
	}
	return "", false
}

// scaleByOption returns the scale point of an option scaleOf made.
func scaleByOption(option string) (scalePoint, bool) {
	for _, p := range scalePoints() {
		if option == fmt.Sprintf("%d. %s", p.rank, p.name) {
			return p, true
		}
	}
	return scalePoint{}, false
}

// ruleScale: the finest point of the scale within the message budget,
// with what a stolen token grants at each point measured; inconclusive
// while a finer point than the one chosen is undecided.
func ruleScale(a *Answer) Verdict {
	sts := byOption(a, nil)
	rank := func(s status) int { p, _ := scaleByOption(s.option); return p.rank }
	var lines []string
	for _, p := range scalePoints() {
		for _, s := range sts {
			if rank(s) == p.rank {
				lines = append(lines, fmt.Sprintf("%s (`%s`): %s, files %s/job, fsyncs %s/job over plain; a stolen token grants %s",
					p.name, s.scheme(), s.decision, fmtValue(s.stat("files created/job").CI.Center, Count, true),
					fmtValue(s.stat("fsyncs/job").CI.Center, Count, true), p.stolen))
			}
		}
	}
	detail := " Measured points: " + strings.Join(lines, "; ") + "."
	var best *status
	for i := range sts {
		if sts[i].decision == Within && (best == nil || rank(sts[i]) > rank(*best)) {
			best = &sts[i]
		}
	}
	if best == nil {
		if anyUndecided(sts) {
			v := inconclusive(sts...)
			v.Text += "." + detail
			return v
		}
		return Verdict{Outcome: "none", Decisive: true, Text: "no point of the scale is within the message budget: " + summaryOf(sts[0].worst()) + "." + detail}
	}
	var finerUndecided []status
	for _, s := range sts {
		if rank(s) > rank(*best) && s.decision != Within && s.decision != Over {
			finerUndecided = append(finerUndecided, s)
		}
	}
	p, _ := scaleByOption(best.option)
	v := Verdict{Outcome: p.name, Decisive: len(finerUndecided) == 0,
		Text: fmt.Sprintf("the finest point within the message budget is the %s: `%s` %s; a token stolen there grants %s.", p.name, best.scheme(), summaryOf(best.worst()), p.stolen)}
	if len(finerUndecided) > 0 {
		in := inconclusive(finerUndecided...)
		v.Text += " A finer point is not decided yet: " + in.Text + "."
		v.RoundsNeeded = in.RoundsNeeded
	}
	v.Text += detail
	return v
}
