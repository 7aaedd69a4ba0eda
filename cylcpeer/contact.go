package cylcpeer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/authbench/authbench/wfs"
	"golang.org/x/sys/unix"
)

// Contact file keys a real Cylc 8 scheduler writes beyond those package
// wfs names (cylc/flow/workflow_files.py, ContactFileFields).
const (
	ContactVersion     = "CYLC_VERSION"
	ContactPublishPort = "CYLC_WORKFLOW_PUBLISH_PORT"
	ContactOwner       = "CYLC_WORKFLOW_OWNER"
	ContactRunDirHost  = "CYLC_WORKFLOW_RUN_DIR_ON_WORKFLOW_HOST"
	ContactUUID        = "CYLC_WORKFLOW_UUID"
	ContactCylcPath    = "SCHEDULER_CYLC_PATH"
)

// Contact is a real Cylc scheduler's contact file.
type Contact struct {
	// Path is the contact file; RunDir the workflow's run directory as
	// seen from here (the contact file's grandparent), ServiceDir its
	// .service directory.
	Path       string
	RunDir     string
	ServiceDir string
	// Workflow is the workflow's id (CYLC_WORKFLOW_ID), as its clients
	// name it in requests.
	Workflow string
	Host     string
	Port     int
	PubPort  int
	PID      int
	// API is the scheduler's network API version (CYLC_API, 5 for Cylc
	// 8) and Version its cylc-flow version.
	API     string
	Version string
	Owner   string
	UUID    string
	// CylcPath is the folder of the `cylc` the scheduler's jobs run
	// (SCHEDULER_CYLC_PATH), "" when the contact file names none.
	CylcPath string
}

// IsCylc reports whether c is a real Cylc scheduler's contact file rather
// than an authbench serve's: it names a cylc-flow version and no
// authbench scheme or endpoint.
func IsCylc(c wfs.Contact) bool {
	return c[ContactVersion] != "" && c[wfs.ContactScheme] == "" && c[wfs.ContactEndpoint] == ""
}

// ReadContact reads a real Cylc scheduler's contact file.
func ReadContact(path string) (*Contact, error) {
	raw, err := wfs.ReadContact(path)
	if err != nil {
		return nil, err
	}
	return ParseContact(path, raw)
}

// ParseContact checks a parsed contact file as a Cylc 8 scheduler's.
func ParseContact(path string, raw wfs.Contact) (*Contact, error) {
	if !IsCylc(raw) {
		return nil, fmt.Errorf("%s: not a Cylc scheduler's contact file (no %s, or it names an authbench scheme)", path, ContactVersion)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	svc := filepath.Dir(abs)
	c := &Contact{
		Path: abs, ServiceDir: svc, RunDir: filepath.Dir(svc),
		Workflow: raw[wfs.ContactWorkflow], Host: raw[wfs.ContactHost],
		API: raw[wfs.ContactAPI], Version: raw[ContactVersion],
		Owner: raw[ContactOwner], UUID: raw[ContactUUID], CylcPath: raw[ContactCylcPath],
	}
	need := func(key string, v *int) error {
		s := raw[key]
		if s == "" {
			return fmt.Errorf("%s: no %s", path, key)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return fmt.Errorf("%s: %s=%q is not a positive whole number", path, key, s)
		}
		*v = n
		return nil
	}
	if err := errors.Join(need(wfs.ContactPort, &c.Port), need(wfs.ContactPID, &c.PID)); err != nil {
		return nil, err
	}
	if raw[ContactPublishPort] != "" {
		if err := need(ContactPublishPort, &c.PubPort); err != nil {
			return nil, err
		}
	}
	if c.Workflow == "" {
		return nil, fmt.Errorf("%s: no %s", path, wfs.ContactWorkflow)
	}
	if c.Host == "" {
		return nil, fmt.Errorf("%s: no %s", path, wfs.ContactHost)
	}
	if !strings.HasPrefix(c.Version, "8.") {
		return nil, fmt.Errorf("%s: cylc-flow %s: authbench speaks to Cylc 8 (API 5) only", path, c.Version)
	}
	return c, nil
}

// Endpoint is the scheduler's request endpoint.
func (c *Contact) Endpoint() string {
	return "tcp://" + net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// Server names the scheduler as results record it: "cylc-flow VERSION".
func (c *Contact) Server() string { return "cylc-flow " + c.Version }

// Local reports whether the scheduler runs on this host, so that its pid
// and /proc can be checked.
func (c *Contact) Local() bool {
	switch c.Host {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	host, _ := os.Hostname()
	if host == "" {
		return false
	}
	short, _, _ := strings.Cut(host, ".")
	h, _, _ := strings.Cut(c.Host, ".")
	return c.Host == host || h == short
}

// Alive reports a stale contact file: one whose scheduler runs on this
// host under a pid that no longer runs (a scheduler killed without
// removing its contact file). A scheduler on another host is not checked.
func (c *Contact) Alive() error {
	if !c.Local() {
		return nil
	}
	if err := unix.Kill(c.PID, 0); errors.Is(err, unix.ESRCH) {
		return &Error{Kind: KindStale, Msg: fmt.Sprintf("%s: the scheduler it names (pid %d on %s) is not running: the contact file is stale (cylc play %s again)", c.Path, c.PID, c.Host, c.Workflow)}
	}
	return nil
}
