#!/usr/bin/env bash
# connections.sh — the connection layer with real containers: a call that
# runs longer than both request deadlines is answered (the deadlines are
# for sending a request, not for its answer), and warm calls on kept-alive
# connections opened beforehand are all answered while 2,000 slow-loris
# connections and then 5,000 at once hit hearthd (their p99 is printed,
# not asserted).  tests/api/connections.sh has the rest without Docker.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

HT=2 BT=3
jqok() { printf '%s' "$1" | jq -e "$2" >/dev/null; }
require_docker
# root may raise the hard limit too (a CI box may start lower than 8192)
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 65536 ] && ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
ok "the open-file limit allows the flood (ulimit -n: $(ulimit -n), 8192 needed)" \
	test "$(ulimit -n)" -ge 8192
exec_start --header-timeout "$HT" --body-timeout "$BT" --max-connections 300

create_warm SLOW slow python $'import time\ndef handler(event, context):\n    time.sleep(event["s"])\n    return "slept"\n' '{"timeout":20}'
execute "$SLOW" '{"s":6}'
is "$STATUS:$(jqr .status):$(jqr .result)" "200:success:slept" \
	"a 6 s call is answered: --header-timeout $HT and --body-timeout $BT do not cut it"
ok "...after its 6 s (${ELAPSED_MS} ms)" test "$ELAPSED_MS" -ge 6000

create_warm ECHO echo python $'def handler(event, context):\n    return event\n' '{"min_warm":4}'
ok "four warm containers for the callers" wait_until 60 eval '[ "$(pool_count "$ECHO" idle)" -ge 4 ]'
F=$(python3 "$top_srcdir/tests/connclient.py" --port "$HEARTH_PORT" --header-timeout "$HT" flood \
	--keepalive 4 --call "POST /functions/$ECHO/execute" --body '{"n":1}' \
	--slowloris 2000 --burst 5000)
printf '%s' "$F" | jq -c . | sed 's/^/# /'
diag "warm calls on kept-alive connections during the flood: $(printf '%s' "$F" | jq -r '.keepalive |
	"\(.calls_in_flood) calls, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (before it: p50 \(.before_p50_ms) ms, p99 \(.before_p99_ms) ms)"')"
is "$(printf '%s' "$F" | jq -c '[.keepalive.errors, (.keepalive.calls_in_flood > 0)]')" "[0,true]" \
	"every warm call on the kept-alive connections was answered during the flood"
ok "each slow-loris connection got the 503 JSON or the 408, or was closed (see tests/api/connections.sh)" \
	jqok "$F" '.slowloris | .finished == 2000 and (.outcomes | keys - ["408", "503", "closed"] == [])'
is "$(printf '%s' "$F" | jq -c '.burst | [.finished, (.outcomes | keys - ["200", "408"])]')" '[5000,["503"]]' \
	"each of the 5,000 at once got the 503 JSON, or was served once a slot was free"
req_json POST "/functions/$ECHO/execute" '{"after":true}'
is "$STATUS:$(jqr .result.after)" "200:true" "a call after the flood"
exec_stop
done_testing
