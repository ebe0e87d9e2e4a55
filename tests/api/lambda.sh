#!/bin/bash
# The AWS Lambda API (/2015-03-31/functions) against a real hearthd, with
# curl and no Docker (calls that would run answer 503): Lambda's request
# and reply shapes for create, get, list (paging), update (RevisionId,
# DryRun), delete; its errors (x-amzn-ErrorType, Type, Message/message);
# functions shared with /functions/; names, ids and ARNs; Invoke's checks
# before a call runs, and the engine down (503 ServiceException); then
# SigV4, with credentials given by flag and by environment variable (curl
# --aws-sigv4 signs), and alongside a bearer token (which never opens it).
# The SDKs and real calls are in tests/integration/lambda-sdk.sh.
. "$(dirname "$0")/../lib.sh"

L=/2015-03-31/functions
KEY=AKIDHEARTHTEST
SECRET=hearth-test-secret/0123456789abcdefghijklmnop

# is_lambda_error STATUS TYPE DESC [MESSAGE PART]: Lambda's error shape.
is_lambda_error() {
	local want=$1 type=$2 desc=$3 sub=${4:-} msg
	msg=$(jqr '.Message // .message')
	if [ "$STATUS" = "$want" ] && [ "$(header x-amzn-ErrorType)" = "$type" ] &&
	   [ -n "$msg" ] && [ "$msg" != null ] && { [ -z "$sub" ] || [[ $msg == *"$sub"* ]]; }; then
		_tap_result 0 "$desc -> $want $type"
	else
		_tap_result 1 "$desc -> $want $type"
		diag "status $STATUS, x-amzn-ErrorType '$(header x-amzn-ErrorType)', body: $(printf '%.300s' "$BODY")"
		[ -n "$sub" ] && diag "wanted the message to mention: $sub"
		return 1
	fi
}

make_zip "$TEST_TMP/py.zip" main.py $'def handler(event, context):\n    return event\n'
make_zip "$TEST_TMP/py2.zip" main.py $'def handler(event, context):\n    return {"v": 2}\n'
ZIP=$(b64 "$TEST_TMP/py.zip")
ZIP2=$(b64 "$TEST_TMP/py2.zip")

create() {	# NAME [MORE JSON]
	req_json POST "$L" "$(jq -n --arg n "$1" --arg z "$ZIP" --argjson more "${2:-{\}}" \
		'{FunctionName:$n, Runtime:"python3.12", Handler:"main.handler",
		  Role:"arn:aws:iam::123456789012:role/hearth", Code:{ZipFile:$z}} + $more')"
}

# One async call per function at most, to see the queue's 429 as Lambda's.
hearth_start --async-queue-max 1

# ---- CreateFunction ------------------------------------------------------------
create hello '{"Timeout":7,"MemorySize":256,"Description":"hi","Environment":{"Variables":{"GREETING":"hello"}},"Architectures":["arm64"],"TracingConfig":{"Mode":"PassThrough"},"Tags":{"team":"a"}}'
is "$STATUS" 201 "CreateFunction answers 201" || diag "$BODY"
is "$(jqr '[.FunctionName, .FunctionArn, .Runtime, .Handler, .Role] | join(" ")')" \
	"hello arn:aws:lambda:us-east-1:000000000000:function:hello python3.12 main.handler arn:aws:iam::123456789012:role/hearth" \
	"the FunctionConfiguration names it, its ARN, runtime, handler and role"
is "$(jqr '[.Timeout, .MemorySize, .Description, .Environment.Variables.GREETING, .Architectures[0]] | join(" ")')" \
	"7 256 hi hello arm64" "Timeout, MemorySize, Description, Environment.Variables, Architectures kept"
is "$(jqr '[.State, .LastUpdateStatus, .PackageType, .Version] | join(" ")')" "Active Successful Zip \$LATEST" \
	"State Active, LastUpdateStatus Successful, PackageType Zip, Version \$LATEST"
ok "CodeSha256 is base64 of the zip's sha256" test "$(jqr .CodeSha256)" = \
	"$(python3 -c "import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],'rb').read()).digest()).decode())" "$TEST_TMP/py.zip")"
