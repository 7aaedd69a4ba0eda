#!/usr/bin/python3
"""One job message as Cylc 8's `cylc message` sends it, for timing.

A fresh interpreter imports zmq (Debian's python3-zmq), loads two ZeroMQ
certificate files (the server's public key and the client's secret key),
makes a CURVE handshake with the WFS and does one REQ/REP round trip of a
wfs "message" request; against a WFS whose contact file names the cylc
model, it appends the message to job.status itself and sends cylc's GraphQL
mutation instead, as `cylc message` does. It prints one JSON object on stdout:

    {"start_import_ms": ..., "handshake_ms": ..., "round_trip_ms": ...,
     "ok": true, "reply": {...}}

start_import_ms runs from the caller's launch time (--t0-ns, the Unix time
in nanoseconds just before it started this process) to just after
`import zmq`; without --t0-ns it runs from the process start time in
/proc/self/stat (10 ms resolution). On failure it prints {"ok": false,
"error": ..., and the timings it has} and exits 1.

Run it with Debian's interpreter, /usr/bin/python3: python3-zmq loads only
there.
"""

import time

_T_SCRIPT = time.time_ns()

import zmq  # noqa: E402  (timed: the import is what is being measured)
import zmq.auth  # noqa: E402

_T_IMPORTED = time.time_ns()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timezone  # noqa: E402

from zmq.utils.monitor import recv_monitor_message  # noqa: E402


def process_start_ns():
    """The process start time from /proc (clock-tick resolution)."""
    with open("/proc/self/stat", "rb") as f:
        stat = f.read()
    # Fields after the parenthesised command name; starttime is field 22.
    fields = stat[stat.rindex(b")") + 2:].split()
    start_ticks = int(fields[19])
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    boot_ns = time.time_ns() - int(uptime * 1e9)
    return boot_ns + start_ticks * 1_000_000_000 // hz


# cylc-flow cylc/flow/task_message.py MUTATION: the GraphQL mutation
# `cylc message` sends through the scheduler's graphql endpoint.
MUTATION = """
mutation (
  $wFlows: [WorkflowID]!,
  $taskJob: String!,
  $eventTime: String,
  $messages: [[String]]
) {
  message (
    workflows: $wFlows,
    taskJob: $taskJob,
    eventTime: $eventTime,
    messages: $messages
  ) {
    result
  }
}
"""


