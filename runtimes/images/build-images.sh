#!/bin/sh
# build-images.sh — build the hearth/python and hearth/node runtime images.
#
# Why this exists: the build machine reaches Debian's package mirror but no
# image registry, so by default each image's base is a minimal Debian root
# filesystem made with debootstrap and brought in with `docker import`:
#   one debootstrap --variant=minbase of bookworm with python3 and nodejs,
#   upgraded from bookworm-updates/-security, then per runtime a copy with
#   every package neither Essential nor needed by that runtime purged
#   (prune-packages.awk) and docs/man/locales/apt lists/caches removed,
#   imported as hearth/base-python:bookworm and hearth/base-node:bookworm.
# Two bases rather than one shared: each image then holds one runtime only.
# debootstrap is slow (~1 min), so each trimmed rootfs is cached as a tarball
# under $HEARTH_CACHE_DIR, keyed by everything that decides its content; a
# second run (or a CI re-run on the same machine) imports it, or reuses the
# already imported base image when its key label matches. Security updates
# arrive on --rebuild-base (or when the key changes).
# With --base-python/--base-node (e.g. python:3.12-slim) an official image is
# used instead and nothing is debootstrapped for that runtime.
#
# Idempotent: running it twice builds nothing new (docker's layer cache).
set -eu
# bash (make's $(SHELL)) drops -e in $(...) unless told; dash keeps it.
# shellcheck disable=SC3044
if [ -n "${BASH_VERSION:-}" ]; then shopt -s inherit_errexit; fi

PROG=build-images.sh
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
	cat <<USAGE
usage: $PROG [options]
  --version V        tag images hearth/LANG:V and :latest (required)
  --shim PATH        the static hearth-shim binary (required unless --if-missing hits)
  --srcdir DIR       the source tree's runtimes/ folder (Dockerfiles, bootstraps)
  --context DIR      where to assemble the docker build contexts
                     (default: a temporary folder, removed afterwards)
  --base-python IMG  base image for hearth/python (default: debootstrap)
  --base-node IMG    base image for hearth/node (default: debootstrap)
  --only LANG        build only python or node
  --if-missing       do nothing when hearth/python:V and hearth/node:V exist
  --rebuild-base     ignore the cached rootfs tarballs and base images
environment:
  HEARTH_CACHE_DIR   rootfs tarball cache (default /var/cache/hearth)
  HEARTH_MIRROR      Debian mirror (default: the one apt uses for bookworm)
  HEARTH_SUITE       Debian suite (default bookworm)
  HEARTH_SECURITY_MIRROR  mirror of SUITE-security (default: apt's)
  HEARTH_SECURITY_UPDATES 0 to skip upgrading from SUITE-updates/-security
  DOCKER             docker client (default: docker)
USAGE
}

VERSION=
SHIM=
SRCDIR=
CONTEXT=
BASE_PYTHON=
BASE_NODE=
ONLY=
IF_MISSING=no
REBUILD_BASE=no
while [ $# -gt 0 ]; do
	case $1 in
	--version) VERSION=${2?}; shift 2 ;;
	--shim) SHIM=${2?}; shift 2 ;;
	--srcdir) SRCDIR=${2?}; shift 2 ;;
	--context) CONTEXT=${2?}; shift 2 ;;
	--base-python) BASE_PYTHON=${2?}; shift 2 ;;
	--base-node) BASE_NODE=${2?}; shift 2 ;;
	--only) ONLY=${2?}; shift 2 ;;
	--if-missing) IF_MISSING=yes; shift ;;
	--rebuild-base) REBUILD_BASE=yes; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument: $1" ;;
	esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
DOCKER=${DOCKER:-docker}
# The legacy builder is what docker.io 20.10 ships; BuildKit needs buildx on
# newer clients. The Dockerfiles work with both.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}
export DOCKER_BUILDKIT
SUITE=${HEARTH_SUITE:-bookworm}
CACHE_DIR=${HEARTH_CACHE_DIR:-/var/cache/hearth}
UPDATES=${HEARTH_SECURITY_UPDATES:-1}
# Bump when the trimming below changes, so cached tarballs are remade.
ROOTFS_FORMAT=3

[ -n "$VERSION" ] || die "--version is required"
case $ONLY in
'') LANGS="python node" ;;
python|node) LANGS=$ONLY ;;
*) die "--only takes python or node, not '$ONLY'" ;;
esac

