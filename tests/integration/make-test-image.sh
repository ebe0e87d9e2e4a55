#!/bin/sh
# make-test-image.sh — builds hearth-test/busybox:latest, a tiny image for the
# Docker backend tests, from the host's static busybox (no registry needed).
# Idempotent: does nothing when the image already exists.
set -eu

IMAGE=${HEARTH_TEST_IMAGE:-hearth-test/busybox:latest}
# bump when the image's contents change so older builds get replaced
VERSION=2

have=$(docker image inspect -f '{{index .Config.Labels "hearth.test.image"}}' "$IMAGE" 2>/dev/null || true)
if [ "$have" = "$VERSION" ]; then
	exit 0
fi

BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	for b in /bin/busybox /usr/bin/busybox; do
		[ -x "$b" ] && BUSYBOX=$b
	done
fi
if [ -z "$BUSYBOX" ]; then
	echo "make-test-image.sh: busybox not found; run: apt-get install -y busybox-static" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/tmp" "$tmp/run/hearth" "$tmp/var/task" "$tmp/etc"
# Docker copies this mode onto the tmpfs mounted over /tmp
chmod 1777 "$tmp/tmp"
cp "$BUSYBOX" "$tmp/bin/busybox"
for applet in sh sleep cat echo ls id true false; do
	ln -s busybox "$tmp/bin/$applet"
done
echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$tmp/etc/passwd"
echo 'nogroup:x:65534:' >"$tmp/etc/group"
tar -C "$tmp" -cf - . | docker import \
	-c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' -c "LABEL hearth.test.image=$VERSION" \
	-m 'hearth Docker backend test image' - "$IMAGE" >/dev/null
echo "make-test-image.sh: built $IMAGE"
