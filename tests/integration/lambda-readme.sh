#!/bin/bash
# The README's "Use your AWS tools with Hearth" examples, run as written
# (only the endpoint's port changed): the shell that makes the zips, the
# JavaScript SDK example, the Python one with Debian's python3-boto3 and
# the AWS CLI one with Debian's awscli, against a real hearthd started
# with the README's key pair, and real containers.  Each example is the
# fenced block after a "<!-- readme-test: NAME -->" line.  Needs
# python3-boto3, awscli, zip, node and `npm ci` in tests/lambda
# (./test.sh sets them up); fails, never skips, without them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

README="$top_srcdir/README.md"
# Debian's, whatever else is on PATH (a pyenv's boto3 or a newer CLI).
DEB_PY=/usr/bin/python3
DEB_AWS=/usr/bin/aws
[ -x "$DEB_AWS" ] || bail "Debian's awscli is not installed (./test.sh installs it)"
"$DEB_PY" -c 'import boto3' 2>/dev/null || bail "Debian's python3-boto3 is not installed (./test.sh installs it)"
command -v zip >/dev/null 2>&1 || bail "zip is not installed (./test.sh installs it)"
command -v node >/dev/null 2>&1 || bail "node is not installed (./test.sh installs it)"
[ -d "$top_srcdir/tests/lambda/node_modules/@aws-sdk/client-lambda" ] ||
	bail "no @aws-sdk/client-lambda in tests/lambda: run npm ci there (./test.sh does)"

# The fenced block after <!-- readme-test: NAME -->.
block() {
	awk -v m="<!-- readme-test: $1 -->" '
		$0 == m { found = 1; next }
		found && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$README"
}

# hearthd gets the key pair the README exports.
eval "$(grep -m1 '^export HEARTH_AWS_ACCESS_KEY_ID=' "$README")"
ok "the README exports a key pair for hearthd" \
	test -n "${HEARTH_AWS_ACCESS_KEY_ID:-}" -a -n "${HEARTH_AWS_SECRET_ACCESS_KEY:-}"
exec_start

W="$TEST_TMP/readme"
mkdir -p "$W"
for b in zips js python cli; do
	block "$b" | sed "s|http://127.0.0.1:8080|$HEARTH_URL|g" >"$W/$b.src"
	ok "the README has the $b example" test -s "$W/$b.src"
done
# A clean environment: no ~/.aws of the machine's, Debian's tools first.
run() { (cd "$W" && env -i PATH=/usr/bin:/bin HOME="$W" LANG=C.UTF-8 timeout 300 "$@" 2>&1); }

out=$(run bash -e zips.src)
ok "the zips example makes node.zip and python.zip" test -s "$W/node.zip" -a -s "$W/python.zip" || diag "$out"

cp "$W/js.src" "$W/hello.mjs"
ln -s "$top_srcdir/tests/lambda/node_modules" "$W/node_modules"
out=$(run node hello.mjs)
like "$out" '{"hello":"Hearth"}' "JavaScript: the function made and invoked answers" || diag "$out"
like "$out" "START RequestId: " "JavaScript: the tail starts with START"
ok "JavaScript: and ends with REPORT" grep -qE $'^REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\tBilled Duration: [0-9]+ ms\tMemory Size: 128 MB\tMax Memory Used: [0-9]+ MB\t' <<<"$out"

out=$(run "$DEB_PY" python.src)
like "$out" "{'hello': 'Hearth'}" "Python (boto3 $("$DEB_PY" -c 'import boto3; print(boto3.__version__)')): the function made and invoked answers" || diag "$out"
like "$out" "['hello-js', 'hello-py']" "Python: the paginator lists both functions"

out=$(run bash -e cli.src)
like "$out" '"FunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:hello-cli"' \
	"AWS CLI ($("$DEB_AWS" --version 2>&1 | cut -d' ' -f1)): create-function" || diag "$out"
like "$out" "hello from python" "AWS CLI: invoke --log-type Tail shows the function's output"
ok "AWS CLI: and the REPORT line" grep -qE $'^REPORT RequestId: [0-9a-f-]{36}\tDuration: ' <<<"$out"
like "$out" '{"hello":"Hearth"}' "AWS CLI: the payload in out.json"
like "$out" '"hello-cli"' "AWS CLI: list-functions"
req GET /functions/hello-cli
is "$STATUS" 404 "AWS CLI: delete-function deleted it"
req GET /functions/hello-py
is "$STATUS:$(jqr .runtime)" "200:python3.12" "the function boto3 made is a Hearth function"

exec_stop
done_testing
