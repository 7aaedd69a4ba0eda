// Package site models a real site's load on its workflow services (a YAML
// site model: workflows, jobs, messages, bursts, commands, UI servers) and
// projects measured results onto it: what share of one WFS, and of the
// host, each scheme would take there, whether that share is within the
// site's budget, how much headroom its capacity knee leaves at the site's
// peak, and the file operations a day it costs.
//
// Every scheme's per-operation costs come from one named scenario set
// (ScenarioSets): commands from one scenario, job messages from another,
// all under one server model and one file-system model. The UI server is
// charged as Cylc 8 runs it: published deltas on one long-lived
// connection per workflow, plus occasional queries on that connection.
//
// The projection is computed into a model (Projection, JSON-serialisable)
// and then rendered as markdown (WriteMarkdown).
package site

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/authbench/authbench/yamlstrict"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// MaxFile bounds a site file's size (1 MiB; the built-ins are under 2 kB).
const MaxFile = 1 << 20

// Limits past which a site figure means nothing a real site runs.
const (
	MaxWorkflows       = 100000
	MaxHostCPUs        = 65536
	MaxActiveJobs      = 10000000
	MaxMessagesPerJob  = 1000
	MaxTasksPerDay     = 1e9
	MaxBurstJobs       = 1000000
	MaxCommandsPerHour = 1e7
	MaxUIServers       = 10000
	MaxUpdatesPerJob   = 1000
	MaxQueriesPerHour  = 1e6
	MinJobDuration     = time.Second
	MaxJobDuration     = 30 * 24 * time.Hour
	MaxBurstWindow     = 24 * time.Hour
	MaxFSOpLatency     = 10 * time.Second
)

// Day is the length of the day the per-day figures are counted over.
const Day = 24 * time.Hour

// Duration is a time.Duration written as "5s" or "2ms" in YAML (and in
// JSON, as text).
type Duration = yamlstrict.Duration

// Site is a site model: how many workflows (one WFS each) share a host, and
// the load they carry. Load figures (active_jobs, tasks_per_day,
// cli_commands_per_hour) are for the whole site, spread evenly over its
// workflows; a cycle-point burst is one workflow's; each UI server
// subscribes to every workflow's published deltas.
type Site struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Source cites where the figures come from (a URL or a reference).
	Source string `yaml:"source" json:"source"`
	// Workflows is how many workflows run on the host, each with a WFS
	// process of its own.
	Workflows int `yaml:"workflows" json:"workflows"`
	// HostCPUs is the host's CPUs (0: not given).
	HostCPUs int `yaml:"host_cpus" json:"host_cpus,omitempty"`
	// ActiveJobs is the jobs running at once across the site; with
	// MeanJobDuration it gives the job rate (Little's law).
	ActiveJobs      int      `yaml:"active_jobs" json:"active_jobs,omitempty"`
	MeanJobDuration Duration `yaml:"mean_job_duration" json:"mean_job_duration,omitempty"`
	// TasksPerDay is the jobs a day across the site, instead of ActiveJobs.
	TasksPerDay float64 `yaml:"tasks_per_day" json:"tasks_per_day,omitempty"`
	// MessagesPerJob is the messages each job sends (started, custom
	// messages, succeeded or failed): each one a request to its WFS.
	MessagesPerJob float64 `yaml:"messages_per_job" json:"messages_per_job"`
	// CyclePointBurst is one workflow's peak: jobs starting together.
	CyclePointBurst *Burst `yaml:"cycle_point_burst" json:"cycle_point_burst,omitempty"`
	// CLICommandsPerHour is the CLI commands an hour across the site.
	CLICommandsPerHour float64 `yaml:"cli_commands_per_hour" json:"cli_commands_per_hour,omitempty"`
	// UIServers subscribe to every workflow's WFS.
	UIServers *UIServers `yaml:"ui_servers" json:"ui_servers,omitempty"`
	// WFSCPUShareBudget is the share of one CPU a WFS may take at the
	// site's peak, with its source (nil: no budget given).
	WFSCPUShareBudget *Budget `yaml:"wfs_cpu_share_budget" json:"wfs_cpu_share_budget,omitempty"`
	// FSOpLatency is the latency of one operation on the shared file
	// system (0: not given).
	FSOpLatency Duration `yaml:"fs_op_latency" json:"fs_op_latency,omitempty"`

	// Origin is where the site came from: "built-in NAME" or its file.
	Origin string `yaml:"-" json:"origin"`
}

// Burst is a cycle point's dispatch burst in one workflow: Jobs jobs start
// within Within, each sending Messages messages in that window (default 1:
// "started").
type Burst struct {
	Jobs     int      `yaml:"jobs" json:"jobs"`
	Within   Duration `yaml:"within" json:"within"`
	Messages float64  `yaml:"messages" json:"messages"`
}

