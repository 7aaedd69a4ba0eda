// A scenario set's results as the projection reads them: grouped by
// scheme and scenario, each group's WFS CPU per operation, and the check
// that a set shares one server and one file-system model.

package site

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/authbench/authbench/results"
	"github.com/authbench/authbench/vocab"
)

// group is one scenario's results for one scheme (its rounds).
type group struct {
	dir      string
	command  string
	scenario string
	rs       []*results.Result
}

func (g *group) openLoop() bool {
	for _, r := range g.rs {
		if len(r.ClosedLoop) > 0 {
			return false
		}
	}
	return true
}

func (g *group) sum(f func(*results.Result) int64) int64 {
	var n int64
	for _, r := range g.rs {
		n += f(r)
	}
	return n
}

// from describes the group; op is the operation kind counted in Ops ("" for
// none).
func (g *group) from(op string) *From {
	r0 := g.rs[0]
	f := &From{Dir: g.dir, Scenario: g.scenario, ServerModel: serverModel(r0.ServerModel), FSModel: fsModelName(r0.FSModel),
		OpenLoop: g.openLoop(), Rounds: len(g.rs), Command: g.command,
		Jobs:     g.sum(func(r *results.Result) int64 { return r.Jobs }),
		Commands: g.sum(func(r *results.Result) int64 { return r.Commands }),
		Requests: g.sum(func(r *results.Result) int64 {
			if r.ServerProcess == nil {
				return 0
			}
			return r.ServerProcess.Requests
		}),
	}
	if op != "" {
		f.Ops = g.sum(func(r *results.Result) int64 { return opCount(r, op) })
	}
	if f.Jobs > 0 {
		if m := g.sum(func(r *results.Result) int64 { return opCount(r, vocab.OpJobMessage) }); m > 0 {
			f.MessagesPerJob = float64(m) / float64(f.Jobs)
		}
	}
	return f
}

// opCount is an op's count with its errors (each was a request).
func opCount(r *results.Result, name string) int64 {
	if o := r.Op(name); o != nil {
		return o.Count + o.ErrorCount()
	}
	return 0
}

// siteOpNames are the result ops a site model counts.
func siteOpNames() []string { return []string{vocab.OpCLICommand, vocab.OpJobMessage, vocab.OpUISPoll} }

func median(xs []float64) float64 { return vocab.SpreadOf(xs).Median }

// measure is the group's WFS CPU per operation of the named op: the WFS
// process's CPU over each round's measured window ÷ the op's count there,
// median over rounds. A group whose results count other site operations
// too has no per-operation figure (why says so).
func measure(g *group, kind, opName string) (c OpCost, why string) {
	if g == nil {
		return OpCost{}, ""
	}
	var perOp, reqPerOp []float64
	for _, r := range g.rs {
		for _, other := range siteOpNames() {
			if other != opName && opCount(r, other) > 0 {
				return OpCost{}, fmt.Sprintf("scenario %s mixes %s with %s: a per-%s figure needs a scenario of %ss only", g.scenario, opName, other, kind, kind)
			}
		}
		n := opCount(r, opName)
		sp := r.ServerProcess
		if n <= 0 || sp == nil || sp.Requests <= 0 {
			continue
		}
		cpu := sp.CPUSeconds()
		if pub, _, ok := publishCPU(r); ok {
			cpu -= pub // the WFS's metered publishing is charged per delta
		}
		perOp = append(perOp, cpu/float64(n))
		reqPerOp = append(reqPerOp, float64(sp.Requests)/float64(n))
	}
	if len(perOp) == 0 {
		return OpCost{}, fmt.Sprintf("scenario %s has no WFS CPU figure for %s (no server_process with requests)", g.scenario, opName)
	}
	from := g.from(opName)
	from.Rounds = len(perOp)
	return OpCost{Op: kind, CPU: time.Duration(math.Round(median(perOp) * float64(time.Second))), RequestsPerOp: median(reqPerOp), Measured: true,
		Basis: fmt.Sprintf("measured: the WFS's whole CPU ÷ its %s operations", opName), From: from}, ""
}

// probeReused is the WFS's CPU per ping on a reused connection from the
// group's handshake probes (median over rounds); ok is false without one
// (no probe runs under the cylc model).
func probeReused(g *group) (time.Duration, int, bool) {
	if g == nil {
		return 0, 0, false
	}
	var xs []float64
	for _, r := range g.rs {
		if sp := r.ServerProcess; sp != nil && sp.Handshake != nil && sp.Handshake.Reused > 0 {
			xs = append(xs, float64(sp.Handshake.Reused))
		}
	}
	if len(xs) == 0 {
		return 0, 0, false
	}
	return time.Duration(math.Round(median(xs))), len(xs), true
}

// setResults are the inputs' results in the set's scenarios, grouped by
// scheme and scenario.
type setResults struct {
	order     []string
	canonical map[string]string
	spec      map[string]*vocab.Spec
	groups    map[string]map[string]*group // scheme → scenario → group
	where     map[string]string            // scenario → dir
	present   map[string]bool
	all       []string // every scenario the inputs hold, sorted
}

