// Package cylcpeer talks to a real Cylc 8 scheduler (cylc-flow, GPL-3.0:
// read, cited, never copied) as Cylc's own clients do, so that authbench
// can load one and check its cylc model against it (issue 22):
//
//   - Contact reads a scheduler's contact file
//     (<run>/.service/contact; keys as cylc/flow/workflow_files.py's
//     ContactFileFields names them) and tells it apart from an
//     authbench serve's;
//   - LoadKeys loads the workflow's CURVE keys from .service, where
//     cylc/flow/workflow_files.py's KeyInfo puts them and
//     cylc/flow/network/__init__.py's ZMQSocketBase._socket_connect reads
//     them: the server's public key (server.key) and the client keypair
//     (client.key_secret);
//   - Client sends Cylc's own requests over a ZeroMQ REQ socket with
//     CURVE: the GraphQL query `cylc ping` sends
//     (cylc/flow/scripts/ping.py) and the `message` mutation `cylc
//     message` sends (cylc/flow/task_message.py), in the envelope of
//     cylc/flow/network/client.py, and reads the replies
//     (cylc/flow/network/replier.py, server.py); errors are classified
//     by kind (stale contact file, unreachable, handshake, timeout, a
//     Cylc error reply, protocol);
//   - ReadProc and Watch read the scheduler's CPU (utime+stime of all its
//     threads) and RSS from /proc/PID;
//   - Run drives a scenario's CLI and job groups at the scheduler (pings
//     from the CLI group, job messages for the workflow's live jobs from
//     the job group) and returns an authbench result whose server is
//     "cylc-flow VERSION".
package cylcpeer
