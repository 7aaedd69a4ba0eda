package yamlstrict

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ReadFile reads a configuration file: a regular file (not a FIFO, a
// device or a directory, which could block or never end) of at most limit
// bytes. what names such a file in the errors ("a scenario"); the caller
// prefixes them with the flag or file they concern.
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%d bytes, more than the %d %s may have", info.Size(), limit, what)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	// The file may have grown since Stat: read one byte past the limit.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than the %d bytes %s may have", limit, what)
	}
	return b, nil
}

// unwrapPath drops the path a *fs.PathError repeats (the caller's message
// names the file already).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