ok "CodeSize is its code's size" test "$(jqr .CodeSize)" -gt 0
like "$(jqr .LastModified)" "+0000" "LastModified as Lambda writes it"
REV1=$(jqr .RevisionId)
ok "x-amzn-RequestId is set" test -n "$(header x-amzn-RequestId)"
is "$(header Content-Type)" application/json "Content-Type application/json"

req GET /functions/hello
is "$STATUS:$(jqr '[.language, .runtime, .timeout, .memory, .description, .env.GREETING, .role, .architectures[0]] | join(" ")')" \
	"200:python python3.12 7 256 hi hello arn:aws:iam::123456789012:role/hearth arm64" \
	"the same function over /functions/, runtime mapped to a language and kept"
HELLO_ID=$(jqr .id)

create hello
is_lambda_error 409 ResourceConflictException "a name taken" "Function already exist: hello"
is "$(jqr .Type)" User "Type User"
req_json POST "$L" '{"FunctionName": "x",'
is_lambda_error 400 InvalidRequestContentException "a body that is not JSON" "Could not parse request body into json"
req_json POST "$L" "{\"FunctionName\":\"nort\",\"Handler\":\"main.handler\",\"Code\":{\"ZipFile\":\"$ZIP\"}}"
is_lambda_error 400 InvalidParameterValueException "no Runtime" "Runtime and Handler are mandatory"
create badrt '{"Runtime":"java21"}'
is_lambda_error 400 InvalidParameterValueException "a runtime Hearth does not run" "java21"
create badto '{"Timeout":0}'
is_lambda_error 400 InvalidParameterValueException "Timeout 0" "timeout"
create 12345
is_lambda_error 400 InvalidParameterValueException "an all-digit name" "all digits"
req_json POST "$L" '{"FunctionName":"s3","Runtime":"python3.12","Handler":"main.handler","Code":{"S3Bucket":"b","S3Key":"k"}}'
is_lambda_error 400 InvalidParameterValueException "code in S3" "Code.ZipFile"
req_json POST "$L" '{"FunctionName":"badzip","Runtime":"python3.12","Handler":"main.handler","Code":{"ZipFile":"bm90IGEgemlw"}}'
is_lambda_error 400 InvalidParameterValueException "a ZipFile that is no zip"
req_json POST "$L" "{\"FunctionName\":\"nofile\",\"Runtime\":\"nodejs20.x\",\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"$ZIP\"}}"
is_lambda_error 400 InvalidParameterValueException "a zip without the handler's file" "index"
req GET /functions/nofile
is "$STATUS" 404 "a refused create leaves no function behind"

# ---- GetFunction, GetFunctionConfiguration: by name, id and ARN ------------------
ARN=arn:aws:lambda:us-east-1:000000000000:function:hello
ENC_ARN=$(jq -rn --arg a "$ARN" '$a | @uri')
for ref in hello "$HELLO_ID" "$ENC_ARN" "arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Ahello" "hello%3A%24LATEST"; do
	req GET "$L/$ref"
	is "$STATUS:$(jqr .Configuration.FunctionName):$(jqr .Code.RepositoryType)" "200:hello:S3" "GetFunction $ref"
done
req GET "$L/hello/configuration"
is "$STATUS:$(jqr .FunctionName):$(jqr .Timeout)" "200:hello:7" "GetFunctionConfiguration"
req GET "$L/nope"
is_lambda_error 404 ResourceNotFoundException "GetFunction of no function" "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope"
is "$(jqr .Type)" User "its Type is User, the message in Message"
req GET "$L/hello?Qualifier=1"
is_lambda_error 404 ResourceNotFoundException "a version Hearth does not keep" "function:hello:1"
req GET "$L/hello/aliases"
is_lambda_error 404 UnknownOperationException "an operation Hearth does not serve"
req PATCH "$L/hello"
is_lambda_error 404 UnknownOperationException "a method Hearth does not serve there"
is "$(header Allow)" "GET, DELETE" "with Allow"

