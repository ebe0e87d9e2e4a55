# exec-common.sh — sourced (after lib.sh) by the exec-*.sh integration tests,
# which run functions in real containers: the real dockerd, this hearthd's
# own containers (and only those), bounded waits and small call helpers.
#
#   require_docker              bail out (a failure, never a skip) without
#                               dockerd or the hearth/* images
#   exec_start [ARGS...]        hearth_start on the real Docker socket, then
#                               learn this hearthd's hearth.instance label
#   exec_stop                   hearth_stop, then: no container of ours left
#   our_ctrs [docker ps ARGS]   short ids of our instance's containers
#   pool_ids FID [STATE]        /pool's container ids of a function
#   pool_count FID [STATE]      how many
#   create_fn VAR NAME LANG CODE [JSON]   POST /functions/ (asserts 201)
#   create_warm VAR NAME LANG CODE [JSON] create_fn, then its container is idle
#   execute FID JSON [CURL ARGS]          POST /functions/FID/execute
#   now_ms                      wall clock in milliseconds
#
# Containers are told apart by label: hearth.instance is a hash of the data
# dir, so another hearthd's containers (a user's, another test's) are never
# looked at, killed or removed here.

HEARTH_TEST_DOCKER_SOCKET=${HEARTH_TEST_DOCKER_SOCKET:-/var/run/docker.sock}
INST=
DK_SOCK=$HEARTH_TEST_DOCKER_SOCKET	# the docker CLI's, even if hearthd gets another

dk() { timeout 30 docker -H "unix://$DK_SOCK" "$@"; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

require_docker() {
	local img
	command -v docker >/dev/null 2>&1 ||
		bail "the docker CLI is not installed: these tests need dockerd and the images (./test.sh installs it, then run make images)"
	dk info >/dev/null 2>&1 ||
		bail "dockerd is not reachable at $DK_SOCK: start it (these tests need a real dockerd)"
	for img in hearth/python:latest hearth/node:latest; do
		dk image inspect "$img" >/dev/null 2>&1 ||
			bail "image $img is missing: run make images"
	done
}

# The label hearthd puts on its containers: FNV-1a 64 of the data dir.
_instance_of() {
	python3 - "$1" <<'PY'
import sys
h = 1469598103934665603
for ch in sys.argv[1].encode():
    h = ((h ^ ch) * 1099511628211) % (1 << 64)
print("%016x" % h)
PY
}

our_ctrs() {
	[ -n "$INST" ] || return 0
	dk ps -a --filter label=hearth.managed=true --filter "label=hearth.instance=$INST" "$@" \
		--format '{{.ID}}'
}

_exec_exit() {
	local rc=$? ids
	hearth_kill9
	# Jobs this script put in the background (curl, pollers): ours only.
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	ids=$(our_ctrs 2>/dev/null)
	if [ -n "$ids" ]; then
		echo "# removing containers this test's hearthd left: $(echo $ids)" >&2
		dk rm -f $ids >/dev/null 2>&1
	fi
	(exit $rc)
	_cleanup
}
trap _exec_exit EXIT

pool_json() {
	local auth=()
	[ -z "${HEARTH_TEST_TOKEN:-}" ] || auth=(-H "Authorization: Bearer $HEARTH_TEST_TOKEN")
	curl -s --max-time 5 "${auth[@]}" "$HEARTH_URL/pool"
}

pool_ids() {	# FID [STATE]
	pool_json | jq -r --argjson f "$1" --arg s "${2:-}" \
		'.containers[] | select(.function_id == $f and ($s == "" or .state == $s)) | .container' 2>/dev/null
}

pool_count() { pool_ids "$@" | grep -c . ; }

# pool_has FID N [STATE]: at least N such containers.
pool_has() { [ "$(pool_count "$1" "${3:-}")" -ge "$2" ]; }

# The stem cells of a language are up and idle.
stem_idle() {
	[ "$(pool_json | jq --arg l "$1" '[.containers[] | select(.stem and .language == $l and .state == "idle")] | length' 2>/dev/null)" -ge 1 ] 2>/dev/null
}

# docker ps (all states) knows none of these container ids any more (and
# there were some: an empty list is a mistake in the test, so it fails).
ctrs_gone() {
	local id
	[ $# -gt 0 ] || return 1
	for id in "$@"; do
		[ -n "$(dk ps -a -q --filter "id=$id")" ] && return 1
	done
	return 0
}

exec_start() {
	local want first label
	require_docker
	hearth_start "$@"
	want=$(_instance_of "$HEARTH_DATA")
	INST=$want	# so the exit trap can clean up even if the check below fails
	# Every hearthd starts stem cells (or a function's min_warm): the first
	# container /pool lists tells us the label our containers carry.
	if wait_until 30 eval '[ -n "$(pool_json | jq -r "[.containers[].container | select(. != \"\")][0] // empty" 2>/dev/null)" ]'; then
		first=$(pool_json | jq -r '[.containers[].container | select(. != "")][0]')
		label=$(dk inspect -f '{{index .Config.Labels "hearth.instance"}}' "$first" 2>/dev/null)
		[ "$HEARTH_STARTS" -gt 1 ] ||
			is "$label" "$want" "containers carry hearth.instance = the data dir's hash"
		[ -n "$label" ] && INST=$label
	elif [ "$HEARTH_STARTS" -le 1 ]; then
		_tap_result 1 "containers carry hearth.instance = the data dir's hash"
		diag "/pool listed no container within 30 s: $(pool_json | head -c 300)"
	fi
}

exec_stop() {
	hearth_stop
	ok "no container of this hearthd is left after SIGTERM" wait_until 5 eval '[ -z "$(our_ctrs)" ]' ||
		diag "left: $(our_ctrs | tr '\n' ' ')"
}

create_fn() {	# VAR NAME LANGUAGE CODE [JSON OBJECT OF MORE FIELDS]
	local var=$1 name=$2 lang=$3 code=$4 more=${5:-'{}'} body
	body=$(jq -n --arg n "$name" --arg l "$lang" --arg c "$code" --argjson more "$more" \
		'{name:$n, language:$l, code:$c} + $more')
	req_json POST /functions/ "$body"
	is "$STATUS" 201 "create function $name ($lang)" || diag "$BODY"
	printf -v "$var" '%s' "$(jqr .id)"
}

# create_warm VAR NAME LANGUAGE CODE [JSON]: create_fn, then one test point:
# the function's first container (min_warm, 1 by default) comes up idle
# within 30 s.
create_warm() {
	create_fn "$@"
	ok "$2's container comes up idle" wait_until 30 pool_has "${!1}" 1 idle
}

execute() {	# FID JSON [CURL ARGS]
	local fid=$1 json=$2
	shift 2
	req_json POST "/functions/$fid/execute" "$json" "$@"
}

# One line describing the last reply, for diag.
last() { printf 'HTTP %s: %.400s' "$STATUS" "$BODY"; }
