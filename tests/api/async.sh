#!/bin/bash
# Asynchronous calls through the API of a real hearthd with no container
# engine (nothing ever runs): ?async=1 answers 202 and the call is
# committed (read back at once, and from the store); the batch; requests
# refused as a synchronous call's are; the bounds' 429; dead letters of a
# function with none, and redrives that cannot be; calls that survive a
# kill -9 and a SIGTERM (which does not wait for attempts that have no
# container); a deleted function's calls go; /metrics.
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
is "$(jqr '[.async, .function_id, .payload.text, (.attempts | length)] | @csv')" "true,$F,\"héllo ✓\",0" \
	"async, its function, its payload, no attempt yet"
ok "queued or running (waiting for a container that never comes): $(jqr .status)" \
	test "$(jqr '.status | IN("queued", "running")')" = true
ok "expires_at is about 6 hours after created_at" test "$(jqr '((.expires_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdate)) | . >= 21599 and . <= 21601')" = true

req POST "/functions/later/execute?async=1"
is "$STATUS" 202 "by name, with no body" || diag "$BODY"
is "$(sqlite3 "$DB" "SELECT payload FROM async_calls WHERE id = '$(jqr .id)'")" '{}' "an empty event"

aexec "$F" '{"n":'
is_error 400 "a payload that is not JSON"
aexec 424242 '{}'
is_error 404 "an unknown function"
req_json POST "/functions/$F/execute?async=yes" '{}'
is_error 422 "async=yes" "async"
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
grep -q "call(s) were running when hearthd stopped: queued again" "$HEARTH_LOG"
is "$?" 0 "a call left running is queued again"
t0=$(date +%s%N)
hearth_stop
ok "SIGTERM does not wait for attempts that have no container ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" \
	test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_calls WHERE status = 'queued'")" 4 "all 4 wait, queued"
is "$(sqlite3 "$DB" "SELECT count(*) FROM async_attempts")" 0 "and no attempt was counted"

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
done_testing
