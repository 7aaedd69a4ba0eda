package process

import (
	"errors"
	"fmt"
	"os"
	"runtime"
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
	list, err := ParseCPUList(cpus)
	if err != nil {
		return fmt.Errorf("-pin %w", err)
	}
	var set unix.CPUSet
	set.Zero()
	for _, c := range list {
		set.Set(c)
	}
	// sched_setaffinity(0) moves only the calling thread; new threads inherit
	// their creator's mask, so set it on every thread the process has.
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("-pin %q: no such CPU here; this machine has CPUs %s", cpus, onlineCPUs())
		}
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

// onlineCPUs is the machine's online CPU list, as the kernel prints it.
func onlineCPUs() string {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return fmt.Sprintf("0-%d", runtime.NumCPU()-1)
	}
	return strings.TrimSpace(string(b))
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

// ParseCPUList parses "0", "0,1", "0-1" or "0,2-3" into sorted, distinct
// CPU numbers; anything else is one error line quoting s, which its caller
// prefixes with the flag it came from (-pin, -server-cpus, -client-cpus).
func ParseCPUList(s string) ([]int, error) {
	bad := func(why string) error {
		return fmt.Errorf("%q: %s; want CPU numbers such as 0, 0,1 or 0-1", s, why)
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

// CPUSplit is where the WFS processes and the load generator run.
type CPUSplit struct {
	Server, Client string // CPU lists; "" leaves that side unpinned
}

// SplitCPUs decides the CPU split of a run: -pin puts both sides on the
// same CPUs; -server-cpus and -client-cpus set each side. By default, on a
// machine (affinity) with two or more CPUs the WFS gets the first and the
// load generator the rest; with one CPU neither is pinned. The two sides
// may not overlap unless -pin asked for it.
func SplitCPUs(pin, server, client string) (CPUSplit, error) {
	if pin != "" {
		if server != "" || client != "" {
			return CPUSplit{}, fmt.Errorf("-pin %q: give -pin or -server-cpus/-client-cpus, not both", pin)
		}
		if _, err := ParseCPUList(pin); err != nil {
			return CPUSplit{}, fmt.Errorf("-pin %w", err)
		}
		return CPUSplit{Server: pin, Client: pin}, nil
	}
	avail, err := Affinity()
	if err != nil {
		return CPUSplit{}, err
	}
	have, err := ParseCPUList(avail)
	if err != nil {
		return CPUSplit{}, err
	}
	if server == "" && client == "" {
		if len(have) < 2 {
			return CPUSplit{}, nil
		}
		return CPUSplit{Server: formatCPUList(have[:1]), Client: formatCPUList(have[1:])}, nil
	}
	parse := func(flag, v string) ([]int, error) {
		l, err := ParseCPUList(v)
		if err != nil {
			return nil, fmt.Errorf("%s %w", flag, err)
		}
		for _, c := range l {
			if !contains(have, c) {
				return nil, fmt.Errorf("%s %q: CPU %d is not available to this process (have %s)", flag, v, c, avail)
			}
		}
		return l, nil
	}
	var s, c []int
	if server != "" {
		if s, err = parse("-server-cpus", server); err != nil {
			return CPUSplit{}, err
		}
	}
	if client != "" {
		if c, err = parse("-client-cpus", client); err != nil {
			return CPUSplit{}, err
		}
	}
	rest := func(of []int) []int {
		var out []int
		for _, x := range have {
			if !contains(of, x) {
				out = append(out, x)
			}
		}
		return out
	}
	if s == nil {
		s = rest(c)
	}
	if c == nil {
		c = rest(s)
	}
	if len(s) == 0 || len(c) == 0 {
		return CPUSplit{}, fmt.Errorf("-server-cpus %q -client-cpus %q: each side needs at least one CPU of %s", server, client, avail)
	}
	for _, x := range s {
		if contains(c, x) {
			return CPUSplit{}, fmt.Errorf("-server-cpus %q and -client-cpus %q share CPU %d; the WFS must have its own (use -pin to share on purpose)", server, client, x)
		}
	}
	return CPUSplit{Server: formatCPUList(s), Client: formatCPUList(c)}, nil
}

func contains(l []int, x int) bool {
	for _, y := range l {
		if y == x {
			return true
		}
	}
	return false
}
