package wfs

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/counters"
)

// FSModel is a latency model of the file system a run directory lives on.
// Cylc run directories are often on shared file systems (NFS, Lustre,
// GPFS) where every metadata operation is a round trip to a server; the
// Files layer applies the model by sleeping, before each operation, for
// that operation's modelled cost:
//
//   - MetadataRTT for every open (a create, or an open of an existing file
//     for reading, writing or appending: NFS's close-to-open consistency
//     revalidates a file's attributes at each open, a GETATTR round trip),
//     every rename and every remove;
//   - Fsync for every fsync (NFS's COMMIT, a stable write on the server).
//
// An operation that fails is charged too: the round trip was made. Making
// and removing directories, and the layer's own existence checks, are not
// charged, nor is the flush NFS makes at close after an unsynced write
// (close-to-open again): for such writes the model is a lower bound.
//
// The sleep costs no CPU: the model raises the latency of whatever waits on
// a file operation (a request the WFS serves, a client's command), not the
// WFS's CPU per request, and a WFS whose workers sleep on the file system
// serves fewer requests at once. The zero value (and the local preset)
// models nothing.
type FSModel struct {
	// Name names the model: a preset's name, or the user's own.
	Name string
	// MetadataRTT is the cost of one open, create, rename or remove.
	MetadataRTT time.Duration
	// Fsync is the cost of one fsync.
	Fsync time.Duration
}

// MaxFSDelay bounds each of a model's figures: past it a figure describes a
// file system that has failed, not a slow one.
const MaxFSDelay = 10 * time.Second

// FSPresets returns the named models, by name, as a new map:
//
//   - local: no delay (the run directory's own disk, measured as it is);
//   - nfs-lan: NFS (v3/v4) on a LAN, 1 ms a metadata operation, 5 ms an
//     fsync;
//   - lustre: Lustre through its metadata server (MDS), 2 ms a metadata
//     operation, 5 ms an fsync.
//
// The figures are assumptions to calibrate at a site (docs/fs-model.md
// gives their grounds): NFSv3 servers commit CREATE, REMOVE and RENAME to
// stable storage before replying (RFC 1813), so a metadata operation costs
// a network round trip plus a journal commit; Lustre's single-client
// mdtest rates (about 500 creates, 1,800 removes and 2,000 stats a second
// with one thread in Dell's Intel EE for Lustre white paper) are 0.5-2 ms
// an operation, and the preset takes the create's. Both fsync figures are
// assumptions.
func FSPresets() map[string]FSModel {
	return map[string]FSModel{
		"local":   {Name: "local"},
		"nfs-lan": {Name: "nfs-lan", MetadataRTT: time.Millisecond, Fsync: 5 * time.Millisecond},
		"lustre":  {Name: "lustre", MetadataRTT: 2 * time.Millisecond, Fsync: 5 * time.Millisecond},
	}
}

// FSPresetNames returns the presets' names, sorted.
func FSPresetNames() []string {
	var names []string
	for n := range FSPresets() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsZero reports whether the model delays nothing.
func (m FSModel) IsZero() bool { return m.MetadataRTT == 0 && m.Fsync == 0 }

// String is the model in the form ParseFSModel reads, every figure given:
// "model=nfs-lan,metadata_rtt=1ms,fsync=5ms".
func (m FSModel) String() string {
	return fmt.Sprintf("model=%s,metadata_rtt=%s,fsync=%s", m.Name, m.MetadataRTT, m.Fsync)
}

// Cost is the delay the model charges for the operations counted in s when
// none of them failed: every write, append and read opens a file, and
// every rename, remove and fsync is charged as itself. A layer with this
// model whose operations all succeeded has s.ModelDelay == m.Cost(s).
func (m FSModel) Cost(s counters.FileStats) time.Duration {
	opens := s.Written + s.Appended + s.Read
	return time.Duration(opens+s.Renamed+s.Deleted)*m.MetadataRTT + time.Duration(s.Fsyncs)*m.Fsync
}

// NewFSModel builds a model from a name and optional figures. A preset's
// name takes the preset's figures, and a figure given replaces the
// preset's; any other name (or none, which is "custom") needs both
// figures. Names are lower-case letters, digits, '-', '_' and '.'.
func NewFSModel(name string, metadataRTT, fsync *time.Duration) (FSModel, error) {
	m, preset := FSPresets()[name]
	if !preset {
		if metadataRTT == nil || fsync == nil {
			return FSModel{}, fmt.Errorf("unknown file-system preset %q: want one of %s, or a model with both metadata_rtt and fsync",
				name, strings.Join(FSPresetNames(), ", "))
		}
		if name == "" {
			name = "custom"
		}
		if err := checkFSName(name); err != nil {
			return FSModel{}, err
		}
		m = FSModel{Name: name}
	}
	for _, f := range []struct {
		key string
		v   *time.Duration
		to  *time.Duration
	}{{"metadata_rtt", metadataRTT, &m.MetadataRTT}, {"fsync", fsync, &m.Fsync}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 || *f.v > MaxFSDelay {
			return FSModel{}, fmt.Errorf("%s %s: want 0 to %s", f.key, *f.v, MaxFSDelay)
		}
		*f.to = *f.v
	}
	return m, nil
}

func checkFSName(name string) error {
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("file-system model name %q: want lower-case letters, digits, '-', '_' or '.'", name)
		}
	}
	return nil
}

// ParseFSModel reads a model as the -fs flags take it: a preset's name
// ("nfs-lan"), or comma-separated key=value pairs
// "model=NAME,metadata_rtt=1ms,fsync=5ms" (each key at most once; NAME a
// preset whose figures the others replace, or a name of one's own with
// both figures given). Errors are one line.
func ParseFSModel(s string) (FSModel, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "=") {
		m, err := NewFSModel(s, nil, nil)
		if err != nil {
			return FSModel{}, fmt.Errorf("file-system model %q: %w", s, err)
		}
		return m, nil
	}
	var name string
	var rtt, fsync *time.Duration
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return FSModel{}, fmt.Errorf("file-system model %q: %q is not key=value", s, part)
		}
		if seen[k] {
			return FSModel{}, fmt.Errorf("file-system model %q: %s given twice", s, k)
		}
		seen[k] = true
		switch k {
		case "model":
			name = v
		case "metadata_rtt", "fsync":
			d, err := time.ParseDuration(v)
			if err != nil {
				return FSModel{}, fmt.Errorf("file-system model %q: %s: want a duration such as 1ms, got %q", s, k, v)
			}
			if k == "fsync" {
				fsync = &d
			} else {
				rtt = &d
			}
		default:
			return FSModel{}, fmt.Errorf("file-system model %q: unknown key %q; want model, metadata_rtt or fsync", s, k)
		}
	}
	m, err := NewFSModel(name, rtt, fsync)
	if err != nil {
		return FSModel{}, fmt.Errorf("file-system model %q: %w", s, err)
	}
	return m, nil
}
