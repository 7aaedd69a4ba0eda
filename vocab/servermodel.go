package vocab

import (
	"fmt"
	"strings"
)

// The registry of WFS serving models lives here, not in package wfs, which
// serves them: wfs imports ZeroMQ, and the results side (packages results,
// figures, report) must read a result's model without it. So this file
// holds what a model is called and what reading its results needs to know;
// wfs attaches the serving behaviour to each name (wfs.Model, one file per
// model) and wfs.ParseModel, built on ParseServerModel, is the one parser.
// Adding a model is its file in package wfs, its line in ServerModels and
// the line in wfs's table (wfs/model.go, models) that gives the name its
// Model; a wfs test fails while a registered name has none.

// Names of the registered server models, as flags, scenario files, contact
// files and results (server_model) spell them.
const (
	// ServerModelFast is authbench's own server: a ROUTER front end
	// serving inline or with a worker pool.
	ServerModelFast = "fast"
	// ServerModelCylc is cylc-flow 8's scheduler server as authbench
	// models it: one request at a time, each drain of the socket followed
	// by a 0.2 s sleep.
	ServerModelCylc = "cylc"
)

// DefaultServerModel is the model a WFS serves with when none is named.
const DefaultServerModel = ServerModelFast

// ServerModel is a WFS serving model as results know it: its name and the
// properties that reading its results needs.
type ServerModel struct {
	// Name is the model's name.
	Name string
	// HandshakeProbe reports whether the handshake probe (sequential pings
	// on reused, then fresh connections, after the load) measures a
	// handshake under this model. It does not under cylc: each sequential
	// ping there spans the drain-and-sleep wakes of cylc-flow's
	// WorkflowRuntimeServer.operate (network/server.py,
	// OPERATE_SLEEP_INTERVAL) and WorkflowReplier.listener
	// (network/replier.py), whose CPU swamps a handshake's. The engine runs
	// no probe then, and a figure read from a probe is left out.
	HandshakeProbe bool
}

// ServerModels is the registry: every server model, one line each, the
// default first.
func ServerModels() []ServerModel {
	return []ServerModel{
		{Name: ServerModelFast, HandshakeProbe: true},
		{Name: ServerModelCylc, HandshakeProbe: false},
	}
}

// ServerModelNames are the registered models' names, in registry order.
func ServerModelNames() []string {
	ms := ServerModels()
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return names
}

// ParseServerModel returns the registered model called name; "" is
// DefaultServerModel. An unknown name is a one-line error listing the
// registered names, for the caller to prefix with the flag or file field
// it came from.
func ParseServerModel(name string) (ServerModel, error) {
	if name == "" {
		name = DefaultServerModel
	}
	for _, m := range ServerModels() {
		if m.Name == name {
			return m, nil
		}
	}
	return ServerModel{}, fmt.Errorf("unknown server model %q: want %s", name, orList(ServerModelNames()))
}

// orList words names as "a", "a or b", or "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
