package scenarios

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// progress counts a run's top-level operations (commands, job messages,
// polls: not their handshakes and round trips) and errors and reports them
// while it goes: on a terminal a live line, rewritten twice a second;
// otherwise one line every interval (5 s by default). Either way a final
// line is kept when the scheme's run ends, however short.
type progress struct {
	ops, errs atomic.Int64
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func (p *progress) line(label string, start, deadline, now time.Time) string {
	el := now.Sub(start)
	n := p.ops.Load()
	rate := 0.0
	if el > 0 {
		rate = float64(n) / el.Seconds()
	}
	eta := "until done"
	if !deadline.IsZero() {
		eta = "at most " + max(0, deadline.Sub(now)).Round(time.Second).String() + " left"
	}
	return fmt.Sprintf("%s: %d operations (%.0f/s), %d errors, %s elapsed, %s",
		label, n, rate, p.errs.Load(), el.Round(time.Second), eta)
}

func (p *progress) start(w io.Writer, every time.Duration, label string, start, deadline time.Time) (stop func()) {
	if w == nil {
		return func() {}
	}
	tty := isTerminal(w)
	if tty {
		every = 500 * time.Millisecond
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				final := strings.Replace(p.line(label, start, time.Time{}, time.Now()), "until done", "done", 1)
				if tty {
					fmt.Fprintf(w, "\r\033[K%s\n", final)
				} else {
					fmt.Fprintln(w, final)
				}
				return
			case now := <-t.C:
				if tty {
					fmt.Fprintf(w, "\r\033[K%s", p.line(label, start, deadline, now))
				} else {
					fmt.Fprintln(w, p.line(label, start, deadline, now))
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
