#!/bin/bash
# Execution basics on a real hearthd and dockerd: Python and Node echo
# handlers, the first call from a stem cell (or cold) and every later call
# warm, logs kept apart from results, a raised error, a Unicode round trip,
# payload limits (6 MB: 413; not JSON: 400), an unknown function (404), the
# invocation records (one, and a function's list, newest first, paginated),
# /metrics and /pool.  Needs dockerd and `make images`: fails without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start
ok "/healthz reports docker as reachable" wait_until 10 eval \
	'[ "$(curl -s --max-time 2 "$HEARTH_URL/healthz" | jq -r .docker)" = ok ]' ||
	diag "$(curl -s --max-time 2 "$HEARTH_URL/healthz")"
ok "a python stem cell is idle in /pool" wait_until 30 stem_idle python
ok "a node stem cell is idle in /pool" wait_until 30 stem_idle node

PY_SRC=$'import sys\n\ndef handler(event, context):\n    if event.get("raise"):\n        print("about to raise")\n        raise ValueError("boom: " + str(event["raise"]))\n    print("log line from python", event.get("tag", ""))\n    print("a line on stderr", file=sys.stderr)\n    return {"echo": event, "request_id": context.aws_request_id}\n'
JS_SRC=$'exports.handler = async (event, context) => {\n  if (event.raise) {\n    console.log("about to throw");\n    throw new TypeError("boom: " + event.raise);\n  }\n  console.log("log line from node", event.tag || "");\n  return { echo: event, request_id: context.awsRequestId };\n};\n'

# min_warm 0: nothing is prestarted for them, so the first call specialises
# a stem cell (or starts a container).
create_fn PY py-echo python "$PY_SRC" '{"min_warm":0}'
create_fn JS js-echo node "$JS_SRC" '{"min_warm":0}'
PY_IDS=()	# the envelope ids of py-echo's calls, in order
PY_OK=0 PY_ERR=0

# check_echo LANG LOGLINE EVENT DESC: the reply is a successful envelope
# that echoes EVENT, with LOGLINE in logs and never in result.
check_echo() {
	local lang=$1 logline=$2 event=$3 desc=$4
	is "$STATUS" 200 "$desc: HTTP 200" || diag "$(last)"
	is "$(jqr .status)" success "$desc: status success"
	is "$(jqr '.result.echo | tojson')" "$(printf '%s' "$event" | jq -c .)" "$desc: the result echoes the event"
	like "$(jqr .logs)" "$logline" "$desc: the log line is in logs"
	ok "$desc: and not in the result" test "$(jqr '.result | tojson' | grep -c "$logline")" = 0
	is "$(jqr .result.request_id)" "$(jqr .id)" "$desc: context's request id is the envelope id"
}

# ---- python: first call, then warm ------------------------------------------
execute "$PY" '{"tag":"first","n":1}'
check_echo python "log line from python first" '{"tag":"first","n":1}' "python first call"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
FIRST_PY_ID=$(jqr .id)
START=$(jqr .start)
ok "python first call: start is stem or cold (got $START)" test "$START" = stem -o "$START" = cold
is "$(jqr '[.function_id, .revision] | @csv')" "$PY,1" "function_id and revision in the envelope"
is "$(jqr .error)" null "error is null on success"
ok "id looks like a UUID" test "$(jqr .id | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')" = 1
is "$(header X-Hearth-Invocation-Id)" "$(jqr .id)" "X-Hearth-Invocation-Id names the invocation"
ok "duration_ms, init_ms, queue_ms, max_memory_mb are non-negative numbers" \
	test "$(jqr '[.duration_ms, .init_ms, .queue_ms, .max_memory_mb] | map(type == "number" and . >= 0) | all')" = true
ok "first call reports its init time (init_ms > 0)" test "$(jqr '.init_ms > 0')" = true
like "$(jqr .logs)" "a line on stderr" "stderr output is in logs too"

