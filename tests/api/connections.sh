#!/bin/bash
# The connection layer (src/api/conns.c) against a real hearthd, with raw
# clients (tests/connclient.py):
#   - a client too slow with its headers, one that sends nothing, one too
#     slow with its body: answered 408 in JSON at their deadline and
#     closed; a kept-alive client idle between requests and an event
#     stream held past both deadlines are not;
#   - every malformed request evhttp 2.1 would answer with its own HTML
#     page is answered in JSON with the same status (431 for a head over
#     the limit), and the one left to evhttp still is;
#   - past --max-connections a new connection gets the 503 JSON and is
#     closed while those open keep being served;
#   - a flood: keep-alive callers keep calling while 2,000 slow-loris
#     connections and then 5,000 at once come in; every call is answered
#     (their p99 is printed, not asserted), every flood connection gets a
#     503 or a 408 (or a 200 once a slot frees), /metrics counts them;
#   - what libevent's reads (4 KiB) and writes (16 KiB) leave behind on an
#     edge-triggered socket is taken up: a long head with a chunked body
#     and a request behind it, 300 pipelined requests, an end of file in
#     the middle of a head or a chunked body (closed at once, no 408),
#     urgent data, a 600 KB file, to a reader that waits too;
#   - the default cap comes from the open-file limit, raised to its hard
#     limit at start.
. "$(dirname "$0")/../lib.sh"

CLIENT=(python3 "$top_srcdir/tests/connclient.py")
HT=2 # --header-timeout
BT=3 # --body-timeout

