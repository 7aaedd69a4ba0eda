package site

import (
	"errors"
	"time"
)

// Options tune a projection.
type Options struct {
	// Command is the command line that made the projection; the rendering
	// quotes it so that a reader can reproduce every figure.
	Command string
	// Set names the scenario set every scheme's per-operation costs come
	// from ("" is DefaultSet).
	Set string
}

// Pair is a figure for one WFS (the site's average workflow) and for the
// whole host (all its workflows).
type Pair struct {
	PerWFS float64 `json:"per_wfs"`
	Host   float64 `json:"host"`
}

func (p Pair) scale(f float64) Pair { return Pair{p.PerWFS * f, p.Host * f} }
func (p Pair) add(q Pair) Pair      { return Pair{p.PerWFS + q.PerWFS, p.Host + q.Host} }

// Workload is the site's load in operations: job messages and CLI commands
// (what a client asks of a WFS, before a scheme adds requests of its own
// such as fetching a token), and the UI servers' published deltas and
// queries.
type Workload struct {
	// JobsPerSecond is jobs starting a second, JobsPerDay the same a day.
	JobsPerSecond Pair `json:"jobs_per_s"`
	JobsPerDay    Pair `json:"jobs_per_day"`
	// ActiveJobs is the jobs running at once: given, or implied by
	// tasks_per_day and mean_job_duration (Little's law); 0 when unknown.
	ActiveJobs        Pair `json:"active_jobs"`
	MessagesPerSecond Pair `json:"messages_per_s"`
	CommandsPerSecond Pair `json:"commands_per_s"`
	CommandsPerDay    Pair `json:"commands_per_day"`
	// UpdatesPerSecond are changes to a workflow's data store a second (a
	// job's submission and messages, and every command), PublishesPerSecond
	// the main-loop iterations that publish them (see Publishes), and
	// DeltasPerSecond the deltas sent: a publish to each UI server.
	UpdatesPerSecond   Pair `json:"updates_per_s"`
	PublishesPerSecond Pair `json:"publishes_per_s"`
	DeltasPerSecond    Pair `json:"deltas_per_s"`
	// QueriesPerSecond are the UI servers' requests on their long-lived
	// connections.
	QueriesPerSecond Pair `json:"queries_per_s"`
	// BurstMessagesPerSecond is one workflow's cycle-point burst: its
	// messages a second during the burst window (0 without a burst).
	BurstMessagesPerSecond float64 `json:"burst_messages_per_s"`
	// PeakMessagesPerSecond and PeakDeltasPerSecond are the mean plus one
	// workflow's burst (the burst's messages are updates too, published
	// once a main-loop iteration).
	PeakMessagesPerSecond Pair `json:"peak_messages_per_s"`
	PeakDeltasPerSecond   Pair `json:"peak_deltas_per_s"`
	// JobRateFrom says how the job rate was derived.
	JobRateFrom string `json:"job_rate_from"`
}

// From says which results a figure came from.
type From struct {
	// Dir is the results directory ("" when not known).
	Dir         string `json:"dir,omitempty"`
	Scenario    string `json:"scenario"`
	ServerModel string `json:"server_model"`
	// FSModel is the file-system model's name ("" the local disk).
	FSModel  string `json:"fs_model,omitempty"`
	OpenLoop bool   `json:"open_loop"`
	Rounds   int    `json:"rounds"`
	// Requests are the WFS's requests in the rounds' measured windows;
	// Ops the operations of the figure's kind there; Jobs and Commands the
	// scenario's jobs and CLI commands.
	Requests int64 `json:"requests"`
	Ops      int64 `json:"ops"`
	Jobs     int64 `json:"jobs,omitempty"`
	Commands int64 `json:"commands,omitempty"`
	// MessagesPerJob is the scenario's job messages a job (jobs' files
	// depend on it).
	MessagesPerJob float64 `json:"messages_per_job,omitempty"`
	// Command is the command that made the results.
	Command string `json:"command"`
}

// Operation kinds a projection charges.
const (
	OpCommand = "command"
	OpMessage = "job message"
	OpDelta   = "UI-server delta"
	OpQuery   = "UI-server query"
)

