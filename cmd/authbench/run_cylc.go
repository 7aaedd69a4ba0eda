package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/authbench/authbench/cylcpeer"
	"github.com/authbench/authbench/scenarios"
)

// realClient is `authbench run -cylc CONTACT`'s real client: the real
// `cylc message` (cylcpeer.CylcMessage) sending the scenarios' cylc_jobs
// messages as the live jobs of the scheduler CONTACT names (issue 22 #4).
// Without -cylc it returns nil, and says on stderr which scenarios' real
// client job groups will not run.
func realClient(contact string, scs []*scenarios.Scenario, stderr io.Writer) (*scenarios.RealClient, error) {
	var asking []string
	for _, sc := range scs {
		if sc.CylcJobs != nil {
			asking = append(asking, sc.Name)
		}
	}
	if contact == "" {
		for _, name := range asking {
			fmt.Fprintf(stderr, "run: %s: its real `cylc message` job group (cylc_jobs) does not run without -cylc CONTACT (a real Cylc scheduler's contact file; scripts/cylc/peer.sh run CMD stands one up): the review states its budget from the scenario's stated figure\n", name)
		}
		return nil, nil
	}
	if len(asking) == 0 {
		return nil, fmt.Errorf("-cylc %s: no scenario of this run has a real client job group (cylc_jobs), e.g. review-python", contact)
	}
	c, err := cylcpeer.ReadContact(contact)
	if err != nil {
		return nil, fmt.Errorf("-cylc: %w", err)
	}
	if err := c.Alive(); err != nil {
		return nil, fmt.Errorf("-cylc %s: %w", contact, err)
	}
	if !c.Local() {
		return nil, fmt.Errorf("-cylc %s: the scheduler runs on %s; its jobs' `cylc message` runs here, so run authbench on that host", contact, c.Host)
	}
	jobs, err := cylcpeer.LiveJobs(c)
	if err != nil {
		return nil, fmt.Errorf("-cylc %s: %w", contact, err)
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("-cylc %s: %w", contact, cylcpeer.NeedJobs(c))
	}
	return &scenarios.RealClient{
		Server: c.Server(), Command: "cylc message -- WORKFLOW JOB TEXT", Jobs: jobs,
		Send: func(ctx context.Context, job, text string) (time.Duration, time.Duration, error) {
			r, err := cylcpeer.CylcMessage(ctx, c, job, text)
			return r.Wall, r.CPU, err
		},
	}, nil
}
