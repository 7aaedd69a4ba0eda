// Package scenarios holds the scenario model (YAML), the built-in scenarios
// and the load engine that drives CLI, job and UI-server clients against a
// real WFS for each scheme.
package scenarios

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Duration is a time.Duration written as "10s" or "250ms" in YAML.
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 10s or 250ms")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("want a duration such as 10s or 250ms, got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

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
	// Server chooses the WFS model the scenario runs against.
	Server     *ServerModel        `yaml:"server"`
	Budgets    map[string]Duration `yaml:"budgets"`
	Thresholds map[string]string   `yaml:"thresholds"`

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

// JobGroup is task jobs sending messages.
type JobGroup struct {
	Total       int      `yaml:"total"`
	Concurrency int      `yaml:"concurrency"`
	Rate        float64  `yaml:"rate"` // job arrivals per second; 0: as fast as concurrency allows
	Messages    int      `yaml:"messages"`
	FailRatio   float64  `yaml:"fail_ratio"`
	Think       Duration `yaml:"think"`
	MessageSize int      `yaml:"message_size"`
	Targets     []Target `yaml:"targets"`
	// Cycle points: TasksPerCycle jobs submitted at once every
	// CycleInterval, CyclePoints times (instead of Total).
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
}

// ServerModel is the WFS a scenario runs against: "fast" (a ROUTER with a
// worker pool, the default) or "cylc" (one request at a time, drained then
// a 0.2 s sleep, job messages as GraphQL mutations queued for the main
// loop, as cylc-flow serves), with ServiceCPU burned per request to stand
// for the Python scheduler's own work (default 2 ms in the cylc model).
type ServerModel struct {
	Model      string    `yaml:"model"`
	ServiceCPU *Duration `yaml:"service_cpu"`
}

// MaxServiceCPU bounds server.service_cpu.
const MaxServiceCPU = time.Second

// ModelName is the model, "fast" when unset.
func (m *ServerModel) ModelName() string {
	if m == nil || m.Model == "" {
		return "fast"
	}
	return m.Model
}

func (m *ServerModel) validate() error {
	switch m.Model {
	case "", "fast", "cylc":
	default:
		return ferr("server.model", "want fast or cylc, got %q", m.Model)
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

// Limits on what a scenario may ask for: past them a setting means nothing a
// machine can do (each live job or CLI worker holds a goroutine and, while
// it talks, a ZMQ socket; 10,000 live jobs take about 170 MB), and an
// absurd value would exhaust memory or flood before the run could fail.
const (
	MaxConcurrency = 20000
	MaxRate        = 100000 // requests (or jobs) per second
	MaxCount       = 10000000
	MaxPollers     = 1000
)

// MaxScenarioFile bounds a scenario file's size: the largest built-in is
// under 2 kB.
const MaxScenarioFile = 1 << 20

// readScenarioFile reads a scenario file: a regular file (not a FIFO, a
// device or a directory, which could block or never end) of at most
// MaxScenarioFile bytes.
func readScenarioFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("-scenario: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("-scenario %s: not a regular file (%s)", path, info.Mode().Type())
	}
	if info.Size() > MaxScenarioFile {
		return nil, fmt.Errorf("-scenario %s: %d bytes, more than the %d a scenario may have", path, info.Size(), MaxScenarioFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-scenario: %w", err)
	}
	defer f.Close()
	// The file may have grown since Stat: read one byte past the limit.
	b, err := io.ReadAll(io.LimitReader(f, MaxScenarioFile+1))
	if err != nil {
		return nil, fmt.Errorf("-scenario %s: %w", path, err)
	}
	if len(b) > MaxScenarioFile {
		return nil, fmt.Errorf("-scenario %s: more than the %d bytes a scenario may have", path, MaxScenarioFile)
	}
	return b, nil
}

// Parse decodes and validates a scenario strictly: an unknown key, a wrong
// type or an impossible value is one error line "file:line:column: message",
// and nothing runs.
func Parse(file string, data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, data, err)
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		return nil, fmt.Errorf("%s:%d:1: a second YAML document; a scenario file holds one", file, max(1, second.Line))
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, data, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1:1: empty scenario; want a mapping with name, duration and client groups", file)
	}
	ps := positions{}
	if e := checkNode(doc.Content[0], reflect.TypeOf(Scenario{}), "", ps); e != nil {
		return nil, fmt.Errorf("%s:%d:%d: %s", file, e.p.line, e.p.col, e.msg)
	}
	var sc Scenario
	if err := doc.Content[0].Decode(&sc); err != nil {
		return nil, yamlError(file, data, err)
	}
	if err := sc.Validate(); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			p := ps.where(fe.path)
			return nil, fmt.Errorf("%s:%d:%d: %s", file, p.line, p.col, fe.Error())
		}
		return nil, fmt.Errorf("%s:1:1: %w", file, err)
	}
	return &sc, nil
}