// OpCost is a scheme's WFS CPU per operation of one kind: measured (the
// WFS process's whole CPU over a scenario's measured window ÷ the
// operations of that kind it served, median over rounds) or estimated
// from another figure, with its basis.
type OpCost struct {
	Op  string        `json:"op"`
	CPU time.Duration `json:"cpu_ns"`
	// RequestsPerOp is the WFS requests an operation took (a scheme that
	// fetches a token makes two); 0 when not measured.
	RequestsPerOp float64 `json:"requests_per_op,omitempty"`
	Measured      bool    `json:"measured"`
	// Basis says how the figure was taken or estimated, in words.
	Basis string `json:"basis"`
	// From is the scenario the figure (or the one it is estimated from)
	// came from; nil when none.
	From *From `json:"from,omitempty"`
}

// CPUFigures are a scheme's WFS CPU per operation of each kind.
type CPUFigures struct {
	Command OpCost `json:"command"`
	Message OpCost `json:"message"`
	Delta   OpCost `json:"delta"`
	Query   OpCost `json:"query"`
}

// Knee is a scheme's sustained rate per WFS CPU of one operation kind:
// from a capacity search, or estimated as one CPU over the CPU per
// operation.
type Knee struct {
	// Op is the operation kind the knee counts (OpCommand or OpMessage).
	Op           string  `json:"op"`
	OpsPerSecond float64 `json:"ops_per_s_per_wfs_cpu"`
	Estimated    bool    `json:"estimated"`
	// LowerBound is true when the capacity search never reached the knee.
	LowerBound bool `json:"lower_bound,omitempty"`
	// ServerModel is the capacity search's server model (from its command
	// line: capacity.json does not record it); File and Command name it.
	ServerModel string  `json:"server_model,omitempty"`
	File        string  `json:"file,omitempty"`
	Command     string  `json:"command,omitempty"`
	Quota       float64 `json:"quota_cpus,omitempty"`
	// Note says why a capacity knee was not used, or how to read it.
	Note string `json:"note,omitempty"`
	// EstimateOpsPerSecond is the estimate (1 CPU ÷ CPU per operation of
	// the knee's kind), kept beside a capacity knee to compare.
	EstimateOpsPerSecond float64 `json:"estimate_ops_per_s_per_wfs_cpu"`
}

// Ratio is measured ÷ estimated for a capacity knee (0 for an estimate).
func (k Knee) Ratio() float64 {
	if k.Estimated || k.LowerBound || k.EstimateOpsPerSecond <= 0 {
		return 0
	}
	return k.OpsPerSecond / k.EstimateOpsPerSecond
}

// KneeRatio is one measured knee's ratio to its estimate, seen on this
// machine under one server model.
type KneeRatio struct {
	Scheme      string  `json:"scheme"`
	Op          string  `json:"op"`
	ServerModel string  `json:"server_model"`
	Ratio       float64 `json:"ratio"`
	// Used is false when the knee's server model is not the set's results'
	// (it is quoted, not applied).
	Used bool `json:"used"`
}

// FileRates are file operations per unit (a job, a command, a request, or
// a day): files created, fsyncs, and all operations (created, written,
// appended, read, deleted, renamed and fsynced).
type FileRates struct {
	Created float64 `json:"created"`
	Fsyncs  float64 `json:"fsyncs"`
	Ops     float64 `json:"ops"`
}

func (f FileRates) scale(x float64) FileRates {
	return FileRates{f.Created * x, f.Fsyncs * x, f.Ops * x}
}

func (f FileRates) add(g FileRates) FileRates {
	return FileRates{f.Created + g.Created, f.Fsyncs + g.Fsyncs, f.Ops + g.Ops}
}

// Files is a scheme's file cost at the site: jobs' files from the set's
// job scenario (files ÷ jobs), commands' from its command scenario (files
// ÷ commands). UI-server deltas and queries touch no files.
type Files struct {
	PerJob       *FileRates `json:"per_job,omitempty"`
	JobsFrom     *From      `json:"jobs_from,omitempty"`
	PerCommand   *FileRates `json:"per_command,omitempty"`
	CommandsFrom *From      `json:"commands_from,omitempty"`
	// PerDayWFS and PerDayHost are the operations a day at the site.
	PerDayWFS  FileRates `json:"per_day_per_wfs"`
	PerDayHost FileRates `json:"per_day_host"`
	// FSSecondsPerDay is the shared file-system time a day those operations
	// cost at the site's fs_op_latency (0 when it is not given).
	FSSecondsPerDay Pair `json:"fs_seconds_per_day"`
}

