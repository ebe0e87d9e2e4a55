#!/bin/bash
# Asynchronous calls on a real hearthd and dockerd (--time-scale 60: Lambda's
# back-off of 1 then 2 minutes takes 1 then 2 s, an async_max_age of 60 s
# takes 1 s): ?async=1 answers 202 with an id and the call is committed
# (read back at once); it runs, and GET /invocations/{id} shows the call
# and its attempt; the batch answers an id or an error per item, in order;
# bad requests are refused as a synchronous call's are; a failing function
# is retried async_retries times with back-off, then dead-lettered, listed
# and re-driven (one, then all); async_retries 0; expiry by async_max_age,
# of calls never tried and of one waiting for its retry; /metrics.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start --time-scale 60

aexec() { req_json POST "/functions/$1/execute?async=1" "$2"; }	# FID JSON
# The call as GET /invocations/{id} shows it, and a field of it.
call() { curl -s --max-time 5 "$HEARTH_URL/invocations/$1"; }
call_is() {	# ID JQ VALUE: the call's field has that value
	[ "$(call "$1" | jq -r "$2" 2>/dev/null)" = "$3" ]
}
# Seconds between two ISO times of the same call (python: jq's date
# functions drop the milliseconds).
gap_s() {
	python3 -c 'import sys, datetime as d
p = lambda s: d.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
print("%.3f" % (p(sys.argv[2]) - p(sys.argv[1])).total_seconds())' "$1" "$2"
}

PY_SRC=$'import time\n\ndef handler(event, context):\n    print("attempt for", event.get("tag"))\n    if event.get("sleep"):\n        time.sleep(event["sleep"])\n    if event.get("fail"):\n        raise ValueError("failing on purpose: " + str(event["fail"]))\n    return {"echo": event}\n'
create_warm OK ok-fn python "$PY_SRC"

# ---- one call: 202, committed, runs --------------------------------------------
aexec "$OK" '{"tag":"first","n":1}'
is "$STATUS" 202 "?async=1 answers 202" || diag "$(last)"
ID=$(jqr .id)
ok "with an invocation id (a UUID)" test "$(printf '%s' "$ID" | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')" = 1
is "$(jqr '[.function_id, .status] | @csv')" "$OK,\"queued\"" "the function's id and status queued"
is "$(header X-Hearth-Invocation-Id)" "$ID" "X-Hearth-Invocation-Id names it"
is "$(header Location)" "/invocations/$ID" "Location points at its record"
req GET "/invocations/$ID"
is "$STATUS" 200 "GET /invocations/{id} finds the call at once" || diag "$(last)"
is "$(jqr '[.async, .function_id, (.payload | tojson)] | @csv')" "true,$OK,\"{\"\"tag\"\":\"\"first\"\",\"\"n\"\":1}\"" \
	"it is async, of its function, with its payload"
ok "its status is queued, running or succeeded (got $(jqr .status))" \
	test "$(jqr '.status | IN("queued", "running", "succeeded")')" = true
ok "created_at is an ISO time" test "$(jqr '.created_at | test("^[0-9-]+T[0-9:.]+Z$")')" = true
ok "it succeeds" wait_until 30 call_is "$ID" .status succeeded || diag "$(call "$ID")"
req GET "/invocations/$ID"
is "$(jqr '.attempts | length')" 1 "one attempt"
is "$(jqr '.attempts[0] | [.n, .status, (.result | tojson)] | @csv')" "1,\"success\",\"{\"\"echo\"\":{\"\"tag\"\":\"\"first\"\",\"\"n\"\":1}}\"" \
	"attempt 1: success, with the handler's result"
like "$(jqr '.attempts[0].logs')" "attempt for first" "the attempt's logs"
ok "start, at, duration_ms of the attempt" test "$(jqr '.attempts[0] | (.start | IN("warm","stem","cold")) and (.at | type == "string") and .duration_ms >= 0')" = true
is "$(jqr '[.finished_at != null, .reason, .last_error, .next_attempt_at] | @csv')" 'true,,,' \
	"finished_at set; no reason, error or next attempt"
ATT=$(jqr '.attempts[0].id')
req GET "/invocations/$ATT"
is "$STATUS:$(jqr .status):$(jqr .function_id)" "200:success:$OK" "the attempt is an invocation record of its own"
is "$(jqr .payload.tag)" first "  with the event"

# By name too, and an empty body is an empty event.
req POST "/functions/ok-fn/execute?async=true"
is "$STATUS:$(jqr .function_id)" "202:$OK" "by name, ?async=true, no body" || diag "$(last)"
ok "runs with {} as its event" wait_until 30 call_is "$(jqr .id)" '.attempts[0].result.echo | tojson' '{}'

