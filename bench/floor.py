#!/usr/bin/env python3
"""floor.py — Hearth's warm path against the floor, in one run (issue 12).

The floor (bench/floor-server.c) is the least architecture that serves a
handler over HTTP: one evhttp loop handing each body over a pipe to 4
long-lived python3 (node) workers running the same handler with the same
JSON work (bench/floor-worker.py, .js), a FIFO queue of 100 in front.
Against it, a Hearth function with the same handler, max_concurrency 4 and
min_warm 4, on the hearthd that run-bench.sh started.  The floor's workers
run the runtime images' own interpreters: the image's files exported once
(docker export) and the worker started under chroot of them, so that the
python3 and node versions, builds and libraries are the container's.

What it measures, per language, in ROUNDS rounds, each round printed and
the median kept.  Within a round every run is paired: the floor's and
hearth's run of the same kind back to back, the floor first in odd rounds
and hearth first in even ones (this host's speed drifts within a minute,
so two runs compared are taken seconds apart, and neither always first):
  - c=1: p50, p99, p99.9, max and the share of calls over 1 ms over CALLS
    calls; the servers' CPU per call over the same calls (hearthd, shim,
    runtime; floor-server, workers) from /proc/PID/task/*/schedstat;
  - 8 connections: throughput (closed loop), p99, CPU per call;
  - 32 connections: throughput, p99.
Then large payloads (an echo handler; 64 KB, 1 MB, 6 MB; c=1; hearthd's
RSS peak over a 6 MB call in flight, over what it held just before, by
/proc/PID/clear_refs and VmHWM),
and overload (8 ... 256 connections against max_concurrency 4: goodput,
the 429s' latency, the server's CPU per second against the queue depth).

It writes floor.json and the block between the floor:begin/floor:end
markers of RESULTS.md in --out (the rest of the file is kept).  Python 3
standard library only; docker (the CLI) for the containers' process ids.
"""
import argparse
import contextlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

TICK_NS = 1e9 / os.sysconf("SC_CLK_TCK")


def log(msg):
    print("bench: floor: " + msg, file=sys.stderr, flush=True)


def http(method, url, body=None, timeout=120):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


def cpu_busy(seconds=0.5):
    """Share of the machine's CPU time that was busy over `seconds`
    (while this benchmark itself is idle: the other tenants' load)."""
    def snap():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(f), f[3] + (f[4] if len(f) > 4 else 0)
    t0, i0 = snap()
    time.sleep(seconds)
    t1, i1 = snap()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def stat_cpu():
    """/proc/stat's first line: (all ticks, stolen ticks)."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    return sum(f[:8]), (f[7] if len(f) > 7 else 0)


def settle_machine(max_wait):
    """Waits (at most max_wait s) until the machine is quiet: under 25 %
    busy over half a second while we are idle.  Returns (busy, waited)."""
    t0 = time.monotonic()
    busy = cpu_busy()
    while busy > 0.25 and time.monotonic() - t0 < max_wait:
        busy = cpu_busy()
    return busy, time.monotonic() - t0


# ---- CPU time of processes ------------------------------------------------

def tasks_cpu_ns(pid):
    """CPU time of every live thread of pid (ns, schedstat); the process's
    utime+stime (10 ms ticks) where schedstat is missing."""
    total, seen = 0, False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                total += int(open(f"/proc/{pid}/task/{tid}/schedstat").read().split()[0])
                seen = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    if seen:
        return total
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) * TICK_NS
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                out += [int(x) for x in open(f"/proc/{pid}/task/{tid}/children").read().split()]
            except OSError:
                pass
    except OSError:
        pass
    return out


def descendants(pid):
    out, todo = [], children(pid)
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def cpu_snapshot(groups):
    """{group: total ns} for {group: [pids]}."""
    return {g: sum(tasks_cpu_ns(p) or 0 for p in pids) for g, pids in groups.items()}


def rss_kb(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


# ---- the two targets ------------------------------------------------------

class Target:
    """A server under test: its URL and the processes whose CPU counts."""

    def __init__(self, name, url):
        self.name, self.url = name, url

    def groups(self):
        raise NotImplementedError

    def starts(self):
        return None


def image_rootfs(a, lang):
    """The runtime image's files in a folder (docker export, once per run),
    so that the floor runs the image's own python3 or node (same version,
    same build, same libraries) under chroot: a changed root folder, no
    namespace, no cgroup, no container.  None when it cannot be made."""
    root = os.path.join(a.tmp, f"rootfs-{lang}")
    if os.path.isdir(os.path.join(root, "floor")):
        return root
    image = a.image_python if lang == "python" else a.image_node
    p = subprocess.run(["docker", "create", "--label", "hearth.bench=true", image],
                       capture_output=True, text=True)
    if p.returncode != 0:
        log(f"docker create {image}: {p.stderr.strip()[:200]}")
        return None
    cid = p.stdout.strip()
    try:
        os.makedirs(root, exist_ok=True)
        exp = subprocess.Popen(["docker", "export", cid], stdout=subprocess.PIPE)
        tar = subprocess.run(["tar", "-x", "-C", root], stdin=exp.stdout, capture_output=True)
        exp.stdout.close()
        if exp.wait() != 0 or tar.returncode != 0:
            log(f"docker export {image} failed: {tar.stderr[:200]!r}")
            return None
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)
    os.makedirs(os.path.join(root, "floor"), exist_ok=True)
    return root


class Floor(Target):
    def __init__(self, a, lang, handler_file, tag):
        self.lang = lang
        pf = os.path.join(a.tmp, f"floor-{lang}-{tag}.port")
        script = os.path.join(a.srcdir, "bench",
                              "floor-worker.py" if lang == "python" else "floor-worker.js")
        root = image_rootfs(a, lang) if a.floor_runtime == "image" else None
        if a.floor_runtime == "image" and not root:
            raise RuntimeError(f"no {lang} image to take the floor's interpreter from "
                               "(--floor-runtime host uses this machine's)")
        if root:
            for f in (script, handler_file):
                with open(f, "rb") as src, \
                        open(os.path.join(root, "floor", os.path.basename(f)), "wb") as dst:
                    dst.write(src.read())
            where = "/floor/"
            prefix = ["chroot", root]
            interp = ["/usr/bin/python3", "-u", "-B"] if lang == "python" else ["/usr/bin/node"]
        else:
            where = None
            prefix = []
            interp = [a.python, "-u", "-B"] if lang == "python" else [a.node]
        worker = prefix + interp + [where + os.path.basename(script) if where else script,
                                    where + os.path.basename(handler_file) if where
                                    else handler_file]
        self.log = open(os.path.join(a.tmp, f"floor-{lang}-{tag}.log"), "w")
        # The images' environment (Config.Env), not this shell's: no
        # NODE_OPTIONS or PYTHON* setting of ours reaches the workers.
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LANG": "C.UTF-8", "HOME": "/tmp"}
        self.proc = subprocess.Popen([a.floor_server, "--port-file", pf, "--workers", "4",
                                      "--queue-size", "100", "--"] + worker,
                                     stdout=self.log, stderr=self.log, env=env)
        for _ in range(100):
            if os.path.exists(pf) or self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(pf):
            raise RuntimeError(f"floor-server ({lang}) did not start: see {self.log.name}")
        super().__init__("floor", f"http://127.0.0.1:{int(open(pf).read())}/")

    def groups(self):
        return {"server": [self.proc.pid], "runtime": descendants(self.proc.pid)}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Hearth(Target):
    def __init__(self, a, lang, code_file, name, extra):
        self.a, self.lang = a, lang
        obj = {"name": name, "language": lang, "code": open(code_file).read()}
        obj.update(extra)
        st, body = http("POST", a.url + "/functions/", obj)
        if st != 201:
            raise RuntimeError(f"create {name}: HTTP {st}: {body[:300]!r}")
        self.fid = json.loads(body)["id"]
        self.want = obj.get("min_warm", 1)
        super().__init__("hearth", f"{a.url}/functions/{self.fid}/execute")
        self.pids = None

    def ready(self, payload=b"{}", seconds=90):
        """Until a call succeeds and min_warm containers are idle."""
        end = time.monotonic() + seconds
        ok = False
        while time.monotonic() < end:
            if not ok:
                try:
                    st, body = http("POST", self.url, payload, timeout=30)
                    ok = st == 200 and json.loads(body).get("status") == "success"
                except Exception:  # noqa: BLE001 — the pool is still coming up
                    ok = False
            if ok:
                cs = self.containers()
                if len([c for c in cs if c.get("state") == "idle"]) >= self.want:
                    return True
            time.sleep(0.3)
        return False

    def containers(self):
        try:
            st, body = http("GET", self.a.url + "/pool", timeout=10)
            return [c for c in json.loads(body).get("containers", [])
                    if c.get("function_id") == self.fid]
        except Exception:  # noqa: BLE001
            return []

    def find_pids(self):
        """hearthd, and each container's shim (its PID 1) and runtime."""
        shims = []
        ids = [c["container"] for c in self.containers() if c.get("container")]
        if ids:
            p = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}"] + ids,
                               capture_output=True, text=True)
            shims = [int(x) for x in p.stdout.split() if x.isdigit() and int(x) > 0]
        self.pids = {"server": [self.a.hearthd_pid], "shim": shims,
                     "runtime": [d for s in shims for d in descendants(s)]}
        return self.pids

    def groups(self):
        return self.pids or self.find_pids()

    def starts(self):
        st, body = http("GET", self.a.url + "/metrics", timeout=10)
        out = {}
        for line in body.decode(errors="replace").splitlines():
            m = re.match(r'hearth_starts_total\{start="(\w+)"\}\s+([0-9.e+]+)', line)
            if m:
                out[m.group(1)] = int(float(m.group(2)))
        return out

    def queue_depth(self):
        try:
            st, body = http("GET", self.a.url + "/metrics", timeout=5)
        except Exception:  # noqa: BLE001
            return None
        m = re.search(r'hearth_queue_depth\{function_id="%d"\}\s+([0-9.e+]+)' % self.fid,
                      body.decode(errors="replace"))
        return float(m.group(1)) if m else 0.0

    def delete(self):
        http("DELETE", f"{self.a.url}/functions/{self.fid}")


