# shellcheck shell=bash
# `scripts/slurm/cluster.sh test` (make slurm-test): four jobs of
# scripts/slurm/authbench.sbatch on the three-node cluster, three of them
# with the WFS on node1 and a loader on each of node2 and node3, one
# after the other, and their checks:
#
#   three-node  three-node.yaml (smoke's load, its jobs half on a
#               shared_fs: false install target): COMPLETED 0:0, the contact
#               file names node1, the shards ran on node2 and node3 and add up
#               to 200 CLI commands and 150 job messages with no errors, each
#               loader installed shipped job files, the WFS step was stopped
#               by scancel --signal=TERM, REPORT.md.
#   one-node    smoke, -N1 -n3 --overcommit on node1: the recipe's one-node
#               placement; COMPLETED 0:0 and smoke's counts.
#   killed-wfs  long.yaml, the WFS killed (SIGKILL) 3 s into the run: the job
#               fails saying so, the loaders are stopped and both shards'
#               results.json are kept, marked partial, and REPORT.md names both
#               shards partial.
#   lost-node   long.yaml, node3 lost 3 s into the run (its link down, every
#               process on it killed): Slurm marks it down, the loader on node2
#               finishes, the job fails naming shard 1/2 missing, and REPORT.md
#               has the Missing shards line.
#
# Sourced by cluster.sh, whose functions and settings it uses.

# submit NAME VAR=VALUE... [-- SBATCH_OPTION...]: sbatch the recipe (on
# three nodes unless options say otherwise), its output in $out/NAME;
# prints the job id.
submit() {
	local name=$1 id vars=() opts=(-N3)
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ $# -eq 0 ] || { shift; opts=("$@"); }
	local env
	env=$(
		IFS=,
		echo "${vars[*]}"
	)
	mkdir -p "$out/$name"
	id=$(cd "$repo" && sbatch --parsable "${opts[@]}" --time=5 \
		--job-name="authbench-$name" --output="$out/$name/job.out" \
		--export=ALL,AUTHBENCH="$repo/bin/authbench",OUT="$out/$name",LOAD_TIMEOUT=120,LOAD_STOP_TIMEOUT=90,"$env" \
		scripts/slurm/authbench.sbatch) || die "sbatch ($name) failed"
	echo "${id%%;*}"
}

# finished ID: whether job ID has ended (its state is a final one).
finished() {
	case $(job_state "$1") in
	COMPLETED* | FAILED* | CANCELLED* | TIMEOUT* | NODE_FAIL* | OUT_OF_MEMORY* | PREEMPTED* | BOOT_FAIL* | DEADLINE*) return 0 ;;
	esac
	return 1
}

# await ID NAME: wait for job ID (at most JOB_TIMEOUT s), show its output,
# and set st to its final "STATE EXIT".
await() {
	local id=$1 name=$2
	if ! wait_for "$JOB_TIMEOUT" finished "$id"; then
		scancel "$id" || true
		tail -n 30 "$out/$name/job.out" >&2 || true
		die "$name: job $id not done within $JOB_TIMEOUT s (state: $(job_state "$id"); its output above)"
	fi
	st=$(job_state "$id")
	echo "--- $name: job $id output ($out/$name/job.out) ---"
	cat "$out/$name/job.out"
	echo "--- end of $name's job output: $st ---"
}

# loaders_running ID: whether job ID's loader step is running (squeue -s
# lists a job's running steps).
loaders_running() {
	squeue -h -s -j "$1" -o '%j' 2>/dev/null | grep -qx authbench-load
}

# counts FILE...: the shards' summed CLI commands and job messages with
# their errors, of every kind ("cli.command_total=200/0 job.message=150/0").
counts() {
	jq -s -r '[.[].results[].ops[]] as $ops
		| [("cli.command_total", "job.message") as $op
		   | [$ops[] | select(.op == $op)]
		   | "\($op)=\(map(.count) | add // 0)/\(map(.errors // {} | [.[]] | add // 0) | add // 0)"] | join(" ")' "$@"
}

# expect NAME WHAT CMD...: CMD must succeed, else NAME failed for WHAT.
expect() {
	local name=$1 what=$2
	shift 2
	"$@" >/dev/null 2>&1 || die "$name: $what"
}

