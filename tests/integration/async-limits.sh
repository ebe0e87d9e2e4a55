#!/bin/bash
# The async queue's bounds and a function's deletion, on a real hearthd
# and dockerd: with --async-queue-max 5 and --async-queue-total 8, a call
# beyond either bound is refused with 429 (a JSON error naming the bound,
# Retry-After), in the batch too, and counted in /metrics; deleting a
# function drops its queued calls (and frees their room), its dead
# letters and its attempts, while an attempt it had running ends
# unrecorded.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start --async-queue-max 5 --async-queue-total 8

aexec() { req_json POST "/functions/$1/execute?async=1" "$2"; }	# FID JSON
call_is() {	# ID JQ VALUE
	[ "$(curl -s --max-time 5 "$HEARTH_URL/invocations/$1" | jq -r "$2" 2>/dev/null)" = "$3" ]
}
metrics() { curl -s --max-time 5 "$HEARTH_URL/metrics"; }

SRC=$'import time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    if event.get("fail"):\n        raise RuntimeError("no")\n    return event\n'
# max_concurrency 2: one attempt at a time, each 20 s, so the queue stays put.
create_warm A slow-a python "$SRC" '{"timeout":30,"max_concurrency":2}'
create_warm B slow-b python "$SRC" '{"timeout":30,"max_concurrency":2,"async_retries":0}'

AIDS=()
for i in 1 2 3 4 5; do
	aexec "$A" '{"sleep":20}'
	is "$STATUS" 202 "slow-a: call $i of 5 is queued" || diag "$(last)"
	AIDS+=("$(jqr .id)")
done
ok "slow-a's first call is running" wait_until 10 call_is "${AIDS[0]}" .status running
aexec "$A" '{"sleep":20}'
is_error 429 "a sixth call of slow-a (--async-queue-max 5)" "--async-queue-max"
is "$(header Retry-After)" 1 "with Retry-After"

BIDS=()
for i in 1 2 3; do
	aexec "$B" '{"sleep":20}'
	is "$STATUS" 202 "slow-b: call $i is queued (8 in all)" || diag "$(last)"
	BIDS+=("$(jqr .id)")
done
aexec "$B" '{}'
is_error 429 "a ninth call over every function (--async-queue-total 8)" "--async-queue-total"
req_json POST "/functions/execute?async=1" "{\"invocations\":[{\"function_id\":$B},{\"function_id\":$A}]}"
is "$STATUS" 202 "a batch beyond the bounds still answers 202" || diag "$(last)"
is "$(jqr '[.results[].error.status] | @csv')" '429,429' "with 429 for each item"
is "$(jqr '[.results[].error.code] | @csv')" '"throttled","throttled"' "  code throttled"
M=$(metrics)
like "$M" "hearth_async_rejected_total{function_id=\"$A\"} 2" "metrics: 2 refused for slow-a"
like "$M" "hearth_async_rejected_total{function_id=\"$B\"} 2" "metrics: 2 refused for slow-b"
like "$M" "hearth_async_queued{function_id=\"$A\"} 4" "4 of slow-a queued"
like "$M" "hearth_async_running{function_id=\"$A\"} 1" "1 of slow-a running"

# ---- deleting a function drops its queue -------------------------------------------------
# A third function, to make a dead letter of its own.
create_warm C failing python "$SRC" '{"async_retries":0}'
req DELETE "/functions/$A"
is "$STATUS" 204 "delete slow-a"
for id in "${AIDS[@]}"; do
	req GET "/invocations/$id"
	[ "$STATUS" = 404 ] || break
done
is "$STATUS" 404 "every call of slow-a answers 404 (the running one too)"
M=$(metrics)
ok "metrics no longer list slow-a" test "$(printf '%s' "$M" | grep -c "function_id=\"$A\"")" = 0
aexec "$C" '{"fail":1}'
is "$STATUS" 202 "slow-a's room is free again: a call of a third function is queued" || diag "$(last)"
CID=$(jqr .id)
ok "it fails for good (async_retries 0)" wait_until 30 call_is "$CID" .status failed
req GET "/functions/$C/dead-letters"
is "$(jqr '.dead_letters | length')" 1 "a dead letter of it"
req DELETE "/functions/$C"
is "$STATUS" 204 "delete it"
req GET "/invocations/$CID"
is "$STATUS" 404 "its dead letter is gone"
req GET "/functions/$C/dead-letters"
is "$STATUS" 404 "and its dead-letter list"

# slow-b's calls are still there, and room is per function: 2 more fit.
ok "slow-b's queue is untouched" call_is "${BIDS[2]}" .status queued
for i in 1 2; do
	aexec "$B" '{"sleep":20}'
	is "$STATUS" 202 "slow-b: call $((3 + i)) of 5" || diag "$(last)"
done
aexec "$B" '{"sleep":20}'
is_error 429 "and a sixth is refused" "--async-queue-max"
req DELETE "/functions/$B"
is "$STATUS" 204 "delete slow-b (one attempt running, four queued)"
for id in "${BIDS[@]}"; do
	req GET "/invocations/$id"
	[ "$STATUS" = 404 ] || break
done
is "$STATUS" 404 "every call of slow-b is gone"

exec_stop
DB="$HEARTH_DATA/hearth.db"
command -v sqlite3 >/dev/null 2>&1 || bail "the sqlite3 CLI is not installed"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM async_calls')" 0 "the store holds no async call"
is "$(sqlite3 "$DB" 'SELECT count(*) FROM async_attempts')" 0 "and no attempt"
done_testing