for i in 2 3; do
	execute "$PY" "{\"tag\":\"call$i\",\"n\":$i}"
	is "$STATUS:$(jqr .status):$(jqr .start)" "200:success:warm" "python call $i is warm" || diag "$(last)"
	is "$(jqr .result.echo.n)" "$i" "python call $i has its own result"
	like "$(jqr .logs)" "log line from python call$i" "python call $i has its own logs"
	ok "python call $i: no logs of an earlier call" test "$(jqr .logs | grep -c 'python first')" = 0
	PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
done
# An event of ~45 KB of JSON objects: its record keeps the event, the
# result and the logs LZ4-packed (src/invoke/records.c); read back below.
BIG=$(python3 -c 'import json; print(json.dumps({"tag": "big", "items": [{"id": i, "name": "item-%d" % i, "score": i / 8} for i in range(1000)]}, separators=(",", ":")))')
execute "$PY" "$BIG"
is "$STATUS:$(jqr .status):$(jqr .result.echo.items[999].name)" "200:success:item-999" \
	"python call with a ${#BIG}-byte event" || diag "$(last)"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
BIG_ID=$(jqr .id)

# ---- node ---------------------------------------------------------------------
execute "$JS" '{"tag":"first","list":[1,2,3],"nested":{"a":null,"b":true}}'
check_echo node "log line from node first" '{"tag":"first","list":[1,2,3],"nested":{"a":null,"b":true}}' "node first call"
START=$(jqr .start)
ok "node first call: start is stem or cold (got $START)" test "$START" = stem -o "$START" = cold
for i in 2 3; do
	execute "$JS" "{\"tag\":\"call$i\",\"n\":$i}"
	is "$STATUS:$(jqr .status):$(jqr .start)" "200:success:warm" "node call $i is warm" || diag "$(last)"
	is "$(jqr .result.echo.n)" "$i" "node call $i has its own result"
done

# Node's young generation is sized from the container's memory, as Lambda's
# node bootstrap does (5%), and never below V8's own unlimited maximum
# (16 MB): 16 whether a 128 MB stem cell or a 256 MB container served it;
# 5% of 512 MB is 25.
HEAP_SRC=$'exports.handler = async () => ({ argv: process.execArgv });\n'
create_fn HEAP js-heap node "$HEAP_SRC" '{"min_warm":0,"memory":256}'
execute "$HEAP" '{}'
ARGV=$(jqr '.result.argv | join(" ")')
is "$ARGV" "--max-semi-space-size=16" "node runs with semi-spaces of 16 MB at 128 or 256 MB" ||
	diag "$(last)"
create_fn HEAP2 js-heap-big node "$HEAP_SRC" '{"min_warm":0,"memory":1024}'
execute "$HEAP2" '{}'
ARGV=$(jqr '.result.argv | join(" ")')
ok "and of 5% of the container's memory above 320 MB (1024 MB: got $ARGV)" \
	test "$ARGV" = "--max-semi-space-size=51" -o "$ARGV" = "--max-semi-space-size=16" ||
	diag "$(last)"

# ---- a raised error ------------------------------------------------------------
execute "$PY" '{"raise":"py"}'
is "$STATUS" 200 "a raising python handler: HTTP 200" || diag "$(last)"
is "$(jqr .status)" error "status error"
is "$(jqr .error.type)" ValueError "error.type is the exception's class"
like "$(jqr .error.message)" "boom: py" "error.message is its message"
is "$(jqr '.error.stack | type')" array "error.stack is an array"
is "$(jqr .result)" null "no result"
like "$(jqr .logs)" "about to raise" "logs printed before the raise are kept"
PY_IDS+=("$(jqr .id)"); PY_ERR=$((PY_ERR + 1))
RAISE_ID=$(jqr .id)
execute "$PY" '{"tag":"after-raise"}'
is "$STATUS:$(jqr .status):$(jqr .start)" "200:success:warm" "the same warm container serves the next call" || diag "$(last)"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))