check_three_node() {
	local id=$1 d=$out/three-node got f n
	[ "$st" = "COMPLETED 0:0" ] || die "three-node: job $id ended $st, want COMPLETED 0:0"
	expect three-node "the job's output lacks the done line" grep -q '^authbench.sbatch: done' "$d/job.out"
	expect three-node "the contact file does not name node1 (want AUTHBENCH_ENDPOINT=tcp://node1:PORT in the job's output)" \
		grep -q 'AUTHBENCH_ENDPOINT=tcp://node1:' "$d/job.out"
	expect three-node "the WFS step was not stopped by scancel --signal=TERM (the recipe fell back)" \
		not grep -q 'scancel did not signal' "$d/job.out"
	expect three-node "the job's output lacks 'WFS stopped'" grep -q 'WFS stopped' "$d/job.out"
	[ -s "$d/REPORT.md" ] || die "three-node: $d/REPORT.md missing or empty"
	for f in "$d/shard-0/results.json" "$d/shard-1/results.json"; do
		[ -s "$f" ] || die "three-node: $f missing"
	done
	got=$(jq -r '.shard.node' "$d"/shard-*/results.json | sort | paste -sd, -)
	[ "$got" = node2,node3 ] || die "three-node: the shards ran on $got, want node2,node3"
	got=$(jq -r '.shard.server | sub(":[0-9]+$"; "")' "$d"/shard-*/results.json | sort -u | paste -sd, -)
	[ "$got" = node1 ] || die "three-node: the shards' WFS was on $got, want node1"
	# Files the loader itself created beyond the WFS's: the job files
	# shipped to its copy of the shared_fs: false target (0 when every
	# target shares the WFS's file system).
	for f in "$d"/shard-*/results.json; do
		n=$(jq '.results[0] | .files.created - .server_files.created' "$f")
		[ "$n" -gt 0 ] || die "three-node: $f: the loader installed no shipped job files (files created beyond the WFS's: $n)"
	done
	got=$(counts "$d"/shard-*/results.json) || die "three-node: cannot read the shards' results.json"
	[ "$got" = "cli.command_total=200/0 job.message=150/0" ] ||
		die "three-node: want cli.command_total=200/0 job.message=150/0 across the shards, got: $got"
	say "three-node: COMPLETED; WFS on node1, loaders on node2 and node3; $got; shipped job files installed by both loaders; WFS stopped by scancel --signal=TERM"
}

check_killed_wfs() {
	local id=$1 d=$out/killed-wfs f got
	[ "$st" = "FAILED 1:0" ] || die "killed-wfs: job $id ended $st, want FAILED 1:0"
	expect killed-wfs "the job's output does not say the WFS step exited while the loaders ran" \
		grep -q 'error: the WFS step exited .* while the loaders ran' "$d/job.out"
	for f in "$d/shard-0/results.json" "$d/shard-1/results.json"; do
		[ -s "$f" ] || die "killed-wfs: $f missing: a stopped loader's partial results were not kept"
		[ "$(jq -r .partial "$f")" = true ] || die "killed-wfs: $f is not marked partial"
	done
	expect killed-wfs "the job's output does not name both shards partial" \
		grep -q 'shards: complete none; partial 0/2 1/2; missing none' "$d/job.out"
	expect killed-wfs "the job's last error does not name the partial shards" \
		grep -q 'error: the WFS step exited .*; shard(s) 0/2 1/2 are partial' "$d/job.out"
	[ -s "$d/REPORT.md" ] || die "killed-wfs: $d/REPORT.md missing or empty"
	for f in 0/2 1/2; do
		expect killed-wfs "REPORT.md does not name shard $f partial" \
			grep -q "^\*\*Partial run\*\*: .*-shard $f " "$d/REPORT.md"
	done
	[ "$(cat "$d/status" 2>/dev/null)" = "exit 1" ] || die "killed-wfs: $d/status is not 'exit 1'"
	got=$(counts "$d"/shard-*/results.json) || die "killed-wfs: cannot read the shards' results.json"
	say "killed-wfs: FAILED as it should; both shards kept, partial ($got), named partial in REPORT.md; $(grep -o 'loaders stopped in [0-9]* s' "$d/job.out" || echo 'loaders stopped')"
}

check_lost_node() {
	local id=$1 d=$out/lost-node got
	[ "$st" = "FAILED 1:0" ] || die "lost-node: job $id ended $st, want FAILED 1:0"
	expect lost-node "srun did not report node3's failure" grep -q 'Node failure on node3' "$d/job.out"
	expect lost-node "the job's output does not name shard 1/2 missing" \
		grep -q 'shard(s) 1/2 did not report' "$d/job.out"
	[ -s "$d/shard-0/results.json" ] || die "lost-node: node2's shard-0/results.json missing"
	[ ! -e "$d/shard-1/results.json" ] || die "lost-node: node3's shard-1/results.json exists"
	[ "$(jq -r '.partial // false' "$d/shard-0/results.json")" = false ] || die "lost-node: node2's shard is partial, want it complete"
	[ "$(jq -r .shard.node "$d/shard-0/results.json")" = node2 ] || die "lost-node: shard 0 did not run on node2"
	[ -s "$d/REPORT.md" ] || die "lost-node: $d/REPORT.md missing or empty"
	expect lost-node "REPORT.md lacks the line '**Missing shards**: 1/2'" grep -q '^\*\*Missing shards\*\*: 1/2 ' "$d/REPORT.md"
	got=$(counts "$d/shard-0/results.json") || die "lost-node: cannot read shard-0/results.json"
	say "lost-node: FAILED as it should; node3 marked $(sinfo -h -n node3 -o %T), shard 0/2 complete on node2 ($got), REPORT.md: $(grep -o '^\*\*Missing shards\*\*: 1/2' "$d/REPORT.md")"
}