// UIServers is Count UI servers as Cylc 8 runs them: each holds one
// long-lived connection to every workflow's WFS, subscribes to the deltas
// the WFS publishes (PUB/SUB) and makes QueriesPerHour requests an hour
// on that connection (a full fetch on (re)connect, a topic when its
// checksum disagrees, a user's mutation). UpdatesPerJob is the changes a
// job makes to its workflow's data store (its submission and each
// message); the changes of one main-loop iteration go out as one publish.
type UIServers struct {
	Count          int     `yaml:"count" json:"count"`
	UpdatesPerJob  float64 `yaml:"updates_per_job" json:"updates_per_job"`
	QueriesPerHour float64 `yaml:"queries_per_hour" json:"queries_per_hour"`
	// PollInterval is the old polling model's key, refused with a pointer
	// to the keys above: Cylc 8's UI server does not poll.
	PollInterval Duration `yaml:"poll_interval" json:"-"`
}

// Budget is a limit with the source it comes from (a cylc-flow figure, a
// site figure or a published threshold).
type Budget struct {
	Value  float64 `yaml:"value" json:"value"`
	Source string  `yaml:"source" json:"source"`
}

// nameRE is what a site name may be.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks the site for missing or impossible figures. Errors name
// the field; Parse adds the file and line.
func (s *Site) Validate() error {
	if s.Name == "" {
		return ferr("name", "required")
	}
	if !nameRE.MatchString(s.Name) {
		return ferr("name", "want lower-case letters, digits, '.', '_' or '-' (at most 64), got %q", s.Name)
	}
	if strings.TrimSpace(s.Source) == "" {
		return ferr("source", "required: cite where the figures come from (a URL or a reference)")
	}
	if s.Workflows < 1 || s.Workflows > MaxWorkflows {
		return ferr("workflows", "want 1 to %d, got %d", MaxWorkflows, s.Workflows)
	}
	if s.HostCPUs < 0 || s.HostCPUs > MaxHostCPUs {
		return ferr("host_cpus", "want 1 to %d (or leave it out), got %d", MaxHostCPUs, s.HostCPUs)
	}
	if s.ActiveJobs < 0 || s.ActiveJobs > MaxActiveJobs {
		return ferr("active_jobs", "want 1 to %d, got %d", MaxActiveJobs, s.ActiveJobs)
	}
	if d := s.MeanJobDuration.D(); d != 0 && (d < MinJobDuration || d > MaxJobDuration) {
		return ferr("mean_job_duration", "want %s to %s, got %s", MinJobDuration, MaxJobDuration, d)
	}
	if bad(s.TasksPerDay) || s.TasksPerDay < 0 || s.TasksPerDay > MaxTasksPerDay {
		return ferr("tasks_per_day", "want 1 to %g, got %g", MaxTasksPerDay, s.TasksPerDay)
	}
	switch {
	case s.TasksPerDay > 0 && s.ActiveJobs > 0:
		return ferr("active_jobs", "give tasks_per_day or active_jobs (with mean_job_duration), not both")
	case s.TasksPerDay == 0 && s.ActiveJobs == 0:
		return ferr("tasks_per_day", "required: give tasks_per_day, or active_jobs with mean_job_duration")
	case s.ActiveJobs > 0 && s.MeanJobDuration == 0:
		return ferr("active_jobs", "needs mean_job_duration (the job rate is active_jobs / mean_job_duration)")
	}
	if bad(s.MessagesPerJob) || s.MessagesPerJob < 1 || s.MessagesPerJob > MaxMessagesPerJob {
		return ferr("messages_per_job", "want 1 to %d, got %g", MaxMessagesPerJob, s.MessagesPerJob)
	}
	if b := s.CyclePointBurst; b != nil {
		if b.Jobs < 1 || b.Jobs > MaxBurstJobs {
			return ferr("cycle_point_burst.jobs", "want 1 to %d, got %d", MaxBurstJobs, b.Jobs)
		}
		if b.Within.D() <= 0 || b.Within.D() > MaxBurstWindow {
			return ferr("cycle_point_burst.within", "want a positive duration up to %s, got %s", MaxBurstWindow, b.Within.D())
		}
		if bad(b.Messages) || b.Messages <= 0 || b.Messages > s.MessagesPerJob {
			return ferr("cycle_point_burst.messages", "want more than 0 and at most messages_per_job (%g), got %g", s.MessagesPerJob, b.Messages)
		}
	}
	if bad(s.CLICommandsPerHour) || s.CLICommandsPerHour < 0 || s.CLICommandsPerHour > MaxCommandsPerHour {
		return ferr("cli_commands_per_hour", "want 0 to %g, got %g", MaxCommandsPerHour, s.CLICommandsPerHour)
	}
	if u := s.UIServers; u != nil {
		if u.PollInterval != 0 {
			return ferr("ui_servers.poll_interval", "Cylc 8's UI server does not poll: it subscribes to published deltas on one connection per workflow; give updates_per_job and queries_per_hour instead (docs/sites.md)")
		}
		if u.Count < 1 || u.Count > MaxUIServers {
			return ferr("ui_servers.count", "want 1 to %d, got %d", MaxUIServers, u.Count)
		}
		if bad(u.UpdatesPerJob) || u.UpdatesPerJob < 1 || u.UpdatesPerJob > MaxUpdatesPerJob {
			return ferr("ui_servers.updates_per_job", "want 1 to %d (a job's submission and each of its messages change the data store), got %g", MaxUpdatesPerJob, u.UpdatesPerJob)
		}
		if bad(u.QueriesPerHour) || u.QueriesPerHour < 0 || u.QueriesPerHour > MaxQueriesPerHour {
			return ferr("ui_servers.queries_per_hour", "want 0 to %g, got %g", MaxQueriesPerHour, u.QueriesPerHour)
		}
	}
	if b := s.WFSCPUShareBudget; b != nil {
		if bad(b.Value) || b.Value <= 0 || b.Value > 1 {
			return ferr("wfs_cpu_share_budget.value", "want a share of one CPU, more than 0 and at most 1, got %g", b.Value)
		}
		if strings.TrimSpace(b.Source) == "" {
			return ferr("wfs_cpu_share_budget.source", "required: cite where the budget comes from")
		}
	}
	if d := s.FSOpLatency.D(); d < 0 || d > MaxFSOpLatency {
		return ferr("fs_op_latency", "want 0 to %s, got %s", MaxFSOpLatency, d)
	}
	return nil
}