def ms(ns):
    return round(ns / 1e6, 3)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", help="tcp://HOST:PORT of the WFS")
    p.add_argument("--contact", help="contact file to read the endpoint from")
    p.add_argument("--server-key", help="server public certificate (server.key); omit both keys for NULL")
    p.add_argument("--client-key", help="client secret certificate (client.key_secret)")
    p.add_argument("--job", help="job id, cycle/task/NN (a job message)")
    p.add_argument("--command", help="a CLI command (ping, trigger, ...) instead of a job message")
    p.add_argument("--severity", default="INFO")
    p.add_argument("--text", default="started")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds (Cylc's client timeout is 5)")
    p.add_argument("--t0-ns", type=int, default=0, help="caller's launch time, Unix ns")
    a = p.parse_args(argv)
    if not a.endpoint and not a.contact:
        p.error("give --endpoint or --contact")
    if bool(a.server_key) != bool(a.client_key):
        p.error("give both --server-key and --client-key, or neither (NULL)")
    if bool(a.job) == bool(a.command):
        p.error("give --job (a job message) or --command (a CLI command)")
    return a


def read_contact(path):
    c = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                c[k.strip()] = v.strip()
    return c


def endpoint_from_contact(c):
    if c.get("AUTHBENCH_ENDPOINT"):
        return c["AUTHBENCH_ENDPOINT"]
    return "tcp://%s:%s" % (c["CYLC_WORKFLOW_HOST"], c["CYLC_WORKFLOW_PORT"])


def append_job_status(run_dir, job, event_time, severity, text):
    """Append the message to the job's job.status, without fsync, as
    cylc-flow's task_message.py (_append_job_status_file) does."""
    cycle, task, submit = job.split("/")
    path = os.path.join(run_dir, "log", "job", cycle, task, "%02d" % int(submit), "job.status")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write("CYLC_MESSAGE=%s|%s|%s\n" % (event_time, severity, text.replace("\n", " ")))


def main(argv):
    out = {}
    t0 = None
    try:
        a = parse_args(argv)
        t0 = a.t0_ns or process_start_ns()
        out["start_import_ms"] = ms(_T_IMPORTED - t0)
        out["import_ms"] = ms(_T_IMPORTED - _T_SCRIPT)
        contact = read_contact(a.contact) if a.contact else {}
        endpoint = a.endpoint or endpoint_from_contact(contact)
        # Against the cylc model a job message is what cylc message sends
        # (task_message.py): job.status appended here, then the mutation.
        cylc_model = contact.get("AUTHBENCH_SERVER_MODEL") == "cylc"

        curve = bool(a.server_key)
        if curve:
            server_public, _ = zmq.auth.load_certificate(a.server_key)
            client_public, client_secret = zmq.auth.load_certificate(a.client_key)
            if client_secret is None:
                raise ValueError("%s holds no secret key" % a.client_key)
        timeout_ms = int(a.timeout * 1000)

        ctx = zmq.Context()
        sock = ctx.socket(zmq.REQ)
        sock.linger = 100
        sock.sndtimeo = timeout_ms
        sock.rcvtimeo = timeout_ms
        if curve:
            sock.curve_serverkey = server_public
            sock.curve_publickey = client_public
            sock.curve_secretkey = client_secret
        mon = sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED
            | zmq.EVENT_HANDSHAKE_FAILED_AUTH
            | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
            | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
        )
        try:
            t_connect = time.time_ns()
            sock.connect(endpoint)
            if not mon.poll(timeout_ms):
                raise TimeoutError("no handshake with %s within %ss" % (endpoint, a.timeout))
            ev = recv_monitor_message(mon)
            if ev["event"] != zmq.EVENT_HANDSHAKE_SUCCEEDED:
                raise PermissionError("handshake refused (event %d)" % ev["event"])
            out["handshake_ms"] = ms(time.time_ns() - t_connect)

            meta = {"host": socket.gethostname(), "comms_method": "zmq"}
            event_time = datetime.now(timezone.utc).isoformat()
            if a.command:
                request = {"command": a.command, "meta": dict(meta, prog=a.command)}
            elif cylc_model:
                append_job_status(contact["CYLC_WORKFLOW_RUN_DIR"], a.job, event_time, a.severity, a.text)
                request = {
                    "command": "graphql",
                    "args": {
                        "request_string": MUTATION,
                        "variables": {
                            "wFlows": [contact["CYLC_WORKFLOW_ID"]],
                            "taskJob": a.job,
                            "eventTime": event_time,
                            "messages": [[a.severity, a.text]],
                        },
                    },
                    "meta": dict(meta, prog="message"),
                }
            else:
                request = {
                    "command": "message",
                    "args": {
                        "task_job": a.job,
                        "event_time": event_time,
                        "messages": [[a.severity, a.text]],
                    },
                    "meta": dict(meta, prog="message"),
                }
            t_send = time.time_ns()
            sock.send(json.dumps(request).encode())
            reply = json.loads(sock.recv())
            out["round_trip_ms"] = ms(time.time_ns() - t_send)
        finally:
            sock.disable_monitor()
            mon.close(linger=0)
            sock.close()
            ctx.term()
        if "error" in reply:
            out["ok"] = False
            out["error"] = reply["error"]
            print(json.dumps(out))
            return 1
        out["ok"] = True
        out["reply"] = reply.get("data")
        print(json.dumps(out))
        return 0
    except (Exception, KeyboardInterrupt) as e:  # report every failure as JSON
        out["ok"] = False
        out["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