execute "$JS" '{"raise":"js"}'
is "$STATUS:$(jqr .status)" "200:error" "a throwing node handler: HTTP 200, status error" || diag "$(last)"
is "$(jqr .error.type)" TypeError "node error.type"
like "$(jqr .error.message)" "boom: js" "node error.message"

# ---- Unicode, escapes, empty and large payloads -----------------------------------
UNI='{"tag":"héllo wörld ✓ 🚀 日本語","esc":"quote \" backslash \\ tab \t nl \n nul \u0000","n":-1.5e3}'
execute "$PY" "$UNI"
is "$STATUS:$(jqr .status)" "200:success" "a Unicode payload runs" || diag "$(last)"
is "$(jqr '.result.echo | tojson')" "$(printf '%s' "$UNI" | jq -c .)" "and comes back intact (python)"
like "$(jqr .logs)" "héllo wörld ✓ 🚀 日本語" "Unicode in logs (python)"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
execute "$JS" "$UNI"
is "$(jqr '.result.echo | tojson')" "$(printf '%s' "$UNI" | jq -c .)" "and comes back intact (node)"
like "$(jqr .logs)" "héllo wörld ✓ 🚀 日本語" "Unicode in logs (node)"

# Any JSON value is a result and an event, as in Lambda: not only objects.
# {"r": V} returns V (the result side); V itself is echoed (the event side).
create_fn PYV py-value python $'def handler(event, context):\n    if isinstance(event, dict) and "r" in event:\n        return event["r"]\n    return event\n' '{"min_warm":1}'
create_fn JSV js-value node $'exports.handler = async (event) =>\n  event && typeof event === "object" && "r" in event ? event.r : event;\n' '{"min_warm":1}'
create_fn JSU js-undefined node $'exports.handler = async () => {};\n' '{"min_warm":1}'
ok "their containers come up idle" wait_until 30 eval 'pool_has "$PYV" 1 idle && pool_has "$JSV" 1 idle && pool_has "$JSU" 1 idle'
for v in 42 -1.5 true false null '"text"' '[1,"a",null]'; do
	want=$(jq -c . <<<"$v")
	for lang in python node; do
		[ $lang = python ] && f=$PYV || f=$JSV
		execute "$f" "{\"r\":$v}"
		is "$STATUS:$(jqr .status):$(jqr '.result | tojson')" "200:success:$want" "$lang: a handler may return $v" ||
			diag "$(last)"
		execute "$f" "$v"
		is "$STATUS:$(jqr .status):$(jqr '.result | tojson')" "200:success:$want" "$lang: $v is an event" ||
			diag "$(last)"
	done
done
execute "$JSU" '{}'
is "$STATUS:$(jqr .status):$(jqr '.result | tojson')" "200:success:null" "a node handler that returns nothing: result null" ||
	diag "$(last)"

req POST "/functions/$PY/execute"
is "$STATUS:$(jqr '.result.echo | tojson')" '200:{}' "an empty body is the event {}"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))

python3 -c 'import json; print(json.dumps({"blob": "x" * 5000000}))' >"$TEST_TMP/5mb.json"
# hearthd's peak RSS from here on (VmHWM), for the heap's return below.
echo 5 >"/proc/$HEARTH_PID/clear_refs"
req POST "/functions/$PY/execute" -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/5mb.json"
is "$STATUS:$(jqr .status)" "200:success" "a 5 MB payload runs" || diag "$(last)"
is "$(jqr '.result.echo.blob | length')" 5000000 "and comes back whole"
# A result this large leaves hearthd from the block it was gathered in,
# between the envelope's halves (http_reply_block): the fields after it
# are there too.
is "$(jqr '[.error, .start, (.logs | test("log line from python")), (.duration_ms > 0)] | tojson')" \
	'[null,"warm",true,true]' "the envelope's fields after a large result are whole" || diag "$(head -c 300 <<<"$BODY")"
