package results

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/counters"
)

// MergeRuns merges runs of the same scenarios (for example one results.json
// per node of a distributed run) into one run, exactly: histograms by
// Merge, counters by sum, and durations by the union of the time windows.
//
// Runs whose [Started, Ended] windows overlap ran at the same time (several
// nodes): their results for one (scenario, scheme, round) cover the same
// window, so the merged duration is the longest of them and asked rates add
// up. Runs that did not overlap ran one after another: their durations add
// up. Rates are not stored; they are recomputed from the merged counts and
// durations (Op.Rate). Peak live files add up across concurrent runs (an
// upper bound: the peaks need not coincide) and take the largest across
// sequential ones; peak RSS is the largest single process.
//
// Every run must hold the same set of scenarios and the schema this package
// reads; otherwise MergeRuns returns an error naming the first mismatch.
func MergeRuns(runs ...*Run) (*Run, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("merge: no runs")
	}
	want := runs[0].Scenarios()
	for i, r := range runs {
		if r == nil {
			return nil, fmt.Errorf("merge: run %d is nil", i+1)
		}
		if r.Schema != SchemaVersion {
			return nil, fmt.Errorf("merge: run %d (%s) has results schema %d, this authbench reads %d", i+1, r.Command, r.Schema, SchemaVersion)
		}
		if got := r.Scenarios(); !slices.Equal(got, want) {
			return nil, fmt.Errorf("merge: mixed scenarios: run 1 holds [%s], run %d holds [%s]; merge only runs of the same scenario",
				strings.Join(want, " "), i+1, strings.Join(got, " "))
		}
	}
	if err := duplicateShards(runs); err != nil {
		return nil, err
	}
	out := &Run{
		Schema:  SchemaVersion,
		Tool:    runs[0].Tool,
		Command: runs[0].Command,
		Env:     runs[0].Env,
	}
	for _, r := range runs {
		out.Partial = out.Partial || r.Partial
		if !r.Started.IsZero() && (out.Started.IsZero() || r.Started.Before(out.Started)) {
			out.Started = r.Started
		}
		if r.Ended.After(out.Ended) {
			out.Ended = r.Ended
		}
		out.Sources = append(out.Sources, r.Inputs()...)
		out.RealClients = append(out.RealClients, r.RealClients...)
		// Why a run stopped adding rounds stays with the merge (it was
		// dropped, so the report never said its rounds were sequential).
		if r.Stop != "" && !strings.Contains(out.Stop, r.Stop) {
			out.Stop = strings.TrimPrefix(out.Stop+"; "+r.Stop, "; ")
		}
	}
	out.Missing = missingShards(runs)
	if len(runs) == 1 {
		out.Results = runs[0].Results
		out.Shard = runs[0].Shard
		return out, nil
	}
	clusters := concurrentClusters(runs)
	// Merge each cluster of concurrent runs, then the clusters in sequence.
	var seq [][]*Result
	for _, c := range clusters {
		var rs [][]*Result
		for _, i := range c {
			rs = append(rs, runs[i].Results)
		}
		merged, err := mergeResultSets(rs, true)
		if err != nil {
			return nil, err
		}
		seq = append(seq, merged)
	}
	res, err := mergeResultSets(seq, false)
	if err != nil {
		return nil, err
	}
	out.Results = res
	return out, nil
}

// Scenarios returns the sorted names of the scenarios the run holds.
func (r *Run) Scenarios() []string {
	seen := map[string]bool{}
	var names []string
	for _, res := range r.Results {
		if !seen[res.Scenario] {
			seen[res.Scenario] = true
			names = append(names, res.Scenario)
		}
	}
	sort.Strings(names)
	return names
}

// oneServerRuns reports whether every run is a shard against one WFS.
func oneServerRuns(runs []*Run) bool {
	for _, r := range runs {
		if r.Shard == nil || r.Shard.Server != runs[0].Shard.Server {
			return false
		}
	}
	return len(runs) > 0
}

