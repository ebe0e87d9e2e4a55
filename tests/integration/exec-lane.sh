#!/bin/bash
# The direct lane (runtimes/PROTOCOL.md) on a real hearthd and dockerd:
# hearthd drives a loaded runtime on the runtime's own pipes and channel
# and the shim, PID 1, only supervises.  For Python and Node: warm calls
# never wake the shim; logs stay apart from the result, complete, and
# capped under a 100 MB flood; frames forged into every descriptor never
# win.  For a hostile Python handler: junk on its answer lanes during a
# call ends that call as a protocol error, not at its deadline; a write
# on them between calls recycles the container; closing them is a crash.
# After each, the function and the others keep serving.  Needs dockerd
# and `make images`.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start

FIX=$top_srcdir/tests/runtimes/fixtures

# The voluntary context switches of a container's PID 1 (the shim), read
# from the host's /proc.
shim_switches() {	# CONTAINER
	local pid
	pid=$(dk inspect -f '{{.State.Pid}}' "$1" 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != 0 ] && awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status"
}

for lang in python node; do
	case $lang in
	python) code=$(cat "$FIX/python/main.py") ;;
	node) code=$(cat "$FIX/node/index.js") ;;
	esac
	create_warm FID "lane-$lang" "$lang" "$code" '{"timeout":30,"min_warm":1,"max_concurrency":1}'
	execute "$FID" '{"op":"echo","n":0}'
	is "$STATUS:$(jqr .result.n)" "200:0" "$lang: a first call" || diag "$(last)"
	CTR=$(pool_ids "$FID" | head -1)
	S0=$(shim_switches "$CTR")
	n=0
	for i in $(seq 1 20); do
		execute "$FID" "{\"op\":\"echo\",\"n\":$i}"
		[ "$STATUS:$(jqr .result.n)" = "200:$i" ] && n=$((n + 1))
	done
	S1=$(shim_switches "$CTR")
	is "$n" 20 "$lang: 20 warm calls answered, each with its own result"
	ok "$lang: the shim slept through them: the runtime served them on the lane (switches $S0 -> $S1)" \
		test -n "$S0" -a "$S0" = "$S1"

	execute "$FID" '{"op":"log"}'
	is "$STATUS:$(jqr .status):$(jqr .result.ok)" "200:success:true" "$lang: a call that logs" || diag "$(last)"
	ok "$lang: its stdout and stderr are in its logs, apart from the result" \
		eval '[[ $(jqr .logs) == *"hello from stdout"* && $(jqr .logs) == *"to stderr"* ]]'

	T0=$(now_ms)
	execute "$FID" '{"op":"flood","mb":100}' --max-time 60
	EL=$(($(now_ms) - T0))
	is "$STATUS:$(jqr .status):$(jqr .result)" "200:success:flooded" "$lang: 100 MB on stdout: the result is intact ($EL ms)" ||
		diag "$(last)"
	LL=$(jq -r '.logs | utf8bytelength' <<<"$BODY")
	ok "$lang: its logs are capped at 64 KiB with the marker ($LL bytes)" \
		eval '[ "$LL" -le $((64 * 1024 + 128)) ] && [[ $(jqr .logs) == *"[hearth: logs truncated, "* ]]'

	execute "$FID" '{"op":"fakeframes"}'
	is "$STATUS:$(jqr .status):$(jqr .result)" "200:success:REAL" \
		"$lang: frames forged into every descriptor (the lane's too): the real result wins" || diag "$(last)"
	execute "$FID" '{"op":"fakeframes_all"}'
	ok "$lang: forged into the runtime's own pipes too: never the fake ($(jqr .status) $(jqr .result))" \
		eval '[ "$STATUS" = 200 ] && { [ "$(jqr .status):$(jqr .result)" = success:REAL ] || [ "$(jqr .status)" = crashed ]; }'
	execute "$FID" '{"op":"echo","n":"after"}'
	is "$STATUS:$(jqr .result.n)" "200:after" "$lang: the next call is served" || diag "$(last)"
done

# ---- a hostile handler on the lane's descriptors (61: the result pipe, 63: the channel)
HOSTILE=$'import os, threading, time\n\ndef handler(event, context):\n    op = event.get("op")\n    if op == "junk":\n        b = b"J" * 4096\n        for _ in range(2048):\n            os.write(61, b)\n        return "survived"\n    if op == "later":\n        def w():\n            time.sleep(0.3)\n            os.write(61, b"late junk")\n        threading.Thread(target=w).start()\n        return "answered"\n    if op == "close":\n        os.close(61)\n        os.close(63)\n        return "closed"\n    return {"ok": op}\n'
OTHER=$'def handler(event, context):\n    return {"other": event.get("n")}\n'
create_warm HOS hostile python "$HOSTILE" '{"timeout":30,"min_warm":1,"max_concurrency":1}'
create_warm OTH other python "$OTHER" '{"min_warm":1}'

OLD=$(pool_ids "$HOS")
T0=$(now_ms)
execute "$HOS" '{"op":"junk"}'
EL=$(($(now_ms) - T0))
is "$STATUS:$(jqr .status):$(jqr .error.type)" "200:crashed:Runtime.ProtocolError" \
	"8 MiB of junk on the result pipe: the call ends as a protocol error" || diag "$(last)"
ok "long before its 30 s deadline ($EL ms)" test "$EL" -lt 10000
execute "$OTH" '{"n":1}'
is "$STATUS:$(jqr .result.other)" "200:1" "another function is served meanwhile" || diag "$(last)"
ok "the junk writer's container is recycled (gone from docker ps within 10 s)" wait_until 10 ctrs_gone $OLD
execute "$HOS" '{"op":"ping"}'
is "$STATUS:$(jqr .result.ok)" "200:ping" "the function is served again, on a fresh container" || diag "$(last)"

ok "a hostile container is idle again" wait_until 30 pool_has "$HOS" 1 idle
OLD=$(pool_ids "$HOS")
execute "$HOS" '{"op":"later"}'
is "$STATUS:$(jqr .status):$(jqr .result)" "200:success:answered" \
	"a call that leaves a thread writing on the result pipe is answered" || diag "$(last)"
ok "the write between calls recycles that container (gone from docker ps within 10 s)" \
	wait_until 10 ctrs_gone $OLD
execute "$HOS" '{"op":"ping"}'
is "$STATUS:$(jqr .result.ok)" "200:ping" "the next call is served" || diag "$(last)"

ok "a hostile container is idle again" wait_until 30 pool_has "$HOS" 1 idle
T0=$(now_ms)
execute "$HOS" '{"op":"close"}'
EL=$(($(now_ms) - T0))
is "$STATUS:$(jqr .status)" "200:crashed" "a handler that closes its answer lanes: crashed" || diag "$(last)"
ok "long before its deadline ($EL ms)" test "$EL" -lt 10000
execute "$HOS" '{"op":"ping"}'
is "$STATUS:$(jqr .result.ok)" "200:ping" "the next call is served" || diag "$(last)"
execute "$OTH" '{"n":2}'
is "$STATUS:$(jqr .result.other)" "200:2" "and the other function all along" || diag "$(last)"

exec_stop
done_testing