# ---- one measured run -------------------------------------------------------

def paired(floor, hearth, r):
    """The order of a round's paired runs: the floor first in odd rounds
    (r counts from 0), hearth first in even ones."""
    return (floor, hearth) if r % 2 == 0 else (hearth, floor)


def run_order(rd):
    """A round's server names in the order its paired runs took them."""
    return ("hearth", "floor") if rd.get("first") == "hearth" else ("floor", "hearth")


def loadgen(a, url, body_file, conns, requests=None, duration=None, warmup=0, label="",
            rate=None):
    argv = [a.loadgen, "--json", "--label", label, "--url", url, "--body-file", body_file,
            "--connections", str(conns), "--warmup", str(warmup), "--timeout-ms", "60000"]
    if rate:
        argv += ["--rate", str(rate)]
    if requests:
        argv += ["--requests", str(requests)]
    if duration:
        argv += ["--duration", str(duration)]
    p = subprocess.run(argv, capture_output=True, text=True)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"loadgen gave no figures ({label}): {p.stderr[-300:]}")


def over_1ms(lg):
    """Share of the calls that took 1 ms or more (the issue's tail)."""
    hist = lg.get("histogram", [])
    n = sum(b[2] for b in hist)
    slow = sum(b[2] for b in hist if b[0] >= 1000)
    return slow / n if n else None


