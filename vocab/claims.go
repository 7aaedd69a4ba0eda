package vocab

// Claims are the security properties a scheme declares. The conformance suite
// checks every declared claim.
type Claims struct {
	Authenticates       bool `json:"authenticates"`        // clients must prove who they are
	Confidential        bool `json:"confidential"`         // request payloads unreadable on the wire
	RepliesConfidential bool `json:"replies_confidential"` // reply payloads unreadable on the wire
	ReplayProof         bool `json:"replay_proof"`         // a captured request cannot be replayed
	Expires             bool `json:"expires"`              // credentials stop working on their own
	Audience            bool `json:"audience"`             // bound to one workflow
	JobRevocation       bool `json:"job_revocation"`       // a job's credential dies at job end
	NeedsFS             bool `json:"needs_fs"`             // clients need the WFS's file system
	FineGrained         bool `json:"fine_grained"`         // authorisation by capability, not all-or-nothing
}

// Or returns the union of two claim sets (a composite scheme has every
// property either part gives it).
func (c Claims) Or(o Claims) Claims {
	return Claims{
		Authenticates:       c.Authenticates || o.Authenticates,
		Confidential:        c.Confidential || o.Confidential,
		RepliesConfidential: c.RepliesConfidential || o.RepliesConfidential,
		ReplayProof:         c.ReplayProof || o.ReplayProof,
		Expires:             c.Expires || o.Expires,
		Audience:            c.Audience || o.Audience,
		JobRevocation:       c.JobRevocation || o.JobRevocation,
		NeedsFS:             c.NeedsFS || o.NeedsFS,
		FineGrained:         c.FineGrained || o.FineGrained,
	}
}

// ClaimNames are the claims in table order, with short column names.
func ClaimNames() []string {
	return []string{"authn", "confidential", "reply-confidential", "replay-proof", "expires", "audience", "job-revoke", "needs-fs", "fine-authz"}
}

// List returns the claims as booleans in ClaimNames order.
func (c Claims) List() []bool {
	return []bool{c.Authenticates, c.Confidential, c.RepliesConfidential, c.ReplayProof, c.Expires, c.Audience, c.JobRevocation, c.NeedsFS, c.FineGrained}
}
