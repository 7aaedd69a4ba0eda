package scenarios

import (
	"fmt"
	"math"
	"time"

	"github.com/authbench/authbench/schemes"
)

// The one-time-code credentials' rates (docs/scenarios.md, "One-time
// codes"). A TOTP verifier takes one code per identity per step (RFC 6238
// section 5.2), so an identity's second request in a step waits for the
// next step; an HOTP verifier keeps only the last counter it accepted (RFC
// 4226 section 7.2), so codes of one identity sent at once arrive out of
// order and the late ones are refused. A scenario that needs more than
// that is refused before anything runs, with the reason: driven anyway,
// `run -scenario smoke -schemes totp` made 38 of 550 operations in 2 min
// 15 s, and hotp refused 39-45 of smoke's 200 commands (issue 24 #2, #15).

// defaultCLIWorkers is the CLI group's workers when it gives no
// concurrency (runner.cli).
const defaultCLIWorkers = 32

// CheckCodeRate refuses sc under scheme when scheme's credential is totp
// or hotp and sc needs more codes of one identity than it gives: under
// totp more than one per identity per step, under hotp more than one in
// flight per identity. probe is the handshake probe's pings per half
// (run -probe), whose 2×probe pings are one identity's. Other schemes pass.
// The error is one line naming the scenario, the key and the way out.
func CheckCodeRate(sc *Scenario, scheme *schemes.Scheme, probe int) error {
	p, ok := schemes.OTPParamsOf(scheme.Spec())
	if !ok {
		return nil
	}
	why := codeNeed(sc, p, probe)
	if why == "" {
		return nil
	}
	if p.Proto == schemes.ProtoTOTP {
		return fmt.Errorf("scenario %s cannot run under %s, which gives one code per identity per %s step: %s (docs/scenarios.md, \"One-time codes\")",
			sc.Name, scheme.Name(), p.Step, why)
	}
	return fmt.Errorf("scenario %s cannot run under %s, whose WFS refuses a counter below the last it accepted, so one identity may have one request in flight: %s (docs/scenarios.md, \"One-time codes\")",
		sc.Name, scheme.Name(), why)
}

// codeNeed says where sc needs more codes than p gives ("" where it does
// not).
func codeNeed(sc *Scenario, p schemes.OTPParams, probe int) string {
	totp := p.Proto == schemes.ProtoTOTP
	if g := sc.CLI; g != nil {
		workers := g.Concurrency
		if workers <= 0 {
			workers = defaultCLIWorkers
		}
		if g.Count > 0 && cliPacer(g) == nil {
			workers = min(workers, g.Count)
		}
		users := max(1, g.Users)
		ids := min(workers, users) // worker w sends as user w mod users
		if !totp && workers > users {
			return fmt.Sprintf("cli's %d workers send at once as %s (cli.users); set cli.users to at least %d, or cli.concurrency to at most %d",
				workers, plural(users, "user"), workers, users)
		}
		if totp {
			if cliPacer(g) == nil {
				if g.Count <= 0 || g.Count > ids {
					n := "until its duration"
					if g.Count > 0 {
						n = fmt.Sprintf("%d commands", g.Count)
					}
					return fmt.Sprintf("cli is a closed loop (no cli.rate) of %s as %s, each next command sent as soon as the last is answered; give cli.rate at most %s (one command per user per step)",
						n, plural(ids, "user"), perSecond(float64(ids), p.Step))
				}
			} else if need := cliPerStep(g, p.Step) / float64(ids); need > 1 {
				return fmt.Sprintf("cli needs %.3g codes per user per step (its peak rate over %s); give cli.rate at most %s, or cli.users and cli.concurrency at least %d",
					need, plural(ids, "user"), perSecond(float64(ids), p.Step), int(math.Ceil(need*float64(ids))))
			}
		}
	}
	if !totp {
		return "" // jobs, pollers and the probe each send one request at a time per identity
	}
	if g := sc.Job; g != nil && g.Messages > 1 && g.Think.D() < p.Step {
		return fmt.Sprintf("each job is one identity and sends job.messages %d, job.think %s apart; set job.think to at least %s",
			g.Messages, g.Think.D(), p.Step)
	}
	if g := sc.UIS; g != nil && g.Pollers > 0 && g.Interval.D() < p.Step {
		return fmt.Sprintf("each UI-server poller is one identity and polls every uis.interval %s; set uis.interval to at least %s",
			g.Interval.D(), p.Step)
	}
	if probe > 0 {
		if m, err := sc.Server.WFSModel(); err == nil && m.HandshakeProbe() {
			return fmt.Sprintf("the handshake probe (-probe %d) sends %d pings as one identity; give -probe 0", probe, 2*probe)
		}
	}
	return ""
}

// cliPerStep is the most CLI commands an open-loop group asks for in one
// step: its peak rate over the step, or a burst's size if more.
func cliPerStep(g *CLIGroup, step time.Duration) float64 {
	peak := g.Rate
	for _, s := range g.Stages {
		peak = max(peak, s.Rate)
	}
	need := peak * step.Seconds()
	if b := g.Burst; b != nil {
		bursts := 1.0
		if b.Every.D() > 0 {
			bursts = max(1, math.Ceil(step.Seconds()/b.Every.D().Seconds()))
		}
		need = max(need, float64(b.Size)*bursts)
	}
	return need
}

// perSecond formats n per step as a rate.
func perSecond(n float64, step time.Duration) string {
	return fmt.Sprintf("%.3g/s", n/step.Seconds())
}

// plural is "1 user" or "n users".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