# ---- ListFunctions: paging ------------------------------------------------------------
create two
create three
req_json POST /functions/ '{"name":"native","language":"node","code":"exports.handler = async () => 1;\n"}'
is "$STATUS" 201 "a function made over /functions/"
req GET "$L/"
is "$STATUS:$(jqr '[.Functions[].FunctionName] | join(",")'):$(jqr .NextMarker)" "200:hello,two,three,native:null" \
	"ListFunctions lists every function, those made over /functions/ too"
is "$(jqr '.Functions[3] | [.Runtime // "none", .Handler] | join(" ")')" "none index.handler" \
	"a function made with a language has no Runtime"
req GET "$L?MaxItems=3"
is "$(jqr '[.Functions[].FunctionName] | join(",")')" "hello,two,three" "MaxItems=3: the first three"
MARKER=$(jqr .NextMarker)
ok "and a NextMarker" test -n "$MARKER" -a "$MARKER" != null
req GET "$L?MaxItems=3&Marker=$MARKER"
is "$(jqr '[.Functions[].FunctionName] | join(",")'):$(jqr .NextMarker)" "native:null" "the Marker gives the rest, and no NextMarker"
req GET "$L?MaxItems=0"
is_lambda_error 400 InvalidParameterValueException "MaxItems=0" "MaxItems"
req GET "$L?Marker=abc"
is_lambda_error 400 InvalidParameterValueException "a Marker ListFunctions never gave" "Marker"

# ---- UpdateFunctionConfiguration, UpdateFunctionCode -------------------------------------
req_json PUT "$L/hello/configuration" '{"Timeout":12,"Description":"changed","Environment":{"Variables":{"A":"1"}}}'
is "$STATUS:$(jqr '[.Timeout, .Description, (.Environment.Variables | tojson), .MemorySize] | join(" ")')" \
	'200:12 changed {"A":"1"} 256' "UpdateFunctionConfiguration changes what it names and keeps the rest"
REV2=$(jqr .RevisionId)
ok "the RevisionId changed" test "$REV1" != "$REV2"
req GET /functions/hello
is "$(jqr '[.timeout, .revision, (.env | tojson)] | join(" ")')" '12 2 {"A":"1"}' "a new revision over /functions/ too"
req_json PUT "$L/hello/configuration" "{\"Timeout\":13,\"RevisionId\":\"$REV1\"}"
is_lambda_error 412 PreconditionFailedException "an old RevisionId" "Revision Id"
req_json PUT "$L/hello/configuration" "{\"Timeout\":13,\"RevisionId\":\"$REV2\"}"
is "$STATUS:$(jqr .Timeout)" "200:13" "the latest RevisionId"
req_json PUT "$L/hello/configuration" '{"Environment":{}}'
is "$STATUS:$(jqr '.Environment // "none"')" "200:none" "Environment without Variables clears them"
req_json PUT "$L/hello/configuration" '{"MemorySize":99999}'
is_lambda_error 400 InvalidParameterValueException "MemorySize too large" "memory"
req_json PUT "$L/nope/configuration" '{"Timeout":5}'
is_lambda_error 404 ResourceNotFoundException "UpdateFunctionConfiguration of no function"

SHA1=$(curl -s "$HEARTH_URL$L/hello/configuration" | jq -r .CodeSha256)
req_json PUT "$L/hello/code" "{\"ZipFile\":\"$ZIP2\",\"DryRun\":true}"
is "$STATUS:$(jqr .CodeSha256)" "200:$SHA1" "UpdateFunctionCode with DryRun checks and changes nothing"
req_json PUT "$L/hello/code" "{\"ZipFile\":\"$ZIP2\"}"
is "$STATUS" 200 "UpdateFunctionCode"
ok "the CodeSha256 changed" test "$(jqr .CodeSha256)" != "$SHA1" -a "$(jqr .CodeSha256)" = \
	"$(python3 -c "import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],'rb').read()).digest()).decode())" "$TEST_TMP/py2.zip")"
req_json PUT "$L/hello/code" '{"S3Bucket":"b","S3Key":"k"}'
is_lambda_error 400 InvalidParameterValueException "UpdateFunctionCode from S3" "S3Bucket"

