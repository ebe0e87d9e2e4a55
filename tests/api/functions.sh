#!/bin/bash
# The /functions API on a real hearthd: create (python and node, as code and
# as zip), list, get, get ?code=1, update every field (a new revision each),
# a no-op update (same revision), delete, and the keep-alive connection.
. "$(dirname "$0")/../lib.sh"

hearth_start

req GET /functions/
is "$STATUS" 200 "an empty registry lists"
is "$BODY" "[]" "as an empty array"
is "$(header Content-Type)" application/json "JSON content type"
req GET /functions
is "$STATUS:$BODY" "200:[]" "/functions without the slash lists too"

# ---- create: python from code --------------------------------------------
PY_SRC=$'import json\n\ndef handler(event, context):\n    return {"hello": event.get("name", "world")}\n'
body=$(jq -n --arg code "$PY_SRC" '{name:"hello-py", language:"python", code:$code,
	route:"/hello", timeout:5, memory:256, env:{GREETING:"hi", B:"2"}, min_warm:0,
	max_concurrency:4}')
req_json POST /functions/ "$body"
is "$STATUS" 201 "create python from code"
PY_ID=$(jqr .id)
is "$(header Location)" "/functions/$PY_ID" "Location names the new function"
is "$(jqr '[.name,.language,.handler,.route,.timeout,.memory,.min_warm,.max_concurrency,.revision]|@csv')" \
	'"hello-py","python","main.handler","/hello",5,256,0,4,1' "every field as given, revision 1"
is "$(jqr '.env|tojson')" '{"B":"2","GREETING":"hi"}' "env kept as an object of strings"
ok "code_sha256 is 64 hex digits" test "$(jqr .code_sha256 | grep -cE '^[0-9a-f]{64}$')" = 1
CP=$(jqr .code_path)
ok "code_path is an absolute folder in the data dir" test -d "$CP" -a "${CP#"$HEARTH_DATA"/}" != "$CP"
ok "the source is stored as main.py" cmp -s "$CP/main.py" <(printf '%s' "$PY_SRC")
ok "created_at is ISO 8601" test "$(jqr .created_at | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$')" = 1
is "$(jqr .created_at)" "$(jqr .updated_at)" "updated_at = created_at on create"

# ---- create: node from code, "javascript" accepted --------------------------
JS_SRC=$'exports.handler = async (event) => ({ ok: true });\n'
req_json POST /functions "$(jq -n --arg code "$JS_SRC" '{name:"hello_js", language:"javascript", code:$code}')"
is "$STATUS" 201 "create javascript from code (no trailing slash)"
JS_ID=$(jqr .id)
is "$(jqr '[.language,.handler,.timeout,.memory,.min_warm,.max_concurrency,(.route|tostring),(.env|tojson)]|@csv')" \
	'"node","index.handler",3,128,1,10,"null","{}"' "javascript is stored as node, with the defaults"
ok "node code is stored as index.js" cmp -s "$(jqr .code_path)/index.js" <(printf '%s' "$JS_SRC")

# ---- create: from zip ---------------------------------------------------
make_zip "$TEST_TMP/py.zip" main.py $'from lib import util\ndef handler(e, c):\n    return util.x\n' lib/__init__.py '' lib/util.py 'x = 1'
req_json POST /functions/ "$(jq -n --arg z "$(b64 "$TEST_TMP/py.zip")" '{name:"zip-py", language:"python", zip:$z}')"
is "$STATUS" 201 "create python from a zip"
ZPY_ID=$(jqr .id)
ZCP=$(jqr .code_path)
ok "the zip is unpacked (main.py)" test -f "$ZCP/main.py"
ok "with its folders (lib/util.py)" test -f "$ZCP/lib/util.py"

make_zip "$TEST_TMP/node.zip" index.mjs 'export const handler = async () => 1;' package.json '{"type":"module"}'
req_json POST /functions/ "$(jq -n --arg z "$(base64 "$TEST_TMP/node.zip")" '{name:"zip-node", language:"node", zip:$z}')"
is "$STATUS" 201 "create node from a zip holding index.mjs (base64 with line breaks)"
ZJS_ID=$(jqr .id)

