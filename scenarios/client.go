package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	zmq "github.com/pebbe/zmq4"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// ClientRequest is the one request an `authbench client` process makes, as
// one `cylc` command or one `cylc message` does.
type ClientRequest struct {
	ContactPath string
	Scheme      *schemes.Scheme
	Kind        schemes.ClientKind
	Identity    string
	Target      string
	StateDir    string
	// Command is the CLI command (ping, trigger, ...) for cli clients.
	Command string
	// Severity and Text are the job message for job clients.
	Severity, Text string
	Timeout        time.Duration
}

// ClientReport is what an `authbench client` process prints (one JSON line).
type ClientReport struct {
	AcquireNS   int64  `json:"acquire_ns,omitempty"`
	HandshakeNS int64  `json:"handshake_ns"`
	RoundTripNS int64  `json:"round_trip_ns"`
	TotalNS     int64  `json:"total_ns"`
	BytesAdded  int    `json:"bytes_added"`
	ErrorKind   string `json:"error_kind,omitempty"`
	Error       string `json:"error,omitempty"`
}

// RunClient makes one request as a fresh client process would: read the
// contact file, load the credential, connect, handshake, one round trip.
func RunClient(ctx context.Context, req ClientRequest) ClientReport {
	start := time.Now()
	rep := ClientReport{}
	err := func() error {
		contact, err := wfs.ReadContact(req.ContactPath)
		if err != nil {
			return err
		}
		endpoint, err := contact.Endpoint()
		if err != nil {
			return fmt.Errorf("%s: %w", req.ContactPath, err)
		}
		root := contact[wfs.ContactRunDir]
		if root == "" {
			root = filepath.Dir(filepath.Dir(req.ContactPath))
		}
		files, statusFiles := wfs.NewFiles(true), wfs.NewFiles(false)
		if s := contact[wfs.ContactFSModel]; s != "" {
			m, err := wfs.ParseFSModel(s)
			if err != nil {
				return fmt.Errorf("%s: %s: %w", req.ContactPath, wfs.ContactFSModel, err)
			}
			files.Model, statusFiles.Model = m, m
		}
		run := &wfs.RunDir{Root: root, Files: files}
		cl, err := req.Scheme.Client(ctx, schemes.ClientEnv{Run: run, Contact: contact, Kind: req.Kind,
			Identity: req.Identity, Target: req.Target, StateDir: req.StateDir})
		if err != nil {
			return err
		}
		defer cl.Close()
		zctx, err := zmq.NewContext()
		if err != nil {
			return fmt.Errorf("zmq context: %w", err)
		}
		defer zctx.Term()
		zc := wfs.NewClient(zctx, endpoint, wfs.ClientConfig{Timeout: req.Timeout, Configure: cl.Configure, Monitor: true})
		defer zc.Close()
		hs, err := zc.Handshake(ctx)
		if err != nil {
			return err
		}
		rep.HandshakeNS = int64(hs)
		var body []byte
		if req.Kind == schemes.KindJob {
			// As the contact file's model takes it: against cylc, append
			// to job.status (unsynced) and send the GraphQL mutation.
			m, merr := wfs.ParseModel(contact[wfs.ContactModel])
			if merr != nil {
				return fmt.Errorf("contact file %s: %w", wfs.ContactModel, merr)
			}
			body, err = m.JobMessageRequest(run, statusFiles,
				wfs.MessageArgs{Workflow: contact[wfs.ContactWorkflow], TaskJob: req.Identity,
					EventTime: time.Now().UTC().Format(time.RFC3339), Messages: [][2]string{{req.Severity, req.Text}}},
				wfs.Meta{Prog: "cylc-message", CommsMethod: "zmq"})
		} else {
			body, err = wfs.EncodeRequest(req.Command, nil, wfs.Meta{Prog: "cylc-" + req.Command, CommsMethod: "zmq"})
		}
		if err != nil {
			return err
		}
		// -timeout bounds every wait of the request, the credential's
		// included (a TOTP code a step away: a client with -timeout 1s
		// blocked 26 s). The times are the exchange's own, not a
		// histogram's rounded maximum (whose acquire_ns exceeded
		// total_ns).
		rctx, cancel := context.WithTimeout(ctx, req.Timeout)
		defer cancel()
		x, err := schemes.Request(rctx, cl, zc, body)
		rep.BytesAdded = x.BytesAdded
		rep.AcquireNS = int64(x.Acquire)
		rep.RoundTripNS = int64(x.RoundTrip)
		return err
	}()
	rep.TotalNS = int64(time.Since(start))
	if err != nil {
		rep.ErrorKind = errKind(err)
		rep.Error = err.Error()
	}
	return rep
}

// processRequest runs one request in a real `authbench client` process and
// returns its report; the wall time includes fork, exec and Go start-up.
func (r *runner) processRequest(ctx context.Context, args ...string) (ClientReport, error) {
	if r.cfg.ClientBinary == "" {
		return ClientReport{}, errors.New("process mode needs the authbench binary (Config.ClientBinary)")
	}
	full := append([]string{"client", "-contact", r.run.ContactPath(), "-scheme", r.scheme.Name(), "-state-dir", r.stateDir}, args...)
	cmd := exec.CommandContext(ctx, r.cfg.ClientBinary, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	var rep ClientReport
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &rep); err != nil {
		msg := strings.TrimSpace(errb.String())
		return rep, fmt.Errorf("authbench client: %v (%s)", errors.Join(runErr, err), msg)
	}
	if rep.ErrorKind != "" {
		return rep, &wfs.Error{Kind: wfs.ErrorKind(rep.ErrorKind), Msg: rep.Error}
	}
	return rep, nil
}
