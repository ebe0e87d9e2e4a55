#!/usr/bin/env bash
# run-bench.sh — the `make bench` driver: cold vs stem vs warm invocations
# of Hearth against `docker run`/`docker exec` per call and the machine's
# floor, all in one run on the same machine state.  Starts its own hearthd
# (the build tree's) on a free port with a temporary data dir, drives it
# with hearth-loadgen (bench/loadgen), and writes to --out:
#   results.json   every figure, one object per scenario
#   RESULTS.md     the tables, between the "bench:begin/end" markers (the
#                  rest of the file, e.g. the analysis, is kept)
#   latency.svg    latency distributions per start kind (bench/chart.py)
#
# usage: run-bench.sh --builddir DIR --srcdir DIR [--out DIR] [--quick]
#                     [--docker-socket PATH] [--keep-tmp] [--no-docker]
#                     [--warm-path | --no-warm-path] [--lang python|node]
#                     [--rounds N] [--calls N] [--no-large] [--no-overload]
#                     [--overload-only]
#
# The warm path vs the floor (issue 12, bench/floor.py) runs in the same
# hearthd after the warm and work scenarios; --warm-path runs only that
# (6-7 minutes; with --quick about 2), --no-warm-path everything but
# it.  --lang, --rounds (default 3), --calls (c=1 calls per round, default
# 30000), --no-large, --no-overload and --overload-only narrow it down.  It writes
# floor.json and the floor:begin/end block of RESULTS.md; --warm-path
# leaves results.json, latency.svg and the bench:begin/end block alone.
#
# Needs curl and python3 (stdlib only); docker for the baselines.
# The hearthd it starts is stopped by its PID; the temp dir is removed.
#
# The hearthd it starts removes, when it starts, only its own instance's
# containers (hearth.instance: a hash of its temporary data dir); another
# hearthd on the same dockerd keeps its own, but shares the 2 CPUs.
set -euo pipefail

BUILDDIR= SRCDIR= OUT= QUICK=0 KEEP=0 NO_DOCKER=0 ORIG_ARGS="$*"
WARM_PATH=1 WARM_PATH_ONLY=0 FLOOR_ARGS=()
DOCKER_SOCKET=${HEARTH_DOCKER_SOCKET:-/var/run/docker.sock}
# For testing the harness itself: hearthd gets this socket instead (e.g. a
# path with no dockerd, so that it touches no container), the baselines
# still use --docker-socket.
HEARTHD_DOCKER_SOCKET=${BENCH_HEARTHD_DOCKER_SOCKET:-}
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) BUILDDIR=$2; shift 2 ;;
	--srcdir) SRCDIR=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--keep-tmp) KEEP=1; shift ;;
	--no-docker) NO_DOCKER=1; shift ;;
	--docker-socket) DOCKER_SOCKET=$2; shift 2 ;;
	--warm-path) WARM_PATH_ONLY=1 WARM_PATH=1; shift ;;
	--no-warm-path) WARM_PATH=0 WARM_PATH_ONLY=0; shift ;;
	--lang) FLOOR_ARGS+=(--langs "$2"); shift 2 ;;
	--rounds|--calls) FLOOR_ARGS+=("$1" "$2"); shift 2 ;;
	--no-large|--no-overload|--overload-only) FLOOR_ARGS+=("$1"); shift ;;
	-h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${BUILDDIR:=$SRCDIR}"
: "${OUT:=$SRCDIR/bench}"
LOADGEN=$BUILDDIR/bench/loadgen
HEARTHD=${BENCH_HEARTHD:-$BUILDDIR/src/hearthd}	# BENCH_HEARTHD: another hearthd binary
SHIM_RTT=$BUILDDIR/bench/shim_rtt
SHIM=$BUILDDIR/runtimes/shim/hearth-shim
FLOOR_SERVER=$BUILDDIR/bench/floor-server
CHART=$SRCDIR/bench/chart.py
IMAGE_PY=${BENCH_IMAGE_PYTHON:-hearth/python:latest}
IMAGE_NODE=${BENCH_IMAGE_NODE:-hearth/node:latest}

# Sizes: the issue asks for >= 10,000 warm calls at c=1 and >= 20 samples
# of each start kind; the whole run must stay under 5 minutes.
WARM_CALLS=10000 WARM_WARMUP=1000 TPUT_SECS=5 SAMPLES=20 NODE_SAMPLES=10 WORK_CALLS=300
if [ "$QUICK" = 1 ]; then
	WARM_CALLS=2000 WARM_WARMUP=200 TPUT_SECS=2 SAMPLES=5 NODE_SAMPLES=3 WORK_CALLS=50
fi

for tool in curl python3; do
	command -v "$tool" >/dev/null || { echo "run-bench.sh: needs $tool" >&2; exit 2; }
