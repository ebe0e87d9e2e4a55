#!/bin/bash
# Container lifecycle on a real hearthd and dockerd: an update runs on the
# very next call and old-revision containers go; a container killed with
# `docker kill` mid-call answers crashed and is replaced; a client that
# leaves mid-call leaks nothing; a batch across functions keeps its order
# through partial failure; out of memory and a fork bomb are contained;
# after kill -9 a restart removes the orphans and warms up again; DELETE
# removes the function's containers.  Needs dockerd and `make images`.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start

# ---- update: the very next call runs the new code and settings ----------------------
V1=$'import os, time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"v": 1, "n": event.get("n")}\n'
V2=$'import os, time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"v": 2, "n": event.get("n"), "x": os.environ.get("X")}\n'
V3=$'import os, time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"v": 3, "n": event.get("n"), "x": os.environ.get("X")}\n'
create_warm UPD upd python "$V1" '{"min_warm":1,"timeout":10}'
execute "$UPD" '{"n":1}'
is "$STATUS:$(jqr '[.revision, .result.v] | @csv')" "200:1,1" "revision 1 runs v1" || diag "$(last)"
OLD=$(pool_ids "$UPD")
req_json PUT "/functions/$UPD" "$(jq -n --arg c "$V2" '{code:$c}')"
is "$STATUS:$(jqr .revision)" "200:2" "PUT new code: revision 2" || diag "$(last)"
execute "$UPD" '{"n":2}'
is "$STATUS:$(jqr '[.revision, .result.v] | @csv')" "200:2,2" "the very next call runs revision 2's code" || diag "$(last)"
ok "revision 1's containers leave /pool within 10 s" wait_until 10 eval \
	'[ -z "$(pool_json | jq --argjson f "$UPD" ".containers[] | select(.function_id == \$f and .revision == 1)")" ]'
ok "and docker ps within 10 s" wait_until 10 ctrs_gone $OLD
req_json PUT "/functions/$UPD" '{"env":{"X":"hello"}}'
is "$STATUS:$(jqr .revision)" "200:3" "PUT env only: revision 3" || diag "$(last)"
execute "$UPD" '{"n":3}'
is "$STATUS:$(jqr '[.revision, .result.x] | @csv')" '200:3,"hello"' "the very next call sees the new env" || diag "$(last)"

# An update while a call runs (4 s: the update and a call meanwhile must
# fit in it, under ASan on a loaded machine too): that call finishes on its old container,
# new calls go to the new revision, the old container goes afterwards.
ok "a revision 3 container is idle" wait_until 10 eval \
	'[ -n "$(pool_json | jq --argjson f "$UPD" ".containers[] | select(.function_id == \$f and .revision == 3 and .state == \"idle\")")" ]'
OLD=$(pool_ids "$UPD")
curl -s --max-time 20 -o "$TEST_TMP/inflight.body" -w '%{http_code}' --data-binary '{"sleep":4,"n":"inflight"}' \
	"$HEARTH_URL/functions/$UPD/execute" >"$TEST_TMP/inflight.code" &
INFLIGHT=$!
ok "the slow call is running (a busy container)" wait_until 5 pool_has "$UPD" 1 busy
req_json PUT "/functions/$UPD" "$(jq -n --arg c "$V3" '{code:$c}')"
is "$STATUS:$(jqr .revision)" "200:4" "PUT during a call: revision 4" || diag "$(last)"
execute "$UPD" '{"n":4}'
is "$STATUS:$(jqr '[.revision, .result.v] | @csv')" "200:4,3" "a call during the old one runs revision 4" || diag "$(last)"
ok "the old revision's container is busy or draining meanwhile" test "$(pool_json | jq -r --argjson f "$UPD" \
	'[.containers[] | select(.function_id == $f and .revision == 3) | .state] | join(",")' | grep -cE '^(busy|draining)(,(busy|draining))*$')" = 1