def measure(a, t, body_file, conns, requests=None, duration=None, label="", warm=None,
            sampler=None, rate=None):
    """A short unmeasured run first (same concurrency), then the measured
    one with the CPU of t's processes taken around it."""
    if warm:
        loadgen(a, t.url, body_file, conns, requests=warm if requests else None,
                duration=None if requests else min(1, duration), label=label + " (warm-up)")
    groups = t.groups()
    la0 = loadavg()
    s0 = t.starts()
    c0 = cpu_snapshot(groups)
    st0 = stat_cpu()
    w0 = time.monotonic()
    stop, depths = threading.Event(), []
    th = None
    if sampler:
        def sample():
            while not stop.wait(0.2):
                d = sampler()
                if d is not None:
                    depths.append(d)
        th = threading.Thread(target=sample, daemon=True)
        th.start()
    lg = loadgen(a, t.url, body_file, conns, requests=requests, duration=duration, label=label,
                 rate=rate)
    if th:
        stop.set()
        th.join()
    wall = time.monotonic() - w0
    st1 = stat_cpu()
    c1 = cpu_snapshot(groups)
    s1 = t.starts()
    lat = lg["latency_us"]
    calls = lg["requests"]
    res = {"label": label, "target": t.name, "connections": conns, "calls": calls,
           "p50": lat["p50"], "p90": lat["p90"], "p99": lat["p99"], "p99_9": lat["p99_9"],
           "max": lat["max"], "mean": lat["mean"], "rps": lg["throughput_rps"],
           "goodput_rps": lg.get("goodput_rps"), "errors": lg["errors"], "non_2xx": lg["non_2xx"],
           "status": lg["status"], "by_status": lg.get("latency_by_status_us", {}),
           "over_1ms": over_1ms(lg), "elapsed_s": lg["elapsed_s"], "wall_s": wall,
           "cpu_ns": {g: c1[g] - c0[g] for g in c0}, "pids": {g: len(v) for g, v in groups.items()},
           "loadavg_start": la0, "loadavg_end": loadavg(),
           # The hypervisor's share of this machine's CPU time during the
           # run (/proc/stat's steal): time neither server had.
           "stolen": (st1[1] - st0[1]) / max(1, st1[0] - st0[0])}
    # CPU per call: every call the servers answered while the CPU was
    # taken (the measured ones; by duration, the few still in flight at
    # the deadline are answered too but not counted: < 0.1 %).
    res["cpu_us_per_call"] = {g: v / 1e3 / calls for g, v in res["cpu_ns"].items()} if calls else {}
    res["cpu_ms_per_s"] = {g: v / 1e6 / wall for g, v in res["cpu_ns"].items()}
    if depths:
        res["queue_depth_mean"] = sum(depths) / len(depths)
        res["queue_depth_max"] = max(depths)
    if rate:
        res["offered_rps"] = lg.get("offered_rps")
        res["send_lag_us"] = lg.get("send_lag_us")
        res["waiting_at_end"] = lg.get("waiting_at_end")
    if s0 is not None and s1 is not None:
        res["starts"] = {k: s1.get(k, 0) - s0.get(k, 0) for k in s1 if s1.get(k, 0) - s0.get(k, 0)}
    return res


def show(r):
    cpu = " ".join(f"{g} {v:.1f}" for g, v in r["cpu_us_per_call"].items())
    bad = r["errors"] + r["non_2xx"]
    extra = f", {bad} errors/non-2xx" if bad else ""
    if r.get("starts") and set(r["starts"]) != {"warm"}:
        extra += f", starts {r['starts']}"
    log(f"  {r['label']}: p50 {r['p50']:.1f} p99 {r['p99']:.1f} p99.9 {r['p99_9']:.1f} "
        f"max {r['max']:.0f} µs, {r['rps']:,.0f}/s, CPU µs/call: {cpu}{extra}; "
        f"load {r['loadavg_start'].split()[0]}→{r['loadavg_end'].split()[0]}, "
        f"stolen {r.get('stolen', 0):.0%}")


# ---- the scenarios ----------------------------------------------------------

NOOP = {"python": "def handler(event, context):\n    return {\"ok\": True}\n",
        "node": "exports.handler = async (event, context) => ({ ok: true });\n"}
# A function slower than the loop: 5 ms of waiting (a database, say), so
# with max_concurrency 4 it serves about 800 calls/s and the excess is the
# function's, not the loop's.
SLEEP_MS = 5
SLEEP = {"python": f"import time\ndef handler(event, context):\n    time.sleep({SLEEP_MS} / 1000)\n"
                   "    return {\"ok\": True}\n",
         "node": f"exports.handler = async (event, context) => {{\n  await new Promise((r) => "
                 f"setTimeout(r, {SLEEP_MS}));\n  return {{ ok: true }};\n}};\n"}
ECHO = {"python": "def handler(event, context):\n    return event\n",
        "node": "exports.handler = async (event, context) => event;\n"}


def write_code(a, name, lang, text):
    path = os.path.join(a.tmp, name + (".py" if lang == "python" else ".js"))
    with open(path, "w") as f:
        f.write(text)
    return path


def warm_path(a, lang, res):
    """c=1, 8 and 32 connections, ROUNDS alternating rounds."""
    code = write_code(a, f"floor-noop-{lang}", lang, NOOP[lang])
    body = os.path.join(a.tmp, "empty.json")
    hearth = Hearth(a, lang, code, f"bench-floor-{lang}-{os.getpid()}",
                    {"min_warm": 4, "max_concurrency": 4})
    floor = Floor(a, lang, code, "noop")
    try:
        if not hearth.ready():
            raise RuntimeError(f"the {lang} function's pool did not come up "
                               f"({len(hearth.containers())} containers)")
        for t in (floor, hearth):  # JIT, caches, the pool's first growth
            loadgen(a, t.url, body, 8, duration=1, label="warm-up")
            loadgen(a, t.url, body, 1, requests=2000, label="warm-up")
        hearth.find_pids()
        log(f"{lang}: hearth function {hearth.fid} ({len(hearth.pids['shim'])} containers, "
            f"{len(hearth.pids['runtime'])} runtime processes), floor-server pid "
            f"{floor.proc.pid} ({len(floor.groups()['runtime'])} workers)")
        rounds = []
        for r in range(a.rounds):
            busy, waited = settle_machine(a.quiet_wait)
            log(f"{lang} round {r + 1}/{a.rounds} (machine {busy:.0%} busy while idle, "
                f"waited {waited:.0f} s; load {loadavg()})")
            rd = {"round": r + 1, "machine_busy": busy, "waited_s": waited,
                  "first": paired(floor, hearth, r)[0].name}
            for n in (1, 8, 32):
                for t in paired(floor, hearth, r):
                    if n == 1:
                        run = measure(a, t, body, 1, requests=a.calls, warm=200,
                                      label=f"{t.name} {lang} no-op, c=1, round {r + 1}")
                    else:
                        run = measure(a, t, body, n, duration=a.tput_secs, warm=1,
                                      label=f"{t.name} {lang} no-op, {n} connections, "
                                            f"round {r + 1}")
                    show(run)
                    rd.setdefault(t.name, {})[f"c{n}"] = run
            rounds.append(rd)
        res["warm"][lang] = rounds
    finally:
        floor.stop()
        hearth.delete()


def make_payload(path, size):
    """Compact JSON of about `size` bytes: a list of small objects."""
    rnd = random.Random(size)
    items, n = [], 20
    while n < size - 100:
        it = {"id": len(items), "name": f"item-{len(items)}", "tags": ["a", "b"],
              "score": round(rnd.random(), 6), "ok": len(items) % 2 == 0}
        items.append(it)
        n += len(json.dumps(it, separators=(",", ":"))) + 1
    text = json.dumps({"items": items}, separators=(",", ":"))
    with open(path, "w") as f:
        f.write(text)
    return len(text)