check_one_node() {
	local id=$1 d=$out/one-node got
	[ "$st" = "COMPLETED 0:0" ] || die "one-node: job $id ended $st, want COMPLETED 0:0"
	[ -s "$d/REPORT.md" ] || die "one-node: $d/REPORT.md missing or empty"
	got=$(jq -r '.shard.node' "$d"/shard-*/results.json | sort | paste -sd, -)
	[ "$got" = node1,node1 ] || die "one-node: the shards ran on $got, want node1,node1"
	got=$(counts "$d"/shard-*/results.json) || die "one-node: cannot read the shards' results.json"
	[ "$got" = "cli.command_total=200/0 job.message=150/0" ] ||
		die "one-node: want cli.command_total=200/0 job.message=150/0 across the shards, got: $got"
	say "one-node: COMPLETED; WFS and both loaders on node1 (-N1 -n3 --overcommit -w node1); $got"
}

not() { ! "$@"; }

run_test() {
	need_root test
	local t0=$SECONDS t id
	out=${AUTHBENCH_SLURM_OUT:-$repo/out/slurm-test}
	rm -rf "$out"
	mkdir -p "$out"
	install
	if ! all_alive; then
		trap test_exit EXIT
		up
	elif ! nodes_idle; then
		die "the cluster is up but its nodes are not all idle: $(SLURM_CONF=$conf sinfo -h -N -o '%N %T' | paste -sd, -) (cluster.sh down, then again)"
	fi
	# Options for another cluster (inside a job, or SBATCH_PARTITION and
	# the like) must not reach this one's sbatch.
	# shellcheck disable=SC2046
	unset $(compgen -e | grep -E '^(SLURM_|SBATCH_|SRUN_|SALLOC_)') 2>/dev/null || true
	export SLURM_CONF=$conf
	(cd "$repo" && "${GO:-go}" build -o bin/authbench ./cmd/authbench) || die "go build failed"

	t=$SECONDS
	id=$(submit three-node SCHEME=jwt:job=file SCENARIO="$here/three-node.yaml")
	say "three-node: job $id submitted"
	await "$id" three-node
	check_three_node "$id"
	local t_three=$((SECONDS - t))

	t=$SECONDS
	id=$(submit one-node SCENARIO=smoke -- -N1 -n3 --overcommit -w node1)
	say "one-node: job $id submitted"
	await "$id" one-node
	check_one_node "$id"
	local t_one=$((SECONDS - t))

	t=$SECONDS
	id=$(submit killed-wfs SCHEME=jwt:job=file SCENARIO="$here/long.yaml")
	say "killed-wfs: job $id submitted; killing its WFS 3 s after its loaders start"
	wait_for 60 loaders_running "$id" || die "killed-wfs: job $id's loaders did not start within 60 s"
	sleep 3
	local c=$out/killed-wfs/run/.service/contact pid
	pid=$(sed -n 's/^CYLC_WORKFLOW_PID=//p' "$c")
	[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = authbench ] ||
		die "killed-wfs: no running WFS at the pid ${pid:-?} its contact file $c names"
	kill -KILL "$pid"
	say "killed-wfs: SIGKILL to the WFS (pid $pid on $(sed -n 's/^CYLC_WORKFLOW_HOST=//p' "$c"))"
	await "$id" killed-wfs
	check_killed_wfs "$id"
	local t_killed=$((SECONDS - t))

	t=$SECONDS
	id=$(submit lost-node SCHEME=jwt:job=file SCENARIO="$here/long.yaml")
	say "lost-node: job $id submitted; losing node3 3 s after its loaders start"
	wait_for 60 loaders_running "$id" || die "lost-node: job $id's loaders did not start within 60 s"
	sleep 3
	lose 3
	await "$id" lost-node
	check_lost_node "$id"
	revive 3
	local t_lost=$((SECONDS - t))

	echo "slurm-test: 3 nodes (network namespaces), WFS on node1, loaders on node2 and node3: three-node COMPLETED (${t_three} s), one-node COMPLETED (${t_one} s), killed-wfs FAILED with partial shards named (${t_killed} s), lost-node FAILED with 'Missing shards: 1/2' (${t_lost} s); $out ($((SECONDS - t0)) s)"
	if [ "$(trap -p EXIT)" ]; then
		trap - EXIT
		down
	fi
}

# test_exit: on test's way out, a cluster it brought up goes down; after a
# failure, the daemons' logs are kept beside the jobs' output first.
test_exit() {
	local rc=$?
	if [ $rc -ne 0 ] && [ -d "$state/log" ]; then
		cp -r "$state/log" "$out/cluster-log" 2>/dev/null || true
		say "the cluster's logs are in $out/cluster-log"
	fi
	down quiet
	exit $rc
}
