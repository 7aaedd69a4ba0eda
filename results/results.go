// Package results holds the result model of an authbench run (versioned
// JSON with encoded HDR histograms) and of a capacity search, merging runs
// of several nodes or invocations, and the small renderings that go with a
// single run: the table `run` prints, the capacity search's markdown and
// Go benchmark lines. The report's figures are in package figures, its page
// in package report. It never imports ZeroMQ.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/authbench/authbench/counters"
	"github.com/authbench/authbench/vocab"
)

// SchemaVersion is the version of the results.json schema.
const SchemaVersion = 1

// Run is one results.json: the environment, the command that produced it,
// and one Result per (scenario, scheme, round).
type Run struct {
	Schema  int       `json:"schema"`
	Tool    string    `json:"tool"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Command is the command line that produced this file.
	Command string `json:"command"`
	// Partial is true when the run was interrupted before it finished.
	Partial bool `json:"partial,omitempty"`
	// Shard is set on a loader's run (authbench load): which share of the
	// scenario it ran, on which node, against which WFS. Missing, on a run
	// merged from shards, names the shards that did not report.
	Shard   *Shard   `json:"shard,omitempty"`
	Missing []string `json:"missing_shards,omitempty"`
	// Stop says why a run that added rounds until its verdicts were
	// decisive (run -until-decisive) stopped adding them.
	Stop    string      `json:"stop,omitempty"`
	Env     Environment `json:"environment"`
	Results []*Result   `json:"results"`
	// RealClients are the rounds of real client processes (the real `cylc
	// message` against a real scheduler) its scenarios asked for
	// (scenario cylc_jobs:), the yardstick of the Python client's cost.
	RealClients []*RealClients `json:"real_clients,omitempty"`
	// Sources lists the runs a merged run was made from (one per node or
	// invocation); it is empty for a run written by authbench run.
	Sources []Source `json:"sources,omitempty"`
}

// Source is one input of a merged run: the command that made it, where, and
// when.
type Source struct {
	Command string      `json:"command"`
	Env     Environment `json:"environment"`
	Started time.Time   `json:"started"`
	Ended   time.Time   `json:"ended"`
	Partial bool        `json:"partial,omitempty"`
}

// Shard is one loader's share of a scenario run against a WFS it shares
// with the other loaders.
type Shard struct {
	// Index is the loader's shard (0-based) of Count.
	Index int `json:"index"`
	Count int `json:"count"`
	// Node is the host the loader ran on.
	Node string `json:"node"`
	// Server identifies the WFS (its host and pid): results of one server
	// share its server-side figures, which a merge must not add up.
	Server string `json:"server"`
}

