package mdtable

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "-"}, {-time.Second, "-"}, {1500 * time.Nanosecond, "2µs"}, {1260 * time.Microsecond, "1.26ms"}, {2500 * time.Millisecond, "2.50s"},
	} {
		if got := Duration(tc.d); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCode(t *testing.T) {
	if got := Code("authbench run"); got != "`authbench run`" {
		t.Errorf("Code = %q", got)
	}
	if got := Code("a`b"); got != "``a`b``" {
		t.Errorf("Code with a backtick = %q", got)
	}
}

func TestWriterTable(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Printf("# %s\n", "title")
	w.Table([]string{"scheme", "p50"}, [][]string{{"plain", "1.00ms"}, {"curve", "2.00ms"}})
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"# title\n", "| scheme |  p50   |", "| curve  | 2.00ms |"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// failing fails every write after the first n bytes.
type failing struct{ n int }

func (f *failing) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterKeepsFirstError: a failed write is kept, later writes are
// dropped, and Err reports it once at the end.
func TestWriterKeepsFirstError(t *testing.T) {
	w := NewWriter(&failing{n: 3})
	w.Printf("abc")
	w.Printf("def")
	w.Table([]string{"a"}, [][]string{{"b"}})
	if err := w.Err(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Err = %v, want disk full", err)
	}
}
