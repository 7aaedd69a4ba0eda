package results

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/authbench/authbench/mdtable"
)

// FormatBench writes run in the Go benchmark format
// (golang.org/design/14313-benchmark-format), so that benchstat reads it:
// configuration lines for the environment, then one line per (scenario,
// scheme, op, round) with at least one success:
//
//	BenchmarkAuth/scenario=S/scheme=X/op=Y-P  N  <p50> p50-ns  <p99> p99-ns  <rate> ops/s  <files> files/op
//
// N is the op's count, P the run's GOMAXPROCS, and files/op the files
// created in the round per op. Each round is one sample, so benchstat
// reports the spread over rounds. Name values are escaped by BenchName.
func FormatBench(w io.Writer, run *Run) error {
	ew := mdtable.NewWriter(w)
	cfg := []struct{ key, val string }{
		{"cpu", run.Env.CPU},
		{"host", run.Env.Host},
		{"kernel", run.Env.Kernel},
		{"go", run.Env.Go},
		{"libzmq", run.Env.Libzmq},
		{"libsodium", run.Env.Libsodium},
		{"command", run.Command},
	}
	for _, c := range cfg {
		if v := oneLine(c.val); v != "" {
			ew.Printf("%s: %s\n", c.key, v)
		}
	}
	procs := ""
	if run.Env.GOMAXPROCS > 0 {
		procs = fmt.Sprintf("-%d", run.Env.GOMAXPROCS)
	}
	for _, r := range run.Results {
		for _, o := range r.Ops {
			if o.Count <= 0 || o.Hist == nil {
				continue
			}
			ew.Printf("BenchmarkAuth/scenario=%s/scheme=%s/op=%s%s\t%d\t%d p50-ns\t%d p99-ns\t%s ops/s\t%s files/op\n",
				BenchName(r.Scenario), BenchName(r.Scheme), BenchName(o.Name), procs, o.Count,
				int64(o.Hist.Percentile(50)), int64(o.Hist.Percentile(99)),
				trimFloat(o.Rate(r.Duration)), trimFloat(float64(r.Files.Created)/float64(o.Count)))
		}
	}
	if ew.Err() != nil {
		return fmt.Errorf("bench format: %w", ew.Err())
	}
	return nil
}

// BenchName makes a value safe inside a benchmark name part. benchfmt
// splits a name at '/' into parts, reads "/key=value" up to the first '=',
// ends the name at white space, and takes a trailing "-<digits>" as
// GOMAXPROCS; so '/' becomes "%2F", '%' becomes "%25", white space "%20"
// (URL escaping, reversible), and ':', '=' and '+' stay as written.
func BenchName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '%':
			b.WriteString("%25")
		case r == '/':
			b.WriteString("%2F")
		case unicode.IsSpace(r) || unicode.IsControl(r):
			for _, c := range []byte(string(r)) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// oneLine joins lines for a configuration value.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// trimFloat prints a float with up to 4 decimals and no trailing zeros.
func trimFloat(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
