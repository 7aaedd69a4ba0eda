package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/cylccal"
)

// TestReportCylcCalibration: a DIR/cylc-calibration.json is rendered as
// the report's section on the cylc model against a real Cylc, and -o may
// not overwrite one.
func TestReportCylcCalibration(t *testing.T) {
	dir := writeRun(t, nil)
	b, err := os.ReadFile("../../report/testdata/cylc-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cylc-calibration.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "REPORT.md")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"report", "-o", out, dir}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v\n%s", err, stderr.String())
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("## The Cylc model against cylc-flow 8.4.4")) {
		t.Error("no section on the Cylc model against cylc-flow 8.4.4")
	}
	err = run(context.Background(), []string{"report", "-o", filepath.Join(dir, "cylc-calibration.json"), dir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "data file") {
		t.Errorf("report -o cylc-calibration.json: %v, want a refusal", err)
	}
}

// TestPythonClientOf: a calibration's real `cylc message` is the review's
// yardstick, its median wall time with where it comes from.
func TestPythonClientOf(t *testing.T) {
	c, err := cylccal.Read("../../report/testdata/cylc-calibration.json")
	if err != nil {
		t.Fatal(err)
	}
	pc := pythonClientOf(c)
	if pc == nil || pc.Cost <= 0 || !strings.Contains(pc.Source, "a real `cylc message` (cylc-flow 8.4.4)") {
		t.Fatalf("pythonClientOf: %+v", pc)
	}
	c.Python = nil
	if pythonClientOf(c) != nil || pythonClientOf(nil) != nil {
		t.Error("a yardstick without a measurement")
	}
}
