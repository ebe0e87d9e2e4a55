# lib.sh — shared by the shell suites that run a real hearthd, tests/api/
# (no Docker) and tests/integration/ (dockerd): sourced, bash.  TAP output,
# a real hearthd on a free port with a temporary data dir, and curl
# helpers.  Needs curl, jq and python3.
#
#   plan N | done_testing         the TAP plan (before or after the tests)
#   ok DESC CMD ARGS...           passes when CMD succeeds
#   is GOT WANT DESC              string equality
#   like GOT SUBSTRING DESC       substring
#   diag MSG, bail MSG
#   hearth_start [ARGS...]        starts hearthd on $HEARTH_DATA (made once per
#                                 script); sets HEARTH_PID, HEARTH_PORT, HEARTH_URL
#   hearth_stop                   SIGTERM, bounded wait, exit 0, clean stderr
#   hearth_kill9                  kill -9 and reap
#   req METHOD PATH [CURL ARGS]   sets STATUS, BODY, HEADERS (a file), ELAPSED_MS
#                                 (sends HEARTH_TEST_TOKEN as a bearer token when set)
#   wait_until SECONDS CMD...     polls CMD every 0.1 s until it succeeds, at
#                                 most SECONDS (never an unbounded wait)
#
# HEARTH_VALGRIND=1 runs hearthd under valgrind --leak-check=full and
# hearth_stop checks its verdict.  HEARTH_CACERT=FILE talks HTTPS to a
# hearthd started with --tls-cert (curl trusts FILE); HEARTH_ULIMIT_N=N
# starts hearthd with an open-file limit of N (soft and hard).  HEARTH_ENV
# ("NAME=value ...", no spaces in values) is hearthd's extra environment
# (an LD_PRELOAD, say), given to it and to nothing else.  The trap on EXIT kills only the hearthd
# this script started and removes the temporary folder.

set -u

: "${top_builddir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
HEARTHD="$top_builddir/src/hearthd"

# A missing tool is a broken set-up, not a reason to skip: fail loudly.
for tool in curl jq python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "Bail out! $tool is not installed (./test.sh installs it)"
		exit 1
	fi
done
if [ -n "${HEARTH_VALGRIND:-}" ]; then
	command -v valgrind >/dev/null 2>&1 || { echo "Bail out! HEARTH_VALGRIND=1 needs valgrind"; exit 1; }
	if ldd "$HEARTHD" 2>/dev/null | grep -q libasan; then
		echo "Bail out! $HEARTHD is built with --enable-sanitizers; valgrind needs a plain build"
		exit 1
	fi
fi

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hearth-test.XXXXXX")
HEARTH_DATA="$TEST_TMP/data"
HEARTH_PID=
HEARTH_PORT=
HEARTH_URL=
HEARTH_LOG=
HEARTH_STARTS=0
_tap_n=0
_tap_failed=0
_tap_planned=

# hearth_kill9: kill -9 the hearthd this script started, if any, and reap it.
hearth_kill9() {
	[ -n "$HEARTH_PID" ] || return 0
	kill -9 "$HEARTH_PID" 2>/dev/null
	wait "$HEARTH_PID" 2>/dev/null
	HEARTH_PID=
}

