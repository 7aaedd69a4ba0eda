package site

import (
	"fmt"
	"strings"

	"github.com/authbench/authbench/vocab"
)

// ScenarioSet names the scenarios a projection takes every scheme's
// per-operation costs from: CLI commands from one scenario of commands
// only, job messages from one of jobs only, and (when the results hold it)
// UI-server queries from one scenario of queries on a long-lived
// connection. All of a set's results must share one server model and one
// file-system model; ServerModel and FSModel say which the set was
// defined on.
type ScenarioSet struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Commands and Messages are required scenarios; Queries is optional.
	Commands string `json:"commands"`
	Messages string `json:"messages"`
	Queries  string `json:"queries,omitempty"`
	// ServerModel is the WFS serving model the set is defined on
	// (vocab.ServerModelCylc for the review); FSModel the file-system
	// model's name ("" for the run directory's own disk).
	ServerModel string `json:"server_model"`
	FSModel     string `json:"fs_model,omitempty"`
}

// DefaultSet is the set a projection uses when none is named: the review
// under the Cylc server model on the local disk.
const DefaultSet = "review"

// ScenarioSets are the named scenario sets, the default first. Each call
// returns a fresh slice.
func ScenarioSets() []ScenarioSet {
	return []ScenarioSet{
		{
			Name:        "review",
			Description: "the design review at the site's rate under Cylc's server model, on the local disk",
			Commands:    "review-cli", Messages: "review-jobs", Queries: "review-uis",
			ServerModel: vocab.ServerModelCylc,
		},
		{
			Name:        "review-burst",
			Description: "the design review's bursts (a user's command loop, a cycle point's jobs released together) under Cylc's server model, on the local disk",
			Commands:    "review-cli-burst", Messages: "review-jobs-burst", Queries: "review-uis",
			ServerModel: vocab.ServerModelCylc,
		},
		{
			Name:        "review-nfs",
			Description: "the design review at the site's rate under Cylc's server model, on the nfs-lan file-system model",
			Commands:    "review-cli-nfs", Messages: "review-jobs-nfs",
			ServerModel: vocab.ServerModelCylc, FSModel: "nfs-lan",
		},
	}
}

// SetNames lists the sets' names, the default first.
func SetNames() []string {
	var names []string
	for _, s := range ScenarioSets() {
		names = append(names, s.Name)
	}
	return names
}

// LookupSet returns the named set; "" is DefaultSet.
func LookupSet(name string) (ScenarioSet, error) {
	if name == "" {
		name = DefaultSet
	}
	for _, s := range ScenarioSets() {
		if s.Name == name {
			return s, nil
		}
	}
	return ScenarioSet{}, fmt.Errorf("no scenario set %q (have %s)", name, strings.Join(SetNames(), ", "))
}

// scenarios are the set's scenario names, required first.
func (s ScenarioSet) scenarios() []string {
	out := []string{s.Commands, s.Messages}
	if s.Queries != "" {
		out = append(out, s.Queries)
	}
	return out
}

// describe is the set in words: "`review` (commands from `review-cli`, job
// messages from `review-jobs`, ...; cylc model, local disk)".
func (s ScenarioSet) describe() string {
	parts := []string{"commands from " + code(s.Commands), "job messages from " + code(s.Messages)}
	if s.Queries != "" {
		parts = append(parts, "UI-server queries from "+code(s.Queries)+" when the results hold it")
	}
	return fmt.Sprintf("%s (%s; defined on the %s server model, %s)", code(s.Name), strings.Join(parts, ", "), s.ServerModel, fsName(s.FSModel))
}

// fsName is a file-system model's name in words.
func fsName(m string) string {
	if m == "" {
		return "the local disk"
	}
	return "the " + m + " file-system model"
}

// fsModelName is the model's name in a result's fs_model
// ("model=nfs-lan,metadata_rtt=1ms,fsync=5ms" is "nfs-lan"; "" the local
// disk).
func fsModelName(fsModel string) string {
	for _, f := range strings.Split(fsModel, ",") {
		if v, ok := strings.CutPrefix(f, "model="); ok {
			return v
		}
	}
	return fsModel
}

// serverModel is a result's server model, the default for results made
// before it was recorded.
func serverModel(m string) string {
	if m == "" {
		return vocab.DefaultServerModel
	}
	return m
}
