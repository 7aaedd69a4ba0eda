package review

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

var budgets = map[string]time.Duration{
	vocab.BudgetName(budgetCommand, 90):        50 * ms,
	vocab.BudgetName(budgetMessage, 90):        50 * ms,
	budgetPython:                               120 * ms,
	vocab.BudgetName(budgetTransferTokens, 90): 50 * ms,
}

// TestVerdictBranches reaches every branch of every rule on small
// synthetic results: six rounds a scheme, the baseline at 10 ms, each
// candidate at 10 ms plus a per-round difference (steady: within 5 ms of
// its centre; wide: ±100 ms around it). The budget is 50 ms.
func TestVerdictBranches(t *testing.T) {
	const cli, job, flow, scale = "review-cli", "review-jobs", "wlcg-transfer-user", "review-scale"
	wfTok := tscheme{"jwt", authn}
	taskTok := tscheme{"jwt:task", authn}
	cycleTok := tscheme{"jwt:cycle", authn}
	flowStats := map[string]float64{statRoundTrips: 3, statClientCreds: 1, statExchanges: 2, statAccessStored: 2, statRefreshStored: 1}
	cmd, msg := vocab.OpCLICommand, vocab.OpJobMessage
	within := func(f fig) []fig { return rounds(6, 10*ms, steady(1*ms), f) }
	over := func(f fig) []fig { return rounds(6, 10*ms, steady(80*ms), f) }
	straddle := func(f fig) []fig { return rounds(6, 10*ms, wide(40*ms), f) }
	cases := []struct {
		name     string
		question string
		run      *builder
		outcome  string
		decisive bool
		text     []string // fragments the verdict must contain
	}{
		// Q-A/B: the command budget, then costs per command, then claims.
		{"plan A within", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, within(fig{})...).add(cli, planB1, cmd, within(fig{})...),
			"plan-a", true, []string{"choose plan A (`jwt:command`) (+1.5ms [-999µs, +4ms] at command p90 in review-cli, budget 50ms)", "first by its declared claims (replay-proof, which `jwt:shared=10s` does not declare)", "Criteria, in order"}},
		// Plan A makes two requests per command: a plan B that costs less
		// per command is a trade-off against what plan A declares.
		{"plan A dearer, declares more", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, within(fig{cpu: 400 * time.Microsecond, reqs: 2})...).add(cli, planB1, cmd, within(fig{})...),
			"trade-off:plan-a,plan-b", true, []string{"no single scheme wins, `jwt:shared=10s` is first by WFS CPU/command (`jwt:shared=10s` +0s in review-cli against `jwt:command` +200µs in review-cli)", "`jwt:command` declares replay-proof, which `jwt:shared=10s` does not"}},
		// A plan B that declares what plan A does and costs the same per
		// command is not told apart from it: its lower latency within the
		// budget is no criterion of Q-A/B.
		{"plan A within, B as safe and faster", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, rounds(6, 10*ms, steady(25*ms), fig{})...).add(cli, tscheme{"jwt:shared=10s", planA.claims}, cmd, rounds(6, 10*ms, steady(5*ms), fig{})...),
			"tie:plan-a,plan-b", true, []string{"not told apart from it by any criterion", "+25.5ms", "+5.51ms"}},
		{"plan A alone", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, within(fig{})...),
			"plan-a", true, []string{"the only scheme within budget"}},
		{"plan A over, B within", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, over(fig{})...).add(cli, planB2, cmd, within(fig{})...),
			"plan-b", true, []string{"choose plan B (`jwt:timed=60s/6s`)", "`jwt:command` is over at +80.5ms [+78ms, +83.1ms] at command p90", "adds +80.5ms to command p90"}},
		{"both over", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, over(fig{})...).add(cli, planB1, cmd, over(fig{})...),
			"neither", true, []string{"no scheme is within budget, the lowest being"}},
		{"plan A straddles", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, straddle(fig{})...).add(cli, planB1, cmd, within(fig{})...),
			"inconclusive", false, []string{"straddles the budget", "`jwt:command` (+40ms [-10ms, +140ms] at command p90", "would rank before `jwt:shared=10s`"}},
		{"no plan A", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planB1, cmd, within(fig{})...),
			"inconclusive", false, []string{"is a plan-A scheme"}},
		{"plan A failed", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, planA, cmd, within(fig{errs: 3})...).add(cli, planB1, cmd, within(fig{})...),
			"inconclusive", false, []string{"operations failed", "(18 failed in review-cli)"}},
		{"too few rounds", "Q-A/B", newRun(budgets).add(cli, plain, cmd, base(3)...).add(cli, planA, cmd, rounds(3, 10*ms, steady(1*ms), fig{})...),
			"inconclusive", false, []string{"about 6 rounds"}},
		// Q-job: files decide among stores within budget, ties go to live
		// files; a store with fewer files but more latency is a trade-off.
		{"fewest files", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, within(fig{files: 2, peak: 200})...).add(job, jobComb, msg, within(fig{files: 3, peak: 300})...),
			"file", true, []string{"`file` store", "first by files created/job (`jwt:job=file` +2 in review-jobs against `jwt:job=combined` +3 in review-jobs)"}},
		{"fewer files, more latency", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobStat, msg, rounds(6, 10*ms, steady(40*ms), fig{files: 1})...).add(job, jobFile, msg, rounds(6, 10*ms, steady(20*ms), fig{files: 2})...),
			"trade-off:file,status", true, []string{"no single store wins, `jwt:job=status` is first by files created/job (`jwt:job=status` +1 in review-jobs against `jwt:job=file` +2 in review-jobs)", "`jwt:job=file` is lower on message p90 (`jwt:job=file` +20.5ms [+18ms, +23ms] in review-jobs against `jwt:job=status` +40.5ms [+38ms, +43ms] in review-jobs)"}},
		{"files tie, fewer live", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, within(fig{files: 2, peak: 300})...).add(job, jobStat, msg, within(fig{files: 2, peak: 200})...),
			"status", true, []string{"`status` store", "first by peak live files (`jwt:job=status` +200"}},
		{"best store over budget", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, over(fig{files: 1})...).add(job, jobComb, msg, within(fig{files: 3})...),
			"combined", true, []string{"`combined` store"}},
		{"every store over", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, over(fig{files: 1})...),
			"neither", true, []string{"no store is within"}},
		{"stores undecided", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, straddle(fig{files: 1})...),
			"inconclusive", false, []string{"straddles"}},
		{"one store decided, one not", "Q-job", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, straddle(fig{files: 1})...).add(job, jobComb, msg, within(fig{files: 3})...),
			"inconclusive", false, []string{"would rank before `jwt:job=combined`"}},
		// Q5: the finest point within budget; a finer one undecided keeps
		// it open; a coarser one with fewer files is a trade-off.
		{"task finest within", "Q5", newRun(budgets).add(scale, plain, msg, base(6)...).add(scale, wfTok, msg, within(fig{files: 1})...).add(scale, taskTok, msg, within(fig{files: 1})...).add(scale, jobFile, msg, over(fig{files: 1})...),
			"task", true, []string{"put tokens at the task (`jwt:task`)", "first as the finer point of the scale", "retries included", "job (`jwt:job=file`): over"}},
		{"coarser point fewer files", "Q5", newRun(budgets).add(scale, plain, msg, base(6)...).add(scale, wfTok, msg, within(fig{})...).add(scale, taskTok, msg, within(fig{files: 1})...),
			"trade-off:task,workflow", true, []string{"`jwt:task` is first as the finer point", "`jwt` is lower on files created/job (`jwt` +0 in review-scale against `jwt:task` +1 in review-scale)"}},
		{"finer point undecided", "Q5", newRun(budgets).add(scale, plain, msg, base(6)...).add(scale, cycleTok, msg, within(fig{})...).add(scale, planA, msg, straddle(fig{files: 2})...),
			"inconclusive", false, []string{"would rank before `jwt:cycle`", "`jwt:command`"}},
		{"no point within", "Q5", newRun(budgets).add(scale, plain, msg, base(6)...).add(scale, wfTok, msg, over(fig{})...),
			"none", true, []string{"no point of the scale"}},
		// Q10.
		{"2i", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, planA, msg, within(fig{files: 4})...).add(job, jobFile, msg, within(fig{files: 2})...),
			"2i", true, []string{"like remote jobs (2i, `jwt:job=file`)"}},
		{"1i fewer files", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, planA, msg, within(fig{files: 1})...).add(job, jobFile, msg, within(fig{files: 2})...),
			"1i", true, []string{"interactive commands (1i", "first by files created/job (`jwt:command` +1"}},
		{"1i, 2i over", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, planA, msg, within(fig{files: 4})...).add(job, jobFile, msg, over(fig{files: 2})...),
			"1i", true, []string{"`jwt:job=file` is over at +80.5ms"}},
		{"neither policy", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, planA, msg, over(fig{})...).add(job, jobFile, msg, over(fig{})...),
			"neither", true, []string{"no policy is within budget"}},
		{"one side missing", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, jobFile, msg, over(fig{})...),
			"inconclusive", false, []string{"not both a per-message"}},
		{"Q10 undecided", "Q10", newRun(budgets).add(job, plain, msg, base(6)...).add(job, planA, msg, straddle(fig{})...).add(job, jobFile, msg, straddle(fig{})...),
			"inconclusive", false, []string{"straddles"}},
		// Q-curve: CURVE against the baseline, weighed as an option.
		{"curve costs nothing measurable", "Q-curve", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, curve, cmd, within(fig{})...),
			"curve-default", true, []string{"make CURVE (`curve`) the default", "first by its declared claims (confidential, reply-confidential"}},
		{"curve affordable, costs CPU", "Q-curve", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, curve, cmd, within(fig{cpu: time.Millisecond})...),
			"trade-off:curve-default,keep-null", true, []string{"`plain` is first by WFS CPU/command (`plain` +0s (the baseline) against `curve` +800µs in review-cli)", "`curve` declares confidential, reply-confidential, which `plain` does not"}},
		{"curve over", "Q-curve", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, curve, cmd, over(fig{})...),
			"keep-null", true, []string{"keep an unencrypted option (`plain`)", "`curve` is over at +80.5ms"}},
		{"curve undecided", "Q-curve", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, curve, cmd, straddle(fig{})...),
			"inconclusive", false, nil},
		// Q-keys: per job against per target, paired.
		{"per-job keys cost nothing more", "Q-keys", newRun(budgets).add(job, curve, msg, base(6)...).add(job, curveJob, msg, within(fig{})...),
			"per-job", true, []string{"give each job its own key (`curve-job`)", "first by its declared claims (job-revoke"}},
		{"per-job keys cost files", "Q-keys", newRun(budgets).add(job, curve, msg, base(6)...).add(job, curveJob, msg, within(fig{files: 1})...),
			"trade-off:per-job,per-target", true, []string{"`curve` is first by files created/job", "`curve-job` declares job-revoke"}},
		{"per-target keys", "Q-keys", newRun(budgets).add(job, curve, msg, base(6)...).add(job, curveJob, msg, over(fig{files: 1})...),
			"per-target", true, []string{"keep a key per install target", "`curve-job` is over at"}},
		{"keys undecided", "Q-keys", newRun(budgets).add(job, curve, msg, base(6)...).add(job, curveJob, msg, straddle(fig{})...),
			"inconclusive", false, nil},
		// Q-jose: by declared claims.
		{"curve seals both ways, jwe cheaper", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, jwt, cmd, within(fig{})...).add(cli, jwe, cmd, within(fig{})...).add(cli, curve, cmd, within(fig{cpu: time.Millisecond})...),
			"trade-off:sealed token,transport", true, []string{"`curve` is first by its declared claims (reply-confidential", "`jwe` is lower on WFS CPU/command", "`jwe` seals requests only", "`jwt` seals nothing"}},
		{"curve seals both ways", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, jwe, cmd, within(fig{})...).add(cli, curve, cmd, within(fig{})...),
			"transport", true, []string{"use `curve`"}},
		// Two sealing transports rank by WFS CPU per command, every request
		// counted: curve-job costs less per request but more per command.
		{"cheaper per command", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, curveJob, cmd, within(fig{cpu: 1200 * time.Microsecond, reqs: 4})...).add(cli, curve, cmd, within(fig{cpu: time.Millisecond})...),
			"transport", true, []string{"use `curve`"}},
		{"jwe requests only", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, jwe, cmd, within(fig{})...).add(cli, curve, cmd, over(fig{})...),
			"sealed token", true, []string{"use `jwe`", "the only confidential scheme within budget", "replies (the WFS's data) travel in clear"}},
		{"nothing confidential within", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, jwt, cmd, within(fig{})...).add(cli, jwe, cmd, over(fig{})...),
			"neither", true, []string{"no confidential scheme"}},
		{"jose undecided", "Q-jose", newRun(budgets).add(cli, plain, cmd, base(6)...).add(cli, jwe, cmd, straddle(fig{})...),
			"inconclusive", false, nil},
		// Q-python against a real cylc message.
		{"lost in python", "Q-python", newRun(budgets).add("python-message", plain, vocab.OpJobProcess, base(6)...).add("python-message", curve, vocab.OpJobProcess, within(fig{})...),
			"lost", true, []string{"lost in a real Python client", "as at worst `curve` adds +1.5ms [-999µs, +4ms] at process p50 in python-message, budget 120ms, 0.12 % of a real client's 1.2s"}},
		{"python matters", "Q-python", newRun(budgets).add("python-message", plain, vocab.OpJobProcess, base(6)...).add("python-message", curve, vocab.OpJobProcess, rounds(6, 10*ms, steady(300*ms), fig{})...),
			"matters", true, []string{"cost matters against a real Python client", "1 of 1 schemes are over budget, at worst `curve` at +301ms"}},
		{"python undecided", "Q-python", newRun(budgets).add("python-message", plain, vocab.OpJobProcess, base(6)...).add("python-message", curve, vocab.OpJobProcess, rounds(6, 10*ms, wide(120*ms), fig{})...),
			"inconclusive", false, nil},
		// Q-wlcg: the token flows on their own, the transfer's token time
		// judged against the budget, the both-SEs trade-off from the model.
		{"wlcg within", "Q-wlcg", newRun(budgets).add(flow, wlcg, "wlcg.transfer", within(fig{stats: flowStats})...),
			"within", true, []string{"within budget", "wlcg-transfer-user: 3 issuer round trips, 2 access and 1 refresh tokens stored per transfer"}},
		{"wlcg over", "Q-wlcg", newRun(budgets).add(flow, wlcg, "wlcg.transfer", over(fig{stats: flowStats})...),
			"over", true, []string{"over budget", "takes 90.5ms at transfer p90"}},
		{"wlcg undecided", "Q-wlcg", newRun(budgets).add(flow, wlcg, "wlcg.transfer", straddle(fig{stats: flowStats})...),
			"inconclusive", false, []string{"straddles"}},
		// Q-wlcg with no WLCG scheme.
		{"no data", "Q-wlcg", newRun(budgets).add(cli, plain, cmd, base(6)...),
			"no-data", false, []string{"not answered"}},
	}
	for _, tc := range cases {
		t.Run(tc.question+"/"+tc.name, func(t *testing.T) {
			m := evaluate(t, []*results.Run{tc.run.run}, Options{})
			a := find(t, m, tc.question)
			if a.Verdict.Outcome != tc.outcome || a.Verdict.Decisive != tc.decisive {
				t.Errorf("verdict %q decisive=%v, want %q decisive=%v: %s", a.Verdict.Outcome, a.Verdict.Decisive, tc.outcome, tc.decisive, a.Verdict.Text)
			}
			for _, f := range tc.text {
				if !strings.Contains(a.Verdict.Text, f) {
					t.Errorf("verdict %q lacks %q", a.Verdict.Text, f)
				}
			}
			if strings.Contains(a.Verdict.Text, "adds -") {
				t.Errorf("verdict reads a negative cost: %s", a.Verdict.Text)
			}
			var buf bytes.Buffer
			if err := Markdown(&buf, m); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "### "+tc.question) {
				t.Errorf("markdown lacks the %s section", tc.question)
			}
			for _, r := range a.Rows {
				if a.ID == "Q-jose" && r.Scheme == "jwe" && r.Wire != "requests sealed, replies readable" {
					t.Errorf("jwe on the wire: %q", r.Wire)
				}
				if a.ID == "Q-jose" && r.Scheme == "curve" && r.Wire != "requests sealed, replies sealed" {
					t.Errorf("curve on the wire: %q", r.Wire)
				}
			}
		})
	}
}

func find(t *testing.T, m *Model, id string) *Answer {
	t.Helper()
	for _, a := range m.Questions {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no question %s", id)
	return nil
}
