// Package wfs is the workflow-service stand-in authbench measures schemes
// against, over real ZeroMQ (github.com/pebbe/zmq4): the server under its
// serving models (Model, one file each: fast, a ROUTER with a worker pool;
// cylc, one request at a time, drained then asleep 0.2 s as cylc-flow
// network/replier.py serves; registered by name in vocab.ServerModels),
// the client, the wire format of requests and replies (and the GraphQL job
// message mutation cylc-flow's task_message.py sends), the run directory,
// contact file and key files of a workflow, the counted file layer with its
// file-system latency model, and the control channel between a WFS process
// and its load generator. It knows no scheme by name: a scheme's server
// side plugs in as a Guard.
package wfs
