package wfs

import (
	"maps"
	"strings"
	"testing"
)

// FuzzParseContact checks the contact-file parser: no panic, errors that
// name the file and a line, keys that are plain words, and a parsed file
// that renders (Marshal) and parses back to the same entries.
func FuzzParseContact(f *testing.F) {
	for _, s := range []string{
		"CYLC_API=5\nCYLC_WORKFLOW_HOST=localhost\nCYLC_WORKFLOW_PORT=43001\n",
		"# comment\n\nKEY = value with spaces \n", "A=1\nA=2\n", "no equals\n", "=v\n", "K V=1\n",
		"K=\r\n", "K=a=b\n", "  #x=1\n", strings.Repeat("K", 70) + "\n", "\x00=\x00\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		c, err := ParseContact("contact", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "contact:") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		for k := range c {
			if k == "" || strings.ContainsAny(k, " \t\n=") || strings.HasPrefix(k, "#") {
				t.Fatalf("ParseContact(%q) gave key %q", data, k)
			}
		}
		back, err := ParseContact("again", c.Marshal())
		if err != nil || !maps.Equal(back, c) {
			t.Fatalf("round trip of %q via %q: %v %v, want %v", data, c.Marshal(), back, err, c)
		}
	})
}