wait "$INFLIGHT"
is "$(cat "$TEST_TMP/inflight.code"):$(jq -r '[.status, .revision, .result.n] | @csv' "$TEST_TMP/inflight.body")" \
	'200:"success",3,"inflight"' "the in-flight call finished on revision 3"
ok "then revision 3's containers are removed (docker ps, 10 s)" wait_until 10 ctrs_gone $OLD

# ---- docker kill mid-call -----------------------------------------------------------
create_warm VIC victim python "$V1" '{"min_warm":1,"timeout":10}'
VID=$(pool_ids "$VIC")
is "$(printf '%s\n' "$VID" | grep -c .)" 1 "victim has one container"
ok "it is one of this hearthd's containers" test -n "$(our_ctrs --filter "id=$VID")"
T0=$(now_ms)
curl -s --max-time 20 -o "$TEST_TMP/kill.body" -w '%{http_code}' --data-binary '{"sleep":3}' \
	"$HEARTH_URL/functions/$VIC/execute" >"$TEST_TMP/kill.code" &
KCALL=$!
sleep 0.5
is "$(pool_ids "$VIC" busy)" "$VID" "the call runs on it (busy)"
if [ -n "$VID" ] && [ -n "$(our_ctrs --filter "id=$VID")" ]; then
	dk kill "$VID" >/dev/null
fi
wait "$KCALL"
T1=$(now_ms)
is "$(cat "$TEST_TMP/kill.code")" 200 "the killed call answers HTTP 200" || diag "$(cat "$TEST_TMP/kill.body")"
is "$(jq -r .status "$TEST_TMP/kill.body")" crashed "with status crashed"
ok "error.type and message say what happened" test "$(jq -r '(.error.type | length > 0) and (.error.message | length > 0)' "$TEST_TMP/kill.body")" = true
ok "answered soon after the kill, not at the 3 s sleep's end ($((T1 - T0)) ms)" test $((T1 - T0)) -lt 2500
execute "$VIC" '{"n":"after-kill"}'
is "$STATUS:$(jqr .status):$(jqr .result.n)" "200:success:after-kill" "the next call succeeds" || diag "$(last)"
ok "the killed container leaves /pool within 10 s" wait_until 10 eval '[ -z "$(pool_ids "$VIC" | grep -x "$VID")" ]'
ok "and removed from docker within 10 s" wait_until 10 ctrs_gone "$VID"
ok "victim is back to one warm container within 10 s" wait_until 10 pool_has "$VIC" 1 idle

# ---- the client leaves mid-call ---------------------------------------------------------
create_warm DIS leaver python "$V1" '{"min_warm":1,"max_concurrency":2,"timeout":10}'
for i in 1 2 3 4; do
	curl -s -o /dev/null --max-time 0.5 --data-binary '{"sleep":2}' "$HEARTH_URL/functions/$DIS/execute"
done
ok "hearthd is still running" kill -0 "$HEARTH_PID"
req GET /healthz
is "$STATUS" 200 "and answers /healthz"
ok "leaver never has more than max_concurrency (2) containers" test "$(pool_count "$DIS")" -le 2
execute "$VIC" '{"n":"other"}'
is "$STATUS:$(jqr .status)" "200:success" "other functions are served meanwhile"
execute "$DIS" '{"n":"after-leave"}' --max-time 15
is "$STATUS:$(jqr .status):$(jqr .result.n)" "200:success:after-leave" "leaver answers a patient client" || diag "$(last)"
ok "still at most 2 containers for it" test "$(pool_count "$DIS")" -le 2
ok "once the abandoned calls end, its containers are idle again (10 s)" wait_until 10 eval \
	'[ "$(pool_count "$DIS")" -ge 1 ] && [ "$(pool_count "$DIS")" = "$(pool_count "$DIS" idle)" ]'

