// The criteria a rule weighs its options by, in order, and the words that
// come from weighing them: a rule names its criteria as data, ranks the
// options within budget by them, and shows a trade-off, with the figures of
// both sides, wherever a later criterion prefers another option.

package review

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// criterionKind says how a criterion compares two options.
type criterionKind int

const (
	// byBudget is a gate: the judged figure within its budget in every
	// scenario. An option over it is out; one undecided may yet come in.
	byBudget criterionKind = iota
	// byClaimsGate is a gate on declared claims: an option that does not
	// declare every one of claims is no candidate.
	byClaimsGate
	// byLower compares a figure (a Stat label): the lower median is better.
	byLower
	// byClaims compares declared claims (those in claims, every claim
	// when nil): an option declaring one the other does not is better on
	// it.
	byClaims
	// byRank compares rank(option): the higher is better.
	byRank
)

// tieShare is the relative difference of two medians at or below which a
// figure criterion calls them a tie and passes to the next criterion.
const tieShare = 0.01

// criterion is one thing a rule weighs, in its place in the rule's order.
type criterion struct {
	kind criterionKind
	// label is the measure a byLower or byBudget criterion reads.
	label string
	// claims are the claims a byClaims or byClaimsGate criterion reads.
	claims []string
	// rank orders options for byRank, and names the point it stands for.
	rank func(option string) (int, string)
	// words say what it weighs, as the verdict lists it.
	words string
}

// budgetGate is the gate on the judged figure label.
func budgetGate(label, words string) criterion {
	return criterion{kind: byBudget, label: label, words: words}
}

// claimsGate admits only options declaring every one of claims.
func claimsGate(words string, claims ...string) criterion {
	return criterion{kind: byClaimsGate, claims: claims, words: words}
}

// lower prefers the lower median of label.
func lower(label, words string) criterion {
	return criterion{kind: byLower, label: label, words: words}
}

// declares prefers the option declaring claims (every claim when none
// are given) that the other does not.
func declares(words string, claims ...string) criterion {
	return criterion{kind: byClaims, claims: claims, words: words}
}

// higherRank prefers the option rank puts higher.
func higherRank(words string, rank func(option string) (int, string)) criterion {
	return criterion{kind: byRank, rank: rank, words: words}
}

// gate reports whether c decides who is a candidate rather than ranking.
func (c criterion) gate() bool { return c.kind == byBudget || c.kind == byClaimsGate }

// criteriaWords lists cs as a verdict prints them.
func criteriaWords(cs []criterion) string {
	var parts []string
	for i, c := range cs {
		parts = append(parts, fmt.Sprintf("%d. %s", i+1, c.words))
	}
	return fmt.Sprintf("Criteria, in order (a median within %.0f %% of another's is a tie and passes to the next): %s.", 100*tieShare, strings.Join(parts, "; "))
}

// claimsOf are the claims of s that c reads.
func (c criterion) claimsOf(s status) []string {
	var out []string
	for _, cl := range s.claims() {
		if c.claims == nil || contains(c.claims, cl) {
			out = append(out, cl)
		}
	}
	return out
}

// only are the claims c reads that x declares and y does not.
func (c criterion) only(x, y status) []string {
	var out []string
	yc := c.claimsOf(y)
	for _, cl := range c.claimsOf(x) {
		if !contains(yc, cl) {
			out = append(out, cl)
		}
	}
	return out
}

// admits reports whether s passes a claims gate (every other criterion
// admits every option).
func (c criterion) admits(s status) bool {
	if c.kind != byClaimsGate {
		return true
	}
	have := s.claims()
	for _, cl := range c.claims {
		if !contains(have, cl) {
			return false
		}
	}
	return true
}

// prefers reports whether c prefers x to y, and whether it does so
// clearly: for a figure, by medians more than tieShare apart, clearly when
// the two intervals do not overlap either; for claims, when x declares
// one y does not and y none that x does not; for a rank, when x's is
// higher.
func (c criterion) prefers(x, y status) (before, clear bool) {
	switch c.kind {
	case byLower:
		sx, sy := x.stat(c.label), y.stat(c.label)
		if !sx.Valid || !sy.Valid {
			return false, false
		}
		a, b := sx.CI.Center, sy.CI.Center
		if b-a <= tieShare*max(abs(a), abs(b)) {
			return false, false
		}
		return true, sx.CI.Hi < sy.CI.Lo
	case byClaims:
		before = len(c.only(x, y)) > 0 && len(c.only(y, x)) == 0
		return before, before
	case byRank:
		rx, _ := c.rank(x.option)
		ry, _ := c.rank(y.option)
		return rx > ry, rx > ry
	}
	return false, false
}

