package review

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/stats"
)

// copt is one option of a synthetic answer: a scheme, what it stands for,
// its declared claims and its figures by measure label (paired figures are
// differences against the baseline; durations in ns).
type copt struct {
	scheme, option string
	claims         []string
	figs           map[string]float64
}

// cspread is each synthetic figure's half-interval: a twentieth of it, so
// that figures 2× apart never overlap.
func cspread(v float64) float64 { return math.Abs(v) / 20 }

// canswer builds q's rows from opts in one scenario, as Question.row
// would: a Stat per measure (invalid where opts give no figure), the
// judged one decided against budget.
func canswer(t *testing.T, id, baseline string, budget time.Duration, opts ...copt) *Answer {
	t.Helper()
	var q *Question
	for _, x := range Catalogue() {
		if x.ID == id {
			q = x
		}
	}
	if q == nil {
		t.Fatalf("no question %s", id)
	}
	a := &Answer{ID: q.ID}
	for _, o := range opts {
		r := &Row{Scenario: "review-x", Scheme: o.scheme, Option: o.option, Baseline: baseline, Claims: o.claims, Judged: -1, P: 1}
		for i, m := range q.Measures {
			st := Stat{Label: m.Label, Unit: m.Figure.Unit, Paired: m.Paired, Secondary: m.Secondary}
			if m.Figure.TailOp != "" {
				st.Tail = "p90"
			}
			if v, ok := o.figs[m.Label]; ok {
				sp := cspread(v)
				st.Valid = true
				st.CI = stats.Interval{Center: v, Lo: v - sp, Hi: v + sp, Confidence: 0.965, N: 8, Exact: sp == 0}
			}
			r.Stats = append(r.Stats, st)
			if m.Budget != "" {
				r.Judged, r.Budget = i, float64(budget)
				r.Decision = Inconclusive
				if st.Valid {
					r.Decision = decide(st.CI, r.Budget)
				}
			}
		}
		a.Rows = append(a.Rows, r)
	}
	return a
}

// criterionKey names what a criterion reads, for pinning a rule's list.
func criterionKey(c criterion) string {
	switch c.kind {
	case byBudget:
		return "budget " + c.label
	case byClaimsGate:
		return "declared " + strings.Join(c.claims, ",")
	case byLower:
		return "lower " + c.label
	case byClaims:
		return strings.TrimSpace("claims " + strings.Join(c.claims, ","))
	}
	return "rank"
}

// pick is a unless reversed, then b.
func pick(reversed bool, a, b float64) float64 {
	if reversed {
		return b
	}
	return a
}

// withClaim adds c to cs when on.
func withClaim(cs []string, on bool, c string) []string {
	if on {
		return append(cs, c)
	}
	return cs
}