// bad is true for NaN and infinities (YAML accepts .nan and .inf).
func bad(f float64) bool { return f != f || f > 1e300 || f < -1e300 }

// Parse decodes and validates a site model strictly: an unknown field, a
// wrong type or an impossible value is one error line
// "site NAME line N: field: problem", where NAME is file (a path, or
// "built-in NAME").
func Parse(file string, data []byte) (*Site, error) {
	fail := func(line int, msg string) error {
		return fmt.Errorf("site %s line %d: %s", file, max(line, 1), msg)
	}
	if len(data) > MaxFile {
		return nil, fail(1, fmt.Sprintf("%d bytes, more than the %d a site file may have", len(data), MaxFile))
	}
	root, err := yamlstrict.Document(data)
	if err != nil {
		return nil, fail(yamlError(err))
	}
	if root == nil {
		return nil, fail(1, "empty site file; want a mapping with name, source, workflows and the load")
	}
	ps, err := yamlstrict.Check(root, reflect.TypeFor[Site](), strictOptions())
	if err != nil {
		return nil, fail(yamlError(err))
	}
	// The walk above gave the precise error; decoding with KnownFields is
	// the strict decoder's own check on top.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var s Site
	if err := strict.Decode(&s); err != nil {
		return nil, fail(yamlError(err))
	}
	if s.CyclePointBurst != nil && s.CyclePointBurst.Messages == 0 {
		if _, given := ps["cycle_point_burst.messages"]; !given {
			s.CyclePointBurst.Messages = 1
		}
	}
	if err := s.Validate(); err != nil {
		var fe *yamlstrict.FieldError
		if errors.As(err, &fe) {
			return nil, fail(ps.Where(fe.Path).Line, fe.Error())
		}
		return nil, fail(1, err.Error())
	}
	return &s, nil
}

// Builtins lists the built-in sites, sorted by name.
func Builtins() ([]*Site, error) {
	names, err := BuiltinNames()
	if err != nil {
		return nil, err
	}
	var out []*Site
	for _, n := range names {
		s, err := loadBuiltin(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// BuiltinNames lists the built-in sites' names, sorted.
func BuiltinNames() ([]string, error) {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil, fmt.Errorf("built-in sites: %w", err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// BuiltinYAML returns a built-in site's YAML, comments (its citations) and
// all.
func BuiltinYAML(name string) ([]byte, error) {
	if strings.ContainsAny(name, "/.") {
		return nil, unknownBuiltin(name)
	}
	b, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, unknownBuiltin(name)
	}
	return b, nil
}

func unknownBuiltin(name string) error {
	names, _ := BuiltinNames()
	return fmt.Errorf("no built-in site %q (have %s) and not a file path", name, strings.Join(names, ", "))
}

func loadBuiltin(name string) (*Site, error) {
	b, err := BuiltinYAML(name)
	if err != nil {
		return nil, err
	}
	s, err := Parse("built-in "+name, b)
	if err != nil {
		return nil, err
	}
	s.Origin = "built-in " + name
	return s, nil
}

// Load returns a built-in site by name, or reads and parses a site file (a
// path: anything with a '/' or a '.').
func Load(nameOrFile string) (*Site, error) {
	if !strings.ContainsAny(nameOrFile, "/.") {
		return loadBuiltin(nameOrFile)
	}
	b, err := readFile(nameOrFile)
	if err != nil {
		return nil, err
	}
	s, err := Parse(nameOrFile, b)
	if err != nil {
		return nil, err
	}
	s.Origin = nameOrFile
	return s, nil
}

// readFile reads a site file: a regular file (not a FIFO, a device or a
// directory, which could block or never end) of at most MaxFile bytes.
func readFile(p string) ([]byte, error) {
	b, err := yamlstrict.ReadFile(p, MaxFile, "a site file")
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", p, err)
	}
	return b, nil
}

// unwrapPath drops the path a *fs.PathError repeats (the message names the
// file already).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
