#!/bin/bash
# The sandbox and the engine on a real hearthd and dockerd: a function's
# container is hardened (seen by docker inspect and from inside the
# handler), and when Docker goes away /healthz says so, a call that needs a
# new container answers 503, warm calls keep working, and hearthd recovers
# by itself when Docker is back.  Docker "goes away" through a forwarding
# socket this test owns (the real dockerd is never touched).  Needs dockerd
# and `make images`: fails without.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/exec-common.sh"

require_docker
REAL_SOCK=$HEARTH_TEST_DOCKER_SOCKET
PROXY_SOCK="$TEST_TMP/docker.sock"
PROXY=

# A byte forwarder from PROXY_SOCK to the real socket; killing it (and every
# connection it carries) is Docker going down for this hearthd only.
proxy_start() {
	python3 - "$PROXY_SOCK" "$REAL_SOCK" <<'PY' &
import os, socket, sys, threading
path, target = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(64)

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def serve(c):
    u = socket.socket(socket.AF_UNIX)
    try:
        u.connect(target)
    except OSError:
        c.close()
        return
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
	PROXY=$!
	wait_until 5 test -S "$PROXY_SOCK" || bail "the forwarding socket did not come up"
}

proxy_stop() {
	[ -n "$PROXY" ] || return 0
	kill -9 "$PROXY" 2>/dev/null
	wait "$PROXY" 2>/dev/null
	PROXY=
}

health_docker() { curl -s --max-time 2 "$HEARTH_URL/healthz" | jq -r .docker 2>/dev/null; }

exec_start

# ---- hardening, as docker inspect sees it --------------------------------------------
PROBE=$'import os, socket\n\ndef attempt(f):\n    try:\n        f()\n        return "allowed"\n    except Exception as e:\n        return "denied: " + type(e).__name__\n\ndef write(path):\n    with open(path, "w") as fh:\n        fh.write("x")\n\ndef net():\n    s = socket.create_connection(("1.1.1.1", 53), timeout=1)\n    s.close()\n\ndef handler(event, context):\n    here = os.path.dirname(os.path.abspath(__file__))\n    return {\n        "uid": os.getuid(),\n        "root_fs": attempt(lambda: write("/hearth-probe")),\n        "code_dir": attempt(lambda: write(os.path.join(here, "probe"))),\n        "tmp": attempt(lambda: write("/tmp/probe")),\n        "net": attempt(net),\n        "host_path": os.path.exists(event.get("host_path", "/nonexistent")),\n        "code_files": sorted(os.listdir(here)),\n    }\n'
create_warm SBX sandbox python "$PROBE" '{"memory":256,"min_warm":1}'
CID=$(pool_ids "$SBX" | head -1)
INSPECT=$(dk inspect "$CID" 2>/dev/null)
ins() { printf '%s' "$INSPECT" | jq -r ".[0] | $1" 2>/dev/null; }
is "$(ins .HostConfig.NetworkMode)" none "network none"
is "$(ins .HostConfig.ReadonlyRootfs)" true "read-only root filesystem"
ok "all capabilities dropped" test "$(ins '.HostConfig.CapDrop | map(ascii_upcase) | index("ALL") != null')" = true
ok "no-new-privileges" test "$(ins '.HostConfig.SecurityOpt // [] | map(test("no-new-privileges")) | any')" = true
ok "a non-root user (got '$(ins .Config.User)')" eval '[ -n "$(ins .Config.User)" ] && ! [[ "$(ins .Config.User)" =~ ^(root|0)(:|$) ]]'
ok "a pids limit (got $(ins .HostConfig.PidsLimit))" test "$(ins '.HostConfig.PidsLimit // 0')" -gt 0
is "$(ins .HostConfig.Memory)" $((256 * 1024 * 1024)) "memory limit = the function's memory"
is "$(ins .HostConfig.MemorySwap)" $((256 * 1024 * 1024)) "and no swap"
ok "a tmpfs /tmp" test "$(ins '(.HostConfig.Tmpfs // {}) | has("/tmp")')" = true
ok "a CPU share" test "$(ins '.HostConfig.CpuShares // 0')" -gt 0
# Docker labels are fixed at create: a container born cold carries its
# function and revision; one specialised from a stem cell keeps the stem's
# labels, and /pool says which function it serves now.
ORIGIN=$(curl -s --max-time 5 "$HEARTH_URL/pool" | jq -r --arg c "$CID" '.containers[] | select(.container == $c) | .origin')
if [ "$ORIGIN" = stem ]; then
	is "$(ins '[.Config.Labels["hearth.managed"], .Config.Labels["hearth.stem"]] | @csv')" \
		'"true","python"' "labels hearth.managed and hearth.stem (a specialised stem cell; /pool names its function)"
