#!/bin/sh
# launch-docker.sh — the SHIM_LAUNCHER for tests/runtimes/test_shim: runs the
# shim inside a hardened container of hearth/LANGUAGE, as hearthd will.
#
#   launch-docker.sh start LANGUAGE SOCKDIR CODEDIR
#       starts the container (SOCKDIR bind-mounted at /run/hearth, CODEDIR
#       read-only at /var/task), waits until SOCKDIR/shim.sock exists, and
#       prints two lines: the container id, then the code folder as the
#       container sees it (/var/task).
#   launch-docker.sh stop ID
#       removes the container.
#
# Environment: DOCKER (client, default docker), HEARTH_IMAGE_TAG (default
# latest), HEARTH_LAUNCH_TIMEOUT (seconds to wait for the socket, default 20),
# HEARTH_SHIM_ARGS (extra shim arguments, e.g. "--prestart python"),
# HEARTH_TEST_RUN (label hearth.test.run, so a run removes only its own).
set -eu

PROG=launch-docker.sh
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }
DOCKER=${DOCKER:-docker}

start() {
	lang=$1 sockdir=$2 codedir=$3
	case $lang in
	python|node) ;;
	javascript) lang=node ;;
	*) die "unknown language '$lang' (python or node)" ;;
	esac
	[ -d "$sockdir" ] || die "socket folder '$sockdir' does not exist"
	[ -d "$codedir" ] || die "code folder '$codedir' does not exist"
	image="hearth/$lang:${HEARTH_IMAGE_TAG:-latest}"
	"$DOCKER" image inspect "$image" >/dev/null 2>&1 ||
		die "image $image is missing: run 'make images'"
	# The container runs as uid 65534: it must create its socket in SOCKDIR
	# and read the code. Only widen what the tests hand us.
	if [ "$(id -u)" = 0 ]; then
		chown 65534:65534 "$sockdir"
		chmod 0700 "$sockdir"
	else
		chmod 0777 "$sockdir"
	fi
	# Only what is not readable yet: the code may be a read-only source tree.
	find "$codedir" \( -type d ! -perm -0005 -o ! -type d ! -perm -0004 \) \
		-exec chmod a+rX {} + 2>/dev/null ||
		printf '%s: warning: could not make %s readable by uid 65534\n' "$PROG" "$codedir" >&2
	sockdir=$(cd "$sockdir" && pwd -P) codedir=$(cd "$codedir" && pwd -P)
	rm -f "$sockdir/shim.sock"

	# shellcheck disable=SC2086
	id=$("$DOCKER" run -d \
		--label hearth.managed=true --label hearth.test=runtimes \
		--label "hearth.test.run=${HEARTH_TEST_RUN:-manual}" \
		--network none --read-only --tmpfs /tmp \
		--cap-drop ALL --security-opt no-new-privileges \
		--user 65534:65534 --memory 128m --memory-swap 128m --pids-limit 64 \
		--mount "type=bind,source=$sockdir,target=/run/hearth" \
		--mount "type=bind,source=$codedir,target=/var/task,readonly" \
		"$image" --socket /run/hearth/shim.sock ${HEARTH_SHIM_ARGS:-}) ||
		die "docker run of $image failed"

	# Bounded wait for the shim's socket; give up early if the container died.
	limit=$(( ${HEARTH_LAUNCH_TIMEOUT:-20} * 100 )) i=0
	while [ ! -S "$sockdir/shim.sock" ]; do
		i=$((i + 1))
		if [ $((i % 20)) -eq 0 ] &&
		   [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" != true ]; then
			"$DOCKER" logs "$id" >&2 2>&1 || true
			"$DOCKER" rm -f "$id" >/dev/null 2>&1 || true
			die "container $id of $image exited before creating its socket"
		fi
		if [ "$i" -ge "$limit" ]; then
			"$DOCKER" logs "$id" >&2 2>&1 || true
			"$DOCKER" rm -f "$id" >/dev/null 2>&1 || true
			die "no $sockdir/shim.sock after ${HEARTH_LAUNCH_TIMEOUT:-20} s"
		fi
		sleep 0.01
	done
	printf '%s\n/var/task\n' "$id"
}

case ${1:-} in
start)
	[ $# -eq 4 ] || die "usage: $PROG start LANGUAGE SOCKDIR CODEDIR"
	start "$2" "$3" "$4" ;;
stop)
	[ $# -eq 2 ] || die "usage: $PROG stop ID"
	"$DOCKER" rm -f "$2" >/dev/null || die "could not remove container $2" ;;
*)
	die "usage: $PROG start LANGUAGE SOCKDIR CODEDIR | stop ID" ;;
esac
