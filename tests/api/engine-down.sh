#!/bin/bash
# hearthd started while Docker is down (its socket is a path with nothing
# behind it): the API and the store work, /healthz says Docker is down, and
# every kind of call that needs a container answers 503 "unavailable" at
# once, naming the socket, never 429 at the end of a queue wait; so does a
# call right after a restart.
. "$(dirname "$0")/../lib.sh"

SOCK="$TEST_TMP/no-docker.sock"
HEARTH_TEST_DOCKER_SOCKET=$SOCK hearth_start
req_json POST /functions/ '{"name":"down","language":"python","route":"/down","min_warm":1,"timeout":3,"code":"def handler(e, c):\n    return 1\n"}'
is "$STATUS" 201 "create a function while Docker is down"
ID=$(jqr .id)

req GET /healthz
is "$(jqr .docker)" unreachable "/healthz says Docker is unreachable"
like "$(jqr .docker_error)" "$SOCK" "and names the socket"

# The queue wait is the timeout plus 30 s: an answer within 5 s is the 503
# at once, not a throttle at the end of the wait.
req_json POST "/functions/$ID/execute" '{}'
is_error 503 "a call that needs a container" "$SOCK"
is "$(jqr .error.code)" unavailable "its error code is unavailable"
ok "answered in ${ELAPSED_MS} ms, not after a queue wait" test "$ELAPSED_MS" -lt 5000
like "$(jqr .error.message)" "is dockerd running" "the message says what to check"

req_json POST /functions/execute "{\"invocations\":[{\"function_id\":$ID},{\"function_id\":$ID}]}"
is "$STATUS" 200 "the batch answers 200"
is "$(jqr '[.results[].error.status] | join(",")')" "503,503" "each call in it is a 503"

req POST /fn/down -d '{}'
is "$STATUS" 503 "a function URL answers 503"
ok "answered in ${ELAPSED_MS} ms" test "$ELAPSED_MS" -lt 5000
hearth_stop

# Right after a restart (the first ping goes out as hearthd starts).
HEARTH_TEST_DOCKER_SOCKET=$SOCK hearth_start
req_json POST "/functions/$ID/execute" '{}'
is_error 503 "a call right after a restart" "$SOCK"
ok "answered in ${ELAPSED_MS} ms " test "$ELAPSED_MS" -lt 5000
req GET "/functions/$ID"
is "$STATUS" 200 "the function is still there"
hearth_stop
done_testing
