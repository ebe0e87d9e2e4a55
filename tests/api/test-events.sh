#!/bin/bash
# Saved test events (GET/PUT /functions/{id}/test-events): kept in SQLite
# across a restart, replaced whole, validated field by field, gone with
# their function.
. "$(dirname "$0")/../lib.sh"

hearth_start
req_json POST /functions/ '{"name":"te","language":"python","code":"def handler(e, c):\n    return e\n"}'
is "$STATUS" 201 "setup: create 'te'"
ID=$(jqr .id)

req GET "/functions/$ID/test-events"
is "$STATUS $BODY" '200 {"events":[]}' "no test events yet"
req_json PUT "/functions/$ID/test-events" '{"events":[{"name":"hello","payload":{"name":"Ada"}},{"name":"empty","payload":null},{"name":"list","payload":[1,"two",{"3":3}]}]}'
is "$STATUS" 200 "save three"
is "$(jqr '[.events[].name]|join(",")')" "hello,empty,list" "  answered with what was stored, in order"
req GET "/functions/$ID/test-events"
is "$(jqr '.events[0].payload.name'):$(jqr '.events[1].payload'):$(jqr '.events[2].payload[2]["3"]')" \
	"Ada:null:3" "read back as saved, payloads of any JSON kind"

# bad bodies: named fields, and nothing changes
BEFORE=$BODY
bad() {	# JSON STATUS DESC SUB
	req_json PUT "/functions/$ID/test-events" "$1"
	is_error "$2" "$3" "$4"
	req GET "/functions/$ID/test-events"
	is "$BODY" "$BEFORE" "  ...and nothing changed"
}
bad '{"events":[' 400 "truncated JSON" "malformed JSON"
bad '[]' 422 "not an object" "events: expected"
bad '{"events":{}}' 422 "events not an array" "events: expected"
bad '{"events":[],"x":1}' 422 "an unknown field" "x: unknown field"
bad '{"events":[5]}' 422 "an event that is not an object" "events[0]: expected an object"
bad '{"events":[{"payload":1}]}' 422 "no name" "events[0].name: expected a string"
bad '{"events":[{"name":"","payload":1}]}' 422 "an empty name" "events[0].name: must be 1 to 64"
bad "{\"events\":[{\"name\":\"$(printf 'n%.0s' {1..65})\",\"payload\":1}]}" 422 "a 65-character name" "events[0].name: must be 1 to 64"
bad '{"events":[{"name":"a","payload":1},{"name":"a","payload":2}]}' 422 "two of one name" "events[1].name: 'a' is already"
bad '{"events":[{"name":"a"}]}' 422 "no payload" "events[0].payload: is required"
bad '{"events":[{"name":"a","payload":1,"colour":"red"}]}' 422 "an unknown event field" "events[0].colour: unknown field"
many=$(jq -nc '{events: [range(51) | {name: "e\(.)", payload: .}]}')
bad "$many" 422 "51 events" "at most 50"
big=$(python3 -c 'import json; print(json.dumps({"events":[{"name":"big","payload":"x"*(256*1024+1)}]}))')
bad "$big" 422 "a payload over 256 KB" "events[0].payload: over 256 KB"

req GET /functions/424242/test-events
is_error 404 "test events of no function"
req_json PUT /functions/424242/test-events '{"events":[]}'
is_error 404 "saving test events for no function"
req_json PUT /functions/abc/test-events '{"events":[]}'
is_error 404 "a bad id"
req DELETE "/functions/$ID/test-events"
is_error 405 "DELETE is not a method of test events"
is "$(header Allow)" "GET, PUT" "  Allow: GET, PUT"

# They are durable: a restart keeps them.
hearth_stop
hearth_start
req GET "/functions/$ID/test-events"
is "$(jqr '[.events[].name]|join(",")')" "hello,empty,list" "after a restart, still there"
req_json PUT "/functions/$ID/test-events" '{"events":[]}'
is "$STATUS $BODY" '200 {"events":[]}' "an empty list clears them"

# And they go with their function.
req_json PUT "/functions/$ID/test-events" '{"events":[{"name":"x","payload":1}]}'
req DELETE "/functions/$ID"
is "$STATUS" 204 "delete the function"
req GET "/functions/$ID/test-events"
is_error 404 "its test events are gone"
is "$(sqlite3 "$HEARTH_DATA/hearth.db" 'SELECT count(*) FROM test_events')" 0 "  no row left in test_events"

hearth_stop
done_testing
