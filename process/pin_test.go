package process

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	good := []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0,1", []int{0, 1}},
		{"0-1", []int{0, 1}},
		{"1,0", []int{0, 1}},
		{"0,2-3", []int{0, 2, 3}},
		{" 1 - 2 , 1", []int{1, 2}},
		{"3-3", []int{3}},
	}
	for _, c := range good {
		got, err := ParseCPUList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", " ", ",", "0,", ",1", "a", "1-", "-1", "2-1", "0-1-2", "+1", "1.5", "1024", "0x1", "0;1"} {
		got, err := ParseCPUList(in)
		if err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", in, got)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, strconv.Quote(in)+": ") || strings.Contains(msg, "\n") {
			t.Errorf("ParseCPUList(%q) error %q: want one line quoting the list", in, msg)
		}
	}
}

func TestFormatCPUList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{[]int{0}, "0"}, {[]int{0, 1}, "0-1"}, {[]int{0, 1, 2, 5, 7, 8}, "0-2,5,7-8"}} {
		if got := formatCPUList(c.in); got != c.want {
			t.Errorf("formatCPUList(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPinCurrent pins to the affinity the process already has, so it moves
// nothing, and checks a bad list is refused before anything is pinned.
func TestPinCurrent(t *testing.T) {
	cur, err := Affinity()
	if err != nil {
		t.Fatal(err)
	}
	if err := Pin(cur); err != nil {
		t.Fatalf("Pin(%q): %v", cur, err)
	}
	if after, _ := Affinity(); after != cur {
		t.Errorf("affinity %q after pinning to %q", after, cur)
	}
	if err := Pin("x"); err == nil {
		t.Error(`Pin("x") succeeded`)
	}
}

// TestSplitCPUs: the default split gives the WFS the first CPU and the
// load generator the rest; explicit lists must not overlap, and -pin shares.
func TestSplitCPUs(t *testing.T) {
	avail, err := Affinity()
	if err != nil {
		t.Fatal(err)
	}
	have, _ := ParseCPUList(avail)
	if len(have) < 2 {
		t.Skipf("needs 2 CPUs, have %s", avail)
	}
	first, second := formatCPUList(have[:1]), formatCPUList(have[1:2])
	rest := formatCPUList(have[1:])
	tests := []struct {
		name, pin, server, client string
		want                      CPUSplit
		wantErr                   string
	}{
		{"default", "", "", "", CPUSplit{Server: first, Client: rest}, ""},
		{"pin shares", first, "", "", CPUSplit{Server: first, Client: first}, ""},
		{"server only", "", second, "", CPUSplit{Server: second, Client: formatCPUList(without(have, have[1]))}, ""},
		{"client only", "", "", first, CPUSplit{Server: rest, Client: first}, ""},
		{"overlap", "", first, first, CPUSplit{}, "share CPU"},
		{"pin and split", first, first, "", CPUSplit{}, "not both"},
		{"unavailable", "", "1000", "", CPUSplit{}, "not available"},
		{"garbage", "", "x", "", CPUSplit{}, "-server-cpus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitCPUs(tc.pin, tc.server, tc.client)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func without(l []int, x int) []int {
	var out []int
	for _, y := range l {
		if y != x {
			out = append(out, y)
		}
	}
	return out
}

// TestSplitCPUsNamesTheFlag: a bad -server-cpus is reported under
// -server-cpus (it was reported under -pin: issue 24 #20).
func TestSplitCPUsNamesTheFlag(t *testing.T) {
	for _, tc := range []struct{ pin, server, client, want string }{
		{"", "abc", "", `-server-cpus "abc": "abc" is not a CPU number`},
		{"", "", "abc", `-client-cpus "abc": "abc" is not a CPU number`},
		{"abc", "", "", `-pin "abc": "abc" is not a CPU number`},
	} {
		_, err := SplitCPUs(tc.pin, tc.server, tc.client)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("SplitCPUs(%q, %q, %q) = %v, want %q", tc.pin, tc.server, tc.client, err, tc.want)
		}
	}
}
