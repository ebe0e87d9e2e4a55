#!/bin/bash
# The dashboard's static files at "/": the built dashboard from web/dist/,
# content types by extension, HEAD, ETags and 304s, pre-compressed .gz
# siblings, 404 JSON for missing files, and no way out of the web folder
# (.., encoded .., symlinks).
. "$(dirname "$0")/../lib.sh"

hearth_start

req GET /
is "$STATUS" 200 "GET / serves the dashboard"
like "$(header Content-Type)" "text/html" "as text/html"
like "$BODY" "<title>Hearth</title>" "it is web/dist/index.html"
ok "byte for byte" cmp -s "$TEST_TMP/body" "$top_srcdir/web/dist/index.html"
# The page's own script and style, as its links name them (a ?v= tag that
# changes with each build).
for asset in $(grep -o '\(src\|href\)="app\.[a-z]*?v=[0-9a-f]*"' "$top_srcdir/web/dist/index.html" |
	sed 's/^[a-z]*="//; s/"$//'); do
	req GET "/$asset" -H 'Accept-Encoding: gzip'
	is "$STATUS" 200 "GET /$asset"
	is "$(header Content-Encoding)" gzip "/$asset comes pre-compressed"
done
req GET /index.html
is "$STATUS" 200 "GET /index.html"
req HEAD / --head
is "$STATUS" 200 "HEAD /"
raw_head=$(python3 - "$HEARTH_PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
print(len(rest))
PY
)
is "$raw_head" 0 "HEAD has no body on the wire"
is "$(header Content-Length)" "$(wc -c <"$top_srcdir/web/dist/index.html" | tr -d ' ')" "HEAD gives GET's Content-Length"
req GET /missing.js
is_error 404 "a missing file"
hearth_stop

# A web folder of our own: every content type, a sub folder, and a symlink
# that points outside it.
W="$TEST_TMP/web"
mkdir -p "$W/sub" "$W/assets"
echo '<p>root</p>' >"$W/index.html"
echo '<p>sub</p>' >"$W/sub/index.html"
echo 'body{}' >"$W/assets/app.css"
echo 'console.log(1)' >"$W/assets/app.js"
echo 'export {}' >"$W/assets/mod.mjs"
echo '{}' >"$W/assets/data.json"
echo '<svg/>' >"$W/assets/logo.svg"
printf '\x89PNG' >"$W/assets/logo.png"
echo 'x' >"$W/assets/blob.bin"
echo secret >"$TEST_TMP/secret.txt"
ln -s "$TEST_TMP/secret.txt" "$W/escape.txt"
ln -s "$TEST_TMP" "$W/escape-dir"
HEARTH_WEB_DIR=$W hearth_start

ctype() {	# PATH TYPE
	req GET "$1"
	is "$STATUS $(header Content-Type)" "200 $2" "GET $1 is $2"
}
ctype /assets/app.css "text/css; charset=utf-8"
ctype /assets/app.js "text/javascript; charset=utf-8"
ctype /assets/mod.mjs "text/javascript; charset=utf-8"
ctype /assets/data.json "application/json"
ctype /assets/logo.svg "image/svg+xml"
ctype /assets/logo.png "image/png"
ctype /assets/blob.bin "application/octet-stream"
ctype /sub/ "text/html; charset=utf-8"
like "$BODY" "<p>sub</p>" "/sub/ serves sub/index.html"
ctype /sub "text/html; charset=utf-8"
like "$BODY" "<p>sub</p>" "/sub serves sub/index.html too"

# ETags and revalidation.
req GET /assets/app.css
etag=$(header ETag)
ok "a strong ETag ($etag)" grep -qE '^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$' <<<"$etag"
is "$(header Cache-Control)" "no-cache" "revalidated at every load"
req GET /assets/app.css -H "If-None-Match: $etag"
is "$STATUS:${#BODY}" "304:0" "If-None-Match with it: 304, no body"
is "$(header ETag)" "$etag" "  with the same ETag"
req GET /assets/app.css -H 'If-None-Match: "other", '"$etag"
is "$STATUS" 304 "If-None-Match listing it among others: 304"
req GET /assets/app.css -H 'If-None-Match: "stale"'
is "$STATUS" 200 "a stale ETag: 200 with the file"
sleep 0.01
echo 'body{color:red}' >"$W/assets/app.css.new" && mv "$W/assets/app.css.new" "$W/assets/app.css"
req GET /assets/app.css -H "If-None-Match: $etag"
ok "a rewritten file has a new ETag: 200 ($(header ETag))" test "$STATUS" = 200 -a "$(header ETag)" != "$etag"

