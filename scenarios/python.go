package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// PythonInterpreter is Debian's interpreter: python3-zmq loads only there.
const PythonInterpreter = "/usr/bin/python3"

// pythonReport is scripts/cylc_message.py's output.
type pythonReport struct {
	OK            bool            `json:"ok"`
	Error         json.RawMessage `json:"error"`
	StartImportMS float64         `json:"start_import_ms"`
	HandshakeMS   float64         `json:"handshake_ms"`
	RoundTripMS   float64         `json:"round_trip_ms"`
	// CPU is the process's own CPU (user+system), from its exit status.
	CPU time.Duration `json:"-"`
}

// pythonRequest runs one request in a new Python interpreter, as `cylc
// message` (or a `cylc` command) does: start, import zmq, load the
// certificates, handshake, one round trip.
func (r *runner) pythonRequest(ctx context.Context, kind schemes.ClientKind, identity, target string, args ...string) (pythonReport, error) {
	if r.cfg.PythonClient == "" {
		return pythonReport{}, errors.New("process: python needs scripts/cylc_message.py (Config.PythonClient)")
	}
	run := r.run
	if kind == schemes.KindJob {
		run = r.runFor(target)
	}
	keys, err := r.scheme.ExternalClientArgs(ctx, schemes.ClientEnv{Run: run, Contact: r.srv.Contact(), Kind: kind,
		Identity: identity, Target: target, StateDir: r.stateDir})
	if err != nil {
		return pythonReport{}, err
	}
	full := append([]string{r.cfg.PythonClient, "--contact", run.ContactPath(),
		"--t0-ns", strconv.FormatInt(time.Now().UnixNano(), 10)}, keys...)
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, PythonInterpreter, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	var rep pythonReport
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &rep); err != nil {
		return rep, fmt.Errorf("python client: %v (%s)", errors.Join(runErr, err), strings.TrimSpace(errb.String()))
	}
	if st := cmd.ProcessState; st != nil {
		rep.CPU = st.UserTime() + st.SystemTime()
	}
	if !rep.OK {
		var re wfs.ReplyError
		if json.Unmarshal(rep.Error, &re) == nil && re.Kind != "" {
			return rep, &wfs.Error{Kind: re.Kind, Msg: re.Message}
		}
		msg := strings.Trim(string(rep.Error), `"`)
		kind := wfs.KindInternal
		switch {
		case strings.HasPrefix(msg, "TimeoutError"):
			kind = wfs.KindTimeout
		case strings.HasPrefix(msg, "PermissionError"):
			kind = wfs.KindRejected
		}
		return rep, &wfs.Error{Kind: kind, Msg: msg}
	}
	return rep, nil
}

// recordPython records a Python client's wall time, its CPU and the
// phases it timed.
func recordPython(rec *recorder, rep pythonReport, t0 time.Time, err error, opProc, opCPU, opInterp, opHS, opRT string) {
	end := time.Now()
	if err != nil {
		rec.fail(opProc, t0, err)
		return
	}
	rec.ok(opProc, t0, t0, end)
	if rep.CPU > 0 {
		rec.ok(opCPU, t0, t0, t0.Add(rep.CPU))
	}
	at := func(op string, ms float64) {
		if ms > 0 {
			rec.ok(op, t0, t0, t0.Add(time.Duration(ms*float64(time.Millisecond))))
		}
	}
	at(opInterp, rep.StartImportMS)
	at(opHS, rep.HandshakeMS)
	at(opRT, rep.RoundTripMS)
}
