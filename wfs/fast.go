package wfs

import (
	"context"
	"time"
)

// The fast model: authbench's own server. A ROUTER front end serves
// requests inline on the socket's goroutine or hands them to a pool of
// ServerConfig.Workers (pool.go); the server appends job messages to the
// job's job.status itself, and burns no service CPU unless asked to.

// fastModel is the fast model (vocab.ServerModelFast).
type fastModel struct{ registered }

// Summary says how the fast model serves.
func (fastModel) Summary() string { return "authbench's own server" }

// DefaultServiceCPU is none: authbench's server does its own work only.
func (fastModel) DefaultServiceCPU() time.Duration { return 0 }

// DefaultMessageServiceCPU is none too.
func (fastModel) DefaultMessageServiceCPU() time.Duration { return 0 }

// ReloadAllKeys is false: keys are added and removed one at a time.
func (fastModel) ReloadAllKeys() bool { return false }

// JobMessageRequest encodes the message command; the WFS appends to
// job.status.
func (fastModel) JobMessageRequest(_ *RunDir, _ *Files, a MessageArgs, meta Meta) ([]byte, error) {
	return EncodeRequest(CmdMessage, a, meta)
}

func (fastModel) start(s *Server) serving { return fastServing{s} }

// fastServing is the fast model's serving state: the server itself.
type fastServing struct{ s *Server }

// serve serves inline with no workers, else with the pool.
func (f fastServing) serve(ctx context.Context, _ *threadMeter) error {
	if f.s.cfg.Workers <= 0 {
		return f.s.serveInline(ctx)
	}
	return f.s.servePool(ctx)
}

// messages appends the messages to the job's job.status (Server.message).
func (f fastServing) messages(a MessageArgs) (int, error) { return f.s.message(a) }

// stats: the fast model keeps no figures of its own.
func (fastServing) stats() map[string]float64 { return nil }
