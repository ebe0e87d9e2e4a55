#!/usr/bin/env bash
# exec-disconnect.sh — clients that leave before their answer: hearthd
# notices, drops their queued calls (nobody would read the result), keeps
# serving, and leaks no container.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

require_docker
exec_start

create_warm SLOW slow python $'import time\ndef handler(event, context):\n    time.sleep(event.get("s", 0))\n    return "done"\n' '{"max_concurrency":1}'

# Three clients give up after 0.5 s on 1 s calls: one runs, two wait behind it.
pids=()
for i in 1 2 3; do
	curl -s -o /dev/null -m 0.5 -X POST "$HEARTH_URL/functions/$SLOW/execute" -d '{"s":1}' &
	pids+=($!)
done
wait "${pids[@]}"
ok "hearthd notices the three clients leaving (within 5 s)" wait_until 5 \
	eval '[ "$(grep -c "client left before call" "$HEARTH_LOG")" -ge 3 ]'
# The running call ends 1 s after it began; the queued two were dropped,
# so a new call waits for that one at most, not for three seconds of work.
execute "$SLOW" '{"s":0}'
is "$STATUS:$(jqr .result)" "200:done" "a new call succeeds" || diag "$(last)"
ok "and did not wait behind the abandoned calls (queue_ms $(jqr .queue_ms))" \
	awk -v q="$(jqr .queue_ms)" 'BEGIN { exit !(q < 900) }'
ok "at most max_concurrency (1) containers for the function" test "$(pool_count "$SLOW")" -le 1
# The call that was running when its client left still ran to the end and
# has its record; the two dropped from the queue never ran.
req GET "/functions/$SLOW/invocations"
is "$(jqr '[.invocations[] | .status] | join(",")')" "success,success" \
	"two records: the new call and the abandoned running one (the dropped ones never ran)" || diag "$BODY"

# A client that leaves while hearthd is still sending its 5 MB payload to
# the runtime (the container frozen: its channel takes ~200 KB, and the
# rest is sent from the request's own body): hearthd copies what it has
# not sent before the request goes, and the call, thawed, gets every byte.
create_warm BIG big-echo python $'def handler(event, context):\n    b = event["blob"]\n    return {"n": len(b), "head": b[:6], "tail": b[-6:]}\n' '{"max_concurrency":1,"timeout":30}'
python3 -c 'import json; print(json.dumps({"blob": "HEAD01" + "0123456789" * 499999 + "TAIL99"}))' >"$TEST_TMP/5mb.json"
ctr=$(pool_ids "$BIG" idle | head -1)
dk pause "$ctr" >/dev/null
curl -s -o /dev/null -m 1 -X POST "$HEARTH_URL/functions/$BIG/execute" -H 'Content-Type: application/json' \
	--data-binary @"$TEST_TMP/5mb.json"
ok "hearthd notices the client of the large call leaving" wait_until 5 \
	eval '[ "$(grep -c "client left before call" "$HEARTH_LOG")" -ge 4 ]'
dk unpause "$ctr" >/dev/null
big_done() {
	req GET "/functions/$BIG/invocations"
	[ "$(jqr '.invocations | length')" = 1 ] && [ "$(jqr '.invocations[0].status')" != running ]
}
ok "the abandoned large call ends once its container is thawed" wait_until 20 big_done || diag "$BODY"
req GET "/invocations/$(jqr '.invocations[0].id')"
is "$(jqr '[.status, (.result | tojson)] | join(" ")')" 'success {"n":5000002,"head":"HEAD01","tail":"TAIL99"}' \
	"and its handler got the whole payload, intact" || diag "$(last)"

req GET /healthz
is "$STATUS" 200 "hearthd still answers"

exec_stop
done_testing
