#!/bin/bash
# Every bad input gets the right status and a JSON error body
# ({"error":{"code","message"}}), and changes nothing: after each one the
# function list and the code store are exactly as before.
. "$(dirname "$0")/../lib.sh"

hearth_start

# Two functions to clash with and to update.
req_json POST /functions/ '{"name":"taken","language":"python","route":"/taken","code":"def handler(e, c):\n    return 1\n"}'
is "$STATUS" 201 "setup: create 'taken'"
ID=$(jqr .id)
req_json POST /functions/ '{"name":"other","language":"node","code":"exports.handler = async () => 1;\n"}'
is "$STATUS" 201 "setup: create 'other'"
OTHER=$(jqr .id)

snapshot() {
	curl -s "$HEARTH_URL/functions/"
	find "$HEARTH_DATA/code" -mindepth 1 | sort
}
BEFORE=$(snapshot)

# bad METHOD PATH JSON STATUS DESC [MESSAGE_SUBSTRING]
bad() {
	local method=$1 path=$2 json=$3 want=$4 desc=$5 sub=${6:-}
	req_json "$method" "$path" "$json"
	is_error "$want" "$desc" "$sub"
	local now
	now=$(snapshot)
	if [ "$now" != "$BEFORE" ]; then
		_tap_result 1 "  ...and nothing changed"
		diff <(echo "$BEFORE") <(echo "$now") | sed 's/^/# /' | head -20
	fi
}
PY='"language":"python","code":"def handler(e, c):\n    return 1\n"'
# Shorthands for bad (the rest of their arguments are bad's STATUS DESC [SUB]):
#   bad_py FIELDS ...         a python create named "a" with these more JSON members
#   bad_name NAME ...         a python create with this name (JSON text, quotes included)
#   bad_zip LANGUAGE B64 ...  a create named "a" from a zip
#   bad_put JSON ...          an update of 'taken'
bad_py() { bad POST /functions/ "{\"name\":\"a\",$PY,$1}" "${@:2}"; }
bad_name() { bad POST /functions/ "{\"name\":$1,$PY}" "${@:2}"; }
bad_zip() { bad POST /functions/ "{\"name\":\"a\",\"language\":\"$1\",\"zip\":\"$2\"}" "${@:3}"; }
bad_put() { bad PUT "/functions/$ID" "$@"; }
# bad_py_cases: bad_py for each FIELDS|STATUS|DESC|SUB line on stdin.
bad_py_cases() {
	local fields want desc sub
	while IFS='|' read -r fields want desc sub; do
		bad_py "$fields" "$want" "$desc" "$sub" </dev/null
	done
}

# ---- malformed bodies (400) -------------------------------------------------
bad POST /functions/ '{"name": "a", "language": ' 400 "truncated JSON" "unexpected end"
bad POST /functions/ '{"name": "a",
  "language" "python"}' 400 "JSON missing a colon" "line 2, column 14"
bad POST /functions/ '{"name":"a",}' 400 "a trailing comma" "byte 12"
bad POST /functions/ '{"name":"a"} {"name":"b"}' 400 "two JSON values" "byte 13"
bad POST /functions/ '' 400 "an empty body" "empty"
bad POST /functions/ 'name=a&language=python' 400 "a form instead of JSON" "malformed JSON"
bad_put '{"timeout":' 400 "update: truncated JSON" "unexpected end"

# ---- not an object, unknown and read-only fields (422) ------------------------
bad POST /functions/ '[{"name":"a"}]' 422 "an array body" "expected a JSON object"
bad POST /functions/ '"hello"' 422 "a string body" "expected a JSON object"
bad POST /functions/ '42' 422 "a number body" "expected a JSON object"
bad_py '"colour":"red"' 422 "an unknown field" "colour: unknown field"
bad_py '"id":5' 422 "a read-only field" "id: is read-only"
bad_put '{"revision":9}' 422 "update: a read-only field" "revision: is read-only"
bad_put '{"tiemout":9}' 422 "update: a typo" "tiemout: unknown field"
bad_put '[]' 422 "update: an array body" "expected a JSON object"