done
for f in "$LOADGEN" "$HEARTHD"; do
	[ -x "$f" ] || { echo "run-bench.sh: no $f: build first (make bench builds it)" >&2; exit 2; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hearth-bench.XXXXXX")
R=$TMP/results		# one JSON file per scenario, named in run order
mkdir -p "$R" "$TMP/data"
HEARTH_PID= HEARTH_URL= HEARTH_N=0 SEQ=0 EXEC_OK=0
EXEC_CONTAINER=
T_BEGIN=$(date +%s)

log() { printf 'bench: %s\n' "$*" >&2; }

stop_hearthd() {
	[ -n "$HEARTH_PID" ] || return 0
	kill -TERM "$HEARTH_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 200); do
		kill -0 "$HEARTH_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$HEARTH_PID" 2>/dev/null; then
		log "hearthd $HEARTH_PID did not stop within 20 s of SIGTERM: SIGKILL"
		kill -KILL "$HEARTH_PID" 2>/dev/null || true
	fi
	wait "$HEARTH_PID" 2>/dev/null || true
	HEARTH_PID=
}

cleanup() {
	local rc=$?
	stop_hearthd
	if [ -n "$EXEC_CONTAINER" ]; then
		docker rm -f "$EXEC_CONTAINER" >/dev/null 2>&1 || true
	fi
	if [ "$KEEP" = 1 ]; then
		log "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_hearthd [extra hearthd flags]: HEARTH_PID and HEARTH_URL; a bounded
# wait for /healthz; another port when the one picked got taken meanwhile.
start_hearthd() {
	local attempt i port logf
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		HEARTH_N=$((HEARTH_N + 1))
		logf=$TMP/hearthd.$HEARTH_N.log
		"$HEARTHD" --listen "127.0.0.1:$port" --data-dir "${HEARTH_DATA:-$TMP/data}" \
			--web-dir "$SRCDIR/web" --docker-socket "${HEARTHD_DOCKER_SOCKET:-$DOCKER_SOCKET}" \
			--log-level warn "$@" 2>"$logf" &
		HEARTH_PID=$!
		HEARTH_URL=http://127.0.0.1:$port
		for i in $(seq 1 100); do
			curl -s -o /dev/null --max-time 1 "$HEARTH_URL/healthz" && return 0
			kill -0 "$HEARTH_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$HEARTH_PID" 2>/dev/null; then
			tail -20 "$logf" >&2
			log "hearthd did not answer /healthz within 10 s"
			exit 1
		fi
		wait "$HEARTH_PID" 2>/dev/null || true
		HEARTH_PID=
		grep -q "in use" "$logf" && continue
		tail -20 "$logf" >&2
		log "hearthd exited at start"
		exit 1
	done
	log "no free port after 5 attempts"
	exit 1
}

# The JSON helpers, the timed samplers and the report (python3 stdlib).
cat >"$TMP/bench.py" <<'PY'
import json, os, re, subprocess, sys, time, urllib.request, urllib.error

def http(method, url, body=None, timeout=120):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()

def cmd_create(base, name, lang, code_file, min_warm, extra):
    obj = {"name": name, "language": lang, "code": open(code_file).read(),
           "min_warm": int(min_warm)}
    obj.update(json.loads(extra) if extra else {})
    st, body = http("POST", base + "/functions/", obj)
    if st != 201:
        sys.exit(f"create {name}: HTTP {st}: {body[:300]!r}")
    print(json.loads(body)["id"])

def cmd_delete(base, fid):
    http("DELETE", f"{base}/functions/{fid}")

def cmd_probe(base, fid, payload_file, seconds):
    """Calls until one answers 200 with status success (the pool warming
    up), at most `seconds`; prints the last envelope or error."""
    payload = open(payload_file, "rb").read()
    end = time.monotonic() + float(seconds)
    last = ""
    while time.monotonic() < end:
        try:
            st, body = http("POST", f"{base}/functions/{fid}/execute", payload, timeout=30)
        except Exception as e:  # connection trouble: keep trying until the end
            st, body = 0, str(e).encode()
        last = f"HTTP {st}: {body[:400].decode(errors='replace')}"
        if st in (400, 404, 501, 503):  # will not get better by waiting
            break
        if st == 200:
            try:
                env = json.loads(body)
            except ValueError:
                env = {}
            if env.get("status") == "success":
                print(json.dumps(env))
                return
        time.sleep(0.5)
    print(last)
    sys.exit(1)

def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return None

def la_fields(start=None):
    """The 1/5/15-minute load averages at the scenario's start and end."""
    return {"loadavg_start": start or os.environ.get("BENCH_LA0"), "loadavg_end": loadavg()}

def pool(base):
    try:
        st, body = http("GET", base + "/pool", timeout=10)
        return json.loads(body).get("containers", [])
    except Exception:
        return []

def settle(base, lang, want_stem, gone_fid=None, seconds=30):
    """Waits until the pool is quiet: no container of the deleted function
    left, none starting or draining, and (want_stem) an idle stem cell of
    lang; then a short pause so that dockerd has finished the removal too."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        cs = pool(base)
        busy = any((gone_fid is not None and c.get("function_id") == gone_fid) or
                   c.get("state") in ("starting", "draining", "removing")
                   for c in cs)
        stem_ok = not want_stem or any(c.get("stem") and c.get("language") == lang and
                                       c.get("state") == "idle" for c in cs)
        if not busy and stem_ok:
            time.sleep(0.3)
            return True
        time.sleep(0.05)
    print("bench: the pool did not settle within %d s: %s" % (seconds, json.dumps(
        [(c.get("function_id"), c.get("language"), c.get("stem"), c.get("state")) for c in cs])),
        file=sys.stderr)
    return False

def cmd_settle(base, lang, want_stem):
    if not settle(base, lang, want_stem == "1"):
        print(f"bench: the pool did not settle ({lang} stem wanted: {want_stem})", file=sys.stderr)

def cmd_first_calls(base, label, kind, lang, code_file, n, want_start, out, want_stem):
    """n samples of a function's first call: create (min_warm 0), time the
    first execute end to end, check the envelope's start kind, delete,
    and wait for the pool to settle (a stem cell back, when wanted) before
    the next."""
    la0 = loadavg()
    samples, starts, errors, envs, steps = [], {}, [], [], []
    want_stem = want_stem == "1"
    settle(base, lang, want_stem)
    for i in range(int(n)):
        name = f"bench-{kind}-{lang}-{os.getpid()}-{i}"
        obj = {"name": name, "language": lang, "code": open(code_file).read(), "min_warm": 0,
               "memory": 128}
        st, body = http("POST", base + "/functions/", obj)
        if st != 201:
            errors.append(f"create: HTTP {st}: {body[:200]!r}")
            continue
        fid = json.loads(body)["id"]
        t0 = time.perf_counter_ns()
        st, body = http("POST", f"{base}/functions/{fid}/execute", b"{}", timeout=60)
        dt = (time.perf_counter_ns() - t0) / 1e3
        t1 = time.monotonic()
        try:
            env = json.loads(body)
        except ValueError:
            env = {}
        s = env.get("start", "?")
        starts[s] = starts.get(s, 0) + 1
        if st == 200 and env.get("status") == "success":
            samples.append(dt)
            envs.append({k: env.get(k) for k in ("start", "duration_ms", "init_ms", "queue_ms")})
        else:
            errors.append(f"execute: HTTP {st}: {body[:200]!r}")
        http("DELETE", f"{base}/functions/{fid}")
        t2 = time.monotonic()
        settle(base, lang, want_stem, fid)
        steps.append((round(t2 - t1, 3), round(time.monotonic() - t2, 3)))
    res = {"label": label, "kind": kind, "samples_us": samples, "starts": starts,
           "want_start": want_start, "errors": len(errors), "error_examples": errors[:3],
           "envelopes": envs, "delete_settle_s": steps, **la_fields(la0)}
    json.dump(res, open(out, "w"))
    if errors or starts.get(want_start, 0) != len(samples):
        print(f"{label}: {len(errors)} errors, starts {starts} (want {want_start})", file=sys.stderr)

def metrics_starts(base):
    st, body = http("GET", base + "/metrics", timeout=10)
    out = {}
    for line in body.decode(errors="replace").splitlines():
        m = re.match(r'hearth_starts_total\{start="(\w+)"\}\s+([0-9.e+]+)', line)
        if m:
            out[m.group(1)] = int(float(m.group(2)))
    return out

def cmd_grow(base, fid, loadgen, body_file, conns, rounds):
    """Load at `conns` connections, one second at a time, until the
    function's pool stops growing (nothing starting, the same count twice)."""
    fid, last = int(fid), -1
    for _ in range(int(rounds)):
        subprocess.run([loadgen, "--url", f"{base}/functions/{fid}/execute", "--body-file",
                        body_file, "--connections", conns, "--duration", "1"],
                       capture_output=True)
        settle(base, "", False, None, 10)
        n = sum(1 for c in pool(base) if c.get("function_id") == fid)
        if n == last:
            break
        last = n

def cmd_starts(base, out):
    json.dump(metrics_starts(base), open(out, "w"))

def cmd_samples(label, kind, n, out, *argv):
    """Runs argv n times (stdin from $BENCH_STDIN when set), wall time each."""
    stdin_data = open(os.environ["BENCH_STDIN"], "rb").read() if os.environ.get("BENCH_STDIN") else b""
    samples, errors = [], []
    la0 = loadavg()
    for _ in range(int(n)):
        t0 = time.perf_counter_ns()
        p = subprocess.run(argv, input=stdin_data, capture_output=True)
        dt = (time.perf_counter_ns() - t0) / 1e3
        if p.returncode == 0:
            samples.append(dt)
        else:
            errors.append(f"exit {p.returncode}: {p.stderr[:200]!r}")
    json.dump({"label": label, "kind": kind, "samples_us": samples, "errors": len(errors),
               "error_examples": errors[:3], "command": list(argv), **la_fields(la0)},
              open(out, "w"))
    if errors:
        print(f"{label}: {len(errors)} of {n} failed: {errors[0]}", file=sys.stderr)

def cmd_wrap(label, kind, chart, lg_file, out):
    """A loadgen --json output wrapped with the scenario's kind."""
    try:
        lg = json.load(open(lg_file))
    except (OSError, ValueError):
        lg = None
    res = {"label": label, "kind": kind, "chart": chart == "1", "loadgen": lg, **la_fields()}
    s0, s1 = os.environ.get("BENCH_STARTS0"), os.environ.get("BENCH_STARTS1")
    if s0 and s1 and os.path.exists(s0) and os.path.exists(s1):
        a, b = json.load(open(s0)), json.load(open(s1))
        res["starts"] = {k: b.get(k, 0) - a.get(k, 0) for k in b if b.get(k, 0) - a.get(k, 0)}
        res["want_start"] = os.environ.get("BENCH_WANT", "warm")
        res["starts_include_warmup"] = True
    if os.environ.get("BENCH_NOTE"):
        res["note"] = os.environ["BENCH_NOTE"]
    if lg is None:
        res["skipped"] = "hearth-loadgen gave no figures"
        res["chart"] = False
    json.dump(res, open(out, "w"))

def cmd_shim_rtt(text_file, out_pipe, out_shim):
    """bench/shim_rtt's table (text) into percentile-only scenarios."""
    rows = {}
    for line in open(text_file):
        for key in ("bare pipe", "via hearth-shim"):
            if line.startswith(key):
                nums = line.split()[-3:]
                rows[key] = dict(zip(("p50", "p90", "p99"), map(float, nums)))
    m = re.search(r"(\d+) calls each", open(text_file).readline())
    n = int(m.group(1)) if m else 0
    for key, out, label in (("bare pipe", out_pipe, "floor: bare pipe to python3 (no HTTP, no container)"),
                            ("via hearth-shim", out_shim, "floor: through hearth-shim, no HTTP, no container")):
        if key in rows:
            lat = dict(rows[key], count=n)
            json.dump({"label": label, "kind": "floor", "latency_us": lat, "percentiles_only": True,
                       "source": "bench/shim_rtt", **la_fields()}, open(out, "w"))

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    globals()["cmd_" + cmd.replace("-", "_")](*args)
PY
B() { python3 "$TMP/bench.py" "$@"; }

# next_out SLUG: OUTF is the next scenario file, numbered in run order
# (a variable, not $(...), so that the count survives).
next_out() { SEQ=$((SEQ + 1)); OUTF=$(printf '%s/%02d-%s.json' "$R" "$SEQ" "$1"); }

# skip SLUG LABEL KIND REASON: a scenario that could not run, with why.
skip() {
	log "SKIPPED $2: $4"
	next_out "$1"
	python3 -c 'import json,sys; json.dump({"label":sys.argv[1],"kind":sys.argv[2],"skipped":sys.argv[3],"chart":False}, open(sys.argv[4],"w"))' \
		"$2" "$3" "$4" "$OUTF"
}

# runnable SLUG LABEL KIND FUNCTION_ID: whether a scenario calling this
# function can run; when not (no function, or execute does not work), it
# is recorded as skipped.
runnable() {
	if [ -z "$4" ]; then
		skip "$1" "$2" "$3" "the function could not be created"
	elif [ "$EXEC_OK" = 0 ]; then
		skip "$1" "$2" "$3" "execute does not work: $PROBE"
	else
		return 0
	fi
	return 1
}

# la0: the load average at a scenario's start (each scenario records it
# with the one at its end: the machine is shared).
la0() { BENCH_LA0=$(cut -d' ' -f1-3 /proc/loadavg); export BENCH_LA0; }

# loadgen_run SLUG LABEL KIND CHART(0|1) LOADGEN-ARGS...
# With CHECK_STARTS=1 (and HEARTH_URL), hearthd's start counters before
# and after say which start kinds served the calls (warm-up included).
loadgen_run() {
	local slug=$1 label=$2 kind=$3 chart=$4
	shift 4
	log "$label"
	la0
	rm -f "$TMP/starts0.json" "$TMP/starts1.json"
	[ "${CHECK_STARTS:-0}" = 1 ] && B starts "$HEARTH_URL" "$TMP/starts0.json"
	${LG_PREFIX:-} "$LOADGEN" --json --label "$label" "$@" >"$TMP/lg.json" || log "$label: loadgen exited $?"
	[ "${CHECK_STARTS:-0}" = 1 ] && B starts "$HEARTH_URL" "$TMP/starts1.json"
	next_out "$slug"
	BENCH_STARTS0=$TMP/starts0.json BENCH_STARTS1=$TMP/starts1.json B wrap "$label" "$kind" "$chart" "$TMP/lg.json" "$OUTF"
}

# prewarm ID BODY CONNECTIONS: calls at that concurrency, not measured, so
# that the pool has grown to it (those growth starts are cold or stem)
# before the measured run, which must be served warm only.
prewarm() {
	B grow "$HEARTH_URL" "$1" "$LOADGEN" "$2" "$3" 6 || true
}

# ---- the functions under test ---------------------------------------------

mkdir -p "$TMP/fn"
cat >"$TMP/fn/noop.py" <<'EOF'
def handler(event, context):
    return {"ok": True}
EOF
cat >"$TMP/fn/noop.js" <<'EOF'
exports.handler = async (event, context) => ({ ok: true });
EOF
# SeBS-style JSON work: dumps + loads of the ~100 KB event it is sent.
cat >"$TMP/fn/json.py" <<'EOF'
import json
def handler(event, context):
    s = json.dumps(event)
    d = json.loads(s)
    return {"bytes": len(s), "keys": len(d)}
EOF
# FunctionBench's float_operation: a CPU-bound float loop.
cat >"$TMP/fn/float.py" <<'EOF'
import math
def handler(event, context):
    n = int(event.get("n", 20000))
    acc = 0.0
    for i in range(n):
        acc += math.sin(i) * math.cos(i) + math.sqrt(i)
    return {"n": n, "acc": acc}
EOF
# SeBS 110.dynamic-html: a page rendered from a template with random
# numbers (SeBS uses jinja2; the image has only the stdlib: string.Template).
cat >"$TMP/fn/html.py" <<'EOF'
import random
from datetime import datetime
from string import Template
PAGE = Template("""<!DOCTYPE html>
<html><head><title>Randomly generated data.</title></head>
<body><p>Welcome $username!</p><p>Data generated at: $now!</p>
<p>Requested random numbers:</p><ul>
$items
</ul></body></html>""")
def handler(event, context):
    n = int(event.get("random_len", 1000))
    items = "\n".join("<li>%d</li>" % random.randint(0, 1000000) for _ in range(n))
    html = PAGE.substitute(username=event.get("username", "bench"),
                           now=datetime.now().isoformat(), items=items)
    return {"result": html}
EOF
echo '{}' >"$TMP/empty.json"
python3 - "$TMP/doc100k.json" <<'EOF'
import json, random, sys
random.seed(110)
doc, i = {}, 0
while len(json.dumps(doc)) < 100 * 1024:
    doc[f"k{i}"] = {"id": i, "name": f"item-{i}", "tags": ["a", "b", "c"],
                    "score": random.random(), "nested": {"x": i * 2, "ok": i % 2 == 0}}
    i += 1
json.dump(doc, open(sys.argv[1], "w"))
EOF
echo '{"n": 20000}' >"$TMP/float.json"
echo '{"username": "bench", "random_len": 1000}' >"$TMP/html.json"

# ---- the machine ----------------------------------------------------------

DOCKER_VERSION=unavailable
if [ "$NO_DOCKER" = 0 ] && command -v docker >/dev/null; then
	DOCKER_VERSION=$(DOCKER_HOST=unix://$DOCKER_SOCKET docker version --format '{{.Server.Version}}' 2>/dev/null || echo unavailable)
fi
python3 - "$TMP/machine.json" "$DOCKER_VERSION" "$SRCDIR" "$ORIG_ARGS" "$QUICK" <<'EOF'
import json, os, platform, subprocess, sys, datetime
out, docker, src, args, quick = sys.argv[1:]
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip(); break
except OSError:
    pass
distro = ""
try:
    for line in open("/etc/os-release"):
        if line.startswith("PRETTY_NAME="):
            distro = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
try:
    rev = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
except OSError:
    rev = ""
mem = ""
try:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) // 1024} MB"; break
except OSError:
    pass
# The command as a user types it: make bench, plus BENCH_ARGS without the
# paths make passes.
words, rest = args.split(), []
while words:
    w = words.pop(0)
    if w in ("--builddir", "--srcdir", "--out") and words:
        words.pop(0)
    elif w != "--keep-tmp":
        rest.append(w)
json.dump({"cpu": cpu, "cpus": os.cpu_count(), "memory": mem, "kernel": platform.release(),
           "os": distro, "docker": docker, "git": rev, "quick": quick == "1",
           "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "command": "make bench" + (" BENCH_ARGS='%s'" % " ".join(rest) if rest else "")},
          open(out, "w"))
EOF

# ---- floor: the same handler over a bare pipe, no HTTP, no container -------

if [ "$WARM_PATH_ONLY" = 1 ]; then
	:	# only the warm path vs the floor, below
elif [ -x "$SHIM_RTT" ] && [ -x "$SHIM" ]; then
	log "floor: bare pipe and hearth-shim round trips (bench/shim_rtt)"
	la0
	# (it exits 1 when the shim misses its own target; the table is there)
	"$SHIM_RTT" --shim "$SHIM" --bootstrap "$SRCDIR/runtimes/python/bootstrap.py" \
		--calls "$WARM_CALLS" >"$TMP/shim_rtt.txt" 2>"$TMP/shim_rtt.err" || true
	if grep -q '^bare pipe' "$TMP/shim_rtt.txt"; then
		next_out floor-pipe-python
		PIPE_OUT=$OUTF
		next_out floor-shim-python
		B shim-rtt "$TMP/shim_rtt.txt" "$PIPE_OUT" "$OUTF"
	else
		skip floor-pipe-python "floor: bare pipe to python3" floor "shim_rtt failed: $(head -c 300 "$TMP/shim_rtt.err")"
	fi
else
	skip floor-pipe-python "floor: bare pipe to python3" floor "bench/shim_rtt or runtimes/shim/hearth-shim not built"
fi
# (No Node bare-pipe floor: bench/shim_rtt drives python3 only.)

# ---- hearthd: the HTTP floor, the warm path, throughput, real work ---------

start_hearthd
log "hearthd $HEARTH_PID on $HEARTH_URL"

# floor_vs_warm: the warm path against the floor (bench/floor.py), on this
# hearthd, in the same run.
floor_vs_warm() {
	local quick=()
	[ "$WARM_PATH" = 1 ] || return 0
	if [ "$NO_DOCKER" = 1 ] || [ "$DOCKER_VERSION" = unavailable ]; then
		log "SKIPPED the warm path vs the floor: no Docker at $DOCKER_SOCKET"
		return 0
	fi
	if [ ! -x "$FLOOR_SERVER" ]; then
		log "SKIPPED the warm path vs the floor: no $FLOOR_SERVER (make bench builds it)"
		return 0
	fi
	[ "$QUICK" = 1 ] && quick=(--quick --calls 5000 --tput-secs 2 --quiet-wait 0)
	log "the warm path vs the floor (bench/floor.py)"
	mkdir -p "$TMP/floor" "$OUT"
	DOCKER_HOST=unix://$DOCKER_SOCKET python3 "$SRCDIR/bench/floor.py" --url "$HEARTH_URL" \
		--hearthd-pid "$HEARTH_PID" --loadgen "$LOADGEN" --floor-server "$FLOOR_SERVER" \
		--srcdir "$SRCDIR" --tmp "$TMP/floor" --out "$OUT" --machine "$TMP/machine.json" \
		--image-python "$IMAGE_PY" --image-node "$IMAGE_NODE" \
		--baseline "$SRCDIR/bench/floor-baseline.json" "${quick[@]}" "${FLOOR_ARGS[@]}" ||
		log "the warm path vs the floor: some part failed (see above)"
}
if [ "$WARM_PATH_ONLY" = 1 ]; then
	floor_vs_warm
	stop_hearthd
	log "wrote $OUT/RESULTS.md (the floor block) and $OUT/floor.json in $(($(date +%s) - T_BEGIN)) s"
	exit 0
fi

loadgen_run floor-http "floor: GET /healthz over HTTP (no function)" floor 1 \
	--url "$HEARTH_URL/healthz" --connections 1 --warmup "$WARM_WARMUP" --requests "$WARM_CALLS"
loadgen_run floor-http-c8 "floor: GET /healthz, 8 connections" floor 0 \
	--url "$HEARTH_URL/healthz" --connections 8 --warmup "$WARM_WARMUP" --duration "$TPUT_SECS"

FN_PY=$(B create "$HEARTH_URL" bench-noop-py python "$TMP/fn/noop.py" 1 '') || FN_PY=
FN_NODE=$(B create "$HEARTH_URL" bench-noop-node node "$TMP/fn/noop.js" 1 '') || FN_NODE=
FN_JSON=$(B create "$HEARTH_URL" bench-json python "$TMP/fn/json.py" 1 '') || FN_JSON=
FN_FLOAT=$(B create "$HEARTH_URL" bench-float python "$TMP/fn/float.py" 1 '{"timeout": 30}') || FN_FLOAT=
FN_HTML=$(B create "$HEARTH_URL" bench-html python "$TMP/fn/html.py" 1 '') || FN_HTML=
log "functions: noop-py $FN_PY, noop-node $FN_NODE, json $FN_JSON, float $FN_FLOAT, html $FN_HTML"

# Wait for the warm pools (min_warm 1) by calling until a call succeeds.
PROBE="the no-op python function could not be created"
if [ -n "$FN_PY" ] && PROBE=$(B probe "$HEARTH_URL" "$FN_PY" "$TMP/empty.json" 60); then
	EXEC_OK=1
	log "execute works: $(printf '%.200s' "$PROBE")"
else
	log "execute does not work yet: $PROBE"
fi

# pin_run: a diagnostic, not a target: the warm python call at c=1 with
# hearthd, the load generator and the function's container (shim and
# runtime) all on one CPU (the idlest), so that no call pays for waking another
# CPU; the gap to the unpinned figure is the scheduler's placement.
pin_run() {
	local id=$1 cpu all="0-$(($(nproc) - 1))" cs c
	command -v taskset >/dev/null && [ "$NO_DOCKER" = 0 ] || return 0
	# the CPU that was idlest over the last half second (the machine is shared)
	cpu=$(python3 -c 'import time
def idle():
    return {l.split()[0]: int(l.split()[4]) for l in open("/proc/stat") if l.startswith("cpu") and l[3] != " "}
a = idle(); time.sleep(0.5); b = idle()
print(max(b, key=lambda k: b[k] - a[k])[3:])' 2>/dev/null) || cpu=$(($(nproc) - 1))
	cs=$(python3 -c 'import json,sys,urllib.request
p = json.load(urllib.request.urlopen(sys.argv[1] + "/pool"))
print(" ".join(c["container"] for c in p["containers"] if c.get("function_id") == int(sys.argv[2])))' \
		"$HEARTH_URL" "$id" 2>/dev/null) || return 0
	[ -n "$cs" ] || return 0
	taskset -a -p -c "$cpu" "$HEARTH_PID" >/dev/null 2>&1 || return 0
	for c in $cs; do DOCKER_HOST=unix://$DOCKER_SOCKET docker update --cpuset-cpus "$cpu" "$c" >/dev/null 2>&1 || true; done
	LG_PREFIX="taskset -c $cpu" CHECK_STARTS=1 loadgen_run diag-warm-py-pinned \
		"diagnostic: warm python no-op, c=1, all on CPU $cpu" diag 0 \
		--url "$HEARTH_URL/functions/$id/execute" --body-file "$TMP/empty.json" \
		--connections 1 --warmup "$WARM_WARMUP" --requests "$WARM_CALLS"
	taskset -a -p -c "$all" "$HEARTH_PID" >/dev/null 2>&1 || true
	for c in $cs; do DOCKER_HOST=unix://$DOCKER_SOCKET docker update --cpuset-cpus "$all" "$c" >/dev/null 2>&1 || true; done
}

# warm_runs NAME LANG ID: latency at c=1, then throughput at 8 and 32.
warm_runs() {
	local name=$1 lang=$2 id=$3 url=$HEARTH_URL/functions/$3/execute n
	runnable "warm-$name" "warm $lang no-op, c=1" warm "$id" || return 0
	B probe "$HEARTH_URL" "$id" "$TMP/empty.json" 60 >"$TMP/probe.$name" ||
		log "warm $lang: no successful call within 60 s: $(cat "$TMP/probe.$name")"
	CHECK_STARTS=1 loadgen_run "warm-$name-c1" "warm $lang no-op, c=1" warm 1 --url "$url" \
		--body-file "$TMP/empty.json" --connections 1 --warmup "$WARM_WARMUP" --requests "$WARM_CALLS"
	[ "$lang" = python ] && pin_run "$id"
	for n in 8 32; do
		prewarm "$id" "$TMP/empty.json" "$n"
		CHECK_STARTS=1 loadgen_run "warm-$name-c$n" "warm $lang no-op, $n connections" warm 0 \
			--url "$url" --body-file "$TMP/empty.json" --connections "$n" --warmup 200 \
			--duration "$TPUT_SECS"
	done
}
warm_runs py python "$FN_PY"
warm_runs node node "$FN_NODE"

# The dashboard's feed must not slow the warm path: the same warm python
# call at c=1 without and then with a client reading GET /events (it gets
# every call's summary), back to back so the machine is the same.
stream_runs() {
	local url=$HEARTH_URL/functions/$FN_PY/execute reader
	runnable "warm-py-stream" "warm python no-op, c=1, an /events client reading" warm "$FN_PY" ||
		return 0
	CHECK_STARTS=1 loadgen_run "warm-py-nostream" "warm python no-op, c=1, paired: no /events client" \
		warm 0 --url "$url" --body-file "$TMP/empty.json" --connections 1 \
		--warmup "$WARM_WARMUP" --requests "$WARM_CALLS"
	curl -sN "$HEARTH_URL/events" >"$TMP/events.out" 2>/dev/null &
	reader=$!
	sleep 0.5
	CHECK_STARTS=1 loadgen_run "warm-py-stream" "warm python no-op, c=1, an /events client reading" \
		warm 0 --url "$url" --body-file "$TMP/empty.json" --connections 1 \
		--warmup "$WARM_WARMUP" --requests "$WARM_CALLS"
	kill "$reader" 2>/dev/null || true
	wait "$reader" 2>/dev/null || true
	log "the /events client read $(grep -c '^event: invocations' "$TMP/events.out") invocations events"
}
stream_runs

# work_run NAME ID PAYLOAD LABEL
work_run() {
	runnable "work-$1" "$4" work "$2" || return 0
	B probe "$HEARTH_URL" "$2" "$3" 60 >/dev/null || log "$4: no successful call within 60 s"
	CHECK_STARTS=1 loadgen_run "work-$1" "$4" work 1 --url "$HEARTH_URL/functions/$2/execute" \
		--body-file "$3" --connections 1 --warmup 20 --requests "$WORK_CALLS"
}
work_run json "$FN_JSON" "$TMP/doc100k.json" "work: JSON dumps+loads of 100 KB (python)"
work_run float "$FN_FLOAT" "$TMP/float.json" "work: float loop, 20k iterations (python)"
work_run html "$FN_HTML" "$TMP/html.json" "work: dynamic HTML, 1000 items (python, SeBS 110)"

# The functions above keep their containers (idle) meanwhile.
floor_vs_warm

# ---- stem: a function's first call served by a stem cell ------------------

# Each sample creates a function with min_warm 0 and memory 128 (what stem
# cells start with), waits for an idle stem cell of its language in /pool,
# times its first call end to end (the envelope must say "stem"), deletes
# the function and waits for the pool to settle (the used stem replaced,
# the old container removed) before the next.
for lang in python node; do
	code=$TMP/fn/noop.py
	[ "$lang" = node ] && code=$TMP/fn/noop.js
	n=$SAMPLES
	[ "$lang" = node ] && n=$NODE_SAMPLES
	if [ "$EXEC_OK" = 1 ]; then
		log "stem $lang: $n first calls"
		next_out "stem-$lang"
		B first-calls "$HEARTH_URL" "stem $lang, first call" stem "$lang" "$code" \
			"$n" stem "$OUTF" 1 || log "stem $lang sampling failed"
	else
		skip "stem-$lang" "stem $lang, first call" stem "execute does not work: $PROBE"
	fi
done
stop_hearthd

# ---- cold: stem cells and warm pools off, a container started per call ----

# A hearthd of its own data dir (no function of the warm runs to prewarm)
# with --stem-cells 0; each sample a new function with min_warm 0, so its
# first call creates and starts a container ("start":"cold").
if [ "$EXEC_OK" = 1 ]; then
	HEARTH_DATA=$TMP/data-cold start_hearthd --stem-cells 0
	for lang in python node; do
		code=$TMP/fn/noop.py
		[ "$lang" = node ] && code=$TMP/fn/noop.js
		n=$SAMPLES
		[ "$lang" = node ] && n=$NODE_SAMPLES
		log "cold $lang: $n first calls (hearthd $HEARTH_PID, --stem-cells 0)"
		next_out "cold-$lang"
		B first-calls "$HEARTH_URL" "cold $lang, first call" cold "$lang" "$code" \
			"$n" cold "$OUTF" 0 || log "cold $lang sampling failed"
	done
	stop_hearthd
else
	skip cold-python "cold python, first call" cold "execute does not work: $PROBE"
fi

# ---- baselines: docker run --rm per call, docker exec per call ------------

# The same no-op handler file, called the way a user without Hearth would:
# the same image, the same hardening flags as hearthd's containers
# (pool/docker.c), the code bind-mounted read-only; the image's python3 or
# node imports the handler and calls it on the event from stdin.
RUN_PY='import json,sys
sys.path.insert(0, "/var/task")
from noop import handler
print(json.dumps(handler(json.load(sys.stdin), None)))'
RUN_NODE='const h = require("/var/task/noop.js").handler;
let s = ""; process.stdin.on("data", d => s += d).on("end", async () =>
  console.log(JSON.stringify(await h(JSON.parse(s), {}))));'
RUN_FLAGS=(--network none --read-only --ipc private --cap-drop ALL
	--security-opt no-new-privileges --user 65534:65534 --memory 128m --memory-swap 128m
	--pids-limit 128 --cpu-shares 128 --tmpfs /tmp:rw,nosuid,nodev,size=64m,mode=1777
	--label hearth.bench=true -v "$TMP/task:/var/task:ro")
mkdir -p "$TMP/task"
cp "$TMP/fn/noop.py" "$TMP/fn/noop.js" "$TMP/task/"
chmod 755 "$TMP/task"
chmod 644 "$TMP"/task/*
if [ "$NO_DOCKER" = 1 ] || [ "$DOCKER_VERSION" = unavailable ]; then
	skip docker-run "docker run --rm per call (python)" docker-run "no Docker at $DOCKER_SOCKET"
	skip docker-exec "docker exec per call (python)" docker-exec "no Docker at $DOCKER_SOCKET"
else
	export DOCKER_HOST=unix://$DOCKER_SOCKET
	for lang in python node; do
		if [ "$lang" = python ]; then
			image=$IMAGE_PY interp=python3 prog=(-c "$RUN_PY") n=$SAMPLES
		else
			image=$IMAGE_NODE interp=node prog=(-e "$RUN_NODE") n=$NODE_SAMPLES
		fi
		log "docker run --rm ($lang): $n calls"
		next_out "docker-run-$lang"
		BENCH_STDIN=$TMP/empty.json B samples "docker run --rm per call ($lang)" docker-run "$n" \
			"$OUTF" docker run --rm -i "${RUN_FLAGS[@]}" --entrypoint "$interp" \
			"$image" "${prog[@]}"
		EXEC_CONTAINER=hearth-bench-exec-$$
		if docker run -d --name "$EXEC_CONTAINER" "${RUN_FLAGS[@]}" --entrypoint sleep \
			"$image" infinity >/dev/null 2>"$TMP/exec.err"; then
			log "docker exec ($lang): $n calls"
			next_out "docker-exec-$lang"
			BENCH_STDIN=$TMP/empty.json B samples "docker exec per call ($lang)" docker-exec "$n" \
				"$OUTF" docker exec -i "$EXEC_CONTAINER" "$interp" "${prog[@]}"
		else
			skip "docker-exec-$lang" "docker exec per call ($lang)" docker-exec \
				"docker run -d failed: $(head -c 300 "$TMP/exec.err")"
		fi
		docker rm -f "$EXEC_CONTAINER" >/dev/null 2>&1 || true
		EXEC_CONTAINER=
	done
fi

# ---- the report ------------------------------------------------------------

mkdir -p "$OUT"
T_END=$(date +%s)
python3 - "$R" "$TMP/machine.json" "$OUT" "$((T_END - T_BEGIN))" <<'EOF'
import glob, json, math, os, sys

rdir, machine_file, out, secs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
machine = json.load(open(machine_file))
scen = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(rdir, "*.json")))]

def pct_of(samples, p):
    s = sorted(samples)
    rank = max(1, math.ceil(p * len(s) / 100 - 1e-9))
    return s[min(rank, len(s)) - 1]

# One summary per scenario, whatever its source.
for s in scen:
    lg = s.get("loadgen")
    if lg:
        lat = lg["latency_us"]
        s["summary"] = {"n": lat["count"], "p50": lat["p50"], "p90": lat["p90"], "p99": lat["p99"],
                        "p99_9": lat["p99_9"], "max": lat["max"], "mean": lat["mean"],
                        "rps": lg["throughput_rps"], "connections": lg["connections"],
                        "errors": lg["errors"], "non_2xx": lg["non_2xx"], "status": lg["status"]}
    elif s.get("samples_us"):
        v = s["samples_us"]
        s["summary"] = {"n": len(v), "p50": pct_of(v, 50), "p90": pct_of(v, 90), "p99": pct_of(v, 99),
                        "p99_9": pct_of(v, 99.9), "max": max(v), "mean": sum(v) / len(v),
                        "errors": s.get("errors", 0)}
    elif s.get("latency_us"):
        lat = s["latency_us"]
        s["summary"] = {"n": lat.get("count"), "p50": lat["p50"], "p90": lat.get("p90"),
                        "p99": lat.get("p99"), "errors": 0}
    elif "samples_us" in s:
        s["skipped"] = s.get("skipped") or "no successful sample: " + "; ".join(s.get("error_examples", []))

def find(prefix, conns=None):
    for s in scen:
        if s.get("summary") and s["label"].startswith(prefix) and \
           (conns is None or s["summary"].get("connections") == conns):
            return s["summary"]
    return None

def us(v):
    if v is None:
        return "–"
    if v >= 1e6:
        return f"{v / 1e6:.2f} s"
    if v >= 1e4:
        return f"{v / 1e3:.1f} ms"
    if v >= 1e3:
        return f"{v / 1e3:.2f} ms"
    return f"{v:.0f} µs" if v >= 100 else f"{v:.1f} µs"

def ratio(a, b):
    return a / b if a and b else None

warm = find("warm python no-op, c=1")
warm_node = find("warm node no-op, c=1")
warm8 = find("warm python no-op, 8 connections", 8)
pipe = find("floor: bare pipe")
http = find("floor: GET /healthz over HTTP")
drun = find("docker run --rm per call (python)")
dexec = find("docker exec per call (python)")
drun_node = find("docker run --rm per call (node)")
dexec_node = find("docker exec per call (node)")
stem = find("stem python")
cold = find("cold python")
stem_node = find("stem node")
cold_node = find("cold node")
shim = find("floor: through hearth-shim")

# Samples served by another start kind than the scenario is about (a stem
# scenario answered warm, say) make its figure meaningless.
def others(s):
    return {k: v for k, v in (s.get("starts") or {}).items() if k != s.get("want_start") and v}
wrong_start = {s["label"].split(",")[0] for s in scen
               if s.get("want_start") and s.get("summary") and others(s)}

targets = []
def target(name, value, ok, shown, scenario=None):
    verdict = ("PASS" if ok else "FAIL") if value is not None else "n/a"
    if value is not None and scenario in wrong_start:
        verdict = "INVALID (wrong start kind, see Warnings)"
    targets.append((name, shown if value is not None else "not measured", verdict))
v = warm and warm["p50"]; target("warm python p50 ≤ 250 µs", v, v is not None and v <= 250, us(v), "warm python no-op")
v = warm and warm["p99"]; target("warm python p99 ≤ 1 ms", v, v is not None and v <= 1000, us(v), "warm python no-op")
v = ratio(warm and warm["p50"], pipe and pipe["p50"])
target("warm within 4× of the bare-pipe floor (p50)", v, v is not None and v <= 4, v and f"{v:.1f}×")
v = ratio(drun and drun["p50"], warm and warm["p50"])
target("≥ 1,000× faster than docker run (p50)", v, v is not None and v >= 1000, v and f"{v:,.0f}×")
v = warm8 and warm8["rps"]
target("≥ 5,000 calls/s, python no-op, 8 connections, no errors", v,
       v is not None and v >= 5000 and warm8["errors"] == 0 and warm8["non_2xx"] == 0,
       v and f"{v:,.0f}/s, {warm8['errors']} errors, {warm8['non_2xx']} non-2xx",
       "warm python no-op")
nostream = find("warm python no-op, c=1, paired: no /events client")
stream = find("warm python no-op, c=1, an /events client reading")
v = ratio(stream and stream["p50"], nostream and nostream["p50"])
target("an /events client costs the warm path ≤ 10% (p50, paired runs)", v,
       v is not None and v <= 1.10, v and f"{v:.2f}× ({us(stream['p50'])} vs {us(nostream['p50'])})",
       "warm python no-op")
v = stem and stem["p50"]
target("stem first call p50 ≤ 50 ms", v, v is not None and v <= 50000, us(v), "stem python")
v = cold and cold["p50"]
target("cold first call p50 ≤ 200 ms (python)", v, v is not None and v <= 200000, us(v), "cold python")

results = {"machine": machine, "duration_s": secs, "scenarios": scen,
           "targets": [{"target": t, "measured": m, "verdict": r} for t, m, r in targets]}
with open(os.path.join(out, "results.json.tmp"), "w") as f:
    json.dump(results, f, indent=1)
os.replace(os.path.join(out, "results.json.tmp"), os.path.join(out, "results.json"))

L = []
L.append("<!-- bench:begin (written by `make bench`: bench/run-bench.sh; edit outside the markers) -->")
L.append("## Figures")
L.append("")
m = machine
L.append(f"- Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory']}; {m['os']}; kernel {m['kernel']}; "
         f"Docker {m['docker']}")
L.append(f"- Date: {m['date']}; commit {m['git'] or 'unknown'}; command: `{m['command']}`; "
         f"the run took {secs} s" + (" (**--quick**: fewer samples than the issue asks)" if m["quick"] else ""))
las = [s.get("loadavg_start") for s in scen if s.get("loadavg_start")] + \
      [s.get("loadavg_end") for s in scen if s.get("loadavg_end")]
if las:
    ones = [float(x.split()[0]) for x in las]
    L.append(f"- Load average (1 min) during the run: {min(ones):.2f} to {max(ones):.2f} "
             f"(the machine is shared; each scenario's own is in the tables and results.json)")
L.append("")
checks = []
L.append("### Latency per call")
L.append("")
def la(s):
    a, b = s.get("loadavg_start"), s.get("loadavg_end")
    a = a.split()[0] if a else "?"
    b = b.split()[0] if b else "?"
    return f"{a}→{b}"
L.append("| scenario | kind | n | p50 | p90 | p99 | p99.9 | max | mean | errors | load |")
L.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for s in scen:
    sm = s.get("summary")
    if not sm or sm.get("connections", 1) != 1:
        continue
    err = sm.get("errors", 0) + sm.get("non_2xx", 0)
    L.append(f"| {s['label']} | {s['kind']} | {sm['n']} | {us(sm['p50'])} | {us(sm.get('p90'))} | "
             f"{us(sm.get('p99'))} | {us(sm.get('p99_9'))} | {us(sm.get('max'))} | {us(sm.get('mean'))} | {err} | {la(s)} |")
L.append("")
L.append("### Start kinds: which path served each scenario")
L.append("")
L.append("From the envelopes' `start` (first calls) or hearthd's `hearth_starts_total` "
         "before and after the run (load runs, warm-up included); for first calls, the "
         "median of the envelope's `init_ms` (the container start or specialisation inside "
         "the call) and `queue_ms`.")
L.append("")
L.append("| scenario | wanted | served | init_ms p50 | queue_ms p50 |")
L.append("|---|---|---|--:|--:|")
for s in scen:
    want, starts = s.get("want_start"), s.get("starts")
    if not want or not s.get("summary"):
        continue
    got = ", ".join(f"{k} {v}" for k, v in sorted((starts or {}).items())) or "–"
    envs = s.get("envelopes") or []
    def med(k):
        v = [e[k] for e in envs if isinstance(e.get(k), (int, float))]
        return f"{pct_of(v, 50):.1f} ms" if v else "–"
    L.append(f"| {s['label']} | {want} | {got} | {med('init_ms')} | {med('queue_ms')} |")
    if others(s):
        # served by another start kind than the scenario is about: say so
        checks.append(f"- {s['label']}: wanted every call to be a {want} start, got: {got}")
L.append("")
L.append("### Throughput (closed loop, keep-alive, hearth-loadgen)")
L.append("")
L.append("| scenario | connections | calls/s | p50 | p99 | errors | non-2xx | load |")
L.append("|---|--:|--:|--:|--:|--:|--:|--:|")
for s in scen:
    sm = s.get("summary")
    if not sm or "rps" not in sm:
        continue
    L.append(f"| {s['label']} | {sm['connections']} | {sm['rps']:,.0f} | {us(sm['p50'])} | "
             f"{us(sm['p99'])} | {sm['errors']} | {sm['non_2xx']} | {la(s)} |")
L.append("")
L.append("### Ratios (medians)")
L.append("")
L.append("| comparison | ratio |")
L.append("|---|--:|")
for name, a, b in (("warm python vs bare-pipe floor (slower by)", warm, pipe),
                   ("warm python vs HTTP floor /healthz (slower by)", warm, http),
                   ("warm python vs shim floor (no HTTP, no container; slower by)", warm, shim),
                   ("docker exec vs warm python (slower by)", dexec, warm),
                   ("docker run vs warm python (slower by)", drun, warm),
                   ("cold vs warm python (slower by)", cold, warm),
                   ("stem vs warm python (slower by)", stem, warm),
                   ("docker exec vs warm node (slower by)", dexec_node, warm_node),
                   ("docker run vs warm node (slower by)", drun_node, warm_node),
                   ("cold vs warm node (slower by)", cold_node, warm_node),
                   ("stem vs warm node (slower by)", stem_node, warm_node)):
    r = ratio(a and a["p50"], b and b["p50"])
    L.append(f"| {name} | {f'{r:,.1f}×' if r else '–'} |")
L.append("")
L.append("### Targets (issue 5)")
L.append("")
L.append("| target | measured | verdict |")
L.append("|---|---|---|")
for t, mm, r in targets:
    L.append(f"| {t} | {mm} | {r} |")
if checks:
    L.append("")
    L.append("### Warnings")
    L.append("")
    L.extend(checks)
skipped = [s for s in scen if s.get("skipped")]
if skipped:
    L.append("")
    L.append("### Not measured in this run")
    L.append("")
    for s in skipped:
        L.append(f"- {s['label']}: {s['skipped'][:300]}")
L.append("")
L.append("![latency per call by start kind, log scale](latency.svg)")
L.append("")
L.append("<!-- bench:end -->")
block = "\n".join(L) + "\n"

path = os.path.join(out, "RESULTS.md")
old = open(path).read() if os.path.exists(path) else "# Hearth benchmark results\n\n"
b, e = old.find("<!-- bench:begin"), old.find("<!-- bench:end -->")
if b >= 0 and e > b:
    new = old[:b] + block + old[e + len("<!-- bench:end -->"):].lstrip("\n")
else:
    new = old.rstrip("\n") + "\n\n" + block
with open(path + ".tmp", "w") as f:
    f.write(new)
os.replace(path + ".tmp", path)
for t, mm, r in targets:
    print(f"bench: {r:4}  {t}: {mm}", file=sys.stderr)
EOF
python3 "$CHART" -o "$OUT/latency.svg" \
	--subtitle "$(python3 -c 'import json,sys; print("{cpu}, {cpus} CPUs, kernel {kernel}, {date}".format(**json.load(open(sys.argv[1]))))' "$TMP/machine.json")" \
	"$OUT/results.json" || log "chart.py failed"
log "wrote $OUT/RESULTS.md, $OUT/results.json, $OUT/latency.svg in $((T_END - T_BEGIN)) s"
