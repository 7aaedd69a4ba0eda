package schemes

import (
	"context"
)

// null is the NULL transport: no transport security at all (Cylc's
// unencrypted option). With no credential it is the `plain` baseline every
// other scheme is compared against.
type null struct{}

func nullInfo() PartInfo {
	return PartInfo{
		Name: "null", Kind: Security,
		Doc:      "no transport security (ZMTP NULL); with no credential, the plain baseline",
		Examples: []string{"plain"},
		New:      func(Spec) (Part, error) { return null{}, nil },
	}
}

func (null) Claims() Claims { return Claims{} }

func (null) Server(context.Context, Env) (ServerPart, error) { return NopServer{}, nil }

func (null) Client(context.Context, ClientEnv) (ClientPart, error) { return NopClient{}, nil }
