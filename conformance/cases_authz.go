package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/authbench/authbench/schemes"
	"github.com/authbench/authbench/wfs"
)

func authzCases() []Case {
	return []Case{
		{
			ID: "authz/job-control", Claim: "fine-authz", Applies: perJobCreds,
			Title: "a job's own credential runs stop",
			Run: func(ctx context.Context, e *Env) Result {
				t, job, err := startWithJob(ctx, e)
				if err != nil {
					return broken("job", err)
				}
				p, err := t.Prepare(ctx, job, wfs.CmdStop, nil)
				if err != nil {
					return broken("job client", err)
				}
				defer p.Close()
				data, err := t.SendPrepared(ctx, p)
				return expectRefused("stop with a job's credential", data, err)
			},
		},
		{
			ID: "authz/job-a-for-b", Claim: "fine-authz", Applies: perJobCreds,
			Title: "job A's own credential sends a message for job B",
			Run: func(ctx context.Context, e *Env) Result {
				t, job, err := startWithJob(ctx, e)
				if err != nil {
					return broken("job", err)
				}
				b := remoteJob("1/b/01")
				if err := t.Submit(ctx, b); err != nil {
					return broken("submit B", err)
				}
				p, err := t.Prepare(ctx, job, wfs.CmdMessage, Message(b.ID, "succeeded"))
				if err != nil {
					return broken("job client", err)
				}
				defer p.Close()
				data, err := t.SendPrepared(ctx, p)
				return expectRefused("A's message for B", data, err)
			},
		},
		{
			ID: "authz/readonly-stop", Claim: "fine-authz", Applies: isToken,
			Title: "a token the WFS issued with workflow.read alone polls data (allowed), then runs stop",
			Run:   runReadonlyStop,
		},
	}
}

// startWithJob starts a WFS, submits a remote job and checks that the job's
// own credential works for its own message (so that a refusal later is
// about authorisation).
func startWithJob(ctx context.Context, e *Env) (*Target, Who, error) {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return nil, Who{}, err
	}
	job := remoteJob("1/a/01")
	if err := t.Submit(ctx, job); err != nil {
		return nil, Who{}, err
	}
	if _, err := t.Call(ctx, job, wfs.CmdMessage, Message(job.ID, "started")); err != nil {
		return nil, Who{}, fmt.Errorf("the job's own message: %w", err)
	}
	return t, job, nil
}

func runReadonlyStop(ctx context.Context, e *Env) Result {
	t, err := e.Start(TargetConfig{})
	if err != nil {
		return broken("start", err)
	}
	typ := schemes.TypSession
	if e.Scheme.Spec().Policy == schemes.PolicyCommand {
		typ = schemes.TypCommand
	}
	configure, done, err := t.transport(CLI())
	if err != nil {
		return broken("client", err)
	}
	defer done()
	send := func(cmd string, args any) error {
		tok, err := schemes.ConformanceIssue(t.Guard, typ, "reader", 10*time.Minute, schemes.ScopeRead)
		if err != nil {
			return err
		}
		body, err := Body(cmd, args)
		if err != nil {
			return err
		}
		frames, err := t.TokenFrames(tok, body)
		if err != nil {
			return err
		}
		_, err = t.Send(ctx, configure, frames...)
		return err
	}
	if err := send(wfs.CmdData, wfs.DataArgs{Size: 16}); err != nil {
		return broken("the read-only token's data poll", err)
	}
	err = send(wfs.CmdStop, nil)
	return expectRefused("stop with a read-only token", nil, err)
}
