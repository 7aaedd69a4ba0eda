package main

import (
	"fmt"
	"time"

	"github.com/authbench/authbench/cylccal"
	"github.com/authbench/authbench/review"
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

// pythonClientOf is the real `cylc message` a calibration measured, as
// the review states added times against it (review.Options.PythonClient);
// nil without one.
func pythonClientOf(c *cylccal.Calibration) *review.ClientCost {
	if c == nil || c.Python == nil || len(c.Python.Real.WallMs) == 0 {
		return nil
	}
	wall, _, _ := cylccal.Stats(c.Python.Real.WallMs)
	return &review.ClientCost{Cost: time.Duration(wall * float64(time.Millisecond)),
		Source: fmt.Sprintf("a real `cylc message` (%s) took here, the median of %d (authbench calibrate -cylc)",
			c.Server, len(c.Python.Real.WallMs))}
}
