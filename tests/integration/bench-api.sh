#!/bin/bash
# POST /functions/{id}/bench against real containers: warm, stem and cold
# runs timed server-side, their distribution, the bounds, one run per
# function at a time, containers of their own (outside max_concurrency,
# inside the global cap) while the function's pool keeps serving, and a
# client that leaves or a function deleted mid-run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start
ECHO=$'def handler(event, context):\n    return event\n'
create_warm PY bench-py python "$ECHO" '{"max_concurrency":1}'

bench() {	# FID JSON [curl args]
	local fid=$1 json=$2
	shift 2
	req_json POST "/functions/$fid/bench" "$json" "$@"
}
bench_ctrs() { pool_json | jq '[.containers[] | select(.bench)] | length'; }
# bench_bg FID JSON OUT: a bench in the background, its reply in the file OUT
# (req's own files belong to the requests made meanwhile).
bench_bg() {
	printf '%s' "$2" >"$3.req"
	curl -s --max-time 120 -X POST -H 'Content-Type: application/json' --data-binary @"$3.req" \
		-o "$3" "$HEARTH_URL/functions/$1/bench" &
	BG=$!
}

# ---- warm ---------------------------------------------------------------------------------
bench "$PY" '{"calls":200,"concurrency":4,"start":"warm","payload":{"x":1}}'
is "$STATUS" 200 "a warm bench of 200 calls at concurrency 4" || diag "$BODY"
is "$(jqr '[.function_id, .start, .calls, .concurrency] | @csv')" "$PY,\"warm\",200,4" "  says what it ran"
is "$(jqr '.results | length')" 200 "  a result per call"
is "$(jqr '[.results[].start] | unique | join(",")'):$(jqr '[.results[].status] | unique | join(",")')" \
	"warm:success" "  every call warm and successful"
is "$(jqr '[.summary.count, .summary.ran, .summary.errors] | @csv')" "200,200,0" "  its summary counts"
ok "  and min ≤ p50 ≤ p90 ≤ p99 ≤ max ($(jqr -c '.summary | [.min, .p50, .p90, .p99, .max]'))" \
	test "$(jqr '.summary | .min <= .p50 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .max and .min > 0')" = true
is "$(jqr '[.histogram[].count] | add')" 200 "  the histogram holds every call"
ok "  its buckets rise in 1-2-5 steps" test "$(jqr '[.histogram[].le_ms] | . == sort')" = true
ok "a warm call costs under 5 ms here (p50 $(jqr .summary.p50) ms)" test "$(jqr '.summary.p50 < 5')" = true
ok "the bench's containers go afterwards" wait_until 10 eval '[ "$(bench_ctrs)" = 0 ]'

# ---- cold and stem, with the pool serving meanwhile --------------------------------------------
bench_bg "$PY" '{"calls":6,"concurrency":2,"start":"cold"}' "$TEST_TMP/cold.json"
ok "while a cold bench runs, /pool shows its containers, marked bench" wait_until 20 eval '[ "$(bench_ctrs)" -ge 1 ]'
execute "$PY" '{"during":"bench"}'
is "$STATUS:$(jqr .status):$(jqr .start)" "200:success:warm" \
	"an ordinary call meanwhile is served warm by the function's own pool (max_concurrency 1)"
req GET "/functions/?stats=1"
is "$(jqr ".[] | select(.id == $PY) | .pool.idle + .pool.busy + .pool.starting")" 1 \
	"  and the function's own count leaves the bench's containers out"
bench "$PY" '{"calls":1,"start":"warm"}'
is_error 409 "a second bench of the same function meanwhile" "one at a time"
wait "$BG"
BODY=$(cat "$TEST_TMP/cold.json")
is "$(jq -r '[.results[].start] | unique | join(",")' <<<"$BODY"):$(jq '.summary.ran' <<<"$BODY")" "cold:6" \
	"the cold bench: 6 cold calls"
ok "  each took the time of a container start (p50 $(jq .summary.p50 <<<"$BODY") ms > 20 ms)" \
	test "$(jq '.summary.p50 > 20' <<<"$BODY")" = true
COLD_P50=$(jq .summary.p50 <<<"$BODY")
ok "its containers go afterwards" wait_until 15 eval '[ "$(bench_ctrs)" = 0 ]'

