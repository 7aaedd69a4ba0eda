package schemes

import (
	"fmt"
	"strings"
	"time"

	"github.com/authbench/authbench/wfs"
)

// Lifetime policies of the token credentials (docs/design.md section 3).
const (
	PolicyWorkflow = "workflow" // one token for the workflow's life, in .service/token
	PolicyCommand  = "command"  // plan A: one token per command, made on request, used once
	PolicyShared   = "shared"   // plan B1: =WINDOW, a requested token reused within WINDOW
	PolicyTimed    = "timed"    // plan B2: =LIFETIME[/OVERLAP], .service/token rotated
	PolicyJob      = "job"      // =file|combined|status, one token per job
	PolicyTask     = "task"     // =file|combined|status, one token per task, kept across its retries
	PolicyCycle    = "cycle"    // =file|combined|status, one token per cycle point
)

// Job token stores of the job policy.
const (
	JobStoreFile     = "file"     // a token file in the job's log directory
	JobStoreCombined = "combined" // one line per job in .service/job_tokens
	JobStoreStatus   = "status"   // a CYLC_JOB_TOKEN= line in the job's job.status
)

// Token lifetimes of the policies that do not take one as an argument.
const (
	// workflowTokenTTL is the exp of a workflow-life token. exp is required
	// of every token, so the workflow token carries one a year ahead; it
	// really dies when the WFS stops and deletes it with its key.
	workflowTokenTTL = 365 * 24 * time.Hour
	// commandTokenTTL bounds how long a one-command token may wait unused.
	commandTokenTTL = time.Minute
	// jobTokenTTL bounds a job token that is never revoked (a lost job).
	jobTokenTTL = 7 * 24 * time.Hour
)

// tokenPolicies returns the policy names the token credentials accept.
func tokenPolicies() []string {
	return []string{PolicyWorkflow, PolicyCommand, PolicyShared, PolicyTimed, PolicyJob, PolicyTask, PolicyCycle}
}

// perJob reports whether jobs get tokens at submit: the job policy, and the
// task and cycle policies, whose tokens jobs share.
func (p policyConf) perJob() bool {
	return p.name == PolicyJob || p.name == PolicyTask || p.name == PolicyCycle
}

// unit is the key of the token a job of id uses: the job itself
// ("cycle/task/NN"), its task ("cycle/task") or its cycle point ("cycle").
func (p policyConf) unit(id wfs.JobID) string {
	switch p.name {
	case PolicyTask:
		return id.Cycle + "/" + id.Task
	case PolicyCycle:
		return id.Cycle
	}
	return id.String()
}

// policyConf is a parsed, validated policy.
type policyConf struct {
	name     string
	window   time.Duration // shared
	lifetime time.Duration // timed
	overlap  time.Duration // timed
	store    string        // job, task, cycle
}

// onRequest reports whether clients acquire tokens with a "token" request.
func (p policyConf) onRequest() bool { return p.name == PolicyCommand || p.name == PolicyShared }

// String renders the policy as a spec writes it.
func (p policyConf) String() string {
	switch p.name {
	case PolicyShared:
		return fmt.Sprintf("shared=%s", p.window)
	case PolicyTimed:
		return fmt.Sprintf("timed=%s/%s", p.lifetime, p.overlap)
	case PolicyJob, PolicyTask, PolicyCycle:
		return p.name + "=" + p.store
	}
	return p.name
}

// parsePolicy validates a spec's policy and its argument, with one-line
// errors that say what is valid.
func parsePolicy(sp Spec) (policyConf, error) {
	p := policyConf{name: sp.Policy}
	switch sp.Policy {
	case PolicyWorkflow, PolicyCommand:
		if sp.Arg != "" {
			return p, fmt.Errorf("policy %s takes no argument (got %q)", sp.Policy, sp.Arg)
		}
	case PolicyShared:
		d, err := positiveDuration("shared=WINDOW", sp.Arg)
		if err != nil {
			return p, err
		}
		p.window = d
	case PolicyTimed:
		life, over, hasOver := strings.Cut(sp.Arg, "/")
		d, err := positiveDuration("timed=LIFETIME[/OVERLAP]: LIFETIME", life)
		if err != nil {
			return p, err
		}
		p.lifetime = d
		p.overlap = d / 10
		if hasOver {
			o, err := positiveDuration("timed=LIFETIME[/OVERLAP]: OVERLAP", over)
			if err != nil {
				return p, err
			}
			if o > d {
				return p, fmt.Errorf("policy timed=%s: OVERLAP %s is longer than LIFETIME %s", sp.Arg, o, d)
			}
			p.overlap = o
		}
		if p.overlap < time.Second {
			return p, fmt.Errorf("policy timed=%s: overlap %s is under 1s, the resolution of exp (give LIFETIME/OVERLAP, e.g. timed=60s/6s)", sp.Arg, p.overlap)
		}
	case PolicyJob, PolicyTask, PolicyCycle:
		switch sp.Arg {
		case "":
			p.store = JobStoreFile
		case JobStoreFile, JobStoreCombined, JobStoreStatus:
			p.store = sp.Arg
		default:
			return p, fmt.Errorf("policy %[1]s=%[2]s: unknown store; valid: %[1]s=file, %[1]s=combined, %[1]s=status", sp.Policy, sp.Arg)
		}
	default:
		return p, fmt.Errorf("unknown policy %q; valid: %s", sp.Policy, strings.Join(tokenPolicies(), ", "))
	}
	return p, nil
}

func positiveDuration(what, s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("policy %s: missing duration (e.g. 10s, 1m)", what)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("policy %s: %q is not a duration (e.g. 10s, 1m)", what, s)
	}
	if d < time.Second {
		return 0, fmt.Errorf("policy %s: %s is under 1s, the resolution of exp", what, d)
	}
	if d > MaxPolicyDuration {
		return 0, fmt.Errorf("policy %s: %s is over %s (a token that outlives any run is a workflow token: use the workflow policy)", what, d, MaxPolicyDuration)
	}
	return d, nil
}

// MaxPolicyDuration bounds a shared window and a timed token's lifetime:
// 30 days, the WLCG profile's longest refresh-token lifetime. A token that
// lives longer outlives any run, and near the largest time.Duration
// (timed=2562047h) exp overflowed and every verifier rejected the tokens.
const MaxPolicyDuration = 30 * 24 * time.Hour

// policyClaims are the claims a token credential gives under a policy. Every
// token is signed for one audience (the workflow) and carries capability
// scopes; clients read tokens from the WFS's file system under every policy.
// Only one-command tokens are replay-proof; tokens that stop on their own are
// those of the command, shared and timed policies (a workflow token lives as
// long as the workflow, and under the job policy the CLI still uses one);
// only the job policy revokes a job's token at job end (a task's token
// outlives the jobs of its retries, a cycle point's every job of the cycle
// point but its last).
func policyClaims(p policyConf) Claims {
	c := Claims{Authenticates: true, Audience: true, NeedsFS: true, FineGrained: true}
	switch p.name {
	case PolicyCommand:
		c.ReplayProof, c.Expires = true, true
	case PolicyShared, PolicyTimed:
		c.Expires = true
	case PolicyJob:
		c.JobRevocation = true
	}
	return c
}
