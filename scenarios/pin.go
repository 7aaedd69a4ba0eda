package scenarios

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// maxCPU is one past the largest CPU number a unix.CPUSet can hold.
const maxCPU = 1024

// Pin restricts the whole process (every thread it has now, and so every
// thread they start later, libzmq's I/O threads included) to the CPUs in
// cpus: "0", "0,1", "0-1" or a mix such as "0,2-3".
func Pin(cpus string) error {
	list, err := parseCPUList(cpus)
	if err != nil {
		return err
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range list {
		set.Set(c)
	}
	// sched_setaffinity(0) moves only the calling thread; new threads inherit
	// their creator's mask, so set it on every thread the process has.
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("-pin %q: %w", cpus, err)
	}
	tids, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("-pin %q: list threads: %w", cpus, err)
	}
	for _, t := range tids {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("-pin %q: thread %d: %w", cpus, tid, err)
		}
	}
	return nil
}

// Affinity returns the CPUs the calling thread may run on, as a list Pin
// accepts (e.g. "0-1"), for recording the placement in results.
func Affinity() (string, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return "", fmt.Errorf("cpu affinity: %w", err)
	}
	var cpus []int
	for c := 0; c < maxCPU; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return formatCPUList(cpus), nil
}

// parseCPUList parses "0", "0,1", "0-1" or "0,2-3" into sorted, distinct CPU
// numbers; anything else is one error line naming -pin.
func parseCPUList(s string) ([]int, error) {
	bad := func(why string) error {
		return fmt.Errorf("-pin %q: %s; want CPU numbers such as 0, 0,1 or 0-1", s, why)
	}
	if strings.TrimSpace(s) == "" {
		return nil, bad("empty CPU list")
	}
	var seen [maxCPU]bool
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, bad("empty item")
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseCPU(lo)
		if err != nil {
			return nil, bad(err.Error())
		}
		b := a
		if isRange {
			if b, err = parseCPU(hi); err != nil {
				return nil, bad(err.Error())
			}
			if b < a {
				return nil, bad(fmt.Sprintf("range %s runs backwards", part))
			}
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	var out []int
	for c, ok := range seen {
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func parseCPU(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n >= maxCPU {
		return 0, fmt.Errorf("CPU %d is out of range 0-%d", n, maxCPU-1)
	}
	return n, nil
}

// formatCPUList prints sorted CPU numbers compactly: [0 1 2 5] is "0-2,5".
func formatCPUList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
