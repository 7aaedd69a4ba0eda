package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/results"
)

// Input is one source of figures: a results directory's run
// (results.json) and, when present, its capacity search (capacity.json).
// Either may be nil (the report passes runs and capacity searches apart).
type Input struct {
	// Dir is the results directory ("" when the data came from elsewhere).
	Dir      string
	Run      *results.Run
	Capacity *results.CapacityRun
	// CapacityFile is where Capacity was read from.
	CapacityFile string
}

// ReadInput reads DIR/results.json and, when it exists, DIR/capacity.json.
// Errors are one line naming the directory or file.
func ReadInput(dir string) (Input, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Input{}, fmt.Errorf("results dir %s: no such directory", dir)
	case err != nil:
		return Input{}, fmt.Errorf("results dir %s: %w", dir, unwrapPath(err))
	case !info.IsDir():
		return Input{}, fmt.Errorf("results dir %s: not a directory (give the directory holding results.json)", dir)
	}
	file := filepath.Join(dir, "results.json")
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return Input{}, fmt.Errorf("results dir %s: no results.json in it (authbench run -out %s writes one)", dir, dir)
	}
	run, err := results.Read(file)
	if err != nil {
		return Input{}, err
	}
	in := Input{Dir: dir, Run: run}
	capFile := filepath.Join(dir, "capacity.json")
	if _, err := os.Stat(capFile); err == nil {
		c, err := ReadCapacity(capFile)
		if err != nil {
			return Input{}, err
		}
		in.Capacity, in.CapacityFile = c, capFile
	}
	return in, nil
}

// MaxCapacityFile bounds a capacity.json's size.
const MaxCapacityFile = 64 << 20

// ReadCapacity reads a capacity.json written by `authbench capacity`.
func ReadCapacity(file string) (*results.CapacityRun, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("capacity %s: %w", file, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxCapacityFile+1))
	if err != nil {
		return nil, fmt.Errorf("capacity %s: %w", file, err)
	}
	if len(b) > MaxCapacityFile {
		return nil, fmt.Errorf("capacity %s: more than %d bytes", file, MaxCapacityFile)
	}
	var c results.CapacityRun
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("capacity %s: %w", file, err)
	}
	if c.Schema != results.SchemaVersion {
		return nil, fmt.Errorf("capacity %s: schema %d, this authbench reads %d", file, c.Schema, results.SchemaVersion)
	}
	return &c, nil
}

// ReadInputs reads what dir stands for: one Input when it holds
// results.json; else one per subdirectory that does (results.ResultDirs),
// plus dir's own capacity.json, if any, as an Input of its own.
func ReadInputs(dir string) ([]Input, error) {
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		in, err := ReadInput(dir)
		if err != nil {
			return nil, err
		}
		return []Input{in}, nil
	}
	dirs, err := results.ResultDirs(dir)
	if err != nil {
		return nil, err
	}
	var out []Input
	for _, d := range dirs {
		in, err := ReadInput(d)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	capFile := filepath.Join(dir, "capacity.json")
	if _, err := os.Stat(capFile); err == nil {
		c, err := ReadCapacity(capFile)
		if err != nil {
			return nil, err
		}
		out = append(out, Input{Dir: dir, Capacity: c, CapacityFile: capFile})
	}
	return out, nil
}

// MergeInputs merges the runs of ins that hold the same scenarios (the
// shards or nodes of one run, given as several directories) into one
// input, as `authbench report` does; inputs without a run (capacity
// searches) pass through. project of two shards read only the first: its
// per-operation figures came from half the load.
func MergeInputs(ins []Input) ([]Input, error) {
	type group struct {
		key  string
		dirs []string
		runs []*results.Run
		in   Input
	}
	var groups []*group
	var out []Input
	for _, in := range ins {
		if in.Run == nil {
			out = append(out, in)
			continue
		}
		key := strings.Join(in.Run.Scenarios(), " ")
		var g *group
		for _, x := range groups {
			if x.key == key {
				g = x
			}
		}
		if g == nil {
			g = &group{key: key, in: in}
			groups = append(groups, g)
		}
		g.dirs = append(g.dirs, in.Dir)
		g.runs = append(g.runs, in.Run)
	}
	seen := map[string]*group{}
	for _, g := range groups {
		for _, sc := range strings.Fields(g.key) {
			if o := seen[sc]; o != nil {
				return nil, fmt.Errorf("mixed scenarios: %s holds [%s] and %s holds [%s]; runs merge only with runs of the same scenarios",
					o.dirs[0], o.key, g.dirs[0], g.key)
			}
			seen[sc] = g
		}
	}
	for _, g := range groups {
		// Even one run goes through MergeRuns: a loader's run alone
		// still names the shards that did not report.
		m, err := results.MergeRuns(g.runs...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(g.dirs, ", "), err)
		}
		in := g.in
		in.Run, in.Dir = m, strings.Join(g.dirs, " + ")
		out = append(out, in)
	}
	return out, nil
}