// TestEveryCriterionReversed feeds each rule an answer in which one option
// wins every criterion, then answers with each criterion reversed (the
// other option wins it: over budget instead of within, more files, more
// CPU, the other's claims, the coarser point), and all of them reversed at
// once. Every reversal must change the verdict's words and, unless the
// case says why not, its outcome; the words must name the judged figure of
// every row fed, and a reversed figure criterion's figures for both sides.
func TestEveryCriterionReversed(t *testing.T) {
	const us, ms = float64(time.Microsecond), float64(time.Millisecond)
	lat := func(rev, gate bool, x, y float64) (float64, float64) {
		a, b := pick(rev, x, y), pick(rev, y, x)
		if gate {
			a = 80 * ms // over a 50 ms budget
		}
		return a, b
	}
	cases := []struct {
		id    string
		crits []criterion
		// base is the scheme the rows are paired with ("" for plain).
		base   string
		budget time.Duration
		build  func(rev func(int) bool) []copt
		// same says, per criterion, why reversing it alone may leave the
		// outcome as it is.
		same map[int]string
		// want pins the criteria the build reverses (criterionKey), so a
		// rule that drops or reorders one fails here.
		want []string
	}{
		{id: "Q-A/B", crits: planCriteria(), want: []string{"budget command {tail}", "lower WFS CPU/command", "lower requests/command", "lower file ops/command", "claims"}, build: func(rev func(int) bool) []copt {
			xl, yl := lat(false, rev(0), 10*ms, 20*ms)
			return []copt{
				{"jwt:command", "A", withClaim([]string{"authn"}, !rev(4), "replay-proof"), map[string]float64{
					"command {tail}": xl, "WFS CPU/command": pick(rev(1), 100*us, 300*us), "requests/command": pick(rev(2), 1, 2), "file ops/command": pick(rev(3), 1, 3)}},
				{"jwt:shared=10s", "B1 (shared)", withClaim([]string{"authn"}, rev(4), "replay-proof"), map[string]float64{
					"command {tail}": yl, "WFS CPU/command": pick(rev(1), 300*us, 100*us), "requests/command": pick(rev(2), 2, 1), "file ops/command": pick(rev(3), 3, 1)}},
			}
		}},
		{id: "Q-job", crits: jobStoreCriteria(), want: []string{"budget message {tail}", "lower files created/job", "lower peak live files", "lower fsyncs/job", "lower WFS CPU/job message", "lower message {tail}"}, build: func(rev func(int) bool) []copt {
			xl, yl := lat(rev(5), rev(0), 10*ms, 30*ms)
			return []copt{
				{"jwt:job=file", "file", []string{"authn", "job-revoke"}, map[string]float64{
					"message {tail}": xl, "files created/job": pick(rev(1), 1, 2), "peak live files": pick(rev(2), 10, 30), "fsyncs/job": pick(rev(3), 1, 3), "WFS CPU/job message": pick(rev(4), 100*us, 300*us)}},
				{"jwt:job=status", "status", []string{"authn", "job-revoke"}, map[string]float64{
					"message {tail}": yl, "files created/job": pick(rev(1), 2, 1), "peak live files": pick(rev(2), 30, 10), "fsyncs/job": pick(rev(3), 3, 1), "WFS CPU/job message": pick(rev(4), 300*us, 100*us)}},
			}
		}},
		{id: "Q10", crits: q10Criteria(), want: []string{"budget message {tail}", "lower files created/job", "lower WFS CPU/job message", "lower message {tail}"}, build: func(rev func(int) bool) []copt {
			xl, yl := lat(rev(3), rev(0), 10*ms, 30*ms)
			return []copt{
				{"jwt:job=file", "2i", []string{"authn", "job-revoke"}, map[string]float64{
					"message {tail}": xl, "files created/job": pick(rev(1), 1, 2), "WFS CPU/job message": pick(rev(2), 100*us, 300*us)}},
				{"jwt:command", "1i", []string{"authn", "replay-proof"}, map[string]float64{
					"message {tail}": yl, "files created/job": pick(rev(1), 2, 1), "WFS CPU/job message": pick(rev(2), 300*us, 100*us)}},
			}
		}},
		{id: "Q-curve", crits: curveCriteria(), want: []string{"budget command {tail}", "lower WFS CPU/command", "lower command {tail}", "claims confidential,reply-confidential"}, build: func(rev func(int) bool) []copt {
			// Against the baseline (0 by definition) a reversed figure
			// changes sign: CURVE costs instead of saving.
			l := pick(rev(2), -5*ms, 5*ms)
			if rev(0) {
				l = 80 * ms
			}
			return []copt{{"curve", "per install target", withClaim(withClaim([]string{"authn"}, !rev(3), "confidential"), !rev(3), "reply-confidential"), map[string]float64{
				"command {tail}": l, "WFS CPU/command": pick(rev(1), -100*us, 100*us)}}}
		}, same: map[int]string{3: "plain declares no claims, so a CURVE that declares none ties with it on claims and still wins on cost"}},
		{id: "Q-keys", crits: keysCriteria(), want: []string{"budget message {tail}", "lower WFS CPU/job message", "lower files created/job", "lower peak live files", "lower message {tail}", "claims job-revoke"}, base: "curve", build: func(rev func(int) bool) []copt {
			l := pick(rev(4), -5*ms, 5*ms)
			if rev(0) {
				l = 80 * ms
			}
			return []copt{{"curve-job", "per job", withClaim([]string{"authn", "confidential"}, !rev(5), "job-revoke"), map[string]float64{
				"message {tail}": l, "WFS CPU/job message": pick(rev(1), -100*us, 100*us), "files created/job": pick(rev(2), -1, 1), "peak live files": pick(rev(3), -10, 10)}}}
		}, same: map[int]string{5: "per-target keys declare no job-revoke, so per-job keys that do not either tie with them on claims and still win on cost"}},
		{id: "Q-jose", crits: joseCriteria(), want: []string{"declared confidential", "budget command {tail}", "claims reply-confidential", "lower WFS CPU/command", "lower bytes added/request", "lower command {tail}"}, build: func(rev func(int) bool) []copt {
			xl, yl := lat(rev(5), rev(1), 10*ms, 30*ms)
			return []copt{
				{"curve", "transport", withClaim(withClaim([]string{"authn"}, !rev(0), "confidential"), !rev(2), "reply-confidential"), map[string]float64{
					"command {tail}": xl, "WFS CPU/command": pick(rev(3), 100*us, 300*us), "bytes added/request": pick(rev(4), 10, 400)}},
				{"jwe", "sealed token", withClaim([]string{"authn", "confidential"}, rev(2), "reply-confidential"), map[string]float64{
					"command {tail}": yl, "WFS CPU/command": pick(rev(3), 300*us, 100*us), "bytes added/request": pick(rev(4), 400, 10)}},
			}
		}},
		{id: "Q-python", crits: pythonCriteria(), want: []string{"budget process p50"}, budget: 120 * time.Millisecond, build: func(rev func(int) bool) []copt {
			return []copt{{"curve", "authenticated", []string{"authn", "confidential"}, map[string]float64{"process p50": pick(rev(0), 5*ms, 300*ms)}}}
		}},
		{id: "Q5", crits: scaleCriteria(), want: []string{"budget message {tail}", "rank", "lower files created/job", "lower fsyncs/job", "lower WFS CPU/job message", "lower message {tail}"}, build: func(rev func(int) bool) []copt {
			// Reversing the scale puts the other option at a finer point
			// than the task (the job) instead of a coarser one.
			x, y := copt{"jwt:task", "4. task", []string{"authn"}, nil}, copt{"jwt:cycle", "3. cycle point", []string{"authn"}, nil}
			if rev(1) {
				y = copt{"jwt:job=file", "5. job", []string{"authn", "job-revoke"}, nil}
			}
			xl, yl := lat(rev(5), rev(0), 10*ms, 30*ms)
			x.figs = map[string]float64{"message {tail}": xl, "files created/job": pick(rev(2), 1, 2), "fsyncs/job": pick(rev(3), 1, 3), "WFS CPU/job message": pick(rev(4), 100*us, 300*us)}
			y.figs = map[string]float64{"message {tail}": yl, "files created/job": pick(rev(2), 2, 1), "fsyncs/job": pick(rev(3), 3, 1), "WFS CPU/job message": pick(rev(4), 300*us, 100*us)}
			return []copt{x, y}
		}},
	}
	rules := map[string]func(*Answer) Verdict{}
	for _, q := range Catalogue() {
		rules[q.ID] = q.Rule
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			budget := tc.budget
			if budget == 0 {
				budget = 50 * time.Millisecond
			}
			base := tc.base
			if base == "" {
				base = "plain"
			}
			run := func(rev func(int) bool) (*Answer, Verdict) {
				a := canswer(t, tc.id, base, budget, tc.build(rev)...)
				return a, rules[tc.id](a)
			}
			var keys []string
			for _, c := range tc.crits {
				keys = append(keys, criterionKey(c))
			}
			if strings.Join(keys, "; ") != strings.Join(tc.want, "; ") {
				t.Fatalf("criteria %q, want %q (the build reverses those)", keys, tc.want)
			}
			_, v0 := run(func(int) bool { return false })
			if v0.Outcome == "inconclusive" || !strings.Contains(v0.Text, criteriaWords(tc.crits)) {
				t.Fatalf("the unreversed answer: %s: %s", v0.Outcome, v0.Text)
			}
			variants := []struct {
				name string
				rev  func(int) bool
				crit int // the criterion reversed alone, -1 for all
			}{{"all reversed", func(int) bool { return true }, -1}}
			for i := range tc.crits {
				variants = append(variants, struct {
					name string
					rev  func(int) bool
					crit int
				}{fmt.Sprintf("criterion %d (%s) reversed", i+1, tc.crits[i].words), func(j int) bool { return j == i }, i})
			}
			for _, vr := range variants {
				a, v := run(vr.rev)
				if v.Text == v0.Text {
					t.Errorf("%s: the words did not change: %s", vr.name, v.Text)
				}
				if _, ok := tc.same[vr.crit]; v.Outcome == v0.Outcome && !ok {
					t.Errorf("%s: the outcome stayed %q: %s", vr.name, v.Outcome, v.Text)
				}
				if v.Outcome == "inconclusive" {
					t.Errorf("%s: inconclusive on decided rows: %s", vr.name, v.Text)
				}
				for _, r := range a.Rows {
					if strings.Contains(v.Text, "`"+r.Scheme+"` is no candidate") {
						continue
					}
					// Unsigned: a saving reads "it measured 5ms lower".
					st := r.judged()
					if f := fmtValue(math.Abs(st.CI.Center), st.Unit, false); !strings.Contains(v.Text, f) {
						t.Errorf("%s: the words lack `%s`'s judged figure %s: %s", vr.name, r.Scheme, f, v.Text)
					}
				}
				if vr.crit < 0 || tc.crits[vr.crit].kind != byLower {
					continue
				}
				for _, r := range a.Rows {
					st := r.stat(tc.crits[vr.crit].label)
					if f := st.Cell(); !strings.Contains(v.Text, f) {
						t.Errorf("%s: the words lack `%s`'s %s, %s: %s", vr.name, r.Scheme, st.what(), f, v.Text)
					}
				}
			}
		})
	}
}

