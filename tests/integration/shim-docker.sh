#!/bin/sh
# shim-docker.sh — the shim's test cases (tests/runtimes/test_shim) run
# again inside real hardened containers of hearth/python and hearth/node,
# through the launcher tests/integration/launch-docker.sh. TAP on stdout.
#
# Never skips: no Docker, or images missing or older than the build tree's
# shim and bootstraps, is a failure that says what to do (`make images`).
# Removes the containers it started (labels hearth.test=runtimes and this
# run's hearth.test.run), even when interrupted.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DOCKER=${DOCKER:-docker}
export DOCKER

fail() {
	echo "1..1"
	echo "not ok 1 - $*"
	echo "Bail out! $*"
	exit 1
}

version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile" 2>/dev/null)
[ -n "$version" ] || fail "cannot read PACKAGE_VERSION from $top_builddir/Makefile (run configure)"
test_shim="$top_builddir/tests/runtimes/test_shim"
[ -x "$test_shim" ] || fail "$test_shim is not built (run make check)"

"$DOCKER" version >/dev/null 2>&1 ||
	fail "cannot reach the Docker daemon ('$DOCKER version' failed): start dockerd, or run as a user allowed on /var/run/docker.sock"

# The images hold the shim stripped of debug info and build-id (see
# build-images.sh), which makes its hash the same in every build tree.
shim="$top_builddir/runtimes/shim/hearth-shim"
[ -x "$shim" ] || fail "$shim is not built (run make)"
shim_strip=$(mktemp "${TMPDIR:-/tmp}/hearth-shim.XXXXXX")
if command -v strip >/dev/null 2>&1; then
	strip -R .note.gnu.build-id -o "$shim_strip" "$shim"
else
	cp "$shim" "$shim_strip"
fi
shim_sha=$(sha256sum <"$shim_strip" | cut -d' ' -f1)
rm -f "$shim_strip"
for lang in python node; do
	case $lang in python) boot=bootstrap.py ;; node) boot=bootstrap.js ;; esac
	image="hearth/$lang:$version"
	labels=$("$DOCKER" image inspect --format \
		'{{ index .Config.Labels "org.hearth.shim.sha256" }} {{ index .Config.Labels "org.hearth.bootstrap.sha256" }}' \
		"$image" 2>/dev/null) || fail "image $image is missing: run 'make images'"
	# The images must hold the code under test, not an older build of it.
	want="$shim_sha $(sha256sum <"$top_srcdir/runtimes/$lang/$boot" | cut -d' ' -f1)"
	[ "$labels" = "$want" ] ||
		fail "image $image holds an older hearth-shim or $boot than this tree: run 'make images'"
done

HEARTH_TEST_RUN="runtimes-$$-$(date +%s)"
export HEARTH_TEST_RUN
cleanup() {
	ids=$("$DOCKER" ps -aq --filter label=hearth.test=runtimes \
		--filter "label=hearth.test.run=$HEARTH_TEST_RUN" 2>/dev/null)
	[ -z "$ids" ] || "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SHIM_LAUNCHER="$here/launch-docker.sh"
HEARTH_IMAGE_TAG=$version
export SHIM_LAUNCHER HEARTH_IMAGE_TAG
"$test_shim"