make_zip "$TEST_TMP/sub.zip" src/app.py 'def run(e, c): return 2'
req_json POST /functions/ "$(jq -n --arg z "$(b64 "$TEST_TMP/sub.zip")" '{name:"zip-sub", language:"python", handler:"src/app.run", zip:$z}')"
is "$STATUS" 201 "a handler in a folder of the zip"
SUB_ID=$(jqr .id)

# ---- list and get ---------------------------------------------------------
req GET /functions/
is "$STATUS" 200 "list"
is "$(jqr '[.[].name]|join(",")')" "hello-py,hello_js,zip-py,zip-node,zip-sub" "all five, by id"
is "$(jqr '.[0]|keys|join(",")')" \
	"architectures,async_max_age,async_retries,code_path,code_sha256,created_at,description,env,handler,id,language,max_concurrency,memory,min_warm,name,revision,role,route,route_auth,runtime,timeout,updated_at" \
	"a function object has exactly the documented fields"

req GET "/functions/$PY_ID"
is "$STATUS" 200 "get one"
is "$(jqr .name)" hello-py "the right one"
is "$(jqr 'has("code")')" false "no code without ?code=1"
req GET "/functions/$PY_ID?code=1"
is "$STATUS" 200 "get ?code=1"
is "$(jqr .code)" "$(printf '%s' "$PY_SRC")" "returns the handler's source"
req GET "/functions/$ZJS_ID?code=1"
is "$(jqr .code)" 'export const handler = async () => 1;' "?code=1 finds index.mjs in a zip"
req GET "/functions/$SUB_ID?code=1"
is "$(jqr .code)" 'def run(e, c): return 2' "?code=1 finds a handler in a folder"

# ---- a name or an ARN works wherever an id does ------------------------------
req GET /functions/hello-py
is "$STATUS:$(jqr .id)" "200:$PY_ID" "GET /functions/{name}"
req GET "/functions/arn:aws:lambda:us-east-1:000000000000:function:hello-py"
is "$STATUS:$(jqr .id)" "200:$PY_ID" "GET /functions/{ARN}"
req GET '/functions/arn:aws:lambda:us-east-1:000000000000:function:hello-py:$LATEST'
is "$STATUS:$(jqr .id)" "200:$PY_ID" "  an ARN with :\$LATEST"
req GET "/functions/arn:aws:lambda:us-east-1:000000000000:function:hello-py:2"
is_error 404 "  an ARN of another version" "only \$LATEST"
req GET /functions/no-such-name
is_error 404 "an unknown name"
req GET /functions/hello-py/test-events
is "$STATUS" 200 "  names work on sub-paths too (test-events)"
req_json POST /functions/ '{"name":"2024","language":"python","code":"def handler(e, c): pass\n"}'
is_error 422 "an all-digit name is refused" "all digits"

