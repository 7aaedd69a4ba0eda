// Package review turns results into the verdicts a design review signs.
//
// Each design question is a row of data (Question, in questions.go): the
// schemes it weighs, chosen by their parsed spec and declared claims, never
// by name; the scenarios whose data answers it; the measures it shows, one
// of them judged against the budget the scenario states; and a rule that
// turns the measures into a verdict. Evaluate computes a Model from runs
// first; Markdown and JSON render it afterwards, as benchstat separates its
// tables from its text.
//
// Every judged figure is a per-round paired difference against the
// baseline run in the same round, summarised as the median with its 95 %
// confidence interval (package stats). A verdict of "within budget" or
// "over budget" needs the whole interval on one side of the budget;
// otherwise the verdict is "inconclusive", with an estimate of the rounds
// that would decide it. A tail latency is p99 only when every round has at
// least 1,000 operations; otherwise it is p90 and labelled so.
package review
