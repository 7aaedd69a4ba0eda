#!/usr/bin/env bash
# A throw-away three-node Slurm cluster on this machine, to test
# scripts/slurm/authbench.sbatch across nodes (`make slurm-test`).
#
#   bash scripts/slurm/cluster.sh up        # install (if missing) and start the cluster
#   bash scripts/slurm/cluster.sh test      # up, the four test jobs and their checks, down
#   bash scripts/slurm/cluster.sh down      # stop what it started (by pid) and remove it all
#   bash scripts/slurm/cluster.sh env       # print the export that points Slurm's commands at it
#   bash scripts/slurm/cluster.sh on N CMD  # run CMD on node N (its network, hostname and /etc/hosts)
#   bash scripts/slurm/cluster.sh lose N    # lose node N: its link down, its processes killed
#   bash scripts/slurm/cluster.sh revive N  # node N back after lose
#
# The nodes. Each of node1, node2 and node3 is a network namespace that
# this script makes (authbench-node1..3) holding one slurmd, with a UTS
# namespace of its own (its hostname is its node name) and a mount
# namespace in which /etc/hosts names the cluster's hosts. A veth pair joins
# each node to a bridge (absl-br0) in this machine's own namespace, the
# head node, which runs munged and slurmctld and from which jobs are
# submitted. The addresses are the namespaces' own, on a /24 that exists
# only on that bridge (AUTHBENCH_SLURM_NET, default 10.217.0: the head is
# .254, nodeN is .N); nothing routes it anywhere else. Every node sees the
# same file system (the repository, the state directory), as a cluster's
# shared file system; what a job on a `shared_fs: false` install target
# needs travels over the WFS's control channel instead. (Debian's Slurm is
# built with multiple-slurmd support, so several `slurmd -N NAME` with a
# port each would also do; but those nodes would share one hostname and
# one network, so neither the contact file's host nor a lost node's
# network would be tested.)
#
# test runs scripts/slurm/authbench.sbatch four times (cluster-test.sh
# says what each checks): three-node.yaml with the WFS on node1 and
# loaders on node2 and node3, half its jobs on a shared_fs: false target;
# smoke with all three tasks on node1 (-N1 -n3 --overcommit); long.yaml
# across the three nodes with the WFS killed mid-run; and long.yaml with
# node3 lost mid-run. Their output goes to AUTHBENCH_SLURM_OUT (default
# out/slurm-test: three-node/, one-node/, killed-wfs/, lost-node/), kept
# after down for a look.
#
# Everything else lives in a private state directory (AUTHBENCH_SLURM_DIR,
# default /tmp/authbench-slurm): the slurm.conf (used through SLURM_CONF,
# so an existing /etc/slurm/slurm.conf is never read or touched), a munge
# key and socket of its own, the hosts file, the daemons' spool, logs and
# pid files. The daemons are started by hand (no systemd needed) on ports
# AUTHBENCH_SLURM_PORT (slurmctld, default 16817) and the one after it
# (each node's slurmd, in its own namespace), not Slurm's usual 6817-6818.
# Needs root: apt-get, network namespaces, and slurmd runs jobs as their
# submitting user.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
state=${AUTHBENCH_SLURM_DIR:-/tmp/authbench-slurm}
port=${AUTHBENCH_SLURM_PORT:-16817}
net=${AUTHBENCH_SLURM_NET:-10.217.0}
conf=$state/slurm.conf
msock=$state/munge/munge.socket.2
nodes=(node1 node2 node3)
bridge=absl-br0
head_addr=$net.254
# How long `up` waits for the nodes to be idle, and `test` for each job.
UP_TIMEOUT=${UP_TIMEOUT:-60}
JOB_TIMEOUT=${JOB_TIMEOUT:-120}

say() { echo "cluster: $*" >&2; }
die() {
	echo "cluster: error: $*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (apt-get, network namespaces, and slurmd runs jobs as their user)"
}

# ns N: node N's network namespace; veth N: its link's end on the bridge.
ns() { echo "authbench-node$1"; }
veth() { echo "absl-v$1"; }

