package review

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/figures"
	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stats"
	"github.com/authbench/authbench/vocab"
)

// Confidence is the confidence level of every interval in the review.
const Confidence = 0.95

// maxRounds bounds the estimate of the rounds a verdict needs.
const maxRounds = 200

// Model is the review computed from results, before rendering.
type Model struct {
	Questions []*Answer `json:"questions"`
	// Family allows for judging many rows at once.
	Family Family `json:"family"`
}

// FamilyAlpha is the family-wise error rate Holm's procedure holds the
// judged rows to: one side of the 95 % interval each row is judged by.
const FamilyAlpha = (1 - Confidence) / 2

// Family is what judging many rows at once does to their decisions. Each
// row's decision is a one-sided test at FamilyAlpha (its 95 % interval
// wholly on one side of its budget); over Judged rows some would be
// decided by chance alone, so Holm's step-down procedure keeps HolmKept of
// the Decided rows at a family-wise FamilyAlpha.
type Family struct {
	Judged   int `json:"judged"`
	Decided  int `json:"decided"`
	HolmKept int `json:"holm_kept"`
	// RoundsForAll are the rounds at which a row whose every round falls
	// on one side of its budget would survive Holm over Judged rows (its
	// p-value 2^-n at most FamilyAlpha/Judged).
	RoundsForAll int `json:"rounds_for_all,omitempty"`
	// Sequential is set when rounds were added until the verdicts were
	// decisive (run -until-decisive): the intervals make no allowance for
	// those repeated looks, so their error rate may exceed the nominal.
	Sequential bool `json:"sequential,omitempty"`
}

// Answer is one question's findings and verdict.
type Answer struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Settles string `json:"settles"`
	// Columns are the measures' labels, in the order of each row's Stats.
	Columns []string `json:"columns"`
	// Rows are the judged candidates: under the cylc model where any
	// scenario of the question ran it (the server as Cylc ships it), else
	// every row, with Server saying which model they hold for.
	Rows []*Row `json:"rows"`
	// Reference rows ran against another serving model (the fast server)
	// where judged rows ran against Cylc's: shown beside them, labelled,
	// never judged and never read by the rule.
	Reference []*Row `json:"reference,omitempty"`
	// Server is the serving model the judged rows ran against.
	Server string `json:"server,omitempty"`
	// Budgets are the budgets the rows were judged against, each with its
	// source, once each.
	Budgets []BudgetUse `json:"budgets,omitempty"`
	// Drains say, for each scenario of the judged rows that ran under the
	// cylc model, how many requests its WFS served per drain of its
	// socket: near 1, each request arrived alone into a sleeping server.
	Drains  []DrainUse `json:"drains,omitempty"`
	Verdict Verdict    `json:"verdict"`
	// Notes qualify the verdict; Need says what to run when the data does
	// not answer the question.
	Notes []string `json:"notes,omitempty"`
	// RealClients are the real clients measured in the judged rows'
	// scenarios' runs, beside authbench's Python stand-in there.
	RealClients []*RealClientUse `json:"real_clients,omitempty"`
	Need        string           `json:"need,omitempty"`
	Commands    []string         `json:"commands,omitempty"`
}

// DrainUse is a scenario's requests per drain under the cylc model: the
// WFS's requests over the drains that served any (median over its
// schemes' rounds, with the most one drain served).
type DrainUse struct {
	Scenario string  `json:"scenario"`
	PerDrain float64 `json:"per_drain"`
	MaxDrain float64 `json:"max_drain"`
}

// BudgetUse is one budget the rows of a question were judged against.
type BudgetUse struct {
	Scenario string  `json:"scenario"`
	Name     string  `json:"name"`
	Value    float64 `json:"value_ns"`
	// Source says where the figure comes from ("" when the scenario
	// states none).
	Source string `json:"source,omitempty"`
}

