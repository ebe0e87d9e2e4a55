#!/bin/bash
# dockerd really stopped and started again under load.  The machine's own
# dockerd is never touched: this suite runs a private one (its own data
# root, a shared mount of the suite's own, exec root, pid file, socket,
# containerd namespace and cgroup parent; no bridge, no iptables:
# Hearth's containers have no network),
# loads the two runtime images into it from the machine's dockerd, and
# points a hearthd at it.  Under load it sends that dockerd SIGTERM, waits
# for it to exit, starts it again on the same data root, and checks:
#   - meanwhile calls answer 503 "unavailable" at once, saying what is
#     wrong, and /healthz says Docker is unreachable; no call ever gets a
#     500 (a start cut short as dockerd goes, "transport is closing", is
#     the engine being unavailable, not an internal error);
#   - service resumes by itself, without restarting hearthd;
#   - no ghost is left: /pool ends with no entry that is draining (an
#     entry whose create failed used to stay, without a container id,
#     counted in /metrics and under --max-containers), and the pools fill
#     to min_warm again under a cap that ghosts would eat;
#   - no container is leaked: what the private dockerd runs for this
#     hearthd is what /pool lists, and nothing once hearthd stops.
. "$(dirname "$0")/../lib.sh"
PD="$TEST_TMP/dk"
REAL_SOCK=${HEARTH_REAL_DOCKER_SOCKET:-/var/run/docker.sock}
HEARTH_TEST_DOCKER_SOCKET="$PD/docker.sock"
. "$(dirname "$0")/../integration/exec-common.sh"
. "$(dirname "$0")/faults-common.sh"

command -v dockerd >/dev/null 2>&1 || bail "dockerd is not installed"
for img in hearth/python:latest hearth/node:latest; do
	timeout 30 docker -H "unix://$REAL_SOCK" image inspect "$img" >/dev/null 2>&1 ||
		bail "image $img is missing from the dockerd at $REAL_SOCK: run make images"
done