func collect(set ScenarioSet, inputs []Input) (*setResults, error) {
	want := map[string]bool{}
	for _, sc := range set.scenarios() {
		want[sc] = true
	}
	sr := &setResults{canonical: map[string]string{}, spec: map[string]*vocab.Spec{}, groups: map[string]map[string]*group{},
		where: map[string]string{}, present: map[string]bool{}}
	inputOf := map[string]int{}
	allSet := map[string]bool{}
	for i, in := range inputs {
		if in.Run == nil {
			continue
		}
		for _, r := range in.Run.Results {
			if r == nil {
				continue
			}
			allSet[r.Scenario] = true
			if !want[r.Scenario] {
				continue
			}
			if j, ok := inputOf[r.Scenario]; ok && j != i {
				return nil, fmt.Errorf("scenario %s is in two inputs (%s and %s): give one of them", r.Scenario, dirName(inputs[j].Dir), dirName(in.Dir))
			}
			inputOf[r.Scenario] = i
			sr.where[r.Scenario] = in.Dir
			sr.present[r.Scenario] = true
			if _, ok := sr.groups[r.Scheme]; !ok {
				sr.order = append(sr.order, r.Scheme)
				sr.groups[r.Scheme] = map[string]*group{}
			}
			if sr.canonical[r.Scheme] == "" {
				sr.canonical[r.Scheme] = r.Canonical
			}
			if sr.spec[r.Scheme] == nil && r.Spec != nil {
				sr.spec[r.Scheme] = r.Spec
			}
			g := sr.groups[r.Scheme][r.Scenario]
			if g == nil {
				g = &group{dir: in.Dir, command: in.Run.Command, scenario: r.Scenario}
				sr.groups[r.Scheme][r.Scenario] = g
			}
			g.rs = append(g.rs, r)
		}
	}
	for sc := range allSet {
		sr.all = append(sr.all, sc)
	}
	sort.Strings(sr.all)
	return sr, nil
}

func dirName(d string) string {
	if d == "" {
		return "a run given without a directory"
	}
	return d
}

// models checks that the set's results share one server model and one
// file-system model, and returns them.
func (sr *setResults) models(set ScenarioSet) (server, fsm string, err error) {
	type seen struct{ model, scenario, dir string }
	var sv, fv *seen
	for _, sc := range set.scenarios() {
		for _, scheme := range sr.order {
			g := sr.groups[scheme][sc]
			if g == nil {
				continue
			}
			for _, r := range g.rs {
				m, f := serverModel(r.ServerModel), fsModelName(r.FSModel)
				if sv == nil {
					sv, fv = &seen{m, sc, g.dir}, &seen{f, sc, g.dir}
					continue
				}
				if m != sv.model {
					return "", "", fmt.Errorf("set %s mixes server models: %s ran under %s (%s) and %s under %s (%s, %s); a set's figures come from one server model",
						set.Name, sv.scenario, sv.model, dirName(sv.dir), sc, m, dirName(g.dir), r.Scheme)
				}
				if f != fv.model {
					return "", "", fmt.Errorf("set %s mixes file-system models: %s ran on %s (%s) and %s on %s (%s, %s); a set's figures come from one file-system model",
						set.Name, fv.scenario, fsName(fv.model), dirName(fv.dir), sc, fsName(f), dirName(g.dir), r.Scheme)
				}
			}
		}
	}
	if sv == nil {
		return "", "", nil
	}
	return sv.model, fv.model, nil
}

// publishCPU is the CPU the WFS metered publishing deltas in r (its
// server_model_stats publish_cpu_s: its server thread's publish sections
// and its publisher's libzmq threads) and the deltas it sent (one per
// subscriber); ok is false when r holds no delta sent.
func publishCPU(r *results.Result) (cpu, sends float64, ok bool) {
	st := r.ServerModelStats
	cpu, sends = st["publish_cpu_s"], st["delta_sends"]
	return cpu, sends, sends > 0 && cpu > 0
}

// measureDelta is the WFS's CPU per delta sent to one UI server, from the
// group's rounds that received deltas (uis.delta) with the WFS's metered
// publish CPU (publishCPU), median over rounds; ok is false without one.
func measureDelta(g *group) (OpCost, bool) {
	if g == nil {
		return OpCost{}, false
	}
	var perOp []float64
	for _, r := range g.rs {
		cpu, sends, ok := publishCPU(r)
		if !ok || opCount(r, vocab.OpUISDelta) <= 0 {
			continue
		}
		perOp = append(perOp, cpu/sends)
	}
	if len(perOp) == 0 {
		return OpCost{}, false
	}
	from := g.from(vocab.OpUISDelta)
	from.Rounds = len(perOp)
	return OpCost{Op: OpDelta, CPU: time.Duration(math.Round(median(perOp) * float64(time.Second))), RequestsPerOp: 0, Measured: true,
		Basis: "measured: the WFS's metered publish CPU (its server thread's publish sections and its publisher's libzmq threads) ÷ the deltas it sent",
		From:  from}, true
}
