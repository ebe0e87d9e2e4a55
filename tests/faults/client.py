#!/usr/bin/env python3
"""client.py — clients for the fault suites that write down every answer
they get, so a test can tell, after a crash, what hearthd had promised.

usage: client.py --url http://127.0.0.1:PORT --out DIR
                 [--sync FID:N] [--async FID:N] [--mutators N] [--prefix P]
       client.py verify --url URL --out DIR --kill-ms T


Each client is a thread on a keep-alive connection of its own, one request
at a time, until SIGTERM/SIGINT or until hearthd is gone (a refused
connection after the first answer).  One line per answered request, in
DIR/<kind>.<n>, written as soon as the answer is in:

  sync   <answered_at_ms> <status> <request id or ->
  async  <answered_at_ms> <status> <call id or ->
  mutate <answered_at_ms> <status> <op> <name> <id or -> <revision or -> <memory>

A mutator works through functions of its own, one after the other: create
(revision 1, memory 128), update (memory 192: revision 2), update (memory
256: revision 3), delete; a request sent but not answered is written as
"sent <op> <name> <memory>" first, so the test knows what was in flight.

verify (against the hearthd started after the crash, and its store) prints
one JSON object: what was answered, and what of it is missing:
  mutations: answered, functions checked, bad (name: what is wrong)
  async: answered 202, missing (ids GET /invocations/{id} does not know)
  sync: answered 200, missing, and the oldest missing one's age at the kill
        (ms before it): the records batched but never written
"""
import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time
import urllib.parse

stop = threading.Event()


def now_ms():
    return int(time.time() * 1000)


class Conn:
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.c = None

    def request(self, method, path, body=None):
        """(status, parsed body or None), or None when the connection
        failed: hearthd is gone (never retried: the request may have been
        carried out)."""
        if self.c is None:
            self.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            data = json.dumps(body).encode() if body is not None else None
            hdrs = {"Content-Type": "application/json"} if data else {}
            self.c.request(method, path, body=data, headers=hdrs)
            r = self.c.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException):
            self.c.close()
            self.c = None
            return None
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, None


def line(f, *fields):
    f.write(" ".join(str(x) for x in fields) + "\n")
    f.flush()


def sync_client(url, fid, out):
    c = Conn(url)
    with open(out, "w") as f:
        n = 0
        while not stop.is_set():
            n += 1
            r = c.request("POST", "/functions/%s/execute" % fid, {"n": n})
            if r is None:
                return
            st, body = r
            rid = body.get("id", "-") if isinstance(body, dict) else "-"
            line(f, now_ms(), st, rid)


def async_client(url, fid, out):
    c = Conn(url)
    with open(out, "w") as f:
        n = 0
        while not stop.is_set():
            n += 1
            r = c.request("POST", "/functions/%s/execute?async=1" % fid, {"n": n, "async": True})
            if r is None:
                return
            st, body = r
            cid = body.get("id", "-") if isinstance(body, dict) else "-"
            line(f, now_ms(), st, cid)


CODE = "def handler(event, context):\n    return {'name': %r}\n"


def mutator(url, prefix, k, out):
    c = Conn(url)
    with open(out, "w") as f:
        i = 0
        while not stop.is_set():
            i += 1
            name = "%s-%d-%d" % (prefix, k, i)
            fid = None
            for op, mem in (("create", 128), ("update", 192), ("update", 256), ("delete", 0)):
                if stop.is_set():
                    return
                line(f, "sent", op, name, mem)
                if op == "create":
                    r = c.request("POST", "/functions/", {
                        "name": name, "language": "python", "memory": mem,
                        "min_warm": 0, "code": CODE % name})
                elif op == "update":
                    r = c.request("PUT", "/functions/%s" % fid, {"memory": mem})
                else:
                    r = c.request("DELETE", "/functions/%s" % fid)
                if r is None:
                    return
                st, body = r
                if op == "create" and st == 201:
                    fid = body["id"]
                rev = body.get("revision", "-") if isinstance(body, dict) else "-"
                line(f, now_ms(), st, op, name, fid if fid is not None else "-", rev, mem)
                if st not in (200, 201, 204):
                    break


def read_lines(d, kind):
    out = []
    for name in sorted(os.listdir(d)):
        if name.startswith(kind + "."):
            with open(os.path.join(d, name)) as f:
                out.append([ln.split() for ln in f if ln.strip()])
    return out