// TestCriteriaNamed: every verdict of every rule but Q-wlcg's names its
// rule's criteria, in order, whatever the data.
func TestCriteriaNamed(t *testing.T) {
	crits := map[string][]criterion{
		"Q-A/B": planCriteria(), "Q-job": jobStoreCriteria(), "Q10": q10Criteria(), "Q-curve": curveCriteria(),
		"Q-keys": keysCriteria(), "Q-jose": joseCriteria(), "Q-python": pythonCriteria(), "Q5": scaleCriteria(),
	}
	seen := map[string]bool{}
	cli, job := "review-cli", "review-jobs"
	cmd, msg := opCommand, opMessage
	for _, run := range []*builder{
		newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, rounds(6, 10*ms, steady(1*ms), fig{})...).add(cli, curve, cmd, rounds(6, 10*ms, wide(40*ms), fig{})...).add(cli, jwe, cmd, rounds(6, 10*ms, steady(80*ms), fig{})...),
		newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, rounds(6, 10*ms, steady(1*ms), fig{files: 1})...).add(job, planA, msg, rounds(6, 10*ms, steady(80*ms), fig{})...).add("review-scale", plain, msg, base(6)...).add("review-scale", jwt, msg, rounds(6, 10*ms, steady(1*ms), fig{})...),
		newRun(budgets).add(job, curve, msg, base(6)...).add(job, curveJob, msg, rounds(6, 10*ms, steady(1*ms), fig{files: 1})...).add("python-message", plain, opPyProc, base(6)...).add("python-message", curve, opPyProc, rounds(6, 10*ms, steady(1*ms), fig{})...),
	} {
		m := evaluate(t, []*results.Run{run.run}, Options{})
		for _, a := range m.Questions {
			cs, ok := crits[a.ID]
			if !ok || a.Verdict.Outcome == "no-data" {
				continue
			}
			seen[a.ID] = true
			if !strings.Contains(a.Verdict.Text, criteriaWords(cs)) {
				t.Errorf("%s (%s) does not name its criteria: %s", a.ID, a.Verdict.Outcome, a.Verdict.Text)
			}
		}
	}
	for id := range crits {
		if !seen[id] {
			t.Errorf("no run answered %s", id)
		}
	}
}