is "$(header X-Hearth-Invocation-Id)" "$(jqr .id)" "and its id header is the envelope's id"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
req POST "/functions/$JS/execute" -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/5mb.json"
is "$STATUS:$(jqr .status):$(jqr '.result.echo.blob | length'):$(jqr '.logs | test("log line from node")')" \
	"200:success:5000000:true" "node: a 5 MB payload comes back whole, logs after it" || diag "$(head -c 300 <<<"$BODY")"
# The Lambda API's Invoke answers the result alone, from the same block.
req POST "/2015-03-31/functions/py-echo/invocations" -H 'Content-Type: application/json' \
	--data-binary @"$TEST_TMP/5mb.json"
is "$STATUS:$(jq -r '.echo.blob | length' <<<"$BODY"):$(jq -c 'keys' <<<"$BODY")" \
	'200:5000000:["echo","request_id"]' "Lambda Invoke: a 5 MB result is the body, whole" || diag "HTTP $STATUS: $(head -c 300 <<<"$BODY")"
PY_IDS+=("$(header x-amzn-RequestId)"); PY_OK=$((PY_OK + 1))
# Once the large calls stop, hearthd gives their free heap back (1 s after
# the last large body: src/base/heap.c).  Judged against the peak the large
# calls made (the give-back may come before this shell has read the last
# reply), on a plain build only (ASan's and valgrind's allocators are not
# glibc's).
rss_kb() { awk -v k="${1:-VmRSS}:" '$1 == k { print $2 }' "/proc/$HEARTH_PID/status"; }
if [ -z "${HEARTH_VALGRIND:-}" ] && ! ldd "$HEARTHD" 2>/dev/null | grep -q libasan; then
	RSS_PEAK=$(rss_kb VmHWM)
	ok "after the large calls hearthd's RSS falls 4 MB or more below their peak within 5 s (peak $RSS_PEAK kB)" \
		wait_until 5 eval '[ $(( RSS_PEAK - $(rss_kb) )) -ge 4096 ]' || diag "now $(rss_kb) kB"
else
	skip "after the large calls hearthd's RSS falls" "ASan or valgrind: not glibc's heap"
fi

python3 -c 'import json; print(json.dumps({"blob": "x" * (6 * 1024 * 1024 + 10)}))' >"$TEST_TMP/big.json"
req POST "/functions/$PY/execute" -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/big.json"
is_error 413 "a payload over 6 MB"
req POST "/functions/$PY/execute" -H 'Content-Type: application/json' --data-binary 'not json {'
is_error 400 "a payload that is not JSON"
req POST "/functions/$PY/execute" -H 'Content-Type: application/json' --data-binary '{"a":1} trailing'
is_error 400 "JSON followed by garbage"
req_json POST /functions/999999/execute '{}'
is_error 404 "an unknown function"
req_json POST /functions/nope/execute '{}'
ok "a non-numeric function id -> 400 or 404 (got $STATUS)" test "$STATUS" = 400 -o "$STATUS" = 404
execute "$PY" '{"tag":"still-fine"}'
is "$STATUS:$(jqr .status):$(jqr .start)" "200:success:warm" "the function still answers after the rejected ones"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))

# A function's name (or ARN) works wherever its id does.
execute py-echo '{"tag":"by-name"}'
is "$STATUS:$(jqr .function_id):$(jqr .result.echo.tag)" "200:$PY:by-name" "execute by name"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
execute "arn:aws:lambda:us-east-1:000000000000:function:py-echo" '{"tag":"by-arn"}'
is "$STATUS:$(jqr .function_id)" "200:$PY" "execute by ARN"
PY_IDS+=("$(jqr .id)"); PY_OK=$((PY_OK + 1))
req_json POST /functions/execute '{"invocations":[{"function_id":"py-echo","payload":{"tag":"batch-name"}},{"function_id":"nope","payload":{}}]}'
is "$STATUS:$(jqr '.results[0].result.echo.tag'):$(jqr '.results[1].error.status')" "200:batch-name:404" \
	"a batch item names its function by name (an unknown one is that item's 404)"
