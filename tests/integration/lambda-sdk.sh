#!/bin/bash
# The AWS SDK for JavaScript v3 (@aws-sdk/client-lambda from npm, locked in
# tests/lambda/package-lock.json) against a real hearthd with SigV4
# credentials, a real dockerd and real containers: tests/lambda/sdk.mjs;
# then, with curl, the 503 of a runtime image that is missing.
# Needs node and `npm ci` in tests/lambda (./test.sh runs it); fails,
# never skips, without them.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

LAMBDA_DIR="$top_srcdir/tests/lambda"
command -v node >/dev/null 2>&1 || bail "node is not installed (./test.sh installs it)"
[ -d "$LAMBDA_DIR/node_modules/@aws-sdk/client-lambda" ] ||
	bail "no @aws-sdk/client-lambda in $LAMBDA_DIR: run npm ci there (./test.sh does)"

ZIPS="$TEST_TMP/zips"
mkdir -p "$ZIPS"
make_zip "$ZIPS/py.zip" main.py 'import os, time


def handler(event, context):
    name = event.get("name")
    if name:
        print("greeting", name)
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("crash"):
        os._exit(1)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    return {"hello": name, "greeting": os.environ.get("GREETING")}
'
make_zip "$ZIPS/js.zip" index.js 'exports.handler = async (event) => {
  if (event.throw) throw new TypeError(event.throw);
  if (event.exit) process.exit(1);
  console.log("node says", event.n);
  return { n: (event.n || 0) + 1 };
};
'
make_zip "$ZIPS/js2.zip" index.js 'exports.handler = async () => ({ v: 2 });
'

KEY=AKIDHEARTHSDKTEST
SECRET=sdk-test-secret/abcdefghijklmnopqrstuvwxyz012345
exec_start --aws-access-key-id "$KEY" --aws-secret-access-key "$SECRET" --queue-size 1
HEARTH_URL=$HEARTH_URL KEY=$KEY SECRET=$SECRET ZIPS=$ZIPS TAP_START=$_tap_n \
	TAP_STATE="$TEST_TMP/tap-state" timeout 600 node "$LAMBDA_DIR/sdk.mjs"
if read -r n f <"$TEST_TMP/tap-state" 2>/dev/null; then
	_tap_n=$n
	_tap_failed=$((_tap_failed + f))
else
	_tap_result 1 "sdk.mjs ran to its end"
fi
exec_stop

# The service unavailable, as Lambda says it: a runtime image that is not
# there answers 503 ServiceException (curl, unsigned: no key pair now).
exec_start --image-python hearth/missing-for-a-test:0
req_json POST /2015-03-31/functions "$(jq -n --arg z "$(b64 "$ZIPS/py.zip")" \
	'{FunctionName:"no-image", Runtime:"python3.12", Handler:"main.handler", Code:{ZipFile:$z}}')"
is "$STATUS" 201 "CreateFunction while the python image is missing"
req POST /2015-03-31/functions/no-image/invocations -d '{}'
is "$STATUS:$(header x-amzn-ErrorType):$(jqr .Type)" "503:ServiceException:Service" \
	"Invoke with the image missing: 503 ServiceException, Type Service" || diag "$(last)"
like "$(jqr .Message)" "make images" "its Message says what to do"
exec_stop
done_testing
