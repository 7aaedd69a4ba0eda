package scenarios

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/results"
)

// Environment describes this machine for a results file.
func Environment() results.Environment {
	maj, mnr, pat := zmq.Version()
	e := results.Environment{
		Host:       hostname(),
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		Go:         runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Libzmq:     fmt.Sprintf("%d.%d.%d", maj, mnr, pat),
		Libsodium:  curveNote(),
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		e.Kernel = utsString(u.Sysname[:]) + " " + utsString(u.Release[:])
	}
	return e
}

func curveNote() string {
	if zmq.HasCurve() {
		return "curve available"
	}
	return "no curve"
}

func utsString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