# ---- wrong types (422, naming field and type) --------------------------------
bad_name "5" 422 "name as a number" "name: expected a string, got int"
bad_name "null" 422 "name null" "name: expected a string, got null"
bad POST /functions/ '{"name":"a","language":["python"],"code":"x"}' 422 "language as an array" "language: expected a string, got array"
bad_py_cases <<'CASES'
"handler":1|422|handler as a number|handler: expected a string
"route":true|422|route as a boolean|route: expected a string or null, got boolean
"timeout":"3"|422|timeout "3"|timeout: expected an integer, got string
"timeout":3.5|422|timeout 3.5|timeout: expected an integer, got double
"memory":"128"|422|memory "128"|memory: expected an integer, got string
"min_warm":false|422|min_warm false|min_warm: expected an integer, got boolean
"max_concurrency":[]|422|max_concurrency []|max_concurrency: expected an integer, got array
CASES
bad POST /functions/ '{"name":"a","language":"python","code":42}' 422 "code as a number" "code: expected a string, got int"
bad POST /functions/ '{"name":"a","language":"python","zip":{}}' 422 "zip as an object" "zip: expected a string, got object"
bad_put '{"timeout":"10"}' 422 'update: timeout "10"' "timeout: expected an integer"

# ---- names (422) ---------------------------------------------------------------
long=$(printf 'a%.0s' $(seq 1 65))
bad_name "\"$long\"" 422 "a 65-character name" "name: must be 1 to 64 characters, got 65"
bad_name "\"\"" 422 "an empty name" "name: must be 1 to 64"
bad_name "\"héllo\"" 422 "a unicode name" "name: only letters"
bad_name "\"\\u2603\"" 422 "an escaped unicode name" "name: only letters"
bad_name "\"a b\"" 422 "a name with a space" "name: only letters"
bad_name "\"../x\"" 422 "a name with a path" "name: only letters"
bad POST /functions/ "{$PY}" 422 "no name" "name: is required"
bad_put "{\"name\":\"$long\"}" 422 "update: a 65-character name" "name: must be 1 to 64"
req_json POST /functions/ "{\"name\":\"$(printf 'b%.0s' $(seq 1 64))\",$PY}"
is "$STATUS" 201 "a 64-character name is fine"
req DELETE "/functions/$(jqr .id)"
BEFORE=$(snapshot)

# ---- duplicates (409) ------------------------------------------------------------
bad_name "\"taken\"" 409 "a duplicate name" "taken"
bad POST /functions/ "{\"name\":\"fresh\",$PY,\"route\":\"/taken\"}" 409 "a duplicate route" "/taken"
bad PUT "/functions/$OTHER" '{"name":"taken"}' 409 "update: renaming to a taken name" "taken"
bad PUT "/functions/$OTHER" '{"route":"/taken"}' 409 "update: a taken route" "/taken"
bad PUT "/functions/$OTHER" '{"name":"taken","code":"exports.handler = async () => 2;\n"}' 409 "update: a taken name with new code leaves no code behind" "taken"
bad POST /functions/ '{"name":"taken","language":"python","code":"def handler(e, c):\n    return \"new code\"\n"}' 409 "a duplicate name with new code leaves no code behind" "taken"

# ---- ranges (422) ------------------------------------------------------------------
bad_py_cases <<'CASES'
"timeout":0|422|timeout 0|timeout: 0 is out of range 1..900
"timeout":901|422|timeout 901|timeout: 901 is out of range
"timeout":-5|422|timeout -5|timeout
"timeout":99999999999999999999999|422|a huge timeout|timeout
"memory":63|422|memory 63|memory: 63 is out of range 64..10240
"memory":10241|422|memory 10241|memory: 10241 is out of range
"max_concurrency":0|422|max_concurrency 0|max_concurrency: 0 is out of range
"max_concurrency":1001|422|max_concurrency 1001|max_concurrency
"min_warm":-1|422|min_warm -1|min_warm
"min_warm":5,"max_concurrency":2|422|min_warm above max_concurrency|min_warm: 5 is more than max_concurrency (2)
CASES
bad_put '{"max_concurrency":0}' 422 "update: max_concurrency 0" "max_concurrency"
bad_put '{"memory":63}' 422 "update: memory 63" "memory"

# ---- language, handler, route (422) ---------------------------------------------------
bad POST /functions/ '{"name":"a","language":"ruby","code":"x"}' 422 "an unknown language" "language: 'ruby' is not python, node or javascript"
bad POST /functions/ '{"name":"a","code":"x"}' 422 "no language" "language: is required"
bad_py_cases <<'CASES'
"handler":"main"|422|a handler without a function|handler: 'main' is not of the form module.function
"handler":"../main.handler"|422|a handler climbing out|handler
"route":"hello"|422|a route without a leading slash|route: must start with '/'
"route":"/a b"|422|a route with a space|route: only
"route":"/a/../b"|422|a route with ..|route: '.' and '..'
CASES
bad_put '{"language":"node"}' 422 "update: language changed without fitting code" "index.js"
bad_put '{"handler":"app.handler"}' 422 "update: a handler whose file is not there" "app.py"
bad_put '{"language":"cobol"}' 422 "update: an unknown language" "language: 'cobol'"