# ---- refused as a synchronous call would be -------------------------------------
aexec "$OK" '{"broken":'
is_error 400 "a payload that is not JSON"
aexec 99999 '{}'
is_error 404 "an unknown function"
req_json POST "/functions/$OK/execute?async=maybe" '{}'
is_error 422 "async=maybe" "async"
python3 -c 'import json; print(json.dumps({"big": "x" * (6 * 1024 * 1024)}))' >"$TEST_TMP/big.json"
req POST "/functions/$OK/execute?async=1" --data-binary @"$TEST_TMP/big.json"
is_error 413 "a payload over 6 MB"

# ---- the batch ---------------------------------------------------------------------
req_json POST "/functions/execute?async=1" \
	"{\"invocations\":[{\"function_id\":$OK,\"payload\":{\"tag\":\"b0\"}},{\"function_id\":99999},{\"function_id\":\"ok-fn\",\"payload\":{\"tag\":\"b2\"}},{\"nope\":1}]}"
is "$STATUS" 202 "the batch with ?async=1 answers 202" || diag "$(last)"
is "$(jqr '.results | length')" 4 "one answer per item"
is "$(jqr '[.results[] | .status // .error.status] | @csv')" '"queued",404,"queued",422' \
	"in order: queued, not found, queued, invalid"
B0=$(jqr '.results[0].id')
B2=$(jqr '.results[2].id')
ok "both queued items have ids" test -n "$B0" -a -n "$B2" -a "$B0" != "$B2"
ok "and both run" wait_until 30 eval 'call_is "$B0" .status succeeded && call_is "$B2" .status succeeded'
is "$(call "$B2" | jq -r '.attempts[0].result.echo.tag')" b2 "each with its own payload"

# ---- retries, back-off, dead letters, redrive -----------------------------------------
aexec "$OK" '{"tag":"doomed","fail":"always"}'
F1=$(jqr .id)
ok "a failing call ends as a dead letter (3 attempts, about 3 s)" \
	wait_until 30 call_is "$F1" .status failed || diag "$(call "$F1")"
req GET "/invocations/$F1"
is "$(jqr '.attempts | length')" 3 "async_retries 2: three attempts"
is "$(jqr '[.attempts[].status] | @csv')" '"error","error","error"' "each one an error"
is "$(jqr '[.attempts[].n] | @csv')" '1,2,3' "numbered in order"
is "$(jqr .reason)" retries_exhausted "reason retries_exhausted"
is "$(jqr .last_error.type)" ValueError "last_error is the handler's"
like "$(jqr .last_error.message)" "failing on purpose: always" "  with its message"
like "$(jqr .attempts[2].logs)" "attempt for doomed" "every attempt keeps its logs"
G1=$(gap_s "$(jqr .attempts[0].at)" "$(jqr .attempts[1].at)")
G2=$(gap_s "$(jqr .attempts[1].at)" "$(jqr .attempts[2].at)")
ok "back-off: about 1 s before the first retry (scaled 1 min; got $G1 s)" \
	python3 -c "import sys; sys.exit(not (0.9 <= $G1 <= 2.5))"
ok "then about 2 s (scaled 2 min; got $G2 s)" python3 -c "import sys; sys.exit(not (1.9 <= $G2 <= 3.5))"
i=0
for A in $(jqr '.attempts[].id'); do
	i=$((i + 1))
	req GET "/invocations/$A"
	is "$STATUS:$(jqr .status)" "200:error" "attempt $i has its own record (error)"
done

req GET "/functions/$OK/dead-letters"
is "$STATUS" 200 "GET /functions/{id}/dead-letters" || diag "$(last)"
is "$(jqr '[.dead_letters[0] | .id, .status, .reason, .attempts] | @csv')" "\"$F1\",\"failed\",\"retries_exhausted\",3" \
	"lists it with its reason and attempts"
is "$(jqr '.dead_letters[0].last_error.type')" ValueError "and its last error"
is "$(jqr '.dead_letters | length')" 1 "and nothing else"

# a second dead letter, then the newest comes first
aexec "$OK" '{"tag":"doomed2","fail":2}'
F2=$(jqr .id)
ok "a second dead letter" wait_until 30 call_is "$F2" .status failed
req GET "/functions/ok-fn/dead-letters?limit=1"
is "$(jqr '[.dead_letters[].id, .next] | @csv')" "\"$F2\",\"$F2\"" "newest first, one a page, with next"
req GET "/functions/ok-fn/dead-letters?limit=1&before=$F2"
is "$(jqr '[.dead_letters[].id] | @csv')" "\"$F1\"" "the next page"
req GET "/functions/ok-fn/dead-letters?before=nope"
is_error 422 "an unknown cursor"
req GET "/functions/99999/dead-letters"
is_error 404 "dead letters of an unknown function"