// duplicateShards refuses two runs that say they are the same shard of
// one WFS's load: merging both would count the shard's operations twice
// (two copies of shard 1/2 made "300 commands against the scenario's
// 200").
func duplicateShards(runs []*Run) error {
	seen := map[string]int{}
	for i, r := range runs {
		if r.Shard == nil {
			continue
		}
		key := r.Shard.Server + " " + r.Shard.String()
		if j, ok := seen[key]; ok {
			return fmt.Errorf("merge: shard %s of the WFS %s appears twice (run %d, %s, and run %d, %s): give each shard's directory once", r.Shard, r.Shard.Server, j+1, runs[j].Command, i+1, r.Command)
		}
		seen[key] = i
	}
	return nil
}

// missingShards names the shards of loader runs that did not report: each
// run says it is shard I of N; the indices 0..N-1 not among them are
// missing.
func missingShards(runs []*Run) []string {
	if !oneServerRuns(runs) {
		return nil
	}
	n := runs[0].Shard.Count
	have := map[int]bool{}
	for _, r := range runs {
		have[r.Shard.Index] = true
		n = max(n, r.Shard.Count)
	}
	var miss []string
	for i := range n {
		if !have[i] {
			miss = append(miss, fmt.Sprintf("%d/%d", i, n))
		}
	}
	return miss
}

// Inputs are the runs r was made from: its Sources when merged, else r
// itself as one source.
func (r *Run) Inputs() []Source {
	if len(r.Sources) > 0 {
		return r.Sources
	}
	return []Source{{Command: r.Command, Env: r.Env, Started: r.Started, Ended: r.Ended, Partial: r.Partial}}
}

// concurrentClusters groups run indexes whose time windows overlap,
// ordered by start. A run without a time window is taken to overlap every
// other run (the usual case: nodes of one distributed run).
func concurrentClusters(runs []*Run) [][]int {
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	// Loaders of one WFS ran together, whatever their nodes' clocks say
	// (no clock is compared across nodes).
	if oneServerRuns(runs) {
		return [][]int{idx}
	}
	for _, r := range runs {
		if r.Started.IsZero() || r.Ended.IsZero() {
			return [][]int{idx}
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return runs[idx[a]].Started.Before(runs[idx[b]].Started) })
	var clusters [][]int
	var end time.Time
	for _, i := range idx {
		r := runs[i]
		if len(clusters) > 0 && !r.Started.After(end) {
			clusters[len(clusters)-1] = append(clusters[len(clusters)-1], i)
		} else {
			clusters = append(clusters, []int{i})
		}
		if r.Ended.After(end) {
			end = r.Ended
		}
	}
	return clusters
}

type resultKey struct {
	scenario, scheme string
	round            int
}

