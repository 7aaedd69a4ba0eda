package site

import (
	"time"

	"errors"
)

// Options tune a projection.
type Options struct {
	// Command is the command line that made the projection; the rendering
	// quotes it so that a reader can reproduce every figure.
	Command string
	// Scenario, when set, takes every scheme's WFS CPU figure from this
	// scenario only (by default: the open-loop scenario with the most WFS
	// requests).
	Scenario string
}

// Pair is a figure for one WFS (the site's average workflow) and for the
// whole host (all its workflows).
type Pair struct {
	PerWFS float64 `json:"per_wfs"`
	Host   float64 `json:"host"`
}

func (p Pair) scale(f float64) Pair { return Pair{p.PerWFS * f, p.Host * f} }
func (p Pair) add(q Pair) Pair      { return Pair{p.PerWFS + q.PerWFS, p.Host + q.Host} }

// Workload is the site's load in operations (a job message, a CLI command or a
// UI poll: what a client asks of a WFS, before a scheme adds requests of
// its own such as fetching a token).
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
	PollsPerSecond    Pair `json:"polls_per_s"`
	// MeanOpsPerSecond is messages, commands and polls a second.
	MeanOpsPerSecond Pair `json:"mean_ops_per_s"`
	// BurstOpsPerSecond is one workflow's cycle-point burst: its messages a
	// second during the burst window (0 without a burst).
	BurstOpsPerSecond float64 `json:"burst_ops_per_s"`
	// PeakOpsPerSecond is the mean plus one workflow's burst.
	PeakOpsPerSecond Pair `json:"peak_ops_per_s"`
	// JobRateFrom says how the job rate was derived.
	JobRateFrom string `json:"job_rate_from"`
}

// From says which results a figure came from.
type From struct {
	// Dir is the results directory ("" when not known).
	Dir         string `json:"dir,omitempty"`
	Scenario    string `json:"scenario"`
	ServerModel string `json:"server_model,omitempty"`
	OpenLoop    bool   `json:"open_loop"`
	Rounds      int    `json:"rounds"`
	// Requests are the WFS's requests in the rounds' measured windows;
	// Jobs and Commands the scenario's jobs and CLI commands.
	Requests int64 `json:"requests"`
	Jobs     int64 `json:"jobs,omitempty"`
	Commands int64 `json:"commands,omitempty"`
	// MessagesPerJob is the scenario's job messages a job (jobs' files
	// depend on it).
	MessagesPerJob float64 `json:"messages_per_job,omitempty"`
	// Command is the command that made the results.
	Command string `json:"command"`
}

// CPUFigure is a scheme's WFS CPU cost: the WFS process's whole CPU per
// request it served (median over rounds), and the requests the scheme
// makes per operation (a scheme that fetches a token makes two).
type CPUFigure struct {
	PerRequest    time.Duration `json:"cpu_per_request_ns"`
	RequestsPerOp float64       `json:"requests_per_op"`
	// PerOp is PerRequest × RequestsPerOp.
	PerOp time.Duration `json:"cpu_per_op_ns"`
	From  From          `json:"from"`
	// OpsCounted is false when the scenario counted no operations, so that
	// RequestsPerOp is taken as 1.
	OpsCounted bool `json:"ops_counted"`
}

// Knee is a scheme's sustained rate per WFS CPU: from a capacity search,
// or estimated as one CPU over the CPU per operation.
type Knee struct {
	OpsPerSecond float64 `json:"ops_per_s_per_wfs_cpu"`
	Estimated    bool    `json:"estimated"`
	// LowerBound is true when the capacity search never reached the knee.
	LowerBound bool `json:"lower_bound,omitempty"`
	// Op, File and Command name the capacity search (not when Estimated).
	Op      string  `json:"op,omitempty"`
	File    string  `json:"file,omitempty"`
	Command string  `json:"command,omitempty"`
	Quota   float64 `json:"quota_cpus,omitempty"`
	// Note says why a capacity knee was not used, or how to read it.
	Note string `json:"note,omitempty"`
	// EstimateOpsPerSecond is the estimate from CPU per request (1 CPU ÷
	// CPU per operation), kept beside a capacity knee to compare.
	EstimateOpsPerSecond float64 `json:"estimate_ops_per_s_per_wfs_cpu"`
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

// Files is a scheme's file cost at the site. Jobs' files come from a
// scenario of jobs only and commands' from one of commands only; without
// one, they are apportioned per WFS request (files ÷ requests) from the
// scenario the CPU figure came from.
type Files struct {
	PerJob       *FileRates `json:"per_job,omitempty"`
	JobsFrom     *From      `json:"jobs_from,omitempty"`
	PerCommand   *FileRates `json:"per_command,omitempty"`
	CommandsFrom *From      `json:"commands_from,omitempty"`
	// PerRequest is files ÷ WFS requests of a mixed scenario, applied to the
	// site's job-message and command requests when PerJob or PerCommand is
	// missing (UI polls touch no files).
	PerRequest   *FileRates `json:"per_request,omitempty"`
	RequestsFrom *From      `json:"requests_from,omitempty"`
	// PerDayWFS and PerDayHost are the operations a day at the site.
	PerDayWFS  FileRates `json:"per_day_per_wfs"`
	PerDayHost FileRates `json:"per_day_host"`
	// FSSecondsPerDay is the shared file-system time a day those operations
	// cost at the site's fs_op_latency (0 when it is not given).
	FSSecondsPerDay Pair `json:"fs_seconds_per_day"`
}

// SchemeProjection is one scheme at the site.
type SchemeProjection struct {
	Scheme    string    `json:"scheme"`
	Canonical string    `json:"canonical,omitempty"`
	CPU       CPUFigure `json:"cpu"`
	// MeanRequestsPerSecond and PeakRequestsPerSecond are WFS requests a
	// second (operations × requests per operation).
	MeanRequestsPerSecond Pair `json:"mean_requests_per_s"`
	PeakRequestsPerSecond Pair `json:"peak_requests_per_s"`
	// MeanCPU and PeakCPU are CPUs used (CPU-seconds a second): per WFS, a
	// share of one CPU; for the host, CPUs.
	MeanCPU Pair `json:"mean_cpus"`
	PeakCPU Pair `json:"peak_cpus"`
	// MeanHostShare and PeakHostShare are the host's CPUs used, as a share
	// of host_cpus (0 when the site gives none).
	MeanHostShare float64 `json:"mean_host_share,omitempty"`
	PeakHostShare float64 `json:"peak_host_share,omitempty"`
	Knee          Knee    `json:"knee"`
	// Headroom is the knee ÷ one WFS's peak operations a second;
	// HostHeadroom the knee × min(host_cpus, workflows) ÷ the host's peak
	// (0 when the site gives no host_cpus).
	Headroom     float64 `json:"headroom"`
	HostHeadroom float64 `json:"host_headroom,omitempty"`
	// Files is nil when no result counted files.
	Files *Files `json:"files,omitempty"`
}

// Skipped is a scheme the results hold but the projection could not use.
type Skipped struct {
	Scheme string `json:"scheme"`
	Why    string `json:"why"`
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
	Site    *Site               `json:"site"`
	Command string              `json:"command,omitempty"`
	Sources []Source            `json:"sources"`
	Load    Workload            `json:"load"`
	Schemes []*SchemeProjection `json:"schemes"`
	Skipped []Skipped           `json:"skipped,omitempty"`
}

// ErrNoCPUFigure is returned (wrapped) when no scheme in the inputs has a
// WFS CPU figure to project.
var ErrNoCPUFigure = errors.New("no scheme has a WFS CPU figure")
