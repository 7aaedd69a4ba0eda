package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/authbench/authbench/mdtable"
	"github.com/authbench/authbench/vocab"

	"github.com/authbench/authbench/schemes"
)

// MatrixVersion is the schema version of the matrix JSON.
const MatrixVersion = 1

// DefaultParallel is how many cells Run runs at once by default.
const DefaultParallel = 8

// caseTimeout bounds one case on one scheme.
const caseTimeout = 2 * time.Minute

// CaseInfo describes a case in the matrix.
type CaseInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Claim string `json:"claim"`
}

// SchemeInfo describes a scheme in the matrix: the spec as given, its
// canonical form and the claims it declares.
type SchemeInfo struct {
	Spec      string   `json:"spec"`
	Canonical string   `json:"canonical"`
	Claims    []string `json:"claims"`
}

// Cell is one case on one scheme.
type Cell struct {
	Scheme string `json:"scheme"`
	Case   string `json:"case"`
	Claim  string `json:"claim"`
	// Declared says whether the scheme declares the claim the case tests: a
	// failure of an undeclared claim is expected and not an error.
	Declared bool    `json:"declared"`
	Outcome  Outcome `json:"outcome"`
	Detail   string  `json:"detail"`
	Millis   int64   `json:"ms"`
}

// Matrix is the result of a conformance run: every case on every scheme.
type Matrix struct {
	Version int          `json:"version"`
	Schemes []SchemeInfo `json:"schemes"`
	Cases   []CaseInfo   `json:"cases"`
	// Cells are scheme-major: Cells[i*len(Cases)+j] is case j on scheme i.
	Cells []Cell `json:"cells"`
}

// Cell returns the cell of a scheme (as given) and a case id.
func (m *Matrix) Cell(scheme, caseID string) (Cell, bool) {
	for _, c := range m.Cells {
		if c.Scheme == scheme && c.Case == caseID {
			return c, true
		}
	}
	return Cell{}, false
}

// Failures counts the failed cells of declared claims: the errors of a run.
func (m *Matrix) Failures() int {
	n := 0
	for _, c := range m.Cells {
		if c.Outcome == Fail && c.Declared {
			n++
		}
	}
	return n
}

// Counts returns the number of cells of each outcome, failures split into
// declared and undeclared claims.
func (m *Matrix) Counts() (pass, failDeclared, failUndeclared, na int) {
	for _, c := range m.Cells {
		switch {
		case c.Outcome == Pass:
			pass++
		case c.Outcome == Fail && c.Declared:
			failDeclared++
		case c.Outcome == Fail:
			failUndeclared++
		default:
			na++
		}
	}
	return
}

// Options configure Run.
type Options struct {
	// Cases are the ids to run; empty means the whole catalogue.
	Cases []string
	// Parallel is how many cells run at once; 0 means DefaultParallel.
	// Cells mostly wait on sockets and timers, so it may exceed the CPUs.
	Parallel int
	// Dir is where scratch directories are made; "" means os.TempDir().
	Dir string
	// Progress, when set, is called after each cell (from any goroutine,
	// one call at a time).
	Progress func(Cell)
}

