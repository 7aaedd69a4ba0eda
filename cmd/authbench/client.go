package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/authbench/authbench/scenarios"
	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

// runClient is `authbench client`: one request as a separate process (the
// process-mode CLI or job client). It prints one JSON line of timings and
// exits non-zero when the request failed.
func runClient(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("client", stderr)
	contact := fs.String("contact", "", "the WFS's contact `FILE`")
	spec := fs.String("scheme", "", "scheme `SPEC` (default: the one the contact file names, else plain)")
	kind := fs.String("kind", "cli", "client `KIND`: cli or job")
	id := fs.String("id", "owner", "user name, or job id cycle/task/NN for -kind job (a job the WFS submitted: its log/job directory must exist)")
	target := fs.String("target", "localhost", "install target (job clients)")
	stateDir := fs.String("state-dir", "", "client state `DIR`, kept between calls by the schemes that need it: plan B1 shared tokens (jwt:shared=...), and the codes totp and hotp have used")
	command := fs.String("command", "ping", "CLI command: ping, trigger, hold, release, stop")
	message := fs.String("message", "INFO|started", "job message `SEVERITY|TEXT`")
	timeout := fs.Duration("timeout", 5*time.Second, "send and receive timeout")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *contact == "" {
		return errors.New("client: -contact is required")
	}
	if *timeout <= 0 {
		return fmt.Errorf("client: -timeout %s: want a positive duration (Cylc's is 5s)", *timeout)
	}
	served := "" // the scheme the contact file says the WFS serves
	if c, err := wfs.ReadContact(*contact); err == nil {
		served = c[wfs.ContactScheme]
	}
	if *spec == "" {
		*spec = "plain"
		if served != "" {
			*spec = served
		}
	}
	sc, err := schemes.Builtin().Parse(*spec)
	if err != nil {
		return fmt.Errorf("-scheme: %w", err)
	}
	req := scenarios.ClientRequest{ContactPath: *contact, Scheme: sc, Identity: *id, Target: *target,
		StateDir: *stateDir, Command: *command, Timeout: *timeout}
	switch *kind {
	case "cli":
		req.Kind = schemes.KindCLI
	case "job":
		req.Kind = schemes.KindJob
		sev, text, ok := strings.Cut(*message, "|")
		if !ok || sev == "" {
			return fmt.Errorf("-message %q: want SEVERITY|TEXT", *message)
		}
		req.Severity, req.Text = sev, text
	default:
		return fmt.Errorf("-kind %q: want cli or job", *kind)
	}
	rep := scenarios.RunClient(ctx, req)
	if err := json.NewEncoder(stdout).Encode(rep); err != nil {
		return err
	}
	if rep.Error != "" {
		if served != "" && served != *spec {
			// A handshake refusal or a missing key file said nothing of
			// the cause: another scheme than the WFS's.
			return fmt.Errorf("client: %s (the WFS serves %s, its contact file says, not -scheme %s)", rep.Error, served, *spec)
		}
		return fmt.Errorf("client: %s", rep.Error)
	}
	return nil
}
