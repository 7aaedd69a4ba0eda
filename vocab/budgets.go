package vocab

import (
	"fmt"
	"strconv"
	"strings"
)

// The budgets a scenario may state (budgets: in its YAML): what a scheme
// may add over the baseline and still be within budget. A budget is named
// for what it bounds and the percentile it is judged at,
// KIND_pNN_budget ("command_p90_budget": the latency a scheme may add to a
// command's p90); the review judges against them by these names, and a
// scenario naming any other is refused.
const (
	// BudgetKindCommand bounds the latency a scheme adds to a command.
	BudgetKindCommand = "command"
	// BudgetKindMessage bounds the latency it adds to a job message.
	BudgetKindMessage = "message"
	// BudgetKindPoll bounds the latency it adds to a UI-server poll.
	BudgetKindPoll = "poll"
	// BudgetKindTransfer bounds the time a WLCG transfer spends on tokens.
	BudgetKindTransfer = "transfer"
	// BudgetPython is the time a scheme may add to a whole Python client
	// process, judged at its median (the one budget with no percentile in
	// its name).
	BudgetPython = "python_added_budget"
)

// BudgetKinds are the kinds of latency budget, in documentation order.
func BudgetKinds() []string {
	return []string{BudgetKindCommand, BudgetKindMessage, BudgetKindPoll, BudgetKindTransfer}
}

// BudgetPercentiles are the percentiles a latency budget may be judged at.
func BudgetPercentiles() []float64 { return []float64{50, 90, 99} }

// BudgetName is the name of kind's budget judged at percentile p
// ("command", 90: "command_p90_budget").
func BudgetName(kind string, p float64) string {
	return kind + "_p" + strconv.FormatFloat(p, 'f', -1, 64) + "_budget"
}

// ParseBudgetName splits a budget name into its kind and the percentile it
// is judged at (python_added_budget: its kind is the name, at p50). The
// error says what names there are.
func ParseBudgetName(name string) (kind string, p float64, err error) {
	if name == BudgetPython {
		return BudgetPython, 50, nil
	}
	for _, k := range BudgetKinds() {
		for _, q := range BudgetPercentiles() {
			if name == BudgetName(k, q) {
				return k, q, nil
			}
		}
	}
	return "", 0, fmt.Errorf("unknown budget %q: want KIND_pNN_budget with KIND one of %s and NN one of %s, or %s",
		name, strings.Join(BudgetKinds(), ", "), percentileList(), BudgetPython)
}

func percentileList() string {
	var ps []string
	for _, p := range BudgetPercentiles() {
		ps = append(ps, strconv.FormatFloat(p, 'f', -1, 64))
	}
	return strings.Join(ps, ", ")
}

// BudgetNames are every budget a scenario may state, in documentation
// order.
func BudgetNames() []string {
	var out []string
	for _, k := range BudgetKinds() {
		for _, p := range BudgetPercentiles() {
			out = append(out, BudgetName(k, p))
		}
	}
	return append(out, BudgetPython)
}
