#!/bin/bash
# Asynchronous calls through the API of a real hearthd with no container
# engine (no handler ever runs; an attempt is recorded "unavailable"):
# ?async=1 answers 202 and the call is committed (read back at once, and
# from the store); the batch; requests refused as a synchronous call's
# are; the bounds' 429; redrives that cannot be; calls that survive a
# kill -9 and a SIGTERM; a deleted function's calls go; /metrics; and,
# with --time-scale, attempts that cannot run retried to a dead letter,
# listed and re-driven.
. "$(dirname "$0")/../lib.sh"

command -v sqlite3 >/dev/null || bail "sqlite3 (the CLI) is not installed"
DB="$HEARTH_DATA/hearth.db"

aexec() { req_json POST "/functions/$1/execute?async=1" "$2"; }	# FID JSON
in_store() {	# ID: the call's status in the store
	sqlite3 "$DB" "SELECT status FROM async_calls WHERE id = '$1'"
}

hearth_start
req_json POST /functions/ '{"name":"later","language":"python","code":"def handler(e, c):\n    return e\n"}'
is "$STATUS" 201 "create a function"
F=$(jqr .id)

aexec "$F" '{"n":1,"text":"héllo ✓"}'
is "$STATUS" 202 "?async=1 answers 202" || diag "$BODY"
ID=$(jqr .id)
is "$(jqr '[.function_id, .status] | @csv')" "$F,\"queued\"" "with the function and status queued"
is "$(header Location)" "/invocations/$ID" "and Location"
ok "the call is in the store once answered (status $(in_store "$ID"))" test -n "$(in_store "$ID")"
is "$(sqlite3 "$DB" "SELECT payload FROM async_calls WHERE id = '$ID'")" '{"n":1,"text":"héllo ✓"}' \
	"its payload as it came"
req GET "/invocations/$ID"
is "$STATUS" 200 "GET /invocations/{id} reads it back" || diag "$BODY"
is "$(jqr '[.async, .function_id, .payload.text] | @csv')" "true,$F,\"héllo ✓\"" \
	"async, its function, its payload"
ok "queued or running: $(jqr .status)" test "$(jqr '.status | IN("queued", "running")')" = true
ok "no attempt yet, or one that could not run (the engine is down)" \
	test "$(jqr '[.attempts[] | select(.status != "unavailable")] | length')" = 0
ok "expires_at is about 6 hours after created_at" test "$(jqr '((.expires_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdate)) | . >= 21599 and . <= 21601')" = true

req POST "/functions/later/execute?async=1"
is "$STATUS" 202 "by name, with no body" || diag "$BODY"
is "$(sqlite3 "$DB" "SELECT payload FROM async_calls WHERE id = '$(jqr .id)'")" '{}' "an empty event"

aexec "$F" '{"n":'
is_error 400 "a payload that is not JSON"
aexec 424242 '{}'
is_error 404 "an unknown function"
req_json POST "/functions/$F/execute?async=maybe" '{}'
is_error 422 "async=maybe" "async"
python3 -c 'print("[" + "1," * (3 * 1024 * 1024) + "1]")' >"$TEST_TMP/big.json"
req POST "/functions/$F/execute?async=1" --data-binary @"$TEST_TMP/big.json"
is_error 413 "a payload over 6 MB"

req_json POST "/functions/execute?async=1" "{\"invocations\":[{\"function_id\":$F,\"payload\":[1,2]},{\"function_id\":\"nope\"},{\"function_id\":\"later\"}]}"
is "$STATUS" 202 "the batch answers 202" || diag "$BODY"
is "$(jqr '[.results[] | .status // .error.status] | @csv')" '"queued",404,"queued"' "an answer per item, in order"
B0=$(jqr '.results[0].id')
is "$(sqlite3 "$DB" "SELECT payload FROM async_calls WHERE id = '$B0'")" '[1,2]' "the batch's calls are stored"
req_json POST "/functions/execute?async=1" '{"invocations":[]}'
is_error 422 "an empty batch" "at least one"

req GET "/functions/$F/dead-letters"
is "$STATUS:$(jqr '.dead_letters | length'):$(jqr .next)" "200:0:null" "no dead letters"
req GET "/functions/424242/dead-letters"
is_error 404 "dead letters of an unknown function"
req POST "/functions/$F/dead-letters/$ID/redrive"
is_error 409 "a queued call is no dead letter"
req POST "/functions/$F/dead-letters/0000/redrive"
is_error 404 "an unknown call"
req POST "/functions/$F/dead-letters/redrive"
is "$STATUS:$(jqr .redriven)" "202:0" "redrive all: none"
req GET "/functions/$F/dead-letters/redrive"
is "$STATUS" 405 "redrive is a POST"

