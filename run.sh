#!/usr/bin/env bash
# run.sh — set up everything Hearth needs on a Debian 12 machine and run it.
#
#   ./run.sh               install what is missing (apt), start dockerd if it is
#                          not running, build, build the runtime images when
#                          missing, then run hearthd in the foreground on
#                          127.0.0.1:8080 with its dashboard at /
#   ./run.sh --setup-only  everything but running hearthd (test.sh uses it)
#
# Safe to run twice: every step checks before it acts.  Needs root (or sudo).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
setup_only=0
[[ "${1:-}" == "--setup-only" ]] && setup_only=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
	command -v sudo >/dev/null || die "run me as root (or install sudo)"
	SUDO="sudo"
fi

# --- 1. packages ------------------------------------------------------------
# libevent-openssl-2.1-7 and libssl-dev: HTTPS (--tls-cert) through libevent's
# OpenSSL bufferevents; openssl: the TLS tests make their certificate with it.
# liblz4-dev: the invocation records' large bodies are kept compressed.
PACKAGES=(build-essential autoconf automake libtool pkg-config
	libevent-dev libevent-openssl-2.1-7 libsqlite3-dev libjson-c-dev libcurl4-openssl-dev
	libarchive-dev libssl-dev openssl liblz4-dev
	docker.io debootstrap curl jq sqlite3 python3 nodejs zip unzip busybox-static valgrind
	procps iproute2 ca-certificates clang-format libjansson-dev)
missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	say "installing ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. dockerd ---------------------------------------------------------------
docker_up() { $SUDO docker info >/dev/null 2>&1; }
if ! docker_up; then
	say "starting dockerd"
	if [[ -d /run/systemd/system ]] && $SUDO systemctl start docker 2>/dev/null; then
		:
	else
		$SUDO mkdir -p /var/log
		# setsid: dockerd must outlive this script and the terminal it runs in.
		$SUDO setsid nohup dockerd >/var/log/hearth-dockerd.log 2>&1 </dev/null &
	fi
	for _ in $(seq 1 60); do docker_up && break; sleep 0.5; done
	docker_up || die "dockerd did not come up in 30 s; see /var/log/hearth-dockerd.log"
fi

# --- 3. build -----------------------------------------------------------------
build="${HEARTH_BUILD_DIR:-$here/build}"
if [[ ! -x configure || configure.ac -nt configure ]]; then
	say "autoreconf"
	autoreconf -fi >/dev/null
fi
mkdir -p "$build"
if [[ ! -f "$build/Makefile" ]]; then
	say "configure (in $build)"
	(cd "$build" && "$here/configure" -q)
fi
say "make"
make -C "$build" -j2 -s >/dev/null

# --- 4. runtime images ----------------------------------------------------------
if [[ -f runtimes/images/build-images.sh ]]; then
	say "runtime images"
	make -C "$build" -s images-if-missing
fi

((setup_only)) && exit 0

# --- 5. run ---------------------------------------------------------------------
say "hearthd on http://127.0.0.1:8080/ (dashboard at /, API at /functions/); Ctrl-C stops it"
exec "$build/src/hearthd" --listen 127.0.0.1:8080 --data-dir "$here/hearth-data" \
	--web-dir "$here/web/dist" "$@"