# ---- the private dockerd ---------------------------------------------------------
PD_PID=
PD_CGROUP=hearth-test-docker-$$	# this run's containers, and no one else's
# Its data root is a mount of this suite's own, made once and kept across
# the restart.  Left to itself, on a machine whose / is not a shared mount
# (this one), dockerd bind-mounts its data root onto itself at start and
# unmounts that at shutdown; but it still answers requests on connections
# already open (hearthd's) after that, until it exits, and a container
# created then has its layers mounted on the folder beneath, where no
# request finishes unmounting them.  The next dockerd's own bind mount hides
# those mounts: it cannot unmount them by their path, nor remove the
# folders they sit on (EBUSY), and the container stays "removing" for
# good.  A data root that is already a shared mount point dockerd leaves
# alone (neither remounts nor unmounts it), so a mount made that late is
# on the path the next dockerd sees, and it unmounts it when it removes the
# container.  The exit trap unmounts it.
pd_mount_root() {
	[ "$(id -u)" = 0 ] || bail "the private dockerd needs root"
	mkdir -p "$PD/root" || return 1
	mount --bind "$PD/root" "$PD/root" && mount --make-shared "$PD/root"
}
# The processes of our containers: those in this run's cgroup parent.
pd_survivors() { cat /sys/fs/cgroup/pids/"$PD_CGROUP"/*/cgroup.procs /sys/fs/cgroup/"$PD_CGROUP"/*/cgroup.procs 2>/dev/null; }
pd_up() { timeout 5 docker -H "unix://$PD/docker.sock" version >/dev/null 2>&1; }
pd_start() {
	mkdir -p "$PD"
	[ -f "$PD/daemon.json" ] || echo '{}' >"$PD/daemon.json"
	dockerd --config-file "$PD/daemon.json" --data-root "$PD/root" --exec-root "$PD/x" \
		--pidfile "$PD/dockerd.pid" -H "unix://$PD/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false \
		--containerd-namespace hearth-test --containerd-plugins-namespace hearth-test-plugins \
		--cgroup-parent "$PD_CGROUP" --shutdown-timeout 2 >>"$PD/dockerd.log" 2>&1 &
	PD_PID=$!
	wait_until 60 pd_up
}
pd_stop() {	# SIGTERM to our dockerd (never another), bounded wait
	[ -n "$PD_PID" ] || return 0
	kill -TERM "$PD_PID" 2>/dev/null
	wait_until 40 eval '! kill -0 "$PD_PID" 2>/dev/null'
	local rc=$?
	[ $rc = 0 ] && wait "$PD_PID" 2>/dev/null
	[ $rc = 0 ] && PD_PID=
	return $rc
}
# Whatever happens, our dockerd and what it left go: containers first
# (while it answers), then the daemon, a containerd it might leave, and
# any mount below our folder, before lib.sh removes the folder.
_pd_exit() {
	local rc=$? p
	hearth_kill9
	for p in "${LOAD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$PD_PID" ] && pd_up; then
		ids=$(dk ps -aq 2>/dev/null)
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	fi
	if [ -n "$PD_PID" ] && ! pd_stop; then
		kill -KILL "$PD_PID" 2>/dev/null
		wait "$PD_PID" 2>/dev/null
	fi
	p=$(cat "$PD/x/containerd/containerd.pid" 2>/dev/null)
	[ -n "$p" ] && grep -q "$PD" "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	# Shims of our containerd that outlive it: those of containers whose
	# start was cut short as dockerd went ("failed to delete failed start
	# container"), which no later containerd knows of.  Only processes whose
	# command line names our containerd's socket.
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-address $PD/x/containerd/containerd.sock " &&
			kill -KILL "${p#/proc/}" 2>/dev/null
	done
	# Ours only: below our folder, the deepest first, the data root's own
	# mount after what is on it.
	findmnt -rn -o TARGET | grep -F "$PD/" | sort -r | while read -r m; do umount -l "$m"; done
	# The cgroups dockerd made under this run's parent (any process still in
	# one is of our containers: killed), and the parent; rmdir removes no
	# cgroup that has a process.
	if [ -n "$(pd_survivors)" ]; then
		pd_survivors | xargs -r kill -KILL 2>/dev/null
		wait_until 5 eval '[ -z "$(pd_survivors)" ]'
	fi
	for p in /sys/fs/cgroup/*/"$PD_CGROUP" /sys/fs/cgroup/"$PD_CGROUP"; do
		[ -d "$p" ] || continue
		find "$p" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		rmdir "$p" 2>/dev/null
	done
	INST=	# nothing of ours is left on the machine's dockerd to look for
	(exit $rc)
	_exec_exit
}
trap _pd_exit EXIT

T0=$(now_ms)
pd_mount_root || bail "cannot make $PD/root a shared mount of its own"
ok "a private dockerd starts (data root $PD/root)" pd_start || {
	tail -20 "$PD/dockerd.log" | sed 's/^/# dockerd: /'
	bail "a private dockerd would not start here"
}
ok "the runtime images load into it" eval \
	'timeout 120 docker -H "unix://$REAL_SOCK" save hearth/python:latest hearth/node:latest |
	 timeout 120 docker -H "unix://$PD/docker.sock" load >/dev/null'
diag "private dockerd up and images loaded in $(($(now_ms) - T0)) ms"

# ---- hearthd on it, under load ---------------------------------------------------------
# A cap of 8: 2 + 1 warm and 2 stem cells fit, with room to spare; ghosts
# left under the cap would keep the pools from filling again.
exec_start --max-containers 8 --stem-cells 1
create_warm P echo-py python "$SRC_ECHO_PY" '{"min_warm":2,"max_concurrency":3}'
create_warm J echo-js node "$SRC_ECHO_JS" '{"min_warm":1,"max_concurrency":2}'
LOAD_TIMEOUT_MS=30000 load_start P 4 "/functions/$P/execute" '{"n":1}' 300
LOAD_TIMEOUT_MS=30000 load_start J 3 "/functions/$J/execute" '{"n":2}' 300
sleep 3
ok "calls succeed before the stop" test "$(metric "hearth_invocations_total{function_id=\"$P\",status=\"success\"}")" -gt 0

# ---- dockerd goes -------------------------------------------------------------------
T_STOP=$(now_ms)
ok "the private dockerd stops on SIGTERM" pd_stop
diag "dockerd stopped in $(($(now_ms) - T_STOP)) ms"
# dockerd stops its containers as it goes, within its shutdown timeout; on
# a loaded machine some outlive it (their containerd shims go on) and keep
# serving warm calls, which is right but not the outage this suite is
# about.  Those are killed here: processes in this run's cgroup parent only.
n=$(pd_survivors | wc -l)
if [ "$n" -gt 0 ]; then
	diag "$n process(es) of the containers outlived dockerd: killed"
	pd_survivors | xargs -r kill -9 2>/dev/null
fi
# Containers it stopped may still be reported gone a moment later; a call
# that finds none answers 503 at once.
call_is_503() { execute "$P" '{"probe":1}' --max-time 10; [ "$STATUS" = 503 ]; }
ok "within 10 s, a call answers 503" wait_until 10 call_is_503 || diag "last: $STATUS $(printf '%s' "$BODY" | head -c 300)"
is_error 503 "a call while dockerd is down" "$PD/docker.sock"
is "$(jqr .error.code)" unavailable "its code is unavailable"
ok "answered at once (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -lt 2000
req GET /healthz
is "$STATUS:$(jqr .docker)" "200:unreachable" "/healthz: Docker unreachable"
sleep 3

# ---- dockerd comes back -----------------------------------------------------------------
T_START=$(now_ms)
ok "the private dockerd starts again on the same data root" pd_start
call_ok() { execute "$1" '{"probe":2}' --max-time 10; [ "$STATUS" = 200 ] && [ "$(jqr .status)" = success ]; }
ok "service resumes by itself: python calls succeed again within 60 s" wait_until 60 call_ok "$P" ||
	diag "last: $(last)"
ok "and node calls" wait_until 30 call_ok "$J" || diag "last: $(last)"
diag "service back $(($(now_ms) - T_START)) ms after dockerd was started again"
sleep 5
load_stop

for l in P J; do
	diag "$l: $(load_statuses "$l") (p50 $(load_field "$l" '.latency_us.p50 / 1000 | round') ms, p99 $(load_field "$l" '.latency_us.p99 / 1000 | round') ms)"
	is "$(load_field "$l" .errors)" 0 "$l: no connection error (hearthd stayed up)"
	bad=$(jq -r '.status | keys - ["200", "503"] | join(",")' "$TEST_TMP/lg.$l.json" 2>/dev/null)
	is "$bad" "" "$l: every answer under load was 200 or 503 (no 500)"
done
ok "the load saw the outage (some 503)" test "$(($(load_field P '.status["503"] // 0') + $(load_field J '.status["503"] // 0')))" -gt 0
ok "hearthd logged no internal error" test -z "$(grep -E -- '-> 500' "$HEARTH_LOG" | head -3)" ||
	diag "$(grep -E -- '-> 500' "$HEARTH_LOG" | head -3)"

# ---- no ghost, no leak ----------------------------------------------------------------------
ghosts() { pool_json | jq '[.containers[] | select(.state == "draining")] | length'; }
ok "within 20 s, /pool has no entry draining (no ghost)" wait_until 20 eval '[ "$(ghosts)" = 0 ]' ||
	diag "/pool: $(ghosts) draining, of $(pool_json | jq '.containers | length'); the first: $(pool_json | jq -c '[.containers[] | select(.state == "draining") | [.container, .function_id, .stem, .age_s]][:5]')"
draining=$(curl -s "$HEARTH_URL/metrics" | awk '/^hearth_containers\{.*state="draining"/ { s += $2 } END { print s + 0 }')
is "$draining" 0 "/metrics counts no draining container"
ok "the pools fill again under --max-containers 8: $P 2 idle, $J 1, stem cells idle" \
	wait_until 30 eval 'pool_has "$P" 2 idle && pool_has "$J" 1 idle && stem_idle python && stem_idle node' ||
	diag "/pool: $(pool_json | jq -c '[.containers[] | [.container, .function_id, .stem, .state]]')"
same_set() {
	[ "$(our_ctrs | sort | tr '\n' ' ')" = \
		"$(pool_json | jq -r '.containers[].container' | grep . | sort | tr '\n' ' ')" ]
}
ok "no container leaked: dockerd runs for this hearthd exactly what /pool lists" wait_until 20 same_set || {
	diag "dockerd: $(our_ctrs | tr '\n' ' '); /pool: $(pool_json | jq -r '.containers[].container' | tr '\n' ' ')"
	# What the engine and hearthd's log say of each one /pool does not list.
	for id in $(our_ctrs); do
		pool_json | jq -e --arg id "$id" '[.containers[].container] | index($id)' >/dev/null && continue
		diag "$id: $(dk inspect -f '{{.State.Status}} created {{.Created}}' "$id" 2>&1)"
		# A layer mount that dockerd cannot see holds the folder: which.
		md=$(dk inspect -f '{{index .GraphDriver.Data "MergedDir"}}' "$id" 2>/dev/null)
		[ -n "$md" ] && grep -F " $md " /proc/self/mountinfo | cut -d' ' -f1-5 |
			while read -r l; do diag "  mounted: $l (mount id, parent id, dev, root, target)"; done
		grep -F "${id:0:12}" "$HEARTH_LOG" | tail -5 | sed "s/^/  log: /" | while read -r l; do diag "$l"; done
	done
}
exec_stop
ok "the private dockerd stops at the end" pd_stop
diag "the whole suite took $(($(now_ms) - T0)) ms (images included)"
done_testing
