#!/bin/bash
# Function URLs (ANY /fn/{route}) against real containers: the request as
# a payload 2.0 event (query, repeated headers, cookies, text and binary
# bodies), the reply mapped back (a custom status, headers, cookies, a
# binary body, a redirect, a bare value), the longest route winning, a
# handler error as a 502 and a timeout as a 504 without the stack.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

exec_start
ECHO=$'import base64, json\n\ndef handler(event, context):\n    q = event.get("queryStringParameters") or {}\n    if q.get("redirect"):\n        return {"statusCode": 302, "headers": {"Location": q["redirect"]}}\n    if q.get("bin"):\n        return {"statusCode": 200, "headers": {"Content-Type": "application/octet-stream"},\n                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}\n    if q.get("badb64"):\n        return {"statusCode": 200, "headers": {"Content-Type": "text/plain", "X-Leak": "1"},\n                "body": "!!! not base64", "isBase64Encoded": True}\n    if q.get("inject"):\n        return {"statusCode": 200, "headers": {"X-Ok": "yes", "X-Bad": "a\\r\\nSet-Cookie: evil=1"}, "body": "x"}\n    return {"statusCode": int(q.get("status", "200")),\n            "headers": {"Content-Type": "application/json", "X-Echo": "1"},\n            "cookies": ["session=abc; Path=/", "theme=dark"],\n            "body": json.dumps(event)}\n'
create_warm ECHO_ID fn-echo python "$ECHO" '{"route":"/echo"}'
create_warm PLAIN fn-plain python $'def handler(event, context):\n    return {"plain": True, "path": event["rawPath"]}\n' '{"route":"/echo/plain"}'
create_warm BOOM fn-boom python $'def handler(event, context):\n    raise ValueError("secret detail")\n' '{"route":"/boom"}'
create_warm SLOW fn-slow python $'import time\ndef handler(event, context):\n    time.sleep(3)\n' '{"route":"/slow","timeout":1}'

# ---- the request as an event ------------------------------------------------------------
req POST '/fn/echo/a/b?x=1&y=two%20words&x=3' -H 'Cookie: c1=v1; c2=v2' -H 'X-Multi: one' \
	-H 'X-Multi: two' -H 'Content-Type: text/plain' --data-binary 'hello text'
is "$STATUS" 200 "POST /fn/echo/a/b reaches the function routed at /echo" || diag "$BODY"
is "$(jqr '[.version, .routeKey, .rawPath, .rawQueryString] | @csv')" \
	'"2.0","$default","/echo/a/b","x=1&y=two%20words&x=3"' "version 2.0, rawPath, rawQueryString"
is "$(jqr -c .queryStringParameters)" '{"x":"1,3","y":"two words"}' "query parameters decoded, repeated ones joined"
is "$(jqr '.headers["x-multi"]')" "one,two" "repeated headers joined, names lower-cased"
is "$(jqr -c .cookies)" '["c1=v1","c2=v2"]' "cookies on their own"
is "$(jqr '.headers | has("cookie")')" false "  and not among the headers"
is "$(jqr '[.body, .isBase64Encoded] | @csv')" '"hello text",false' "a text body as it is"
is "$(jqr '.requestContext.http | [.method, .path, .sourceIp] | @csv')" '"POST","/echo/a/b","127.0.0.1"' \
	"requestContext.http: method, path, source IP"
like "$(jqr .requestContext.http.userAgent)" curl "  and the user agent"
is "$(jqr .requestContext.requestId)" "$(header X-Hearth-Invocation-Id)" "requestId is the invocation's id"
ok "requestContext.timeEpoch is now (ms)" test "$(jqr ".requestContext.timeEpoch > $(( $(now_ms) - 60000 ))")" = true

head -c 256 /dev/urandom >"$TEST_TMP/bin.in"
printf '\x00\xff\xfe' >>"$TEST_TMP/bin.in"
req POST /fn/echo -H 'Content-Type: application/octet-stream' --data-binary @"$TEST_TMP/bin.in"
is "$(jqr .isBase64Encoded)" true "a binary body goes in base64"
ok "  and decodes to the very bytes sent" cmp -s <(jqr .body | base64 -d) "$TEST_TMP/bin.in"

# ---- the reply ----------------------------------------------------------------------------
req GET '/fn/echo?status=418'
is "$STATUS" 418 "the function's statusCode (418)"
is "$(header X-Echo)" 1 "its headers"
is "$(grep -ci '^set-cookie:' "$HEADERS")" 2 "its cookies, one Set-Cookie each"
like "$(grep -i '^set-cookie:' "$HEADERS" | head -1)" "session=abc; Path=/" "  as given"
req GET '/fn/echo?redirect=https://example.org/next'
is "$STATUS:$(header Location)" "302:https://example.org/next" "a redirect: 302 and Location"
req GET '/fn/echo?bin=1'
is "$(header Content-Type)" "application/octet-stream" "a binary reply: its content type"
ok "  and the 256 bytes, decoded from base64" cmp -s "$TEST_TMP/body" <(python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))')
req GET '/fn/echo?badb64=1'
is "$STATUS:$(jqr .message)" "502:the function's body is not valid base64" \
	"a body that is not the base64 it claims: 502"
