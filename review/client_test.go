package review

import (
	"strings"
	"testing"
	"time"
)

// TestYardstick: an added time is stated against the measured real
// client when there is one, with PR 5790's figure as context, else
// against PR 5790's.
func TestYardstick(t *testing.T) {
	r := &Row{}
	if got := r.yardstick(float64(12 * time.Millisecond)); !strings.Contains(got, "1 % of the 1.2s a real Python `cylc` client takes per call, cylc-flow PR 5790") {
		t.Errorf("without a measurement: %q", got)
	}
	r.Client = &ClientCost{Cost: 400 * time.Millisecond, Source: "a real `cylc message` here"}
	got := r.yardstick(float64(12 * time.Millisecond))
	if !strings.Contains(got, "3 % of the 400ms a real `cylc message` here (cylc-flow PR 5790: 1.2-1.7 s)") {
		t.Errorf("with a measurement: %q", got)
	}
	if r.clientCost() != 400*time.Millisecond || (&Row{}).clientCost() != PythonClientCost {
		t.Error("clientCost")
	}
}