"$DOCKER" version >/dev/null 2>&1 ||
	die "cannot reach the Docker daemon with '$DOCKER' (is dockerd running, and may this user use /var/run/docker.sock?)"

bootstrap_file() {
	case $1 in
	python) echo bootstrap.py ;;
	node) echo bootstrap.js ;;
	esac
}
hash_of() { sha256sum <"$1" | cut -d' ' -f1; }
# The shim as it goes into the images: without debug info and build-id,
# which embed the build folder, so the same sources give the same bytes in
# every build tree (tests compare this hash with the image's label).
shim_for_image() {
	if command -v strip >/dev/null 2>&1; then
		strip -R .note.gnu.build-id -o "$2" "$1"
	else
		cp "$1" "$2"
	fi
	chmod 0755 "$2"
}

if [ "$IF_MISSING" = yes ]; then
	# Missing, or (when we are told where the shim and bootstraps are)
	# holding a different shim or bootstrap than the ones given.
	missing=
	[ -n "$SRCDIR" ] || SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
	for lang in $LANGS; do
		have=$("$DOCKER" image inspect --format \
			'{{ index .Config.Labels "org.hearth.shim.sha256" }} {{ index .Config.Labels "org.hearth.bootstrap.sha256" }}' \
			"hearth/$lang:$VERSION" 2>/dev/null) || { missing="$missing $lang"; continue; }
		boot="$SRCDIR/$lang/$(bootstrap_file "$lang")"
		if [ -n "$SHIM" ] && [ -f "$SHIM" ] && [ -f "$boot" ] &&
		   shim_for_image "$SHIM" "${TMPDIR:-/tmp}/hearth-shim.$$" &&
		   cur=$(hash_of "${TMPDIR:-/tmp}/hearth-shim.$$") &&
		   rm -f "${TMPDIR:-/tmp}/hearth-shim.$$" &&
		   [ "$have" != "$cur $(hash_of "$boot")" ]; then
			missing="$missing $lang(stale)"
		fi
	done
	if [ -z "$missing" ]; then
		say "images hearth/{$(echo $LANGS | tr ' ' ,)}:$VERSION present; nothing to do"
		exit 0
	fi
	say "missing or out of date:$missing; building"
fi

[ -n "$SHIM" ] || die "--shim is required (the static hearth-shim binary; 'make images' builds it)"
[ -f "$SHIM" ] && [ -x "$SHIM" ] || die "shim binary '$SHIM' not found or not executable (run 'make' first)"
[ -n "$SRCDIR" ] || SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$SRCDIR" ] || die "--srcdir '$SRCDIR' is not a folder"
if command -v file >/dev/null 2>&1 && file -L "$SHIM" | grep -q 'dynamically linked'; then
	die "shim '$SHIM' is dynamically linked; it must be static to run on any base image"
fi

# Package list per runtime: only what the runtime needs (Depends, no
# Recommends: debootstrap resolves Depends only).
packages_for() {
	case $1 in
	python) echo python3 ;;
	node) echo nodejs ;;
	esac
}

ALL_PACKAGES="$(packages_for python) $(packages_for node)"
ARCH=$(dpkg --print-architecture)

# The repository apt on this host uses for a Debian suite (this host may
# reach only those mirrors); empty when apt knows none.
apt_repo() {
	apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(ORIGIN)' 2>/dev/null |
		awk -v s="$1" '$2 == s && $3 == "Debian" { print $1; exit }'
}

debian_mirror() {
	if [ -n "${HEARTH_MIRROR:-}" ]; then echo "$HEARTH_MIRROR"; return; fi
	m=$(apt_repo "$SUITE")
	echo "${m:-http://deb.debian.org/debian/}"
}

