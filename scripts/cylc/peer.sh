#!/usr/bin/env bash
# A real Cylc 8 scheduler on demand, for authbench to load and to be
# checked against (issue 22).
#
#   bash scripts/cylc/peer.sh up     # install (if missing), start a scheduler, print its contact file
#   bash scripts/cylc/peer.sh down   # stop what up started (by recorded pid)
#   bash scripts/cylc/peer.sh env    # print the exports that point cylc's own commands at it
#   bash scripts/cylc/peer.sh status # say whether it runs, and where its contact file is
#   bash scripts/cylc/peer.sh test   # make cylc-test: up, cylcpeer's tests and authbench load against it, checks, down
#   bash scripts/cylc/peer.sh measure [N]  # the scheduler's CPU per request under cylc's own client (N pings, N job messages)
#   bash scripts/cylc/peer.sh calibrate    # the cylc model against the real scheduler, load by load, with ratios
#   bash scripts/cylc/peer.sh report FILE  # make report: up, the calibration into FILE, down (exit 3: no cylc-flow here)
#   bash scripts/cylc/peer.sh run CMD...   # up, CMD with CYLC_PEER_CONTACT set (unset: no cylc-flow here), down
#
# up prints the contact file's path on stdout (its content on stderr), so
#   contact=$(bash scripts/cylc/peer.sh up)
#   authbench load -contact "$contact" -scenario cylc-peer -out out/cylc
#   bash scripts/cylc/peer.sh down
#
# Which cylc-flow (the first found):
#   AUTHBENCH_CYLC_SRC  a cylc-flow source tree (with its egg-info, as
#                       `python3 setup.py egg_info` or `pip install -e` leaves);
#   AUTHBENCH_CYLC      a `cylc` executable (a pip or conda install);
#   AUTHBENCH_PEERS     a directory holding cylc-flow-*.tar.gz (default:
#                       ../shared/peers beside the repository), unpacked
#                       into the state directory and run with Debian's
#                       python3 and Debian packages (installed when missing;
#                       that needs root), as that directory's README says;
#   a `cylc` on PATH.
#
# Everything lives in a private state directory (AUTHBENCH_CYLC_DIR,
# default /tmp/authbench-cylc): the unpacked cylc-flow and a `cylc`
# launcher (bin/), a private HOME (home/: ~/.cylc/flow/global.cylc and
# ~/cylc-run), the scheduler's output and the pids up recorded. The
# machine's own ~/.cylc and ~/cylc-run are never read or changed: cylc
# runs with HOME set to home/ and a minimal environment.
#
# The workflow (scripts/cylc/workflow.sh) has CYLC_TASKS tasks (default 4)
# whose jobs sleep CYLC_HOLD seconds (default 600), so that their job
# messages are accepted as live jobs' messages; up waits until every job
# runs. When CYLC_HOLD has passed the jobs succeed and the scheduler shuts
# itself down: a peer nobody stopped goes away by itself.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${AUTHBENCH_CYLC_DIR:-/tmp/authbench-cylc}
peers=${AUTHBENCH_PEERS:-$repo/../shared/peers}
workflow=${CYLC_WORKFLOW:-authbench-peer}
tasks=${CYLC_TASKS:-4}
hold=${CYLC_HOLD:-600}
# CYLC_CPUS pins the scheduler (and its jobs) with taskset, and
# CYLC_CLIENT_CPUS the clients measure runs ("" leaves them unpinned).
cpus=${CYLC_CPUS:-}
client_cpus=${CYLC_CLIENT_CPUS:-}
# How long up waits for the contact file and then for every job to run.
UP_TIMEOUT=${UP_TIMEOUT:-90}

home=$state/home
bin=$state/bin
run_dir=$home/cylc-run/$workflow
contact=$run_dir/.service/contact
python=/usr/bin/python3

say() { echo "cylc-peer: $*" >&2; }
die() {
	echo "cylc-peer: error: $*" >&2
	exit 1
}

how_to_get() {
	cat >&2 <<EOF
cylc-peer: no cylc-flow found. Give one of:
  AUTHBENCH_CYLC_SRC=/path/to/cylc-flow   a source tree (git clone https://github.com/cylc/cylc-flow,
                                          then python3 setup.py egg_info, or pip install -e .)
  AUTHBENCH_CYLC=/path/to/bin/cylc        an installed cylc (pip install cylc-flow, or
                                          conda install -c conda-forge cylc-flow)
  AUTHBENCH_PEERS=/dir                    a directory holding cylc-flow-8.x.y.tar.gz
                                          (CI has ../shared/peers beside the checkout)
or put cylc on PATH.
EOF
}