metric() { # metric NAME: its value in /metrics
	curl -s "$HEARTH_URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
# Waits (at most 5 s) for the open connections to drop to at most $1.
open_at_most() {
	local i
	for i in $(seq 1 50); do
		[ "$(metric hearth_http_connections)" -le "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
jqok() { # jqok JSON FILTER: the filter holds
	printf '%s' "$1" | jq -e "$2" >/dev/null
}
between() { # between VALUE LOW HIGH (decimals)
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'
}

# ---- deadlines, malformed requests, the cap ----------------------------------------

hearth_start --header-timeout "$HT" --body-timeout "$BT" --max-connections 8

# The event stream is held in the background while the rest goes on.
mkfifo "$TEST_TMP/stream.in"
"${CLIENT[@]}" --port "$HEARTH_PORT" --header-timeout "$HT" --body-timeout "$BT" stream \
	<"$TEST_TMP/stream.in" >"$TEST_TMP/stream.out" 2>&1 &
STREAM_PID=$!
exec 7>"$TEST_TMP/stream.in"

D=$("${CLIENT[@]}" --port "$HEARTH_PORT" --header-timeout "$HT" --body-timeout "$BT" deadlines)
reply_ok() { # reply_ok JSON_PATH STATUS CODE: a JSON error reply, then the close
	printf '%s' "$D" | jq -e --argjson s "$2" --arg c "$3" \
		"$1 | .status == \$s and .content_type == \"application/json\" and
		 (.connection | ascii_downcase) == \"close\" and .json.error.code == \$c and
		 (.json.error.message | length) > 0" >/dev/null
}
ok "a client trickling its headers gets a 408 JSON and is closed" \
	reply_ok .header_trickle.reply 408 request_timeout
T=$(printf '%s' "$D" | jq .header_trickle.seconds)
ok "...at the header deadline ($T s; --header-timeout $HT)" between "$T" $((HT - 1)).5 $((HT + 2)).5
ok "a client sending nothing gets the 408 at the header deadline" \
	reply_ok .silent.reply 408 request_timeout
T=$(printf '%s' "$D" | jq .silent.seconds)
ok "...after $T s" between "$T" $((HT - 1)).5 $((HT + 2)).5
ok "a client trickling its body gets a 408 JSON" reply_ok .body_trickle.reply 408 request_timeout
T=$(printf '%s' "$D" | jq .body_trickle.seconds)
ok "...at the body deadline after its headers ($T s; --body-timeout $BT)" \
	between "$T" $((BT - 1)).5 $((BT + 2)).5
like "$(printf '%s' "$D" | jq -r .body_trickle.reply.json.error.message)" "--body-timeout" \
	"its message names --body-timeout"
is "$(printf '%s' "$D" | jq -c '[.keepalive_idle.first.status, .keepalive_idle.second.status]')" \
	"[200,200]" "a kept-alive connection idle past the header deadline still serves its next request"

for i in $(seq 1 150); do # its first line comes after $((HT + BT + 1)) s
	[ -s "$TEST_TMP/stream.out" ] && break
	sleep 0.1
done
S=$(head -1 "$TEST_TMP/stream.out")
is "$(printf '%s' "$S" | jq -c '[.status, .closed]')" '["HTTP/1.1 200 OK",false]' \
	"an event stream stays open past both deadlines ($(printf '%s' "$S" | jq .held) s)"
req_json POST /functions/ '{"name":"streamed","language":"python","code":"def handler(e, c):\n    return 1\n"}'
echo >&7
exec 7>&-
wait "$STREAM_PID"
is "$(tail -1 "$TEST_TMP/stream.out" | jq .functions_event)" true \
	"...and still delivers events after them"

R=$("${CLIENT[@]}" --port "$HEARTH_PORT" raw huge-header long-request-line unknown-method \
	lowercase-method negative-length letters-length http09 version-2 version-garbled \
	empty-request-line no-colon fold-first bare-cr bad-target body-over-limit \
	length-past-64-bits te-and-length expect-other bad-chunk-size)
json_case() { # json_case NAME STATUS CODE DESC
	if printf '%s' "$R" | jq -e --arg n "$1" --argjson s "$2" --arg c "$3" \
		'.[$n] | .reply.status == $s and .reply.content_type == "application/json" and
		 .reply.json.error.code == $c and .closed' >/dev/null; then
		_tap_result 0 "$4 -> $2 $3 in JSON, then closed"
	else
		_tap_result 1 "$4 -> $2 $3 in JSON, then closed"
		diag "$(printf '%s' "$R" | jq -c --arg n "$1" '.[$n]' | cut -c1-400)"
	fi
}
json_case huge-header 431 headers_too_large "a 70 KiB header (evhttp: 400 HTML)"
json_case long-request-line 431 headers_too_large "a 70 KiB request line (evhttp: 400 HTML)"
json_case unknown-method 501 not_implemented "method FOO (evhttp: 501 HTML)"
json_case lowercase-method 501 not_implemented "method get (evhttp: 501 HTML)"
json_case negative-length 400 bad_request "Content-Length: -5 (evhttp: 400 HTML)"
json_case letters-length 400 bad_request "Content-Length: abc (evhttp: 400 HTML)"
json_case http09 400 bad_request "an HTTP/0.9 request line (evhttp: 400 HTML)"
json_case version-2 400 bad_request "HTTP/2.0 (evhttp: 400 HTML)"
json_case version-garbled 400 bad_request "HTTP/1.x (evhttp: 400 HTML)"
json_case empty-request-line 400 bad_request "an empty request line (evhttp: 400 HTML)"
json_case no-colon 400 bad_request "a header line without a colon (evhttp: 400 HTML)"
json_case fold-first 400 bad_request "a continuation line first (evhttp: 400 HTML)"
json_case bare-cr 400 bad_request "a bare CR in a header value (evhttp: 400 HTML)"
json_case bad-target 400 bad_request "target //a:b/ (evhttp: 400 HTML)"
json_case body-over-limit 413 too_large "a body of 100 MB announced (evhttp: 413 HTML after reading it all)"
json_case length-past-64-bits 413 too_large "a Content-Length past 64 bits (evhttp: waits forever)"
json_case te-and-length 400 bad_request "Transfer-Encoding with Content-Length (evhttp: 400 HTML)"
json_case expect-other 417 expectation_failed "Expect: fancy (evhttp: 417 HTML)"
is "$(printf '%s' "$R" | jq -r '."bad-chunk-size".reply | "\(.status) \(.content_type)"')" \
	"413 text/html" "a malformed chunk size is still evhttp's own 413 page (SECURITY.md lists it)"
is "$(metric hearth_http_requests_rejected_total)" 18 "/metrics counts the 18 answered in JSON"
ok "...and the 408s by phase" test "$(metric 'hearth_http_request_timeouts_total{phase="header"}')" -ge 2 -a \
	"$(metric 'hearth_http_request_timeouts_total{phase="body"}')" -ge 1

ok "every connection so far has closed" open_at_most 1
C=$("${CLIENT[@]}" --port "$HEARTH_PORT" cap 8)
is "$(printf '%s' "$C" | jq .before.status)" 200 "8 connections open (the cap), one of them served"
ok "a 9th gets the 503 JSON (unavailable), Retry-After and Connection: close" jqok "$C" \
	'.refused | .status == 503 and .content_type == "application/json" and
	 .json.error.code == "unavailable" and .retry_after == "1" and
	 (.connection | ascii_downcase) == "close"'
like "$(printf '%s' "$C" | jq -r .refused.json.error.message)" "--max-connections" \
	"its message names --max-connections"
is "$(printf '%s' "$C" | jq .refused_closed)" true "...and it is closed"
is "$(printf '%s' "$C" | jq .held_after.status)" 200 "an open connection is still served after the refusal"
is "$(metric hearth_http_connections_refused_total)" 1 "/metrics counts the refusal"

# A body read ahead of libevent (its 4 KiB a turn; conns.c read_body):
# a 600 KB body with a request pipelined behind it in the same write, then
# the same body in three pieces 0.3 s apart, and one behind Expect:
# 100-continue.  Each is answered whole, the pipelined one after it.
BODY=$(python3 - "$HEARTH_PORT" "$top_srcdir/tests" <<'PY'
import json, socket, sys, time
sys.path.insert(0, sys.argv[2])
from connclient import replies
port = int(sys.argv[1])
body = b"x" * 600_000  # not JSON: POST /functions/ reads it all, then answers 400

def post(extra=b""):
    return (b"POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: %d\r\n\r\n" % len(body))

GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
res = {}
s = socket.create_connection(("127.0.0.1", port))
s.sendall(post() + body + GET)
res["one_write"] = [r[0] for r in replies(s, 2)]
s.close()
s = socket.create_connection(("127.0.0.1", port))
t0 = time.monotonic()
s.sendall(post() + body[:200_000])
time.sleep(0.3)
s.sendall(body[200_000:400_000])
time.sleep(0.3)
s.sendall(body[400_000:] + GET)
r = replies(s, 2)
res["pieces"] = [x[0] for x in r]
res["pieces_after_s"] = round(time.monotonic() - t0, 2)
res["pieces_error"] = json.loads(r[0][1])["error"]["code"] if r and r[0][0] == 400 else None
s.close()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(post(b"Expect: 100-continue\r\n"))
s.settimeout(10)
first = s.recv(4096)
res["continue"] = first.split(b"\r\n")[0].decode()
s.sendall(body + GET)
res["after_continue"] = [x[0] for x in replies(s, 2)]
s.close()
print(json.dumps(res))
PY
)
is "$(printf '%s' "$BODY" | jq -c .one_write)" "[400,200]" \
	"a 600 KB body and a request pipelined behind it: both answered, in order"
is "$(printf '%s' "$BODY" | jq -c .pieces)" "[400,200]" "the same body in three pieces 0.3 s apart too"
is "$(printf '%s' "$BODY" | jq -r .pieces_error)" "bad_request" "...its answer is the API's, on the whole body"
ok "...and came once the last piece was sent ($(printf '%s' "$BODY" | jq .pieces_after_s) s)" \
	between "$(printf '%s' "$BODY" | jq .pieces_after_s)" 0.6 5
is "$(printf '%s' "$BODY" | jq -r .continue)" "HTTP/1.1 100 Continue" "Expect: 100-continue is answered first"
is "$(printf '%s' "$BODY" | jq -c .after_continue)" "[400,200]" "...then the body and the one behind it are"
hearth_stop

# ---- edge-triggered sockets --------------------------------------------------------------
# conns.c watches a plain connection's socket edge-triggered: an edge comes
# again only for bytes that arrive later, so whatever a read or a write
# leaves behind must be taken up by hearthd itself.  libevent reads 4 KiB
# at a time and writes 16 KiB: a 7 KB head with a 20 KB chunked body and a
# request behind it in one write, 300 requests pipelined in one write
# (12 KB), an end of file right behind half a head or part of a chunked
# body, TCP urgent data in a head, a 600 KB file read at once, and the
# same file read by a client that waits 0.5 s first (the socket fills, the
# write waits for room).
W="$TEST_TMP/web-edge"
mkdir -p "$W"
head -c 600000 /dev/zero | tr '\0' 'z' >"$W/big.txt"
HEARTH_WEB_DIR=$W hearth_start
EDGE=$(python3 - "$HEARTH_PORT" "$top_srcdir/tests" <<'PY'
import json, socket, sys, time
sys.path.insert(0, sys.argv[2])
from connclient import replies
port = int(sys.argv[1])

GET = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
BIG = b"GET /big.txt HTTP/1.1\r\nHost: x\r\n\r\n"
res = {}
chunk = b"y" * 20000  # not JSON: POST /functions/ reads it all, then answers 400
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"X-Pad: " + b"p" * 7000 + b"\r\nTransfer-Encoding: chunked\r\n\r\n" +
          b"%x\r\n" % len(chunk) + chunk + b"\r\n0\r\n\r\n" + GET)
res["big_head"] = [r[0] for r in replies(s, 2, timeout=5)]
s.close()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(GET * 300)
r = replies(s, 300, timeout=5)
res["pipelined"] = len([x for x in r if x[0] == 200])
s.close()
# A client that stops mid-request: its end of file came with its last
# bytes, so no edge follows; it is closed at once, not at a deadline.
for name, data in (("fin_head", b"GET /healthz HTTP/1.1\r\nHost: x\r\n"),
                   ("fin_chunked", b"POST /functions/ HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nab")):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    t0 = time.monotonic()
    try:
        got = s.recv(65536)
        res[name] = ["closed" if not got else got.split(b" ")[1].decode(),
                     round(time.monotonic() - t0, 2)]
    except socket.timeout:
        res[name] = ["timeout", 5]
    s.close()
# TCP urgent data stops a read at its mark: the rest is read too.
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET /healthz HTTP/1.1\r\n")
s.send(b"!", socket.MSG_OOB)
s.sendall(b"Host: x\r\n\r\n")
res["urgent"] = [r[0] for r in replies(s, 1, timeout=5)]
s.close()
for name, wait in (("file", 0), ("file_slow_reader", 0.5)):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(BIG)
    time.sleep(wait)
    r = replies(s, 1, timeout=5)[0]
    res[name] = [r[0], len(r[1])]
    s.close()
print(json.dumps(res))
PY
)
is "$(printf '%s' "$EDGE" | jq -c .big_head)" "[400,200]" \
	"a 7 KB head, a 20 KB chunked body and a request behind it in one write: both answered"
is "$(printf '%s' "$EDGE" | jq .pipelined)" 300 "300 requests pipelined in one write: all answered"
is "$(printf '%s' "$EDGE" | jq -r '.fin_head[0]')" closed \
	"a client that sends half a head and its end of file is closed..."
ok "...at once ($(printf '%s' "$EDGE" | jq '.fin_head[1]') s), not at the header deadline" \
	between "$(printf '%s' "$EDGE" | jq '.fin_head[1]')" 0 1
is "$(printf '%s' "$EDGE" | jq -r '.fin_chunked[0]')" closed \
	"one that sends part of a chunked body and its end of file too..."
ok "...at once ($(printf '%s' "$EDGE" | jq '.fin_chunked[1]') s), not at the body deadline" \
	between "$(printf '%s' "$EDGE" | jq '.fin_chunked[1]')" 0 1
is "$(metric 'hearth_http_request_timeouts_total{phase="header"}')" 0 "...and neither counts as a 408"
is "$(metric 'hearth_http_request_timeouts_total{phase="body"}')" 0 "...of either phase"
is "$(printf '%s' "$EDGE" | jq -c .urgent)" "[200]" "a request with TCP urgent data in its head is answered"
is "$(printf '%s' "$EDGE" | jq -c .file)" "[200,600000]" "a 600 KB file comes whole"
is "$(printf '%s' "$EDGE" | jq -c .file_slow_reader)" "[200,600000]" \
	"...and to a client that reads only after 0.5 s"
hearth_stop

# ---- the flood ------------------------------------------------------------------------

# The client holds up to 7,000 sockets; hearthd its 300 and the refused
# ones for a moment.
# root may raise the hard limit too (a CI box may start lower than 8192)
[ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 65536 ] && ulimit -Hn 65536 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
ok "the open-file limit allows the flood (ulimit -n: $(ulimit -n), 8192 needed)" \
	test "$(ulimit -n)" -ge 8192
# Every call of the keep-alive clients would be a log line.
HEARTH_LOG_LEVEL=warn hearth_start --header-timeout "$HT" --body-timeout "$BT" --max-connections 300
F=$("${CLIENT[@]}" --port "$HEARTH_PORT" --header-timeout "$HT" flood --keepalive 4 \
	--call "GET /functions/" --slowloris 2000 --burst 5000)
printf '%s' "$F" | jq -c . | sed 's/^/# /'
diag "keep-alive callers during the flood: $(printf '%s' "$F" | jq -r '.keepalive |
	"\(.calls_in_flood) calls, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (before it: p50 \(.before_p50_ms) ms, p99 \(.before_p99_ms) ms)"')"
is "$(printf '%s' "$F" | jq -c '[.keepalive.errors, (.keepalive.calls_in_flood > 0)]')" "[0,true]" \
	"the keep-alive callers got every answer during the flood"
# A slow-loris client whose event loop falls more than the 2 s of dropped
# input behind may see the close (a reset) instead of its answer.
ok "each of the 2,000 slow-loris connections got the 503 JSON (over the cap) or a 408 (at the deadline), or was closed" \
	jqok "$F" '.slowloris | .finished == 2000 and (.outcomes | keys - ["408", "503", "closed"] == []) and
		.outcomes["408"] > 0 and .outcomes["503"] > 0'
# Bounded by the header deadline, not by evhttp's idle timeout (60 s);
# the margin is for a loaded machine and the client's own event loop.
ok "...the last within $((HT + 10)) s of its start ($(printf '%s' "$F" | jq .slowloris.last_closed_s) s)" \
	between "$(printf '%s' "$F" | jq .slowloris.last_closed_s)" 0 $((HT + 10))
# One that found a free slot is served, or gets the 408 if the client (its
# event loop busy with 7,000 sockets) took longer than the deadline to send.
is "$(printf '%s' "$F" | jq -c '.burst | [.finished, (.outcomes | keys - ["200", "408"])]')" '[5000,["503"]]' \
	"each of the 5,000 at once got the 503 JSON, or was served once a slot was free"
# Each of the 7,000 not served was refused or timed out, as /metrics counts.
NOT_SERVED=$(printf '%s' "$F" | jq '7000 - (.burst.outcomes["200"] // 0)')
is "$(($(metric hearth_http_connections_refused_total) + $(metric 'hearth_http_request_timeouts_total{phase="header"}')))" \
	"$NOT_SERVED" "/metrics counts every flood connection not served as refused or timed out ($NOT_SERVED)"
N503=$(printf '%s' "$F" | jq '(.slowloris.outcomes["503"] // 0) + (.burst.outcomes["503"] // 0)')
ok "...at least as many refusals as the clients saw 503s ($N503)" \
	test "$(metric hearth_http_connections_refused_total)" -ge "$N503"
ok "the open connections drop back once the flood is over" open_at_most 1
req GET /healthz
is "$STATUS" 200 "hearthd still answers"
hearth_stop

# ---- the default cap ------------------------------------------------------------------

HEARTH_ULIMIT_N=1000 hearth_start --max-containers 100
# The limit hearthd saw (valgrind keeps a few descriptors of its own).
LIM=$(sed -n 's/.*connections: at most [0-9]* at once (open-file limit \([0-9]*\).*/\1/p' "$HEARTH_LOG")
ok "with ulimit -n 1000 hearthd logs its cap and the open-file limit (${LIM:-none})" \
	test -n "$LIM" -a "${LIM:-0}" -le 1000 -a "${LIM:-0}" -gt 900
is "$(metric hearth_http_connections_max)" "$((${LIM:-1000} - 128 - 2 * 100))" \
	"with 100 containers the cap is that limit - 128 - 2 x 100 ($((${LIM:-1000} - 328)))"
hearth_stop

HARD=$(ulimit -Hn)
WANT=$((HARD - 128 - 2 * 64))
[ "$WANT" -gt 16384 ] && WANT=16384
[ "$WANT" -lt 16 ] && WANT=16
hearth_start
is "$(awk '/^Max open files/ { print $4 }' "/proc/$HEARTH_PID/limits")" "$HARD" \
	"hearthd raises its soft open-file limit to the hard one ($HARD)"
is "$(metric hearth_http_connections_max)" "$WANT" "and caps connections at min($HARD - 256, 16384) = $WANT"
hearth_stop
done_testing