// BudgetVerdict judges a WFS's CPU share at the site's peak against the
// site's budget: within when Share ≤ Budget. The verdict flips at a
// budget of Share.
type BudgetVerdict struct {
	Share  float64 `json:"share"`
	Budget float64 `json:"budget"`
	Within bool    `json:"within"`
}

// SchemeProjection is one scheme at the site.
type SchemeProjection struct {
	Scheme    string     `json:"scheme"`
	Canonical string     `json:"canonical,omitempty"`
	CPU       CPUFigures `json:"cpu"`
	// MeanCPU and PeakCPU are CPUs used (CPU-seconds a second): per WFS, a
	// share of one CPU; for the host, CPUs. UIShare is the UI servers'
	// part (deltas and queries) of MeanCPU.
	MeanCPU Pair    `json:"mean_cpus"`
	PeakCPU Pair    `json:"peak_cpus"`
	UIShare float64 `json:"ui_share_of_mean"`
	// MeanHostShare and PeakHostShare are the host's CPUs used, as a share
	// of host_cpus (0 when the site gives none).
	MeanHostShare float64 `json:"mean_host_share,omitempty"`
	PeakHostShare float64 `json:"peak_host_share,omitempty"`
	// Budget is the peak per-WFS share against the site's
	// wfs_cpu_share_budget (nil when the site gives none).
	Budget *BudgetVerdict `json:"budget,omitempty"`
	Knee   Knee           `json:"knee"`
	// Headroom is how many times one WFS's peak it could carry: the knee ×
	// the CPU per operation of the knee's kind ÷ the peak's CPU share
	// (1 ÷ the peak share for an estimated knee); HostHeadroom the same
	// for the host, with min(host_cpus, workflows) CPUs (0 when the site
	// gives no host_cpus).
	Headroom     float64 `json:"headroom"`
	HostHeadroom float64 `json:"host_headroom,omitempty"`
	// Files is nil when no result counted files.
	Files *Files `json:"files,omitempty"`
}

// Skipped is a scheme the results hold but the projection could not use,
// with the per-operation figures the set does give for it (nil when none).
type Skipped struct {
	Scheme string      `json:"scheme"`
	Why    string      `json:"why"`
	CPU    *CPUFigures `json:"cpu,omitempty"`
}

// Source names one input: its directory and the commands that made it.
type Source struct {
	Dir             string `json:"dir,omitempty"`
	Command         string `json:"command,omitempty"`
	CapacityFile    string `json:"capacity_file,omitempty"`
	CapacityCommand string `json:"capacity_command,omitempty"`
}

// Projection is a site's load projected onto measured schemes.
type Projection struct {
	Site    *Site    `json:"site"`
	Command string   `json:"command,omitempty"`
	Sources []Source `json:"sources"`
	// Set is the scenario set the figures came from; ServerModel and
	// FSModel are its results' (one each).
	Set         ScenarioSet         `json:"set"`
	ServerModel string              `json:"server_model,omitempty"`
	FSModel     string              `json:"fs_model,omitempty"`
	Load        Workload            `json:"load"`
	Schemes     []*SchemeProjection `json:"schemes"`
	Skipped     []Skipped           `json:"skipped,omitempty"`
	// KneeRatios are the measured knees' ratios to their estimates.
	KneeRatios []KneeRatio `json:"knee_ratios,omitempty"`
	// Notes are caveats about the inputs (a set whose results ran under
	// another model than the set's, a knee not used).
	Notes []string `json:"notes,omitempty"`
	// Unavailable, when set, is why nothing was projected (the set's
	// scenarios are not in the results); Schemes is then empty.
	Unavailable string `json:"unavailable,omitempty"`
}

// ErrNoCPUFigure is returned (wrapped) when no scheme in the inputs has a
// WFS CPU figure to project.
var ErrNoCPUFigure = errors.New("no scheme has a WFS CPU figure")

// ErrSetMissing is matched (errors.Is) by the error Project returns when
// the inputs lack a required scenario of the set.
var ErrSetMissing = errors.New("the results lack a scenario of the set")

// setMissingError is that error: its own words, and Is ErrSetMissing.
type setMissingError struct{ msg string }

func (e *setMissingError) Error() string        { return e.msg }
func (e *setMissingError) Is(target error) bool { return target == ErrSetMissing }
