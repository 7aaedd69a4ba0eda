// Package figures is the one list of figures authbench computes from a
// run's results: each a per-round value of a Result with the unit it
// prints in and the unit of work it is divided by (a WFS request, a
// command, a job message, a job, a transfer). The report's tables
// (package report) and the design review's verdicts (package review)
// both read them, and both group results with Collect, so a figure means
// the same thing wherever it is shown.
//
// A cost a question weighs is divided by the question's own unit of work:
// a scheme that makes two WFS requests per command (plan A's token
// request, an issuer round trip) pays for both in its figure per command.
// Numerators and denominators come from the same window: the WFS
// process's CPU and the ops' counts from the measured window after the
// warm-up, files, jobs, commands and WFS requests from the whole run.
package figures