# ---- update: each field makes a new revision --------------------------------
rev=1
upd() {	# upd DESC JSON JQ-CHECK
	req_json PUT "/functions/$PY_ID" "$2"
	rev=$((rev + 1))
	is "$STATUS:$(jqr .revision)" "200:$rev" "update $1 -> revision $rev"
	is "$(jqr "$3")" true "  and $1 is changed"
}
upd name '{"name":"hello-py2"}' '.name == "hello-py2"'
req GET /functions/hello-py2
is "$STATUS:$(jqr .id)" "200:$PY_ID" "the new name finds it"
req GET /functions/hello-py
is_error 404 "the old name no longer does"
upd route '{"route":"/hi/there"}' '.route == "/hi/there"'
upd "route to null" '{"route":null}' '.route == null'
upd timeout '{"timeout":900}' '.timeout == 900'
upd memory '{"memory":10240}' '.memory == 10240'
upd env '{"env":{"X":"1"}}' '.env == {"X":"1"}'
upd min_warm '{"min_warm":3}' '.min_warm == 3'
upd max_concurrency '{"max_concurrency":1000}' '.max_concurrency == 1000'
OLD_SHA=$(jqr .code_sha256)
OLD_CP=$(jqr .code_path)
upd code '{"code":"def handler(e, c):\n    return 42\n"}' ".code_sha256 != \"$OLD_SHA\""
ok "the replaced code folder is removed (no other function uses it)" test ! -e "$OLD_CP"
req GET "/functions/$PY_ID?code=1"
is "$(jqr .code)" $'def handler(e, c):\n    return 42' "the new code is served"
upd handler '{"handler":"main.other","code":"def other(e, c): return 1\n"}' '.handler == "main.other"'
upd zip "$(jq -n --arg z "$(b64 "$TEST_TMP/py.zip")" '{zip:$z, handler:"main.handler"}')" '.code_sha256 != "'"$OLD_SHA"'"'
upd language '{"language":"node","code":"exports.handler = async () => 7;\n"}' '.language == "node" and .handler == "index.handler"'
ok "python's default handler became node's, the code is index.js" test -f "$(jqr .code_path)/index.js"
updated=$(jqr .updated_at)
created=$(jqr .created_at)
ok "updated_at moved past created_at" test "$updated" '>' "$created"

# no-op updates keep the revision
for noop in '{}' '{"timeout":900}' '{"language":"javascript"}' '{"env":{"X":"1"}}' \
	    '{"name":"hello-py2","memory":10240,"route":null}' '{"code":"exports.handler = async () => 7;\n"}'; do
	req_json PUT "/functions/$PY_ID" "$noop"
	is "$STATUS:$(jqr .revision)" "200:$rev" "no-op update $noop keeps revision $rev"
done
is "$(jqr .updated_at)" "$updated" "a no-op update does not touch updated_at"

req GET "/functions/$PY_ID"
is "$(jqr .revision)" "$rev" "the stored revision is $rev"

# ---- delete ----------------------------------------------------------------
req GET "/functions/$JS_ID"
JS_CP=$(jqr .code_path)
JS_NAME=$(jqr .name)
req DELETE "/functions/$JS_NAME"
is "$STATUS" 204 "delete by name -> 204"
is "$BODY" "" "with no body"
req GET "/functions/$JS_ID"
is_error 404 "get after delete"
req DELETE "/functions/$JS_ID"
is_error 404 "delete again"
ok "the deleted function's code folder is gone" test ! -e "$JS_CP"

# two functions sharing one code folder: deleting one keeps it
req_json POST /functions/ "$(jq -n --arg z "$(b64 "$TEST_TMP/py.zip")" '{name:"twin-a", language:"python", zip:$z}')"
TA=$(jqr .id); TCP=$(jqr .code_path)
req_json POST /functions/ "$(jq -n --arg z "$(b64 "$TEST_TMP/py.zip")" '{name:"twin-b", language:"python", zip:$z}')"
TB=$(jqr .id)
is "$(jqr .code_path)" "$TCP" "the same zip shares one code folder"
req DELETE "/functions/$TA"
is "$STATUS" 204 "delete one twin"
ok "the shared code folder stays while the other uses it" test -f "$TCP/main.py"
req GET "/functions/$TB?code=1"
is "$STATUS" 200 "the other twin still reads its code"

req GET /functions/
is "$(jqr 'length')" 5 "five functions are left"

# ---- keep-alive: several requests on one connection -------------------------
n=$(curl -s -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}\n' \
	"$HEARTH_URL/healthz" "$HEARTH_URL/functions/" "$HEARTH_URL/functions/$PY_ID" |
	awk '{ s += $1 } END { print s }')
is "$n" 1 "three requests reuse one keep-alive connection"

req GET /healthz
is "$STATUS" 200 "healthz"
is "$(jqr '[.status,.store,.docker]|join(",")')" "ok,ok,unreachable" "healthz reports status, store and docker"

hearth_stop
done_testing
