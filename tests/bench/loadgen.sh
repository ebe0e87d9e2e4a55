#!/bin/bash
# The benchmarks' load generator (bench/loadgen.c) on real servers of this
# build: bench/echo-server, and bench/floor-server with one python3 worker
# whose handler sleeps.  Closed loop: the count asked for, every answer
# recorded.  Open loop (--rate): the rate kept, and a latency that counts
# from when a call was due, so a server slower than the rate shows its
# backlog instead of slowing the client down; bad --rate values refused.
. "$(dirname "$0")/../lib.sh"

LOADGEN="$top_builddir/bench/loadgen"
ECHO_SERVER="$top_builddir/bench/echo-server"
FLOOR_SERVER="$top_builddir/bench/floor-server"
for b in "$LOADGEN" "$ECHO_SERVER" "$FLOOR_SERVER"; do
	[ -x "$b" ] || bail "$b is not built (make)"
done

PIDS=()
stop_servers() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}
trap 'stop_servers; _cleanup' EXIT

# start_server PORTFILE CMD...: runs CMD (which writes its port to
# PORTFILE once listening), waits at most 10 s for the port and sets PORT.
# Not in a $(...) subshell: the PID must reach this shell's PIDS.
start_server() {
	local pf=$1
	shift
	"$@" >"$pf.log" 2>&1 &
	PIDS+=($!)
	wait_until 10 test -s "$pf" || bail "$1 did not start: $(cat "$pf.log")"
	PORT=$(cat "$pf")
}

j() { jq -r "$1" "$TEST_TMP/out.json"; }

start_server "$TEST_TMP/echo.port" "$ECHO_SERVER" --port-file "$TEST_TMP/echo.port"
url="http://127.0.0.1:$PORT/"

# ---- closed loop ------------------------------------------------------------
"$LOADGEN" --url "$url" --body '{"n":1}' --connections 4 --requests 500 --json \
	>"$TEST_TMP/out.json"
is "$?" 0 "closed loop: loadgen exits 0"
is "$(j .requests)" 500 "closed loop: exactly --requests answers recorded"
is "$(j '.status["200"]')" 500 "closed loop: every one a 200"
is "$(j .offered_rps)" null "closed loop: no open-loop figures"

# ---- open loop against a fast server: the rate kept -------------------------
"$LOADGEN" --url "$url" --body '{"n":1}' --connections 8 --rate 1000 --duration 2 --json \
	>"$TEST_TMP/out.json"
is "$?" 0 "open loop: loadgen exits 0"
n=$(j .requests)
ok "open loop at 1000/s for 2 s: 1,800..2,050 answers (got $n)" test "$n" -ge 1800 -a "$n" -le 2050
is "$(j '.offered_rps == 1000')" true "open loop: the offered rate reported"
# A few may be due and waiting at the deadline if the generator was held
# up just then; not a backlog.
ok "open loop: (next to) nothing left waiting for a connection ($(j .waiting_at_end))" \
	test "$(j .waiting_at_end)" -le 50
sl=$(j .send_lag_us.count)
sent=$(( n + $(j .errors) ))
ok "open loop: a send lag for every call sent, answered, failed or in flight at the end ($sl for $sent)" \
	test "$sl" -ge "$sent" -a "$sl" -le $((sent + 8))
ok "open loop: throughput $(j .throughput_rps)/s within 10% of the rate" \
	python3 -c "import sys; sys.exit(abs($(j .throughput_rps) - 1000) > 100)"

# ---- a server slower than the rate: the backlog is counted ------------------
# One worker, 20 ms a call: 50 calls/s at most.
printf 'import time\ndef handler(event, context):\n    time.sleep(0.02)\n    return {"ok": True}\n' \
	>"$TEST_TMP/slow.py"
start_server "$TEST_TMP/floor.port" "$FLOOR_SERVER" --port-file "$TEST_TMP/floor.port" \
	--workers 1 --queue-size 1000 -- python3 -u -B "$top_srcdir/bench/floor-worker.py" \
	"$TEST_TMP/slow.py"
slow="http://127.0.0.1:$PORT/"

# The warm-up answers wait for the worker's python to start.
"$LOADGEN" --url "$slow" --body '{}' --connections 2 --warmup 4 --duration 2 --json \
	>"$TEST_TMP/out.json"
closed_p99=$(j .latency_us.p99)
ok "closed loop on the slow server: p99 ${closed_p99} µs under 400 ms (two calls at a time)" \
	python3 -c "import sys; sys.exit(not $closed_p99 < 400000)"

"$LOADGEN" --url "$slow" --body '{}' --connections 2 --rate 200 --duration 2 --json \
	>"$TEST_TMP/out.json"
is "$?" 0 "open loop on the slow server: loadgen exits 0"
open_p99=$(j .latency_us.p99)
n=$(j .requests)
ok "open loop at 200/s, 2 connections: at most ~55 answers a second (got $n in 2 s)" \
	test "$n" -le 130
ok "open loop: calls due but never sent are reported ($(j .waiting_at_end))" \
	test "$(j .waiting_at_end)" -ge 100
ok "open loop: p99 ${open_p99} µs counts the wait for a connection (over 800 ms)" \
	python3 -c "import sys; sys.exit(not $open_p99 > 800000)"
ok "open loop: calls went out late (send lag p99 $(j .send_lag_us.p99) µs over 100 ms)" \
	python3 -c "import sys; sys.exit(not $(j .send_lag_us.p99) > 100000)"

# ---- bad --rate ---------------------------------------------------------------
for bad in 0 -5 abc 1e9 ''; do
	out=$("$LOADGEN" --url "$url" --rate "$bad" --requests 1 2>&1)
	rc=$?
	is "$rc" 2 "--rate '$bad' is refused (exit 2)"
	like "$out" "--rate" "  and the message names --rate"
done

started=("${PIDS[@]}")
stop_servers
gone=1
for p in "${started[@]}"; do kill -0 "$p" 2>/dev/null && gone=0; done
is "$gone" 1 "the ${#started[@]} servers this test started are gone"
done_testing
