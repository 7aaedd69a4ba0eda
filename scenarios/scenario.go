// Package scenarios holds the scenario model (YAML), the built-in scenarios
// and the load engine that drives CLI, job and UI-server clients against a
// real WFS for each scheme.
package scenarios

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/process"

	"github.com/authbench/authbench/flows"
	"github.com/authbench/authbench/issuerload"
	"github.com/authbench/authbench/wfs"
	"github.com/authbench/authbench/yamlstrict"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Duration is a time.Duration written as "10s" or "250ms" in YAML.
type Duration = yamlstrict.Duration

// Scenario is a scripted load: client groups and the figures their verdicts
// are judged against.
type Scenario struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Seed        int64    `yaml:"seed"`
	Warmup      Duration `yaml:"warmup"`
	// Duration bounds the run; Count (per group) ends it earlier.
	Duration Duration  `yaml:"duration"`
	CLI      *CLIGroup `yaml:"cli"`
	Job      *JobGroup `yaml:"job"`
	UIS      *UISGroup `yaml:"uis"`
	// WLCG runs a WLCG token flow (Rucio -> FTS -> storage) against an
	// issuer and two storage elements in this process, instead of client
	// groups against a WFS; see package flows.
	WLCG *WLCGGroup `yaml:"wlcg"`
	// FS is the file-system latency model the run directory is costed
	// with (nil: none, the local disk as it is); authbench run -fs
	// overrides it.
	FS *FSSpec `yaml:"fs"`
	// Server chooses the WFS model the scenario runs against.
	Server *ServerModel `yaml:"server"`
	// Together runs each round's schemes at once, each against its own
	// WFS, rather than one after another (nil: one after another).
	Together *Together `yaml:"together"`
	// CylcJobs is a job group of a real Cylc scheduler's live jobs, each
	// message the real `cylc message`, run once a round among the schemes
	// (authbench run -cylc CONTACT; skipped, and said, without it): the
	// real client a Python client scheme's cost is measured against.
	CylcJobs *CylcJobs `yaml:"cylc_jobs"`
	// Budgets are what a scheme may add over the baseline and stay within
	// budget, by name (vocab.BudgetNames: named for what they bound and
	// the percentile they are judged at). A budget is a duration, or
	// {value: DURATION, source: "where the figure comes from"}; the
	// report prints the source beside every verdict judged against it.
	Budgets    map[string]Budget `yaml:"budgets"`
	Thresholds map[string]string `yaml:"thresholds"`

	// Source is where the scenario came from (built-in name or file path)
	// and Hash the SHA-256 of its YAML, so that runs of unlike scenarios
	// of one name are told apart.
	Source string `yaml:"-"`
	Hash   string `yaml:"-"`
}

// CLIGroup is interactive CLI commands: open loop at Rate, or closed loop
// with Concurrency.
type CLIGroup struct {
	Count       int            `yaml:"count"`
	Rate        float64        `yaml:"rate"`
	Concurrency int            `yaml:"concurrency"`
	Connection  string         `yaml:"connection"` // fresh | reuse
	Mix         map[string]int `yaml:"mix"`
	Users       int            `yaml:"users"`
	// Arrival is how commands arrive at Rate: constant (evenly spaced,
	// the default) or poisson (exponential gaps, seeded by the scenario's
	// seed). Only with rate.
	Arrival Arrival `yaml:"arrival"`
	// Stages ramp the rate linearly from stage to stage (open loop).
	Stages []Stage `yaml:"stages"`
	// Burst sends Size commands within Within, every Every (a user's
	// script looping over tasks).
	Burst *Burst `yaml:"burst"`
	// Process runs each command as a separate process: true (or go) an
	// `authbench client`, python the Python client (scripts/cylc_message.py
	// under Debian's /usr/bin/python3), false in-process.
	Process ProcessMode `yaml:"process"`
}

// ProcessMode is a client group's process setting: false, true (= go) or
// python.
type ProcessMode string

// Mode normalises the setting to "", "go" or "python".
func (m ProcessMode) Mode() string {
	switch m {
	case "true", "go":
		return "go"
	case "python":
		return "python"
	}
	return ""
}

func (m ProcessMode) valid() bool {
	switch m {
	case "", "false", "true", "go", "python":
		return true
	}
	return false
}

// Burst is a burst pattern: Size commands spread over Within, repeated
// every Every.
type Burst struct {
	Size   int      `yaml:"size"`
	Within Duration `yaml:"within"`
	Every  Duration `yaml:"every"`
}

// Stage is one step of a CLI group's ramp, as a scenario file gives it: the
// rate rises linearly from the previous stage's rate to Rate over Duration
// (a pace.Stage).
type Stage struct {
	Duration Duration `yaml:"duration"`
	Rate     float64  `yaml:"rate"`
}

