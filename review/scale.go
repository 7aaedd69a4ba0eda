package review

import (
	"fmt"
	"strings"
	"time"

	"github.com/authbench/authbench/vocab"
)

// scalePoint is one point of the Cylc proposal's Q5 granularity scale
// (../shared/seeds/000_*: "workflow, cycle point, task, job, set of
// commands, single command"): the token policy that stands for it, its
// rank (coarsest first) and the scope its policy declares a token good for
// (package schemes, policy.go). How long a stolen token stays good is not
// kept here: it comes from each scheme's spec and declared claims
// (stolenWords).
type scalePoint struct {
	policy string
	name   string
	rank   int
	scope  string
}

// scalePoints is the scale, coarsest first. The timed policy (a rotated
// workflow token) sits beside the workflow's.
func scalePoints() []scalePoint {
	return []scalePoint{
		{"workflow", "workflow", 1, "every command and every job's messages of the workflow"},
		{"timed", "workflow (timed)", 2, "every command and every job's messages of the workflow"},
		{"cycle", "cycle point", 3, "the messages of every job of one cycle point"},
		{"task", "task", 4, "the messages of one task's jobs, its retries included"},
		{"job", "job", 5, "the messages of one job"},
		{"shared", "set of commands", 6, "what the client that requested it may do"},
		{"command", "single command", 7, "one request"},
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

// scaleRank is an option's rank on the scale and the point's name.
func scaleRank(option string) (int, string) {
	p, _ := scaleByOption(option)
	return p.rank, p.name
}

// scaleCriteria are Q5's criteria: the message budget, then the scope a
// stolen token grants, then what the point costs.
func scaleCriteria() []criterion {
	return []criterion{
		budgetGate("message {tail}", "the latency added to a job message's tail, within the message budget in every scenario"),
		higherRank("the finer point of the scale, where a stolen token grants less", scaleRank),
		lower("files created/job", "the files created per job"),
		lower("fsyncs/job", "the fsyncs per job"),
		lower("WFS CPU/job message", "the WFS CPU added per job message"),
		lower("message {tail}", "the latency added to a job message's tail"),
	}
}

// stolenWords says what a token stolen from a scheme grants: the scope its
// policy declares (labelled as declared) and how long it stays good, from
// the scheme's spec (a shared window, a timed lifetime) and its declared,
// conformance-checked claims (replay-proof, expires, job-revoke).
func stolenWords(r *Row) string {
	p, ok := scaleByOption(r.Option)
	if !ok {
		return "nothing this review can derive"
	}
	text := "its policy's declared scope, " + p.scope
	var life []string
	if contains(r.Claims, "replay-proof") {
		life = append(life, "once (declared replay-proof)")
	}
	sp, err := vocab.ParseSpec(r.Scheme)
	if err == nil {
		switch sp.Policy {
		case "shared":
			if d, err := time.ParseDuration(sp.Arg); err == nil {
				life = append(life, fmt.Sprintf("within the %s sharing window of its spec", d))
			}
		case "timed":
			l, o, hasO := strings.Cut(sp.Arg, "/")
			if d, err := time.ParseDuration(l); err == nil {
				s := fmt.Sprintf("until its %s lifetime ends", d)
				if od, err := time.ParseDuration(o); hasO && err == nil {
					s += fmt.Sprintf(", plus a %s overlap", od)
				}
				life = append(life, s+" (its spec)")
			}
		}
	}
	if contains(r.Claims, "job-revoke") {
		life = append(life, "until its job ends (declared job-revoke)")
	}
	if contains(r.Claims, "expires") && len(life) == 0 {
		life = append(life, "until it expires (declared expires; its spec gives no lifetime)")
	}
	if len(life) == 0 {
		return text + "; it declares neither expiry nor revocation at job end"
	}
	return text + ", " + strings.Join(life, ", ")
}

// ruleScale weighs the points of the scale by scaleCriteria: the finest
// point within the message budget, and, beside it, any coarser point that
// costs clearly less, with the figures of both; every measured point is
// listed with what a stolen token grants.
func ruleScale(a *Answer) Verdict {
	sts := byOption(a, nil)
	var lines []string
	for _, p := range scalePoints() {
		for _, s := range sts {
			if r, _ := scaleRank(s.option); r != p.rank {
				continue
			}
			lines = append(lines, fmt.Sprintf("%s (`%s`): %s, files %s/job, fsyncs %s/job, WFS CPU %s/job message over plain; a stolen token grants %s",
				p.name, s.scheme(), s.decision, s.stat("files created/job").Cell(), s.stat("fsyncs/job").Cell(),
				s.stat("WFS CPU/job message").Cell(), stolenWords(s.rows[0])))
		}
	}
	v := choice{
		crits: scaleCriteria(),
		word:  func(s status) string { _, n := scaleRank(s.option); return n },
		pick: func(s status) string {
			_, n := scaleRank(s.option)
			return fmt.Sprintf("put tokens at the %s (`%s`)", n, s.scheme())
		},
		noun: "point of the scale", none: "none",
	}.verdict(sts)
	at := strings.LastIndex(v.Text, " Criteria, in order")
	v.Text = v.Text[:at] + " Measured points: " + strings.Join(lines, "; ") + "." + v.Text[at:]
	return v
}
