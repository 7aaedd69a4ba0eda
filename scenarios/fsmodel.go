package scenarios

import (
	"fmt"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/authbench/authbench/wfs"
)

// FSSpec is a scenario's file-system latency model (its fs: key; see
// wfs.FSModel): a preset's name, `fs: nfs-lan`, or a mapping
// `fs: {model: NAME, metadata_rtt: 1ms, fsync: 5ms}` in which NAME is a
// preset whose figures the others replace, or a name of one's own with both
// figures given.
type FSSpec struct {
	Model       string    `yaml:"model"`
	MetadataRTT *Duration `yaml:"metadata_rtt"`
	Fsync       *Duration `yaml:"fsync"`
}

// FSModel resolves the spec to a model.
func (s *FSSpec) FSModel() (wfs.FSModel, error) {
	return wfs.NewFSModel(s.Model, durationPtr(s.MetadataRTT), durationPtr(s.Fsync))
}

func durationPtr(d *Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := d.D()
	return &v
}

// validate names the field a bad spec is wrong in, for Parse's file:line.
func (s *FSSpec) validate() error {
	for _, f := range []struct {
		key string
		d   *Duration
	}{{"fs.metadata_rtt", s.MetadataRTT}, {"fs.fsync", s.Fsync}} {
		if f.d != nil && (*f.d < 0 || f.d.D() > wfs.MaxFSDelay) {
			return ferr(f.key, "want 0 to %s, got %s", wfs.MaxFSDelay, f.d.D())
		}
	}
	if _, err := s.FSModel(); err != nil {
		return ferr("fs.model", "%v", err)
	}
	return nil
}

// FSModel is the file-system model the scenario asks for, nil when it asks
// for none.
func (s *Scenario) FSModel() (*wfs.FSModel, error) {
	if s.FS == nil {
		return nil, nil
	}
	m, err := s.FS.FSModel()
	if err != nil {
		return nil, fmt.Errorf("scenario %s: fs: %w", s.Name, err)
	}
	return &m, nil
}

// fsModel is the file-system model a run applies: Config.FS (the -fs flag)
// over the scenario's fs:, nil when neither gives one.
func (cfg Config) fsModel() (*wfs.FSModel, error) {
	if cfg.FS != nil {
		return cfg.FS, nil
	}
	if cfg.Scenario == nil {
		return nil, nil
	}
	return cfg.Scenario.FSModel()
}

// fsShorthand rewrites a scenario's `fs: NAME` as `fs: {model: NAME}`, in
// place and at the name's position, so that the strict check and the
// decoder see the one mapping form FSSpec takes.
func fsShorthand(root *yaml.Node) {
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "fs" || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			continue
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "model", Line: v.Line, Column: v.Column}
		val := *v
		*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Line: val.Line, Column: val.Column,
			Content: []*yaml.Node{key, &val}}
	}
}