req POST "/functions/$OK/dead-letters/$F1/redrive"
is "$STATUS" 202 "redrive one: 202" || diag "$(last)"
is "$(jqr '[.id, .status] | @csv')" "\"$F1\",\"queued\"" "it is queued again"
req POST "/functions/$OK/dead-letters/$F1/redrive"
is_error 409 "a call queued again is no dead letter" "queued"
ok "it runs again with fresh tries, and fails for good again" \
	wait_until 30 eval 'call_is "$F1" "[.status, (.attempts | length), .redrives] | @csv" "\"failed\",6,1"' ||
	diag "$(call "$F1" | jq -c '[.status, (.attempts | length), .redrives]')"
req POST "/functions/$OK/dead-letters/not-a-call/redrive"
is_error 404 "redrive of an unknown call"
req POST "/functions/$OK/dead-letters/$ID/redrive"
is_error 409 "redrive of a call that succeeded" "succeeded"
req POST "/functions/$OK/dead-letters/redrive"
is "$STATUS:$(jqr .redriven)" "202:2" "redrive all: both dead letters" || diag "$(last)"
ok "both fail for good again" wait_until 30 eval 'call_is "$F1" .redrives 2 && call_is "$F1" .status failed && call_is "$F2" .status failed'

# ---- async_retries 0 ----------------------------------------------------------------------
create_warm NR no-retry python "$PY_SRC" '{"async_retries":0}'
aexec "$NR" '{"tag":"once","fail":1}'
N1=$(jqr .id)
ok "async_retries 0: dead after one attempt" wait_until 30 call_is "$N1" .status failed
sleep 1.5	# a retry would come 1 s later
is "$(call "$N1" | jq -c '[(.attempts | length), .reason]')" '[1,"retries_exhausted"]' "one attempt only"

# ---- expiry by async_max_age (60 s, scaled to 1 s) -----------------------------------------
# A function that runs one attempt at a time (max_concurrency 2, half of
# it for async calls), each 0.4 s: of 8 calls the last ones cannot start
# within their second and expire, never tried.
create_warm EX expiring python "$PY_SRC" '{"async_max_age":60,"max_concurrency":2}'
EXIDS=()
for i in 0 1 2 3 4 5 6 7; do
	aexec "$EX" "{\"tag\":\"ex$i\",\"sleep\":0.4}"
	EXIDS+=("$(jqr .id)")
done
all_final() {
	local id
	for id in "${EXIDS[@]}"; do
		call_is "$id" '.status | IN("succeeded", "expired")' true || return 1
	done
}
ok "every call ends, succeeded or expired" wait_until 30 all_final
NEXP=0 NOK=0
for id in "${EXIDS[@]}"; do
	case $(call "$id" | jq -r '[.status, (.attempts | length), .reason // ""] | join(":")') in
	expired:0:expired) NEXP=$((NEXP + 1)) ;;
	succeeded:1:) NOK=$((NOK + 1)) ;;
	esac
done
ok "some expired, never tried ($NEXP of 8)" test "$NEXP" -ge 1
ok "the others succeeded ($NOK)" test "$((NEXP + NOK))" = 8 -a "$NOK" -ge 1
req GET "/functions/$EX/dead-letters"
is "$(jqr '[.dead_letters[] | select(.reason == "expired")] | length')" "$NEXP" "the expired calls are dead letters"

# A failing call whose retry would come after its age is dropped as expired.
create_warm EF expiring-fail python "$PY_SRC" '{"async_max_age":60}'
aexec "$EF" '{"tag":"late","fail":1}'
E1=$(jqr .id)
ok "a failing call with no age left for a retry expires" wait_until 30 call_is "$E1" .status expired
is "$(call "$E1" | jq -c '[(.attempts | length), .reason, .last_error.type]')" '[1,"expired","ValueError"]' \
	"after its one attempt, keeping its error"

# ---- /metrics ---------------------------------------------------------------------------
M=$(curl -s --max-time 5 "$HEARTH_URL/metrics")
like "$M" "hearth_async_queued{function_id=\"$OK\"} 0" "metrics: nothing queued for ok-fn"
like "$M" "hearth_async_attempts_total{function_id=\"$OK\",status=\"error\"} 15" "15 failed attempts of ok-fn"
like "$M" "hearth_async_dead_letters_total{function_id=\"$OK\",reason=\"retries_exhausted\"} 5" "5 dead letters of ok-fn"
like "$M" "hearth_async_dead_letters_total{function_id=\"$EX\",reason=\"expired\"} $NEXP" "expired calls counted"
like "$M" "hearth_async_redriven_total{function_id=\"$OK\"} 3" "3 re-driven"

exec_stop
done_testing