// Run runs the catalogue (or the selected cases) on every scheme and
// returns the matrix. Each cell gets fresh WFSs in a scratch directory that
// is removed afterwards.
func Run(ctx context.Context, scs []*schemes.Scheme, opt Options) (*Matrix, error) {
	cases, err := Select(opt.Cases)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Version: MatrixVersion}
	for _, c := range cases {
		m.Cases = append(m.Cases, CaseInfo{ID: c.ID, Title: c.Title, Claim: c.Claim})
	}
	for _, sc := range scs {
		info := SchemeInfo{Spec: sc.Name(), Canonical: sc.Spec().Canonical(), Claims: []string{}}
		for i, on := range sc.Claims().List() {
			if on {
				info.Claims = append(info.Claims, vocab.ClaimNames()[i])
			}
		}
		m.Schemes = append(m.Schemes, info)
	}
	m.Cells = make([]Cell, len(scs)*len(cases))
	par := opt.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	scratch, err := os.MkdirTemp(opt.Dir, "authbench-conform-")
	if err != nil {
		return nil, fmt.Errorf("conform: scratch dir: %w", err)
	}
	defer os.RemoveAll(scratch)

	jobs := make(chan int)
	var wg sync.WaitGroup
	var progress sync.Mutex
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				sc, c := scs[i/len(cases)], cases[i%len(cases)]
				cell := runCell(ctx, sc, c, scratch)
				m.Cells[i] = cell
				if opt.Progress != nil {
					progress.Lock()
					opt.Progress(cell)
					progress.Unlock()
				}
			}
		}()
	}
	for i := range m.Cells {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return m, fmt.Errorf("conform: %w", err)
	}
	return m, nil
}

// runCell runs one case on one scheme: n/a when it does not apply; else the
// case, then (when it passed with its WFS still up) a valid client's ping.
func runCell(ctx context.Context, sc *schemes.Scheme, c Case, scratch string) Cell {
	cell := Cell{Scheme: sc.Name(), Case: c.ID, Claim: c.Claim, Declared: Declares(sc.Claims(), c.Claim)}
	if !c.Applies(sc) {
		cell.Outcome, cell.Detail = NA, "does not apply"
		return cell
	}
	start := time.Now()
	r := RunCase(ctx, sc, c, scratch)
	cell.Outcome, cell.Detail, cell.Millis = r.Outcome, r.Detail, time.Since(start).Milliseconds()
	return cell
}

// RunCase runs one case on one scheme in a scratch directory under dir, and
// checks after a pass that the WFS still serves a valid client. It does not
// consult Applies.
func RunCase(ctx context.Context, sc *schemes.Scheme, c Case, dir string) (res Result) {
	ctx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	scratch, err := os.MkdirTemp(dir, "case-")
	if err != nil {
		return broken("scratch dir", err)
	}
	env := &Env{Scheme: sc, dir: scratch}
	defer func() {
		if err := env.close(); err != nil && res.Outcome == Pass {
			res = failf("%s; but then tearing the WFS down failed: %v", res.Detail, err)
		}
		_ = os.RemoveAll(scratch)
	}()
	defer func() {
		if p := recover(); p != nil {
			res = failf("case panicked: %v", p)
		}
	}()
	res = c.Run(ctx, env)
	if res.Outcome != Pass {
		return res
	}
	env.mu.Lock()
	primary := env.primary
	env.mu.Unlock()
	if primary != nil && primary.Running() {
		if err := primary.Healthy(ctx); err != nil {
			return failf("%s; but then the WFS failed a valid client: %v", res.Detail, err)
		}
		res.Detail += "; a valid client is still served"
	}
	return res
}

// cellText is a cell in the markdown matrix: pass, FAIL (a declared claim
// fails: an error), fail (an undeclared claim fails: expected) or n/a.
func cellText(c Cell) string {
	switch {
	case c.Outcome == Fail && c.Declared:
		return "FAIL"
	case c.Outcome == Fail:
		return "fail"
	}
	return string(c.Outcome)
}