// edge reports whether x is clearly better than y on c: a figure whose
// intervals do not overlap, a claim y does not declare, a higher rank.
func (c criterion) edge(x, y status) bool {
	if c.kind == byClaims {
		return len(c.only(x, y)) > 0
	}
	before, clear := c.prefers(x, y)
	return before && clear
}

// weighing is a rule's options weighed by its criteria.
type weighing struct {
	crits []criterion
	// excluded fail a claims gate; over are over budget somewhere;
	// undecided are neither within nor over (inconclusive or failed).
	excluded, over, undecided []status
	// within are the options within budget everywhere, best first.
	within []status
	// rivals are options within budget that are clearly better than the
	// first on some criterion, none of them dominated by another rival;
	// tied are those no criterion orders either way against the first.
	rivals, tied []status
	// blocking are undecided options that, were they within budget, would
	// rank first, be a rival or tie: the verdict waits on them.
	blocking []status
}

// weigh sorts sts by crits.
func weigh(sts []status, crits []criterion) weighing {
	w := weighing{crits: crits}
	for _, s := range sts {
		admitted := true
		for _, c := range crits {
			admitted = admitted && c.admits(s)
		}
		switch {
		case !admitted:
			w.excluded = append(w.excluded, s)
		case s.decision == Within:
			w.within = append(w.within, s)
		case s.decision == Over:
			w.over = append(w.over, s)
		default:
			w.undecided = append(w.undecided, s)
		}
	}
	sort.SliceStable(w.within, func(i, j int) bool { return w.less(w.within[i], w.within[j]) })
	if len(w.within) == 0 {
		w.blocking = w.undecided
		return w
	}
	best := w.within[0]
	var rivals []status
	for _, s := range w.within[1:] {
		switch {
		case w.anyEdge(s, best):
			rivals = append(rivals, s)
		case !w.less(best, s):
			w.tied = append(w.tied, s)
		}
	}
	for i, r := range rivals {
		dominated := false
		for j, o := range rivals {
			dominated = dominated || (i != j && !w.anyEdge(r, o) && w.anyEdge(o, r))
		}
		if !dominated {
			w.rivals = append(w.rivals, r)
		}
	}
	for _, u := range w.undecided {
		if w.less(u, best) || w.anyEdge(u, best) || !w.less(best, u) {
			w.blocking = append(w.blocking, u)
		}
	}
	return w
}

// less orders x before y by the first criterion that clearly prefers
// either (a difference inside the intervals' overlap decides nothing).
func (w weighing) less(x, y status) bool {
	for _, c := range w.crits {
		if c.gate() {
			continue
		}
		if b, clear := c.prefers(x, y); b && clear {
			return true
		}
		if b, clear := c.prefers(y, x); b && clear {
			return false
		}
	}
	return false
}

// anyEdge reports whether x is clearly better than y on some criterion.
func (w weighing) anyEdge(x, y status) bool {
	for _, c := range w.crits {
		if !c.gate() && c.edge(x, y) {
			return true
		}
	}
	return false
}

// outcome is the verdict's word: the first option's, or, where rivals or
// ties stand beside it, "trade-off:" (or "tie:" when no criterion tells
// them apart) and the options' words, sorted.
func (w weighing) outcome(word func(status) string) string {
	words := []string{word(w.within[0])}
	for _, s := range append(slices.Clone(w.rivals), w.tied...) {
		if x := word(s); !contains(words, x) {
			words = append(words, x)
		}
	}
	if len(words) == 1 {
		return words[0]
	}
	sort.Strings(words)
	if len(w.rivals) == 0 {
		return "tie:" + strings.Join(words, ",")
	}
	return "trade-off:" + strings.Join(words, ",")
}

// reason says why best ranks before other: the first criterion that
// clearly prefers it, with the figures of both.
func (w weighing) reason(best, other status) string {
	for _, c := range w.crits {
		if c.gate() {
			continue
		}
		if before, clear := c.prefers(best, other); !before || !clear {
			continue
		}
		switch c.kind {
		case byClaims:
			return fmt.Sprintf("first by its declared claims (%s, which `%s` does not declare)", strings.Join(c.only(best, other), ", "), other.scheme())
		case byRank:
			_, nb := c.rank(best.option)
			_, no := c.rank(other.option)
			return fmt.Sprintf("first as %s (the %s against `%s`'s %s)", c.words, nb, other.scheme(), no)
		}
		return fmt.Sprintf("first by %s (%s)", best.stat(c.label).what(), against(c.label, best, other))
	}
	return fmt.Sprintf("not told apart from `%s` by any criterion", other.scheme())
}