// JobGroup is task jobs sending messages.
type JobGroup struct {
	Total       int     `yaml:"total"`
	Concurrency int     `yaml:"concurrency"`
	Rate        float64 `yaml:"rate"` // job arrivals per second; 0: as fast as concurrency allows
	Messages    int     `yaml:"messages"`
	FailRatio   float64 `yaml:"fail_ratio"`
	// Retries is how many times a task whose job failed is submitted
	// again (cylc's "execution retry delays": the next job of the task is
	// cycle/task/NN+1); each attempt fails with FailRatio.
	Retries     int      `yaml:"retries"`
	Think       Duration `yaml:"think"`
	MessageSize int      `yaml:"message_size"`
	Targets     []Target `yaml:"targets"`
	// Cycle points: TasksPerCycle jobs submitted at once every
	// CycleInterval, CyclePoints times (instead of Total); or, with Rate
	// and no CycleInterval, the cycle points' tasks arriving one by one
	// at Rate, cycle after cycle (a site's trickle).
	CyclePoints   int      `yaml:"cycle_points"`
	TasksPerCycle int      `yaml:"tasks_per_cycle"`
	CycleInterval Duration `yaml:"cycle_interval"`
	// Arrival is how jobs arrive at Rate: constant (the default) or
	// poisson (exponential gaps, seeded by the scenario's seed). Only with
	// rate, not with cycle points.
	Arrival Arrival `yaml:"arrival"`
	// Process runs each message as a separate process (see ProcessMode).
	Process ProcessMode `yaml:"process"`
}

// CylcJobs is a job group whose jobs are a real Cylc scheduler's live jobs
// and whose messages are each a new process of the real `cylc message`, as
// a Cylc job script sends them (issue 22 #4). Jobs arrive at Rate (open
// loop, as Arrival says), at most Concurrency at once, each sending
// Messages messages one after another; Total jobs a round. Its processes
// do not depend on a scheme, so it runs once a round, in a place of its
// own in the round's random order (results.RealClients).
type CylcJobs struct {
	Total       int     `yaml:"total"`
	Rate        float64 `yaml:"rate"`
	Arrival     Arrival `yaml:"arrival"`
	Concurrency int     `yaml:"concurrency"`
	Messages    int     `yaml:"messages"`
}

// Target is an install target jobs run on.
type Target struct {
	Name     string  `yaml:"name"`
	Share    float64 `yaml:"share"`
	SharedFS bool    `yaml:"shared_fs"`
}

// UISGroup is UI servers polling for data.
type UISGroup struct {
	Pollers   int      `yaml:"pollers"`
	Interval  Duration `yaml:"interval"`
	ReplySize int      `yaml:"reply_size"`
	// Subscribe has each UI server also subscribe to the WFS's published
	// deltas, as cylc-uiserver does (a SUB socket to the contact file's
	// publish port, cylc-flow cylc/flow/network/subscriber.py), recording
	// each delta received as uis.delta, its latency from the publish
	// time. The WFS then publishes (wfs.ServerConfig.Publish); only the
	// cylc server model does.
	Subscribe bool `yaml:"subscribe"`
	// DeltaSize is a delta's payload size (0: wfs.DefaultDeltaSize).
	DeltaSize int `yaml:"delta_size"`
	// PublishRate is deltas a second the WFS publishes whatever happens,
	// standing for a workflow whose data store changes in every main-loop
	// iteration: at most 1, as Cylc publishes at most once a 1 s
	// iteration (0: only when job messages or commands change it).
	PublishRate float64 `yaml:"publish_rate"`
}

// WLCGGroup is a WLCG transfer token flow (package flows): transfers at
// Rate, each getting its tokens from an issuer as Flow says and presenting
// them to two storage elements, for Total transfers or the scenario's
// duration.
type WLCGGroup struct {
	// Flow is service, user or groups (issuerload's names).
	Flow string `yaml:"flow"`
	// Rate is transfers per second (open loop), arriving as Arrival says.
	Rate    float64 `yaml:"rate"`
	Arrival Arrival `yaml:"arrival"`
	// Total ends the run after this many transfers.
	Total int `yaml:"total"`
	// BothSEs asks for one storage token for both SEs (default true, the
	// notes' choice); false is one per SE.
	BothSEs *bool `yaml:"both_ses"`
	// NoReuse fetches a token per transfer where one could be reused.
	NoReuse bool `yaml:"no_reuse"`
	// The issuer's lifetimes (whole seconds) and the margin a token must
	// have left to be used (defaults: 20m, 240h, a quarter of the access
	// lifetime, at least 1s).
	AccessLifetime  Duration `yaml:"access_lifetime"`
	RefreshLifetime Duration `yaml:"refresh_lifetime"`
	Margin          Duration `yaml:"margin"`
	// QueueWait is the time a transfer waits in FTS's queue.
	QueueWait *QueueWait `yaml:"queue_wait"`
	// Users and Groups (groups flow) share the transfers (default 1).
	Users  int `yaml:"users"`
	Groups int `yaml:"groups"`
}

