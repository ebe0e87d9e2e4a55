#!/bin/bash
# The dashboard's static files at "/": the placeholder index.html from web/,
# content types by extension, HEAD, 404 JSON for missing files, and no way
# out of the web folder (.., encoded .., symlinks).
. "$(dirname "$0")/../lib.sh"

hearth_start

req GET /
is "$STATUS" 200 "GET / serves the placeholder page"
like "$(header Content-Type)" "text/html" "as text/html"
like "$BODY" "<title>Hearth</title>" "it is web/index.html"
ok "byte for byte" cmp -s "$TEST_TMP/body" "$top_srcdir/web/index.html"
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
is "$(header Content-Length)" "$(wc -c <"$top_srcdir/web/index.html" | tr -d ' ')" "HEAD gives GET's Content-Length"
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
hearth_stop

# No web folder at all: the API still works, "/" is a JSON 404.
HEARTH_WEB_DIR="$TEST_TMP/no-such-web" hearth_start
req GET /
is_error 404 "no web folder: / is a 404"
req GET /healthz
is "$STATUS" 200 "and the API still answers"
hearth_stop
done_testing
