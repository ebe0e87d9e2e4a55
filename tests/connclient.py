#!/usr/bin/env python3
"""connclient.py — raw HTTP/1.1 clients for the connection-layer suites
(tests/api/connections.sh, tests/api/tls.sh, tests/integration/connections.sh).

Each command talks to a running hearthd over plain sockets (TLS with --ca)
and prints one JSON object on stdout for the suite to check with jq; it
never decides pass or fail itself.  Every wait is bounded.

  deadlines   a client trickling its headers, one sending nothing, one
              trickling its body, a kept-alive one idle between requests,
              and an event stream held past both deadlines
  raw NAME... sends each named malformed request and reports the reply
  cap N       holds N connections open, then opens one more and sends a
              request on it and on a held one
  garbage     bytes that are neither HTTP nor TLS, and a TLS record header
              with garbage after it
  flood       keep-alive callers measuring their latency while 2,000
              slow-loris connections and then 5,000 at once hit hearthd

replies() reads replies off a socket for the suites' own short scripts
(tests/api/connections.sh imports it).
"""
import argparse
import asyncio
import json
import os
import resource
import socket
import ssl
import sys
import time


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


class Conn:
    """One blocking client connection (deadlines, raw, cap, garbage)."""

    def __init__(self, args, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", args.port), timeout=timeout)
        if args.ca:
            ctx = ssl.create_default_context(cafile=args.ca)
            self.sock = ctx.wrap_socket(self.sock, server_hostname="127.0.0.1")

    def send(self, data):
        self.sock.sendall(data)

    def reply(self, timeout):
        """Reads one reply (headers and Content-Length body); None at a
        close before any byte."""
        self.sock.settimeout(timeout)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return parse(data) if data else None
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = header_of(head, b"content-length")
            while length is not None and len(body) < int(length):
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            return parse(head + b"\r\n\r\n" + body)
        except (socket.timeout, TimeoutError):
            return {"timeout": True, "partial": data[:200].decode("latin-1")}
        except (ConnectionError, ssl.SSLError, OSError) as e:
            return {"error": type(e).__name__}

    def closed(self, timeout):
        """Whether the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def header_of(head, name):
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name:
            return v.strip().decode("latin-1")
    return None


def parse(data):
    head, _, body = data.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode("latin-1")
    parts = first.split(" ", 2)
    out = {"status": int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0,
           "line": first,
           "content_type": header_of(head, b"content-type"),
           "connection": header_of(head, b"connection"),
           "retry_after": header_of(head, b"retry-after"),
           "body": body.decode("utf-8", "replace")}
    try:
        out["json"] = json.loads(body)
    except ValueError:
        out["json"] = None
    return out


def replies(s, n, timeout=10):
    """Up to n HTTP replies with a Content-Length off socket s, in order:
    [(status, body bytes)], ending early at the peer's close, and with
    ("timeout", b"") once timeout seconds pass with nothing read."""
    buf, out = b"", []
    s.settimeout(timeout)
    try:
        while len(out) < n:
            while b"\r\n\r\n" not in buf:
                c = s.recv(65536)
                if not c:
                    return out
                buf += c
            head, _, buf = buf.partition(b"\r\n\r\n")
            clen = int(header_of(head, b"content-length") or 0)
            while len(buf) < clen:
                c = s.recv(65536)
                if not c:
                    return out
                buf += c
            out.append((parse(head + b"\r\n\r\n")["status"], buf[:clen]))
            buf = buf[clen:]
    except socket.timeout:
        out.append(("timeout", b""))
    return out


# ---- deadlines ---------------------------------------------------------------

def trickle(conn, data, every, limit):
    """Sends data a byte at a time, `every` seconds apart, until the server
    answers or closes; returns (reply, seconds)."""
    t0 = time.monotonic()
    for i in range(len(data)):
        try:
            conn.send(data[i:i + 1])
        except OSError:
            break
        r = conn.reply(every)
        if r is None or not r.get("timeout"):
            return r, time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            break
    return conn.reply(limit), time.monotonic() - t0


def cmd_deadlines(args):
    """The four clients at once (each has its own connection)."""
    from concurrent.futures import ThreadPoolExecutor
    limit = args.header_timeout + args.body_timeout + 10

    def header_trickle():
        c = Conn(args)
        r, t = trickle(c, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 400, 0.5,
                       limit)
        c.close()
        return {"reply": r, "seconds": round(t, 2)}

    def silent():
        c = Conn(args)
        t0 = time.monotonic()
        r = c.reply(limit)
        c.close()
        return {"reply": r, "seconds": round(time.monotonic() - t0, 2)}

    def body_trickle():
        c = Conn(args)
        t0 = time.monotonic()
        c.send(b"POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: 4000\r\n\r\n{")
        r, _ = trickle(c, b" " * 3000, 0.5, limit)
        c.close()
        return {"reply": r, "seconds": round(time.monotonic() - t0, 2)}

    def keepalive_idle():
        # Idle past the header deadline between two requests.
        c = Conn(args)
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = c.reply(5)
        time.sleep(args.header_timeout + 1)
        c.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        second = c.reply(5)
        c.close()
        return {"first": first, "second": second}

    jobs = {"header_trickle": header_trickle, "silent": silent, "body_trickle": body_trickle,
            "keepalive_idle": keepalive_idle}
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {name: pool.submit(fn) for name, fn in jobs.items()}
        print(json.dumps({name: f.result() for name, f in futures.items()}))


def cmd_stream(args):
    """GET /events held past both deadlines: still open, and it still
    delivers (the suite makes a change meanwhile, when asked to)."""
    c = Conn(args)
    c.send(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    c.sock.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head:
        head += c.sock.recv(65536)
    status = head.split(b"\r\n")[0].decode()
    hold = args.header_timeout + args.body_timeout + 1
    t0 = time.monotonic()
    closed = c.closed(hold)
    held = round(time.monotonic() - t0, 2)
    # Now the suite creates a function: the stream must carry it.
    sys.stdout.write(json.dumps({"status": status, "closed": closed, "held": held}) + "\n")
    sys.stdout.flush()
    sys.stdin.readline()
    c.sock.settimeout(5)
    got = b""
    try:
        while b"event: functions" not in got:
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            got += chunk
    except (socket.timeout, TimeoutError):
        pass
    print(json.dumps({"functions_event": b"event: functions" in got}))
    c.close()


# ---- malformed requests ----------------------------------------------------------

BIG = "a" * (70 * 1024)
RAW = {
    "huge-header": f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {BIG}\r\n\r\n",
    "long-request-line": f"GET /{BIG} HTTP/1.1\r\nHost: x\r\n\r\n",
    "unknown-method": "FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "lowercase-method": "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "negative-length": "POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    "letters-length": "POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "http09": "GET /healthz\r\n\r\n",
    "version-2": "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
    "version-garbled": "GET /healthz HTTP/1.x\r\nHost: x\r\n\r\n",
    "empty-request-line": "\r\nGET /healthz HTTP/1.1\r\n\r\n",
    "no-colon": "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    "fold-first": "GET /healthz HTTP/1.1\r\n folded\r\nHost: x\r\n\r\n",
    "bare-cr": "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
    "bad-target": "GET //a:b/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "body-over-limit": "POST /functions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    "length-past-64-bits": "POST /functions/ HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 99999999999999999999\r\n\r\n",
    "te-and-length": "POST /functions/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    "expect-other": "POST /functions/ HTTP/1.1\r\nHost: x\r\nExpect: fancy\r\n"
                    "Content-Length: 2\r\n\r\n{}",
    "bad-chunk-size": "POST /functions/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      "\r\nzz\r\n{}\r\n0\r\n\r\n",
}


def cmd_raw(args):
    out = {}
    for name in args.names:
        c = Conn(args)
        t0 = time.monotonic()
        try:
            c.send(RAW[name].encode("latin-1"))
        except OSError:
            pass
        r = c.reply(5)
        out[name] = {"reply": r, "seconds": round(time.monotonic() - t0, 2),
                     "closed": c.closed(5)}
        c.close()
    print(json.dumps(out))


# ---- the cap ---------------------------------------------------------------------

def cmd_cap(args):
    held = [Conn(args) for _ in range(args.n)]
    # One of them asks something first: it is admitted and served.
    held[0].send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    before = held[0].reply(5)
    extra = Conn(args)
    extra.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    refused = extra.reply(5)
    refused_closed = extra.closed(5)
    held[0].send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    after = held[0].reply(5)
    for c in held + [extra]:
        c.close()
    print(json.dumps({"before": before, "refused": refused, "refused_closed": refused_closed,
                      "held_after": after}))


# ---- garbage ---------------------------------------------------------------------

def cmd_garbage(args):
    """Each at once, on its own connection."""
    from concurrent.futures import ThreadPoolExecutor

    def one(data):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        t0 = time.monotonic()
        try:
            s.sendall(data)
        except OSError:
            pass
        s.settimeout(args.header_timeout + 5)
        got, closed = b"", False
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except (socket.timeout, TimeoutError):
            pass
        except OSError:
            closed = True
        s.close()
        return {"closed": closed, "replied": got[:12].decode("latin-1"),
                "seconds": round(time.monotonic() - t0, 2)}

    cases = {"random": os.urandom(4096),
             "tls-record": b"\x16\x03\x01\x40\x00" + os.urandom(2000),
             "binary-zeros": b"\x00" * 1000 + b"\r\n\r\n",
             "silent": b""}
    with ThreadPoolExecutor(len(cases)) as pool:
        futures = {name: pool.submit(one, data) for name, data in cases.items()}
        print(json.dumps({name: f.result() for name, f in futures.items()}))


# ---- the flood -------------------------------------------------------------------

async def read_reply(reader, timeout):
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    length = header_of(head, b"content-length")
    body = await asyncio.wait_for(reader.readexactly(int(length)), timeout) if length else b""
    return parse(head + body)


async def open_conn(args, ctx):
    return await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", args.port, ssl=ctx,
                                server_hostname="127.0.0.1" if ctx else None), 30)


def percentile(sorted_ms, p):
    if not sorted_ms:
        return None
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))], 3)


def caller_thread(args, stop, lat, errors):
    """One client with its connection opened before the flood, calling in
    a loop on it (a new one only if the server closes it)."""
    body = args.body.encode() if args.body else b""
    method, path = args.call.split(" ", 1)
    req = (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    c = Conn(args, timeout=30)
    while not stop.is_set():
        t0 = time.monotonic()
        try:
            c.send(req)
        except OSError as e:
            errors.append(f"send: {e}")
            c.close()
            c = Conn(args, timeout=30)
            continue
        r = c.reply(30)
        if r is None or "status" not in r:
            errors.append(f"no reply: {r}")
            c.close()
            c = Conn(args, timeout=30)
            continue
        if r["status"] != 200:
            errors.append(f"status {r['status']}: {r['body'][:120]}")
        else:
            lat.append((t0, (time.monotonic() - t0) * 1000))
        if (r.get("connection") or "").lower() == "close":
            errors.append("the server closed a kept-alive connection")
            c.close()
            c = Conn(args, timeout=30)
    c.close()


def callers_process(args, ready, stop, results):
    """The keep-alive callers, in a process of their own so that the
    flood's event loop never delays them (their latency is hearthd's)."""
    import threading
    lat, errors = [], []
    threads = [threading.Thread(target=caller_thread, args=(args, stop, lat, errors))
               for _ in range(args.keepalive)]
    for t in threads:
        t.start()
    time.sleep(1)
    ready.put(len(lat))
    for t in threads:
        t.join()
    results.put((lat, errors))


def outcome_of(r):
    if r["status"] == 503:
        j = r.get("json") or {}
        good = (r["content_type"] == "application/json" and
                (r["connection"] or "").lower() == "close" and
                j.get("error", {}).get("code") == "unavailable")
        return "503" if good else "503-not-json"
    return str(r["status"])


async def slowloris(args, ctx, results, opened):
    t0 = time.monotonic()
    try:
        reader, writer = await open_conn(args, ctx)
    except Exception as e:  # noqa: BLE001
        opened.set_one()
        results.append(("connect-" + type(e).__name__, 0))
        return
    opened.set_one()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    read = asyncio.ensure_future(read_reply(reader, args.header_timeout + 20))
    n = 0
    try:
        while not read.done():
            await asyncio.wait([read], timeout=0.5)
            if not read.done():
                writer.write(f"X-Slow-{n}: a\r\n".encode())
                n += 1
        r = read.result()
        results.append((outcome_of(r), time.monotonic() - t0))
    except (asyncio.IncompleteReadError, ConnectionError):
        # hearthd closed it before this client read its answer: the
        # answer is followed by 2 s of input dropped, then the close, and
        # a client that goes on sending after that gets a reset (one whose
        # event loop is that far behind, as this one's can be with 7,000
        # sockets on a loaded machine).
        results.append(("closed", time.monotonic() - t0))
    except Exception as e:  # noqa: BLE001
        results.append((type(e).__name__, time.monotonic() - t0))
    writer.close()


async def burst_one(args, ctx, results):
    try:
        reader, writer = await open_conn(args, ctx)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        r = await read_reply(reader, 30)
        results.append(outcome_of(r))
        writer.close()
    except Exception as e:  # noqa: BLE001
        results.append(type(e).__name__)


class Countdown:
    def __init__(self, n):
        self.n = n
        self.done = asyncio.Event()
        if n == 0:
            self.done.set()

    def set_one(self):
        self.n -= 1
        if self.n <= 0:
            self.done.set()


async def flood(args, before):
    ctx = ssl.create_default_context(cafile=args.ca) if args.ca else None
    t_start = time.monotonic()
    slow_results = []
    opened = Countdown(args.slowloris)
    slow = [asyncio.ensure_future(slowloris(args, ctx, slow_results, opened))
            for _ in range(args.slowloris)]
    await asyncio.wait_for(opened.done.wait(), 60)
    t_slow_open = time.monotonic()

    burst_results = []
    burst = [asyncio.ensure_future(burst_one(args, ctx, burst_results))
             for _ in range(args.burst)]
    await asyncio.wait(burst, timeout=90)
    t_burst_done = time.monotonic()
    await asyncio.wait(slow, timeout=args.header_timeout + 30)
    t_slow_done = time.monotonic()
    await asyncio.sleep(0.5)
    lat, errors = before()

    def count(items):
        out = {}
        for i in items:
            out[i] = out.get(i, 0) + 1
        return out

    # The callers' latency while the flood lasted (from the first
    # slow-loris connection to the last connection's end).
    ms = sorted(m for t, m in lat if t_start <= t <= t_slow_done)
    quiet = sorted(m for t, m in lat if t < t_start)
    slow_times = sorted(t for _, t in slow_results)
    return {
        "keepalive": {"connections": args.keepalive, "calls": len(lat), "calls_in_flood": len(ms),
                      "errors": len(errors), "first_errors": errors[:5],
                      "p50_ms": percentile(ms, 0.50), "p99_ms": percentile(ms, 0.99),
                      "max_ms": round(ms[-1], 3) if ms else None,
                      "before_p50_ms": percentile(quiet, 0.50),
                      "before_p99_ms": percentile(quiet, 0.99)},
        "slowloris": {"count": args.slowloris, "outcomes": count(o for o, _ in slow_results),
                      "finished": len(slow_results),
                      "last_closed_s": round(slow_times[-1], 2) if slow_times else None},
        "burst": {"count": args.burst, "outcomes": count(burst_results),
                  "finished": len(burst_results)},
        "seconds": {"slowloris_opened": round(t_slow_open - t_start, 2),
                    "burst_done": round(t_burst_done - t_start, 2),
                    "all_done": round(t_slow_done - t_start, 2)},
    }


def cmd_flood(args):
    import multiprocessing
    need = args.slowloris + args.burst + args.keepalive + 64
    have = raise_nofile(need)
    if have < need:
        print(json.dumps({"error": f"the open-file limit is {have}; the flood needs {need}"}))
        sys.exit(2)
    ready, results, stop = multiprocessing.Queue(), multiprocessing.Queue(), multiprocessing.Event()
    proc = multiprocessing.Process(target=callers_process, args=(args, ready, stop, results))
    proc.start()
    warm = ready.get(timeout=30)

    def collect():
        stop.set()
        got = results.get(timeout=60)
        proc.join(10)
        return got

    out = asyncio.run(flood(args, collect))
    out["keepalive"]["calls_before_flood"] = warm
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", help="TLS: trust this certificate")
    p.add_argument("--header-timeout", type=float, default=2)
    p.add_argument("--body-timeout", type=float, default=3)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("deadlines")
    sub.add_parser("stream")
    raw = sub.add_parser("raw")
    raw.add_argument("names", nargs="+", choices=sorted(RAW))
    cap = sub.add_parser("cap")
    cap.add_argument("n", type=int)
    sub.add_parser("garbage")
    fl = sub.add_parser("flood")
    fl.add_argument("--keepalive", type=int, default=4)
    fl.add_argument("--call", default="GET /healthz")
    fl.add_argument("--body", default="")
    fl.add_argument("--slowloris", type=int, default=2000)
    fl.add_argument("--burst", type=int, default=5000)
    args = p.parse_args()
    {"deadlines": cmd_deadlines, "stream": cmd_stream, "raw": cmd_raw, "cap": cmd_cap,
     "garbage": cmd_garbage, "flood": cmd_flood}[args.cmd](args)


if __name__ == "__main__":
    main()