else
	is "$(ins '[.Config.Labels["hearth.managed"], .Config.Labels["hearth.function"], .Config.Labels["hearth.revision"]] | @csv')" \
		"\"true\",\"$SBX\",\"1\"" "labels hearth.managed, hearth.function, hearth.revision"
fi
ok "no privileged mode, no host namespaces" test "$(ins '.HostConfig.Privileged == false and (.HostConfig.PidMode // "") == "" and (.HostConfig.IpcMode // "") != "host"')" = true

# ---- and from inside ------------------------------------------------------------------
execute "$SBX" "$(jq -nc --arg p "$TEST_TMP" '{host_path: $p}')"
is "$STATUS:$(jqr .status)" "200:success" "the probe runs" || diag "$(last)"
diag "probe: $(jqr -c .result)"
ok "not root inside (uid $(jqr .result.uid))" test "$(jqr .result.uid)" != 0 -a -n "$(jqr .result.uid)"
like "$(jqr .result.root_fs)" denied "the root filesystem is not writable"
like "$(jqr .result.code_dir)" denied "the function's code is read-only"
is "$(jqr .result.tmp)" allowed "/tmp is writable"
like "$(jqr .result.net)" denied "no network"
is "$(jqr .result.host_path)" false "the host's folders are not visible (this test's temporary folder)"
is "$(jqr '.result.code_files | tojson')" '["main.py"]' "the code folder holds its own code only"
exec_stop

# ---- Docker goes away and comes back ------------------------------------------------------
proxy_start
HEARTH_TEST_DOCKER_SOCKET=$PROXY_SOCK exec_start
ok "/healthz: docker ok through the forwarder" wait_until 10 eval '[ "$(health_docker)" = ok ]'
ok "sandbox is warm again" wait_until 30 pool_has "$SBX" 1 idle
# memory 192 matches no stem cell: its first call needs a new container.
create_fn FRESH fresh python $'def handler(event, context):\n    return {"fresh": event.get("n")}\n' '{"memory":192,"min_warm":0}'
proxy_stop
ok "/healthz reports docker unreachable within 10 s" wait_until 10 eval '[ "$(health_docker)" = unreachable ]' ||
	diag "$(curl -s --max-time 2 "$HEARTH_URL/healthz")"
req GET /healthz
ok "with the reason (docker_error)" test -n "$(jqr '.docker_error // empty')"
T0=$(now_ms)
execute "$FRESH" '{"n":1}' --max-time 30
T1=$(now_ms)
is_error 503 "a call that needs a new container while Docker is down"
diag "$(last)"
ok "answered within 5 s ($((T1 - T0)) ms)" test $((T1 - T0)) -le 5000
like "$(jqr .error.message | tr A-Z a-z)" docker "the message names Docker"
execute "$SBX" '{}' --max-time 10
is "$STATUS:$(jqr .status)" "200:success" "a warm container still serves while Docker is down" || diag "$(last)"
req GET /metrics
ok "/metrics: hearth_engine_up 0" test "$(printf '%s\n' "$BODY" | grep -c '^hearth_engine_up 0$')" = 1
proxy_start
ok "/healthz reports docker ok again within 15 s" wait_until 15 eval '[ "$(health_docker)" = ok ]'
fresh_ok() { execute "$FRESH" '{"n":2}' --max-time 20; [ "$STATUS:$(jqr .result.fresh)" = 200:2 ]; }
ok "the call that needed a new container succeeds within 20 s of Docker's return" wait_until 20 fresh_ok ||
	diag "$(last)"
execute "$SBX" '{}'
is "$STATUS:$(jqr .status)" "200:success" "and the warm one still does"
exec_stop
proxy_stop
done_testing