# Bring a fresh rootfs up to SUITE-updates and SUITE-security, from the
# mirrors apt on this host uses (HEARTH_MIRROR / HEARTH_SECURITY_MIRROR to
# choose others). debootstrap installs only the point release.
apply_updates() {
	r=$1 mirror=$2
	if [ -n "${HEARTH_MIRROR:-}" ]; then upd=$HEARTH_MIRROR; else upd=$(apt_repo "$SUITE-updates"); fi
	sec=${HEARTH_SECURITY_MIRROR:-$(apt_repo "$SUITE-security")}
	{
		echo "deb $mirror $SUITE main"
		[ -z "$upd" ] || echo "deb $upd $SUITE-updates main"
		[ -z "$sec" ] || echo "deb $sec $SUITE-security main"
	} >"$r/etc/apt/sources.list"
	[ -n "$sec" ] || say "warning: no $SUITE-security mirror known to apt here; set HEARTH_SECURITY_MIRROR"
	say "applying $SUITE-updates and $SUITE-security"
	# Check-Valid-Until off: the mirror may be a dated snapshot, as here.
	if ! chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		sh -c 'apt-get -q -o Acquire::Check-Valid-Until=false update &&
		       apt-get -q -y -o Dpkg::Options::=--force-confold upgrade &&
		       apt-get clean' >"$WORK/updates.log" 2>&1; then
		tail -n 30 "$WORK/updates.log" >&2
		die "updating the rootfs from $SUITE-updates/$SUITE-security failed (HEARTH_SECURITY_UPDATES=0 to skip)"
	fi
	grep -E '^[0-9]+ upgraded' "$WORK/updates.log" | sed "s/^/$PROG: /" >&2 || true
}

sha256() { sha256sum | cut -c1-16; }

