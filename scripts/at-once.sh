#!/usr/bin/env bash
# at-once.sh CMD...: run each command (a shell command line) at once, wait
# for all, and exit non-zero naming every command that failed. On SIGINT or
# SIGTERM every command still running gets SIGTERM (authbench exits within
# seconds and stops its WFS processes), and the script exits 130/143.
# make report runs the design review's site-rate scenarios with it: their
# requests arrive one at a time into sleeping servers, so the machine is
# mostly idle and the runs share it without queueing each other's requests.
set -u
pids=()
cmds=()
stop() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait
	exit "$1"
}
trap 'stop 130' INT
trap 'stop 143' TERM
for c in "$@"; do
	echo "$c"
	bash -c "$c" &
	pids+=("$!")
	cmds+=("$c")
done
rc=0
for i in "${!pids[@]}"; do
	if ! wait "${pids[$i]}"; then
		echo "at-once.sh: failed: ${cmds[$i]}" >&2
		rc=1
	fi
done
exit "$rc"