def get(c, path):
    r = c.request("GET", path)
    if r is None:
        raise SystemExit("verify: hearthd does not answer GET %s" % path)
    return r


def verify(a):
    c = Conn(a.url)
    res = {}
    # Function changes: what each name must look like now.  The state after
    # its last answered change, or after the change in flight at the crash
    # (sent, never answered), which may or may not have been committed.
    st, listing = get(c, "/functions/")
    now = {f["name"]: f for f in listing}
    want = {}  # name -> list of acceptable states: None (absent) or (id, rev, mem)
    answered = 0
    for lines in read_lines(a.out, "mutate"):
        state = {}
        last_sent = None
        for ln in lines:
            if ln[0] == "sent":
                last_sent = ln
                continue
            _, status, op, name, fid, rev, mem = ln
            last_sent = None
            if status not in ("200", "201", "204"):
                continue
            answered += 1
            if op == "delete":
                state[name] = None
            else:
                state[name] = (int(fid), int(rev), int(mem))
        for name, s_ in state.items():
            want[name] = [s_]
        if last_sent:
            _, op, name, mem = last_sent
            cur = state.get(name)
            if op == "create":
                want[name] = [None, ("?", 1, int(mem))]
            elif op == "update" and cur:
                want[name] = [cur, (cur[0], cur[1] + 1, int(mem))]
            elif op == "delete" and cur:
                want[name] = [cur, None]
    bad = {}
    for name, ok_states in want.items():
        f = now.get(name)
        got = None if f is None else (f["id"], f["revision"], f["memory"])
        if not any(s_ == got or (s_ and got and s_[0] == "?" and s_[1:] == got[1:])
                   for s_ in ok_states):
            bad[name] = "is %s, want one of %s" % (got, ok_states)
        elif f is not None:
            st, one = get(c, "/functions/%d?code=1" % f["id"])
            if st != 200 or (one.get("code") or "").rstrip("\n") != (CODE % name).rstrip("\n"):
                bad[name] = "its code does not read back (HTTP %s)" % st
    res["mutations"] = {"answered": answered, "functions": len(want), "bad": bad}

    ids = [ln[2] for lines in read_lines(a.out, "async") for ln in lines if ln[1] == "202"]
    missing = []
    for cid in ids:
        st, body = get(c, "/invocations/%s" % cid)
        if st != 200 or not (isinstance(body, dict) and body.get("async")):
            missing.append(cid)
    res["async"] = {"answered": len(ids), "missing": missing[:20], "n_missing": len(missing)}

    # A synchronous call's record, as hearthd reads it back from the image
    # (records are kept in batches, src/invoke/records.c).
    sync = [(int(ln[0]), ln[2]) for lines in read_lines(a.out, "sync") for ln in lines
            if ln[1] == "200"]
    gone = [(t, rid) for t, rid in sync if get(c, "/invocations/%s" % rid)[0] != 200]
    res["sync"] = {
        "answered": len(sync),
        "n_missing": len(gone),
        "oldest_missing_ms_before_kill": max((a.kill_ms - t for t, _ in gone), default=0),
        "answered_last_500ms": sum(1 for t, _ in sync if a.kill_ms - t <= 500),
    }
    print(json.dumps(res))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "verify":
        ap = argparse.ArgumentParser()
        ap.add_argument("verify")
        ap.add_argument("--url", required=True)
        ap.add_argument("--out", required=True)
        ap.add_argument("--kill-ms", type=int, required=True)
        return verify(ap.parse_args())
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sync", action="append", default=[])
    ap.add_argument("--async", dest="asyn", action="append", default=[])
    ap.add_argument("--mutators", type=int, default=0)
    ap.add_argument("--prefix", default="chg")
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = []
    for kind, specs, fn in (("sync", a.sync, sync_client), ("async", a.asyn, async_client)):
        k = 0
        for spec in specs:
            fid, n = spec.split(":")
            for _ in range(int(n)):
                k += 1
                out = os.path.join(a.out, "%s.%d" % (kind, k))
                threads.append(threading.Thread(target=fn, args=(a.url, fid, out), daemon=True))
    for k in range(1, a.mutators + 1):
        out = os.path.join(a.out, "mutate.%d" % k)
        threads.append(threading.Thread(target=mutator, args=(a.url, a.prefix, k, out), daemon=True))
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and not stop.is_set():
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