PY_IDS+=("$(jqr '.results[0].id')"); PY_OK=$((PY_OK + 1))

# ---- invocation records ---------------------------------------------------------------
req GET "/invocations/$FIRST_PY_ID"
is "$STATUS" 200 "GET /invocations/{id}" || diag "$(last)"
is "$(jqr '[.id, .function_id, .revision, .status] | @csv')" "\"$FIRST_PY_ID\",$PY,1,\"success\"" "the record's id, function, revision, status"
like "$(jqr .logs)" "log line from python first" "the record has the logs"
# The record keeps the function's output; Lambda's lines around it are made
# when it is read, from the record's figures.
LOGS=$(jqr .logs)
ok "the record's logs start with START for its id" \
	grep -qxF "START RequestId: $FIRST_PY_ID Version: \$LATEST" <<<"$(head -1 <<<"$LOGS")"
ok "  then END for its id" grep -qxF "END RequestId: $FIRST_PY_ID" <<<"$LOGS"
ok "  and REPORT with its duration, the function's memory size and its max memory" \
	grep -qE "^REPORT RequestId: $FIRST_PY_ID"$'\t'"Duration: [0-9]+\.[0-9]{2} ms"$'\t'"Billed Duration: [0-9]+ ms"$'\t'"Memory Size: 128 MB"$'\t'"Max Memory Used: $(jqr .max_memory_mb) MB"$'\t'"Init Duration: [0-9]+\.[0-9]{2} ms"$'\t'"\$" <<<"$LOGS"
is "$(jqr .result.echo.tag)" first "and the result"
is "$(jqr -c .payload)" '{"tag":"first","n":1}' "and the event it was given"
ok "and its start kind (stem or cold)" test "$(jqr .start)" = stem -o "$(jqr .start)" = cold
req GET "/invocations/$BIG_ID"
is "$STATUS" 200 "GET /invocations/{id} of the ${#BIG}-byte call" || diag "$(last)"
BIG=$(jq -c . <<<"$BIG") # as jq prints it (0.0 is 0)
is "$(jqr -c .payload)" "$BIG" "  its record's event, whole (kept packed)"
is "$(jqr -c .result.echo)" "$BIG" "  its result"
like "$(jqr .logs)" "log line from python big" "  its logs"
req GET "/invocations/$RAISE_ID"
is "$(jqr '[.status, .error.type] | @csv')" '"error","ValueError"' "an error's record keeps its error"
req GET /invocations/00000000-0000-4000-a000-000000000000
is_error 404 "an unknown invocation"

