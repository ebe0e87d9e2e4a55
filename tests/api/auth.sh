#!/bin/bash
# Access: with a token (--token, HEARTH_TOKEN or --token-file) every API
# endpoint and /events need "Authorization: Bearer <token>" and answer a
# JSON 401 (with WWW-Authenticate) that never echoes a secret; the
# dashboard's files and /healthz stay public (its details do not); function
# URLs follow their function's route_auth. Without a token hearthd refuses a
# non-loopback --listen unless told --insecure. Bad token settings are
# refused at start with a message.
. "$(dirname "$0")/../lib.sh"

TOKEN="t0ken-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
WRONG="wrong-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# no_secret DESC: the last body holds neither the token nor what was sent
no_secret() {
	ok "$1" eval '! grep -q -e "$TOKEN" -e "$WRONG" "$TEST_TMP/body" "$HEADERS"'
}

# start_fails DESC SUBSTRING [hearthd args]: hearthd exits 2 at once, saying why
start_fails() {
	local desc=$1 sub=$2 out rc
	shift 2
	out=$(timeout 10 "$HEARTHD" --data-dir "$TEST_TMP/never" \
		--docker-socket "$TEST_TMP/no-docker.sock" "$@" 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && [[ $out == *"$sub"* ]] && [[ $out != *"$TOKEN"* ]]; then
		_tap_result 0 "$desc"
	else
		_tap_result 1 "$desc"
		diag "exit $rc: $(printf '%.300s' "$out")"
	fi
}

# ---- what hearthd refuses at start --------------------------------------------------
P=$(free_port)
start_fails "no token on 0.0.0.0: refused, saying why and the ways out" "--insecure" \
	--listen "0.0.0.0:$P"
start_fails "  the message names the risk" "could run code" --listen "0.0.0.0:$P"
start_fails "no token on [::]: refused" "refusing to listen" --listen "[::]:$P"
HEARTH_TOKEN= start_fails "an empty HEARTH_TOKEN" "must not be empty" --listen "127.0.0.1:$P"
start_fails "a token with a space" "visible ASCII" --listen "127.0.0.1:$P" --token "a b"
printf '%s\n' "$TOKEN" >"$TEST_TMP/token"
start_fails "--token and --token-file together" "not both" --listen "127.0.0.1:$P" \
	--token "$TOKEN" --token-file "$TEST_TMP/token"
: >"$TEST_TMP/empty-token"
start_fails "an empty --token-file" "empty" --listen "127.0.0.1:$P" \
	--token-file "$TEST_TMP/empty-token"
start_fails "a missing --token-file" "No such file" --listen "127.0.0.1:$P" \
	--token-file "$TEST_TMP/nope"
HEARTH_INSECURE=maybe start_fails "HEARTH_INSECURE=maybe" "not 1 or 0" --listen "127.0.0.1:$P"
ok "no hearthd data dir was made by a refused start" test ! -e "$TEST_TMP/never/hearth.db"

# --insecure: it listens beyond loopback, with a warning. (The test still
# talks to 127.0.0.1, which 0.0.0.0 covers.)
HEARTH_PORT=$(free_port)
"$HEARTHD" --listen "0.0.0.0:$HEARTH_PORT" --insecure --data-dir "$TEST_TMP/insecure" \
	--docker-socket "$TEST_TMP/no-docker.sock" 2>"$TEST_TMP/insecure.log" &
INSECURE_PID=$!
ok "--insecure: it starts on 0.0.0.0" wait_until 10 curl -s -o /dev/null --max-time 1 \
	"http://127.0.0.1:$HEARTH_PORT/healthz"
HEARTH_URL="http://127.0.0.1:$HEARTH_PORT"
req GET /functions/
is "$STATUS" 200 "  and serves the API without a token"
kill -TERM "$INSECURE_PID"
wait "$INSECURE_PID"
is "$?" 0 "  and exits 0 on SIGTERM"
like "$(cat "$TEST_TMP/insecure.log")" "--insecure: no token" "  having warned about it"

# ---- a hearthd with a token -------------------------------------------------------------
hearth_start --token-file "$TEST_TMP/token"
like "$(cat "$HEARTH_LOG")" "need the bearer token" "the log says the API needs the token"
ok "the log does not show the token" eval '! grep -q "$TOKEN" "$HEARTH_LOG"'

AUTH=(-H "Authorization: Bearer $TOKEN")
req_json POST /functions/ '{"name":"f","language":"python","route":"/f","code":"def handler(e, c):\n    return 1\n"}' "${AUTH[@]}"
is "$STATUS" 201 "with the token: create a function"
ID=$(jqr .id)
req_json POST /functions/ '{"name":"open","language":"python","route":"/open","route_auth":"none","code":"def handler(e, c):\n    return 1\n"}' "${AUTH[@]}"
is "$STATUS" 201 "with the token: create one whose URL is public"
req_json POST /functions/ '{"name":"closed","language":"python","route":"/closed","route_auth":"token","code":"def handler(e, c):\n    return 1\n"}' "${AUTH[@]}"
is "$STATUS" 201 "with the token: create one whose URL needs the token"
BEFORE=$(curl -s "${AUTH[@]}" "$HEARTH_URL/functions/")

# Every endpoint, without a token, with a wrong one, and with another scheme.
while read -r method path; do
	req "$method" "$path" -d '{}'
	is_error 401 "no token: $method $path" "Authorization: Bearer"
	is "$(header WWW-Authenticate)" 'Bearer realm="hearth"' "  with WWW-Authenticate"
	req "$method" "$path" -d '{}' -H "Authorization: Bearer $WRONG"
	is_error 401 "a wrong token: $method $path" "not this hearthd's"
	like "$(header WWW-Authenticate)" 'error="invalid_token"' "  with error=invalid_token"
	no_secret "  neither token shows in the reply"
done <<EOF
GET /functions/
GET /functions
POST /functions/
GET /functions/$ID
PUT /functions/$ID
DELETE /functions/$ID
POST /functions/$ID/execute
POST /functions/execute
GET /functions/$ID/invocations
GET /functions/$ID/test-events
PUT /functions/$ID/test-events
POST /functions/$ID/bench
GET /invocations/nope
GET /pool
GET /metrics
GET /events
GET /functions/nope/nothing
EOF
req GET /functions/ -H "Authorization: Basic $(printf 'u:%s' "$TOKEN" | base64 -w0)"
is_error 401 "the token under another scheme (Basic)" "not \"Bearer <token>\""
no_secret "  not echoed either"
req GET /functions/ -H "Authorization: Bearer ${TOKEN}x"
is_error 401 "the token with a byte more"
req GET /functions/ -H "Authorization: Bearer ${TOKEN%?}"
is_error 401 "the token with a byte less"
req GET /functions/ -H "Authorization: Bearer"
is_error 401 "Bearer and nothing"
is "$(curl -s "${AUTH[@]}" "$HEARTH_URL/functions/")" "$BEFORE" "nothing changed through all those"

req GET /functions/ "${AUTH[@]}"
is "$STATUS" 200 "the right token: GET /functions/"
req GET /functions/ -H "authorization: bEaReR   $TOKEN"
is "$STATUS" 200 "the scheme is case-insensitive, spaces after it are allowed"
req GET /metrics "${AUTH[@]}"
is "$STATUS" 200 "the right token: GET /metrics"
curl -s -N --max-time 1 -D "$TEST_TMP/ev.h" -o "$TEST_TMP/ev.b" "${AUTH[@]}" "$HEARTH_URL/events"
like "$(head -1 "$TEST_TMP/ev.h")" " 200" "the right token: GET /events streams"
like "$(cat "$TEST_TMP/ev.h")" "text/event-stream" "  as text/event-stream"

# Public: the dashboard's files and /healthz (without its details).
req GET /
is "$STATUS" 200 "the dashboard's page is public"
req GET /app.css
is "$STATUS" 200 "  so are its files"
req GET /healthz
is "$STATUS:$(jqr .docker)" "200:unreachable" "/healthz is public"
is "$(jqr .docker_error)" null "  without the engine's error"
req GET /healthz "${AUTH[@]}"
like "$(jqr .docker_error)" "no-docker.sock" "  which the token shows"

# Function URLs: route_auth none is public; token and unset need the token.
# (No Docker here: passing the check is a 503, not a 401.)
req POST /fn/open -d '{}'
is "$STATUS" 503 "route_auth none: a function URL without a token gets through"
req POST /fn/closed -d '{}'
is_error 401 "route_auth token: no token -> 401"
req POST /fn/closed -d '{}' "${AUTH[@]}"
is "$STATUS" 503 "  with it, through"
req POST /fn/f -d '{}'
is_error 401 "route_auth unset: the token, since hearthd has one"
req POST /fn/f -d '{}' -H "Authorization: Bearer $WRONG"
is_error 401 "  a wrong one -> 401"
no_secret "  not echoed"
req POST /fn/f -d '{}' "${AUTH[@]}"
is "$STATUS" 503 "  the right one, through"
hearth_stop

# HEARTH_TOKEN works as --token does; HEARTH_TEST_TOKEN makes lib.sh send it.
HEARTH_TOKEN=$TOKEN hearth_start
req GET /functions/
is_error 401 "HEARTH_TOKEN: the token is needed"
HEARTH_TEST_TOKEN=$TOKEN req GET /functions/
is "$STATUS:$(jqr length)" "200:3" "  and enough"
hearth_stop

# Without a token: all open, the function URL of route_auth token too.
hearth_start
req GET /functions/
is "$STATUS" 200 "no token: the API is open (on loopback)"
req POST /fn/closed -d '{}'
is "$STATUS" 503 "  and route_auth token is as open as the API"
hearth_stop
done_testing
