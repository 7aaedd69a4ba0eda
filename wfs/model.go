package wfs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/authbench/authbench/vocab"
)

// Model is a WFS serving model: how the server takes requests off its
// socket, what it does with a job message, how a client sends one, and the
// defaults that go with it. The server, the engine, serve and capacity ask
// it; none tests a model's name.
//
// The models are registered in vocab.ServerModels (names and what reading
// results needs, kept there so that the results side does not import
// ZeroMQ); this package gives each its behaviour, one file per model
// (fast.go, cylc.go) and one line in models below. ParseModel is the one
// way to get a Model.
type Model interface {
	// Name is the model's registered name, as flags, scenario files, the
	// contact file (ContactModel) and results spell it.
	Name() string
	// Summary says in a few words how the model serves, for flag help.
	Summary() string
	// HandshakeProbe reports whether the handshake probe measures a
	// handshake under this model (vocab.ServerModel.HandshakeProbe).
	HandshakeProbe() bool
	// DefaultServiceCPU is the CPU a request burns when
	// ServerConfig.ServiceCPU is 0.
	DefaultServiceCPU() time.Duration
	// DefaultMessageServiceCPU is the CPU a job message burns when
	// neither ServerConfig.MessageServiceCPU nor ServiceCPU is set.
	DefaultMessageServiceCPU() time.Duration
	// ReloadAllKeys reports whether the CURVE schemes re-read their whole
	// key directory on every key change under this model
	// (schemes.Env.ReloadAllKeys).
	ReloadAllKeys() bool
	// JobMessageRequest is a job message as a client sends it to a WFS of
	// this model, after doing what that client does beside (a cylc
	// client appends to job.status itself).
	JobMessageRequest(run *RunDir, files *Files, a MessageArgs, meta Meta) ([]byte, error)
	// start fills the model's defaults in s.cfg and returns its serving
	// state for s. NewServer calls it once.
	start(s *Server) serving
}

// serving is a model's state in one Server.
type serving interface {
	// serve runs the server's request loop until ctx ends; m meters the
	// calling thread.
	serve(ctx context.Context, m *threadMeter) error
	// messages takes a job message's messages (the message command or
	// the graphql mutation) and returns how many it took.
	messages(a MessageArgs) (int, error)
	// stats are the model's own figures (results' server_model_stats),
	// nil when it keeps none.
	stats() map[string]float64
}

// models gives each model registered in vocab.ServerModels its behaviour:
// one line per model, nil for a name with none (TestEveryModelServes
// fails then).
func models(r registered) Model {
	switch r.info.Name {
	case vocab.ServerModelFast:
		return fastModel{r}
	case vocab.ServerModelCylc:
		return cylcModel{r}
	}
	return nil
}

// registered is a model's entry in vocab.ServerModels; every Model embeds
// it.
type registered struct{ info vocab.ServerModel }

// Name is the registered name.
func (r registered) Name() string { return r.info.Name }

// HandshakeProbe is the registered property.
func (r registered) HandshakeProbe() bool { return r.info.HandshakeProbe }

// ParseModel returns the model called name ("" is the default,
// vocab.DefaultServerModel). An unknown name is a one-line error listing
// the registered names; callers prefix the flag or field it came from.
func ParseModel(name string) (Model, error) {
	info, err := vocab.ParseServerModel(name)
	if err != nil {
		return nil, err
	}
	m := models(registered{info})
	if m == nil {
		return nil, fmt.Errorf("server model %q is registered but has no serving behaviour in package wfs", info.Name)
	}
	return m, nil
}

// ModelNames are the registered models' names, the default first.
func ModelNames() []string { return vocab.ServerModelNames() }

// ModelUsage words every model with its summary for flag help:
// "fast (...) or cylc (...)".
func ModelUsage() string {
	var parts []string
	for _, name := range ModelNames() {
		if m, err := ParseModel(name); err == nil {
			parts = append(parts, name+" ("+m.Summary()+")")
		}
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}
