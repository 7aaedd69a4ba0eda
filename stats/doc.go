// Package stats turns per-round paired figures into the report's
// decisions, on top of golang.org/x/perf/benchmath.
//
// Schemes run interleaved in rounds, so each round gives a paired
// difference (scheme minus baseline in that round) that cancels the
// machine's drift between rounds. The report summarises those differences
// by their median with a distribution-free confidence interval
// (benchmath.AssumeNothing). A verdict needs the whole interval on one
// side of the scenario's budget: entirely below is "within budget",
// entirely above is "over budget", and anything else — including too few
// rounds for any interval, or an interval touching the budget — is
// "inconclusive", reported with an estimate of how many rounds would
// decide (see docs/design.md section 5, measurement rules). These machines are shared
// and noisy; a point estimate alone would turn noise into verdicts.
//
// The package also carries the Mann-Whitney U comparison of two runs used
// by "authbench compare". It is a leaf: it imports nothing of the project.
package stats