# Pre-compressed siblings: NAME.gz goes out to clients that take gzip.
printf 'console.log("%s")\n' "$(head -c 3000 /dev/zero | tr '\0' 'x')" >"$W/assets/big.js"
gzip -9 -k "$W/assets/big.js"
req GET /assets/big.js -H 'Accept-Encoding: gzip, deflate, br'
is "$(header Content-Encoding)" "gzip" "a client that takes gzip gets big.js.gz"
is "$(header Content-Type)" "text/javascript; charset=utf-8" "  with big.js's content type"
is "$(header Vary)" "Accept-Encoding" "  and Vary: Accept-Encoding"
ok "  byte for byte the .gz" cmp -s "$TEST_TMP/body" "$W/assets/big.js.gz"
gzetag=$(header ETag)
req GET /assets/big.js
ok "a client that does not: the plain file, no Content-Encoding" \
	test -z "$(header Content-Encoding)" -a "$(header Vary)" = "Accept-Encoding"
ok "  byte for byte big.js" cmp -s "$TEST_TMP/body" "$W/assets/big.js"
ok "  with another ETag than the .gz's" test "$(header ETag)" != "$gzetag"
req GET /assets/big.js -H 'Accept-Encoding: gzip;q=0'
ok "gzip;q=0 refuses it: the plain file" test -z "$(header Content-Encoding)"
req GET /assets/big.js -H 'Accept-Encoding: gzip' -H "If-None-Match: $gzetag"
is "$STATUS" 304 "the .gz revalidates too"
req GET /assets/app.css -H 'Accept-Encoding: gzip'
ok "a file without a .gz: plain, no Vary" test -z "$(header Content-Encoding)" -a -z "$(header Vary)"

req GET /escape.txt
is_error 404 "a symlink pointing out of the web folder"
req GET /escape-dir/secret.txt
is_error 404 "a symlinked folder pointing out of the web folder"
req GET /../secret.txt --path-as-is
is_error 400 "/../ is refused"
req GET /sub/../../secret.txt --path-as-is
is_error 400 "/sub/../../ is refused"
req GET /%2E%2E/secret.txt
is_error 400 "%2E%2E is refused"
req GET /assets/%00app.css
ok "a NUL in the path is refused" test "$STATUS" = 400 -o "$STATUS" = 404
like "$BODY" '"error"' "  with a JSON error"
req GET /functions
is "$STATUS" 200 "API paths are never files"

# The Date header: hearthd makes it once a second (http.c), not evhttp per
# reply.  One per reply, RFC 1123, now's, and a later second's later.
date_ok() {	# the last reply has one Date, in RFC 1123 form, within 2 s of now
	local d now t
	[ "$(grep -ci '^date:' "$HEADERS")" = 1 ] || return 1
	d=$(header Date)
	[[ $d =~ ^(Mon|Tue|Wed|Thu|Fri|Sat|Sun),\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ GMT$ ]] || return 1
	t=$(date -u -d "$d" +%s) && now=$(date -u +%s) || return 1
	((t >= now - 2 && t <= now + 1))
}
req GET /healthz
ok "a reply has one Date header, RFC 1123, of now" date_ok
D1=$(header Date)
req HEAD / --head
ok "...a HEAD of a file too" date_ok
sleep 1.1
req GET /functions
ok "...and one a second later" date_ok
ok "...with the later second" test "$(date -u -d "$(header Date)" +%s)" -gt "$(date -u -d "$D1" +%s)"
hearth_stop

# No web folder at all: the API still works, "/" is a JSON 404.
HEARTH_WEB_DIR="$TEST_TMP/no-such-web" hearth_start
req GET /
is_error 404 "no web folder: / is a 404"
req GET /healthz
is "$STATUS" 200 "and the API still answers"
hearth_stop
done_testing
