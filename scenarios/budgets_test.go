package scenarios

import (
	"testing"
	"time"
)

// TestBudgetForms: a budget is a bare duration (no source) or a mapping
// with its value and source; both are recorded as a result records them.
func TestBudgetForms(t *testing.T) {
	src := "name: x\nduration: 1s\ncli: {concurrency: 1}\nbudgets:\n  command_p50_budget: {value: 100ms, source: \"Nielsen 1993\"}\n  message_p90_budget: 250ms\n"
	sc, err := Parse("b.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := budgetsOf(sc)
	if got["command_p50_budget"] != 100*time.Millisecond || got["message_p90_budget"] != 250*time.Millisecond || len(got) != 2 {
		t.Errorf("budgets %v", got)
	}
	srcs := budgetSourcesOf(sc)
	if srcs["command_p50_budget"] != "Nielsen 1993" || len(srcs) != 1 {
		t.Errorf("sources %v, want only command_p50_budget's", srcs)
	}
}
