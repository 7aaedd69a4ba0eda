package wfs_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/authbench/authbench/wfs"
)

func TestContactRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		c    wfs.Contact
	}{
		{"empty", wfs.Contact{}},
		{"cylc", wfs.Contact{
			wfs.ContactHost: "127.0.0.1", wfs.ContactPort: "43017", wfs.ContactPID: "4242",
			wfs.ContactAPI: "5", wfs.ContactWorkflow: "my/flow/run1",
			wfs.ContactEndpoint: "tcp://127.0.0.1:43017", wfs.ContactRunDir: "/home/me/cylc-run/my/flow/run1",
		}},
		{"values with = and #", wfs.Contact{"A": "x=y=z", "B": "#not-a-comment", "C": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.c.Marshal()
			got, err := wfs.ParseContact("contact", b)
			if err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, tc.c) {
				t.Fatalf("round trip:\n got %v\nwant %v\nfile:\n%s", got, tc.c, b)
			}
			// Marshal is deterministic (keys sorted).
			if string(tc.c.Marshal()) != string(b) {
				t.Fatal("Marshal is not deterministic")
			}
		})
	}
}

func TestContactFile(t *testing.T) {
	run := newRun(t, true)
	c := wfs.Contact{wfs.ContactHost: "h", wfs.ContactPort: "43001"}
	if err := run.Files.WriteFile(run.ContactPath(), c.Marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := wfs.ReadContact(run.ContactPath())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got %v, want %v", got, c)
	}
	if _, err := wfs.ReadContact(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("reading a missing contact file succeeded")
	}
}

func TestParseContact(t *testing.T) {
	good := "# written by authbench\n\nA=1\n  B = two words  \n#C=3\nD=\n"
	got, err := wfs.ParseContact("f", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := wfs.Contact{"A": "1", "B": "two words", "D": ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	bad := []struct {
		name, data, want string
	}{
		{"no equals", "A=1\nnovalue\n", "contact:2: "},
		{"empty key", "A=1\n\n=x\n", "contact:3: "},
		{"space in key", "A B=1\n", "contact:1: "},
		{"duplicate", "A=1\nB=2\nA=3\n", "contact:3: duplicate key A"},
		{"line too long", "A=1\nB=" + strings.Repeat("x", 2<<20) + "\n", "contact:2: "},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := wfs.ParseContact("contact", []byte(tc.data))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %q, want prefix %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q is more than one line", err)
			}
		})
	}
}

func TestContactEndpoint(t *testing.T) {
	cases := []struct {
		name string
		c    wfs.Contact
		want string // "" means an error
	}{
		{"endpoint", wfs.Contact{wfs.ContactEndpoint: "ipc:///tmp/x", wfs.ContactHost: "h", wfs.ContactPort: "1"}, "ipc:///tmp/x"},
		{"host and port", wfs.Contact{wfs.ContactHost: "h", wfs.ContactPort: "43001"}, "tcp://h:43001"},
		{"host only", wfs.Contact{wfs.ContactHost: "h"}, ""},
		{"empty", wfs.Contact{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Endpoint()
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseJobID(t *testing.T) {
	good := []struct {
		in   string
		want wfs.JobID
		str  string
	}{
		{"1/foo/01", wfs.JobID{Cycle: "1", Task: "foo", Submit: 1}, "1/foo/01"},
		{"20250101T0000Z/bar_baz/00", wfs.JobID{Cycle: "20250101T0000Z", Task: "bar_baz", Submit: 0}, "20250101T0000Z/bar_baz/00"},
		{"1/foo/99", wfs.JobID{Cycle: "1", Task: "foo", Submit: 99}, "1/foo/99"},
		{"1/foo/7", wfs.JobID{Cycle: "1", Task: "foo", Submit: 7}, "1/foo/07"},
		{"1/..foo/01", wfs.JobID{Cycle: "1", Task: "..foo", Submit: 1}, "1/..foo/01"},
	}
	for _, tc := range good {
		got, err := wfs.ParseJobID(tc.in)
		if err != nil {
			t.Errorf("ParseJobID(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || got.String() != tc.str {
			t.Errorf("ParseJobID(%q) = %+v (%s), want %+v (%s)", tc.in, got, got, tc.want, tc.str)
		}
	}
	bad := []string{
		"", "1", "1/foo", "1/foo/01/x", "/foo/01", "1//01", "1/foo/",
		"../foo/01", "1/../01", "./foo/01", "1/./01", "../../01",
		"1/fo\\o/01", "1/fo\x00o/01",
		"1/foo/x", "1/foo/100", "1/foo/-1", "1/foo/ 1",
	}
	for _, in := range bad {
		if got, err := wfs.ParseJobID(in); err == nil {
			t.Errorf("ParseJobID(%q) = %+v, want an error", in, got)
		}
	}
}

func TestRunDirLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "run")
	run, err := wfs.NewRunDir(root, wfs.NewFiles(false))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{root, run.ServiceDir()} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s: mode %v, want a 0700 directory", dir, fi.Mode())
		}
	}
	if got, want := run.ContactPath(), filepath.Join(root, ".service", "contact"); got != want {
		t.Fatalf("ContactPath %q, want %q", got, want)
	}
	id := wfs.JobID{Cycle: "2025", Task: "foo", Submit: 3}
	if got, want := run.JobStatusPath(id), filepath.Join(root, "log", "job", "2025", "foo", "03", "job.status"); got != want {
		t.Fatalf("JobStatusPath %q, want %q", got, want)
	}
	if err := run.MakeJobDir(id); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(run.JobDir(id))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("job dir: %v %v", fi, err)
	}
	if st := run.Files.Stats(); st.Created != 0 {
		t.Fatalf("directories counted as files: %+v", st)
	}
}
