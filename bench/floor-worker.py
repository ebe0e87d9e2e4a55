"""The floor's Python worker (bench/floor-server.c, issue 12).

Loads one handler from a file, then serves calls one after another:
u32 big-endian length + the event's bytes on fd 3, u32 length + the
result's JSON on fd 4.  The JSON work is the runtime's own
(runtimes/python/bootstrap.py): json.loads of the event (an empty body is
None, text that is not JSON is passed as a string), the handler, the
result encoded compact with ensure_ascii=False by one JSONEncoder kept for
the life of the process.  What the bootstrap does besides (a context
object, the nonce, max RSS, errors as messages) is no part of the floor:
context is None, and an exception ends the worker.

usage: python3 -u -B floor-worker.py HANDLER_FILE [FUNCTION]
"""
import importlib.util
import json
import os
import struct
import sys


def main():
    path = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) > 2 else "handler"
    spec = importlib.util.spec_from_file_location("floor_handler", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    handler = getattr(mod, name)

    rd = os.fdopen(3, "rb", buffering=65536)
    read = rd.read
    write = os.write
    loads = json.loads
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    encode_ascii = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    unpack = struct.Struct(">I").unpack
    pack = struct.Struct(">I").pack
    while True:
        h = read(4)
        if len(h) < 4:
            os._exit(0)  # the server is gone
        (n,) = unpack(h)
        body = read(n) if n else b""
        if len(body) < n:
            os._exit(0)
        if body:
            try:
                event = loads(body)
            except ValueError:
                event = body.decode("utf-8", "replace")
        else:
            event = None
        result = handler(event, None)
        try:
            out = encode(result).encode()
        except UnicodeEncodeError:
            out = encode_ascii(result).encode()
        if len(out) <= 65536:
            write(4, pack(len(out)) + out)
            continue
        write(4, pack(len(out)))
        mv = memoryview(out)
        off = 0
        while off < len(out):
            off += write(4, mv[off:])


if __name__ == "__main__":
    main()