// Row is one candidate scheme in one scenario.
type Row struct {
	Scenario string `json:"scenario"`
	// Client is the real Python client its added time is stated against
	// (Options.PythonClient); nil: PythonClientCost.
	Client *ClientCost `json:"python_client,omitempty"`
	// Server is the serving model its rounds ran against.
	Server string `json:"server,omitempty"`
	Scheme string `json:"scheme"`
	// Option is what the candidate stands for in the question (plan A, a
	// job-token store, a key scope, ...).
	Option string `json:"option"`
	// Baseline is the scheme the paired measures are taken against.
	Baseline string `json:"baseline"`
	// Claims are the security properties the scheme declared.
	Claims []string `json:"claims"`
	// Wire is what an eavesdropper reads, from the claims (questions
	// with Wire set).
	Wire  string `json:"wire,omitempty"`
	Stats []Stat `json:"stats"`
	// Errors counts failed operations of the candidate in the rounds used.
	Errors int64 `json:"errors,omitempty"`
	// Judged is the index in Stats of the measure judged against the
	// budget (-1 when none is).
	Judged int     `json:"judged"`
	Budget float64 `json:"budget_ns,omitempty"`
	// BudgetName is the budget's name (it names the percentile judged).
	BudgetName string   `json:"budget_name,omitempty"`
	Decision   Decision `json:"decision,omitempty"`
	// RoundsNeeded estimates the rounds in all that would make an
	// inconclusive row decisive (0 when decisive, or when no number of
	// rounds would, as when the median sits on the budget).
	RoundsNeeded int `json:"rounds_needed,omitempty"`
	// P is the one-sided p-value of the decision (stats.DecisionP; 1 when
	// inconclusive), and HolmKept says whether a decision survives Holm's
	// procedure over every judged row of the review (Model.Family).
	P        float64 `json:"p"`
	HolmKept bool    `json:"holm_kept,omitempty"`
}

// Stat is one measure of a row: the median over rounds (of paired
// differences, when Paired) with its confidence interval.
type Stat struct {
	Label string `json:"label"`
	Unit  Unit   `json:"unit"`
	// Per is the unit of work the figure is divided by ("" for none).
	Per    figures.Work `json:"per,omitempty"`
	Tail   string       `json:"tail,omitempty"` // "p99" or "p90" for tail figures
	Paired bool         `json:"paired,omitempty"`
	// Secondary marks a figure shown beside the question's own (per WFS
	// request where the question weighs a command or a job message).
	Secondary bool           `json:"secondary,omitempty"`
	Valid     bool           `json:"valid"`
	CI        stats.Interval `json:"ci"`
	// Diffs are the per-round values the interval was formed from.
	Diffs []float64 `json:"values,omitempty"`
}

// Verdict is a question's answer.
type Verdict struct {
	// Outcome is a stable machine-readable word: the option chosen,
	// "neither", "inconclusive" or "no-data".
	Outcome string `json:"outcome"`
	Text    string `json:"text"`
	// Decisive is true when every interval the verdict rests on lies on
	// one side of its budget.
	Decisive bool `json:"decisive"`
	// RoundsNeeded estimates the rounds in all that would decide an
	// inconclusive verdict (0: unknown or decisive).
	RoundsNeeded int `json:"rounds_needed,omitempty"`
	// FlipBelow and FlipAbove are the nearest budgets below and above the
	// stated ones at which the verdict would change (nil: none would).
	FlipBelow *Flip `json:"flip_below,omitempty"`
	FlipAbove *Flip `json:"flip_above,omitempty"`
}

// Decision is a row's judgement against its budget.
type Decision string

// The decisions. A row whose operations failed is not judged.
const (
	Within       Decision = "within budget"
	Over         Decision = "over budget"
	Inconclusive Decision = "inconclusive"
	Failed       Decision = "not judged: operations failed"
	// Reference is a row of another serving model than the judged rows'.
	Reference Decision = "not judged: reference (another server model)"
	// NoBudget is a row whose scenario states no budget of the kind the
	// question judges.
	NoBudget Decision = "not judged: the scenario states no budget"
)

// decide judges iv against budget: the whole interval must lie on one side.
func decide(iv stats.Interval, budget float64) Decision {
	switch stats.Decide(iv, budget) {
	case stats.Within:
		return Within
	case stats.Over:
		return Over
	}
	return Inconclusive
}

// Options tune Evaluate.
type Options struct {
	// Questions is the catalogue (Catalogue() when nil).
	Questions []*Question
	// Capacity holds capacity searches whose knees are shown beside the
	// cost; optional.
	Capacity []*results.CapacityRun
	// WLCG is the site whose transfer rate and queue waits the issuer load
	// model is computed at for Q-wlcg, at each access-token lifetime it
	// names; optional.
	WLCG *issuerload.Site
	// PythonClient is what a real `cylc message` was measured to take
	// (authbench calibrate -cylc); added times are stated against it.
	// Without it they are stated against PythonClientCost, cylc-flow PR
	// 5790's figure.
	PythonClient *ClientCost
}

// ClientCost is a real Python client's time per call and where it comes
// from; SameRun is set when it was measured in the run the row's figures
// come from (RealClientUse).
type ClientCost struct {
	Cost    time.Duration `json:"cost_ns"`
	Source  string        `json:"source"`
	SameRun bool          `json:"same_run,omitempty"`
}

