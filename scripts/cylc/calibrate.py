"""Prints peer.sh calibrate's table: each calibration load against the real
Cylc scheduler (authbench load) and against authbench's cylc model
(authbench run, serve -model cylc, same scheme), side by side with the
model/real ratios (issue 22: each within 0.8-1.25).

    python3 calibrate.py OUT   (OUT/<load>/{real,model}/results.json and
                                OUT/<load>/{real,model}.txt, what authbench printed)

The real scheduler's CPU per request is from its threads' schedstat
(cylcpeer), the model's from its process's utime+stime.
"""

import json
import os
import sys


UNITS = {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}


def ms(text):
    for unit in ("ns", "µs", "us", "ms", "s"):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * UNITS[unit]
    raise ValueError(text)


def percentiles(path, op):
    """p50 and p90 in ms of op, from the summary table authbench printed
    (results.json's histograms are encoded)."""
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[2] == op:
            return ms(cells[5]), ms(cells[6])
    raise SystemExit(f"{path}: no summary row for {op}")


def load(path):
    with open(os.path.join(path, "results.json")) as f:
        return json.load(f)["results"][0]


def main():
    out = sys.argv[1]
    rows = []
    for name in sorted(os.listdir(out)):
        d = os.path.join(out, name)
        if not os.path.isfile(os.path.join(d, "real", "results.json")):
            continue
        real, model = load(os.path.join(d, "real")), load(os.path.join(d, "model"))
        kind = "message" if name.endswith("burst") else "ping"
        op = "job.message" if kind == "message" else "cli.command_total"
        rcpu = real["server_model_stats"].get(f"{kind}.cpu_ms_per_request")
        sp = model.get("server_process") or {}
        mcpu = (sp.get("user_s", 0) + sp.get("sys_s", 0)) / sp["requests"] * 1000 if sp.get("requests") else None
        r50, r90 = percentiles(os.path.join(d, "real.txt"), op)
        m50, m90 = percentiles(os.path.join(d, "model.txt"), op)
        rows.append((name, kind, rcpu, mcpu, r50, m50, r90, m90))

    def ratio(m, r):
        return f"{m / r:.2f}" if m and r else "-"

    print("| load | request | real CPU/req | model CPU/req | ratio | real p50 | model p50 | ratio | real p90 | model p90 | ratio |")
    print("|:--|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    bad = 0
    for name, kind, rc, mc, r50, m50, r90, m90 in rows:
        cells = [name, kind, f"{rc:.2f} ms" if rc else "-", f"{mc:.2f} ms" if mc else "-", ratio(mc, rc),
                 f"{r50:.1f} ms", f"{m50:.1f} ms", ratio(m50, r50), f"{r90:.1f} ms", f"{m90:.1f} ms", ratio(m90, r90)]
        print("| " + " | ".join(cells) + " |")
        for m, r in ((mc, rc), (m50, r50)):
            if m and r and not 0.8 <= m / r <= 1.25:
                bad += 1
    print(f"\n{bad} of {2 * len(rows)} CPU and p50 ratios outside 0.8-1.25")


if __name__ == "__main__":
    main()
