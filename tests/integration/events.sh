#!/bin/bash
# GET /events, the dashboard's live feed, against real containers: the pool
# on connect and as it changes, the functions' changes, a summary of every
# call; clients that leave are noticed; a client that stops reading is
# dropped and never grows hearthd's memory; the streams are capped; SIGTERM
# ends them at once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

LOADGEN="$top_builddir/bench/loadgen"
[ -x "$LOADGEN" ] || bail "no $LOADGEN: build first (make)"

exec_start
streams() { curl -s "$HEARTH_URL/metrics" | awk '$1 == "hearth_event_streams" { print $2 }'; }

# A reading client, its output in a file.
curl -sN "$HEARTH_URL/events" >"$TEST_TMP/ev1" 2>&1 &
EV1=$!
ok "a client connects (hearth_event_streams 1)" wait_until 5 eval '[ "$(streams)" = 1 ]'
ok "it gets the pool at once" wait_until 5 grep -q '^event: pool$' "$TEST_TMP/ev1"
first_pool=$(grep -A1 '^event: pool$' "$TEST_TMP/ev1" | sed -n 's/^data: //p' | head -1)
ok "  as JSON with containers and engine_up" test "$(jq '(.containers | type) == "array" and .engine_up == true' <<<"$first_pool")" = true

create_warm PY ev-py python $'def handler(event, context):\n    return event\n'
ok "a functions event says it was created" \
	wait_until 5 grep -q "^data: {\"op\":\"created\",\"id\":$PY,\"revision\":1}$" "$TEST_TMP/ev1"
ok "a pool event shows its container" wait_until 5 eval \
	"grep '^data: {\"containers\"' '$TEST_TMP/ev1' | tail -1 | sed 's/^data: //' | jq -e '[.containers[] | select(.function_id == $PY)] | length >= 1' >/dev/null"

ids=()
for i in 1 2 3; do
	execute "$PY" "{\"n\":$i}"
	ids+=("$(jqr .id)")
done
ok "an invocations event names each of the 3 calls" wait_until 5 eval \
	'[ "$(grep "^data: {\"dropped\"" "$TEST_TMP/ev1" | sed "s/^data: //" | jq -r ".calls[].id" | sort | tr "\n" " ")" = "$(printf "%s\n" "${ids[@]}" | sort | tr "\n" " ")" ]'
call=$(grep '^data: {"dropped"' "$TEST_TMP/ev1" | sed 's/^data: //' | jq -c ".calls[] | select(.id == \"${ids[2]}\")")
is "$(jq -r '[.function_id, .status, .start] | @csv' <<<"$call")" "$PY,\"success\",\"warm\"" \
	"  with its function, status and start"
ok "  and its timings (total_ms ≥ duration_ms > 0)" test "$(jq '.total_ms >= .duration_ms and .duration_ms > 0' <<<"$call")" = true

req_json PUT "/functions/$PY" '{"timeout":5}'
ok "an update is a functions event at revision 2" \
	wait_until 5 grep -q "^data: {\"op\":\"updated\",\"id\":$PY,\"revision\":2}$" "$TEST_TMP/ev1"

# The client leaves: noticed at the next write at the latest (a ping every 15 s).
kill "$EV1"
wait "$EV1" 2>/dev/null
ok "a client that left is noticed within 20 s" wait_until 20 eval '[ "$(streams)" = 0 ]'

# A client that stops reading: it asks, then reads nothing (a small receive
# buffer), while calls flow.  hearthd ends its stream once 1 MiB waits for
# it; its memory stays bounded meanwhile.  Under valgrind hearthd serves
# some 240 calls a second, whose summaries the kernel's socket buffers
# absorb: the backlog never reaches 1 MiB in 25 s, so the faster passes
# make these five points.
if [ "${HEARTH_VALGRIND:-}" = 1 ]; then
	for d in "a client that stops reading connects" "its stream is ended once it falls behind" "what waited for it stayed under 1 MiB and a flush" \
		"hearthd said why" "the calls meanwhile all answered 200"; do
		skip "$d" "too slow under valgrind to fill 1 MiB"
	done
else
	python3 - "$HEARTH_PORT" >"$TEST_TMP/stuck.out" 2>&1 <<-'PY' &
	import socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	s.connect(("127.0.0.1", int(sys.argv[1])))
	s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
	time.sleep(120)
	PY
	STUCK=$!
	ok "a client that stops reading connects" wait_until 5 eval '[ "$(streams)" = 1 ]'
	"$LOADGEN" --url "$HEARTH_URL/functions/$PY/execute" --body '{"n":0}' \
		--connections 4 --duration 25 --json >"$TEST_TMP/load.json" &
	LOAD=$!
	# What waits for it, sampled while it piles up: never more than the cap
	# and one flush (at most 256 summaries of ~280 bytes, and a pool event).
	most=0 dropped=
	for i in $(seq 1 250); do
		b=$(curl -s "$HEARTH_URL/metrics" | awk '$1 == "hearth_event_stream_backlog_bytes" { print $2 }')
		[ "${b:-0}" -gt "$most" ] && most=$b
		if [ "$(streams)" = 0 ]; then dropped=yes; break; fi
		sleep 0.1
	done
	ok "its stream is ended once it falls behind (within 25 s of load)" test -n "$dropped"
	ok "what waited for it never passed 1 MiB and a flush (most seen: $most bytes)" \
		test "$most" -le $((1048576 + 131072)) -a "$most" -gt 0
	# The load's work is done once the stream ended: SIGINT ends it as its
	# deadline would (the report says how many calls it made).
	[ -n "$dropped" ] && kill -INT "$LOAD" 2>/dev/null
	wait "$LOAD"
	ok "hearthd said why" grep -q "events: a stream's client fell .* behind; ending it" "$HEARTH_LOG"
	is "$(jq '.errors + .non_2xx' "$TEST_TMP/load.json")" 0 "the calls meanwhile all answered 200 ($(jq .requests "$TEST_TMP/load.json") calls)"
	kill "$STUCK" 2>/dev/null
	wait "$STUCK" 2>/dev/null
fi

# At most 32 streams at once; the 33rd is told to come back later.
pids=()
for i in $(seq 1 32); do
	curl -sN "$HEARTH_URL/events" >/dev/null 2>&1 &
	pids+=($!)
done
ok "32 streams open" wait_until 10 eval '[ "$(streams)" = 32 ]'
req GET /events --max-time 2
is_error 429 "the 33rd stream is refused" "event streams are open"
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
ok "they all close (within 20 s)" wait_until 20 eval '[ "$(streams)" = 0 ]'

# SIGTERM with a stream open: the stream ends, hearthd does not wait for it.
curl -sN "$HEARTH_URL/events" >/dev/null 2>&1 &
EV2=$!
ok "one more stream" wait_until 5 eval '[ "$(streams)" = 1 ]'
t0=$(now_ms)
exec_stop
ok "SIGTERM did not wait for the stream ($(( $(now_ms) - t0 )) ms)" test $(( $(now_ms) - t0 )) -lt 10000
ok "its client saw the stream end" wait_until 5 eval '! kill -0 $EV2 2>/dev/null'
done_testing
