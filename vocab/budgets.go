package vocab

// The budgets a scenario may state (budgets: in its YAML): what a scheme
// may add over the baseline and still be within budget. The review judges
// against them by these names; a scenario naming any other is refused.
const (
	// BudgetCommand is the latency a scheme may add to a command's tail.
	BudgetCommand = "command_p99_budget"
	// BudgetMessage is the latency it may add to a job message's tail.
	BudgetMessage = "message_p99_budget"
	// BudgetPython is the time it may add to a whole Python client process.
	BudgetPython = "python_added_budget"
	// BudgetPoll is the latency it may add to a UI-server poll's tail.
	BudgetPoll = "poll_p99_budget"
	// BudgetTransfer is the time a WLCG transfer may spend on tokens.
	BudgetTransfer = "transfer_p99_budget"
)

// BudgetNames are the budgets a scenario may state, in documentation order.
func BudgetNames() []string {
	return []string{BudgetCommand, BudgetMessage, BudgetPython, BudgetPoll, BudgetTransfer}
}