N=${#PY_IDS[@]}
WANT=$(for ((i = N - 1; i >= 0; i--)); do echo "${PY_IDS[i]}"; done)
req GET "/functions/$PY/invocations"
is "$STATUS" 200 "GET /functions/{id}/invocations" || diag "$(last)"
is "$(jqr '.invocations[].id')" "$WANT" "lists all $N calls, newest first"
is "$(jqr .next)" null "no next page when all fit"
ok "list items carry status, start, duration_ms, created_at" \
	test "$(jqr '[.invocations[] | (.status | type) == "string" and (.start | type) == "string" and (.duration_ms | type) == "number" and (.created_at | type) == "string"] | all')" = true
GOT= BEFORE= pages=0
while [ "$pages" -lt 10 ]; do
	req GET "/functions/$PY/invocations?limit=3${BEFORE:+&before=$BEFORE}"
	[ "$STATUS" = 200 ] || break
	pages=$((pages + 1))
	GOT+=$(jqr '.invocations[].id')$'\n'
	ok "page $pages holds at most 3" test "$(jqr '.invocations | length')" -le 3
	BEFORE=$(jqr '.next // empty')
	[ -n "$BEFORE" ] || break
done
is "$(printf '%s' "$GOT" | grep .)" "$WANT" "pages of 3 (limit, before) walk the same list in order"
ok "in $(( (N + 2) / 3 )) or $(( (N + 2) / 3 + 1 )) pages (got $pages)" test "$pages" -ge $(( (N + 2) / 3 )) -a "$pages" -le $(( (N + 2) / 3 + 1 ))
req GET "/functions/$JS/invocations?limit=1"
is "$(jqr '.invocations | length'):$(jqr '.invocations[0].function_id')" "1:$JS" "another function's list holds its own calls"
req GET "/functions/999999/invocations"
is_error 404 "the invocations of an unknown function"

# ---- metrics and pool ------------------------------------------------------------------
req GET /metrics
is "$STATUS" 200 "GET /metrics"
like "$(header Content-Type)" "text/plain" "in Prometheus text format"
is "$(printf '%s\n' "$BODY" | grep -E "^hearth_invocations_total\{function_id=\"$PY\",status=\"success\"\} " | awk '{print $2}')" \
	"$PY_OK" "hearth_invocations_total counts py-echo's successes"
is "$(printf '%s\n' "$BODY" | grep -E "^hearth_invocations_total\{function_id=\"$PY\",status=\"error\"\} " | awk '{print $2}')" \
	"$PY_ERR" "and its errors"
ok "every sample line parses as NAME{LABELS} VALUE" test "$(printf '%s\n' "$BODY" | grep -v '^#' | grep -v '^$' |
	grep -cvE '^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eEInfa]+$')" = 0

# The dashboard's list: containers now and the last hour, per function.
req GET "/functions/?stats=1"
is "$STATUS" 200 "GET /functions/?stats=1"
PYS=$(jqr -c ".[] | select(.id == $PY)")
is "$(jq -r '.stats | [.calls_1h, .errors_1h] | @csv' <<<"$PYS")" "$((PY_OK + PY_ERR)),$PY_ERR" \
	"py-echo's calls and errors over the last hour"
ok "its median handler duration is a positive number (got $(jq -r .stats.p50_ms_1h <<<"$PYS"))" \
	test "$(jq '.stats.p50_ms_1h > 0' <<<"$PYS")" = true
is "$(jq -r .stats.last_status <<<"$PYS")" success "its last call's status"
ok "and when it came (got $(jq -r .stats.last_at <<<"$PYS"))" \
	grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' <<<"$(jq -r .stats.last_at <<<"$PYS")"
ok "its containers: at least one idle, none busy (got $(jq -c .pool <<<"$PYS"))" \
	test "$(jq '.pool.idle >= 1 and .pool.busy == 0' <<<"$PYS")" = true
if [ "$START" = stem ]; then
	ok "  the specialised stem cell of its first call is counted (from_stem $(jq .pool.from_stem <<<"$PYS"))" \
		test "$(jq '.pool.from_stem >= 1' <<<"$PYS")" = true
else
	is "$(jq .pool.from_stem <<<"$PYS")" 0 "  its first call was cold: no container from a stem cell"
fi
req GET /functions/
is "$(jqr '.[0] | has("stats") or has("pool")')" false "without ?stats=1 the list is as before"

P=$(pool_json)
ok "/pool is JSON with a containers array" test "$(printf '%s' "$P" | jq '.containers | type')" = '"array"'
ok "every container has a known state" test "$(printf '%s' "$P" | jq '[.containers[].state | IN("starting","idle","busy","draining")] | all')" = true
PYC=$(printf '%s' "$P" | jq -c --argjson f "$PY" '[.containers[] | select(.function_id == $f)]')
is "$(printf '%s' "$PYC" | jq length)" 1 "py-echo has one container (calls were sequential)"
is "$(printf '%s' "$PYC" | jq -r '.[0] | [.function, .language, .revision, .stem, .state] | @csv')" \
	'"py-echo","python",1,false,"idle"' "its function, language, revision, stem false, idle"
