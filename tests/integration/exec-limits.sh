#!/bin/bash
# Execution limits on a real hearthd and dockerd: 20 parallel calls to a
# function with max_concurrency 3 all succeed and never run on more than 3
# containers; a full queue answers 429 with Retry-After; a 1 s timeout
# answers 504 within 1.1 s and the next call runs on a fresh container.
# Needs dockerd and `make images`: fails without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

SLEEPY=$'import time\n\ndef handler(event, context):\n    time.sleep(event.get("sleep", 0))\n    return {"n": event.get("n"), "slept": event.get("sleep", 0)}\n'

# fire N JSON FID PREFIX: N concurrent calls in the background (bounded by
# curl --max-time); the HTTP code of call i in PREFIX.i.code, its body in
# PREFIX.i.body, its headers in PREFIX.i.hdr.  Waits for all of them.
fire() {
	local n=$1 fid=$3 prefix=$4 i pids=()
	for ((i = 1; i <= n; i++)); do
		curl -s --max-time 30 -o "$prefix.$i.body" -D "$prefix.$i.hdr" -w '%{http_code}' \
			-H 'Content-Type: application/json' --data-binary "${2//@N@/$i}" \
			"$HEARTH_URL/functions/$fid/execute" >"$prefix.$i.code" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
}

# poll_pool FID OUT: until killed, the largest number of containers /pool
# and docker ps (label hearth.function, our instance) ever showed for FID.
poll_pool() {
	local fid=$1 out=$2 max_p=0 max_d=0 p d
	while :; do
		p=$(pool_count "$fid")
		d=$(our_ctrs --filter "label=hearth.function=$fid" --filter status=running | grep -c .)
		[ "$p" -gt "$max_p" ] && max_p=$p
		[ "$d" -gt "$max_d" ] && max_d=$d
		echo "$max_p $max_d" >"$out.tmp" && mv "$out.tmp" "$out"
		sleep 0.05
	done
}

exec_start

