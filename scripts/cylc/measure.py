"""An independent figure for a real Cylc scheduler's CPU per request.

cylc-flow's own client does the requests (its WorkflowRuntimeClient, a new
one per request, so a fresh connection and CURVE handshake each, as every
cylc command and every `cylc message` has), with the query `cylc ping` sends
and the mutation `cylc message` sends, both taken from cylc-flow itself at
run time; the scheduler's CPU (utime+stime, all threads) comes from
/proc/PID/stat. authbench's own figure (authbench load, package cylcpeer)
should agree with it (issue 22: within +-30 %).

    peer.sh measure [N]   runs it: python3 measure.py WORKFLOW N JOB...

with cylc-flow on sys.path and the peer's private HOME. It prints one line
per request type, and the idle scheduler's CPU measured first. CPU is
the threads' schedstat run time (nanoseconds) when every thread lived
through the window, else utime+stime (10 ms ticks), as in cylcpeer.
This file is authbench's (it imports cylc-flow; it copies none of it).
"""

import os
import sys
import time

from cylc.flow.network.client import WorkflowRuntimeClient
from cylc.flow.network import get_location
from cylc.flow.scripts.ping import FLOW_QUERY
from cylc.flow.task_message import MUTATION
from cylc.flow.wallclock import get_current_time_string
from cylc.flow.workflow_files import load_contact_file

USER_HZ = 100


def sample(pid):
    """utime+stime in seconds, and each thread's run time in ns."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    run = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run[tid] = int(f.read().split()[0])
        except OSError:
            pass
    return (int(rest[11]) + int(rest[12])) / USER_HZ, run


def cpu(a, b):
    """CPU seconds between samples a and b, and how it was read."""
    if a[1] and b[1] and set(a[1]) <= set(b[1]):
        return sum(b[1][t] - a[1].get(t, 0) for t in b[1]) / 1e9, "schedstat"
    return b[0] - a[0], "ticks"


def window(pid, n, send, settle=0.0):
    s0, w0 = sample(pid), time.monotonic()
    lat = []
    for i in range(n):
        s = time.monotonic()
        send(i)
        lat.append(time.monotonic() - s)
    time.sleep(settle)
    used, how = cpu(s0, sample(pid))
    return used, how, time.monotonic() - w0, sorted(lat)


def main():
    workflow, n, jobs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    pid = int(load_contact_file(workflow)["CYLC_WORKFLOW_PID"])
    host, port, _ = get_location(workflow)

    def request(args):
        client = WorkflowRuntimeClient(workflow, host=host, port=port)
        try:
            return client("graphql", args)
        finally:
            client.stop(stop_loop=False)

    def ping(_):
        request({"request_string": FLOW_QUERY, "variables": {"wFlows": [workflow]}})

    def message(i):
        request({"request_string": MUTATION, "variables": {
            "wFlows": [workflow], "taskJob": jobs[i % len(jobs)],
            "eventTime": get_current_time_string(),
            "messages": [["INFO", f"authbench-measure-{i + 1:04d}"]]}})

    idle, how, wall, _ = window(pid, 0, None, settle=2.0)
    idle_share = idle / wall
    print(f"idle: {100 * idle_share:.2f} % of a CPU ({1000 * idle:.1f} ms in {wall:.1f} s, {how})")
    for name, send, settle in (("ping", ping, 0.0), ("message", message, 1.5)):
        used, how, wall, lat = window(pid, n, send, settle)
        gross = used / n * 1000
        net = max(0.0, used - idle_share * wall) / n * 1000
        print(f"{name} x{n} (cylc-flow's client): scheduler CPU {gross:.2f} ms per request, "
              f"{net:.2f} ms net of idle ({1000 * used:.0f} ms in {wall:.1f} s, {how}); "
              f"p50 {1000 * lat[n // 2]:.0f} ms")


if __name__ == "__main__":
    main()