# ---- Invoke: what is checked before a call runs ----------------------------------------------
req POST "$L/hello/invocations" -H 'X-Amz-Invocation-Type: DryRun' -d '{}'
is "$STATUS" 204 "DryRun answers 204"
req POST "$L/nope/invocations" -H 'X-Amz-Invocation-Type: DryRun' -d '{}'
is_lambda_error 404 ResourceNotFoundException "DryRun of no function"
req POST "$L/hello/invocations" -H 'X-Amz-Invocation-Type: Sometimes' -d '{}'
is_lambda_error 400 InvalidParameterValueException "an unknown invocation type" "invocationType"
req POST "$L/hello/invocations" -H 'X-Amz-Log-Type: All' -d '{}'
is_lambda_error 400 InvalidParameterValueException "an unknown log type" "logType"
req POST "$L/hello/invocations" -d 'not json'
is_lambda_error 400 InvalidRequestContentException "a payload that is not JSON" "Could not parse"
head -c $((6 * 1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$TEST_TMP/big"
req POST "$L/hello/invocations" --data-binary @"$TEST_TMP/big"
is_lambda_error 413 RequestTooLargeException "a payload over 6 MB" "Request must be smaller than 6291456 bytes"
req POST "$L/hello/invocations?Qualifier=prod" -d '{}'
is_lambda_error 404 ResourceNotFoundException "an alias" "function:hello:prod"
req POST "$L/hello/invocations" -H 'X-Amz-Invocation-Type: Event' -d '{"queued":true}'
is "$STATUS:$(header Content-Length)" "202:0" "Event answers 202 with no body"
EV=$(header x-amzn-RequestId)
req GET "/invocations/$EV"
is "$STATUS:$(jqr '[.async, .payload.queued] | @csv')" "200:true,true" \
	"its x-amzn-RequestId is the call's id, committed to the async queue with its payload"
req POST "$L/nope/invocations" -H 'X-Amz-Invocation-Type: Event' -d '{}'
is_lambda_error 404 ResourceNotFoundException "Event for no function"
req POST "$L/hello/invocations" -H 'X-Amz-Invocation-Type: Event' -d '{}'
is_lambda_error 429 TooManyRequestsException "Event beyond the queue's bound (--async-queue-max 1)"
is "$(jqr .Reason):$(header Retry-After)" "ReservedFunctionConcurrentInvocationLimitExceeded:1" "with a Reason and Retry-After"
req POST "$L/hello/invocations" -d '{}'
is_lambda_error 503 ServiceException "RequestResponse with the container engine down"
is "$(jqr .Type)" Service "its Type is Service, the message in Message"

# ---- DeleteFunction ----------------------------------------------------------------------
req DELETE "$L/$ENC_ARN"
is "$STATUS" 204 "DeleteFunction by ARN answers 204"
req GET /functions/hello
is "$STATUS" 404 "and the function is gone from /functions/ too"
req DELETE "$L/hello"
is_lambda_error 404 ResourceNotFoundException "DeleteFunction again"
req DELETE "$L/native"
is "$STATUS" 204 "a function made over /functions/ is deleted over the Lambda API"
hearth_stop

# ---- SigV4 -------------------------------------------------------------------------------
hearth_start --aws-access-key-id "$KEY" --aws-secret-access-key "$SECRET"
signed() {	# METHOD PATH KEY:SECRET [REGION] [CURL ARGS]
	local m=$1 p=$2 cred=$3 region=${4:-us-east-1}
	shift 4
	req "$m" "$p" --aws-sigv4 "aws:amz:$region:lambda" --user "$cred" "$@"
}
req GET "$L/"
is_lambda_error 403 MissingAuthenticationTokenException "with credentials set, an unsigned request" "Missing Authentication Token"
is "$(jqr 'keys | join(",")')" message "its body is {\"message\"} alone, as AWS's front door answers"
signed GET "$L/" "$KEY:$SECRET" us-east-1
is "$STATUS:$(jqr '.Functions | length')" "200:2" "a request signed with the right key"
signed POST "$L/two/invocations" "$KEY:$SECRET" us-east-1 -H 'X-Amz-Invocation-Type: DryRun' -d '{"a":[1,2]}'
is "$STATUS" 204 "a signed request with a body"
signed GET "$L/" "$KEY:wrong-secret" us-east-1
is_lambda_error 403 InvalidSignatureException "signed with the wrong secret" "The request signature we calculated does not match"
like "$(jqr .message)" "The Canonical String for this request should have been" "with the canonical forms"
ok "and neither secret in the reply" eval '! grep -qF -e "$SECRET" -e wrong-secret "$TEST_TMP/body"'
signed GET "$L/" "AKIDSOMEONEELSE:$SECRET" us-east-1
is_lambda_error 403 UnrecognizedClientException "signed with an unknown key" "The security token included in the request is invalid."
signed GET "$L/" "$KEY:$SECRET" eu-west-1
is_lambda_error 403 InvalidSignatureException "signed for another region" "Credential should be scoped to a valid region, not 'eu-west-1'."
req GET "$L/" -H "Authorization: AWS4-HMAC-SHA256 Credential=$KEY/20150830/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" \
	-H 'X-Amz-Date: 20150830T123600Z'
is_lambda_error 403 InvalidSignatureException "a signature from 2015" "Signature expired: 20150830T123600Z is now earlier than"
req GET /functions/
is "$STATUS" 200 "the native API does not ask for a signature"
hearth_stop
ok "the secret is never in hearthd's log" eval '! grep -qF -e "$SECRET" "$HEARTH_LOG"'

# With a bearer token, the Lambda API still takes SigV4 alone: without a
# key pair it refuses everything, with one it wants a signature.
TOKEN=hearth-lambda-test-token-0123456789abcdef
hearth_start --token "$TOKEN"
req GET "$L/"
is_lambda_error 403 MissingAuthenticationTokenException "a token, no key pair: an unsigned Lambda request"
req GET "$L/" -H "Authorization: Bearer $TOKEN"
is_lambda_error 403 IncompleteSignatureException "the bearer token does not open the Lambda API"
signed GET "$L/" "$KEY:$SECRET" us-east-1
is_lambda_error 403 UnrecognizedClientException "nor does a signature, with no key pair to check it"
req GET /functions/ -H "Authorization: Bearer $TOKEN"
is "$STATUS" 200 "while the native API takes the token"
hearth_stop
hearth_start --token "$TOKEN" --aws-access-key-id "$KEY" --aws-secret-access-key "$SECRET"
signed GET "$L/" "$KEY:$SECRET" us-east-1
is "$STATUS" 200 "a token and a key pair: a signed request is taken, without the token"
req GET "$L/" -H "Authorization: Bearer $TOKEN"
is_lambda_error 403 IncompleteSignatureException "and the bearer token alone is refused"
hearth_stop

# The same credentials from the environment; a key without its secret is
# refused at start.
HEARTH_AWS_ACCESS_KEY_ID=$KEY HEARTH_AWS_SECRET_ACCESS_KEY=$SECRET HEARTH_AWS_REGION=eu-west-1 hearth_start
signed GET "$L/two" "$KEY:$SECRET" eu-west-1
is "$STATUS:$(jqr .Configuration.FunctionArn)" "200:arn:aws:lambda:eu-west-1:000000000000:function:two" \
	"HEARTH_AWS_* set the key pair and the region (in ARNs too)"
signed GET "$L/two" "$KEY:$SECRET" us-east-1
is_lambda_error 403 InvalidSignatureException "a signature for us-east-1 when the region is eu-west-1" "not 'us-east-1'"
hearth_stop
out=$("$HEARTHD" --data-dir "$TEST_TMP/other" --aws-access-key-id "$KEY" 2>&1)
rc=$?
ok "a key id without its secret: hearthd refuses to start" test "$rc" -ne 0
like "$out" "go together" "saying the two go together"
like "$("$HEARTHD" --help)" "--aws-secret-access-key" "--help lists the AWS flags"
done_testing