is "$(grep -ci '^content-type:' "$HEADERS"):$(header Content-Type)" "1:application/json" \
	"  with one Content-Type, JSON (not the function's text/plain too)"
is "$(grep -ci '^x-leak:' "$HEADERS")" 0 "  and none of the function's headers"
req GET '/fn/echo?inject=1'
is "$(header X-Ok):$(grep -ci 'evil' "$HEADERS")" "yes:0" "a header with CR/LF in its value is dropped, no header injection"
is "$(curl -s -I -o /dev/null -w '%{http_code}:%{size_download}' "$HEARTH_URL/fn/echo?status=202")" "202:0" \
	"HEAD: the status, no body"
req PATCH /fn/echo -d '{}'
is "$(jqr .requestContext.http.method)" PATCH "PATCH reaches the function"
req OPTIONS /fn/echo
is "$(jqr .requestContext.http.method)" OPTIONS "OPTIONS too"
req DELETE /fn/echo/x
is "$(jqr .requestContext.http.method)" DELETE "DELETE too"

# ---- routes ------------------------------------------------------------------------------------
req GET /fn/echo/plain/deeper
is "$STATUS:$(jqr -c .)" '200:{"plain":true,"path":"/echo/plain/deeper"}' \
	"the longest route wins (/echo/plain over /echo); a bare value is a JSON 200"
is "$(header Content-Type)" "application/json" "  as application/json"
req GET /fn/echo/plainer
is "$(jqr .rawPath)" /echo/plainer "a route matches whole segments only (/echo/plainer is /echo's)"
req GET /fn/nothing/here
is_error 404 "no route: a JSON 404"
req GET /fn
is_error 404 "/fn alone: 404"
req TRACE /fn/echo
is_error 405 "TRACE is not for functions"

# ---- failures ----------------------------------------------------------------------------------
req GET /fn/boom
is "$STATUS:$(jqr .message)" "502:Internal Server Error" "a handler error is a 502"
ok "  with no stack trace or error text sent out" test "$(grep -c 'secret detail\|Traceback\|ValueError' "$TEST_TMP/body")" = 0
BOOM_ID=$(header X-Hearth-Invocation-Id)
req GET "/invocations/$BOOM_ID"
is "$(jqr .error.message)" "secret detail" "  the invocation record keeps the error"
req GET /fn/slow
is "$STATUS" 504 "a timeout is a 504"

# ---- routes follow the functions -----------------------------------------------------------------
req_json PUT "/functions/$PLAIN" '{"route":"/plain2"}'
req GET /fn/plain2/x
is "$(jqr .plain)" true "a changed route answers at once"
req GET /fn/echo/plain/x
is "$(jqr .rawPath)" /echo/plain/x "  and the old one falls to the next route (/echo)"
req DELETE "/functions/$PLAIN"
req GET /fn/plain2
is_error 404 "a deleted function's route is gone"
exec_stop

# ---- with a token: route_auth, and the token never reaches the function --------------------
TOKEN="fnurl-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HEARTH_TEST_TOKEN=$TOKEN
exec_start --token "$TOKEN"
create_warm TECHO fn-techo python "$ECHO" '{"route":"/techo"}'
create_warm PECHO fn-pecho python "$ECHO" '{"route":"/pecho","route_auth":"none"}'
HEARTH_TEST_TOKEN=
req GET /fn/techo
is_error 401 "route_auth unset with a token: 401 without it"
req GET /fn/techo -H "Authorization: Bearer $TOKEN" -H 'X-Other: kept'
is "$STATUS" 200 "  200 with it" || diag "$BODY"
is "$(jqr '.headers | has("authorization")')" false "  and the function does not see the token"
is "$(jqr '.headers["x-other"]')" kept "  while other headers pass"
req GET /fn/pecho
is "$STATUS" 200 "route_auth none: public"
req GET /fn/pecho -H "Authorization: Bearer $TOKEN"
is "$(jqr '.headers | has("authorization")')" false "  the token, sent anyway, is not passed on"
req GET /fn/pecho -H 'Authorization: Basic dTpw'
is "$(jqr '.headers.authorization')" 'Basic dTpw' "  the function's own credentials are"
HEARTH_TEST_TOKEN=$TOKEN
exec_stop
done_testing
