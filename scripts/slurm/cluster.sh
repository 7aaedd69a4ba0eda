#!/usr/bin/env bash
# A throw-away one-node Slurm cluster on localhost, to test
# scripts/slurm/authbench.sbatch (`make slurm-test`).
#
#   bash scripts/slurm/cluster.sh up     # install (if missing) and start munged, slurmctld, slurmd
#   bash scripts/slurm/cluster.sh test   # up, submit authbench.sbatch on the smoke scenario, check, down
#   bash scripts/slurm/cluster.sh down   # stop the daemons it started (by pid) and remove its state
#   bash scripts/slurm/cluster.sh env    # print the export that points Slurm's commands at it
#
# test's job writes to AUTHBENCH_SLURM_OUT (default out/slurm-test), kept
# after down for a look.
#
# Everything lives in a private state directory (AUTHBENCH_SLURM_DIR, default
# /tmp/authbench-slurm): the slurm.conf (used through SLURM_CONF, so an
# existing /etc/slurm/slurm.conf is never read or touched), a munge key and
# socket of its own, the daemons' spool, logs and pid files. The daemons are
# started by hand (no systemd needed) and listen on ports
# AUTHBENCH_SLURM_PORT and the one after it (default 16817-16818), not
# Slurm's usual 6817-6818. Needs root: apt-get, and slurmd runs jobs as
# their submitting user.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${AUTHBENCH_SLURM_DIR:-/tmp/authbench-slurm}
port=${AUTHBENCH_SLURM_PORT:-16817}
conf=$state/slurm.conf
msock=$state/munge/munge.socket.2
# How long `up` waits for the node to be idle, and `test` for its job.
UP_TIMEOUT=${UP_TIMEOUT:-60}
JOB_TIMEOUT=${JOB_TIMEOUT:-150}

say() { echo "cluster: $*" >&2; }
die() {
	echo "cluster: error: $*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (apt-get, and slurmd runs jobs as their user)"
}

