package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCalibrateCylcFlags: -o goes with -cylc, and an authbench serve's
// contact file is not a Cylc scheduler's.
func TestCalibrateCylcFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"calibrate", "-o", "x.json"}, &stdout, &stderr); err == nil {
		t.Error("-o without -cylc was taken")
	}
	contact := filepath.Join(t.TempDir(), "contact")
	if err := os.WriteFile(contact, []byte("AUTHBENCH_SCHEME=curve\nCYLC_WORKFLOW_ID=wf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"calibrate", "-cylc", contact}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "not a Cylc scheduler's contact file") {
		t.Errorf("calibrate -cylc on an authbench contact: %v", err)
	}
}
