#!/usr/bin/env bash
# exec-image.sh — a runtime image that is not there: calls answer 503 with
# an error that says to run `make images`; the registry keeps working.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

require_docker
exec_start --image-python hearth/missing-for-a-test:0

create_fn PY nope python $'def handler(event, context):\n    return 1\n' '{"min_warm":0}'
execute "$PY" '{}'
is "$STATUS" 503 "a call whose image is missing answers 503" || diag "$(last)"
is "$(jqr .error.code)" unavailable "with error code unavailable"
like "$(jqr .error.message)" "make images" "and a message that says to run make images"
like "$(jqr .error.message)" "hearth/missing-for-a-test:0" "naming the image"

create_fn NODE yes node $'exports.handler = async () => 2;\n' '{"min_warm":0}'
execute "$NODE" '{}'
is "$STATUS:$(jqr .result)" "200:2" "a node function (its image is there) still runs" || diag "$(last)"
req GET /functions/
is "$(jqr 'length')" 2 "the registry keeps both functions"

exec_stop
done_testing