M=$(curl -s --max-time 5 "$HEARTH_URL/metrics")
ok "metrics: queued and running calls of the function" \
	test "$(printf '%s\n' "$M" | awk -v f="$F" '$1 == "hearth_async_queued{function_id=\"" f "\"}" || $1 == "hearth_async_running{function_id=\"" f "\"}" { n += $2 } END { print n }')" = 4

# ---- kill -9, then SIGTERM: the calls stay ------------------------------------------
hearth_kill9
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE function_id = $F")" 4 "after kill -9 the store holds the 4 calls"
hearth_start
req GET "/invocations/$ID"
is "$STATUS:$(jqr .payload.n)" "200:1" "after the restart the call is there, with its payload"
t0=$(date +%s%N)
hearth_stop
ok "SIGTERM does not wait for attempts that have no container ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" \
	test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'queued'")" 4 \
	"all 4 wait, queued (backing off)"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_attempts WHERE status != 'unavailable'")" 0 \
	"every attempt so far could not run"
like "$(sqlite3 "$DB" "SELECT error_json FROM async_attempts LIMIT 1")" '"type":"Hearth.Unavailable"' \
	"  and says why"

# ---- the bounds -------------------------------------------------------------------
hearth_start --async-queue-max 5 --async-queue-total 7
aexec "$F" '{}'
is "$STATUS" 202 "a fifth call fits (--async-queue-max 5)"
aexec "$F" '{}'
is_error 429 "a sixth does not" "--async-queue-max"
is "$(header Retry-After)" 1 "Retry-After"
req_json POST /functions/ '{"name":"other","language":"node","code":"exports.handler = async () => 1;"}'
G=$(jqr .id)
aexec "$G" '{}'
aexec "$G" '{}'
is "$STATUS" 202 "another function's calls fit up to the total (7)"
aexec "$G" '{}'
is_error 429 "beyond --async-queue-total" "--async-queue-total"
like "$(curl -s --max-time 5 "$HEARTH_URL/metrics")" "hearth_async_rejected_total{function_id=\"$F\"} 1" \
	"refusals are counted"

req DELETE "/functions/$F"
is "$STATUS" 204 "delete the first function"
req GET "/invocations/$ID"
is_error 404 "its calls are gone"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE function_id = $F")" 0 "from the store too"
aexec "$G" '{}'
is "$STATUS" 202 "and their room is free again"
hearth_stop

# ---- retries of attempts that cannot run, to a dead letter ---------------------------------
# --time-scale 600: the back-off of 1 then 2 minutes takes 0.1 then 0.2 s.
hearth_start --time-scale 600
call_is() {	# ID JQ VALUE
	[ "$(curl -s --max-time 5 "$HEARTH_URL/invocations/$1" | jq -r "$2" 2>/dev/null)" = "$3" ]
}
req_json POST /functions/ '{"name":"doomed","language":"python","code":"def handler(e, c):\n    return 1\n"}'
D=$(jqr .id)
aexec "$D" '{"d":1}'
DID=$(jqr .id)
ok "a call that cannot run becomes a dead letter" wait_until 10 call_is "$DID" .status failed
req GET "/invocations/$DID"
is "$(jqr '[.reason, (.attempts | length), ([.attempts[].status] | unique | join(","))] | @csv')" \
	'"retries_exhausted",3,"unavailable"' "after 3 attempts, each unavailable"
is "$(jqr .last_error.type)" Hearth.Unavailable "its last error says why"
req GET "/functions/doomed/dead-letters"
is "$(jqr '[.dead_letters[] | .id, .attempts] | @csv')" "\"$DID\",3" "it is listed, with its attempts"
req POST "/functions/doomed/dead-letters/$DID/redrive"
is "$STATUS" 202 "re-driven" || diag "$BODY"
ok "it fails for good again, with fresh tries" wait_until 10 call_is "$DID" '[.status, (.attempts | length), .redrives] | @csv' '"failed",6,1'
like "$(curl -s --max-time 5 "$HEARTH_URL/metrics")" "hearth_async_attempts_total{function_id=\"$D\",status=\"unavailable\"} 6" \
	"metrics count the attempts"

# ---- how ?async may be written ---------------------------------------------------------
req_json POST /functions/ '{"name":"flags","language":"python","code":"def handler(e, c):\n    return e\n"}'
for q in "async=yes" "async" "x=1&async" "async=true"; do
	req_json POST "/functions/flags/execute?$q" '{}'
	is "$STATUS:$(jqr .status)" "202:queued" "?$q queues the call"
done
req_json POST "/functions/flags/execute?async=no" '{}'
is "$STATUS" 503 "?async=no runs it now (no Docker here: 503)"
req_json POST "/functions/flags/execute?asyncx" '{}'
is "$STATUS" 503 "?asyncx is not ?async"
hearth_stop
done_testing