_cleanup() {
	local rc=$?
	hearth_kill9
	if [ -n "${HEARTH_KEEP_TMP:-}" ]; then
		echo "# kept $TEST_TMP" >&2
	else
		rm -rf "$TEST_TMP"
	fi
	exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

# ---- TAP ------------------------------------------------------------------

plan() { _tap_planned=$1; echo "1..$1"; }

_tap_result() {	# rc desc
	_tap_n=$((_tap_n + 1))
	local desc=${2//$'\n'/ }
	desc=${desc//#/\\#}
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $desc"
	else
		_tap_failed=$((_tap_failed + 1))
		echo "not ok $_tap_n - $desc"
	fi
	return "$1"
}

# A point this run cannot make (counted as SKIP, never as a pass).
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - ${1//#/\\#} # SKIP ${2//#/\\#}"
}

ok() {
	local desc=$1 rc=0
	shift
	"$@" >/dev/null 2>&1 || rc=1
	_tap_result $rc "$desc"
}

is() {
	local got=$1 want=$2 desc=$3
	if [ "$got" = "$want" ]; then
		_tap_result 0 "$desc"
	else
		_tap_result 1 "$desc"
		diag "got:  '$(printf '%.300s' "$got")'"
		diag "want: '$(printf '%.300s' "$want")'"
		return 1
	fi
}

like() {
	local got=$1 want=$2 desc=$3
	case $got in
	*"$want"*) _tap_result 0 "$desc" ;;
	*)
		_tap_result 1 "$desc"
		diag "got:  '$(printf '%.300s' "$got")'"
		diag "want it to contain: '$want'"
		return 1 ;;
	esac
}

diag() {
	local l
	while IFS= read -r l; do printf '# %s\n' "$l"; done <<<"$*"
}

bail() {
	echo "Bail out! $*"
	exit 1
}

done_testing() {
	[ -z "$_tap_planned" ] && echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

# ---- hearthd --------------------------------------------------------------

# wait_until SECONDS CMD...: polls CMD every 0.1 s, at most SECONDS; its
# status is whether CMD ever succeeded.
wait_until() {
	local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))	# µs (bash 5)
	shift
	while :; do
		"$@" && return 0
		[ "${EPOCHREALTIME/./}" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# hearth_start [extra hearthd args]: a daemon on a free port, bounded wait
# for /healthz.  Retries with another port if the one picked got taken in
# between.  By default the pool gets a Docker socket that does not exist so
# these API tests never start containers; HEARTH_TEST_DOCKER_SOCKET
# overrides that.
hearth_start() {
	local attempt i
	[ -x "$HEARTHD" ] || bail "no $HEARTHD: build first"
	for attempt in 1 2 3 4 5; do
		HEARTH_PORT=$(free_port)
		HEARTH_URL="http${HEARTH_CACERT:+s}://127.0.0.1:$HEARTH_PORT"
		HEARTH_STARTS=$((HEARTH_STARTS + 1))
		HEARTH_LOG="$TEST_TMP/hearthd.$HEARTH_STARTS.log"
		local cmd=("$HEARTHD" --listen "127.0.0.1:$HEARTH_PORT" --data-dir "$HEARTH_DATA"
			--web-dir "${HEARTH_WEB_DIR:-$top_srcdir/web/dist}"
			--docker-socket "${HEARTH_TEST_DOCKER_SOCKET:-$TEST_TMP/no-docker.sock}"
			--log-level "${HEARTH_LOG_LEVEL:-info}" "$@")
		if [ -n "${HEARTH_VALGRIND:-}" ]; then
			cmd=(valgrind --leak-check=full --error-exitcode=99 --quiet "${cmd[@]}")
		fi
		if [ -n "${HEARTH_ENV:-}" ]; then
			# shellcheck disable=SC2206 # NAME=value words, split on purpose
			cmd=(env $HEARTH_ENV "${cmd[@]}")
		fi
		if [ -n "${HEARTH_ULIMIT_N:-}" ]; then
			cmd=(bash -c 'ulimit -n "$0" && exec "$@"' "$HEARTH_ULIMIT_N" "${cmd[@]}")
		fi
		"${cmd[@]}" 2>"$HEARTH_LOG" &
		HEARTH_PID=$!
		for i in $(seq 1 100); do	# 10 s (valgrind: 10 s more below)
			if curl -s -o /dev/null --max-time 1 ${HEARTH_CACERT:+--cacert "$HEARTH_CACERT"} "$HEARTH_URL/healthz"; then
				return 0
			fi
			kill -0 "$HEARTH_PID" 2>/dev/null || break
			sleep 0.1
		done
		if [ -n "${HEARTH_VALGRIND:-}" ] && kill -0 "$HEARTH_PID" 2>/dev/null; then
			for i in $(seq 1 100); do
				curl -s -o /dev/null --max-time 1 ${HEARTH_CACERT:+--cacert "$HEARTH_CACERT"} "$HEARTH_URL/healthz" && return 0
				sleep 0.1
			done
		fi
		if kill -0 "$HEARTH_PID" 2>/dev/null; then
			hearth_kill9
			sed 's/^/# hearthd: /' "$HEARTH_LOG"
			bail "hearthd did not answer /healthz within 10 s"
		fi
		wait "$HEARTH_PID" 2>/dev/null
		HEARTH_PID=
		if grep -q "in use" "$HEARTH_LOG" && ! grep -q "data dir" "$HEARTH_LOG"; then
			continue	# the port went to someone else meanwhile
		fi
		sed 's/^/# hearthd: /' "$HEARTH_LOG"
		bail "hearthd exited at start"
	done
	bail "no free port after 5 attempts"
}

# Sanitizer and valgrind reports in a daemon log.
_bad_log() {
	grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer|definitely lost: [1-9]|Invalid (read|write)' "$1"
}

# hearth_stop: SIGTERM, at most 20 s to exit, status 0 and a clean log.
hearth_stop() {
	local i rc=0
	[ -n "$HEARTH_PID" ] || bail "hearth_stop: no hearthd running"
	kill -TERM "$HEARTH_PID"
	for i in $(seq 1 200); do
		kill -0 "$HEARTH_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$HEARTH_PID" 2>/dev/null; then
		hearth_kill9
		_tap_result 1 "hearthd exits within 20 s of SIGTERM"
		return 1
	fi
	wait "$HEARTH_PID" || rc=$?
	HEARTH_PID=
	is "$rc" 0 "hearthd exits 0 on SIGTERM" || sed 's/^/# hearthd: /' "$HEARTH_LOG" | tail -40
	if _bad_log "$HEARTH_LOG" >/dev/null; then
		_tap_result 1 "no sanitizer or valgrind reports in hearthd's stderr"
		sed 's/^/# hearthd: /' "$HEARTH_LOG" | head -60
	else
		_tap_result 0 "no sanitizer or valgrind reports in hearthd's stderr"
	fi
}

# ---- HTTP -----------------------------------------------------------------

# req METHOD PATH [curl args]: STATUS, BODY and HEADERS (a file) of the reply.
req() {
	local method=$1 path=$2
	shift 2
	HEADERS="$TEST_TMP/headers"
	# Emptied, not removed: the helpers here start no process of their
	# own (a suite makes thousands of requests).
	: >"$TEST_TMP/body"
	: >"$HEADERS"
	local out t auth=()
	# HEARTH_TEST_TOKEN: every request sends it (a hearthd with --token)
	[ -z "${HEARTH_TEST_TOKEN:-}" ] || auth=(-H "Authorization: Bearer $HEARTH_TEST_TOKEN")
	out=$(curl -s -X "$method" -o "$TEST_TMP/body" -D "$HEADERS" -w '%{http_code} %{time_total}' \
		--max-time 120 ${HEARTH_CACERT:+--cacert "$HEARTH_CACERT"} "${auth[@]}" "$@" "$HEARTH_URL$path") || out="curl-failed-$? 0"
	STATUS=${out% *}
	# What the request took on the wire (curl's own clock: no process
	# start-up in it), in whole milliseconds: curl prints seconds with
	# six decimals.
	t=${out##* }
	if [[ $t =~ ^([0-9]+)(\.([0-9]*))?$ ]]; then
		t=${BASH_REMATCH[3]}000
		ELAPSED_MS=$((10#${BASH_REMATCH[1]} * 1000 + 10#${t:0:3}))
	else
		ELAPSED_MS=0
	fi
	BODY=$(<"$TEST_TMP/body")
}

# post_json METHOD PATH JSON: the body from a file, so large ones fit.
req_json() {
	local method=$1 path=$2 json=$3
	shift 3
	printf '%s' "$json" >"$TEST_TMP/req.json"
	req "$method" "$path" -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/req.json" "$@"
}

header() {	# header NAME: its value in the last reply (the first such line)
	local l k want=${1,,}
	while IFS= read -r l; do
		k=${l%%:*}
		[[ $l == *:* && ${k,,} == "$want" ]] || continue
		l=${l#*:}
		l=${l#"${l%%[! ]*}"}
		printf '%s\n' "${l%$'\r'}"
		return 0
	done <"$HEADERS"
	return 0
}

jqr() { jq -r "$@" 2>/dev/null <<<"$BODY"; }

# The reply is a JSON error with this status and error.code, and a message.
is_error() {	# STATUS_WANT DESC [MESSAGE_SUBSTRING]
	local want=$1 desc=$2 sub=${3:-}
	local code msg ctype
	code=$(jqr '.error.code')
	msg=$(jqr '.error.message')
	ctype=$(header Content-Type)
	if [ "$STATUS" = "$want" ] && [ -n "$code" ] && [ "$code" != null ] &&
	   [ -n "$msg" ] && [ "$msg" != null ] && [ "$ctype" = application/json ] &&
	   { [ -z "$sub" ] || [[ $msg == *"$sub"* ]]; }; then
		_tap_result 0 "$desc -> $want"
	else
		_tap_result 1 "$desc -> $want"
		diag "status $STATUS, content-type '$ctype', body: $(printf '%.300s' "$BODY")"
		[ -n "$sub" ] && diag "wanted the message to mention: $sub"
		return 1
	fi
}

# A zip archive from name=content pairs (python's zipfile; no zip(1) needed).
# make_zip OUT NAME CONTENT [NAME CONTENT...]
make_zip() {
	python3 - "$@" <<'PY'
import sys, zipfile
out, args = sys.argv[1], sys.argv[2:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for name, content in zip(args[::2], args[1::2]):
        z.writestr(name, content)
PY
}

b64() { base64 -w0 "$1"; }