// QueueWait is a queue-wait distribution: exponential with Mean, or drawn
// uniformly from Waits.
type QueueWait struct {
	Mean  Duration   `yaml:"mean"`
	Waits []Duration `yaml:"waits"`
}

// wlcgPacerStream is the stream of the WLCG group's Poisson arrivals.
const wlcgPacerStream = 0x776c63672d706163 // "wlcg-pac"

// FlowConfig is the flow the group runs, its arrivals seeded with seed.
func (g *WLCGGroup) FlowConfig(seed int64, duration time.Duration) flows.Config {
	cfg := flows.Config{
		Flow: issuerload.Flow(g.Flow), Rate: g.Rate, Total: g.Total, Duration: duration,
		BothSEs: g.BothSEs == nil || *g.BothSEs, NoReuse: g.NoReuse,
		AccessLifetime: g.AccessLifetime.D(), RefreshLifetime: g.RefreshLifetime.D(), Margin: g.Margin.D(),
		Users: g.Users, Groups: g.Groups, Seed: seed,
	}
	if g.Rate > 0 {
		cfg.Pacer = ratePacer(g.Rate, g.Arrival, seed, wlcgPacerStream)
	}
	if q := g.QueueWait; q != nil {
		cfg.Waits.Mean = q.Mean.D()
		for _, w := range q.Waits {
			cfg.Waits.List = append(cfg.Waits.List, w.D())
		}
	}
	return cfg
}

// Together runs a round's schemes at once. It suits loads that leave the
// machine idle most of the time (requests arriving one at a time into
// Cylc's sleeping server): the schemes share the machine's conditions
// exactly, and a round takes one scheme's time. The scheme at place i of
// the round's random order starts i×Stagger after the first, so that their
// arrivals do not coincide. The clients share one process, so no client
// CPU figure is taken (results.Result.Together).
type Together struct {
	Stagger Duration `yaml:"stagger"`
}

// Budget is one stated budget: its value and where the figure comes from
// (a cylc-flow figure, a site figure or a published threshold; "" when the
// scenario states none).
type Budget struct {
	Value  Duration `yaml:"value"`
	Source string   `yaml:"source"`
	// OfReal (python_added_budget only) makes the budget this share of
	// the median wall time of the real client processes measured in the
	// same run (cylc_jobs:), that measurement its source; Value and
	// Source stand where the run measured none.
	OfReal float64 `yaml:"of_real"`
}

// MaxBudgetSource bounds a budget's source text.
const MaxBudgetSource = 500

// ServerModel is the WFS a scenario runs against: Model names a
// registered serving model (wfs.ParseModel: "fast", a ROUTER with a
// worker pool, the default; or "cylc", one request at a time, drained then
// a 0.2 s sleep, job messages as GraphQL mutations queued for the main
// loop, as cylc-flow serves), with ServiceCPU burned per request to stand
// for the Python scheduler's own work (default: the model's, 2 ms under
// cylc).
type ServerModel struct {
	Model      string    `yaml:"model"`
	ServiceCPU *Duration `yaml:"service_cpu"`
}

// MaxServiceCPU bounds server.service_cpu, as it bounds serve -service-cpu.
const MaxServiceCPU = process.MaxServiceCPU

// WFSModel is the serving model named, the default when m or its Model
// is unset. The error, for a name not registered, names the field.
func (m *ServerModel) WFSModel() (wfs.Model, error) {
	name := ""
	if m != nil {
		name = m.Model
	}
	wm, err := wfs.ParseModel(name)
	if err != nil {
		return nil, ferr("server.model", "%v", err)
	}
	return wm, nil
}

func (m *ServerModel) validate() error {
	if _, err := m.WFSModel(); err != nil {
		return err
	}
	if m.ServiceCPU != nil && (*m.ServiceCPU < 0 || m.ServiceCPU.D() > MaxServiceCPU) {
		return ferr("server.service_cpu", "want 0 to %s, got %s", MaxServiceCPU, m.ServiceCPU.D())
	}
	return nil
}

