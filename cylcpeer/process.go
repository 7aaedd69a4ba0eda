package cylcpeer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// ProcessRun is one client process: its wall time from start to exit and
// its CPU (user plus system, from its rusage).
type ProcessRun struct {
	Wall, CPU time.Duration
}

// CylcMessage runs the real `cylc message` once, as a Cylc job does (its
// job script runs `cylc message -- "${CYLC_WORKFLOW_ID}"
// "${CYLC_TASK_JOB}" MESSAGE`, cylc/flow/scripts/message.py): the `cylc`
// in the contact file's SCHEDULER_CYLC_PATH, the job's workflow id and job
// in its environment, HOME the one whose ~/cylc-run holds the workflow, so
// that it finds the contact file and keys and appends to the job's
// job.status itself before it sends the mutation. It returns the process's
// wall time and CPU; a message the scheduler did not take is an error
// with cylc's output.
func CylcMessage(ctx context.Context, c *Contact, job, text string) (ProcessRun, error) {
	if c.CylcPath == "" {
		return ProcessRun{}, fmt.Errorf("%s: no %s: which cylc the jobs run is not known", c.Path, ContactCylcPath)
	}
	home, ok := strings.CutSuffix(c.RunDir, string(filepath.Separator)+filepath.Join("cylc-run", c.Workflow))
	if !ok {
		return ProcessRun{}, fmt.Errorf("%s: the run directory %s is not under a HOME's cylc-run", c.Path, c.RunDir)
	}
	name := "cylc"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	cmd := exec.CommandContext(ctx, filepath.Join(c.CylcPath, "cylc"), "message", "--", c.Workflow, job, text)
	cmd.Env = []string{"HOME=" + home, "USER=" + name, "LOGNAME=" + name, "LANG=C.UTF-8",
		"PATH=" + c.CylcPath + ":/usr/local/bin:/usr/bin:/bin", "TMPDIR=" + os.TempDir(),
		"CYLC_WORKFLOW_ID=" + c.Workflow, "CYLC_TASK_JOB=" + job}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	run := ProcessRun{Wall: time.Since(t0)}
	if st := cmd.ProcessState; st != nil {
		run.CPU = st.UserTime() + st.SystemTime()
	}
	if err != nil {
		return run, fmt.Errorf("cylc message: %v: %s", err, strings.TrimSpace(out.String()))
	}
	return run, nil
}
