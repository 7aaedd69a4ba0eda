package main

import (
	"fmt"

	"github.com/authbench/authbench/cylccal"
)

// readCylcCalibration reads the first DIR/cylc-calibration.json found (a
// calibration of the cylc model against a real Cylc scheduler, authbench
// calibrate -cylc -o), for the report's section "The Cylc model against
// Cylc VERSION"; nil when there is none.
func readCylcCalibration(dirs []string) (*cylccal.Calibration, string, error) {
	file := inputFile("", dirs, cylccal.FileName)
	if file == "" {
		return nil, "", nil
	}
	c, err := cylccal.Read(file)
	if err != nil {
		return nil, "", fmt.Errorf("report: %w", err)
	}
	return c, file, nil
}