// mergeResultSets merges several result lists by (scenario, scheme, round),
// in first-seen order.
func mergeResultSets(sets [][]*Result, concurrent bool) ([]*Result, error) {
	groups := map[resultKey][]*Result{}
	var order []resultKey
	for _, set := range sets {
		for _, r := range set {
			k := resultKey{r.Scenario, r.Scheme, r.Round}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], r)
		}
	}
	out := make([]*Result, 0, len(order))
	for _, k := range order {
		m, err := mergeResults(groups[k], concurrent)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// mergeResults merges the results of one (scenario, scheme, round).
func mergeResults(rs []*Result, concurrent bool) (*Result, error) {
	first := rs[0]
	out := &Result{
		Scenario: first.Scenario, Scheme: first.Scheme, Canonical: first.Canonical, Round: first.Round,
		ScenarioSource: first.ScenarioSource, ScenarioHash: first.ScenarioHash,
		Spec: first.Spec, Claims: first.Claims, Budgets: first.Budgets, BudgetSources: first.BudgetSources, Position: first.Position,
		ServerModel: first.ServerModel, ServerModelStats: first.ServerModelStats, ClosedLoop: first.ClosedLoop,
		FSModel: first.FSModel,
	}
	for _, r := range rs {
		if r.FSModel != out.FSModel {
			return nil, fmt.Errorf("merge: scenario %s scheme %s: file-system models differ (%q, %q)", r.Scenario, r.Scheme, out.FSModel, r.FSModel)
		}
		if r.Canonical != "" && out.Canonical != "" && r.Canonical != out.Canonical {
			return nil, fmt.Errorf("merge: scenario %s scheme %s: canonical forms differ (%s, %s)", r.Scenario, r.Scheme, out.Canonical, r.Canonical)
		}
		if out.Canonical == "" {
			out.Canonical = r.Canonical
		}
		peak := max(out.Files.PeakLive, r.Files.PeakLive)
		if concurrent {
			out.Duration = max(out.Duration, r.Duration)
			peak = out.Files.PeakLive + r.Files.PeakLive
		} else {
			out.Duration += r.Duration
		}
		out.Files = out.Files.Add(r.Files)
		out.Files.PeakLive = peak
		out.Jobs += r.Jobs
		out.Commands += r.Commands
		out.CPU += r.CPU
		out.PeakRSSKB = max(out.PeakRSSKB, r.PeakRSSKB)
		out.Partial = out.Partial || r.Partial
		out.Server = out.Server.Add(r.Server)
		out.ServerProcess = mergeServerProcess(out.ServerProcess, r.ServerProcess, concurrent)
		if out.ServerCPU == nil {
			out.ServerCPU = r.ServerCPU // indicative, as Series: the first's
		}
		out.Series = mergeSeries(out.Series, r.Series)
		out.SchemeStats = mergeStats(out.SchemeStats, r.SchemeStats)
	}
	// Bytes added is a mean per request: weight each input by its requests.
	var wsum, bsum float64
	for _, r := range rs {
		w := float64(r.Server.Requests)
		if w <= 0 {
			w = 1
		}
		wsum += w
		bsum += w * r.BytesAdded
	}
	if wsum > 0 {
		out.BytesAdded = bsum / wsum
	}
	ops := map[string]*Op{}
	asked := map[string]float64{}
	for _, r := range rs {
		for _, o := range r.Ops {
			m := ops[o.Name]
			if m == nil {
				m = &Op{Name: o.Name, Hist: NewHistogram()}
				ops[o.Name] = m
				out.Ops = append(out.Ops, m)
			}
			m.Count += o.Count
			m.Late += o.Late
			m.Dropped += o.Dropped
			for kind, n := range o.Errors {
				if m.Errors == nil {
					m.Errors = map[string]int64{}
				}
				m.Errors[kind] += n
			}
			m.Hist.Merge(o.Hist)
			if o.Uncorrected != nil {
				if m.Uncorrected == nil {
					m.Uncorrected = NewHistogram()
				}
				m.Uncorrected.Merge(o.Uncorrected)
			}
			// Asked ops over the window, divided by the merged window below.
			asked[o.Name] += o.Asked * r.Duration.Seconds()
		}
	}
	for _, o := range out.Ops {
		if out.Duration > 0 {
			o.Asked = asked[o.Name] / out.Duration.Seconds()
		}
	}
	if concurrent {
		oneServer(out, rs)
	}
	return out, nil
}

// oneServer corrects a merge of loaders' results against one WFS (every
// result a shard of the same server): the client side adds up, but each
// loader reported the same server's figures, so the server's counters,
// CPU, scheme figures and file operations are taken once, from the loader
// that saw the most requests (whose window covered the most of the run),
// not summed.
func oneServer(out *Result, rs []*Result) {
	server := ""
	for _, r := range rs {
		if r.Shard == nil || r.Shard.Server == "" || (server != "" && r.Shard.Server != server) {
			return
		}
		server = r.Shard.Server
	}
	top := rs[0]
	for _, r := range rs[1:] {
		if r.Server.Requests > top.Server.Requests {
			top = r
		}
	}
	out.Server = top.Server
	out.SchemeStats = top.SchemeStats
	out.ServerModelStats = top.ServerModelStats
	out.ServerProcess = nil
	if top.ServerProcess != nil {
		sp := *top.ServerProcess
		out.ServerProcess = &sp
	}
	var files counters.FileStats
	for _, r := range rs {
		f := r.Files
		if r.ServerFiles != nil {
			f = f.Sub(*r.ServerFiles)
		}
		files = files.Add(f)
	}
	if top.ServerFiles != nil {
		files = files.Add(*top.ServerFiles)
		sf := *top.ServerFiles
		out.ServerFiles = &sf
	}
	files.PeakLive = out.Files.PeakLive
	out.Files = files
	out.Shard = &Shard{Index: -1, Count: top.Shard.Count, Node: "merged", Server: server}
}

// mergeStats folds b into a: a ratio (see ratioDenominator) becomes the
// mean of a's and b's weighted by their denominators, so that merging
// rounds or nodes of a token flow keeps "issuer round trips per transfer"
// a figure per transfer; other counts add up; peaks, sizes and other means
// take the larger value (a conservative bound across nodes).
func mergeStats(a, b map[string]float64) map[string]float64 {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		a = map[string]float64{}
	}
	// Ratios first, while a's denominators are still a's alone.
	merged := map[string]float64{}
	for k, v := range b {
		d := ratioDenominator(k)
		if d == "" {
			continue
		}
		wa, wb := a[d], b[d]
		switch {
		case wa+wb <= 0:
			merged[k] = a[k]
		case wa <= 0:
			merged[k] = v
		default:
			merged[k] = (a[k]*wa + v*wb) / (wa + wb)
		}
	}
	for k, v := range b {
		switch {
		case ratioDenominator(k) != "":
			a[k] = merged[k]
		case strings.Contains(k, "peak") || strings.Contains(k, "mean") || strings.HasSuffix(k, "_end"):
			a[k] = max(a[k], v)
		default:
			a[k] += v
		}
	}
	return a
}

