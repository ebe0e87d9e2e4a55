#!/bin/bash
# A container's processes stopped (SIGSTOP, sent from the host) in the
# middle of a call, on a real hearthd and dockerd.  First the runtime (the
# python process the shim runs; found from the host with docker top): the
# shim's deadline kills it and answers 504.  Then the whole container,
# shim included: nothing inside answers any more, and hearthd's own
# backstop answers 504 at the deadline.  Either way the container is
# recycled (removed; it never serves again) and a fresh one serves the
# next call.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../integration/exec-common.sh"
. "$(dirname "$0")/faults-common.sh"

SLEEPY=$'import time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"slept": event.get("sleep", 0)}\n'
TIMEOUT_S=2

exec_start
create_warm T sleepy python "$SLEEPY" "{\"timeout\":$TIMEOUT_S,\"min_warm\":1,\"max_concurrency\":1}"

all_stopped() {	# PID...: every one is stopped
	local p
	for p in "$@"; do
		grep -q '^State:[[:space:]]*T' "/proc/$p/status" || return 1
	done
}

# stop_mid_call WHAT: a call that sleeps 1 s (well within its 2 s); while it
# runs, SIGSTOP what WHAT names in its container (runtime: the python
# process; all: every process, the shim too).  Then the call's answer, the
# container's recycling and the next call on a fresh container.
stop_mid_call() {
	local what=$1 cid full pids t0 t1 code
	cid=$(pool_ids "$T" idle | head -1)
	[ -n "$cid" ] || { _tap_result 1 "$what: an idle container to start with"; return; }
	t0=$(now_ms)
	curl -s --max-time 20 -o "$TEST_TMP/$what.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary '{"sleep":1}' \
		"$HEARTH_URL/functions/$T/execute" >"$TEST_TMP/$what.code" &
	local call=$!
	ok "$what: the call is running on $cid" wait_until 5 eval '[ "$(pool_count "$T" busy)" = 1 ]'
	full=$(dk inspect -f '{{.Id}}' "$cid")
	case $what in
	runtime) pids=$(dk top "$full" -eo pid,args | awk 'NR > 1 && /bootstrap/ { print $1 }') ;;
	all) pids=$(dk top "$full" -eo pid | awk 'NR > 1 { print $1 }') ;;
	esac
	diag "$what: host pids $(echo $pids) of $cid: $(dk top "$full" -eo pid,args | awk 'NR > 1' | tr -s ' ' | tr '\n' ';')"
	ok "$what: found from the host" test -n "$pids"
	# Only processes of this container: their cgroup names it.
	for p in $pids; do
		grep -q "$full" "/proc/$p/cgroup" && kill -STOP "$p"
	done
	ok "$what: stopped (state T)" wait_until 2 all_stopped $pids
	wait "$call"
	t1=$(now_ms)
	code=$(cat "$TEST_TMP/$what.code")
	is "$code:$(jq -r .status "$TEST_TMP/$what.body")" "504:timeout" "$what: the call answers 504, status timeout"
	ok "$what: at its deadline ($((t1 - t0)) ms for a ${TIMEOUT_S} s timeout)" \
		test $((t1 - t0)) -ge $((TIMEOUT_S * 1000 - 100)) -a $((t1 - t0)) -le $((TIMEOUT_S * 1000 + 1500))
	ok "$what: its container is recycled (gone from /pool and from docker)" \
		wait_until 15 eval '! pool_ids "$T" | grep -qx "$cid" && ctrs_gone "$cid"'
	execute "$T" '{"sleep":0}'
	is "$STATUS:$(jqr .status)" "200:success" "$what: the next call succeeds"
	ok "$what: on a fresh container" test -n "$(pool_ids "$T")" -a "$(pool_ids "$T" | head -1)" != "$cid"
	ok "$what: which comes up idle again" wait_until 15 pool_has "$T" 1 idle
}

stop_mid_call runtime
stop_mid_call all
req GET /metrics
ok "/metrics counts both timeouts" \
	test "$(printf '%s\n' "$BODY" | awk -v m="hearth_invocations_total{function_id=\"$T\",status=\"timeout\"}" '$1 == m { print $2 }')" = 2
exec_stop
done_testing