// edges say where x is clearly better than y, with the figures of both
// (the first such criterion only, when firstOnly).
func (w weighing) edges(x, y status, firstOnly bool) string {
	var parts []string
	for _, c := range w.crits {
		if c.gate() || !c.edge(x, y) {
			continue
		}
		switch c.kind {
		case byClaims:
			parts = append(parts, fmt.Sprintf("declares %s, which `%s` does not", strings.Join(c.only(x, y), ", "), y.scheme()))
		case byRank:
			_, nx := c.rank(x.option)
			_, ny := c.rank(y.option)
			parts = append(parts, fmt.Sprintf("is %s (the %s against the %s)", c.words, nx, ny))
		default:
			parts = append(parts, fmt.Sprintf("is lower on %s (%s)", x.stat(c.label).what(), against(c.label, x, y)))
		}
		if firstOnly {
			break
		}
	}
	return strings.Join(parts, " and ")
}

// against prints x's figure on label against y's, each with its scenario:
// "`file` +30.5ms [+28ms, +33ms] in review-jobs-nfs against `status`
// +55.8ms [..] in review-jobs-nfs".
func against(label string, x, y status) string {
	return cellOf(label, x) + " against " + cellOf(label, y)
}

// cellOf is s's figure on label in its worst scenario; the baseline's is
// 0 by definition.
func cellOf(label string, s status) string {
	st, r := s.statRow(label)
	if s.baseline {
		return fmt.Sprintf("`%s` %s (the baseline)", s.scheme(), fmtValue(0, st.Unit, st.Paired))
	}
	return fmt.Sprintf("`%s` %s in %s", s.scheme(), st.Cell(), r.Scenario)
}

// judgedShort is s's judged figure in its worst scenario, with the budget:
// "+1ms [0s, +3ms] at command p90 in review-cli, budget 50ms".
func judgedShort(s status) string {
	r := s.worst()
	if s.baseline {
		return fmt.Sprintf("the baseline, +0 by definition, %s", r.budgetWords())
	}
	st := r.judged()
	if !st.Valid {
		return "not measured"
	}
	return fmt.Sprintf("%s at %s in %s, %s", st.Cell(), st.what(), r.Scenario, r.budgetWords())
}

// choice is how a rule words its options and the verdict it reaches.
type choice struct {
	crits []criterion
	// word is an option's outcome word; pick is the recommendation that
	// names it ("keep one-job tokens in the `status` store").
	word, pick func(status) string
	// noun names the options ("store"); none is the outcome when no
	// option is within budget.
	noun, none string
}