# ---- batch across two functions with partial failure -------------------------------------
JS=$'exports.handler = async (event) => {\n  if (event.raise) throw new Error("bad item " + event.raise);\n  return { js: event.n };\n};\n'
create_warm BJS batch-js node "$JS" '{"min_warm":1}'
BATCH=$(jq -nc --argjson u "$UPD" --argjson j "$BJS" '{invocations: [
	{function_id: $u, payload: {n: 1}},
	{function_id: $j, payload: {n: 2}},
	{function_id: 999999, payload: {n: 3}},
	{function_id: $j, payload: {raise: "four"}},
	{function_id: $u, payload: {n: 5, sleep: 0.2}}]}')
req_json POST /functions/execute "$BATCH"
is "$STATUS" 200 "a batch of 5 answers 200" || diag "$(last)"
is "$(jqr '.results | length')" 5 "with 5 results"
is "$(jqr '.results[0] | [.function_id, .status, .result.n] | @csv')" "$UPD,\"success\",1" "item 1: upd, success, its result"
is "$(jqr '.results[1] | [.function_id, .status, .result.js] | @csv')" "$BJS,\"success\",2" "item 2: batch-js, success, its result"
is "$(jqr '.results[2] | [(.error.code | type), (.status | type)] | @csv')" '"string","null"' "item 3 (unknown function): an error object, no envelope"
is "$(jqr '.results[2].error.status')" 404 "item 3: status 404"
is "$(jqr '.results[3] | [.function_id, .status, .error.type] | @csv')" "$BJS,\"error\",\"Error\"" "item 4: the raising handler, status error"
like "$(jqr '.results[3].error.message')" "bad item four" "item 4: its message"
is "$(jqr '.results[4] | [.function_id, .status, .result.n] | @csv')" "$UPD,\"success\",5" "item 5 (the slowest): in its place"
is "$(jqr '[.results[] | .id // empty] | unique | length')" 4 "4 envelopes with distinct ids"
req GET "/invocations/$(jqr '.results[3].id')"
is "$STATUS:$(jqr .status)" "200:error" "batch items get invocation records"

# ---- out of memory ---------------------------------------------------------------------
OOM=$'def handler(event, context):\n    if event.get("eat"):\n        hog = b"x" * (200 * 1024 * 1024)\n        return len(hog)\n    return "fine"\n'
create_warm MEM hog python "$OOM" '{"memory":64,"min_warm":1,"timeout":10}'
execute "$MEM" '{}'
is "$STATUS:$(jqr .result)" "200:fine" "hog answers when it does not allocate" || diag "$(last)"
MID=$(pool_ids "$MEM")
T0=$(now_ms)
execute "$MEM" '{"eat":true}'
T1=$(now_ms)
diag "allocating 200 MB in 64 MB: $(last) in $((T1 - T0)) ms"
is "$STATUS" 200 "allocating 200 MB with memory 64: HTTP 200"
ok "status crashed, or error MemoryError (got $(jqr .status)/$(jqr .error.type))" \
	test "$(jqr .status)" = crashed -o "$(jqr .status):$(jqr .error.type)" = error:MemoryError
ok "the container is recycled (gone from docker within 10 s)" wait_until 10 ctrs_gone $MID
execute "$MEM" '{}'
is "$STATUS:$(jqr .status):$(jqr .result)" "200:success:fine" "the next call succeeds" || diag "$(last)"

# ---- a fork bomb ---------------------------------------------------------------------------
BOMB=$'import os\n\ndef handler(event, context):\n    if event.get("bomb"):\n        while True:\n            try:\n                os.fork()\n            except OSError:\n                pass\n    return "calm"\n'
create_warm FB bomb python "$BOMB" '{"min_warm":1,"timeout":3}'
BID=$(pool_ids "$FB")
T0=$(now_ms)
curl -s --max-time 20 -o "$TEST_TMP/bomb.body" -w '%{http_code}' --data-binary '{"bomb":true}' \
	"$HEARTH_URL/functions/$FB/execute" >"$TEST_TMP/bomb.code" &
