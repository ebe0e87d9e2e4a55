#!/bin/bash
# Asynchronous calls do not starve synchronous ones, on a real hearthd and
# dockerd: with 1,000 async calls of a function queued (30 ms each), a
# synchronous call of the same function is answered about as fast as the
# next container comes free, not after the backlog (which takes seconds);
# async attempts hold at most half of the function's max_concurrency;
# the backlog still drains, every call once; and with one container, a
# synchronous call waits only for the attempt in hand.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start

metric() {	# NAME FID: a sample's value (0 when absent)
	curl -s --max-time 5 "$HEARTH_URL/metrics" |
		awk -v m="$1{function_id=\"$2\"}" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}
SRC=$'import time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"n": event.get("n")}\n'
# max_concurrency 6: async attempts may hold 3 containers at once.
create_warm F busy python "$SRC" '{"max_concurrency":6}'

# A baseline: synchronous calls with nothing queued.
BASE=()
for i in 1 2 3 4 5; do
	execute "$F" '{"n":-1}'
	BASE+=("$ELAPSED_MS")
done
diag "synchronous calls, idle function: ${BASE[*]} ms"

# The 10 batches are written first (one python3), then sent back to back:
# made one at a time they took seconds on a busy machine (an ASan pass),
# and the backlog had half drained before it was looked at.
python3 -c 'import json, sys
d = sys.argv[1]; f = int(sys.argv[2])
for b in range(10):
    with open("%s/batch-%d.json" % (d, b), "w") as out:
        json.dump({"invocations": [{"function_id": f, "payload": {"n": b * 100 + i, "sleep": 0.03}} for i in range(100)]}, out)' "$TEST_TMP" "$F"
T0=$(now_ms)
QUEUED=0
for b in $(seq 0 9); do
	req POST "/functions/execute?async=1" -H 'Content-Type: application/json' \
		--data-binary @"$TEST_TMP/batch-$b.json"
	[ "$STATUS" = 202 ] && QUEUED=$((QUEUED + $(jqr '[.results[] | select(.status == "queued")] | length')))
done
is "$QUEUED" 1000 "1,000 async calls queued (10 batches of 100, $(($(now_ms) - T0)) ms)"
BEFORE=$(metric hearth_async_queued "$F")
ok "a backlog is waiting ($BEFORE queued)" test "$BEFORE" -ge 500

LAT=()
RUNNING_MAX=0
for i in $(seq 1 10); do
	execute "$F" "{\"n\":-$i}"
	is "$STATUS:$(jqr .status)" "200:success" "synchronous call $i during the backlog" || diag "$(last)"
	LAT+=("$ELAPSED_MS")
	r=$(metric hearth_async_running "$F")
	[ "$r" -gt "$RUNNING_MAX" ] && RUNNING_MAX=$r
	sleep 0.1
done
AFTER=$(metric hearth_async_queued "$F")
diag "synchronous calls during the backlog: ${LAT[*]} ms (async queued: $BEFORE before, $AFTER after)"
MAX=$(printf '%s\n' "${LAT[@]}" | sort -n | tail -1)
ok "no synchronous call waited for the backlog (slowest $MAX ms, under 1,000)" test "$MAX" -lt 1000
ok "the backlog was still there after them ($AFTER queued)" test "$AFTER" -ge 100
ok "async attempts held at most 3 of max_concurrency 6 (saw $RUNNING_MAX)" test "$RUNNING_MAX" -le 3

ok "the backlog drains" wait_until 120 eval '[ "$(metric hearth_async_queued "$F")" = 0 ] && [ "$(metric hearth_async_running "$F")" = 0 ]'
DONE=$(curl -s --max-time 5 "$HEARTH_URL/metrics" |
	awk -v m="hearth_async_attempts_total{function_id=\"$F\",status=\"success\"}" '$1 == m { print $2 }')
is "$DONE" 1000 "every async call succeeded, with one attempt each"
diag "1,000 async calls drained in $(($(now_ms) - T0)) ms"

# One container only (max_concurrency 1): async attempts hold it in turn,
# and a synchronous call takes it as soon as the attempt in hand ends,
# before any other attempt.
create_warm G single python "$SRC" '{"max_concurrency":1}'
body=$(python3 -c 'import json, sys
print(json.dumps({"invocations": [{"function_id": int(sys.argv[1]), "payload": {"n": i, "sleep": 0.1}} for i in range(100)]}))' "$G")
req_json POST "/functions/execute?async=1" "$body"
is "$STATUS" 202 "100 async calls of 100 ms queued for a function of one container"
ok "they are running" wait_until 10 eval '[ "$(metric hearth_async_running "$G")" = 1 ]'
LAT=()
for i in 1 2 3 4 5; do
	execute "$G" "{\"n\":-$i}"
	is "$STATUS:$(jqr .status)" "200:success" "synchronous call $i of the one-container function" || diag "$(last)"
	LAT+=("$ELAPSED_MS")
	sleep 0.15
done
diag "synchronous calls sharing one container with the backlog: ${LAT[*]} ms"
MAX=$(printf '%s\n' "${LAT[@]}" | sort -n | tail -1)
ok "each waited at most for the attempt in hand (slowest $MAX ms, under 600)" test "$MAX" -lt 600
ok "the backlog is still there ($(metric hearth_async_queued "$G") queued)" test "$(metric hearth_async_queued "$G")" -ge 40

exec_stop
DB="$HEARTH_DATA/hearth.db"
command -v sqlite3 >/dev/null 2>&1 || bail "the sqlite3 CLI is not installed"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE function_id = $F AND status = 'succeeded' AND attempts = 1")" 1000 \
	"the store agrees: 1,000 succeeded, one attempt each"
done_testing