// Evaluate computes the review of runs. It fails on results it cannot
// group (figures.Collect).
func Evaluate(runs []*results.Run, opts Options) (*Model, error) {
	qs := opts.Questions
	if qs == nil {
		qs = Catalogue()
	}
	scs, err := collect(runs)
	if err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	attachRealClients(scs, runs)
	m := &Model{}
	for _, q := range qs {
		a := q.answer(scs, opts.Capacity, opts.PythonClient)
		if q.ID == "Q-wlcg" && opts.WLCG != nil {
			a.Notes = append(a.Notes, wlcgSiteNotes(opts.WLCG)...)
		}
		m.Questions = append(m.Questions, a)
	}
	m.Family = family(m.Questions)
	for _, run := range runs {
		m.Family.Sequential = m.Family.Sequential || run.Stop != ""
	}
	return m, nil
}

// family applies Holm's procedure to every judged row of qs, setting each
// decided row's HolmKept.
func family(qs []*Answer) Family {
	var rows []*Row
	var ps []float64
	for _, a := range qs {
		for _, r := range a.Rows {
			if r.Judged < 0 || r.Decision == Failed || r.Decision == "" {
				continue
			}
			rows = append(rows, r)
			ps = append(ps, r.P)
		}
	}
	f := Family{Judged: len(rows)}
	for i, kept := range stats.Holm(ps, FamilyAlpha) {
		r := rows[i]
		if r.Decision == Within || r.Decision == Over {
			f.Decided++
			r.HolmKept = kept
			if kept {
				f.HolmKept++
			}
		}
	}
	if f.Judged > 0 {
		f.RoundsForAll = int(math.Ceil(math.Log2(float64(f.Judged) / FamilyAlpha)))
	}
	return f
}

// Decisive reports whether every question the data can answer has a
// decisive verdict, and lists those that do not.
func (m *Model) Decisive() (bool, []string) {
	var pending []string
	for _, a := range m.Questions {
		if a.Verdict.Outcome != "no-data" && !a.Verdict.Decisive {
			pending = append(pending, a.ID)
		}
	}
	return len(pending) == 0, pending
}

// answer evaluates q over the scenarios.
func (q *Question) answer(scs []*scenario, caps []*results.CapacityRun, client *ClientCost) *Answer {
	a := &Answer{ID: q.ID, Title: q.Title, Settles: q.Settles}
	for _, m := range q.Measures {
		a.Columns = append(a.Columns, m.Label)
	}
	for _, sc := range scs {
		if len(q.Scenarios) > 0 && !contains(q.Scenarios, sc.name) {
			continue
		}
		var base *scheme
		if !q.Alone {
			if base = q.baseline(sc); base == nil {
				continue
			}
		}
		added := false
		for _, s := range sc.schemes {
			if s == base || !s.known {
				continue
			}
			opt, ok := q.Option(s.spec, s.claims)
			if !ok || !hasOps(s, q.Requires) || (base != nil && !hasOps(base, q.Requires)) {
				continue
			}
			r := q.row(sc, s, base, opt)
			r.Client = client
			if sc.real.ok() {
				r.Client = sc.real.clientCost()
			}
			a.Rows = append(a.Rows, r)
			added = true
		}
		if added {
			for _, c := range sc.commands {
				if !contains(a.Commands, c) {
					a.Commands = append(a.Commands, c)
				}
			}
		}
	}
	a.Rows, a.Reference, a.Server = splitByServer(a.Rows)
	a.Budgets = budgetUses(a.Rows, scs)
	a.Drains = drainUses(a.Rows, scs)
	if q.Notes != nil {
		a.Notes = append(a.Notes, q.Notes(a, scs)...)
	}
	if len(a.Rows) == 0 {
		a.Verdict = Verdict{Outcome: "no-data", Text: "not answered by these results."}
		a.Need = q.Need
		return a
	}
	if knees := kneeNote(a, caps); knees != "" {
		a.Notes = append(a.Notes, knees)
	}
	if !q.Alone {
		a.Notes = append(a.Notes, issuerNotes(a, scs)...)
	}
	a.Verdict = q.Rule(a)
	a.Verdict.FlipBelow, a.Verdict.FlipAbove = q.flips(a)
	a.Notes = append(a.Notes, realClientFallbacks(a, scs)...)
	a.RealClients = q.realClientUses(a, scs)
	if !q.Alone {
		a.Verdict.Text += " " + fsClause(a, scs)
	}
	return a
}

// baseline returns the scheme sc's candidates are paired with.
func (q *Question) baseline(sc *scenario) *scheme {
	is := q.Baseline
	if is == nil {
		is = isPlain
	}
	for _, s := range sc.schemes {
		if s.known && is(s.spec, s.claims) {
			return s
		}
	}
	return nil
}