// Builtins lists the built-in scenarios, sorted by name.
func Builtins() ([]*Scenario, error) {
	entries, err := fs.ReadDir(builtinFS, "builtin")
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	for _, e := range entries {
		sc, err := loadBuiltin(strings.TrimSuffix(e.Name(), ".yaml"))
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func loadBuiltin(name string) (*Scenario, error) {
	b, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil {
		return nil, err
	}
	return Parse(name+".yaml (built-in)", b)
}

// BuiltinYAML returns a built-in scenario's YAML, comments and all.
func BuiltinYAML(name string) ([]byte, error) {
	b, err := builtinFS.ReadFile(path.Join("builtin", name+".yaml"))
	if err != nil || strings.ContainsAny(name, "/.") {
		var names []string
		all, _ := Builtins()
		for _, s := range all {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("no built-in scenario %q (have %s)", name, strings.Join(names, ", "))
	}
	return b, nil
}

// Load returns a built-in scenario by name, or loads a YAML file.
func Load(nameOrFile string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrFile, "/.") {
		sc, err := loadBuiltin(nameOrFile)
		if err == nil {
			b, _ := builtinFS.ReadFile(path.Join("builtin", nameOrFile+".yaml"))
			sc.Source, sc.Hash = "built-in "+nameOrFile, hashYAML(b)
			return sc, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		var names []string
		all, _ := Builtins()
		for _, s := range all {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("-scenario %q: no such built-in scenario (have %s) and not a file path", nameOrFile, strings.Join(names, ", "))
	}
	b, err := readScenarioFile(nameOrFile)
	if err != nil {
		return nil, err
	}
	sc, err := Parse(nameOrFile, b)
	if err != nil {
		return nil, err
	}
	sc.Source, sc.Hash = nameOrFile, hashYAML(b)
	return sc, nil
}

// hashYAML is "sha256:" and the hex SHA-256 of a scenario's YAML.
func hashYAML(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckUnique refuses two scenarios of one name in one run: a file named
// like a built-in, or one file given twice, would otherwise be recorded as
// one scenario and compared as the other.
func CheckUnique(scs []*Scenario) error {
	seen := map[string]*Scenario{}
	for _, sc := range scs {
		if prev, ok := seen[sc.Name]; ok {
			return fmt.Errorf("-scenario: %s and %s are both named %q; give each scenario once, with a name of its own", prev.Source, sc.Source, sc.Name)
		}
		seen[sc.Name] = sc
	}
	return nil
}

// MaxScenarioFile bounds a scenario file's size: the largest built-in is
// under 2 kB.
const MaxScenarioFile = 1 << 20

// readScenarioFile reads a scenario file: a regular file (not a FIFO, a
// device or a directory, which could block or never end) of at most
// MaxScenarioFile bytes.
func readScenarioFile(path string) ([]byte, error) {
	b, err := yamlstrict.ReadFile(path, MaxScenarioFile, "a scenario")
	if err != nil {
		return nil, fmt.Errorf("-scenario %s: %w", path, err)
	}
	return b, nil
}

// Parse decodes and validates a scenario strictly: an unknown key, a wrong
// type or an impossible value is one error line "file:line:column: message",
// and nothing runs.
func Parse(file string, data []byte) (*Scenario, error) {
	root, err := yamlstrict.Document(data)
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	if root == nil {
		return nil, fmt.Errorf("%s:1:1: empty scenario; want a mapping with name, duration and client groups", file)
	}
	fsShorthand(root)
	budgetShorthand(root)
	ps, err := yamlstrict.Check(root, reflect.TypeFor[Scenario](), strictOptions())
	if err != nil {
		return nil, yamlError(file, data, err)
	}
	var sc Scenario
	if err := root.Decode(&sc); err != nil {
		return nil, yamlError(file, data, err)
	}
	if err := sc.Validate(); err != nil {
		var fe *yamlstrict.FieldError
		if errors.As(err, &fe) {
			p := ps.Where(fe.Path)
			return nil, fmt.Errorf("%s:%d:%d: %s", file, p.Line, p.Col, fe.Error())
		}
		return nil, fmt.Errorf("%s:1:1: %w", file, err)
	}
	return &sc, nil
}

// yamlError turns a YAML error into one line "file:line:column: message":
// a problem yamlstrict found names its column; yaml.v3 names the line
// only, so the column is that of the line's first tab when there is one
// (tabs cannot indent YAML), else 1.
func yamlError(file string, data []byte, err error) error {
	var e *yamlstrict.Error
	if errors.As(err, &e) {
		return strictError(file, e)
	}
	line, msg := yamlstrict.SplitError(err)
	if line == 0 {
		return fmt.Errorf("%s:1:1: %s", file, msg)
	}
	col := 1
	if lines := strings.Split(string(data), "\n"); line <= len(lines) {
		if i := strings.IndexByte(lines[line-1], '\t'); i >= 0 {
			col = i + 1
			msg += " (a tab: indent YAML with spaces)"
		}
	}
	return fmt.Errorf("%s:%d:%d: %s", file, line, col, msg)
}

// Jobs is the number of jobs the group runs.
func (j *JobGroup) Jobs() int {
	if j.CyclePoints > 0 {
		return j.CyclePoints * j.TasksPerCycle
	}
	return j.Total
}
