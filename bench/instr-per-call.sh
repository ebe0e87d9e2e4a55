#!/bin/bash
# instr-per-call.sh — instructions hearthd runs per warm call (all its
# threads), by valgrind's callgrind: a python no-op (min_warm 4), N1 then
# N2 calls at c=1 in two runs of a fresh hearthd; the difference over
# N2 - N1 calls, so start-up and shutdown cancel out.  A figure that the
# machine's noise does not move (issue 12: bench/RESULTS.md).
#
# usage: bench/instr-per-call.sh [--builddir DIR] [--hearthd BIN] [N1 N2]
#   (default: the build in ./build, 300 and 1300 calls).  Needs valgrind
#   and a running dockerd; each hearthd is stopped by its PID (SIGTERM: it
#   removes its own containers) and its temp dir removed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=$here/build HEARTHD=
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) BUILDDIR=$2; shift 2 ;;
	--hearthd) HEARTHD=$2; shift 2 ;;
	*) break ;;
	esac
done
HEARTHD=${HEARTHD:-$BUILDDIR/src/hearthd}
N1=${1:-300} N2=${2:-1300}
command -v valgrind >/dev/null || { echo "instr-per-call: needs valgrind" >&2; exit 1; }
TMP=$(mktemp -d)
HP=
cleanup() {
	[ -n "$HP" ] && kill "$HP" 2>/dev/null && wait "$HP" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# total_ir N: a fresh hearthd under callgrind, N warm calls, its total.
total_ir() {
	local n=$1 port url id i code
	rm -rf "$TMP/data" "$TMP"/cg.*
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	url=http://127.0.0.1:$port
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.%p" "$HEARTHD" \
		--listen "127.0.0.1:$port" --data-dir "$TMP/data" --web-dir "$here/web" \
		--log-level warn 2>"$TMP/hearthd.log" &
	HP=$!
	for i in $(seq 1 300); do
		curl -s -o /dev/null --max-time 1 "$url/healthz" && break
		sleep 0.1
	done
	id=$(curl -s -XPOST "$url/functions" -H 'Content-Type: application/json' \
		-d '{"name":"noop","language":"python","min_warm":4,"max_concurrency":4,"code":"def handler(event, context):\n    return {\"ok\": True}\n"}' |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
	for i in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$url/functions/$id/execute" -d '{}')
		[ "$code" = 200 ] && break
		sleep 0.2
	done
	[ "$code" = 200 ] || { echo "instr-per-call: the function never answered" >&2; exit 1; }
	sleep 3 # the other warm containers
	"$BUILDDIR/bench/loadgen" --url "$url/functions/$id/execute" --body '{"n":1}' \
		--connections 1 --requests "$n" --strict >/dev/null
	kill "$HP"
	wait "$HP" || true
	HP=
	callgrind_annotate "$TMP"/cg.* 2>/dev/null | awk '/PROGRAM TOTALS/ && !n++ { gsub(",", "", $1); print $1 }'
}

a=$(total_ir "$N1")
b=$(total_ir "$N2")
echo "hearthd: $(( (b - a) / (N2 - N1) )) instructions per warm call ($N1 calls: $a, $N2 calls: $b; $HEARTHD)"
