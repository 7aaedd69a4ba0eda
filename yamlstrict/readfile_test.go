package yamlstrict

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yaml")
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(small, []byte("name: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(big, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		path, want string
	}{
		{small, ""},
		{big, "101 bytes, more than the 100 a test file may have"},
		{dir, "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{filepath.Join(dir, "none"), "no such file or directory"},
	}
	for _, tc := range cases {
		b, err := ReadFile(tc.path, 100, "a test file")
		switch {
		case tc.want == "" && (err != nil || string(b) != "name: x\n"):
			t.Errorf("%s: %q, %v", tc.path, b, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.path)):
			t.Errorf("%s: error %v, want %q without the path (the caller names it)", tc.path, err, tc.want)
		}
	}
}
