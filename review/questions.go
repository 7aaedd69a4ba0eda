package review

import (
	"strings"

	"github.com/authbench/authbench/figures"

	"github.com/authbench/authbench/vocab"
)

// Budget kinds, as scenarios name them under budgets: (KIND_pNN_budget).
const (
	budgetCommand = vocab.BudgetKindCommand // latency a scheme may add to a command
	budgetMessage = vocab.BudgetKindMessage // latency a scheme may add to a job message
	budgetPython  = vocab.BudgetPython
)

// The scenarios questions read: the review suite's first (at a site's
// rate, in a burst, on the nfs-lan file-system model, then the fast
// server's reference), then the longer built-ins a user may run.
var (
	cliScenarios = []string{"review-cli", "review-cli-burst", "review-cli-nfs", "review-cli-fast", "cli-interactive", "cli-burst", "cycle-point"}
	jobScenarios = []string{"review-jobs", "review-jobs-burst", "review-jobs-nfs", "job-storm", "cycle-point", "dispatch-burst"}
)

// Catalogue returns the design questions of docs/design.md section 1, in the
// report's order.
func Catalogue() []*Question {
	return []*Question{
		{
			ID: "Q-A/B", Title: "plan A (one-command tokens) or plan B (shared or timed tokens)?",
			Settles:   "the latency each plan adds to a command over plain, paired by round, judged against the scenario's command budget; the WFS's CPU, requests and file operations per command (every request the command takes) beside it",
			Scenarios: cliScenarios,
			Option:    planOf,
			Requires:  []string{opCommand},
			Measures: []Measure{
				{Label: "WFS CPU/command", Figure: figures.ServerCPU(figures.Command), Paired: true},
				{Label: "command {tail}", Figure: figures.Tail(opCommand), Paired: true, Budget: budgetCommand},
				{Label: "file ops/command", Figure: figures.FileOps(figures.Command), Paired: true},
				{Label: "requests/command", Figure: figures.Requests(figures.Command), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
				{Label: "file ops/request", Figure: figures.FileOps(figures.Request), Paired: true, Secondary: true},
			},
			Rule: rulePlans,
			Need: "run a CLI scenario with the plans and plain: `authbench run -scenario review-cli -schemes plain,jwt:command,jwt:shared=10s,jwt:timed=60s/6s -until-decisive`",
		},
		{
			ID: "Q-job", Title: "one-job tokens in a file per job, one combined file per workflow, or inside `job.status`?",
			Settles:   "files created, peak live files and fsyncs per job, and the latency each store adds to a job message over plain (judged against the message budget)",
			Scenarios: jobScenarios,
			Option:    jobStoreOf,
			Requires:  []string{opMessage},
			Measures: []Measure{
				{Label: "WFS CPU/job message", Figure: figures.ServerCPU(figures.Message), Paired: true},
				{Label: "message {tail}", Figure: figures.Tail(opMessage), Paired: true, Budget: budgetMessage},
				{Label: "files created/job", Figure: figures.FilesCreated(figures.Job), Paired: true},
				{Label: "peak live files", Figure: figures.PeakLiveFiles(), Paired: true},
				{Label: "fsyncs/job", Figure: figures.Fsyncs(figures.Job), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: ruleJobStore,
			Need: "run a job scenario with the stores and plain: `authbench run -scenario review-jobs -schemes plain,jwt:job=file,jwt:job=combined,jwt:job=status -until-decisive`",
		},
		{
			ID: "Q5", Title: "where on the scale should tokens live: workflow, cycle point, task, job, set of commands or single command?",
			Settles:   "one token credential at each point of the proposal's scale on the same cycling job load with retries: the latency it adds to a job message over plain (judged against the message budget), WFS CPU, files and fsyncs per job, and what a token stolen at that point grants",
			Scenarios: []string{"review-scale-site", "review-scale"},
			Option:    scaleOf,
			Requires:  []string{opMessage},
			Measures: []Measure{
				{Label: "WFS CPU/job message", Figure: figures.ServerCPU(figures.Message), Paired: true},
				{Label: "message {tail}", Figure: figures.Tail(opMessage), Paired: true, Budget: budgetMessage},
				{Label: "files created/job", Figure: figures.FilesCreated(figures.Job), Paired: true},
				{Label: "fsyncs/job", Figure: figures.Fsyncs(figures.Job), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: ruleScale,
			Need: "run the scale scenario: `authbench run -scenario review-scale -schemes plain,jwt,jwt:cycle,jwt:task,jwt:job=file,jwt:shared=10s,jwt:command -until-decisive`",
		},
		{
			ID: "Q10", Title: "shared-file-system jobs: treat like interactive commands (1i: a token per message) or like remote jobs (2i: a token per job)?",
			Settles:   "the two policies on the same job load: the latency each adds to a job message (judged against the message budget) and the files each creates",
			Scenarios: jobScenarios,
			Option:    q10Of,
			Requires:  []string{opMessage},
			Measures: []Measure{
				{Label: "WFS CPU/job message", Figure: figures.ServerCPU(figures.Message), Paired: true},
				{Label: "message {tail}", Figure: figures.Tail(opMessage), Paired: true, Budget: budgetMessage},
				{Label: "files created/job", Figure: figures.FilesCreated(figures.Job), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: rule1i2i,
			Need: "run a job scenario with both policies and plain: `authbench run -scenario review-jobs -schemes plain,jwt:command,jwt:job=file -until-decisive`",
		},
		{
			ID: "Q-curve", Title: "what does CurveZMQ cost, and should an unencrypted option stay?",
			Settles:   "the latency CURVE adds to a fresh-connection command over plain (judged against the command budget), the WFS's CPU per request and per handshake, and the capacity knee",
			Scenarios: cliScenarios,
			Option:    transportOf,
			Requires:  []string{opCommand},
			Measures: []Measure{
				{Label: "WFS CPU/command", Figure: figures.ServerCPU(figures.Command), Paired: true},
				{Label: "command {tail}", Figure: figures.Tail(opCommand), Paired: true, Budget: budgetCommand},
				{Label: "WFS CPU/handshake", Figure: figures.HandshakeCPU()},
				{Label: "command p50", Figure: figures.P50(opCommand), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: ruleCurve,
			Wire: true,
			Need: "run a CLI scenario with `curve` and `plain`: `authbench run -scenario review-cli -schemes plain,curve -until-decisive`",
		},
		{
			ID: "Q-keys", Title: "CURVE client keys per job, or per install target (as Cylc 8 ships)?",
			Settles:   "per-job keys against per-target keys on the same job load, paired by round: the latency they add to a job message (judged against the message budget), files per job, peak live files, WFS CPU",
			Scenarios: append(append([]string(nil), jobScenarios...), "review-keys-100", "review-keys-1000"),
			Option:    perJobKeys,
			Baseline:  perTargetKeys,
			Requires:  []string{opMessage},
			Measures: []Measure{
				{Label: "WFS CPU/job message", Figure: figures.ServerCPU(figures.Message), Paired: true},
				{Label: "message {tail}", Figure: figures.Tail(opMessage), Paired: true, Budget: budgetMessage},
				{Label: "files created/job", Figure: figures.FilesCreated(figures.Job), Paired: true},
				{Label: "peak live files", Figure: figures.PeakLiveFiles(), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule:  ruleKeys,
			Notes: keysScaleNotes,
			Need:  "run a job scenario with both key scopes: `authbench run -scenario review-jobs -schemes curve,curve-job -until-decisive`",
		},
		{
			ID: "Q-jose", Title: "a signed JWT, an encrypted JWE, or CURVE, for confidentiality?",
			Settles:   "what each seals by its declared (and conformance-checked) claims, the latency it adds to a command (judged against the command budget), bytes and WFS CPU added per request",
			Scenarios: cliScenarios,
			Option:    joseOf,
			Requires:  []string{opCommand},
			Measures: []Measure{
				{Label: "WFS CPU/command", Figure: figures.ServerCPU(figures.Command), Paired: true},
				{Label: "command {tail}", Figure: figures.Tail(opCommand), Paired: true, Budget: budgetCommand},
				{Label: "bytes added/request", Figure: figures.BytesAdded()},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: ruleJose,
			Wire: true,
			Need: "run a CLI scenario with `jwt`, `jwe`, `curve` and `plain`: `authbench run -scenario review-cli -schemes plain,jwt,jwe,curve -until-decisive`",
		},
		{
			ID: "Q-python", Title: "against a real Python client, the real `cylc message` measured in the same run (cylc-flow PR 5790 measured 1.2-1.7 s), does a scheme's cost matter?",
			Settles:   "the time a scheme adds to a whole Python client process per message over plain (authbench's stand-in: Debian python3-zmq, a new interpreter per message, as `cylc message` is), judged against the scenario's budget: its stated share of the median wall time of the real `cylc message` measured in the same run against a real Cylc scheduler, shown beside the stand-in (the budget the scenario states where no real client ran); cylc-flow PR 5790's 1.2-1.7 s is context",
			Scenarios: []string{"python-message", "review-python"},
			Option:    anySecured,
			Requires:  []string{opPyProc},
			Measures: []Measure{
				{Label: "WFS CPU/job message", Figure: figures.ServerCPU(figures.Message), Paired: true},
				{Label: "process p50", Figure: figures.P50(opPyProc), Paired: true, Budget: budgetPython},
				{Label: "interpreter+import p50", Figure: figures.P50(opPyInterp)},
				{Label: "handshake p50", Figure: figures.P50(vocab.OpJobHandshake), Paired: true},
				{Label: "WFS CPU/request", Figure: figures.ServerCPU(figures.Request), Paired: true, Secondary: true},
			},
			Rule: rulePython,
			Need: "run the Python client scenario against a real Cylc scheduler (CONTACT its contact file): `authbench run -scenario review-python -schemes plain,curve,curve-job -cylc CONTACT -until-decisive`",
		},
		{
			ID: "Q-wlcg", Title: "WLCG tokens: how many issuer round trips and stored tokens does a transfer cost, and what load does a token lifetime put on the issuer?",
			Settles:   "the three Rucio→FTS→storage token flows run for real against an issuer and two storage elements (round trips by grant, tokens stored, refreshes per transfer; the time a transfer spends on tokens, judged against the scenario's budget), and the issuer load model at a site's rate",
			Scenarios: []string{"wlcg-transfer-service", "wlcg-transfer-user", "wlcg-transfer-groups"},
			Option: func(sp vocab.Spec, _ vocab.Claims) (string, bool) {
				return "WLCG token", sp.Credential == "wlcg"
			},
			Alone:    true,
			Requires: []string{opTransfer},
			Measures: []Measure{
				{Label: "issuer round trips/transfer", Figure: figures.SchemeStat(statRoundTrips, figures.Transfer)},
				{Label: "client credentials/transfer", Figure: figures.SchemeStat(statClientCreds, figures.Transfer)},
				{Label: "token exchanges/transfer", Figure: figures.SchemeStat(statExchanges, figures.Transfer)},
				{Label: "refreshes/transfer", Figure: figures.SchemeStat(statRefreshes, figures.Transfer)},
				{Label: "access tokens stored/transfer", Figure: figures.SchemeStat(statAccessStored, figures.Transfer)},
				{Label: "refresh tokens stored/transfer", Figure: figures.SchemeStat(statRefreshStored, figures.Transfer)},
				{Label: "transfer {tail}", Figure: figures.Tail(opTransfer), Budget: budgetTransferTokens},
			},
			Rule: ruleWLCG,
			Need: "run the token flows: `authbench run -scenario wlcg-transfer-service -scenario wlcg-transfer-user -scenario wlcg-transfer-groups -schemes wlcg -until-decisive`",
		},
	}
}

// planOf: plan A is a token per command; plan B shares tokens (B1) or
// times them (B2). Chosen by the declared policy.
func planOf(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if !c.Authenticates || sp.Credential == "" {
		return "", false
	}
	switch sp.Policy {
	case "command":
		return "A", true
	case "shared":
		return "B1 (shared)", true
	case "timed":
		return "B2 (timed)", true
	}
	return "", false
}

// jobStoreOf: one-job tokens, by where the store keeps them.
func jobStoreOf(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if sp.Policy != "job" || !c.JobRevocation {
		return "", false
	}
	store := sp.Arg
	if store == "" {
		store = "file"
	}
	return store, true
}

// q10Of: 1i is a token per message, 2i a token per job.
func q10Of(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if !c.Authenticates || sp.Credential == "" {
		return "", false
	}
	switch sp.Policy {
	case "command":
		return "1i", true
	case "job":
		return "2i", true
	}
	return "", false
}

// transportOf: a transport that seals requests itself (no credential on
// top), by key scope.
func transportOf(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if sp.Credential != "" || !c.Confidential || !c.Authenticates {
		return "", false
	}
	if c.JobRevocation {
		return "per job", true
	}
	return "per install target", true
}

// perJobKeys and perTargetKeys split transport encryption by key scope.
func perJobKeys(sp vocab.Spec, c vocab.Claims) (string, bool) {
	o, ok := transportOf(sp, c)
	return o, ok && o == "per job"
}

func perTargetKeys(sp vocab.Spec, c vocab.Claims) bool {
	o, ok := transportOf(sp, c)
	return ok && o == "per install target"
}

// joseOf: a workflow token, signed or sealed, or a sealing transport.
func joseOf(sp vocab.Spec, c vocab.Claims) (string, bool) {
	if !c.Authenticates {
		return "", false
	}
	if sp.Credential == "" {
		if c.Confidential {
			return "transport", true
		}
		return "", false
	}
	if sp.Policy != "workflow" {
		return "", false
	}
	if c.Confidential {
		return "sealed token", true
	}
	return "signed token", true
}

// anySecured is every scheme that authenticates.
func anySecured(_ vocab.Spec, c vocab.Claims) (string, bool) {
	return "authenticated", c.Authenticates
}

// eavesdropper says what a passive listener reads, from declared claims.
func eavesdropper(claims []string) string {
	has := func(n string) bool { return contains(claims, n) }
	var parts []string
	if !has("authn") {
		return "everything: requests and replies in clear, no credential"
	}
	if has("confidential") {
		parts = append(parts, "requests sealed")
	} else {
		parts = append(parts, "requests readable")
	}
	if has("reply-confidential") {
		parts = append(parts, "replies sealed")
	} else {
		parts = append(parts, "replies readable")
	}
	return strings.Join(parts, ", ")
}