# install: Debian's slurmctld, slurmd, slurm-client and munge (and jq, for
# the test's checks, and iproute2 for the namespaces) when a command is
# missing; no recommends, no manual pages or docs, and no daemon started by
# the packages' scripts.
install() {
	local need=()
	command -v slurmctld >/dev/null || need+=(slurmctld)
	command -v slurmd >/dev/null || need+=(slurmd)
	command -v sbatch >/dev/null || need+=(slurm-client)
	command -v munged >/dev/null || need+=(munge)
	command -v jq >/dev/null || need+=(jq)
	command -v ip >/dev/null || need+=(iproute2)
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

# alive NAME [COMM]: whether the pid recorded in $state/NAME.pid is a live
# process running the command COMM (default NAME; a recycled pid does not
# count).
alive() {
	local f=$state/$1.pid pid
	[ -s "$f" ] || return 1
	pid=$(cat "$f")
	[ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "${2:-$1}" ]
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

# net_up: the bridge (the head's end, $head_addr), and per node a network
# namespace joined to it by a veth pair, with its address and loopback up;
# and the hosts file every node's /etc/hosts is.
net_up() {
	local i
	ip link add "$bridge" type bridge ||
		die "cannot make the bridge $bridge (this needs root and a kernel with bridge and veth support)"
	ip addr add "$head_addr/24" dev "$bridge"
	ip link set "$bridge" up
	for i in 1 2 3; do
		ip netns add "$(ns $i)" || die "cannot make the network namespace $(ns $i)"
		ip link add "$(veth $i)" type veth peer name eth0 netns "$(ns $i)"
		ip link set "$(veth $i)" master "$bridge" up
		ip -n "$(ns $i)" addr add "$net.$i/24" dev eth0
		ip -n "$(ns $i)" link set eth0 up
		ip -n "$(ns $i)" link set lo up
	done
	{
		echo "127.0.0.1 localhost"
		echo "::1 localhost"
		echo "$head_addr head"
		for i in 1 2 3; do echo "$net.$i node$i"; done
	} >"$state/hosts"
}

# net_down: whatever is left of the namespaces (every process still in one
# is one of this cluster's: KILL), the links and the bridge.
net_down() {
	local i pids
	for i in 1 2 3; do
		[ -e "/run/netns/$(ns $i)" ] || continue
		pids=$(ip netns pids "$(ns $i)" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
		ip netns del "$(ns $i)" 2>/dev/null || true
	done
	for i in 1 2 3; do
		ip link del "$(veth $i)" 2>/dev/null || true
	done
	ip link del "$bridge" 2>/dev/null || true
}

write_conf() {
	local cpus i
	cpus=$(nproc)
	cat >"$conf" <<EOF
# authbench's three-node test cluster (scripts/slurm/cluster.sh); not for real use.
ClusterName=authbench
# slurmctld runs on this machine (any hostname passes as localhost); the
# nodes reach it on the bridge's address.
SlurmctldHost=localhost($head_addr)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$msock
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/slurmd/%n
SlurmctldPidFile=$state/slurmctld.daemon.pid
SlurmdPidFile=$state/slurmd/%n.daemon.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd-%n.log
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
# A node that does not answer for 10 s is DOWN (the lost-node test).
SlurmdTimeout=10
MessageTimeout=5
EOF
	# Every node has the machine's CPUs (they share them); memory is not
	# scheduled (CR_CPU), so a small figure keeps slurmd's check quiet.
	for i in 1 2 3; do
		echo "NodeName=node$i NodeAddr=$net.$i CPUs=$cpus RealMemory=1000 State=UNKNOWN" >>"$conf"
	done
	echo "PartitionName=test Nodes=node[1-3] Default=YES MaxTime=INFINITE State=UP" >>"$conf"
}

# start_node N: node N's slurmd, in its network namespace, with a hostname
# and an /etc/hosts of its own. nsenter, not ip netns exec: that remounts
# /sys for the namespace, which hides /sys/fs/cgroup, and slurmd will not
# start without it. nsenter and unshare exec (no fork), so the recorded pid
# is slurmd's.
start_node() {
	local i=$1
	mkdir -p "$state/slurmd/node$i"
	# shellcheck disable=SC2016
	start "slurmd-node$i" nsenter --net="/run/netns/$(ns "$i")" unshare --uts --mount --propagation private \
		sh -c 'hostname "$1" && mount --bind "$2" /etc/hosts && exec slurmd -D -N "$1" -f "$3"' \
		sh "node$i" "$state/hosts" "$conf"
}

up() {
	need_root up
	install
	if all_alive; then
		say "already up ($state)"
		return 0
	fi
	# Whatever is left of an earlier cluster goes first.
	down quiet
	local t0=$SECONDS i
	mkdir -p "$state"
	chmod 711 "$state"
	mkdir -p "$state/munge" "$state/ctld" "$state/slurmd" "$state/log"
	chmod 711 "$state/munge"
	# A munge key of our own (1 KiB of random, 0400, as mungekey makes it).
	if [ ! -s "$state/munge/munge.key" ]; then
		dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
		chmod 400 "$state/munge/munge.key"
	fi
	net_up
	write_conf
	start munged munged --foreground --force --socket="$msock" \
		--key-file="$state/munge/munge.key" --seed-file="$state/munge/munge.seed" \
		--pid-file="$state/munge/munged.pid" --log-file="$state/log/munged.log"
	wait_for 15 test -S "$msock" ||
		{ tail "$state/log/munged.out" "$state/log/munged.log" >&2 || true; die "munged did not create $msock within 15 s"; }
	export SLURM_CONF=$conf
	start slurmctld slurmctld -D -c -f "$conf"
	for i in 1 2 3; do start_node $i; done
	if ! wait_for "$UP_TIMEOUT" nodes_idle; then
		say "slurmctld.log:"
		tail -n 15 "$state/log/slurmctld.log" "$state/log/slurmctld.out" >&2 || true
		for i in 1 2 3; do
			say "node$i's slurmd log:"
			tail -n 8 "$state/log/slurmd-node$i.log" "$state/log/slurmd-node$i.out" >&2 || true
		done
		sinfo -N >&2 || true
		down quiet
		die "the nodes were not idle within $UP_TIMEOUT s (logs above)"
	fi
	say "up in $((SECONDS - t0)) s: $(sinfo -h -N -o '%N %T' | paste -sd, -), $(nproc) CPUs each (shared); export SLURM_CONF=$conf"
}

all_alive() {
	local i
	alive munged && alive slurmctld || return 1
	for i in 1 2 3; do alive "slurmd-node$i" slurmd || return 1; done
}

nodes_idle() {
	all_alive || return 1
	[ "$(SLURM_CONF=$conf sinfo -h -N -o '%N %T' 2>/dev/null | sort | paste -sd, -)" = "node1 idle,node2 idle,node3 idle" ]
}

# down [quiet]: cancel our cluster's jobs, stop the daemons this script
# started (by their recorded pids, TERM then KILL after 10 s), remove the
# namespaces, the bridge and the state directory.
down() {
	if [ ! -d "$state" ] && [ ! -e "/run/netns/$(ns 1)" ] && ! ip link show "$bridge" >/dev/null 2>&1; then
		[ "${1:-}" = quiet ] || say "not up ($state missing)"
		return 0
	fi
	if alive slurmctld; then
		SLURM_CONF=$conf scancel --quiet --user="$(id -un)" 2>/dev/null || true
		wait_for 15 no_jobs || say "jobs still running after 15 s"
	fi
	local name comm pid
	for name in slurmd-node1 slurmd-node2 slurmd-node3 slurmctld munged; do
		comm=${name%%-*}
		alive $name "$comm" || continue
		pid=$(cat "$state/$name.pid")
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_for 10 not_alive $name "$comm"; then
			say "$name (pid $pid) ignored TERM for 10 s: KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		[ "${1:-}" = quiet ] || say "stopped $name (pid $pid)"
	done
	net_down
	rm -rf "$state"
}

not_alive() { ! alive "$@"; }
no_jobs() { [ -z "$(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null)" ]; }

# on N CMD...: run CMD on node N, in its slurmd's namespaces.
on() {
	local i=$1
	shift
	alive "slurmd-node$i" slurmd || die "node$i's slurmd is not running"
	nsenter -t "$(cat "$state/slurmd-node$i.pid")" -n -u -m "$@"
}

# lose N: node N is lost as a crashed host is: its link goes down (nothing
# reaches it or leaves it) and every process on it (its slurmd, the job
# steps' slurmstepd and tasks) is killed at once.
lose() {
	local i=$1 pids
	[ -e "/run/netns/$(ns "$i")" ] || die "no node$i"
	ip link set "$(veth "$i")" down
	pids=$(ip netns pids "$(ns "$i")")
	# shellcheck disable=SC2086
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	say "node$i lost: its link is down and its $(echo $pids | wc -w) process(es) killed"
}

# revive N: node N back after lose: its link up and its slurmd started again
# (ReturnToService=2 makes it idle once it registers).
revive() {
	local i=$1
	ip link set "$(veth "$i")" up
	start_node "$i"
	wait_for "$UP_TIMEOUT" nodes_idle || die "node$i was not idle within $UP_TIMEOUT s of its slurmd's restart"
	say "node$i back: $(SLURM_CONF=$conf sinfo -h -n "node$i" -o %T)"
}

# job_state ID: the job's JobState and ExitCode ("COMPLETED 0:0").
job_state() {
	SLURM_CONF=$conf scontrol show job -o "$1" 2>/dev/null |
		sed -n 's/.*JobState=\([A-Z_]*\).* ExitCode=\([0-9:]*\).*/\1 \2/p'
}

case ${1:-} in
up) up ;;
down) down ;;
test)
	# One test at a time on this machine: a second waits for the first.
	exec 9>"$state.lock"
	if ! flock -n 9; then
		say "another slurm-test holds $state.lock: waiting (at most 5 min)"
		flock -w 300 9 || die "$state.lock still held after 5 min"
	fi
	# shellcheck source=scripts/slurm/cluster-test.sh
	source "$here/cluster-test.sh"
	run_test
	;;
env) echo "export SLURM_CONF=$conf" ;;
on)
	[ $# -ge 3 ] || die "usage: $0 on N CMD..."
	shift
	on "$@"
	;;
lose | revive)
	[ $# -eq 2 ] || die "usage: $0 $1 N"
	"$1" "$2"
	;;
*)
	echo "usage: $0 up|down|test|env|on N CMD...|lose N|revive N" >&2
	exit 2
	;;
esac