// yamlLine matches the line yaml.v3 names in a syntax error.
var yamlLine = regexp.MustCompile(`line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into one line "file:line:column:
// message": yaml.v3 names the line only, so the column is that of the
// line's first tab when there is one (tabs cannot indent YAML), else 1.
// A duplicate key gives a one-line message too.
func yamlError(file string, data []byte, err error) error {
	msg := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(msg, '\n'); i >= 0 { // unmarshal errors: the first
		msg = strings.TrimSpace(msg[i+1:])
		if j := strings.IndexByte(msg, '\n'); j >= 0 {
			msg = msg[:j]
		}
	}
	m := yamlLine.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s:1:1: %s", file, strings.TrimPrefix(msg, "yaml: "))
	}
	line, _ := strconv.Atoi(m[1])
	col := 1
	if lines := strings.Split(string(data), "\n"); line >= 1 && line <= len(lines) {
		if i := strings.IndexByte(lines[line-1], '\t'); i >= 0 {
			col = i + 1
			m[2] += " (a tab: indent YAML with spaces)"
		}
	}
	return fmt.Errorf("%s:%d:%d: %s", file, line, col, m[2])
}

// Validate checks the scenario for values no run could honour. Errors name
// the field path (cli.rate), which Parse turns into file:line:column.
func (s *Scenario) Validate() error {
	if s.Name == "" {
		return ferr("name", "required")
	}
	if s.Warmup < 0 || s.Duration < 0 {
		return ferr("duration", "must not be negative")
	}
	if s.CLI == nil && s.Job == nil && s.UIS == nil {
		return ferr("", "no client groups: want at least one of cli, job, uis")
	}
	bounded := s.Duration > 0
	if c := s.CLI; c != nil {
		if err := c.validate(); err != nil {
			return err
		}
		bounded = bounded || c.Count > 0 || len(c.Stages) > 0
	}
	if j := s.Job; j != nil {
		if err := j.validate(); err != nil {
			return err
		}
		bounded = true
	}
	if !bounded {
		return ferr("duration", "neither duration nor count: give duration, cli.count or a job group")
	}
	if u := s.UIS; u != nil {
		if u.Pollers <= 0 || u.Pollers > MaxPollers {
			return ferr("uis.pollers", "want 1 to %d, got %d", MaxPollers, u.Pollers)
		}
		if u.Interval <= 0 {
			return ferr("uis.interval", "must be positive")
		}
		if u.ReplySize < 0 || u.ReplySize > 1<<20 {
			return ferr("uis.reply_size", "want 0 to 1048576 bytes, got %d", u.ReplySize)
		}
	}
	if s.Server != nil {
		if err := s.Server.validate(); err != nil {
			return err
		}
	}
	for name, d := range s.Budgets {
		if d <= 0 {
			return ferr("budgets."+name, "must be positive")
		}
	}
	for key, v := range s.Thresholds {
		if _, err := ParseThreshold(key, v); err != nil {
			return ferr("thresholds."+key, "%v", err)
		}
	}
	return nil
}

func (c *CLIGroup) validate() error {
	switch {
	case c.Count > MaxCount:
		return ferr("cli.count", "at most %d, got %d", MaxCount, c.Count)
	case c.Concurrency > MaxConcurrency:
		return ferr("cli.concurrency", "at most %d, got %d", MaxConcurrency, c.Concurrency)
	case math.IsNaN(c.Rate) || c.Rate > MaxRate:
		return ferr("cli.rate", "at most %d commands per second, got %g", MaxRate, c.Rate)
	case c.Count < 0:
		return ferr("cli.count", "must not be negative, got %d", c.Count)
	case c.Rate < 0:
		return ferr("cli.rate", "must be positive (commands per second), got %g", c.Rate)
	case c.Concurrency < 0:
		return ferr("cli.concurrency", "must not be negative, got %d", c.Concurrency)
	case c.Users < 0:
		return ferr("cli.users", "must not be negative")
	}
	modes := 0
	for _, on := range []bool{c.Rate > 0, len(c.Stages) > 0, c.Burst != nil} {
		if on {
			modes++
		}
	}
	if modes > 1 {
		return ferr("cli", "give one of rate, stages or burst, not several")
	}
	if modes == 0 && c.Concurrency == 0 {
		return ferr("cli", "want rate, stages or burst (open loop) or concurrency (closed loop)")
	}
	if !c.Arrival.valid() {
		return ferr("cli.arrival", "want constant or poisson, got %q", c.Arrival)
	}
	if c.Arrival != "" && !(c.Rate > 0) {
		return ferr("cli.arrival", "applies to rate only: give rate, or drop arrival (stages, burst and concurrency set their own timing)")
	}
	for i, st := range c.Stages {
		if st.Duration <= 0 {
			return ferr(fmt.Sprintf("cli.stages[%d].duration", i), "must be positive")
		}
		if st.Rate < 0 || math.IsNaN(st.Rate) || st.Rate > MaxRate {
			return ferr(fmt.Sprintf("cli.stages[%d].rate", i), "want 0 to %d commands per second, got %g", MaxRate, st.Rate)
		}
	}
	if b := c.Burst; b != nil {
		if b.Size <= 0 {
			return ferr("cli.burst.size", "must be positive")
		}
		if b.Within <= 0 || b.Every <= 0 || b.Within > b.Every {
			return ferr("cli.burst", "want 0 < within <= every")
		}
		if b.Size > MaxCount || float64(b.Size)/b.Within.D().Seconds() > MaxRate {
			return ferr("cli.burst.size", "%d within %s is past %d commands per second", b.Size, b.Within.D(), MaxRate)
		}
	}
	if !c.Process.valid() {
		return ferr("cli.process", "want false, true (an authbench client process) or python, got %q", c.Process)
	}
	if c.Process.Mode() != "" && c.Connection == "reuse" {
		return ferr("cli.connection", "a client process cannot reuse a connection: want fresh with process")
	}
	switch c.Connection {
	case "", "fresh", "reuse":
	default:
		return ferr("cli.connection", "want fresh or reuse, got %q", c.Connection)
	}
	total := 0
	for cmd, w := range c.Mix {
		switch cmd {
		case "ping", "trigger", "hold", "release", "stop":
		default:
			return ferr("cli.mix."+cmd+"#key", "unknown command %q; want ping, trigger, hold, release or stop", cmd)
		}
		if w < 0 {
			return ferr("cli.mix."+cmd, "weight must not be negative")
		}
		total += w
	}
	if len(c.Mix) > 0 && total == 0 {
		return ferr("cli.mix", "all weights are zero")
	}
	return nil
}

func (j *JobGroup) validate() error {
	cycles := j.CyclePoints > 0 || j.TasksPerCycle > 0
	switch {
	case j.Total > MaxCount:
		return ferr("job.total", "at most %d, got %d", MaxCount, j.Total)
	case cycles && j.CyclePoints > 0 && j.TasksPerCycle > MaxCount/max(1, j.CyclePoints):
		return ferr("job.tasks_per_cycle", "cycle_points x tasks_per_cycle at most %d", MaxCount)
	case j.Concurrency > MaxConcurrency:
		return ferr("job.concurrency", "at most %d, got %d", MaxConcurrency, j.Concurrency)
	case math.IsNaN(j.Rate) || j.Rate > MaxRate:
		return ferr("job.rate", "at most %d jobs per second, got %g", MaxRate, j.Rate)
	case j.Messages > 10000:
		return ferr("job.messages", "at most 10000 per job, got %d", j.Messages)
	case cycles && (j.CyclePoints <= 0 || j.TasksPerCycle <= 0):
		return ferr("job.cycle_points", "cycle_points and tasks_per_cycle go together, both positive")
	case cycles && j.Total > 0:
		return ferr("job.total", "give total or cycle_points x tasks_per_cycle, not both")
	case cycles && j.Rate > 0:
		return ferr("job.rate", "give rate or cycle points, not both")
	case !cycles && j.Total <= 0:
		return ferr("job.total", "must be positive, got %d", j.Total)
	case j.Concurrency <= 0:
		return ferr("job.concurrency", "must be positive, got %d", j.Concurrency)
	case j.Messages < 2:
		return ferr("job.messages", "at least 2 (started, then succeeded or failed), got %d", j.Messages)
	case j.FailRatio < 0 || j.FailRatio > 1:
		return ferr("job.fail_ratio", "want 0 to 1, got %g", j.FailRatio)
	case j.Rate < 0:
		return ferr("job.rate", "must be positive, got %g", j.Rate)
	case j.MessageSize < 0 || j.MessageSize > 1<<19:
		return ferr("job.message_size", "want 0 to 524288 bytes, got %d", j.MessageSize)
	case j.Think < 0 || j.CycleInterval < 0:
		return ferr("job.think", "must not be negative")
	}
	if !j.Arrival.valid() {
		return ferr("job.arrival", "want constant or poisson, got %q", j.Arrival)
	}
	if j.Arrival != "" && cycles {
		return ferr("job.arrival", "applies to rate, not to cycle points (their jobs are submitted at once every cycle_interval)")
	}
	if j.Arrival != "" && !(j.Rate > 0) {
		return ferr("job.arrival", "applies to rate only: give rate, or drop arrival")
	}
	if !j.Process.valid() {
		return ferr("job.process", "want false, true (an authbench client process) or python, got %q", j.Process)
	}
	share := 0.0
	for i, t := range j.Targets {
		if t.Name == "" {
			return ferr(fmt.Sprintf("job.targets[%d]", i), "needs a name")
		}
		if t.Share < 0 {
			return ferr(fmt.Sprintf("job.targets[%d].share", i), "must not be negative")
		}
		share += t.Share
	}
	if len(j.Targets) > 0 && share <= 0 {
		return ferr("job.targets", "shares sum to zero")
	}
	return nil
}

// Jobs is the number of jobs the group runs.
func (j *JobGroup) Jobs() int {
	if j.CyclePoints > 0 {
		return j.CyclePoints * j.TasksPerCycle
	}
	return j.Total
}
