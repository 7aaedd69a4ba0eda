// Package report computes the whole authbench report as a typed model (a
// Page: the design review's summary, a section per scenario with its
// latency, resource and overhead tables, the capacity search, the site
// projection, the conformance matrix, the Cylc model against a real Cylc,
// the environment and the commands)
// and renders it to markdown or JSON. Rendering computes nothing: the
// markdown of a Page decoded from its JSON is the markdown of the Page.
// Plots are drawn by a step of their own (WritePlots) from the same plan
// the Page links them by.
//
// It sits above every package whose findings it shows: review, site,
// conformance and results' capacity search, with figures for the numbers.
package report
