package issuerload

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/authbench/authbench/yamlstrict"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// MaxSiteFile bounds a site file's size.
const MaxSiteFile = 64 << 10

// MaxLifetimes bounds the access-token lifetimes a site file may compare.
const MaxLifetimes = 10

// Site is a WLCG site's inputs to the model, as a YAML file states them:
// its transfer rate and queue waits, with their source, and the
// access-token lifetimes to compare. The model is computed once per
// lifetime (Site.Models).
type Site struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description" json:"description,omitempty"`
	// Source cites where the figures come from.
	Source           string  `yaml:"source" json:"source"`
	TransfersPerHour float64 `yaml:"transfers_per_hour" json:"transfers_per_hour"`
	// QueueWaitMean is the mean of exponential queue waits.
	QueueWaitMean yamlstrict.Duration `yaml:"queue_wait_mean" json:"queue_wait_mean"`
	// AccessLifetimes are the lifetimes compared, each above Margin.
	AccessLifetimes []yamlstrict.Duration `yaml:"access_lifetimes" json:"access_lifetimes"`
	RefreshLifetime yamlstrict.Duration   `yaml:"refresh_lifetime" json:"refresh_lifetime"`
	Margin          yamlstrict.Duration   `yaml:"margin" json:"margin"`

	// Origin is "built-in NAME" or the file it was read from.
	Origin string `yaml:"-" json:"origin"`
}

// Inputs are the model's inputs at access-token lifetime life: the site's
// rate, waits, refresh lifetime and margin over DefaultInputs.
func (s *Site) Inputs(life time.Duration) Inputs {
	in := DefaultInputs(s.TransfersPerHour, Waits{ExponentialMean: s.QueueWaitMean.D()})
	in.AccessLifetime, in.RefreshLifetime, in.Margin = life, s.RefreshLifetime.D(), s.Margin.D()
	return in
}

// Models computes the model at each of the site's access-token lifetimes,
// in order.
func (s *Site) Models() ([]*Model, error) {
	var out []*Model
	for _, l := range s.AccessLifetimes {
		m, err := Compute(s.Inputs(l.D()))
		if err != nil {
			return nil, fmt.Errorf("site %s, access lifetime %s: %w", s.Name, l.D(), err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Validate checks s; the error names the field.
func (s *Site) Validate() error {
	f := yamlstrict.FieldErrorf
	switch {
	case s.Name == "":
		return f("name", "required")
	case strings.TrimSpace(s.Source) == "":
		return f("source", "required: cite where the figures come from")
	case s.TransfersPerHour != s.TransfersPerHour || s.TransfersPerHour <= 0 || s.TransfersPerHour > 1e9:
		return f("transfers_per_hour", "want more than 0 and at most 1e9, got %g", s.TransfersPerHour)
	case s.QueueWaitMean < 0 || s.QueueWaitMean.D() > 30*24*time.Hour:
		return f("queue_wait_mean", "want 0 to 720h, got %s", s.QueueWaitMean.D())
	case len(s.AccessLifetimes) == 0 || len(s.AccessLifetimes) > MaxLifetimes:
		return f("access_lifetimes", "want 1 to %d lifetimes, got %d", MaxLifetimes, len(s.AccessLifetimes))
	case s.Margin < 0:
		return f("margin", "must not be negative")
	}
	for i, l := range s.AccessLifetimes {
		if l <= s.Margin || l > s.RefreshLifetime {
			return f(fmt.Sprintf("access_lifetimes[%d]", i), "%s: want more than margin (%s) and at most refresh_lifetime (%s)", l.D(), s.Margin.D(), s.RefreshLifetime.D())
		}
	}
	return nil
}

// ParseSite decodes and validates a site file strictly: an unknown key, a
// wrong type or an impossible value is one line "wlcg site FILE:LINE:
// problem".
func ParseSite(file string, data []byte) (*Site, error) {
	if len(data) > MaxSiteFile {
		return nil, fmt.Errorf("wlcg site %s:1: %d bytes, more than the %d a site file may have", file, len(data), MaxSiteFile)
	}
	var s Site
	line, err := yamlstrict.Decode(data, &s, yamlstrict.Options{Top: "the site"}, s.Validate)
	if errors.Is(err, yamlstrict.ErrEmpty) {
		err = errors.New("empty; want a mapping with name, source, transfers_per_hour and access_lifetimes")
	}
	if err != nil {
		return nil, fmt.Errorf("wlcg site %s:%d: %w", file, line, err)
	}
	s.Origin = file
	return &s, nil
}

// SiteNames lists the built-in sites, sorted.
func SiteNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// LoadSite reads a built-in site by name, or else a site file.
func LoadSite(nameOrFile string) (*Site, error) {
	if !strings.ContainsAny(nameOrFile, "/.") {
		if b, err := builtinFS.ReadFile(path.Join("builtin", nameOrFile+".yaml")); err == nil {
			s, err := ParseSite(nameOrFile, b)
			if err != nil {
				return nil, err
			}
			s.Origin = "built-in " + nameOrFile
			return s, nil
		}
		return nil, fmt.Errorf("no built-in WLCG site %q (have %s) and not a file path", nameOrFile, strings.Join(SiteNames(), ", "))
	}
	b, err := yamlstrict.ReadFile(nameOrFile, MaxSiteFile, "a WLCG site file")
	if err != nil {
		return nil, fmt.Errorf("wlcg site %s: %w", nameOrFile, err)
	}
	return ParseSite(nameOrFile, b)
}