// String is "I/N".
func (s *Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Environment describes the machine a run was made on.
type Environment struct {
	Host       string `json:"host"`
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	Kernel     string `json:"kernel"`
	Go         string `json:"go"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Libzmq     string `json:"libzmq"`
	Libsodium  string `json:"libsodium,omitempty"`
	Pin        string `json:"pin,omitempty"`
	// ServerCPUs and ClientCPUs are the CPUs the WFS processes and the load
	// generator were pinned to ("" unpinned); ServerQuota is the WFS's CPU
	// quota in CPUs (0 none).
	ServerCPUs  string  `json:"server_cpus,omitempty"`
	ClientCPUs  string  `json:"client_cpus,omitempty"`
	ServerQuota float64 `json:"server_quota_cpus,omitempty"`
}

// Result is the measurement of one scheme in one scenario (one round).
type Result struct {
	Scenario string `json:"scenario"`
	// ScenarioSource is where the scenario came from ("built-in NAME" or
	// its file) and ScenarioHash the SHA-256 of its YAML: compare refuses
	// to compare unlike scenarios of one name.
	ScenarioSource string `json:"scenario_source,omitempty"`
	ScenarioHash   string `json:"scenario_hash,omitempty"`
	Scheme         string `json:"scheme"`    // as the user wrote it
	Canonical      string `json:"canonical"` // the parsed full form
	// Spec is the scheme's parsed spec and Claims the security properties
	// it declared when it ran: reports choose schemes by these, never by
	// name (nil in results made before they were recorded).
	Spec   *vocab.Spec   `json:"spec,omitempty"`
	Claims *vocab.Claims `json:"claims,omitempty"`
	// Shard is the loader's shard when the result comes from authbench
	// load; ServerFiles is then the WFS's own file operations over the
	// loader's window (already in Files), which loaders of one WFS share.
	Shard       *Shard              `json:"shard,omitempty"`
	ServerFiles *counters.FileStats `json:"server_files,omitempty"`
	// Budgets are the scenario's stated budgets (budgets: in its YAML), by
	// name: what a scheme may add to a figure and still be within budget.
	Budgets map[string]time.Duration `json:"budgets_ns,omitempty"`
	// BudgetSources say where each budget's figure comes from, by name
	// (the scenario's budgets.NAME.source; a budget stated without one is
	// absent).
	BudgetSources map[string]string `json:"budget_sources,omitempty"`
	// BudgetShares are the budgets stated as a share of the real client
	// processes' median wall time measured in the same run (the scenario's
	// budgets.NAME.of_real; Run.RealClients), by name: where the run has
	// them, the budget is that share, else Budgets' figure.
	BudgetShares map[string]float64 `json:"budget_real_shares,omitempty"`
	Round        int                `json:"round"`
	// Position is the scheme's place in its round's random order (1 ran
	// first; 0 in results made before rounds were shuffled).
	Position int `json:"position,omitempty"`
	// Together is how many schemes ran at once in this round, each
	// against its own WFS (the scenario's together:; 0 or 1: one at a
	// time). Over 1, CPU is the loader's for all of them, and no client
	// CPU figure is taken from it.
	Together int                `json:"together,omitempty"`
	Duration time.Duration      `json:"duration_ns"`
	Ops      []*Op              `json:"ops"`
	Files    counters.FileStats `json:"files"`
	Jobs     int64              `json:"jobs"`
	Commands int64              `json:"commands"`
	// CPU is the clients' CPU seconds (user+system) during the run: the
	// load generator's process and its process-mode client processes
	// (RUSAGE_CHILDREN). The WFS's own CPU is in ServerProcess. (In results
	// made before the WFS ran as a process of its own, it is both.)
	CPU       float64 `json:"cpu_s"`
	PeakRSSKB int64   `json:"peak_rss_kb"`
	// Partial is true when the run was interrupted.
	Partial bool `json:"partial,omitempty"`
	// Server counts the requests the WFS saw.
	Server counters.ServerStats `json:"server"`
	// ServerProcess is the WFS process's account of its own cost over the
	// measured window (after warm-up); nil in results made before the WFS
	// ran as a process of its own.
	ServerProcess *ServerProcess `json:"server_process,omitempty"`
	// ServerModel is the WFS's serving model (fast or cylc) and
	// ServerModelStats its figures at the end of the run (under cylc:
	// drains, main loops, messages queued, processed and shed).
	ServerModel      string             `json:"server_model,omitempty"`
	ServerModelStats map[string]float64 `json:"server_model_stats,omitempty"`
	// FSModel is the file-system latency model the run's file layers (the
	// WFS's and the clients') applied, as "model=NAME,metadata_rtt=D,fsync=D"
	// (wfs.FSModel.String); "" when none was, the run directory's own disk
	// as it is. A verdict holds for this model.
	FSModel string `json:"fs_model,omitempty"`
	// ServerCPU is the WFS process's CPU over time (warm-up included): its
	// share of one CPU and the requests it served, per interval.
	ServerCPU *ServerCPUSeries `json:"server_cpu_series,omitempty"`
	// ClosedLoop names the client groups that ran closed loop (each worker
	// sends as soon as its last request returns): their latencies measure
	// throughput at saturation, not the cost of one request.
	ClosedLoop []string `json:"closed_loop,omitempty"`
	// BytesAdded is the mean number of bytes the scheme adds to a request
	// over the same request under plain.
	BytesAdded float64 `json:"bytes_added_per_msg"`
	// SchemeStats are figures the scheme reports about itself (ZAP
	// allow-list peak size and mean lookup time, keypairs generated, ...),
	// taken before teardown.
	SchemeStats map[string]float64 `json:"scheme_stats,omitempty"`
	// Series are the top-level ops over time (throughput and p99 per
	// interval), for the over-time plots. They are indicative: merging runs
	// sums counts and keeps the larger p99 of an interval.
	Series []*Series `json:"series,omitempty"`
}

// Series is one op over time, in fixed intervals from the run's start.
type Series struct {
	Op       string        `json:"op"`
	Interval time.Duration `json:"interval_ns"`
	Points   []Point       `json:"points"`
}

// Point is one interval of a Series: completed ops, errors, and the p99 of
// their latency (from the intended send time).
type Point struct {
	Count  int64         `json:"n"`
	Errors int64         `json:"errors,omitempty"`
	P99    time.Duration `json:"p99_ns,omitempty"`
}

// ServerProcess is a WFS process's own cost over a run's measured window:
// its whole CPU (every thread: libzmq's I/O threads, the ZAP handler, the
// request workers) from getrusage(RUSAGE_SELF) at the window's start and
// end, and the requests it served in between.
type ServerProcess struct {
	PID  int    `json:"pid"`
	CPUs string `json:"cpus"` // the CPUs it was pinned to
	// Quota is its CPU quota in CPUs (cgroup CFS), 0 for none.
	Quota float64 `json:"quota_cpus,omitempty"`
	// Window is the measured window's wall time.
	Window      time.Duration `json:"window_ns"`
	UserSeconds float64       `json:"user_s"`
	SysSeconds  float64       `json:"sys_s"`
	// Requests are the requests the WFS counted in the window.
	Requests int64 `json:"requests"`
	MaxRSSKB int64 `json:"max_rss_kb"`
	Threads  int   `json:"threads"`
	// Throttled is the number of CFS periods the quota throttled it in.
	Throttled int64 `json:"throttled_periods,omitempty"`
	// Connection is how its clients connected: fresh (a new connection and
	// handshake per request), reuse, or mixed.
	Connection string `json:"connection,omitempty"`
	// Handshake is the WFS's CPU per operation on reused and on fresh
	// connections, probed after the load.
	Handshake *HandshakeProbe `json:"handshake_probe,omitempty"`
}

// HandshakeProbe is the WFS's CPU per CLI operation (a ping through the
// scheme) made one after another: Ops on one reused connection, then Ops
// each on a fresh connection, on the idle WFS after a run's load.
// Fresh minus Reused is the WFS's CPU per handshake.
type HandshakeProbe struct {
	Ops    int           `json:"ops"`
	Fresh  time.Duration `json:"fresh_cpu_per_op_ns"`
	Reused time.Duration `json:"reused_cpu_per_op_ns"`
}

// PerHandshake is the WFS's CPU per handshake: fresh minus reused.
func (h *HandshakeProbe) PerHandshake() time.Duration {
	if h == nil {
		return 0
	}
	return h.Fresh - h.Reused
}

// ServerCPUSeries is a WFS process's CPU per interval from the start of a
// run: Share[i] is the share of one CPU it used in interval i, Requests[i]
// the requests it counted.
type ServerCPUSeries struct {
	Interval time.Duration `json:"interval_ns"`
	Share    []float64     `json:"share"`
	Requests []int64       `json:"requests"`
}

// CPUSeconds is the process's user plus system CPU in the window.
func (s *ServerProcess) CPUSeconds() float64 { return s.UserSeconds + s.SysSeconds }

// CPUPerRequest is the WFS's whole CPU per request served in the window;
// ok is false without requests.
func (s *ServerProcess) CPUPerRequest() (time.Duration, bool) {
	if s == nil || s.Requests <= 0 {
		return 0, false
	}
	return time.Duration(s.CPUSeconds() / float64(s.Requests) * float64(time.Second)), true
}

// Utilisation is the share of one CPU the WFS used over the window.
func (s *ServerProcess) Utilisation() float64 {
	if s == nil || s.Window <= 0 {
		return 0
	}
	return s.CPUSeconds() / s.Window.Seconds()
}

// Op is the measurement of one kind of operation.
type Op struct {
	Name   string           `json:"op"`
	Count  int64            `json:"count"`
	Errors map[string]int64 `json:"errors,omitempty"`
	// Asked is the rate the scenario asked for (ops/s; 0 for closed loop).
	Asked float64 `json:"asked_rate,omitempty"`
	// Late counts sends that started later than their intended time by more
	// than the engine's threshold; Dropped counts sends skipped because every
	// worker was busy.
	Late    int64 `json:"late,omitempty"`
	Dropped int64 `json:"dropped,omitempty"`
	// Hist is latency from the intended send time (corrected for coordinated
	// omission in open-loop runs); Uncorrected is from the actual send.
	Hist        *Histogram `json:"hist"`
	Uncorrected *Histogram `json:"uncorrected,omitempty"`
}

// ErrorCount is the total of Errors.
func (o *Op) ErrorCount() int64 {
	var n int64
	for _, v := range o.Errors {
		n += v
	}
	return n
}

// Rate is the achieved rate of successful ops over d.
func (o *Op) Rate(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(o.Count) / d.Seconds()
}

// Op returns the named op, or nil.
func (r *Result) Op(name string) *Op {
	for _, o := range r.Ops {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// Write writes the run to path atomically: a temp file in the same
// directory, fsynced, then renamed over path. A failed write (a full disk,
// say) leaves path as it was and removes the temp file; its error names
// path and the cause in one line.
func (r *Run) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	fail := func(err error) error {
		// The temp file's own name says nothing to the reader: name path
		// and keep the cause (ENOSPC and the like) for errors.Is.
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".results-*.json")
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil { // results are not secret
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}

// Read reads a results.json (a file, or a directory holding one).
func Read(path string) (*Run, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Run
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: results schema %d, this authbench reads %d", path, r.Schema, SchemaVersion)
	}
	if len(r.Results) == 0 {
		return nil, fmt.Errorf("%s: no results (the run made none, or it was cut before its first)", path)
	}
	for i, res := range r.Results {
		if res == nil || res.Scenario == "" || res.Scheme == "" {
			return nil, fmt.Errorf("%s: result %d is empty or names no scenario and scheme", path, i+1)
		}
	}
	return &r, nil
}

// ResultDirs returns the results directories dir stands for: dir itself
// when it holds a results.json, else each of its subdirectories that does
// (in name order), as make report lays out REPORT-data/cli, jobs and
// python. It is an error when neither holds one.
func ResultDirs(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		return []string{dir}, nil
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("results dir %s: no such directory", dir)
	case err != nil:
		return nil, fmt.Errorf("results dir %s: %w", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("results dir %s: not a directory (give the directory holding results.json)", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("results dir %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "results.json")); err == nil {
			out = append(out, sub)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("results dir %s: no results.json in it or in its subdirectories (authbench run -out %s writes one)", dir, dir)
	}
	return out, nil
}
