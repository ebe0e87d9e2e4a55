#!/bin/bash
# Functions survive a restart; kill -9 in the middle of a burst of creates
# leaves a store that passes PRAGMA integrity_check and holds every create
# that was answered 201 (with its code); hearthd refuses to start, with a
# clear message and a non-zero status, when the port is taken or the data
# dir is unusable.
. "$(dirname "$0")/../lib.sh"

command -v sqlite3 >/dev/null || bail "sqlite3 (the CLI) is not installed"

# ---- a clean restart keeps everything ------------------------------------
hearth_start
req_json POST /functions/ '{"name":"keep-py","language":"python","route":"/keep","timeout":7,"env":{"A":"1"},"code":"def handler(e, c):\n    return \"kept\"\n"}'
is "$STATUS" 201 "create a python function"
P=$(jqr .id)
make_zip "$TEST_TMP/n.zip" index.js 'exports.handler = async () => "kept";'
req_json POST /functions/ "$(jq -n --arg z "$(b64 "$TEST_TMP/n.zip")" '{name:"keep-node",language:"node",zip:$z}')"
is "$STATUS" 201 "create a node function from a zip"
N=$(jqr .id)
req_json PUT "/functions/$P" '{"memory":512}'
is "$(jqr .revision)" 2 "update it to revision 2"
req GET /functions/
LIST_BEFORE=$BODY
hearth_stop

hearth_start
req GET /functions/
is "$STATUS" 200 "list after a restart"
is "$BODY" "$LIST_BEFORE" "the same functions, field for field"
req GET "/functions/$P?code=1"
is "$(jqr .code)" $'def handler(e, c):\n    return "kept"' "the python code survives"
req GET "/functions/$N?code=1"
is "$(jqr .code)" 'exports.handler = async () => "kept";' "the zip's code survives"
req_json POST /functions/ '{"name":"keep-py","language":"python","code":"x = 1\n"}'
is_error 409 "names are still unique after a restart"

# ---- kill -9 during a burst of creates --------------------------------------
mkdir -p "$TEST_TMP/burst"
burst() {	# burst FIRST LAST: one create after the other
	local i st
	for i in $(seq "$1" "$2"); do
		st=$(curl -s -o "$TEST_TMP/burst/$i.json" -w '%{http_code}' --max-time 10 \
			-H 'Content-Type: application/json' -X POST "$HEARTH_URL/functions/" \
			--data-binary "{\"name\":\"burst-$i\",\"language\":\"python\",\"route\":\"/burst/$i\",\"code\":\"def handler(e, c):\\n    return $i\\n\"}")
		echo "$i $st" >>"$TEST_TMP/burst/status.$1"
	done
}
BURSTERS=()
for first in 1 51 101 151; do
	burst "$first" $((first + 49)) &
	BURSTERS+=($!)
done
# kill once ~60 creates were answered (bounded: 60 s)
for i in $(seq 1 600); do
	n=$(cat "$TEST_TMP"/burst/status.* 2>/dev/null | grep -c ' 201$')
	[ "$n" -ge 60 ] && break
	sleep 0.1
done
hearth_kill9
wait "${BURSTERS[@]}"
cat "$TEST_TMP"/burst/status.* >"$TEST_TMP/burst/all"
answered=$(awk '$2 == 201 { print $1 }' "$TEST_TMP/burst/all" | sort -n)
n_answered=$(echo "$answered" | grep -c .)
n_lost=$(awk '$2 != 201' "$TEST_TMP/burst/all" | grep -c .)
diag "burst: $n_answered creates answered 201 before kill -9, $n_lost not answered"
ok "kill -9 landed mid-burst (some answered, some not)" test "$n_answered" -ge 1 -a "$n_lost" -ge 1
ok "no create was answered with an error" test -z "$(awk '$2 != 201 && $2 != "000"' "$TEST_TMP/burst/all")"

is "$(sqlite3 "$HEARTH_DATA/hearth.db" 'PRAGMA integrity_check')" ok "PRAGMA integrity_check after kill -9"

hearth_start
missing=
for i in $answered; do
	id=$(jq -r .id "$TEST_TMP/burst/$i.json")
	req GET "/functions/$id?code=1"
	if [ "$STATUS" != 200 ] || [ "$(jqr .name)" != "burst-$i" ] ||
	   [ "$(jqr .code)" != "$(printf 'def handler(e, c):\n    return %s' "$i")" ]; then
		missing="$missing $i"
	fi
done
is "$missing" "" "every create answered 201 is there after restart, with its code"
# whatever was in flight at the kill is either wholly there or not at all
req GET /functions/
broken=
for id in $(jqr '.[].id'); do
	req GET "/functions/$id?code=1"
	if [ "$STATUS" != 200 ] || [ "$(jqr '.code | type')" != string ]; then
		broken="$broken $id"
	fi
done
is "$broken" "" "every stored function has readable code"
ok "no temporary code folders are left behind" test -z "$(find "$HEARTH_DATA/code" -name '.tmp-*' -print -quit)"
req_json POST /functions/ '{"name":"after-crash","language":"python","code":"x = 2\n"}'
is "$STATUS" 201 "creates work after the crash"

# ---- refusals at start ---------------------------------------------------------
refuse() {	# DESC SUBSTRING hearthd-args...
	local desc=$1 sub=$2 rc=0 out
	shift 2
	out=$(timeout 20 "$HEARTHD" --web-dir "$top_srcdir/web" \
		--docker-socket "$TEST_TMP/no-docker.sock" "$@" 2>&1 >/dev/null) || rc=$?
	ok "$desc: exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
	like "$out" "$sub" "$desc: says so"
}
refuse "the port is taken" "in use" --listen "127.0.0.1:$HEARTH_PORT" --data-dir "$TEST_TMP/other-data"
touch "$TEST_TMP/a-file"
refuse "the data dir is a file" "data dir" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/a-file"
refuse "the data dir is under a file" "data dir" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/a-file/data"
refuse "the data dir belongs to a running hearthd" "in use by another hearthd" --listen 127.0.0.1:0 --data-dir "$HEARTH_DATA"
mkdir -p "$TEST_TMP/junk"
head -c 8192 /dev/urandom >"$TEST_TMP/junk/hearth.db"
refuse "hearth.db is not a database" "hearth.db" --listen 127.0.0.1:0 --data-dir "$TEST_TMP/junk"
req GET /healthz
is "$STATUS" 200 "the running hearthd was not disturbed"
hearth_stop
done_testing
