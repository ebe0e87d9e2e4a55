#!/bin/bash
# Asynchronous calls across a crash and a restart, on a real hearthd and
# dockerd: 200 calls queued, hearthd killed with SIGKILL while they drain,
# started again: every one of the 200 is recorded exactly once as a
# success (one successful attempt per call, from the API and from the
# store), none that succeeded ran again, and those running at the crash
# ran again.  Then a SIGTERM while another backlog drains: the calls wait
# for the next hearthd, and the shutdown costs none of them an attempt.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

command -v sqlite3 >/dev/null 2>&1 || bail "the sqlite3 CLI is not installed"
DB="$HEARTH_DATA/hearth.db"

metric() {	# NAME{LABELS}: a sample's value (0 when absent)
	curl -s --max-time 5 "$HEARTH_URL/metrics" |
		awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}
queue_batch() {	# FID FIRST COUNT SLEEP: ids appended to $TEST_TMP/ids
	local body
	body=$(python3 -c 'import json, sys
f, first, n, s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
print(json.dumps({"invocations": [{"function_id": f, "payload": {"n": first + i, "sleep": s}} for i in range(n)]}))' "$@")
	req_json POST "/functions/execute?async=1" "$body"
	[ "$STATUS" = 202 ] || { diag "$(last)"; return 1; }
	jqr '.results[].id' >>"$TEST_TMP/ids"
}
# succeeded_once FILE: how many ids of the file the API shows succeeded
# with exactly one successful attempt.
succeeded_once() {
	local id n=0
	while read -r id; do
		[ "$(curl -s --max-time 5 "$HEARTH_URL/invocations/$id" |
			jq -r '[.status, ([.attempts[] | select(.status == "success")] | length)] | @csv')" = '"succeeded",1' ] &&
			n=$((n + 1))
	done <"$1"
	echo "$n"
}

all_succeeded() {
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status != 'succeeded'")" = 0 ]
}

exec_start
SRC=$'import time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"n": event["n"]}\n'
# max_concurrency 4: two attempts at a time, 20 ms each: about 2 s for 200.
create_warm F echo python "$SRC" '{"max_concurrency":4}'
OK_SUCCESS="hearth_async_attempts_total{function_id=\"$F\",status=\"success\"}"

: >"$TEST_TMP/ids"
queue_batch "$F" 0 100 0.02 && queue_batch "$F" 100 100 0.02
is "$(grep -c . "$TEST_TMP/ids")" 200 "200 calls queued"
ok "some succeed" wait_until 30 eval '[ "$(metric "$OK_SUCCESS")" -ge 20 ]'
hearth_kill9
DONE_BEFORE=$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'succeeded'")
LEFT=$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status IN ('queued', 'running')")
ok "killed with SIGKILL midway: $DONE_BEFORE succeeded, $LEFT left" \
	test "$DONE_BEFORE" -ge 20 -a "$LEFT" -ge 1 -a $((DONE_BEFORE + LEFT)) = 200
RUNNING=$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'running'")
diag "calls running at the crash: $RUNNING"
sqlite3 "$DB" "SELECT id FROM async_calls WHERE status = 'succeeded'" | sort >"$TEST_TMP/done-before"

exec_start
ok "after the restart, the rest drain" wait_until 60 all_succeeded
is "$(succeeded_once "$TEST_TMP/ids")" 200 "each of the 200 recorded exactly once as a success (API)"
is "$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT call_id FROM async_attempts WHERE status = 'success' GROUP BY call_id HAVING count(*) = 1)")" 200 \
	"the store: 200 calls with one successful attempt each"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_attempts WHERE status = 'success'")" 200 \
	"and no other successful attempt"
# No call that had succeeded before the crash got another attempt.
AGAIN=$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE attempts != 1")
is "$AGAIN" 0 "no call was attempted twice (the crash cut attempts short; none was counted)"
# An attempt's invocation record is written after its outcome is
# committed: no record of a success may lack its attempt in the store.
# (The records themselves are read through the API: they are kept in
# batches, src/invoke/records.c.)
success_records() {	# the ids of $F's records of a success, every page
	local before="" page
	while :; do
		page=$(curl -fsS --max-time 10 "$HEARTH_URL/functions/$F/invocations?limit=1000${before:+&before=$before}") ||
			return 1
		printf '%s' "$page" | jq -r '.invocations[] | select(.status == "success") | .id'
		before=$(printf '%s' "$page" | jq -r '.next // empty')
		[ -n "$before" ] || return 0
	done
}
success_records | sort >"$TEST_TMP/success-records"
sqlite3 "$DB" "SELECT request_id FROM async_attempts" | sort >"$TEST_TMP/attempts"
is "$(comm -23 "$TEST_TMP/success-records" "$TEST_TMP/attempts" | wc -l)" 0 \
	"every invocation record of a success has its attempt recorded in the store"
RECS=$(wc -l <"$TEST_TMP/success-records")
ok "(there are such records: $RECS)" test "$RECS" -ge 20
grep -q "were running when hearthd stopped" "$HEARTH_LOG" &&
	diag "$(grep "were running when hearthd stopped" "$HEARTH_LOG")"
is "$(comm -23 "$TEST_TMP/done-before" <(sqlite3 "$DB" "SELECT id FROM async_calls WHERE status = 'succeeded' AND finished_at IS NOT NULL" | sort) | wc -l)" 0 \
	"every call that succeeded before the crash is still recorded"

# ---- SIGTERM while a backlog drains ------------------------------------------------------
: >"$TEST_TMP/ids"
queue_batch "$F" 1000 100 0.05
OK_NOW=$(metric "$OK_SUCCESS")
ok "the second backlog starts" wait_until 30 eval '[ "$(metric "$OK_SUCCESS")" -ge $((OK_NOW + 10)) ]'
hearth_stop
LEFT=$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'queued'")
ok "stopped with SIGTERM midway: $LEFT calls wait" test "$LEFT" -ge 1
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'running'")" 0 \
	"none is left running (the drain let attempts end, or put them back)"
exec_start
ok "the next hearthd runs them" wait_until 60 all_succeeded
is "$(succeeded_once "$TEST_TMP/ids")" 100 "each of the 100 succeeded once"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_attempts WHERE status != 'success'")" 0 \
	"the shutdown cost no call an attempt"
exec_stop
done_testing