// WriteMarkdown renders the matrix: a summary, the table of case by scheme,
// a per-scheme summary, and every failure with its detail.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	pass, fd, fu, na := m.Counts()
	fmt.Fprintf(w, "## Conformance\n\n%d cases on %d schemes: %d pass, %d FAIL (declared claims), %d fail (claims not declared), %d n/a.\n\n",
		len(m.Cases), len(m.Schemes), pass, fd, fu, na)
	fmt.Fprintln(w, "Each cell attacks a live WFS on loopback; pass means the attack was refused and the WFS still served a valid client.")
	fmt.Fprintln(w, "FAIL: the scheme declares the claim and the attack worked (an error). fail: the scheme does not declare the claim (expected, shown for comparison).")
	fmt.Fprintln(w)
	header := []string{"case", "claim"}
	for _, s := range m.Schemes {
		header = append(header, s.Spec)
	}
	t := mdtable.New(w, header...)
	for j, c := range m.Cases {
		row := []string{c.ID, c.Claim}
		for i := range m.Schemes {
			row = append(row, cellText(m.Cells[i*len(m.Cases)+j]))
		}
		if err := t.Append(row); err != nil {
			return fmt.Errorf("matrix table: %w", err)
		}
	}
	if err := t.Render(); err != nil {
		return fmt.Errorf("matrix table: %w", err)
	}
	fmt.Fprintln(w)
	st := mdtable.New(w, "scheme", "declared claims", "pass", "FAIL", "fail", "n/a")
	for i, s := range m.Schemes {
		var p, fD, fU, n int
		for j := range m.Cases {
			switch c := m.Cells[i*len(m.Cases)+j]; {
			case c.Outcome == Pass:
				p++
			case c.Outcome == Fail && c.Declared:
				fD++
			case c.Outcome == Fail:
				fU++
			default:
				n++
			}
		}
		claims := strings.Join(s.Claims, " ")
		if claims == "" {
			claims = "-"
		}
		if err := st.Append([]string{s.Spec, claims, fmt.Sprint(p), fmt.Sprint(fD), fmt.Sprint(fU), fmt.Sprint(n)}); err != nil {
			return fmt.Errorf("scheme table: %w", err)
		}
	}
	if err := st.Render(); err != nil {
		return fmt.Errorf("scheme table: %w", err)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Failures")
	fmt.Fprintln(w)
	ft := mdtable.New(w, "scheme", "case", "claim", "declared", "detail")
	rows := 0
	for _, declared := range []bool{true, false} {
		for _, c := range m.Cells {
			if c.Outcome != Fail || c.Declared != declared {
				continue
			}
			rows++
			if err := ft.Append([]string{c.Scheme, c.Case, c.Claim, yesNo(c.Declared), strings.ReplaceAll(c.Detail, "|", "/")}); err != nil {
				return fmt.Errorf("failure table: %w", err)
			}
		}
	}
	if rows == 0 {
		fmt.Fprintln(w, "None.")
	} else if err := ft.Render(); err != nil {
		return fmt.Errorf("failure table: %w", err)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Cases")
	fmt.Fprintln(w)
	ct := mdtable.New(w, "case", "claim", "attack")
	for _, c := range m.Cases {
		if err := ct.Append([]string{c.ID, c.Claim, c.Title}); err != nil {
			return fmt.Errorf("case table: %w", err)
		}
	}
	if err := ct.Render(); err != nil {
		return fmt.Errorf("case table: %w", err)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// matrixJSON is the JSON form: the matrix and its failure count.
type matrixJSON struct {
	*Matrix
	Failures int `json:"failures"`
}

// WriteJSON renders the matrix as indented JSON with its failure count.
func (m *Matrix) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(matrixJSON{Matrix: m, Failures: m.Failures()}); err != nil {
		return fmt.Errorf("matrix json: %w", err)
	}
	return nil
}

// ReadMatrix parses a matrix written by WriteJSON.
func ReadMatrix(r io.Reader) (*Matrix, error) {
	var m Matrix
	dec := json.NewDecoder(r)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("matrix json: %w", err)
	}
	if m.Version != MatrixVersion {
		return nil, fmt.Errorf("matrix json: version %d, want %d", m.Version, MatrixVersion)
	}
	if len(m.Cells) != len(m.Schemes)*len(m.Cases) {
		return nil, fmt.Errorf("matrix json: %d cells for %d schemes and %d cases", len(m.Cells), len(m.Schemes), len(m.Cases))
	}
	return &m, nil
}
