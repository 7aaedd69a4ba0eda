package wfs

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// RunDir is a workflow run directory laid out as Cylc 8 lays it out:
//
//	<run>/.service/{contact, passphrase, token, ...}
//	<run>/log/job/<cycle>/<task>/<NN>/{job, job.status, job.out, job.err}
//
// All file operations go through Files, so they are counted.
type RunDir struct {
	Root  string
	Files *Files
}

// NewRunDir makes the run directory (0700) and its .service directory.
func NewRunDir(root string, files *Files) (*RunDir, error) {
	r := &RunDir{Root: root, Files: files}
	if err := files.MkdirAll(r.ServiceDir()); err != nil {
		return nil, err
	}
	return r, nil
}

// ServiceDir is <run>/.service.
func (r *RunDir) ServiceDir() string { return filepath.Join(r.Root, ".service") }

// Service returns the path of name inside .service.
func (r *RunDir) Service(name string) string { return filepath.Join(r.ServiceDir(), name) }

// ContactPath is the contact file, <run>/.service/contact.
func (r *RunDir) ContactPath() string { return r.Service("contact") }

// JobDir returns <run>/log/job/<cycle>/<task>/<NN> for a job id of the form
// cycle/task/NN (NN is the submit number, two digits).
func (r *RunDir) JobDir(id JobID) string {
	return filepath.Join(r.Root, "log", "job", id.Cycle, id.Task, fmt.Sprintf("%02d", id.Submit))
}

// JobStatusPath returns the job's job.status file.
func (r *RunDir) JobStatusPath(id JobID) string { return filepath.Join(r.JobDir(id), "job.status") }

// JobID names one submission of one task at one cycle point, as Cylc does:
// "cycle/task/NN".
type JobID struct {
	Cycle  string
	Task   string
	Submit int
}

// String returns cycle/task/NN.
func (j JobID) String() string { return fmt.Sprintf("%s/%s/%02d", j.Cycle, j.Task, j.Submit) }

// ParseJobID parses "cycle/task/NN". Path separators other than the two
// slashes, empty parts, "." and ".." are refused so that a job id can never
// name a path outside the run directory.
func ParseJobID(s string) (JobID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return JobID{}, fmt.Errorf("job id %q: want cycle/task/NN", s)
	}
	for _, p := range parts[:2] {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "\\\x00") {
			return JobID{}, fmt.Errorf("job id %q: bad part %q", s, p)
		}
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n < 0 || n > 99 {
		return JobID{}, fmt.Errorf("job id %q: submit number %q is not 00-99", s, parts[2])
	}
	return JobID{Cycle: parts[0], Task: parts[1], Submit: n}, nil
}

// MakeJobDir creates the job's log directory (0700) and its job script
// placeholder, as job submission does.
func (r *RunDir) MakeJobDir(id JobID) error {
	return r.Files.MkdirAll(r.JobDir(id))
}

// Contact is the content of a contact file: KEY=VALUE lines, no secrets.
type Contact map[string]string

// Well-known contact keys (Cylc 8 names).
const (
	ContactHost     = "CYLC_WORKFLOW_HOST"
	ContactPort     = "CYLC_WORKFLOW_PORT"
	ContactPID      = "CYLC_WORKFLOW_PID"
	ContactAPI      = "CYLC_API"
	ContactWorkflow = "CYLC_WORKFLOW_ID"
	ContactEndpoint = "AUTHBENCH_ENDPOINT"
	ContactScheme   = "AUTHBENCH_SCHEME"
	ContactRunDir   = "CYLC_WORKFLOW_RUN_DIR"
	// ContactModel is the WFS's serving model (fast or cylc): clients in
	// other processes send job messages as that model takes them.
	ContactModel = "AUTHBENCH_SERVER_MODEL"
	// ContactFSModel is the file-system latency model the WFS's file layer
	// applies (FSModel.String), so that clients in other processes apply it
	// too; absent when the WFS applies none.
	ContactFSModel = "AUTHBENCH_FS_MODEL"
)

// Endpoint returns the ZMQ endpoint recorded in the contact file.
func (c Contact) Endpoint() (string, error) {
	if ep := c[ContactEndpoint]; ep != "" {
		return ep, nil
	}
	host, port := c[ContactHost], c[ContactPort]
	if host == "" || port == "" {
		return "", fmt.Errorf("contact: neither %s nor %s and %s set", ContactEndpoint, ContactHost, ContactPort)
	}
	return "tcp://" + host + ":" + port, nil
}

// Marshal renders the contact file, keys sorted.
func (c Contact) Marshal() []byte {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, c[k])
	}
	return b.Bytes()
}

// ParseContact parses KEY=VALUE lines. Blank lines and lines starting with #
// are skipped. name is used in errors (file:line: message).
func ParseContact(name string, data []byte) (Contact, error) {
	c := Contact{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", name, line, trunc(t, 60))
		}
		if _, dup := c[k]; dup {
			return nil, fmt.Errorf("%s:%d: duplicate key %s", name, line, k)
		}
		c[k] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return c, nil
}

// ReadContact reads and parses a contact file.
func ReadContact(path string) (Contact, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contact file: %w", err)
	}
	return ParseContact(path, b)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