def large(a, lang, res):
    code = write_code(a, f"floor-echo-{lang}", lang, ECHO[lang])
    sizes = [("64 KB", 64 * 1024), ("1 MB", 1 << 20), ("6 MB", 6 * 1000 * 1000)]
    files = {}
    for name, size in sizes:
        path = os.path.join(a.tmp, f"payload-{size}.json")
        if not os.path.exists(path):
            make_payload(path, size)
        files[name] = path
    hearth = Hearth(a, lang, code, f"bench-echo-{lang}-{os.getpid()}",
                    {"min_warm": 1, "max_concurrency": 4, "memory": 512, "timeout": 60})
    floor = Floor(a, lang, code, "echo")
    # hearthd gives its free heap back 1 s after the last large body
    # (src/base/heap.c): the idle baseline is taken after that, so the
    # second language's does not include the first one's large calls.
    time.sleep(1.5)
    out = {"sizes": {n: os.path.getsize(p) for n, p in files.items()}, "rounds": [],
           "hearthd_rss_kb_idle": rss_kb(a.hearthd_pid, "VmRSS")}
    try:
        if not hearth.ready():
            raise RuntimeError(f"the {lang} echo function's pool did not come up")
        # The same bytes come back (as the envelope's result through Hearth).
        for name, path in files.items():
            want = json.load(open(path))
            raw = open(path, "rb").read()
            st, body = http("POST", floor.url, raw)
            ok_f = st == 200 and json.loads(body) == want
            st, body = http("POST", hearth.url, raw)
            ok_h = st == 200 and json.loads(body).get("result") == want
            out.setdefault("checked", {})[name] = {"floor": ok_f, "hearth": ok_h}
            if not (ok_f and ok_h):
                log(f"{lang} echo {name}: the answer is not the payload "
                    f"(floor {ok_f}, hearth {ok_h}; HTTP {st}: {body[:200]!r})")
        hearth.find_pids()
        pid = a.hearthd_pid
        for r in range(a.rounds):
            busy, waited = settle_machine(a.quiet_wait)
            log(f"{lang} large payloads, round {r + 1}/{a.rounds} (machine {busy:.0%} busy "
                f"while idle; load {loadavg()})")
            rd = {"round": r + 1, "machine_busy": busy, "first": paired(floor, hearth, r)[0].name}
            for name, path in files.items():
                for t in paired(floor, hearth, r):
                    runs = rd.setdefault(t.name, {})
                    n = a.large_calls[name]
                    rss0 = None
                    if t is hearth and name == "6 MB":
                        # What hearthd holds just before, once it has given
                        # back the free heap of the smaller calls (1 s after
                        # the last large body), then the peak from there on
                        # (clear_refs 5 resets VmHWM).
                        time.sleep(1.5)
                        try:
                            with open(f"/proc/{pid}/clear_refs", "w") as f:
                                f.write("5")
                            rss0 = rss_kb(pid, "VmRSS")
                        except OSError as e:
                            log(f"cannot reset hearthd's RSS peak: {e}")
                    runs[name] = measure(a, t, path, 1, requests=n, warm=max(1, n // 10),
                                         label=f"{t.name} {lang} echo {name}, round {r + 1}")
                    if rss0 is not None:
                        hwm = rss_kb(pid, "VmHWM")
                        runs[name]["hearthd_rss_kb_before"] = rss0
                        runs[name]["hearthd_hwm_kb"] = hwm
                        runs[name]["hearthd_rss_rise_kb"] = hwm - rss0 if hwm else None
                        idle = out["hearthd_rss_kb_idle"]
                        runs[name]["hearthd_rss_rise_idle_kb"] = hwm - idle if hwm and idle else None
                    show(runs[name])
            out["rounds"].append(rd)
        res["large"][lang] = out
    finally:
        floor.stop()
        hearth.delete()


@contextlib.contextmanager
def overload_pair(a, lang, kind, code_text, tag):
    """Both servers running code_text with max_concurrency 4 (hearth also
    min_warm 4), warmed up, on a quiet machine; yields (floor, hearth,
    body file, how busy the machine was), and stops both after."""
    code = write_code(a, f"floor-{kind}-{lang}", lang, code_text)
    hearth = Hearth(a, lang, code, f"bench-{tag}-{lang}-{os.getpid()}",
                    {"min_warm": 4, "max_concurrency": 4})
    floor = Floor(a, lang, code, tag)
    try:
        if not hearth.ready():
            raise RuntimeError(f"the {lang} function's pool did not come up")
        body = os.path.join(a.tmp, "empty.json")
        for t in (floor, hearth):
            loadgen(a, t.url, body, 8, duration=1, label="warm-up")
        hearth.find_pids()
        busy, waited = settle_machine(a.quiet_wait)
        yield floor, hearth, body, busy
    finally:
        floor.stop()
        hearth.delete()


def overload(a, lang, res):
    out = []
    with overload_pair(a, lang, "noop", NOOP[lang], "overload") as (floor, hearth, body, busy):
        log(f"{lang} overload (machine {busy:.0%} busy while idle; load {loadavg()})")
        for k, n in enumerate(a.overload_conns):
            for t in paired(floor, hearth, k):
                r = measure(a, t, body, n, duration=a.tput_secs, warm=None,
                            label=f"{t.name} {lang} no-op, {n} connections (overload)",
                            sampler=hearth.queue_depth if t is hearth else None)
                show(r)
                out.append(r)
    res["overload"][lang] = out


def overload_open(a, lang, res):
    """Open loop: calls due at a fixed rate, 4× what a 5 ms function with
    max_concurrency 4 can serve, over 256 connections; each call's latency
    counts from when it was due.  The closed loop above keeps every
    connection busy, so the servers' own loop is the limit and the excess
    waits in the sockets; here the function is the limit and the loop has
    room, which is where a 429 can be fast."""
    rate = a.overload_rate
    rounds = []
    with overload_pair(a, lang, "sleep", SLEEP[lang], "overload-open") as \
            (floor, hearth, body, busy):
        log(f"{lang} overload, open loop at {rate}/s (machine {busy:.0%} busy while idle; "
            f"load {loadavg()})")
        for i in range(a.rounds):
            rd = {"first": paired(floor, hearth, i)[0].name}
            for t in paired(floor, hearth, i):
                rd[t.name] = {
                    "closed8": measure(a, t, body, 8, duration=a.tput_secs,
                                       label=f"{t.name} {lang} {SLEEP_MS} ms, 8 connections "
                                       f"(round {i + 1})"),
                    "open": measure(a, t, body, 256, duration=a.tput_secs, rate=rate,
                                    label=f"{t.name} {lang} {SLEEP_MS} ms, {rate}/s over 256 "
                                    f"connections, open loop (round {i + 1})",
                                    sampler=hearth.queue_depth if t is hearth else None)}
                for r in rd[t.name].values():
                    show(r)
            rounds.append(rd)
    res.setdefault("overload_open", {})[lang] = {"rate": rate, "sleep_ms": SLEEP_MS,
                                                 "rounds": rounds}


# ---- the report ---------------------------------------------------------------

def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


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


def summarise(res):
    """Medians over rounds and the targets' verdicts."""
    summ = {"warm": {}, "large": {}, "targets": []}
    for lang, rounds in res["warm"].items():
        s = {}
        for t in ("floor", "hearth"):
            def m(run, key, sub=None):
                vals = []
                for rd in rounds:
                    v = rd[t][run].get(key)
                    vals.append(v.get(sub) if isinstance(v, dict) else v)
                return med(vals)
            s[t] = {"c1_p50": m("c1", "p50"), "c1_p99": m("c1", "p99"),
                    "c1_p99_9": m("c1", "p99_9"), "c1_max": m("c1", "max"),
                    "c1_over_1ms": m("c1", "over_1ms"),
                    "c8_rps": m("c8", "rps"), "c8_p99": m("c8", "p99"),
                    "c32_rps": m("c32", "rps"), "c32_p99": m("c32", "p99"),
                    "cpu_c1": {g: m("c1", "cpu_us_per_call", g)
                               for g in rounds[0][t]["c1"]["cpu_us_per_call"]},
                    "cpu_c8": {g: m("c8", "cpu_us_per_call", g)
                               for g in rounds[0][t]["c8"]["cpu_us_per_call"]}}
        summ["warm"][lang] = s
        f, h = s["floor"], s["hearth"]

        def target(name, hv, fv, limit, kind):
            if hv is None or not fv:
                summ["targets"].append((lang, name, None, None, None, limit, kind, "n/a"))
                return
            r = hv / fv
            ok = r <= limit if kind == "max" else r >= limit
            summ["targets"].append((lang, name, fv, hv, r, limit, kind, "PASS" if ok else "FAIL"))
        target("p50, c=1", h["c1_p50"], f["c1_p50"], 1.15, "max")
        target("throughput, 8 connections", h["c8_rps"], f["c8_rps"], 0.85, "min")
        target("p99, c=1", h["c1_p99"], f["c1_p99"], 2.0, "max")
        target("p99.9, c=1", h["c1_p99_9"], f["c1_p99_9"], 2.0, "max")
        target("CPU per call, c=1 (hearthd vs floor-server)", h["cpu_c1"].get("server"),
               f["cpu_c1"].get("server"), 1.5, "max")
        # No targets of their own: printed for the record.
        for name, key in (("p99, 8 connections", "c8_p99"), ("p99, 32 connections", "c32_p99"),
                          ("throughput, 32 connections", "c32_rps"),
                          ("share of calls over 1 ms, c=1", "c1_over_1ms")):
            hv, fv = h[key], f[key]
            r = hv / fv if hv is not None and fv else None
            summ["targets"].append((lang, name, fv, hv, r, None, "info", "(no target)"))
    for lang, lg in res["large"].items():
        s = {}
        for name in lg["sizes"]:
            s[name] = {t: {"p50": med([rd[t][name]["p50"] for rd in lg["rounds"]]),
                           "mean": med([rd[t][name]["mean"] for rd in lg["rounds"]]),
                           "cpu": med([rd[t][name]["cpu_us_per_call"].get("server")
                                       for rd in lg["rounds"]])}
                       for t in ("floor", "hearth")}
            for key in ("rss_rise_kb", "rss_rise_idle_kb"):
                rises = [rd["hearth"][name].get("hearthd_" + key) for rd in lg["rounds"]]
                s[name][key] = max([x for x in rises if x is not None], default=None)
            f, h = s[name]["floor"]["p50"], s[name]["hearth"]["p50"]
            r = h / f if f and h else None
            summ["targets"].append((lang, f"echo {name}, p50", f, h, r, 1.2, "max",
                                    "n/a" if r is None else ("PASS" if r <= 1.2 else "FAIL")))
        summ["large"][lang] = s
        # The rise over what hearthd held just before the 6 MB calls (its
        # free heap given back by then): the idle figure also counts what
        # the smaller calls' records filled of the records writer's SQLite
        # cache (2 MiB), payload or not (bench/RESULTS.md).
        rise = s.get("6 MB", {}).get("rss_rise_kb")
        size = lg["sizes"].get("6 MB")
        if rise is not None and size:
            r = rise * 1024 / size
            summ["targets"].append((lang, "hearthd RSS peak over just before, 6 MB calls", None,
                                    rise * 1024, r, 3.0, "max", "PASS" if r <= 3 else "FAIL"))
    for lang, runs in res["overload"].items():
        def at(target, n):
            return next((r for r in runs if r["target"] == target and r["connections"] == n),
                        None)
        top = max(r["connections"] for r in runs)
        share = {}
        for t in ("floor", "hearth"):
            lo, hi = at(t, 8), at(t, top)
            share[t] = hi["goodput_rps"] / lo["goodput_rps"] if lo and hi and \
                lo.get("goodput_rps") else None
        v = share["hearth"]
        summ["targets"].append((lang, f"overload: goodput at {top} vs 8 connections",
                                share["floor"], v, v, 0.9, "min",
                                "n/a" if v is None else ("PASS" if v >= 0.9 else "FAIL")))
        p429 = {t: (at(t, top) or {}).get("by_status", {}).get("429", {}).get("p99")
                for t in ("floor", "hearth")}
        summ["targets"].append((lang, f"overload, closed loop: p99 of the 429s at {top} "
                                "connections", p429["floor"], p429["hearth"], None, None,
                                "info", "(no target)"))
    for lang, oo in res.get("overload_open", {}).items():
        def om(t, key, fn):
            return med([fn(rd[t][key]) for rd in oo["rounds"]])
        p99 = {t: om(t, "open", lambda r: r["by_status"].get("429", {}).get("p99"))
               for t in ("floor", "hearth")}
        share = {t: om(t, "open", lambda r: r["goodput_rps"]) and
                 med([rd[t]["open"]["goodput_rps"] / rd[t]["closed8"]["goodput_rps"]
                      for rd in oo["rounds"] if rd[t]["closed8"].get("goodput_rps")])
                 for t in ("floor", "hearth")}
        v = share["hearth"]
        summ["targets"].append((lang, f"overload, open loop at {oo['rate']}/s: goodput vs "
                                "8 connections", share["floor"], v, v, 0.9, "min",
                                "n/a" if v is None else ("PASS" if v >= 0.9 else "FAIL")))
        v = p99["hearth"]
        summ["targets"].append((lang, f"overload, open loop at {oo['rate']}/s: p99 of the 429s",
                                p99["floor"], v, None, 1000, "abs",
                                "n/a" if v is None else ("PASS" if v <= 1000 else "FAIL")))
    return summ


def report(a, res, summ, base):
    L = ["<!-- floor:begin (written by `make bench`: bench/floor.py; edit outside the markers) -->",
         "## Warm path vs the floor (issue 12)", ""]
    m = res["machine"]
    L.append(f"- Machine: {m.get('cpu')}, {m.get('cpus')} CPUs; kernel {m.get('kernel')}; "
             f"{res['interpreters']}")
    L.append(f"- Date: {res['date']}; commit {m.get('git') or 'unknown'}; command: "
             f"`{m.get('command')}`; this part took {res['duration_s']:.0f} s; "
             f"{a.rounds} rounds of paired runs (each run of the floor and hearth back to back, "
             f"the floor first in odd rounds, hearth in even ones), {a.calls:,} calls per c=1 run, "
             f"{a.tput_secs} s per throughput run")
    las = [float(r[k].split()[0]) for r in all_runs(res) for k in ("loadavg_start", "loadavg_end")
           if r.get(k) and r[k] != "?"]
    if las:
        L.append(f"- Load average (1 min) during these runs: {min(las):.2f} to {max(las):.2f}; "
                 f"machine busy while this benchmark was idle, before each round: "
                 + ", ".join(f"{rd['machine_busy']:.0%}" for rs in res["warm"].values() for rd in rs))
    stolen = sorted(r["stolen"] for r in all_runs(res) if r.get("stolen") is not None)
    if stolen:
        L.append(f"- CPU time the hypervisor took from this machine during the runs (/proc/stat "
                 f"steal): median {statistics.median(stolen):.1%}, the worst run "
                 f"{stolen[-1]:.1%}; a run with much stolen is slower for both servers and "
                 "noisier in the tail")
    if base:
        L.append(f"- Baseline column: {base.get('date')}, commit "
                 f"{base.get('machine', {}).get('git')} ({a.baseline_name})")
    L.append("")
    L.append("### Targets: hearth ÷ floor, medians of the rounds")
    L.append("")
    bt = {(t[0], t[1]): t for t in base.get("summary", {}).get("targets", [])} if base else {}
    head = "| language | figure | floor | hearth | hearth ÷ floor | target | verdict |"
    sep = "|---|---|--:|--:|--:|--:|---|"
    if base:
        head += " baseline hearth | baseline ratio |"
        sep += "--:|--:|"
    L += [head, sep]
    for lang, name, fv, hv, r, limit, kind, verdict in summ["targets"]:
        def fmt(v):
            if v is None:
                return "–"
            if "throughput" in name:
                return f"{v:,.0f}/s"
            if "CPU" in name:
                return f"{v:.1f} µs"
            if "RSS" in name:
                return f"{v / 1048576:.1f} MB"
            return us(v)
        if "share" in name:
            fmt = (lambda v: "–" if v is None else f"{v:.3%}")  # noqa: E731
        if "goodput" in name:
            fmt = (lambda v: "–" if v is None else f"{v:.0%}")  # noqa: E731
        if kind == "info":
            lim = "–"
        elif kind == "abs":
            lim = f"≤ {us(limit)}"
        else:
            lim = ("≤ " if kind == "max" else "≥ ") + (f"{limit:.0%}" if kind == "min"
                                                      else f"{limit:g}×")
        rs = "–" if r is None else (f"{r:.0%}" if kind == "min" or "throughput" in name
                                    else f"{r:.2f}×")
        row = f"| {lang} | {name} | {fmt(fv)} | {fmt(hv)} | {rs} | {lim} | {verdict} |"
        if base:
            b = bt.get((lang, name))
            if b:
                brs = "–" if b[4] is None else (f"{b[4]:.0%}" if kind == "min" or "throughput" in name
                                                else f"{b[4]:.2f}×")
                row += f" {fmt(b[3])} | {brs} |"
            else:
                row += " – | – |"
        L.append(row)
    L.append("")
    for lang, rounds in res["warm"].items():
        L.append(f"### {lang}: every round")
        L.append("")
        L.append("Servers in the order each pair of runs took them.")
        L.append("")
        L.append("| round | server | c=1 p50 | p99 | p99.9 | max | > 1 ms | 8 conns | p99 | "
                 "32 conns | p99 | load | stolen (c=1, 8, 32) |")
        L.append("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for rd in rounds:
            for t in run_order(rd):
                c1, c8, c32 = rd[t]["c1"], rd[t]["c8"], rd[t]["c32"]
                warn = ""
                for run in (c1, c8, c32):
                    if run["errors"] or run["non_2xx"]:
                        warn += f" ({run['errors'] + run['non_2xx']} errors)"
                    if t == "hearth" and run.get("starts") and set(run["starts"]) != {"warm"}:
                        warn += f" (starts {run['starts']})"
                L.append(f"| {rd['round']} | {t}{warn} | {us(c1['p50'])} | {us(c1['p99'])} | "
                         f"{us(c1['p99_9'])} | {us(c1['max'])} | {c1['over_1ms']:.3%} | "
                         f"{c8['rps']:,.0f}/s | {us(c8['p99'])} | {c32['rps']:,.0f}/s | "
                         f"{us(c32['p99'])} | {c1['loadavg_start'].split()[0]}→"
                         f"{c32['loadavg_end'].split()[0]} | "
                         + ", ".join(f"{x.get('stolen', 0):.0%}" for x in (c1, c8, c32))
                         + " |")
        L.append("")
    if res["warm"]:
        L.append("### Cost model: µs of CPU per call (medians of the rounds)")
        L.append("")
        L.append("From `/proc/PID/task/*/schedstat` of each process, around the measured runs "
                 "(the load generator's own CPU is not counted). hearth: hearthd, the 4 "
                 "containers' `hearth-shim` (PID 1) and their runtime processes; floor: "
                 "floor-server and its 4 workers.")
        L.append("")
        L.append("| language | concurrency | floor-server | floor workers | hearthd | shim | "
                 "runtime | hearth total ÷ floor total |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|")
        for lang, s in summ["warm"].items():
            for key, label in (("cpu_c1", "1"), ("cpu_c8", "8")):
                f, h = s["floor"][key], s["hearth"][key]
                ft = sum(v for v in f.values() if v is not None)
                ht = sum(v for v in h.values() if v is not None)

                def c(v):
                    return "–" if v is None else f"{v:.1f}"
                L.append(f"| {lang} | {label} | {c(f.get('server'))} | {c(f.get('runtime'))} | "
                         f"{c(h.get('server'))} | {c(h.get('shim'))} | {c(h.get('runtime'))} | "
                         f"{ht / ft:.2f}× |" if ft else "| – |")
        L.append("")
    if res["large"]:
        L.append("### Large payloads: an echo handler, c=1 (medians of the rounds)")
        L.append("")
        L.append("hearthd's RSS: its peak (`VmHWM`, reset through `/proc/PID/clear_refs` "
                 "before the 6 MB calls) less its RSS when idle before the first large payload "
                 "of that language, and less its RSS just before the 6 MB calls, 1.5 s after "
                 "the smaller ones (the free heap given back by then). The target is the "
                 "second: the first also counts the records writer's SQLite cache that the "
                 "smaller calls' records filled.")
        L.append("")
        L.append("| language | payload | floor p50 | hearth p50 | ratio | hearthd CPU/call | "
                 "floor-server CPU/call | hearthd RSS peak − idle | − just before |")
        L.append("|---|---|--:|--:|--:|--:|--:|--:|--:|")
        for lang, s in summ["large"].items():
            for name, v in s.items():
                f, h = v["floor"]["p50"], v["hearth"]["p50"]
                def mb(kb):
                    return "–" if kb is None else f"{kb / 1024:.1f} MB"
                L.append(f"| {lang} | {name} | {us(f)} | {us(h)} | "
                         f"{(h / f if f and h else 0):.2f}× | {us(v['hearth']['cpu'])} | "
                         f"{us(v['floor']['cpu'])} | {mb(v.get('rss_rise_idle_kb'))} | "
                         f"{mb(v.get('rss_rise_kb'))} |")
        L.append("")
    for lang, runs in res["overload"].items():
        L.append(f"### Overload ({lang}): closed loop, max_concurrency 4, queue of 100")
        L.append("")
        L.append("| server | connections | goodput (2xx/s) | vs 8 connections | 200 p99 | "
                 "429s | 429 p50 | 429 p99 | server CPU ms/s | µs per answer | "
                 "queue depth (mean) | load |")
        L.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        base8 = {r["target"]: r["goodput_rps"] for r in runs if r["connections"] == 8}
        for r in runs:
            s429 = r["by_status"].get("429", {})
            s200 = r["by_status"].get("200", {})
            g8 = base8.get(r["target"])
            answers = sum(int(v) for v in r["status"].values())
            cpu = r["cpu_ns"].get("server", 0)
            qd = f"{r['queue_depth_mean']:.0f}" if "queue_depth_mean" in r else "–"
            L.append(f"| {r['target']} | {r['connections']} | {r['goodput_rps']:,.0f} | "
                     f"{(r['goodput_rps'] / g8 if g8 else 0):.0%} | {us(s200.get('p99'))} | "
                     f"{s429.get('count', 0):,} | {us(s429.get('p50'))} | {us(s429.get('p99'))} | "
                     f"{r['cpu_ms_per_s'].get('server', 0):.0f} | "
                     f"{(cpu / 1e3 / answers if answers else 0):.1f} | "
                     f"{qd} | {r['loadavg_start'].split()[0]}→"
                     f"{r['loadavg_end'].split()[0]} |" if r.get("goodput_rps") is not None else "")
        L.append("")
    for lang, oo in res.get("overload_open", {}).items():
        L.append(f"### Overload ({lang}): open loop, {oo['rate']:,} calls/s due over 256 "
                 f"connections, a {oo['sleep_ms']} ms function, max_concurrency 4, queue of 100")
        L.append("")
        L.append("Each call's latency counts from when it was due. Goodput at 8 connections "
                 "is a closed loop, for the share.")
        L.append("")
        L.append("| round | server | goodput at 8 | goodput open | share | 429s | 429 p50 | "
                 "429 p99 | 429 p99.9 | 200 p99 | sent late p99 | server CPU ms/s | "
                 "µs per answer | load | stolen |")
        L.append("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for i, rd in enumerate(oo["rounds"]):
            for t in run_order(rd):
                c8, r = rd[t]["closed8"], rd[t]["open"]
                s429 = r["by_status"].get("429", {})
                s200 = r["by_status"].get("200", {})
                answers = sum(int(v) for v in r["status"].values())
                cpu = r["cpu_ns"].get("server", 0)
                g8 = c8.get("goodput_rps") or 0
                L.append(f"| {i + 1} | {t} | {g8:,.0f} | {r['goodput_rps']:,.0f} | "
                         f"{(r['goodput_rps'] / g8 if g8 else 0):.0%} | "
                         f"{s429.get('count', 0):,} | {us(s429.get('p50'))} | "
                         f"{us(s429.get('p99'))} | {us(s429.get('p99_9'))} | "
                         f"{us(s200.get('p99'))} | "
                         f"{us((r.get('send_lag_us') or {}).get('p99'))} | "
                         f"{r['cpu_ms_per_s'].get('server', 0):.0f} | "
                         f"{(cpu / 1e3 / answers if answers else 0):.1f} | "
                         f"{r['loadavg_start'].split()[0]}→{r['loadavg_end'].split()[0]} | "
                         f"{r.get('stolen', 0):.0%} |")
        L.append("")
    if res.get("errors"):
        L.append("### Not measured in this run")
        L.append("")
        L += [f"- {e}" for e in res["errors"]]
        L.append("")
    L.append("<!-- floor:end -->")
    return "\n".join(L) + "\n"


def all_runs(res):
    for rounds in res["warm"].values():
        for rd in rounds:
            for t in ("floor", "hearth"):
                yield from rd[t].values()
    for lg in res["large"].values():
        for rd in lg["rounds"]:
            for t in ("floor", "hearth"):
                yield from rd[t].values()
    for runs in res["overload"].values():
        yield from runs
    for oo in res.get("overload_open", {}).values():
        for rd in oo["rounds"]:
            for t in ("floor", "hearth"):
                yield from rd[t].values()


def write_block(path, block):
    old = open(path).read() if os.path.exists(path) else "# Hearth benchmark results\n\n"
    b, e = old.find("<!-- floor:begin"), old.find("<!-- floor:end -->")
    if b >= 0 and e > b:
        new = old[:b] + block + old[e + len("<!-- floor:end -->") + 1:]
    else:
        # After the main figures' block, before the analysis by hand.
        e = old.find("<!-- bench:end -->")
        if e >= 0:
            e += len("<!-- bench:end -->\n")
            new = old[:e] + "\n" + block + old[e:]
        else:
            new = old.rstrip("\n") + "\n\n" + block
    with open(path + ".tmp", "w") as f:
        f.write(new)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="the hearthd to measure")
    ap.add_argument("--hearthd-pid", type=int)
    ap.add_argument("--loadgen")
    ap.add_argument("--floor-server")
    ap.add_argument("--srcdir")
    ap.add_argument("--tmp")
    ap.add_argument("--out", required=True)
    ap.add_argument("--machine", help="run-bench.sh's machine.json")
    ap.add_argument("--langs", default="python,node")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=30000, help="c=1 calls per round")
    ap.add_argument("--tput-secs", type=float, default=5)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-large", action="store_true")
    ap.add_argument("--no-overload", action="store_true")
    ap.add_argument("--overload-only", action="store_true",
                    help="only the overload runs (closed and open loop)")
    ap.add_argument("--overload-langs", default="python")
    ap.add_argument("--overload-rate", type=int, default=3200,
                    help="open-loop overload: calls due per second (4× what the 5 ms "
                    "function with max_concurrency 4 serves)")
    ap.add_argument("--quiet-wait", type=float, default=5,
                    help="seconds to wait at most for a quiet machine before each round")
    ap.add_argument("--floor-runtime", choices=("image", "host"), default="image",
                    help="the floor's interpreters: the runtime images' own (under chroot "
                    "of their exported files; the default) or this machine's")
    ap.add_argument("--image-python", default="hearth/python:latest")
    ap.add_argument("--image-node", default="hearth/node:latest")
    ap.add_argument("--python", default="python3", help="with --floor-runtime host")
    ap.add_argument("--node", default="node", help="with --floor-runtime host")
    ap.add_argument("--baseline", help="an earlier floor.json: its hearth figures beside")
    ap.add_argument("--report-only", metavar="FLOOR_JSON",
                    help="no measuring: the report again from a floor.json")
    a = ap.parse_args()
    a.large_calls = {"64 KB": 500, "1 MB": 60, "6 MB": 15}
    a.overload_conns = [8, 32, 64, 128, 256]
    if a.quick:
        a.large_calls = {"64 KB": 100, "1 MB": 15, "6 MB": 5}
        a.overload_conns = [8, 256]
    a.baseline_name = os.path.basename(a.baseline) if a.baseline else ""
    base = None
    if a.baseline and os.path.exists(a.baseline):
        try:
            base = json.load(open(a.baseline))
        except ValueError:
            base = None
    if not a.report_only:
        for k in ("url", "hearthd_pid", "loadgen", "floor_server", "srcdir", "tmp"):
            if not getattr(a, k):
                ap.error("--" + k.replace("_", "-") + " is required")
    if a.report_only:
        res = json.load(open(a.report_only))
        for k, v in res.get("options", {}).items():
            setattr(a, k, v)
        summ = summarise(res)
        write_block(os.path.join(a.out, "RESULTS.md"), report(a, res, summ, base))
        return 0
    t_begin = time.time()
    with open(os.path.join(a.tmp, "empty.json"), "w") as f:
        f.write("{}")
    machine = json.load(open(a.machine)) if a.machine and os.path.exists(a.machine) else {}

    def version(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True).stdout.strip() or "?"
        except OSError:
            return "not found"
    langs = [x for x in a.langs.split(",") if x]
    if a.floor_runtime == "image":
        pv = [["chroot", image_rootfs(a, "python") or "/nonexistent", "/usr/bin/python3"],
              ["chroot", image_rootfs(a, "node") or "/nonexistent", "/usr/bin/node"]]
        where = f"the images' own ({a.image_python}, {a.image_node}; under chroot)"
    else:
        pv = [[a.python], [a.node]]
        where = "this machine's"
    interp = (f"floor workers: {where} python3 "
              f"{version(pv[0] + ['-c', 'import sys; print(sys.version.split()[0])'])}, "
              f"node {version(pv[1] + ['--version'])}")
    res = {"machine": machine, "interpreters": interp,
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "options": {k: v for k, v in vars(a).items() if k in (
               "langs", "rounds", "calls", "tput_secs", "quick", "large_calls", "overload_conns",
               "overload_rate")},
           "warm": {}, "large": {}, "overload": {}, "errors": []}
    steps = [] if a.overload_only else [(warm_path, lang) for lang in langs]
    if not a.no_large and not a.overload_only:
        steps += [(large, lang) for lang in langs]
    if not a.no_overload:
        steps += [(fn, lang) for lang in a.overload_langs.split(",") if lang in langs
                  for fn in (overload, overload_open)]
    for fn, lang in steps:
        try:
            fn(a, lang, res)
        except Exception as e:  # noqa: BLE001 — one scenario failing keeps the others
            msg = f"{fn.__name__} ({lang}): {e}"
            log("FAILED " + msg)
            res["errors"].append(msg)
    res["duration_s"] = time.time() - t_begin
    summ = summarise(res)
    res["summary"] = summ
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "floor.json.tmp"), "w") as f:
        json.dump(res, f, indent=1)
    os.replace(os.path.join(a.out, "floor.json.tmp"), os.path.join(a.out, "floor.json"))
    write_block(os.path.join(a.out, "RESULTS.md"), report(a, res, summ, base))
    for lang, name, fv, hv, r, limit, kind, verdict in summ["targets"]:
        if kind == "info":
            continue
        rs = "–" if r is None else (f"{r:.0%}" if kind == "min" else f"{r:.2f}×")
        log(f"{verdict:4}  {lang} {name}: hearth ÷ floor {rs}")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