# Trim a fresh rootfs to what a runtime container needs: purge the packages
# neither the Essential set nor the runtime depends on (apt and its crypto,
# e2fsprogs, passwd, mount...). Copyright files stay (licences); docs, man
# pages, translations, apt lists, caches and rarely used iconv modules go.
trim_rootfs() {
	r=$1 keep=$2
	prune=$(awk -v WANT="$keep" -f "$HERE/prune-packages.awk" "$r/var/lib/dpkg/status") ||
		die "could not read $r/var/lib/dpkg/status"
	if [ -n "$prune" ]; then
		# shellcheck disable=SC2086
		dpkg --root="$r" --purge --force-depends --force-remove-protected \
			--force-remove-essential $prune >"$WORK/purge.log" 2>&1 ||
			{ cat "$WORK/purge.log" >&2; die "dpkg --purge in $r failed"; }
	fi
	for m in "$r"/usr/lib/*-linux-gnu/gconv/*.so; do
		case ${m##*/} in UTF-*|UNICODE.so|ISO8859-1.so|ISO8859-15.so) ;; *) rm -f "$m" ;; esac
	done
	rm -rf "$r/usr/share/zoneinfo/right"
	find "$r/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
	find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
	rm -rf "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/lintian" \
		"$r/usr/share/linda" "$r/usr/share/bug" "$r/usr/share/menu"
	mkdir -p "$r/usr/share/man"
	find "$r/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
	rm -rf "$r/var/lib/apt" "$r/var/cache/apt" "$r/var/cache/debconf"/*-old \
		"$r/var/lib/dpkg"/*-old "$r/var/cache/ldconfig/aux-cache"
	find "$r/var/log" -type f -delete
	rm -rf "$r/debootstrap"
	# Docker bind-mounts its own; do not ship the build host's.
	: >"$r/etc/resolv.conf"; : >"$r/etc/hostname"
	[ ! -e "$r/etc/machine-id" ] || : >"$r/etc/machine-id"
	# Keep later dpkg installs (if anyone adds a layer) trimmed the same way.
	mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
	cat >"$r/etc/dpkg/dpkg.cfg.d/hearth-nodoc" <<'NODOC'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
NODOC
}

# One debootstrap (minbase + every runtime's packages) per run, shared by
# the runtimes: each copies it and purges what it does not need, which is
# about half the time of one debootstrap per runtime.
shared_rootfs() {
	root="$WORK/rootfs-shared"
	[ ! -f "$WORK/rootfs-shared.done" ] || { echo "$root"; return; }
	[ "$(id -u)" = 0 ] || die "debootstrap needs root (no cached rootfs in $CACHE_DIR); run as root, or pass --base-python/--base-node IMAGE"
	command -v debootstrap >/dev/null 2>&1 || die "debootstrap is not installed (apt-get install debootstrap)"
	mirror=$(debian_mirror)
	mkdir -p "$CACHE_DIR/debs"
	say "debootstrap --variant=minbase $SUITE from $mirror with: $ALL_PACKAGES (about a minute)"
	t0=$(date +%s)
	if ! debootstrap --variant=minbase --arch="$ARCH" --include="$(echo "$ALL_PACKAGES" | tr ' ' ,)" \
		--cache-dir="$CACHE_DIR/debs" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$SUITE" "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
		tail -n 30 "$WORK/debootstrap.log" >&2
		[ ! -f "$root/debootstrap/debootstrap.log" ] || tail -n 30 "$root/debootstrap/debootstrap.log" >&2
		die "debootstrap failed (mirror $mirror; set HEARTH_MIRROR to another)"
	fi
	[ "$UPDATES" = 0 ] || apply_updates "$root" "$mirror"
	say "debootstrap done ($(( $(date +%s) - t0 )) s)"
	: >"$WORK/rootfs-shared.done"
	echo "$root"
}

# Make (or reuse) the trimmed rootfs tarball for LANG; print its path.
rootfs_tarball() {
	lang=$1
	pkgs=$(packages_for "$lang")
	key=$(printf 'suite=%s\nvariant=minbase\narch=%s\ndebootstrap=%s\nkeep=%s\nupdates=%s\nformat=%s\n' \
		"$SUITE" "$ARCH" "$ALL_PACKAGES" "$pkgs" "$UPDATES" "$ROOTFS_FORMAT" | sha256)
	tarball="$CACHE_DIR/rootfs-$lang-$SUITE-$ARCH-$key.tar"
	echo "$key" >"$WORK/key-$lang"
	if [ "$REBUILD_BASE" = no ] && [ -s "$tarball" ]; then
		say "$lang: cached rootfs $tarball"
		echo "$tarball"; return
	fi
	shared=$(shared_rootfs) || exit 1
	t0=$(date +%s)
	root="$WORK/rootfs-$lang"
	rm -rf "$root"
	cp -a "$shared" "$root" || die "cannot copy $shared to $root"
	trim_rootfs "$root" "$pkgs tzdata"
	say "$lang: rootfs $(du -sm "$root" | cut -f1) MB after trimming ($(( $(date +%s) - t0 )) s)"
	tar --numeric-owner --xattrs -C "$root" -cf "$tarball.tmp.$$" . ||
		die "$lang: could not write $tarball"
	mv -f "$tarball.tmp.$$" "$tarball" || die "$lang: could not write $tarball"
	# Keep only the current key's tarball for this runtime.
	for old in "$CACHE_DIR"/rootfs-"$lang"-*.tar; do
		[ "$old" = "$tarball" ] || rm -f "$old"
	done
	rm -rf "$root"
	echo "$tarball"
}

# Make sure the debootstrap base image for LANG exists; print its name.
debootstrap_base() {
	lang=$1
	image="hearth/base-$lang:$SUITE"
	tarball=$(rootfs_tarball "$lang") || exit 1
	key=$(cat "$WORK/key-$lang") || exit 1
	have=$("$DOCKER" image inspect --format '{{ index .Config.Labels "org.hearth.base.key" }}' "$image" 2>/dev/null || true)
	if [ "$REBUILD_BASE" = no ] && [ "$have" = "$key" ]; then
		say "$lang: base image $image is current (key $key)"
	else
		say "$lang: importing $tarball as $image"
		image_id "$image" >"$WORK/stale-base-$lang"
		"$DOCKER" import \
			--change "LABEL org.hearth.base.key=$key" \
			--change "LABEL org.hearth.base.suite=$SUITE" \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change 'ENV LANG=C.UTF-8' \
			--change 'CMD ["/bin/bash"]' \
			"$tarball" "$image" >/dev/null || die "$lang: docker import of $tarball failed"
	fi
	echo "$image"
}

image_id() { "$DOCKER" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# The runtime's version as the base image reports it.
runtime_version() {
	lang=$1 base=$2
	case $lang in
	python) "$DOCKER" run --rm --network none --entrypoint python3 "$base" \
		-c 'import platform; print(platform.python_version())' ;;
	node) "$DOCKER" run --rm --network none --entrypoint node "$base" \
		-p 'process.versions.node' ;;
	esac
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hearth-images.XXXXXX")
cleanup() {
	# An interrupted debootstrap may leave /proc or /sys mounted in its target.
	for m in "$WORK"/rootfs-shared/proc "$WORK"/rootfs-shared/sys "$WORK"/rootfs-shared/dev/pts; do
		! mountpoint -q "$m" 2>/dev/null || umount -l "$m" || true
	done
	rm -rf "$WORK"
	rm -f "$CACHE_DIR"/*.tmp.$$
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$CACHE_DIR" 2>/dev/null || die "cannot create cache folder $CACHE_DIR (set HEARTH_CACHE_DIR)"
# Two builds at once (run.sh and test.sh) would debootstrap twice; serialise.
if command -v flock >/dev/null 2>&1 && [ -w "$CACHE_DIR" ]; then
	exec 9>"$CACHE_DIR/.lock"
	flock -w 900 9 || die "timed out waiting for another build-images.sh (lock $CACHE_DIR/.lock)"
fi

for lang in $LANGS; do
	t0=$(date +%s)
	case $lang in
	python) base=$BASE_PYTHON ;;
	node) base=$BASE_NODE ;;
	esac
	if [ -z "$base" ]; then
		base=$(debootstrap_base "$lang")
	elif ! "$DOCKER" image inspect "$base" >/dev/null 2>&1; then
		say "$lang: pulling $base"
		"$DOCKER" pull "$base" >&2 || die "$lang: cannot pull base image $base (no registry? leave BASE_$(echo "$lang" | tr a-z A-Z) unset to debootstrap one)"
	fi
	rtver=$(runtime_version "$lang" "$base") && [ -n "$rtver" ] ||
		die "$lang: could not run the $lang runtime in base image $base"

	boot=$(bootstrap_file "$lang")
	[ -f "$SRCDIR/$lang/Dockerfile" ] || die "missing $SRCDIR/$lang/Dockerfile"
	[ -f "$SRCDIR/$lang/$boot" ] || die "missing $SRCDIR/$lang/$boot (the $lang bootstrap)"
	if [ -n "$CONTEXT" ]; then ctx="$CONTEXT/$lang"; else ctx="$WORK/context-$lang"; fi
	rm -rf "$ctx"; mkdir -p "$ctx"
	cp "$SRCDIR/$lang/Dockerfile" "$ctx/Dockerfile"
	shim_for_image "$SHIM" "$ctx/hearth-shim" || die "cannot copy $SHIM into $ctx"
	cp "$SRCDIR/$lang/$boot" "$ctx/$boot"; chmod 0644 "$ctx/$boot"

	# Images this build replaces, removed afterwards so reruns leave no
	# dangling images behind (kept if a container still uses them).
	stale="$(cat "$WORK/stale-base-$lang" 2>/dev/null || true) $(image_id "hearth/$lang:$VERSION")"
	say "$lang: docker build hearth/$lang:$VERSION on $base ($lang $rtver)"
	if ! "$DOCKER" build -q \
		--build-arg "BASE=$base" \
		--build-arg "RUNTIME_VERSION=$rtver" \
		--build-arg "HEARTH_VERSION=$VERSION" \
		--build-arg "SHIM_SHA256=$(hash_of "$ctx/hearth-shim")" \
		--build-arg "BOOTSTRAP_SHA256=$(hash_of "$ctx/$boot")" \
		-t "hearth/$lang:$VERSION" -t "hearth/$lang:latest" "$ctx" >"$WORK/build-$lang.log" 2>&1; then
		cat "$WORK/build-$lang.log" >&2
		die "$lang: docker build failed (context kept in $ctx)"
	fi
	# A smoke test: the shim and the runtime are where the Dockerfile says.
	"$DOCKER" run --rm --network none --entrypoint /bin/sh "hearth/$lang:$VERSION" -c \
		"test -x /usr/local/bin/hearth-shim && test -r /opt/hearth/$boot && test \"\$(id -u)\" != 0" ||
		die "$lang: hearth/$lang:$VERSION failed its smoke test (shim, bootstrap or non-root user)"
	now=$(image_id "hearth/$lang:$VERSION") nowbase=$(image_id "$base")
	for id in $stale; do
		[ "$id" = "$now" ] || [ "$id" = "$nowbase" ] || "$DOCKER" image rm "$id" >/dev/null 2>&1 || true
	done
	size=$("$DOCKER" image inspect --format '{{.Size}}' "hearth/$lang:$VERSION")
	say "$lang: built hearth/$lang:$VERSION and :latest, $((size / 1000000)) MB, $lang $rtver ($(( $(date +%s) - t0 )) s)"
	if [ "$size" -ge 400000000 ]; then
		die "$lang: image is $((size / 1000000)) MB, over the 400 MB budget"
	fi
done

# Untagged hearth images left by earlier builds (replaced while a container
# still used them); docker keeps any that are still in use.
old=$( ("$DOCKER" images -q -f dangling=true -f label=org.hearth.runtime
	"$DOCKER" images -q -f dangling=true -f label=org.hearth.base.key) 2>/dev/null | sort -u)
# shellcheck disable=SC2086
[ -z "$old" ] || "$DOCKER" image rm $old >/dev/null 2>&1 || true