// isPlain is the no-authentication baseline: no credential, no claims.
func isPlain(sp vocab.Spec, c vocab.Claims) bool {
	return sp.Credential == "" && c == (vocab.Claims{})
}

// hasOps reports whether s recorded every op in some round.
func hasOps(s *scheme, ops []string) bool {
	for _, op := range ops {
		found := false
		for _, r := range s.rounds {
			if o := r.Op(op); o != nil && o.Count > 0 {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// row measures candidate s against base in sc.
func (q *Question) row(sc *scenario, s, base *scheme, opt string) *Row {
	r := &Row{Scenario: sc.name, Server: sc.server, Scheme: s.name, Option: opt, Judged: -1, P: 1}
	if base != nil {
		r.Baseline = base.name
	}
	names := vocab.ClaimNames()
	for i, on := range s.claims.List() {
		if on {
			r.Claims = append(r.Claims, names[i])
		}
	}
	if q.Wire {
		r.Wire = eavesdropper(r.Claims)
	}
	for _, rn := range s.roundNumbers() {
		for _, o := range s.rounds[rn].Ops {
			if !strings.HasSuffix(o.Name, "send_lag") {
				r.Errors += o.ErrorCount()
			}
		}
	}
	for i, m := range q.Measures {
		name, pct := sc.budgetOf(m.Budget)
		st := m.stat(s, base, pct)
		r.Stats = append(r.Stats, st)
		if m.Budget == "" {
			continue
		}
		r.Judged = i
		b, ok := sc.budgets[name]
		if !ok {
			r.Decision = NoBudget
			continue
		}
		if !st.Valid {
			r.Decision = Inconclusive
			continue
		}
		r.Budget, r.BudgetName = b, name
		r.Decision = decide(st.CI, b)
		r.P = stats.DecisionP(st.Diffs, b, stats.Decide(st.CI, b))
		if r.Decision == Inconclusive {
			if n, ok := stats.RoundsToDecide(st.Diffs, b, Confidence, maxRounds); ok {
				r.RoundsNeeded = n
			}
		}
	}
	if r.Errors > 0 && r.Judged >= 0 && r.Decision != NoBudget {
		// A scheme whose operations failed is not within any budget.
		r.Decision = Failed
		r.RoundsNeeded = 0
	}
	return r
}

// budgetOf is the name and percentile of sc's budget of kind ("", 0 when
// sc states none).
func (sc *scenario) budgetOf(kind string) (string, float64) {
	if kind == "" {
		return "", 0
	}
	for name := range sc.budgets {
		if k, p, err := vocab.ParseBudgetName(name); err == nil && k == kind {
			return name, p
		}
	}
	return "", 0
}

// stat evaluates m for s (paired with base when m.Paired). A tail figure
// is taken at pct when it is set (the percentile its budget names; too few
// operations in a round for it leave the stat invalid), else at p99, or
// p90 where a round had fewer than 1,000 operations.
func (m Measure) stat(s, base *scheme, pct float64) Stat {
	st := Stat{Label: m.Label, Unit: m.Figure.Unit, Per: m.Figure.Per, Paired: m.Paired, Secondary: m.Secondary}
	tail := 99.0
	if op := m.Figure.TailOp; op != "" {
		fewest := minOps(s, op)
		if m.Paired && base != nil {
			fewest = min(fewest, minOps(base, op))
		}
		switch {
		case pct > 0:
			tail = pct
			st.Tail = "p" + strconv.FormatFloat(pct, 'f', -1, 64)
			if fewest < results.MinOps(pct) {
				return st
			}
		case fewest < results.MinOps(99):
			tail = 90
			st.Tail = "p90"
		default:
			st.Tail = "p99"
		}
	}
	vals := func(x *scheme) map[int]float64 {
		out := map[int]float64{}
		for n, r := range x.rounds {
			if v, ok := m.Figure.Value(r, tail); ok {
				out[n] = v
			}
		}
		return out
	}
	var diffs []float64
	if m.Paired && base != nil {
		diffs = stats.Paired(vals(s), vals(base))
	} else {
		v := vals(s)
		for _, n := range s.roundNumbers() {
			if x, ok := v[n]; ok {
				diffs = append(diffs, x)
			}
		}
	}
	if len(diffs) == 0 {
		return st
	}
	st.Valid = true
	st.Diffs = diffs
	st.CI = stats.MedianCI(diffs, Confidence)
	return st
}

// minOps is the fewest successful op of any round of s.
func minOps(s *scheme, op string) int64 {
	rs := make([]*results.Result, 0, len(s.rounds))
	for _, r := range s.rounds {
		rs = append(rs, r)
	}
	return figures.FewestOps(rs, op)
}
