package review

import (
	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/vocab"
)

// Question is one design question, as data: which schemes it weighs and
// against what, from which scenarios, by which measures, and the rule that
// turns them into a verdict. Adding a question is one row in
// questions.go and its test.
type Question struct {
	// ID is short and stable ("Q-A/B").
	ID string
	// Title is the question as a design review asks it.
	Title string
	// Settles says what answers it.
	Settles string
	// Scenarios are those whose data may answer it (nil: any scenario).
	// Every scenario present counts: a candidate is within budget only
	// when it is within in each.
	Scenarios []string
	// Option picks the candidates, by parsed spec and declared claims, and
	// says what each stands for ("plan A", "per job", ...).
	Option func(sp vocab.Spec, c vocab.Claims) (option string, ok bool)
	// Baseline picks the scheme candidates are paired with in each
	// scenario (nil: the no-authentication baseline, plain).
	Baseline func(sp vocab.Spec, c vocab.Claims) bool
	// Requires are ops both a candidate and the baseline must have
	// recorded for a scenario to count.
	Requires []string
	// Measures are the figures shown per candidate; at most one names a
	// Budget and is judged.
	Measures []Measure
	// Rule turns the rows into the verdict.
	Rule func(a *Answer) Verdict
	// Need says what to run when no results answer the question.
	Need string
	// Alone judges each candidate on its own figures, with no baseline
	// to pair with (a flow only the candidate can run); its measures are
	// unpaired.
	Alone bool
	// Wire shows, per candidate, what an eavesdropper on the wire reads,
	// from the scheme's declared (and conformance-checked) claims.
	Wire bool
	// Notes, if set, adds notes computed from the answer and its
	// scenarios (Q-keys' growth with the live-key count).
	Notes func(a *Answer, scs []*scenario) []string
}

// Measure is one figure a question shows per candidate.
type Measure struct {
	// Label is its column heading.
	Label  string
	Figure figures.Figure
	// Paired takes the per-round difference against the baseline's round
	// of the same number.
	Paired bool
	// Budget is the kind of scenario budget (vocab.BudgetKinds, or
	// vocab.BudgetPython) the measure is judged against: the scenario's
	// budget of that kind, at the percentile its name gives; "" shows it
	// without judging.
	Budget string
	// Secondary marks a figure shown beside the question's own: per WFS
	// request where the question weighs a command or a job message. No
	// rule reads it.
	Secondary bool
}
