#!/bin/bash
# A full disk under the data dir, on a real hearthd and dockerd.  The data
# dir is a small tmpfs of its own (unmounted by the exit trap, whatever
# happens); once a file fills it:
#   - writes fail with 507 and a JSON error "insufficient_storage" that
#     says the disk is full: a create (the code store), an update and saved
#     test events (SQLite), an async call (SQLite);
#   - reads and warm calls keep working; the records that cannot be
#     written are dropped, counted in /metrics and logged, and hearthd
#     does not crash;
# and when the space comes back nothing is corrupt (PRAGMA
# integrity_check, every function readable with its code, no temporary
# code folder left) and writes work again, records too.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../integration/exec-common.sh"
. "$(dirname "$0")/faults-common.sh"

[ "$(id -u)" = 0 ] || bail "mounting a tmpfs needs root"
HEARTH_DATA="$TEST_TMP/small"
DB="$HEARTH_DATA/hearth.db"
mkdir -p "$HEARTH_DATA"
mount -t tmpfs -o size=24m,mode=0700 hearth-test-full "$HEARTH_DATA" ||
	bail "cannot mount a tmpfs on $HEARTH_DATA"
MOUNTED=yes
_full_exit() {
	local rc=$?
	hearth_kill9
	if [ -n "$MOUNTED" ]; then
		# The containers' folders are bind mounts' sources: gone with them.
		ids=$(our_ctrs 2>/dev/null)
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
		umount "$HEARTH_DATA" 2>/dev/null || umount -l "$HEARTH_DATA"
	fi
	(exit $rc)
	_exec_exit
}
trap _full_exit EXIT

exec_start
create_warm W echo-py python "$SRC_ECHO_PY" '{"min_warm":1}'
create_fn R readme python "$SRC_WORK_PY" '{"min_warm":0}'
execute "$W" '{"before":1}'
is "$STATUS" 200 "a call before the disk fills"
FIRST_ID=$(jqr .id)
req GET "/invocations/$FIRST_ID"
is "$STATUS" 200 "its record is written (before the disk fills)"

# ---- fill it ------------------------------------------------------------------------
dd if=/dev/zero of="$HEARTH_DATA/filler" bs=64k >/dev/null 2>&1
diag "the data dir now: $(df -k --output=used,avail "$HEARTH_DATA" | tail -1 | awk '{print $1 " kB used, " $2 " kB free"}')"
ok "the data dir is full" test "$(df -k --output=avail "$HEARTH_DATA" | tail -1 | tr -d ' ')" -lt 64

is_full() {	# DESC: a 507 whose error says the disk is full
	local m
	is_error 507 "$1"
	is "$(jqr .error.code)" insufficient_storage "$1: code insufficient_storage"
	m=$(jqr .error.message)
	ok "$1: the message says the disk is full ($m)" eval '[[ ${m,,} == *"disk is full"* || ${m,,} == *"no space left"* ]]'
}
req_json POST /functions/ '{"name":"nospace","language":"python","code":"def handler(e, c):\n    return 1\n"}'
is_full "create a function"
python3 -c 'import json, os
print(json.dumps({"name": "nospace2", "language": "python",
                  "code": "# " + os.urandom(100000).hex() + "\ndef handler(e, c):\n    return 1\n"}))' >"$TEST_TMP/big.json"
req POST /functions/ -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/big.json"
is_full "create a function with 200 KB of code"
req_json PUT "/functions/$R" '{"memory":256}'
is_full "update a function"
req_json PUT "/functions/$R/test-events" '{"events":[{"name":"a","payload":{"x":1}}]}'
is_full "save test events"
req_json POST "/functions/$W/execute?async=1" '{"async":1}'
is_full "queue an async call"

# Reads and warm calls go on.
req GET /functions/
is "$STATUS:$(jqr 'length')" "200:2" "list the functions"
req GET "/functions/$R?code=1"
is "$STATUS:$(jqr .revision)" "200:1" "read a function with its code (unchanged)"
req GET "/invocations/$FIRST_ID"
is "$STATUS" 200 "read an invocation record"
fails=0
for i in $(seq 1 40); do
	execute "$W" "{\"i\":$i}"
	[ "$STATUS:$(jqr .result.i)" = "200:$i" ] || fails=$((fails + 1))
done
is "$fails" 0 "40 warm calls succeed"
req GET "/functions/$W/invocations?limit=5"
is "$STATUS" 200 "listing the records still works (it waits for the batch, which fails)"
ok "the records that could not be written are counted as dropped" \
	test "$(metric hearth_records_dropped_total)" -ge 40
ok "and logged, once" test "$(grep -c 'records: .*dropping invocation records' "$HEARTH_LOG")" = 1 ||
	diag "$(grep 'records:' "$HEARTH_LOG" | head -5)"
req GET /healthz
is "$STATUS" 200 "/healthz answers"
ok "hearthd is still running" kill -0 "$HEARTH_PID"

# ---- space comes back -------------------------------------------------------------------
rm -f "$HEARTH_DATA/filler"
is "$(sql "$DB" 'PRAGMA integrity_check')" ok "PRAGMA integrity_check once there is room again"
ok "no temporary code folder is left behind" test -z "$(find "$HEARTH_DATA/code" -name '.tmp-*' -print -quit)"
req GET /functions/
broken=
for id in $(jqr '.[].id'); do
	req GET "/functions/$id?code=1"
	[ "$STATUS" = 200 ] && [ "$(jqr '.code | type')" = string ] || broken="$broken $id"
done
is "$broken" "" "every function reads back with its code"
req_json POST /functions/ '{"name":"roomy","language":"python","code":"def handler(e, c):\n    return 2\n"}'
is "$STATUS" 201 "a create works again"
req_json PUT "/functions/$R" '{"memory":256}'
is "$STATUS:$(jqr .revision)" "200:2" "an update works again"
req_json POST "/functions/$W/execute?async=1" '{"async":2}'
is "$STATUS" 202 "an async call is queued again"
execute "$W" '{"after":1}'
AFTER_ID=$(jqr .id)
req GET "/invocations/$AFTER_ID"
is "$STATUS:$(jqr .status)" "200:success" "a call's record is written again"
ok "and that is logged" grep -q 'records: written again' "$HEARTH_LOG"
exec_stop
is "$(sql "$DB" 'PRAGMA integrity_check')" ok "PRAGMA integrity_check after the stop"
done_testing
