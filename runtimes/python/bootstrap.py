"""Hearth Python bootstrap: runs inside the runtime process the shim starts.

Speaks the private shim channel (runtimes/PROTOCOL.md, "Inside the
container") on the SOCK_SEQPACKET fd named by HEARTH_CHANNEL_FD: waits for
one init, imports the handler once, then serves invokes one after another
with Lambda's handler contract.  stdout/stderr are the shim's log pipe, so
print() never touches the result.  Every reply echoes the nonce of the
message it answers; the shim drops anything else a handler writes.
"""
import os
import sys

_FD = int(os.environ.pop("HEARTH_CHANNEL_FD", "63"))

import json  # noqa: E402
import resource  # noqa: E402
import struct  # noqa: E402
import time  # noqa: E402

MSG_MAX = 65536            # chan.h CHAN_MSG_MAX
MAX_RESULT = int(os.environ["HEARTH_RESULT_MAX"])  # bounds.h INVOKE_PAYLOAD_MAX, from the shim
_IN = 62                   # chan.h CHAN_IN_FD: input pipe (invokes)
_RES = 61                  # chan.h CHAN_RES_FD: result pipe (small results)
PIPE_MSG_MAX = 4096        # chan.h CHAN_PIPE_MSG_MAX (PIPE_BUF: atomic writes)

_read = os.read
_write = os.write
_loads = json.loads
_dumps = json.dumps
_time = time.time
_pack = struct.pack
_unpack_from = struct.unpack_from
_getrusage = resource.getrusage
_RUSAGE_SELF = resource.RUSAGE_SELF

for _fd in (_FD, _IN, _RES):
    try:
        # Children the handler spawns must not inherit the channel.
        os.set_inheritable(_fd, False)
    except OSError:
        pass


def _rss():
    return _getrusage(_RUSAGE_SELF).ru_maxrss


def _cap(s, n):
    b = s.encode("utf-8", "replace") if isinstance(s, str) else bytes(s)
    return b[:n]


def _strings(*items):
    return b"".join(_pack(">I", len(b)) + b for b in
                    (x if isinstance(x, bytes) else _cap(x, 32768) for x in items))


def _send_error(nonce, kind, etype, message, stack):
    # Bounded so that an error always fits in one channel message.
    stack = [str(x)[:500] for x in stack[-40:]]
    _write(_FD, nonce + kind + _pack(">I", _rss()) +
           _strings(_cap(etype, 256), _cap(message, 8192), _dumps(stack, ensure_ascii=False)))


_STDOUT, _STDERR = sys.stdout, sys.stderr


def _flush():
    # With -u our own stdout/stderr write through; only a handler that
    # swapped them in can hold buffered text.
    if sys.stdout is _STDOUT and sys.stderr is _STDERR:
        return
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass


def _stack(tb):
    import traceback
    return [ln for ln in traceback.format_list(traceback.extract_tb(tb))]


class LambdaContext:
    """Lambda's context object; built per invoke, so kept small."""
    __slots__ = ("_rid", "_deadline_ms")
    function_name = ""
    function_version = "$LATEST"
    memory_limit_in_mb = 0     # set by init
    invoked_function_arn = ""
    log_group_name = ""
    log_stream_name = ""
    identity = None
    client_context = None

    def __init__(self, request_id, deadline_ms):
        self._rid = request_id      # bytes until asked for: most handlers never do
        self._deadline_ms = deadline_ms

    @property
    def aws_request_id(self):
        rid = self._rid
        if isinstance(rid, bytes):
            rid = self._rid = rid.decode("utf-8", "replace")
        return rid

    @property
    def deadline_ms(self):
        """Absolute deadline, epoch milliseconds."""
        return self._deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - _time() * 1000))