# install: Debian's slurmctld, slurmd, slurm-client and munge (and jq, for
# the test's checks) when a command is missing; no recommends, no manual
# pages or docs, and no daemon started by the packages' scripts.
install() {
	local need=()
	command -v slurmctld >/dev/null || need+=(slurmctld)
	command -v slurmd >/dev/null || need+=(slurmd)
	command -v sbatch >/dev/null || need+=(slurm-client)
	command -v munged >/dev/null || need+=(munge)
	command -v jq >/dev/null || need+=(jq)
	[ ${#need[@]} -eq 0 ] && return 0
	need_root "installing ${need[*]}"
	local log=/tmp/authbench-slurm-install.log t0=$SECONDS policy=
	say "installing ${need[*]} (log: $log)"
	# Keep the packages' maintainer scripts from starting services (as a
	# container's policy-rc.d does): we start our own daemons below.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod 755 $policy
	fi
	local cmd=(apt-get install -y --no-install-recommends
		-o Dpkg::Options::=--path-exclude=/usr/share/man/*
		-o Dpkg::Options::=--path-exclude=/usr/share/doc/*
		"${need[@]}")
	local rc=0
	export DEBIAN_FRONTEND=noninteractive
	if ! "${cmd[@]}" >$log 2>&1; then
		apt-get update -qq >>$log 2>&1 || true
		"${cmd[@]}" >>$log 2>&1 || rc=$?
	fi
	[ -z "$policy" ] || rm -f "$policy"
	if [ $rc -ne 0 ]; then
		tail -20 $log >&2
		die "apt-get install ${need[*]} failed (exit $rc)"
	fi
	say "installed in $((SECONDS - t0)) s"
}

# alive NAME: whether the pid recorded in $state/NAME.pid is a live process
# running the command NAME (a recycled pid does not count).
alive() {
	local f=$state/$1.pid pid
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	[ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$1" ]
}

# start NAME CMD...: start a daemon in the foreground mode of its own, in the
# background, its output in $state/log/NAME.out, and record its pid.
start() {
	local name=$1
	shift
	"$@" </dev/null >"$state/log/$name.out" 2>&1 &
	echo $! >"$state/$name.pid"
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds; fail
# after SECONDS.
wait_for() {
	local limit=$1 deadline
	shift
	deadline=$((SECONDS + limit))
	until "$@" >/dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

write_conf() {
	local cpus mem_kb mem
	cpus=$(nproc)
	mem_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
	mem=$((mem_kb * 8 / 10 / 1024)) # MB, leaving slurmd's check some margin
	cat >"$conf" <<EOF
# authbench's one-node test cluster (scripts/slurm/cluster.sh); not for real use.
ClusterName=authbench
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$msock
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.daemon.pid
SlurmdPidFile=$state/slurmd.daemon.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SwitchType=switch/none
MpiDefault=none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
# Keep finished jobs visible to scontrol for 10 minutes.
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

up() {
	need_root up
	install
	if alive munged && alive slurmctld && alive slurmd; then
		say "already up ($state)"
		return 0
	fi
	# Whatever is left of an earlier cluster goes first.
	down quiet
	local t0=$SECONDS
	mkdir -p "$state"
	chmod 711 "$state"
	mkdir -p "$state/munge" "$state/ctld" "$state/slurmd" "$state/log"
	chmod 711 "$state/munge"
	# A munge key of our own (1 KiB of random, 0400, as mungekey makes it).
	if [ ! -s "$state/munge/munge.key" ]; then
		dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
		chmod 400 "$state/munge/munge.key"
	fi
	write_conf
	start munged munged --foreground --force --socket="$msock" \
		--key-file="$state/munge/munge.key" --seed-file="$state/munge/munge.seed" \
		--pid-file="$state/munge/munged.pid" --log-file="$state/log/munged.log"
	wait_for 15 test -S "$msock" ||
		{ tail "$state/log/munged.out" "$state/log/munged.log" >&2 || true; die "munged did not create $msock within 15 s"; }
	export SLURM_CONF=$conf
	start slurmctld slurmctld -D -c -f "$conf"
	start slurmd slurmd -D -N localhost -f "$conf"
	if ! wait_for "$UP_TIMEOUT" node_idle; then
		say "slurmctld.log:"
		tail -15 "$state/log/slurmctld.log" "$state/log/slurmctld.out" >&2 || true
		say "slurmd.log:"
		tail -15 "$state/log/slurmd.log" "$state/log/slurmd.out" >&2 || true
		sinfo -N >&2 || true
		down quiet
		die "the node was not idle within $UP_TIMEOUT s (logs above)"
	fi
	say "up in $((SECONDS - t0)) s: $(sinfo -h -N -o '%N %T, %c CPUs, %m MB'); export SLURM_CONF=$conf"
}

node_idle() {
	local s
	alive slurmctld && alive slurmd || return 1
	s=$(SLURM_CONF=$conf sinfo -h -n localhost -o %T 2>/dev/null) || return 1
	[ "$s" = idle ]
}

# down [quiet]: cancel our cluster's jobs, stop the daemons this script
# started (by their recorded pids, TERM then KILL after 10 s), remove the
# state directory.
down() {
	[ -d "$state" ] || { [ "${1:-}" = quiet ] || say "not up ($state missing)"; return 0; }
	if alive slurmctld; then
		SLURM_CONF=$conf scancel --quiet --user="$(id -un)" 2>/dev/null || true
		wait_for 15 no_jobs || say "jobs still running after 15 s"
	fi
	local name pid
	for name in slurmd slurmctld munged; do
		alive $name || continue
		pid=$(cat "$state/$name.pid")
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for 10 not_alive $name; then
			say "$name (pid $pid) ignored TERM for 10 s: KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		[ "${1:-}" = quiet ] || say "stopped $name (pid $pid)"
	done
	rm -rf "$state"
}

not_alive() { ! alive "$1"; }
no_jobs() { [ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]; }

# job_state ID: the job's JobState and ExitCode ("COMPLETED 0:0").
job_state() {
	SLURM_CONF=$conf scontrol show job -o "$1" 2>/dev/null |
		sed -n 's/.*JobState=\([A-Z_]*\).* ExitCode=\([0-9:]*\).*/\1 \2/p'
}

# test: the sbatch recipe on the smoke scenario with one server task and two
# loader tasks on the one node, then checks its state, its report and that
# the shards' counts add up to the scenario's totals.
run_test() {
	need_root test
	local t0=$SECONDS
	out=${AUTHBENCH_SLURM_OUT:-$repo/out/slurm-test}
	rm -rf "$out"
	mkdir -p "$out"
	install
	if ! { alive munged && alive slurmctld && alive slurmd; }; then
		trap test_exit EXIT
		up
	fi
	# Options for another cluster (inside a job, or SBATCH_PARTITION and
	# the like) must not reach this one's sbatch.
	# shellcheck disable=SC2046
	unset $(compgen -e | grep -E '^(SLURM_|SBATCH_|SRUN_|SALLOC_)') 2>/dev/null || true
	export SLURM_CONF=$conf
	local bin=$repo/bin/authbench
	(cd "$repo" && "${GO:-go}" build -o bin/authbench ./cmd/authbench) || die "go build failed"
	local id
	# 3 tasks (1 serve + 2 load) on 1 node with fewer CPUs than tasks:
	# --overcommit lets the job have them.
	id=$(cd "$repo" && sbatch --parsable -N1 -n3 --overcommit --time=5 \
		--job-name=authbench-slurm-test --output="$out/job.out" \
		--export=ALL,AUTHBENCH="$bin",SCHEME=plain,SCENARIO=smoke,OUT="$out",LOAD_TIMEOUT=120 \
		scripts/slurm/authbench.sbatch) || die "sbatch failed"
	id=${id%%;*}
	say "submitted job $id; waiting (at most $JOB_TIMEOUT s)"
	local st deadline=$((SECONDS + JOB_TIMEOUT))
	while :; do
		st=$(job_state "$id")
		case ${st%% *} in
		COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | PREEMPTED | BOOT_FAIL | DEADLINE) break ;;
		esac
		if ((SECONDS >= deadline)); then
			SLURM_CONF=$conf scancel "$id" || true
			tail -30 "$out/job.out" >&2 || true
			die "job $id not done within $JOB_TIMEOUT s (state: ${st:-unknown}; its output above)"
		fi
		sleep 0.5
	done
	echo "--- job $id output ($out/job.out) ---"
	cat "$out/job.out"
	echo "--- end of job output ---"
	[ "$st" = "COMPLETED 0:0" ] || die "job $id ended $st, want COMPLETED 0:0"
	grep -q '^authbench.sbatch: done' "$out/job.out" || die "job $id's output lacks the done line"
	[ -s "$out/REPORT.md" ] || die "$out/REPORT.md missing or empty"
	local n=0 f
	for f in "$out"/shard-*/results.json; do
		[ -s "$f" ] && n=$((n + 1))
	done
	[ $n -eq 2 ] || die "want 2 shards' results.json in $out, found $n"
	# smoke: 200 CLI commands and 50 jobs x 3 messages, split over the shards.
	local got
	got=$(jq -s -r '[.[].results[].ops[]] as $ops
		| [("cli.command_total", "job.message") as $op
		   | [$ops[] | select(.op == $op)]
		   | "\($op)=\(map(.count) | add // 0)/\(map(.errors // 0) | add // 0)"] | join(" ")' \
		"$out"/shard-*/results.json) || die "cannot read the shards' results.json"
	say "merged counts (op=count/errors): $got"
	[ "$got" = "cli.command_total=200/0 job.message=150/0" ] ||
		die "want cli.command_total=200/0 job.message=150/0 across the shards, got: $got"
	echo "slurm-test: job $id COMPLETED, 2 shards, 200 CLI commands and 150 job messages, 0 errors; $out/REPORT.md ($((SECONDS - t0)) s)"
	if [ "$(trap -p EXIT)" ]; then
		trap - EXIT
		down
	fi
}

# test_exit: on test's way out, a cluster it brought up goes down; after a
# failure, the daemons' logs are kept beside the job's output first.
test_exit() {
	local rc=$?
	if [ $rc -ne 0 ] && [ -d "$state/log" ]; then
		cp -r "$state/log" "$out/cluster-log" 2>/dev/null || true
		say "the cluster's logs are in $out/cluster-log"
	fi
	down quiet
	exit $rc
}

case ${1:-} in
up) up ;;
down) down ;;
test) run_test ;;
env) echo "export SLURM_CONF=$conf" ;;
*)
	echo "usage: $0 up|down|test|env" >&2
	exit 2
	;;
esac