// verdict weighs sts and words the verdict: the first option and why,
// the trade-offs beside it with the figures of both sides, the options
// over budget, excluded or undecided, and the criteria. An undecided
// option that would rank first were it within budget makes the verdict
// inconclusive; one that would stand beside the first (a rival, a tie)
// leaves it standing, but not decisive.
func (ch choice) verdict(sts []status) Verdict {
	w := weigh(sts, ch.crits)
	var v Verdict
	var details []string
	var first []status // undecided options that would rank first
	if len(w.within) > 0 {
		for _, u := range w.blocking {
			if w.less(u, w.within[0]) {
				first = append(first, u)
			}
		}
	}
	switch {
	case len(w.within) == 0 && len(w.undecided) > 0:
		v = inconclusive(w.undecided...)
		v.Text += "."
	case len(w.within) == 0:
		v = Verdict{Outcome: ch.none, Decisive: true, Text: "no " + ch.noun + " is within budget"}
		if low, ok := lowest(w.over); ok {
			v.Text += fmt.Sprintf(", the lowest being `%s` at %s", low.scheme(), judgedShort(low))
		} else if len(w.excluded) > 0 {
			v.Text += fmt.Sprintf(", as none of %s is a candidate", names(w.excluded))
		}
		v.Text += "."
	case len(first) > 0:
		best := w.within[0]
		v = inconclusive(first...)
		v.Text += fmt.Sprintf(". Within budget, %s would rank before `%s`, now the first within budget: %s.", names(first), best.scheme(), subject(best))
	default:
		best := w.within[0]
		v = Verdict{Outcome: w.outcome(ch.word), Decisive: len(w.blocking) == 0}
		sameWord := len(w.rivals) == 0
		for _, t := range w.tied {
			sameWord = sameWord && ch.word(t) == ch.word(best)
		}
		switch {
		case len(w.rivals) == 0 && len(w.tied) == 0:
			why := fmt.Sprintf("the only %s within budget", ch.noun)
			if len(w.within) > 1 {
				why = w.reason(best, w.within[1])
			}
			v.Text = fmt.Sprintf("%s (%s), %s", ch.pick(best), judgedShort(best), why)
		case sameWord:
			// Tied schemes that stand for the same option: the option wins.
			v.Text = fmt.Sprintf("%s (%s), tied with %s, which stand for the same option and no criterion tells apart", ch.pick(best), judgedShort(best), names(w.tied))
		default:
			var parts []string
			for _, r := range w.rivals {
				parts = append(parts, fmt.Sprintf("`%s` %s", r.scheme(), w.edges(r, best, true)))
			}
			for _, t := range w.tied {
				parts = append(parts, fmt.Sprintf("`%s` is not told apart from it by any criterion (%s)", t.scheme(), judgedShort(t)))
			}
			other := append(slices.Clone(w.rivals), w.tied...)[0]
			v.Text = fmt.Sprintf("no single %s wins, `%s` is %s, but %s", ch.noun, best.scheme(), w.reason(best, other), strings.Join(parts, "; "))
		}
		if len(w.over) > 0 {
			// What is over budget is part of the answer, not a detail.
			var over []string
			for _, s := range w.over {
				over = append(over, fmt.Sprintf("`%s` is over at %s", s.scheme(), judgedShort(s)))
			}
			v.Text += "; " + strings.Join(over, ", and ")
		}
		v.Text += ": " + subject(best) + "."
		for _, r := range w.rivals {
			details = append(details, fmt.Sprintf("%s; against `%s` it %s.", subject(r), best.scheme(), w.edges(r, best, false)))
		}
		for _, t := range w.tied {
			details = append(details, subject(t)+".")
		}
		details = append(details, w.others()...)
	}
	for _, s := range w.over {
		details = append(details, "Over budget: "+subject(s)+".")
	}
	for _, s := range w.excluded {
		for _, c := range w.crits {
			if !c.admits(s) {
				details = append(details, fmt.Sprintf("`%s` is no candidate: it declares %s, and a candidate must declare %s.", s.scheme(), claimList(s.claims()), strings.Join(c.claims, ", ")))
				break
			}
		}
	}
	if len(w.within) > 0 {
		for _, u := range w.undecided {
			if !slices.ContainsFunc(w.blocking, func(b status) bool { return b.scheme() == u.scheme() }) {
				details = append(details, fmt.Sprintf("`%s` is not decided yet, but within budget it would neither rank first nor better `%s` on any criterion.", u.scheme(), w.within[0].scheme()))
			}
		}
		if len(first) == 0 && len(w.blocking) > 0 {
			in := inconclusive(w.blocking...)
			details = append(details, "Not decided yet, and able to stand beside the first: "+strings.TrimPrefix(in.Text, "inconclusive, as ")+".")
			v.RoundsNeeded = in.RoundsNeeded
		}
	}
	v.Text = strings.Join(append(append([]string{v.Text}, details...), criteriaWords(ch.crits)), " ")
	return v
}

// others name each option within budget that is neither first, a rival
// nor tied, with its figure and why it stands aside: another is as good on
// every criterion and clearly better on one, or the first is clearly
// better on the criteria listed.
func (w weighing) others() []string {
	var out []string
	best := w.within[0]
	for _, s := range w.within[1:] {
		in := func(xs []status) bool {
			return slices.ContainsFunc(xs, func(x status) bool { return x.scheme() == s.scheme() })
		}
		if in(w.rivals) || in(w.tied) {
			continue
		}
		if w.anyEdge(s, best) {
			for _, r := range w.rivals {
				if !w.anyEdge(s, r) && w.anyEdge(r, s) {
					out = append(out, fmt.Sprintf("%s, within budget too, but `%s` is as good on every criterion and %s.", subject(s), r.scheme(), w.edges(r, s, false)))
					break
				}
			}
			continue
		}
		// best ranks before s, so it is clearly better on some criterion.
		out = append(out, fmt.Sprintf("%s, within budget too, but against it `%s` %s.", subject(s), best.scheme(), w.edges(best, s, false)))
	}
	return out
}

// subject is "`s` adds X to Y over `plain` in Z (budget B)", or what the
// baseline stands for.
func subject(s status) string {
	if s.baseline {
		return fmt.Sprintf("`%s` is the baseline, so it adds nothing by definition", s.scheme())
	}
	return fmt.Sprintf("`%s` %s", s.scheme(), summaryOf(s.worst()))
}

// claimList prints declared claims, "no claims" when there are none.
func claimList(cs []string) string {
	if len(cs) == 0 {
		return "no claims"
	}
	return strings.Join(cs, ", ")
}

// lowest is the status whose worst judged median is lowest.
func lowest(sts []status) (status, bool) {
	if len(sts) == 0 {
		return status{}, false
	}
	low := sts[0]
	for _, s := range sts[1:] {
		if s.worst().judged().CI.Center < low.worst().judged().CI.Center {
			low = s
		}
	}
	return low, true
}