is "$(printf '%s' "$PYC" | jq -r '.[0].invocations')" "$((PY_OK + PY_ERR))" "it served every py-echo call"
ok "its age_s is a positive number" test "$(printf '%s' "$PYC" | jq '.[0].age_s > 0')" = true
ok "its origin is stem or cold" test "$(printf '%s' "$PYC" | jq -r '.[0].origin | IN("stem","cold")')" = true
ok "its container id is a short Docker id of this hearthd's" \
	test -n "$(our_ctrs --filter "id=$(printf '%s' "$PYC" | jq -r '.[0].container')")"
is "$(printf '%s' "$P" | jq --argjson f "$JS" '[.containers[] | select(.function_id == $f and .language == "node")] | length')" 1 \
	"js-echo has one node container"
ok "stem cells are listed as stem, bound to no function" test "$(printf '%s' "$P" | jq '[.containers[] | select(.stem) | .function_id == null] | all')" = true
ok "a used stem cell is replaced: python and node stems idle again" wait_until 30 eval 'stem_idle python && stem_idle node'
pool_in_docker() {
	local c n=0
	for c in $(pool_json | jq -r '.containers[].container | select(. != "")'); do
		[ -n "$(our_ctrs --filter "id=$c")" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}
ok "docker ps agrees with /pool (every /pool container exists)" pool_in_docker

# ---- records across a restart, and a deleted function's ---------------------------------
# A call of a function about to be deleted: its record is found, then not.
create_fn GONE py-gone python "$PY_SRC" '{"min_warm":0}'
execute "$GONE" '{"tag":"gone"}'
GONE_ID=$(jqr .id)
req GET "/invocations/$GONE_ID"
is "$STATUS:$(jqr .id)" "200:$GONE_ID" "a record of a function about to be deleted is found"
req DELETE "/functions/$GONE"
req GET "/invocations/$GONE_ID"
is_error 404 "  and once the function is deleted, it is not"
req GET "/functions/$PY/invocations?limit=1000"
PY_LISTED=$(jqr '[.invocations[].id] | join(" ")')
exec_stop
# The index of the records is rebuilt from their batches at start.
exec_start
req GET "/invocations/$FIRST_PY_ID"
is "$STATUS:$(jqr .id):$(jqr .result.echo.n)" "200:$FIRST_PY_ID:1" \
	"after a restart, the first record reads back, its result too"
req GET "/functions/$PY/invocations?limit=1000"
is "$(jqr '[.invocations[].id] | join(" ")')" "$PY_LISTED" "  and the function's records list as before"
req GET "/invocations/$GONE_ID"
is_error 404 "  the deleted function's record stays unknown"

exec_stop

# ---- --retention 0: no records kept ----------------------------------------------------
# The same data dir, restarted keeping none: the records kept so far go,
# calls answer as before and leave none.
exec_start --retention 0
req GET "/functions/$PY/invocations"
is "$STATUS:$(jqr '.invocations | length')" "200:0" "--retention 0: the records kept before are gone"
req GET "/invocations/$FIRST_PY_ID"
is_error 404 "  and an old record's id is unknown"
for i in 1 2 3; do
	execute "$PY" "{\"tag\":\"unrecorded-$i\"}"
	is "$STATUS:$(jqr .status):$(jqr .result.echo.tag)" "200:success:unrecorded-$i" \
		"--retention 0: call $i answers as before"
	UNREC_ID=$(jqr .id)
done
req GET "/functions/$PY/invocations"
is "$STATUS:$(jqr '.invocations | length')" "200:0" "--retention 0: the calls left no record"
req GET "/invocations/$UNREC_ID"
is_error 404 "  not even the last one's"
exec_stop
done_testing
