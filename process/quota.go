package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupV1CPU is where the cgroup v1 CPU controller is mounted.
const cgroupV1CPU = "/sys/fs/cgroup/cpu"

// cgroupV2 is the cgroup v2 hierarchy's root.
const cgroupV2 = "/sys/fs/cgroup"

// quotaPeriodUS is the CFS period a quota is set over (100 ms, the kernel's
// default).
const quotaPeriodUS = 100000

// cpuQuota is a cgroup holding one process with a CFS CPU quota.
type cpuQuota struct {
	dir  string
	root string // the hierarchy's root, to move a live process back to
	pid  int
}

// newCPUQuota moves pid into a new cgroup capped at cpus CPUs (0.5 is half
// of one CPU's time in every 100 ms period). It uses cgroup v1's CPU
// controller where mounted, else cgroup v2's cpu.max; it needs root.
func newCPUQuota(pid int, cpus float64) (*cpuQuota, error) {
	if cpus <= 0 {
		return nil, fmt.Errorf("-server-quota %g: want a positive number of CPUs", cpus)
	}
	quotaUS := int(cpus * quotaPeriodUS)
	if quotaUS < 1000 {
		return nil, fmt.Errorf("-server-quota %g: below the kernel's 1 ms minimum per 100 ms period", cpus)
	}
	name := fmt.Sprintf("authbench-wfs-%d", pid)
	fail := func(q *cpuQuota, err error) (*cpuQuota, error) {
		_ = os.Remove(q.dir)
		return nil, fmt.Errorf("-server-quota %g: %w (a CPU quota needs root and a cgroup CPU controller)", cpus, err)
	}
	if _, err := os.Stat(filepath.Join(cgroupV1CPU, "cpu.cfs_quota_us")); err == nil {
		q := &cpuQuota{dir: filepath.Join(cgroupV1CPU, name), root: cgroupV1CPU, pid: pid}
		if err := os.Mkdir(q.dir, 0o755); err != nil {
			return nil, fmt.Errorf("-server-quota %g: %w (a CPU quota needs root and a cgroup CPU controller)", cpus, err)
		}
		for _, w := range [][2]string{
			{"cpu.cfs_period_us", strconv.Itoa(quotaPeriodUS)},
			{"cpu.cfs_quota_us", strconv.Itoa(quotaUS)},
			{"cgroup.procs", strconv.Itoa(pid)},
		} {
			if err := os.WriteFile(filepath.Join(q.dir, w[0]), []byte(w[1]), 0o644); err != nil {
				return fail(q, err)
			}
		}
		return q, nil
	}
	q := &cpuQuota{dir: filepath.Join(cgroupV2, name), root: cgroupV2, pid: pid}
	if err := os.Mkdir(q.dir, 0o755); err != nil {
		return nil, fmt.Errorf("-server-quota %g: %w (a CPU quota needs root and a cgroup CPU controller)", cpus, err)
	}
	for _, w := range [][2]string{
		{"cpu.max", fmt.Sprintf("%d %d", quotaUS, quotaPeriodUS)},
		{"cgroup.procs", strconv.Itoa(pid)},
	} {
		if err := os.WriteFile(filepath.Join(q.dir, w[0]), []byte(w[1]), 0o644); err != nil {
			return fail(q, err)
		}
	}
	return q, nil
}

// throttled reads the cgroup's count of throttled periods (v1 cpu.stat
// nr_throttled), or -1 when it cannot.
func (q *cpuQuota) throttled() int64 {
	b, err := os.ReadFile(filepath.Join(q.dir, "cpu.stat"))
	if err != nil {
		return -1
	}
	var k string
	var v int64
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscan(line, &k, &v); err == nil && k == "nr_throttled" {
			return v
		}
	}
	return -1
}

// remove moves the process back to the root (if it still runs) and removes
// the cgroup.
func (q *cpuQuota) remove() error {
	if err := os.Remove(q.dir); err == nil || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = os.WriteFile(filepath.Join(q.root, "cgroup.procs"), []byte(strconv.Itoa(q.pid)), 0o644)
	if err := os.Remove(q.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s: %w", q.dir, err)
	}
	return nil
}