def _init(m):
    """Imports the handler; returns it, or sends an init error and exits."""
    nonce = m[1:17]
    fields = []
    p = 17
    while p + 4 <= len(m):
        (n,) = _unpack_from(">I", m, p)
        fields.append(m[p + 4:p + 4 + n].decode("utf-8", "surrogateescape"))
        p += 4 + n
    code_dir, handler_name, fname, mem, tmo = fields[:5]

    os.environ["LAMBDA_TASK_ROOT"] = code_dir
    os.environ["_HANDLER"] = handler_name
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = fname
    os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = mem
    os.environ["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
    for kv in fields[5:]:   # the function's env, before its module loads
        k, _, v = kv.partition("=")
        if k:
            os.environ[k] = v
    LambdaContext.function_name = fname
    LambdaContext.memory_limit_in_mb = int(mem)
    LambdaContext.invoked_function_arn = "arn:aws:lambda:local:000000000000:function:" + fname
    LambdaContext.log_group_name = "/aws/lambda/" + fname

    def fail(etype, message, stack):
        _flush()
        _send_error(nonce, b"E", etype, message, stack)
        sys.exit(1)

    modname, dot, attr = handler_name.rpartition(".")
    if not dot or not modname or not attr:
        fail("Runtime.MalformedHandlerName",
             "Bad handler '%s': expected MODULE.FUNCTION" % handler_name, [])
    modname = modname.replace("/", ".")
    try:
        os.chdir(code_dir)
    except OSError as e:
        fail("Runtime.InitError", "Cannot enter code dir %s: %s" % (code_dir, e), [])
    sys.path.insert(0, code_dir)
    modfile = os.path.join(code_dir, modname.replace(".", "/") + ".py")
    try:
        import importlib
        mod = importlib.import_module(modname)
    except SyntaxError as e:
        fail("Runtime.UserCodeSyntaxError",
             "Syntax error in module '%s': %s (%s, line %s)" % (modname, e.msg, e.filename, e.lineno),
             _stack(e.__traceback__))
    except ModuleNotFoundError as e:
        if e.name and (modname == e.name or modname.startswith(e.name + ".")):
            fail("Runtime.ImportModuleError",
                 "Unable to import module '%s': no such file %s" % (modname, modfile), [])
        fail("Runtime.ImportModuleError",
             "Unable to import module '%s': %s" % (modname, e), _stack(e.__traceback__))
    except BaseException as e:  # noqa: B902 — any import-time failure is an init error
        tb = _stack(e.__traceback__)
        where = tb[-1].strip().split("\n")[0] if tb else modfile
        fail("Runtime.ImportModuleError",
             "Unable to import module '%s': %s: %s (%s)" % (modname, type(e).__name__, e, where), tb)
    fn = getattr(mod, attr, None)
    if fn is None:
        fail("Runtime.HandlerNotFound",
             "Handler '%s' missing on module '%s' (%s)" % (attr, modname,
                                                          getattr(mod, "__file__", modfile)), [])
    if not callable(fn):
        fail("Runtime.HandlerNotFound",
             "Handler '%s' on module '%s' is not callable (%s)" % (attr, modname,
                                                                 getattr(mod, "__file__", modfile)), [])
    _flush()
    _write(_FD, nonce + b"R" + _pack(">I", _rss()))
    return fn


def _serve(handler):
    read, write, loads, dumps, now = _read, _write, _loads, _dumps, _time
    # RUSAGE_THREAD: the same ru_maxrss (the process's peak: the mm's
    # high-water mark), without summing every thread's CPU times.
    getrusage, SELF = _getrusage, getattr(resource, "RUSAGE_THREAD", _RUSAGE_SELF)
    unpack_u32 = struct.Struct(">I").unpack_from
    unpack_hdr = struct.Struct(">IIH").unpack_from
    pack_hdr = struct.Struct(">II").pack
    fin, fres = _IN, _RES
    res_first = PIPE_MSG_MAX - 25     # nonce + 'S' + rss + length
    # One encoder for the life of the runtime: json.dumps(**kw) builds a
    # new one per call, which is most of the cost of a small reply.
    # allow_nan=False: NaN and Infinity are no JSON; such a result is a
    # Runtime.MarshalError, as Lambda answers it.
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
    encode_ascii = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    fd = _FD
    Ctx = LambdaContext
    while True:
        # The input pipe: the message is the one that ends the read
        # (u32 length + b"HRTV" trailer); anything before it is bytes a
        # handler wrote into its own input (PROTOCOL.md).
        m = read(fin, MSG_MAX)
        if not m:
            os._exit(0)     # the shim is gone
        end = len(m) - 8
        if end < 1 or not m.endswith(b"HRTV"):
            continue
        s = end - unpack_u32(m, end)[0]
        if s < 0:
            continue
        if m[s] == 0x76:    # 'v': this invoke comes on the channel
            m = read(fd, MSG_MAX)
            if not m:
                os._exit(0)
            s, end = 0, len(m)
        if m[s] != 0x56 or end - s < 27:    # 'V'; nothing else is expected here
            continue
        nonce = m[s + 1:s + 17]
        deadline_ms, total, idlen = unpack_hdr(m, s + 17)
        rid = m[s + 27:s + 27 + idlen]
        body = m[s + 27 + idlen:end]
        if len(body) < total:
            parts = [body]
            got = len(body)
            while got < total:
                c = read(fd, MSG_MAX)
                if not c:
                    os._exit(0)
                parts.append(c[1:])
                got += len(c) - 1
            body = b"".join(parts)
        ctx = Ctx(rid, now() * 1000 + deadline_ms)
        try:
            if body:
                try:
                    event = loads(body)
                except ValueError:
                    # Not JSON: the handler gets the text (PROTOCOL.md).
                    event = body.decode("utf-8", "replace")
            else:
                event = None
            result = handler(event, ctx)
        except BaseException as e:  # noqa: B902 — SystemExit too is the handler's error
            _flush()
            _send_error(nonce, b"X", type(e).__name__, str(e), _stack(e.__traceback__.tb_next))
            continue
        try:
            try:
                out = encode(result).encode()
            except UnicodeEncodeError:  # lone surrogates: let json escape them
                out = encode_ascii(result).encode()
        except (TypeError, ValueError, RecursionError) as e:
            _flush()
            _send_error(nonce, b"X", "Runtime.MarshalError",
                        "Unable to marshal response: %s" % e, [])
            continue
        if len(out) > MAX_RESULT:
            _flush()
            _send_error(nonce, b"X", "Runtime.ResponseSizeTooLarge",
                        "Response payload size (%d bytes) exceeded maximum allowed "
                        "payload size (%d bytes)." % (len(out), MAX_RESULT), [])
            continue
        if sys.stdout is not _STDOUT or sys.stderr is not _STDERR:
            _flush()
        hdr = nonce + b"S" + pack_hdr(getrusage(SELF).ru_maxrss, len(out))
        if len(out) <= res_first:
            try:
                write(fres, hdr + out)     # one atomic pipe write
                continue
            except OSError:
                pass        # the handler closed or broke the pipe: the channel
        first = MSG_MAX - len(hdr)
        if len(out) <= first:
            write(fd, hdr + out)
            continue
        mv = memoryview(out)
        os.writev(fd, [hdr, mv[:first]])
        more = nonce + b"C"
        step = MSG_MAX - len(more)
        for off in range(first, len(out), step):
            os.writev(fd, [more, mv[off:off + step]])


def main():
    while True:
        m = _read(_FD, MSG_MAX)
        if not m:
            os._exit(0)
        if m[0] == 0x49:    # 'I'
            break
    _serve(_init(m))


if __name__ == "__main__":
    main()
