// Package scenarios holds the scenario model (YAML), the built-in scenarios
// and the load engine that drives CLI, job and UI-server clients against a
// real WFS for each scheme.
package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
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
	Duration   Duration            `yaml:"duration"`
	CLI        *CLIGroup           `yaml:"cli"`
	Job        *JobGroup           `yaml:"job"`
	UIS        *UISGroup           `yaml:"uis"`
	Budgets    map[string]Duration `yaml:"budgets"`
	Thresholds map[string]string   `yaml:"thresholds"`

	// Source is where the scenario came from (built-in name or file path).
	Source string `yaml:"-"`
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

// Load returns a built-in scenario by name, or loads a YAML file.
func Load(nameOrFile string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrFile, "/.") {
		sc, err := loadBuiltin(nameOrFile)
		if err == nil {
			sc.Source = nameOrFile
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
	b, err := os.ReadFile(nameOrFile)
	if err != nil {
		return nil, fmt.Errorf("-scenario: %w", err)
	}
	sc, err := Parse(nameOrFile, b)
	if err != nil {
		return nil, err
	}
	sc.Source = nameOrFile
	return sc, nil
}

// Parse decodes and validates a scenario strictly: unknown keys and wrong
// types are errors naming file:line.
func Parse(file string, data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &sc, nil
}

// Validate checks the scenario for values no run could honour.
func (s *Scenario) Validate() error {
	if s.Name == "" {
		return errors.New("name: required")
	}
	if s.Duration <= 0 && (s.CLI == nil || s.CLI.Count <= 0) && (s.Job == nil || s.Job.Total <= 0) {
		return errors.New("duration: give a duration, or a cli count or job total")
	}
	if s.CLI == nil && s.Job == nil && s.UIS == nil {
		return errors.New("no client groups: want at least one of cli, job, uis")
	}
	if c := s.CLI; c != nil {
		if c.Rate < 0 || c.Concurrency < 0 || c.Count < 0 {
			return errors.New("cli: rate, concurrency and count must not be negative")
		}
		if c.Rate == 0 && c.Concurrency == 0 {
			return errors.New("cli: want rate (open loop, commands/s) or concurrency (closed loop)")
		}
		switch c.Connection {
		case "", "fresh", "reuse":
		default:
			return fmt.Errorf("cli.connection: want fresh or reuse, got %q", c.Connection)
		}
		total := 0
		for cmd, w := range c.Mix {
			switch cmd {
			case "ping", "trigger", "hold", "release", "stop":
			default:
				return fmt.Errorf("cli.mix: unknown command %q (want ping, trigger, hold, release, stop)", cmd)
			}
			if w < 0 {
				return fmt.Errorf("cli.mix.%s: weight must not be negative", cmd)
			}
			total += w
		}
		if len(c.Mix) > 0 && total == 0 {
			return errors.New("cli.mix: all weights are zero")
		}
	}
	if j := s.Job; j != nil {
		if j.Total <= 0 || j.Concurrency <= 0 {
			return errors.New("job: total and concurrency must be positive")
		}
		if j.Messages < 2 {
			return errors.New("job.messages: at least 2 (started and succeeded/failed)")
		}
		if j.FailRatio < 0 || j.FailRatio > 1 {
			return errors.New("job.fail_ratio: want 0 to 1")
		}
		if j.Rate < 0 || j.MessageSize < 0 {
			return errors.New("job: rate and message_size must not be negative")
		}
		share := 0.0
		for _, t := range j.Targets {
			if t.Name == "" || t.Share < 0 {
				return errors.New("job.targets: each needs a name and a non-negative share")
			}
			share += t.Share
		}
		if len(j.Targets) > 0 && share <= 0 {
			return errors.New("job.targets: shares sum to zero")
		}
	}
	if u := s.UIS; u != nil {
		if u.Pollers <= 0 || u.Interval <= 0 || u.ReplySize < 0 {
			return errors.New("uis: pollers and interval must be positive")
		}
	}
	return nil
}