BCALL=$!
sleep 1
execute "$VIC" '{"n":"during-bomb"}' --max-time 10
is "$STATUS:$(jqr .status):$(jqr .result.n)" "200:success:during-bomb" "another function answers during the fork bomb" || diag "$(last)"
wait "$BCALL"
T1=$(now_ms)
diag "fork bomb: HTTP $(cat "$TEST_TMP/bomb.code"), $(jq -c '{status, error}' "$TEST_TMP/bomb.body" 2>/dev/null) in $((T1 - T0)) ms"
ok "the bomb is answered within its 3 s timeout (+ 0.5 s; took $((T1 - T0)) ms)" test $((T1 - T0)) -le 3500
ok "with status timeout (504), crashed or error" eval \
	'case $(cat "$TEST_TMP/bomb.code"):$(jq -r .status "$TEST_TMP/bomb.body") in 504:timeout|200:crashed|200:error) true ;; *) false ;; esac'
ok "its container is recycled (gone from docker within 10 s)" wait_until 10 ctrs_gone $BID
execute "$FB" '{}' --max-time 10
is "$STATUS:$(jqr .result)" "200:calm" "the next call of it succeeds" || diag "$(last)"
execute "$UPD" '{"n":"after-bomb"}'
is "$STATUS:$(jqr .status)" "200:success" "and other functions keep serving"

# ---- kill -9, restart: orphans removed, warm again -------------------------------------------
BEFORE=$(our_ctrs)
diag "containers before kill -9: $(echo $BEFORE)"
hearth_kill9
ok "the containers outlive the killed hearthd" test -n "$(our_ctrs --filter status=running)"
exec_start
ok "the restarted hearthd removes every container of the old run (15 s)" wait_until 15 ctrs_gone $BEFORE ||
	diag "still there: $(for c in $BEFORE; do dk ps -aq --filter id=$c; done | tr '\n' ' ')"
ok "upd is warm again: an idle container in /pool (30 s)" wait_until 30 pool_has "$UPD" 1 idle
ok "victim too (min_warm 1)" wait_until 30 pool_has "$VIC" 1 idle
NEW=$(pool_ids "$UPD")
ok "on a new container" test "$(printf '%s\n' $BEFORE | grep -cxF "$NEW")" = 0
execute "$UPD" '{"n":"restarted"}'
is "$STATUS:$(jqr '[.status, .revision, .result.n] | @csv')" '200:"success",4,"restarted"' \
	"a call after the restart runs the latest revision" || diag "$(last)"
is "$(jqr .start)" warm "and is warm"

# ---- DELETE removes the function's containers ----------------------------------------------
execute "$VIC" '{}'
GONE=$(pool_ids "$VIC")
LABELLED=$(our_ctrs --filter "label=hearth.function=$VIC")
ok "victim has containers before DELETE" test -n "$GONE$LABELLED"
req DELETE "/functions/$VIC"
is "$STATUS" 204 "DELETE victim"
ok "its containers leave /pool within 10 s" wait_until 10 eval '[ "$(pool_count "$VIC")" = 0 ]'
ok "and docker ps within 10 s" wait_until 10 ctrs_gone $GONE $LABELLED
ok "no container of ours is labelled hearth.function=$VIC" test -z "$(our_ctrs --filter "label=hearth.function=$VIC")"
req_json POST "/functions/$VIC/execute" '{}'
is_error 404 "executing the deleted function"
execute "$UPD" '{"n":"last"}'
is "$STATUS:$(jqr .status)" "200:success" "the others still serve"

# ---- SIGTERM lets an in-flight call finish ---------------------------------------------------
curl -s --max-time 20 -o "$TEST_TMP/term.body" -w '%{http_code}' --data-binary '{"sleep":1,"n":"term"}' \
	"$HEARTH_URL/functions/$UPD/execute" >"$TEST_TMP/term.code" &
TCALL=$!
ok "a 1 s call is running" wait_until 5 pool_has "$UPD" 1 busy
exec_stop
wait "$TCALL"
is "$(cat "$TEST_TMP/term.code"):$(jq -r '[.status, .result.n] | @csv' "$TEST_TMP/term.body" 2>/dev/null)" \
	'200:"success","term"' "the call in flight at SIGTERM is answered"
done_testing