// ratioDenominator returns the count a scheme statistic is a ratio of, ""
// for a statistic that is not a ratio: the token flows' figures per
// transfer, and their mean queue wait, are ratios of flow.transfers
// (package flows).
func ratioDenominator(key string) string {
	if strings.Contains(key, "_per_transfer") || key == "flow.queue_wait_mean_s" {
		return "flow.transfers"
	}
	return ""
}

// mergeServerProcess adds b's server cost to a's: CPU and requests sum;
// windows sum for rounds run one after another and take the longer for
// results of one run taken concurrently (several loaders, one WFS would
// each report the same WFS, so only distinct servers should be merged).
func mergeServerProcess(a, b *ServerProcess, concurrent bool) *ServerProcess {
	if b == nil {
		return a
	}
	if a == nil {
		c := *b
		return &c
	}
	out := *a
	out.UserSeconds += b.UserSeconds
	out.SysSeconds += b.SysSeconds
	out.Requests += b.Requests
	out.Throttled += b.Throttled
	out.MaxRSSKB = max(out.MaxRSSKB, b.MaxRSSKB)
	out.Threads = max(out.Threads, b.Threads)
	if concurrent {
		out.Window = max(out.Window, b.Window)
	} else {
		out.Window += b.Window
	}
	if out.CPUs != b.CPUs {
		out.CPUs = "mixed"
	}
	if out.Connection != b.Connection {
		out.Connection = "mixed"
	}
	out.PID = 0
	return &out
}

// mergeSeries folds b into a: counts and errors add up, the p99 of an
// interval is the larger of the two (an upper bound, not exact).
func mergeSeries(a, b []*Series) []*Series {
	byOp := map[string]*Series{}
	for _, s := range a {
		byOp[s.Op] = s
	}
	for _, s := range b {
		m := byOp[s.Op]
		if m == nil || m.Interval != s.Interval {
			if m == nil {
				c := *s
				c.Points = append([]Point(nil), s.Points...)
				a = append(a, &c)
				byOp[s.Op] = &c
			}
			continue
		}
		for i, p := range s.Points {
			if i >= len(m.Points) {
				m.Points = append(m.Points, p)
				continue
			}
			m.Points[i].Count += p.Count
			m.Points[i].Errors += p.Errors
			m.Points[i].P99 = max(m.Points[i].P99, p.P99)
		}
	}
	return a
}