# The Debian packages cylc-flow 8.4 runs on (../shared/peers/README.md),
# by the Python module each provides.
debian_modules=(
	ansimarkup:python3-ansimarkup async_timeout:python3-async-timeout
	colorama:python3-colorama graphene:python3-graphene graphql:python3-graphql-core
	jinja2:python3-jinja2 metomi.isodatetime:python3-isodatetime
	packaging:python3-packaging google.protobuf:python3-protobuf psutil:python3-psutil
	zmq:python3-zmq urwid:python3-urwid rx:python3-rx promise:python3-promise
	importlib_metadata:python3-importlib-metadata
	typing_extensions:python3-typing-extensions setuptools:python3-setuptools
)

install_debian() {
	local need=() m
	for m in "${debian_modules[@]}"; do
		$python -c "import ${m%%:*}" 2>/dev/null || need+=("${m#*:}")
	done
	command -v rsync >/dev/null || need+=(rsync)
	[ ${#need[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "cylc-flow needs ${need[*]}; as root: apt-get install --no-install-recommends ${need[*]}"
	local log=$state/apt.log t0=$SECONDS
	say "installing ${need[*]} (log: $log)"
	local cmd=(apt-get install -y --no-install-recommends
		-o Dpkg::Options::=--path-exclude=/usr/share/man/*
		-o Dpkg::Options::=--path-exclude=/usr/share/doc/*
		"${need[@]}")
	export DEBIAN_FRONTEND=noninteractive
	if ! "${cmd[@]}" >"$log" 2>&1; then
		apt-get update -qq >>"$log" 2>&1 || true
		"${cmd[@]}" >>"$log" 2>&1 || {
			tail -20 "$log" >&2
			die "apt-get install ${need[*]} failed"
		}
	fi
	say "installed in $((SECONDS - t0)) s"
}

# launcher TREE: bin/cylc runs Debian's python3 with TREE first on sys.path.
launcher() {
	mkdir -p "$bin"
	cat >"$bin/cylc.tmp" <<EOF
#!$python
# authbench scripts/cylc/peer.sh: cylc-flow from $1
import sys
sys.path.insert(0, "$1")
from cylc.flow.scripts.cylc import main
sys.exit(main())
EOF
	chmod 755 "$bin/cylc.tmp"
	mv "$bin/cylc.tmp" "$bin/cylc"
}

# find_cylc: make bin/cylc, from the first cylc-flow found.
find_cylc() {
	mkdir -p "$state"
	chmod 700 "$state"
	if [ -n "${AUTHBENCH_CYLC_SRC:-}" ]; then
		[ -f "$AUTHBENCH_CYLC_SRC/cylc/flow/__init__.py" ] || die "AUTHBENCH_CYLC_SRC=$AUTHBENCH_CYLC_SRC: no cylc/flow/__init__.py in it"
		compgen -G "$AUTHBENCH_CYLC_SRC/*.egg-info" >/dev/null ||
			die "AUTHBENCH_CYLC_SRC=$AUTHBENCH_CYLC_SRC: no *.egg-info (run python3 setup.py egg_info in it, so that cylc finds its subcommands)"
		install_debian
		launcher "$(cd "$AUTHBENCH_CYLC_SRC" && pwd)"
		return
	fi
	if [ -n "${AUTHBENCH_CYLC:-}" ]; then
		[ -x "$AUTHBENCH_CYLC" ] || die "AUTHBENCH_CYLC=$AUTHBENCH_CYLC: not an executable"
		mkdir -p "$bin"
		printf '#!/bin/sh\nexec %q "$@"\n' "$(readlink -f "$AUTHBENCH_CYLC")" >"$bin/cylc"
		chmod 755 "$bin/cylc"
		return
	fi
	local tarball
	tarball=$(ls "$peers"/cylc-flow-*.tar.gz 2>/dev/null | sort -V | tail -1 || true)
	if [ -n "$tarball" ]; then
		local name tree
		name=$(basename "$tarball" .tar.gz)
		tree=$state/src/$name
		install_debian
		if [ ! -f "$tree/.authbench-unpacked" ]; then
			say "unpacking $tarball"
			rm -rf "$tree"
			mkdir -p "$state/src"
			tar -xzf "$tarball" -C "$state/src"
			[ -d "$tree" ] || die "$tarball did not unpack to $name/"
			(cd "$tree" && $python setup.py -q egg_info >"$state/egg_info.log" 2>&1) ||
				{ tail -5 "$state/egg_info.log" >&2; die "python3 setup.py egg_info failed in $tree"; }
			touch "$tree/.authbench-unpacked"
		fi
		launcher "$tree"
		return
	fi
	local onpath
	if onpath=$(command -v cylc 2>/dev/null) && [ "$onpath" != "$bin/cylc" ]; then
		mkdir -p "$bin"
		printf '#!/bin/sh\nexec %q "$@"\n' "$(readlink -f "$onpath")" >"$bin/cylc"
		chmod 755 "$bin/cylc"
		return
	fi
	how_to_get
	exit 1
}

# cylc ARGS: run cylc in the private HOME with a minimal environment
# (pinned to cylc_pin, a taskset command, if set).
cylc_pin=()
cylc() {
	"${cylc_pin[@]}" env -i HOME="$home" USER="$(id -un)" LOGNAME="$(id -un)" PATH="$bin:/usr/local/bin:/usr/bin:/bin" \
		LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" "$bin/cylc" "$@"
}

# alive PID: PID runs and is one of ours (its command line or its
# environment names the state directory), so a recycled pid is never hit.
alive() {
	local pid=$1
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
	tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$state" && return 0
	tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "HOME=$home"
}

# job_pids: the process-group ids of the workflow's jobs (CYLC_JOB_ID of
# each job.status: the background job runner makes each job a process
# group leader).
job_pids() {
	local f
	# (log/job/CYCLE/TASK/NN is a link to the latest submit's folder.)
	for f in "$run_dir"/log/job/*/*/[0-9]*/job.status; do
		[ -f "$f" ] || continue
		sed -n 's/^CYLC_JOB_ID=\([0-9][0-9]*\)$/\1/p' "$f"
	done | sort -un
}

up() {
	if [ -f "$state/scheduler.pid" ] && alive "$(cat "$state/scheduler.pid")"; then
		if [ -f "$contact" ]; then
			say "already up (pid $(cat "$state/scheduler.pid"))"
			cat "$contact" >&2
			echo "$contact"
			return 0
		fi
		down
	fi
	find_cylc
	local version
	version=$(cylc version 2>/dev/null) || die "$bin/cylc does not run (cylc version failed; see: $(cylc version 2>&1 | tail -1))"
	say "cylc-flow $version"
	# The private HOME: a fresh ~/cylc-run, and a global.cylc naming the
	# launcher's folder (jobs run bash -l, and Debian's /etc/profile resets
	# PATH).
	rm -rf "$home/cylc-run" "$state/flow"
	mkdir -p "$home/.cylc/flow" "$state/flow/$workflow"
	cat >"$home/.cylc/flow/global.cylc" <<EOF
# authbench scripts/cylc/peer.sh: a private HOME's global config.
[platforms]
    [[localhost]]
        cylc path = $bin
EOF
	bash "$here/workflow.sh" "$tasks" "$hold" >"$state/flow/$workflow/flow.cylc"
	cylc install --no-run-name "$state/flow/$workflow" >"$state/install.log" 2>&1 ||
		{ tail -20 "$state/install.log" >&2; die "cylc install failed"; }
	# Its own session (setsid): a terminal's ^C is not its, and down stops
	# it by its pid. --no-detach: this pid is the scheduler.
	local pin=()
	[ -z "$cpus" ] || pin=(taskset -c "$cpus")
	setsid "${pin[@]}" env -i HOME="$home" USER="$(id -un)" LOGNAME="$(id -un)" PATH="$bin:/usr/local/bin:/usr/bin:/bin" \
		LANG=C.UTF-8 TMPDIR="${TMPDIR:-/tmp}" \
		"$bin/cylc" play --no-detach "$workflow" </dev/null >"$state/play.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$state/scheduler.pid"
	say "scheduler pid $pid, tasks $tasks, hold ${hold}s; waiting for $contact"
	local t0=$SECONDS
	until [ -f "$contact" ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -20 "$state/play.log" >&2
			die "the scheduler exited before it wrote its contact file (log above: $state/play.log)"
		fi
		[ $((SECONDS - t0)) -lt "$UP_TIMEOUT" ] || { down; die "no contact file within ${UP_TIMEOUT}s"; }
		sleep 0.5
	done
	local cpid
	cpid=$(sed -n 's/^CYLC_WORKFLOW_PID=//p' "$contact")
	[ "$cpid" = "$pid" ] || say "note: contact file's pid $cpid, started pid $pid"
	# Wait until every job runs: the scheduler has logged "=> running"
	# for each task.
	local log=$run_dir/log/scheduler/log n=0
	until [ "$n" -ge "$tasks" ]; do
		n=$(grep -c '=> running' "$log" 2>/dev/null || true)
		kill -0 "$pid" 2>/dev/null || { tail -20 "$state/play.log" >&2; die "the scheduler exited (log: $log)"; }
		[ $((SECONDS - t0)) -lt "$UP_TIMEOUT" ] || { down; die "only $n of $tasks jobs running within ${UP_TIMEOUT}s (log: $log)"; }
		sleep 0.5
	done
	job_pids >"$state/jobs.pid"
	say "up in $((SECONDS - t0)) s: $tasks jobs running (pids $(tr '\n' ' ' <"$state/jobs.pid"))"
	cat "$contact" >&2
	echo "$contact"
}

down() {
	local pid stopped=0
	if [ -f "$state/scheduler.pid" ]; then
		pid=$(cat "$state/scheduler.pid")
		if alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 60); do
				alive "$pid" || break
				sleep 0.25
			done
			if alive "$pid"; then
				say "scheduler $pid did not stop on SIGTERM within 15 s: SIGKILL"
				kill -KILL "$pid" 2>/dev/null || true
			fi
			stopped=1
		fi
		rm -f "$state/scheduler.pid"
	fi
	# The jobs: their process groups (the job script, its sleep and any
	# cylc message), recorded at up and read again from job.status.
	local pids
	pids=$({ cat "$state/jobs.pid" 2>/dev/null || true; job_pids; } | sort -u)
	for pid in $pids; do
		if alive "$pid"; then
			kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			stopped=1
		fi
	done
	rm -f "$state/jobs.pid"
	if [ "$stopped" = 1 ]; then say "stopped"; else say "nothing running"; fi
}

# test (make cylc-test): stand the scheduler up; run package cylcpeer's
# tests against it (its requests, and each way of failing: wrong keys, an
# unreachable port, a dead scheduler's contact file); have `authbench load`
# send it 20 pings and 20 job messages for its live jobs
# (scripts/cylc/cylc-test.yaml) with 0 errors and the scheduler's CPU per
# request measured; check the 20 messages in the scheduler's log; have
# `authbench run -cylc` send a real `cylc message` job group beside the
# Python stand-in (scripts/cylc/cylc-test-python.yaml) with every process
# taken; run the calibration (calibrate, below) at its small size and print its ratios;
# stop everything. The load's results stay in AUTHBENCH_CYLC_OUT (default
# out/cylc-test).
test_() {
	local go=${GO:-go} out=${AUTHBENCH_CYLC_OUT:-$repo/out/cylc-test} t0=$SECONDS
	local authbench=$repo/bin/authbench
	[ -x "$authbench" ] || die "no $authbench: make build first (make cylc-test does)"
	trap down EXIT
	local cf
	cf=$(up)
	say "package cylcpeer's tests against the real scheduler"
	(cd "$repo" && AUTHBENCH_CYLC_CONTACT=$cf "$go" test -race -count=1 -run Real ./cylcpeer) ||
		die "cylcpeer's tests against the real scheduler failed"
	say "authbench load: 20 pings, 20 job messages"
	rm -rf "$out"
	mkdir -p "$out"
	"$authbench" load -quiet -contact "$cf" -scenario "$here/cylc-test.yaml" -out "$out" >"$out/load.txt" ||
		{ cat "$out/load.txt" >&2; die "authbench load failed"; }
	cat "$out/load.txt" >&2
	$python - "$out/results.json" <<'PY' || die "results check failed: $out/results.json"
import json, sys
run = json.load(open(sys.argv[1]))
res = run["results"][0]
ops = {o["op"]: o for o in res["ops"]}
bad = []
for op in ("cli.command_total", "job.message"):
    o = ops.get(op, {})
    if o.get("count") != 20 or o.get("errors"):
        bad.append(f"{op}: count {o.get('count')}, errors {o.get('errors')}, want 20 and none")
if not res.get("server_model", "").startswith("cylc-flow "):
    bad.append(f"server_model {res.get('server_model')!r}, want cylc-flow VERSION")
sp = res.get("server_process") or {}
if sp.get("requests") != 40 or sp.get("user_s", 0) + sp.get("sys_s", 0) <= 0 or not sp.get("pid") or not sp.get("cpus"):
    bad.append(f"server_process {sp}: want 40 requests, CPU, pid and CPUs")
for line in bad:
    print("cylc-peer: check: " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	local tag want=20 got=0 log=$run_dir/log/scheduler/log
	tag=$(sed -n 's/^job messages: \(authbench-load-[0-9a-f]*\)-NNNN.*/\1/p' "$out/load.txt")
	[ -n "$tag" ] || die "no message tag in authbench load's output ($out/load.txt)"
	# The main loop takes queued messages about once a second.
	for _ in $(seq 1 20); do
		got=$(grep -c "(received)$tag-" "$log" || true)
		[ "$got" -ge "$want" ] && break
		sleep 0.25
	done
	[ "$got" -eq "$want" ] || die "the scheduler's log has $got of $want job messages $tag-NNNN (received): $log"
	say "the scheduler logged all $want job messages ($tag-NNNN)"
	# The real client's job group (issue 22 #4): review-python at its
	# smallest, its 4 real `cylc message` processes all taken.
	say "authbench run -cylc: the Python stand-in beside the real cylc message"
	"$authbench" run -quiet -probe 0 -scenario "$here/cylc-test-python.yaml" -schemes plain -cylc "$cf" -out "$out/python" >"$out/python.txt" ||
		{ cat "$out/python.txt" >&2; die "authbench run -cylc failed"; }
	$python - "$out/python/results.json" <<'PY' || die "real client check failed: $out/python/results.json"
import json, sys
run = json.load(open(sys.argv[1]))
rcs = run.get("real_clients") or []
bad = []
if len(rcs) != 1:
    bad.append(f"{len(rcs)} real client rounds, want 1")
for rc in rcs:
    ps = rc.get("processes") or []
    if len(ps) != 4 or any(p.get("error") for p in ps) or not rc.get("server", "").startswith("cylc-flow "):
        bad.append(f"{len(ps)} processes, errors {[p.get('error') for p in ps if p.get('error')]}, server {rc.get('server')!r}: want 4, none, cylc-flow VERSION")
    if any(p.get("wall_ns", 0) <= 0 or p.get("cpu_ns", 0) <= 0 for p in ps):
        bad.append("a process without its wall time or CPU")
    walls = sorted(p["wall_ns"] / 1e6 for p in ps)
    cpus = sorted(p["cpu_ns"] / 1e6 for p in ps)
    print(f"cylc-peer: real cylc message: {len(ps)} processes, wall {walls[0]:.0f}-{walls[-1]:.0f} ms, CPU {cpus[0]:.0f}-{cpus[-1]:.0f} ms", file=sys.stderr)
for line in bad:
    print("cylc-peer: check: " + line, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	# The calibration at its small size (one round of each load), for the
	# record: its ratios are printed, not judged here (a loaded CI machine
	# moves the concurrent loads' p50s from round to round).
	AUTHBENCH_CYLC_OUT=$out/calibrate CALIBRATE_ROUNDS=1 calibrate >&2 || die "calibration failed"
	down
	trap - EXIT
	say "cylc-test passed in $((SECONDS - t0)) s"
}

# measure [N]: an independent figure for the scheduler's CPU per request
# under cylc-flow's own client (scripts/cylc/measure.py): N pings, then N
# job messages for the live jobs in turn, one after the other, each on a
# fresh connection; CPU from /proc/PID/stat. It runs cylc-flow's Python
# modules, so it needs a cylc-flow tree (the peers tarball or
# AUTHBENCH_CYLC_SRC), not an installed cylc.
measure() {
	local n=${1:-20} tree jobs=()
	[ -f "$contact" ] || die "not up (peer.sh up first)"
	tree=$(sed -n 's/^sys.path.insert(0, "\(.*\)")$/\1/p' "$bin/cylc" 2>/dev/null || true)
	[ -n "$tree" ] || die "measure needs a cylc-flow tree (the peers tarball or AUTHBENCH_CYLC_SRC)"
	mapfile -t jobs < <(cd "$run_dir/log/job" && for f in */*/[0-9]*/job.status; do
		grep -q '^CYLC_JOB_INIT_TIME=' "$f" && ! grep -q '^CYLC_JOB_EXIT=' "$f" && dirname "$f"
	done)
	[ ${#jobs[@]} -gt 0 ] || die "no live jobs in $run_dir/log/job"
	local pin=()
	[ -z "$client_cpus" ] || pin=(taskset -c "$client_cpus")
	"${pin[@]}" env -i HOME="$home" USER="$(id -un)" PATH="$bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 \
		PYTHONPATH="$tree" $python "$here/measure.py" "$workflow" "$n" "${jobs[@]}"
}

# calibrate: authbench calibrate -cylc: the calibration loads (sequential
# pings, 8 concurrent clients, a burst of job messages, a site-rate
# trickle) against the real scheduler and against authbench's cylc model,
# by one driver, side by side with their ratios, written to
# $AUTHBENCH_CYLC_OUT/cylc-calibration.json (default out/cylc-calibrate).
# CALIBRATE_ROUNDS sets the rounds of the concurrent loads (default 3).
# The peer must be up.
calibrate() {
	local out=${AUTHBENCH_CYLC_OUT:-$repo/out/cylc-calibrate} authbench=$repo/bin/authbench
	[ -x "$authbench" ] || die "no $authbench: make build first"
	[ -f "$contact" ] || die "not up (peer.sh up first)"
	local rounds=()
	[ -z "${CALIBRATE_ROUNDS:-}" ] || rounds=(-rounds "$CALIBRATE_ROUNDS")
	mkdir -p "$out"
	"$authbench" calibrate -quiet "${rounds[@]}" -cylc "$contact" -o "$out/cylc-calibration.json" | tee "$out/calibration.md"
}

# report FILE (make report): stand a scheduler up, run the calibration
# into FILE, stop it; about 50 s. Exits 3, with the reason, when no
# cylc-flow can be had here, so that make report keeps the committed one.
report_() {
	local file=${1:?report needs the calibration FILE to write}
	local authbench=$repo/bin/authbench t0=$SECONDS
	[ -x "$authbench" ] || die "no $authbench: make build first"
	( find_cylc ) || exit 3
	# A scheduler someone else stood up here is used and left running.
	local mine=1
	if [ -f "$state/scheduler.pid" ] && alive "$(cat "$state/scheduler.pid")" && [ -f "$contact" ]; then
		mine=0
	else
		trap down EXIT
		up >/dev/null
	fi
	mkdir -p "$(dirname "$file")"
	"$authbench" calibrate -quiet -cylc "$contact" -o "$file" >&2 || die "calibration failed"
	if [ "$mine" = 1 ]; then
		down
		trap - EXIT
	fi
	say "calibration in $((SECONDS - t0)) s: $file"
}

# run CMD...: stand a scheduler up (or use one already up, and leave it),
# run CMD with CYLC_PEER_CONTACT set to its contact file, stop it, and exit
# with CMD's status. Where no cylc-flow can be had CMD runs all the same,
# with CYLC_PEER_CONTACT unset and the reason on stderr (make report:
# review-python then runs without its real `cylc message` job group, and
# says so).
run_() {
	[ $# -gt 0 ] || die "run needs a command"
	local mine=1 cf
	if [ -f "$state/scheduler.pid" ] && alive "$(cat "$state/scheduler.pid")" && [ -f "$contact" ]; then
		mine=0
		cf=$contact
	elif ( find_cylc ); then
		trap down EXIT
		cf=$(up)
	else
		say "no cylc-flow here: $* runs without a real scheduler (CYLC_PEER_CONTACT unset)"
		unset CYLC_PEER_CONTACT
		"$@"
		return
	fi
	local rc=0
	CYLC_PEER_CONTACT=$cf "$@" || rc=$?
	if [ "$mine" = 1 ]; then
		down
		trap - EXIT
	fi
	return "$rc"
}

case "${1:-}" in
up) up ;;
run)
	shift
	run_ "$@"
	;;
calibrate) calibrate ;;
report) report_ "${2:-}" ;;
measure) measure "${2:-20}" ;;
test) test_ ;;
down) down ;;
env)
	printf 'export HOME=%q\n' "$home"
	printf 'export PATH=%q:"$PATH"\n' "$bin"
	printf 'export AUTHBENCH_CYLC_CONTACT=%q\n' "$contact"
	printf 'export CYLC_WORKFLOW=%q\n' "$workflow"
	;;
status)
	if [ -f "$state/scheduler.pid" ] && alive "$(cat "$state/scheduler.pid")" && [ -f "$contact" ]; then
		say "up: pid $(cat "$state/scheduler.pid")"
		echo "$contact"
	else
		say "down"
		exit 1
	fi
	;;
*)
	sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