bench "$PY" '{"calls":4,"concurrency":2,"start":"stem"}' --max-time 120
is "$STATUS:$(jqr '[.results[].start] | unique | join(",")'):$(jqr .summary.ran)" "200:stem:4" \
	"a stem bench: 4 calls on specialised stem cells" || diag "$BODY"
ok "  faster than cold (stem p50 $(jqr .summary.p50) ms < cold p50 $COLD_P50 ms)" \
	test "$(jqr ".summary.p50 < $COLD_P50")" = true
ok "its containers go afterwards" wait_until 15 eval '[ "$(bench_ctrs)" = 0 ]'

# ---- bounds and bad bodies ---------------------------------------------------------------------
bad_bench() {	# JSON STATUS DESC SUB
	bench "$PY" "$1"
	is_error "$2" "$3" "$4"
}
bad_bench '{"calls":1001,"start":"warm"}' 422 "warm: 1001 calls" "calls: an integer in 1..1000"
bad_bench '{"calls":10,"concurrency":17,"start":"warm"}' 422 "warm: concurrency 17" "concurrency: an integer in 1..16"
bad_bench '{"calls":51,"start":"cold"}' 422 "cold: 51 calls" "calls: an integer in 1..50"
bad_bench '{"calls":5,"concurrency":5,"start":"stem"}' 422 "stem: concurrency 5" "1..4"
bad_bench '{"calls":0,"start":"warm"}' 422 "no calls" "calls:"
bad_bench '{"calls":"3","start":"warm"}' 422 "calls as a string" "calls:"
bad_bench '{"calls":3,"start":"hot"}' 422 "an unknown start" "'hot' is not warm, stem or cold"
bad_bench '{"calls":3}' 422 "no start" "start: required"
bad_bench '{"calls":3,"start":"warm","colour":1}' 422 "an unknown field" "colour: unknown field"
bad_bench '{"calls":3,' 400 "malformed JSON" "malformed JSON"
bad_bench '[]' 422 "not an object" "body: expected"
req_json POST /functions/424242/bench '{"calls":1,"start":"warm"}'
is_error 404 "a bench of no function"
req GET "/functions/$PY/bench"
is_error 405 "GET is not a bench"
ok "no bench container was left by the refused ones" test "$(bench_ctrs)" = 0

# ---- the client leaves mid-run -------------------------------------------------------------------
bench "$PY" '{"calls":30,"concurrency":2,"start":"cold"}' --max-time 1
ok "a client that leaves a cold bench after 1 s (curl: $STATUS)" test "$STATUS" != 200
ok "  the bench stops: its containers go within 20 s" wait_until 20 eval '[ "$(bench_ctrs)" = 0 ]'
bench "$PY" '{"calls":5,"start":"warm"}'
is "$STATUS" 200 "  and the next bench may start"

# ---- the function is deleted mid-run --------------------------------------------------------------
create_warm DOOMED bench-doomed python "$ECHO"
bench_bg "$DOOMED" '{"calls":20,"concurrency":2,"start":"cold"}' "$TEST_TMP/doomed.json"
ok "a cold bench of a function about to go runs" wait_until 20 eval '[ "$(bench_ctrs)" -ge 1 ]'
req DELETE "/functions/$DOOMED"
is "$STATUS" 204 "the function is deleted mid-bench"
wait "$BG"
BODY=$(cat "$TEST_TMP/doomed.json")
ok "the bench still answers (ran $(jq .summary.ran <<<"$BODY") of 20; the rest failed)" \
	test "$(jq '.summary.count == 20 and .summary.ran < 20' <<<"$BODY")" = true
ok "  and its containers go" wait_until 20 eval '[ "$(bench_ctrs)" = 0 ]'
req DELETE "/functions/$PY"
exec_stop

# ---- the global cap holds ------------------------------------------------------------------------
# 1 stem cell per language and the function's warm container fill a cap of 3.
exec_start --max-containers 3
create_warm CAPPED bench-capped python "$ECHO"
ok "the cap is full (3 containers)" wait_until 20 eval '[ "$(pool_json | jq ".containers | length")" = 3 ]'
bench "$CAPPED" '{"calls":2,"start":"cold"}'
is_error 429 "a bench with no room under --max-containers" "no room"
ok "  and nothing of it is left" test "$(bench_ctrs)" = 0
exec_stop
done_testing