# ---- env (422) ---------------------------------------------------------------------------
bad_py_cases <<'CASES'
"env":["A=1"]|422|env as an array|env: expected an object of strings, got array
"env":"A=1"|422|env as a string|env: expected an object of strings, got string
"env":{"A":1}|422|env with a number value|env: the value of 'A' must be a string, got int
"env":{"A":{"b":"c"}}|422|env with an object value|env: the value of 'A' must be a string, got object
"env":{"1X":"v"}|422|env with a bad key|env: '1X' is not a valid variable name
"env":{"AWS_REGION":"v"}|422|env with a reserved key|env: 'AWS_REGION' is reserved
CASES
big=$(printf 'x%.0s' $(seq 1 4100))
bad_py "\"env\":{\"A\":\"$big\"}" 422 "env over 4 KB" "over the 4096-byte limit"
bad_put "{\"env\":{\"A\":\"$big\"}}" 422 "update: env over 4 KB" "env"

# ---- code and zip (422) --------------------------------------------------------------------
bad POST /functions/ '{"name":"a","language":"python"}' 422 "no code and no zip" "code, zip: one of them is required"
make_zip "$TEST_TMP/ok.zip" main.py 'def handler(e, c): return 1'
Z=$(b64 "$TEST_TMP/ok.zip")
bad_py "\"zip\":\"$Z\"" 422 "both code and zip" "not both"
bad POST /functions/ '{"name":"a","language":"python","code":""}' 422 "empty code" "code: must not be empty"
bad_zip python "@@not base64@@" 422 "bad base64" "zip: invalid base64"
bad_zip python "UEsDBA=" 422 "base64 with bad padding" "zip: invalid base64"
bad_zip python "$(printf 'this is not a zip' | base64 -w0)" 422 "base64 of something that is not a zip" "zip"
ok "  the message names the field once (not zip: zip:)" test "$(jqr .error.message | grep -c "zip: zip:")" = 0
make_zip "$TEST_TMP/nomain.zip" app.py 'def handler(e, c): return 1'
bad_zip python "$(b64 "$TEST_TMP/nomain.zip")" 422 "a zip without main.py" "main.py"
bad_zip node "$(b64 "$TEST_TMP/ok.zip")" 422 "a node zip without index.js" "index.js, index.mjs or index.cjs"
bad_put "{\"zip\":\"$(b64 "$TEST_TMP/nomain.zip")\"}" 422 "update: a zip without the handler's file" "main.py"
python3 - "$TEST_TMP" <<'PY'
import sys, zipfile, stat
d = sys.argv[1]
def mk(name, entries):
    with zipfile.ZipFile(f"{d}/{name}", "w") as z:
        for info, data in entries:
            z.writestr(info, data)
ok = (zipfile.ZipInfo("main.py"), "def handler(e, c): return 1\n")
mk("dotdot.zip", [ok, (zipfile.ZipInfo("../evil.py"), "x")])
mk("dotdot2.zip", [ok, (zipfile.ZipInfo("lib/../../evil.py"), "x")])
mk("abs.zip", [ok, (zipfile.ZipInfo("/tmp/evil.py"), "x")])
link = zipfile.ZipInfo("link.py")
link.create_system = 3
link.external_attr = (stat.S_IFLNK | 0o777) << 16
mk("symlink.zip", [ok, (link, "/etc/passwd")])
PY
bad_zip python "$(b64 "$TEST_TMP/dotdot.zip")" 422 "a zip with a ../ entry" "zip"
bad_zip python "$(b64 "$TEST_TMP/dotdot2.zip")" 422 "a zip with a lib/../../ entry" "zip"
bad_zip python "$(b64 "$TEST_TMP/abs.zip")" 422 "a zip with an absolute path" "zip"
bad_zip python "$(b64 "$TEST_TMP/symlink.zip")" 422 "a zip with a symlink" "zip"
ok "nothing escaped the code store" test ! -e /tmp/evil.py -a ! -e "$HEARTH_DATA/evil.py" -a ! -e "$HEARTH_DATA/code/evil.py"

# ---- ids (404) ------------------------------------------------------------------------------
for id in 0 -1 abc 1.5 99999999999999999999 9223372036854775808 01 +1 1e3 '%20' 424242; do
	req GET "/functions/$id"
	is_error 404 "GET /functions/$id"
	bad PUT "/functions/$id" '{"timeout":5}' 404 "PUT /functions/$id"
	req DELETE "/functions/$id"
	is_error 404 "DELETE /functions/$id"
	req POST "/functions/$id/execute" -d '{}'
	is_error 404 "POST /functions/$id/execute"
