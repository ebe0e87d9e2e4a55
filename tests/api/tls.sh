#!/bin/bash
# HTTPS (--tls-cert, --tls-key; src/api/tls.c under the connection layer)
# with a certificate made here by openssl: the API and the dashboard over
# TLS for a client that trusts it; plain HTTP, garbage and a handshake
# that never comes all fail cleanly and hearthd goes on; the deadlines,
# the JSON for malformed requests and the cap work the same over TLS; and
# a missing, bad or mismatched certificate or key stops hearthd at start
# with a message naming the file.
. "$(dirname "$0")/../lib.sh"

command -v openssl >/dev/null || bail "openssl is not installed (./run.sh installs it)"
CLIENT=(python3 "$top_srcdir/tests/connclient.py")
HT=2
BT=3
CERT="$TEST_TMP/cert.pem" KEY="$TEST_TMP/key.pem" OTHER_KEY="$TEST_TMP/other-key.pem"
jqok() { printf '%s' "$1" | jq -e "$2" >/dev/null; }

ok "openssl makes a self-signed certificate for 127.0.0.1" \
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$KEY" -out "$CERT" -days 2 -subj /CN=localhost \
	-addext "subjectAltName=IP:127.0.0.1,DNS:localhost"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$OTHER_KEY" 2>/dev/null
printf 'not a certificate\n' >"$TEST_TMP/garbage.pem"

# ---- bad start-ups --------------------------------------------------------------------

start_fails() { # start_fails WANT_RC MESSAGE_PART DESC ARGS...: hearthd refuses to start
	local want=$1 part=$2 desc=$3 rc=0 out
	shift 3
	out=$("$HEARTHD" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/bad" \
		--docker-socket "$TEST_TMP/no-docker.sock" "$@" 2>&1 </dev/null) || rc=$?
	if [ "$rc" = "$want" ] && [[ $out == *"$part"* ]]; then
		_tap_result 0 "$desc: exits $want and says so"
	else
		_tap_result 1 "$desc: exits $want and says so"
		diag "exit $rc: $(printf '%s' "$out" | tail -3)"
	fi
}
start_fails 2 "--tls-key is missing" "--tls-cert without --tls-key" --tls-cert "$CERT"
start_fails 2 "--tls-cert is missing" "--tls-key without --tls-cert" \
	--log-level info --tls-key "$KEY"
start_fails 1 "--tls-cert $TEST_TMP/garbage.pem" "a certificate file that is not one" \
	--tls-cert "$TEST_TMP/garbage.pem" --tls-key "$KEY"
start_fails 1 "--tls-key $TEST_TMP/nope.pem: No such file" "a key file that is not there" \
	--tls-cert "$CERT" --tls-key "$TEST_TMP/nope.pem"
start_fails 1 "does not belong to the certificate" "a key of another certificate" \
	--tls-cert "$CERT" --tls-key "$OTHER_KEY"

# ---- HTTPS ----------------------------------------------------------------------------

# The variables, as a service would set them; lib.sh's curl trusts $CERT.
export HEARTH_TLS_CERT="$CERT" HEARTH_TLS_KEY="$KEY"
HEARTH_CACERT="$CERT"
hearth_start --header-timeout "$HT" --body-timeout "$BT" --max-connections 8
like "$(cat "$HEARTH_LOG")" "listening on https://127.0.0.1:$HEARTH_PORT" "hearthd logs its https:// address"
req GET /healthz
is "$STATUS $(header Content-Type)" "200 application/json" "GET /healthz over HTTPS"
req_json POST /functions/ '{"name":"tls","language":"python","code":"def handler(e, c):\n    return 1\n"}'
is "$STATUS" 201 "a function created over HTTPS"
req GET /
is "$STATUS $(header Content-Type)" "200 text/html; charset=utf-8" "the dashboard over HTTPS"

rc=0
curl -s -o /dev/null --max-time 10 "$HEARTH_URL/healthz" || rc=$?
is "$rc" 60 "a client that does not trust the certificate stops at it (curl exit 60)"
rc=0
OUT=$(curl -s --max-time 10 "http://127.0.0.1:$HEARTH_PORT/healthz") || rc=$?
ok "plain HTTP to the TLS port gets no HTTP answer (curl exit $rc)" \
	test "$rc" -ne 0 -a -z "$OUT"
req GET /healthz
is "$STATUS" 200 "hearthd goes on"

G=$("${CLIENT[@]}" --port "$HEARTH_PORT" --header-timeout "$HT" garbage)
# OpenSSL may answer garbage with a TLS alert record (0x15): random bytes
# that happen to read as a handshake record do get one.  Never HTTP.
NOHTTP='.closed and (.replied == "" or (.replied | startswith("\u0015")))'
ok "random bytes instead of a handshake: closed, no reply but a TLS alert" jqok "$G" ".random | $NOHTTP"
ok "a TLS record header with garbage after it: closed, no reply but a TLS alert" \
	jqok "$G" ".\"tls-record\" | $NOHTTP"
ok "zeros: closed, no reply but a TLS alert" jqok "$G" ".\"binary-zeros\" | $NOHTTP"
ok "a connection that never starts its handshake is closed after the header deadline" \
	jqok "$G" ".silent | .closed and .seconds <= $((HT + 6))"
req GET /healthz
is "$STATUS" 200 "hearthd goes on after all that"

D=$("${CLIENT[@]}" --port "$HEARTH_PORT" --ca "$CERT" --header-timeout "$HT" --body-timeout "$BT" deadlines)
ok "over TLS, a client trickling its headers gets the 408 JSON at the deadline" \
	jqok "$D" ".header_trickle | .reply.status == 408 and .reply.json.error.code == \"request_timeout\" and .seconds < $((HT + 3))"
ok "...one trickling its body too" \
	jqok "$D" ".body_trickle | .reply.status == 408 and .seconds < $((BT + 3))"
ok "...and a kept-alive one idle between requests is served" \
	jqok "$D" '[.keepalive_idle.first.status, .keepalive_idle.second.status] == [200, 200]'

R=$("${CLIENT[@]}" --port "$HEARTH_PORT" --ca "$CERT" raw unknown-method http09 body-over-limit)
ok "over TLS, a malformed request is answered in JSON too (501, 400, 413)" jqok "$R" \
	'[.["unknown-method"], .http09, .["body-over-limit"]] |
	 map([.reply.status, .reply.content_type, .closed]) ==
	 [[501, "application/json", true], [400, "application/json", true], [413, "application/json", true]]'

C=$("${CLIENT[@]}" --port "$HEARTH_PORT" --ca "$CERT" cap 8)
ok "over TLS, a connection past the cap gets the 503 JSON after its handshake" \
	jqok "$C" '.refused | .status == 503 and .json.error.code == "unavailable"'
is "$(printf '%s' "$C" | jq .held_after.status)" 200 "...and the open ones are still served"
hearth_stop
done_testing