# ---- 20 parallel calls, max_concurrency 3 ------------------------------------------
create_warm PAR par3 python "$SLEEPY" '{"max_concurrency":3,"min_warm":1,"timeout":10}'
poll_pool "$PAR" "$TEST_TMP/max" &
POLLER=$!
T0=$(now_ms)
fire 20 '{"sleep":0.3,"n":@N@}' "$PAR" "$TEST_TMP/par"
T1=$(now_ms)
sleep 0.3
kill "$POLLER"; wait "$POLLER" 2>/dev/null
codes=$(awk 1 "$TEST_TMP"/par.*.code | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
is "$codes" "200x20 " "20 parallel calls all answer 200"
nsucc=0 nright=0
for i in $(seq 1 20); do
	[ "$(jq -r .status "$TEST_TMP/par.$i.body" 2>/dev/null)" = success ] && nsucc=$((nsucc + 1))
	[ "$(jq -r .result.n "$TEST_TMP/par.$i.body" 2>/dev/null)" = "$i" ] && nright=$((nright + 1))
done
is "$nsucc" 20 "all 20 have status success"
is "$nright" 20 "each got its own result"
read -r MAXP MAXD <"$TEST_TMP/max"
diag "most containers seen for the function: /pool $MAXP, docker ps $MAXD; wall $((T1 - T0)) ms"
ok "/pool never showed more than 3 containers for it (max $MAXP)" test "$MAXP" -le 3
ok "docker ps never showed more than 3 labelled hearth.function=$PAR (max $MAXD)" test "$MAXD" -le 3
ok "the pool grew past one container (max $MAXP)" test "$MAXP" -ge 2
ok "the calls overlapped: 20 x 0.3 s took under 5 s ($((T1 - T0)) ms)" test $((T1 - T0)) -lt 5000
ok "queue_ms is reported on calls that waited" test "$(cat "$TEST_TMP"/par.*.body | jq -s '[.[].queue_ms] | max > 100')" = true
is "$(pool_count "$PAR")" "$(pool_count "$PAR" idle)" "afterwards every container of it is idle"
served=$(pool_json | jq --argjson f "$PAR" '[.containers[] | select(.function_id == $f) | .invocations] | add')
is "$served" 20 "/pool's invocation counts add up to 20"

# ---- timeout: 1 s, the handler sleeps 5 s ----------------------------------------------
create_warm SLOW slow1 python "$SLEEPY" '{"timeout":1,"min_warm":1}'
execute "$SLOW" '{"sleep":0}'
is "$STATUS:$(jqr .status)" "200:success" "a quick call of the 1 s function succeeds" || diag "$(last)"
OLD=$(pool_ids "$SLOW")
is "$(printf '%s\n' "$OLD" | grep -c .)" 1 "it has one container"
execute "$SLOW" '{"sleep":5}'
EL=$ELAPSED_MS
T1=$(date +%s%N)
is "$STATUS" 504 "a call past its 1 s timeout answers 504" || diag "$(last)"
is "$(jqr .status)" timeout "with status timeout"
is "$(jqr .function_id)" "$SLOW" "in an envelope"
ok "within 1.1 s of wall clock (took $EL ms)" test "$EL" -le 1100
ok "and not before the deadline (took $EL ms)" test "$EL" -ge 950
execute "$SLOW" '{"sleep":0,"n":"after"}'
is "$STATUS:$(jqr .status):$(jqr .result.n)" "200:success:after" "the next call succeeds" || diag "$(last)"
ok "the next call did not wait for the 5 s sleep to end" test $(( ($(date +%s%N) - T1) / 1000000 )) -lt 3500
NOW=$(pool_ids "$SLOW")
ok "the timed-out container serves no more (not idle or busy in /pool)" \
	test -z "$(pool_json | jq -r --arg c "$OLD" '.containers[] | select(.container == $c and (.state | IN("idle", "busy", "starting")))')" ||
	diag "before: $OLD, now: $(echo $NOW)"
ok "and leaves /pool within 10 s" wait_until 10 eval '[ -z "$(pool_ids "$SLOW" | grep -x "$OLD")" ]'
ok "and from docker ps within 10 s" wait_until 10 ctrs_gone "$OLD"

# The same deadline for a handler that never yields (a CPU loop in node).
create_warm SPIN spin1 node $'exports.handler = async (event) => {\n  const t = Date.now();\n  while (Date.now() - t < (event.ms || 0)) {}\n  return { spun: event.ms || 0 };\n};\n' '{"timeout":1,"min_warm":1}'
execute "$SPIN" '{"ms":1}'
is "$STATUS:$(jqr .status)" "200:success" "a short node call of the 1 s function succeeds" || diag "$(last)"
execute "$SPIN" '{"ms":5000}'
EL=$ELAPSED_MS
is "$STATUS:$(jqr .status)" "504:timeout" "a node CPU loop past 1 s answers 504 timeout" || diag "$(last)"
ok "within 1.1 s of wall clock (took $EL ms)" test "$EL" -le 1100
execute "$SPIN" '{"ms":1}'
is "$STATUS:$(jqr .status):$(jqr .result.spun)" "200:success:1" "the next node call succeeds" || diag "$(last)"

req GET /metrics
ok "/metrics counts the timeout" test "$(printf '%s\n' "$BODY" | grep -cE "^hearth_invocations_total\{function_id=\"$SLOW\",status=\"timeout\"\} 1$")" = 1

exec_stop

# ---- queue overflow: --queue-size 2, max_concurrency 1 ------------------------------------
exec_start --queue-size 2
req_json PUT "/functions/$SLOW" '{"max_concurrency":1,"timeout":5}'
is "$STATUS" 200 "slow1 -> max_concurrency 1, timeout 5" || diag "$(last)"
ok "its container comes up idle after the restart" wait_until 30 pool_has "$SLOW" 1 idle
fire 8 '{"sleep":0.5,"n":@N@}' "$SLOW" "$TEST_TMP/q"
n200=0 n429=0 nother=0 nretry=0 njson=0
for i in $(seq 1 8); do
	case $(cat "$TEST_TMP/q.$i.code") in
	200) [ "$(jq -r .status "$TEST_TMP/q.$i.body")" = success ] && n200=$((n200 + 1)) ;;
	429) n429=$((n429 + 1))
	     grep -qiE '^Retry-After: *[0-9]+' "$TEST_TMP/q.$i.hdr" && nretry=$((nretry + 1))
	     [ "$(jq -r '.error.code | type' "$TEST_TMP/q.$i.body" 2>/dev/null)" = string ] && njson=$((njson + 1)) ;;
	*) nother=$((nother + 1)) ;;
	esac
