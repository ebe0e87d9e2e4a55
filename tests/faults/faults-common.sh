# faults-common.sh — sourced (after lib.sh and exec-common.sh) by the load
# and fault suites of tests/faults/: load from bench/loadgen, what a
# process holds (RSS, descriptors), /metrics samples, and the functions
# the suites put under load.
#
#   proc_rss_kb PID | proc_fds PID      what the process holds now
#   proc_fd_kinds PID                   its descriptors by kind: "engine N
#                                       shim N tcp N pipe N file N other N"
#   metric 'NAME{LABELS}'               a sample of /metrics (0 when absent)
#   load_start LABEL CONNS PATH BODY SECONDS [LOADGEN ARGS]
#                                       a closed-loop load in the background;
#                                       its JSON report in $TEST_TMP/lg.LABEL.json
#   load_wait                           waits for every load started
#   load_stop                           ends them now (SIGINT: they report)
#   load_field LABEL JQ                 a field of a finished load's report
#   load_statuses LABEL                 "200:123 429:4" (sorted by status)
#   sql DB QUERY                        the sqlite3 CLI, with a busy timeout

LOADGEN="$top_builddir/bench/loadgen"
[ -x "$LOADGEN" ] || bail "no $LOADGEN: build first (make)"
command -v sqlite3 >/dev/null 2>&1 || bail "the sqlite3 CLI is not installed"
LOAD_PIDS=()

proc_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
proc_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# engine: Unix sockets whose peer is dockerd's socket (the engine client's
# connections, pooled by libcurl); shim: the other connected Unix sockets
# (their peer is a shim inside a container, in another network namespace,
# so ss cannot name it); tcp: listeners and clients.
proc_fd_kinds() {
	local pid=$1
	{
		ss -xapn 2>/dev/null | awk 'NR > 1 { print "U", $6, $5, $8 }'
		find "/proc/$pid/fd" -mindepth 1 -printf 'F %l\n' 2>/dev/null
	} | awk '
		$1 == "U" { path[$2] = $3; peer[$2] = $4; next }
		$1 == "F" && $2 ~ /^socket:\[/ { gsub(/[^0-9]/, "", $2); sock[$2] = 1; n++; next }
		$1 == "F" && $2 ~ /^pipe:/ { pipe++; next }
		$1 == "F" && $2 ~ /^\// { file++; next }
		$1 == "F" { other++ }
		END {
			for (i in sock) {
				if (!(i in path)) { tcp++; continue }
				if (path[peer[i]] ~ /docker\.sock$/) engine++
				else if (path[i] == "*") shim++
				else other++
			}
			printf "engine %d shim %d tcp %d pipe %d file %d other %d\n", engine, shim, tcp, pipe, file, other
		}'
}

metric() {	# NAME{LABELS}: a sample's value (0 when absent)
	curl -s --max-time 10 "$HEARTH_URL/metrics" |
		awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}

load_start() {	# LABEL CONNS PATH BODY SECONDS [LOADGEN ARGS...]
	local label=$1 conns=$2 path=$3 body=$4 secs=$5
	shift 5
	"$LOADGEN" --json --label "$label" --connections "$conns" --duration "$secs" \
		--timeout-ms "${LOAD_TIMEOUT_MS:-60000}" --url "$HEARTH_URL$path" \
		--header 'Content-Type: application/json' --body "$body" "$@" \
		>"$TEST_TMP/lg.$label.json" 2>"$TEST_TMP/lg.$label.err" &
	LOAD_PIDS+=($!)
}

load_wait() {
	local p
	for p in "${LOAD_PIDS[@]}"; do wait "$p"; done
	LOAD_PIDS=()
}

load_stop() {
	local p
	for p in "${LOAD_PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	load_wait
}

load_field() { jq -r "$2" "$TEST_TMP/lg.$1.json" 2>/dev/null; }

load_statuses() {
	jq -r '.status | to_entries | sort_by(.key) | map("\(.key):\(.value)") | join(" ")' \
		"$TEST_TMP/lg.$1.json" 2>/dev/null
}

sql() { sqlite3 -cmd '.timeout 5000' "$@"; }

# The functions the suites load: quick ones in both languages, one that
# prints and hashes, and two that are overloaded on purpose (slow, at most
# two containers): the python one sleeps 0.2 s, the node one a quarter of
# the time 1.5 s, past its 1 s timeout (a 504, and a recycled container).
SRC_ECHO_PY=$'def handler(event, context):\n    return event\n'
SRC_WORK_PY=$'import hashlib, json\n\ndef handler(event, context):\n    print("working on", event.get("n"))\n    h = hashlib.sha256(json.dumps(event).encode()).hexdigest()\n    return {"h": h, "words": [h[i:i + 8] for i in range(0, 64, 8)]}\n'
SRC_ECHO_JS=$'exports.handler = async (event) => ({ got: event, at: Date.now() });\n'
SRC_SLOW_PY=$'import time\n\ndef handler(event, context):\n    time.sleep(0.2)\n    return {"slept": 0.2}\n'
SRC_SLOW_JS=$'exports.handler = async () => {\n  const ms = Math.random() < 0.25 ? 1500 : 150;\n  await new Promise((r) => setTimeout(r, ms));\n  return { slept: ms };\n};\n'
