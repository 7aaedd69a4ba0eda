package cylcpeer

import (
	"os"
	"testing"
)

// TestPythonCPU: a window's Python CPU is its threads' run time but
// libzmq's, and is refused as RunCPU is when a thread went away.
func TestPythonCPU(t *testing.T) {
	from := ProcSample{RunNS: map[int]uint64{1: 100, 2: 1000, 3: 5}, Libzmq: map[int]bool{2: true}}
	to := ProcSample{RunNS: map[int]uint64{1: 600, 2: 4000, 3: 10, 4: 50}, Libzmq: map[int]bool{2: true}}
	w := ProcWindow{From: from, To: to}
	if got, ok := w.PythonCPU(); !ok || got != 555 {
		t.Errorf("PythonCPU %v %v, want 555ns", got, ok)
	}
	if got, ok := w.RunCPU(); !ok || got != 3555 {
		t.Errorf("RunCPU %v %v, want 3555ns", got, ok)
	}
	delete(to.RunNS, 3)
	if _, ok := (ProcWindow{From: from, To: to}).PythonCPU(); ok {
		t.Error("a thread gone: PythonCPU should not be given")
	}
}

// TestReadProcThreads: this process's threads are sampled; a Go process
// has no libzmq threads until it makes a ZeroMQ context.
func TestReadProcThreads(t *testing.T) {
	s, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.RunNS) == 0 {
		t.Fatal("no threads' run times")
	}
	for tid := range s.Libzmq {
		if _, ok := s.RunNS[tid]; !ok {
			t.Errorf("libzmq thread %d has no run time", tid)
		}
	}
}