done
diag "8 calls with room for 1 running + 2 queued: $n200 succeeded, $n429 throttled, $nother other"
ok "some calls are throttled with 429 ($n429)" test "$n429" -ge 1
ok "at least 3 (1 running, 2 queued) succeed ($n200)" test "$n200" -ge 3
is "$nother" 0 "every call either succeeds or is throttled"
is "$nretry" "$n429" "every 429 has a Retry-After header"
is "$njson" "$n429" "every 429 has a JSON error body"
req GET /metrics
ok "/metrics counts throttled calls" test "$(printf '%s\n' "$BODY" | grep -E "^hearth_(invocations_total\{function_id=\"$SLOW\",status=\"throttled\"\}|throttled_total)" | awk '{s+=$2} END {print s+0}')" -ge "$n429"
execute "$SLOW" '{"sleep":0}'
is "$STATUS:$(jqr .status)" "200:success" "afterwards the function answers again"

exec_stop

# ---- the global cap (--max-containers 4) and the idle TTL (2 s) -----------------------------
# Counted in /pool without the containers on their way out (draining, or
# being removed), so the cap holds for what runs or can run.
live_total() { pool_json | jq '[.containers[] | select(.state | IN("draining", "removing") | not)] | length'; }
poll_total() {	# OUT: the largest live_total seen, until killed
	local max=0 n
	while :; do
		n=$(live_total)
		[ "${n:-0}" -gt "$max" ] && max=$n
		echo "$max" >"$1.tmp" && mv "$1.tmp" "$1"
		sleep 0.05
	done
}
exec_start --max-containers 4 --idle-ttl 2
req DELETE "/functions/$SLOW"
is "$STATUS" 204 "slow1 deleted"
req DELETE "/functions/$SPIN"
is "$STATUS" 204 "spin1 deleted (2 stem cells + 2 functions' min_warm fill the cap)"
req_json PUT "/functions/$PAR" '{"min_warm":1,"max_concurrency":3}'
is "$STATUS" 200 "par3: min_warm 1, max_concurrency 3"
create_fn PAR2 par3b python "$SLEEPY" '{"max_concurrency":3,"min_warm":1,"timeout":10}'
ok "both have an idle container" wait_until 30 eval 'pool_has "$PAR" 1 idle && pool_has "$PAR2" 1 idle'
poll_total "$TEST_TMP/total" &
POLLER=$!
fire 6 '{"sleep":0.5,"n":@N@}' "$PAR" "$TEST_TMP/capa" &
FA=$!
fire 6 '{"sleep":0.5,"n":@N@}' "$PAR2" "$TEST_TMP/capb"
wait "$FA"
sleep 0.3
kill "$POLLER"; wait "$POLLER" 2>/dev/null
is "$(awk 1 "$TEST_TMP"/capa.*.code "$TEST_TMP"/capb.*.code | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')" "200x12 " \
	"12 calls across two functions under a cap of 4 all succeed"
ok "never more than 4 containers that are not on their way out (max $(cat "$TEST_TMP/total"))" test "$(cat "$TEST_TMP/total")" -le 4
ok "right after the burst, at most 4 (now $(live_total))" test "$(live_total)" -le 4 ||
	diag "/pool now: $(pool_json | jq -c '[.containers[] | [.container, .function_id, .stem, .state]]')"
ok "within 10 s, idle containers above min_warm are gone: one each" wait_until 10 eval \
	'[ "$(pool_count "$PAR")" = 1 ] && [ "$(pool_count "$PAR2")" = 1 ]' ||
	diag "/pool now: $(pool_json | jq -c '[.containers[] | [.container, .function_id, .stem, .state]]')"
ok "at most 4 containers of ours in docker ps once things settle (10 s)" wait_until 10 eval '[ "$(our_ctrs --filter status=running | grep -c .)" -le 4 ]'
exec_stop
done_testing
