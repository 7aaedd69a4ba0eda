package cylcpeer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LiveJobs lists the workflow's live jobs, as CYCLE/TASK/NN, from their
// job.status files (<run>/log/job/CYCLE/TASK/NN/job.status): a job that
// has started (CYLC_JOB_INIT_TIME, written by `cylc message started`,
// cylc/flow/task_message.py) and not exited (no CYLC_JOB_EXIT); on this
// host, its CYLC_JOB_PID must also still run. Their messages are what the
// scheduler accepts as a live job's. The NN link to a task's latest
// submit is skipped.
func LiveJobs(c *Contact) ([]string, error) {
	root := filepath.Join(c.RunDir, "log", "job")
	dirs, err := filepath.Glob(filepath.Join(root, "*", "*", "[0-9]*"))
	if err != nil {
		return nil, err
	}
	var jobs []string
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "job.status"))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		st := parseJobStatus(b)
		if st["CYLC_JOB_INIT_TIME"] == "" || st["CYLC_JOB_EXIT"] != "" {
			continue
		}
		if pid, err := strconv.Atoi(st["CYLC_JOB_PID"]); err == nil && pid > 0 && c.Local() {
			if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
				continue
			}
		}
		rel, _ := filepath.Rel(root, dir)
		jobs = append(jobs, filepath.ToSlash(rel))
	}
	sort.Strings(jobs)
	return jobs, nil
}

// parseJobStatus reads job.status's KEY=VALUE lines (the last of a key
// wins; CYLC_MESSAGE lines are left out).
func parseJobStatus(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && k != "CYLC_MESSAGE" {
			m[k] = v
		}
	}
	return m
}

// NeedJobs is the error for a workflow without live jobs.
func NeedJobs(c *Contact) error {
	return fmt.Errorf("%s: workflow %s has no live jobs (no job.status under %s with CYLC_JOB_INIT_TIME and no CYLC_JOB_EXIT): job messages need running jobs (scripts/cylc/peer.sh up starts a workflow whose jobs stay alive)", c.Path, c.Workflow, filepath.Join(c.RunDir, "log", "job"))
}