done
is "$(snapshot)" "$BEFORE" "nothing changed after the bad ids"

# ---- the batch's body: one JSON value and nothing after it ------------------------------------
bad POST /functions/execute "{\"invocations\":[{\"function_id\":$ID}]} trailing" 400 \
	"a batch with bytes after its JSON" "unexpected data after the value"
bad POST /functions/execute "{\"invocations\":[{\"function_id\":$ID}]}{}" 400 "a batch followed by a second value" "byte"
bad POST /functions/execute '' 400 "an empty batch body" "empty"
bad POST /functions/execute '{"invocations":[]}' 422 "a batch of no calls" "at least one"
bad POST /functions/execute '{"invocations":[],"x":1}' 422 "a batch with an unknown field" "unknown field 'x'"

# ---- a call's payload: RFC 8259 JSON and nothing looser (400, as Lambda) ------------------
# json-c would take each of these; Lambda and every strict client do not.
while IFS='|' read -r payload desc; do
	bad POST "/functions/$ID/execute" "$payload" 400 "a payload with $desc" "malformed JSON at line 1"
done <<'CASES'
{'a':1}|single quotes
[1,2,]|a trailing comma in an array
{"a":1,}|a trailing comma in an object
NaN|NaN
-Infinity|-Infinity
{"a":Infinity}|Infinity inside
/* c */ {}|a comment
{"a":1} // c|a line comment after it
{"a":01}|a leading zero
{"a":.5}|a bare fraction
{"a":"\x41"}|a \x escape
{"a":"tab	in"}|a raw tab in a string
{a:1}|a bare key
CASES
printf '{"a":"\xff"}' >"$TEST_TMP/badutf8"
req POST "/functions/$ID/execute" -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/badutf8"
is_error 400 "a payload with invalid UTF-8" "UTF-8"

# ---- size limits (413) ------------------------------------------------------------------------
head -c $((71 * 1024 * 1024)) /dev/zero | tr '\0' 'a' >"$TEST_TMP/big"
req POST /functions/ -H 'Content-Type: application/json' --data-binary @"$TEST_TMP/big"
is "$STATUS" 413 "a 71 MiB create body -> 413 (libevent's own reply above the global limit)"
req PUT "/functions/$ID" -H 'Expect:' --data-binary @"$TEST_TMP/big"
is "$STATUS" 413 "a 71 MiB update body without Expect: 100-continue -> 413, not a reset"
head -c $((7 * 1024 * 1024)) "$TEST_TMP/big" >"$TEST_TMP/7m"
req POST "/functions/$ID/execute" --data-binary @"$TEST_TMP/7m"
is_error 413 "a 7 MiB invocation payload" "6291456-byte limit"
rm -f "$TEST_TMP/big" "$TEST_TMP/7m"
is "$(snapshot)" "$BEFORE" "nothing changed after the oversized bodies"
req GET /healthz
is "$STATUS" 200 "hearthd still answers after the oversized bodies"

# ---- methods (405 with Allow) -------------------------------------------------------------------
allow() {	# METHOD PATH ALLOW
	req "$1" "$2"
	is_error 405 "$1 $2"
	is "$(header Allow)" "$3" "  with Allow: $3"
}
allow PATCH "/functions/$ID" "GET, PUT, DELETE"
allow POST "/functions/$ID" "GET, PUT, DELETE"
allow DELETE /functions/ "GET, POST"
allow PUT /functions "GET, POST"
allow GET "/functions/$ID/execute" "POST"
allow GET /functions/execute "POST"
allow POST /healthz "GET, HEAD"
allow DELETE / "GET, HEAD"
allow OPTIONS /index.html "GET, HEAD"
is "$(snapshot)" "$BEFORE" "nothing changed after the bad methods"

# ---- unknown endpoints and static paths ------------------------------------------------------------
req GET "/functions/$ID/bogus"
is_error 404 "an unknown endpoint under /functions"
req GET /no/such/page.html
is_error 404 "a missing static file"
req GET /../../etc/passwd --path-as-is
is_error 400 "static path traversal with .." "'..'"
req GET /%2e%2e/%2e%2e/etc/passwd
is_error 400 "static path traversal with %2e%2e" "'..'"
req GET /..%2f..%2fetc%2fpasswd
ok "static path traversal with %2f is refused" test "$STATUS" = 400 -o "$STATUS" = 404
like "$BODY" '"error"' "  with a JSON error"

is "$(snapshot)" "$BEFORE" "in the end the registry and the code store are as they were"
hearth_stop
done_testing
