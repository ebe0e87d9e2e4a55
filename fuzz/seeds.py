#!/usr/bin/env python3
"""seeds.py — writes the hand-made seed inputs of every harness into
fuzz/corpus/NAME/seed-*, the start the fuzzers grew the committed corpus
from (fuzz/README.md).  Run it from anywhere; it only adds or overwrites
seed-* files:

    python3 fuzz/seeds.py
"""
import io
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- fn_body: create and update bodies ------------------------------------
PY = '"language":"python","code":"def handler(e, c):\\n  return 1\\n"'
FN_BODIES = {
    "minimal": '{"name":"hello","language":"python","code":"x = 1\\n"}',
    "every-field": '{"name":"n","language":"javascript","code":"exports.handler=1",'
    '"env":{"B":"2","A":"1"},"route":"/api/v1/x-y_z.~","timeout":900,"memory":10240,'
    '"min_warm":0,"max_concurrency":1000,"handler":"index.handler"}',
    "zip": '{"name":"z","language":"python","handler":"src/app.main",'
    '"zip":"UEsF\\nBgAA\\r\\nAAAAAAAAAAAAAAAAAAAAAA=="}',
    "lambda": '{"name":"aws","runtime":"python3.12","code":"x","description":"d",'
    '"role":"arn:aws:iam::1:role/r","architectures":["arm64"],"route_auth":"none",'
    '"async_retries":0,"async_max_age":60}',
    "node-runtime": '{"name":"js","runtime":"nodejs22.x","code":"x"}',
    "update-route-null": '{"route":null,"timeout":30}',
    "update-language": '{"language":"javascript","code":"exports.handler=1"}',
    "update-env": '{"env":{"Y":"1","X":"2"}}',
    "empty-object": "{}",
    "bad-trailing": '{"name":"a"} trailing',
    "bad-types": '{"name":7,"timeout":"3","memory":3.5,"env":[],"route":5}',
    "bad-name": '{"name":"123",' + PY + "}",
    "bad-handler": '{"name":"a",' + PY + ',"handler":"../x.handler"}',
    "bad-route": '{"name":"a",' + PY + ',"route":"/a/../b"}',
    "bad-env": '{"name":"a",' + PY + ',"env":{"HEARTH_X":"x","1A":"y"}}',
    "bad-readonly": '{"name":"a",' + PY + ',"id":3,"revision":4}',
    "bad-zip": '{"name":"a","language":"python","zip":"QUJD-_"}',
    "both-code-zip": '{"name":"a",' + PY + ',"zip":"UEsFBg=="}',
    "nul-in-name": '{"name":"a\\u0000b",' + PY + "}",
    "min-warm-over": '{"name":"a",' + PY + ',"min_warm":2,"max_concurrency":1}',
    "big-int": '{"name":"a",' + PY + ',"timeout":99999999999999999999}',
    "arch": '{"name":"a",' + PY + ',"architectures":["x86_64","arm64"]}',
    "runtime-clash": '{"name":"a",' + PY + ',"runtime":"nodejs20.x"}',
}

# ---- json_strict: texts ----------------------------------------------------
JSON_TEXTS = [
    "{}", "[]", "0", "-0", "-12.5e+3", "1E9", "1e-7", '""', "true", "false", "null",
    ' \t\r\n{"a" : [1, 2.0, true, null, {"b":"c"}]} \n',
    '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"',
    '"\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"', "[[[[[[[[[[]]]]]]]]]]", '{"":0}',
    '"\\ud800"', "123456789012345678901234567890", "1e400", "[1e400, -1e-400]",
    '{"a":1,"a":2}', '{"a\\u0000b":1,"a":2}', '"\\u0000"',
    "{'a':1}", "[1,2,]", '{"a":1,}', "NaN", "-Infinity", "/* c */ 1", "01", "+1", ".5",
    "1.", "1e", "0x10", "True", "nul", '"a\tb"', '"\\x"', '"\\u12G4"', '"abc',
    '{"a" 1}', "{1:2}", "[1 2]", '"\xc3"', '"\xc0\xaf"', '"\xed\xa0\x80"',
    '"\xf4\x90\x80\x80"', '"\xff"', "\xef\xbb\xbf{}", "{} {}", "", "[", '{"a":',
]

# ---- api_route: a method byte, then the path -------------------------------
METHODS = {"GET": 0, "POST": 1, "HEAD": 2, "PUT": 3, "DELETE": 4, "OPTIONS": 5,
           "TRACE": 6, "CONNECT": 7, "PATCH": 8}
API_ROUTES = [
    ("GET", "/functions/"), ("POST", "/functions"), ("POST", "/functions/execute"),
    ("GET", "/functions/execute"), ("GET", "/functions/12"), ("PUT", "/functions/hello"),
    ("DELETE", "/functions/12"), ("POST", "/functions/12/execute"),
    ("GET", "/functions/12/invocations"), ("PUT", "/functions/12/test-events"),
    ("POST", "/functions/12/bench"), ("GET", "/functions/12/dead-letters"),
    ("POST", "/functions/12/dead-letters/redrive"),
    ("POST", "/functions/12/dead-letters/abc/redrive"), ("GET", "/invocations/abc"),
    ("HEAD", "/pool"), ("GET", "/metrics"), ("GET", "/healthz"), ("GET", "/events"),
    ("PATCH", "/fn/hello/x"), ("TRACE", "/fn"), ("GET", "/fn"), ("GET", "/"),
    ("GET", "/index.html"), ("POST", "/app.js"), ("GET", "/functions//execute"),
    ("GET", "/functions/" + "x" * 300), ("POST", "/functions/%2F/execute"),
    ("GET", "/2015-03-31/functions/"), ("GET", "/functionsx"), ("OPTIONS", "/metrics"),
]

# ---- route_match: lines of changes and lookups -----------------------------
ROUTE_SCRIPTS = {
    "nested": "+/a\n+/a/b\n+/a/b/c\n?/a/b/c/d\n?/a/b\n?/a/bc\n?/a\n?/\n?/a?x=1\n",
    "update-delete": "+/x\n+/y\n~0 /z\n?/x/1\n?/z/1\n-1\n?/y\n~0\n?/z\n",
    "taken": "+/a\n+/a\n+\n~1 /a\n?/a\n",
    "invalid": "+/a//b\n+/a/\n+a\n+/./x\n+/a b\n+/\xc3\xa9\n?/a//b\n",
    "slashes": "+/a\n?/a//b\n?//a\n?/a/\n?a/b\n",
}


def frame(ftype, fields, version=1):
    body = b"".join(struct.pack(">HI", tag, len(val)) + val for tag, val in fields)
    return b"HF" + bytes([version, ftype]) + struct.pack(">I", len(body)) + body


def u64(v):
    return struct.pack(">Q", v)


# frame types and tags (common/frame.h)
INIT, READY, INIT_ERROR, INVOKE, REPLY, PING, PONG, SHUTDOWN, PROTO_ERROR = range(1, 10)
CODE_DIR, HANDLER, LANGUAGE, ENV, FUNCTION_NAME, MEMORY_MB, TIMEOUT_MS = range(1, 8)
REQUEST_ID, DEADLINE_MS, PAYLOAD = 16, 17, 18
STATUS, RESULT, ETYPE, EMSG, ESTACK, LOGS, DURATION, RSS, INIT_US = range(32, 41)

READY_F = frame(READY, [(INIT_US, u64(1200)), (RSS, u64(9000)), (LOGS, b"loading\n")])
REPLY_OK = frame(REPLY, [(STATUS, u64(0)), (DURATION, u64(42)), (RSS, u64(9000)),
                         (RESULT, b'{"ok":true}'), (LOGS, b"hi\n")])
REPLY_ERR = frame(REPLY, [(STATUS, u64(1)), (DURATION, u64(7)), (RSS, u64(1)),
                          (ETYPE, b"ValueError"), (EMSG, b"bad"), (ESTACK, b'["a"]')])
HEARTHD_STREAMS = {
    "ready-replies": READY_F + REPLY_OK + REPLY_ERR + frame(PONG, []) + REPLY_OK,
    "init-error": frame(INIT_ERROR, [(ETYPE, b"Runtime.ImportModuleError"), (EMSG, b"no")]),
    "unasked-reply": REPLY_OK,
    "unasked-ready": READY_F + READY_F,
    "bad-magic": b"XX\x01\x05\x00\x00\x00\x00",
    "bad-version": b"HF\x02\x05\x00\x00\x00\x00",
    "too-big": b"HF\x01\x05\x7f\xff\xff\xff",
    "bad-field": READY_F + b"HF\x01\x05\x00\x00\x00\x03abc",
    "bad-status": READY_F + frame(REPLY, [(STATUS, u64(9))]),
    "short-u64": READY_F + frame(REPLY, [(DURATION, b"\x01")]),
    "unknown-type": READY_F + frame(42, []),
    "proto-error": READY_F + frame(PROTO_ERROR, [(ETYPE, b"Hearth.ProtocolError")]),
    "partial": READY_F + REPLY_OK[:20],
    "unknown-tag": READY_F + frame(REPLY, [(999, b"x"), (STATUS, u64(2))]),
}

INIT_F = frame(INIT, [(CODE_DIR, b"/code"), (HANDLER, b"main.handler"),
                      (LANGUAGE, b"python"), (FUNCTION_NAME, b"f"), (MEMORY_MB, u64(128)),
                      (TIMEOUT_MS, u64(3000)), (ENV, b"A=1")])
INVOKE_F = frame(INVOKE, [(REQUEST_ID, b"req-1"), (DEADLINE_MS, u64(3000)),
                          (PAYLOAD, b'{"n":1}')])


def rt(kind, body=b""):
    return bytes([kind]) + struct.pack(">H", len(body)) + body


def shim_input(stream, script=b""):
    return struct.pack(">H", len(stream)) + stream + script


RSS4 = b"\x00\x00\x10\x00"
SHIM_INPUTS = {
    "init-invoke": shim_input(INIT_F + INVOKE_F + frame(PING, [])),
    "invoke-first": shim_input(INVOKE_F + INIT_F + INVOKE_F),
    "shutdown": shim_input(INIT_F + frame(SHUTDOWN, []) + INVOKE_F),
    "bad-frame": shim_input(frame(PING, []) + b"HF\x01\x06\x00\x00\x00\x02ab" + INIT_F),
    "bad-magic": shim_input(INIT_F + b"GET / HTTP/1.1\r\n\r\n"),
    "unknown-type": shim_input(frame(77, []) + frame(READY, [])),
    "init-refused": shim_input(frame(INIT, [(HANDLER, b"h.x"), (LANGUAGE, b"ruby")])),
    "init-error": shim_input(INIT_F + INVOKE_F,
                             rt(0, b"E" + RSS4 + struct.pack(">I", 3) + b"Err" +
                                struct.pack(">I", 2) + b"no")),
    "chunked-result": shim_input(INIT_F + INVOKE_F,
                                 rt(5, b"log line\n") + rt(0, b"R" + RSS4) +
                                 rt(0, b"S" + RSS4 + struct.pack(">I", 6) + b"[1,") +
                                 rt(0, b"C2,3") + rt(0, b"]")),
    "handler-error": shim_input(INIT_F + INVOKE_F,
                                rt(0, b"R" + RSS4) +
                                rt(0, b"X" + RSS4 + struct.pack(">I", 1) + b"E")),
    "timeout-restart": shim_input(INIT_F + INVOKE_F + INVOKE_F,
                                  rt(0, b"R" + RSS4) + rt(1) + rt(0, b"R" + RSS4)),
    "died": shim_input(INIT_F + INVOKE_F + INVOKE_F, rt(0, b"R" + RSS4) + rt(2) + rt(3)),
    "term": shim_input(INIT_F + INVOKE_F + frame(PING, []), rt(0, b"R" + RSS4) + rt(4)),
    "violation": shim_input(INIT_F + INVOKE_F, rt(0, b"R" + RSS4) + rt(0, b"Q")),
    "javascript": shim_input(frame(INIT, [(CODE_DIR, b"/c"), (HANDLER, b"index.handler"),
                                          (LANGUAGE, b"javascript")]) + INVOKE_F),
}


def zip_of(entries, compression=zipfile.ZIP_STORED):
    """entries: (name, data or None for a folder, external_attr or None)"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data, attr in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if attr is not None:
                info.external_attr = attr
            elif data is None:
                info.external_attr = (0o40755 << 16) | 0x10
            else:
                info.external_attr = 0o100644 << 16
            z.writestr(info, b"" if data is None else data)
    return buf.getvalue()


ZIPS = {
    "simple": zip_of([("main.py", b"def handler(e, c):\n    return 1\n", None)]),
    "deflate-nested": zip_of([("src/", None, None), ("src/app.py", b"x = 1\n" * 50, None),
                              ("lib/a/b/c.py", b"", None)], zipfile.ZIP_DEFLATED),
    "dot-slash": zip_of([("./main.py", b"x", None), ("./a/", None, None)]),
    "dotdot": zip_of([("../evil.py", b"x", None)]),
    "dotdot-inner": zip_of([("a/../../evil.py", b"x", None)]),
    "absolute": zip_of([("/tmp/evil.py", b"x", None)]),
    "symlink": zip_of([("link", b"/etc/passwd", 0o120777 << 16), ("link/x", b"y", None)]),
    "duplicate": zip_of([("a.py", b"1", None), ("a.py", b"2", None)]),
    "file-then-dir": zip_of([("a", b"1", None), ("a/b", b"2", None)]),
    "dir-clash": zip_of([("a", b"1", None), ("a/", None, None)]),
    "only-dirs": zip_of([("a/", None, None), ("b/c/", None, None)]),
    "empty": zip_of([]),
    "fifo": zip_of([("p", b"", 0o010644 << 16)]),
    "backslash": zip_of([("a\\..\\b.py", b"x", None)]),
    "utf8": zip_of([("h\u00e9llo.py", b"x", None)]),
    "deep": zip_of([("/".join("d" * 70) + "/f", b"x", None)]),
}


# zip_unpack also takes lines that describe a zip (zip_unpack.c)
ZIP_LINES = {
    "lines-simple": "f main.py\tdef handler(e, c): pass\nd lib/\nf lib/util.py\tx = 1\n",
    "lines-traversal": "f ../evil.py\tx\nf a/../../b\tx\nf ./../c\tx\nf /abs\tx\n",
    "lines-dots": "f a/./b\tx\nf a//b\tx\nd .\nd ./\nf ..\tx\nf a/..\tx\n",
    "lines-links": "s link\t/etc/passwd\nf link/x\ty\np fifo\n",
    "lines-clash": "f a\t1\nd a/\nf a/b\t2\n",
    "lines-big": "F big.py\t1048576\nF big2.py\t1048576\n",
    "lines-dup": "f x.py\t1\nf ./x.py\t2\n",
    "lines-trailing-slash": "f dir/\tcontent\n",
}


# ---- sigv4: a mode byte, a clock byte, then METHOD, PATH, QUERY, headers,
# a blank line and the body (sigv4.c) ----------------------------------------
def sigv4_req(method, path, query, headers, body=""):
    return method + "\n" + path + "\n" + query + "\n" + "".join(
        "%s: %s\n" % h for h in headers) + "\n" + body


AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "5" * 64)
PRESIGNED = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830"
             "%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Date=20150830T123600Z"
             "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "a" * 64)
HOST = ("Host", "lambda.us-east-1.amazonaws.com")
SIGV4_INPUTS = {
    # mode 0: as it came
    "unsigned": (0, 0, sigv4_req("GET", "/2015-03-31/functions/", "", [HOST])),
    "bad-signature": (0, 0, sigv4_req("GET", "/2015-03-31/functions/", "Marker=1",
                                      [HOST, ("X-Amz-Date", "20150830T123600Z"),
                                       ("Authorization", AUTH)])),
    "date-header": (0, 0, sigv4_req("GET", "/", "", [HOST, ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
                                                      ("Authorization", AUTH)])),
    "bad-date": (0, 0, sigv4_req("GET", "/", "", [HOST, ("Date", "yesterday"),
                                                   ("Authorization", AUTH)])),
    "incomplete": (0, 0, sigv4_req("GET", "/", "", [("Authorization", "AWS4-HMAC-SHA256 Credential=a")])),
    "other-algorithm": (0, 0, sigv4_req("GET", "/", "", [("Authorization", "AWS AKID:sig")])),
    "short-credential": (0, 0, sigv4_req("GET", "/", "", [
        HOST, ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1, "
         "SignedHeaders=host, Signature=00")])),
    "presigned": (0, 0, sigv4_req("GET", "/2015-03-31/functions/f", PRESIGNED, [HOST])),
    "presigned-partial": (0, 0, sigv4_req("GET", "/", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=x", [])),
    "presigned-long": (0, 0, sigv4_req("GET", "/", PRESIGNED.replace("Expires=60", "Expires=999999999"), [])),
    # mode 1: signed by the harness, in the Authorization header
    "signed-get": (1, 0, sigv4_req("GET", "/2015-03-31/functions/", "MaxItems=10&Marker=3", [])),
    "signed-post": (1, 0, sigv4_req("POST", "/2015-03-31/functions/hello/invocations", "",
                                    [("Content-Type", "application/json"),
                                     ("X-Amz-Invocation-Type", "  Event   x  "),
                                     ("X-Amz-Log-Type", "Tail"), ("x-amz-log-type", "None")],
                                    '{"a":1}')),
    "signed-dots": (1, 0, sigv4_req("GET", "/a/./b/../c//d/", "b=2&a=1&a=0&%41=x+y&c", [])),
    "signed-encoded": (1, 0, sigv4_req("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Af",
                                       "Qualifier=%24LATEST&x=%zz&y=%", [("X-Amz-Content-Sha256", "UNSIGNED")])),
    "signed-late": (1, 120, sigv4_req("GET", "/", "", [])),
    "signed-early": (1, 140, sigv4_req("GET", "/", "", [])),
    # mode 2: presigned by the harness
    "presign-get": (2, 0, sigv4_req("GET", "/2015-03-31/functions/f", "Qualifier=%24LATEST", [])),
    "presign-expired": (2, 100, sigv4_req("GET", "/", "", [])),
    # mode 3: signed, then the body or the method changed
    "changed-body": (3, 0, sigv4_req("PUT", "/2015-03-31/functions/f/configuration", "", [],
                                     '{"Timeout":30}')),
    "changed-method": (3, 0, sigv4_req("DELETE", "/2015-03-31/functions/f", "", [])),
}


# ---- lambda_map: an operation byte, then a Lambda body (0 create, 1 code,
# 2 configuration), Invoke's headers and body (3), a failure (4) ---------------
ZIP_B64 = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="
LAMBDA_INPUTS = {
    "create": (0, '{"FunctionName":"hello","Runtime":"python3.12","Handler":"main.handler",'
               '"Role":"arn:aws:iam::1:role/r","Code":{"ZipFile":"' + ZIP_B64 + '"},'
               '"Description":"d","Timeout":30,"MemorySize":256,"Publish":false,'
               '"Environment":{"Variables":{"B":"2","A":"1"}},"Architectures":["arm64"],'
               '"PackageType":"Zip","TracingConfig":{"Mode":"Active"},"Layers":[]}'),
    "create-arn": (0, '{"FunctionName":"arn:aws:lambda:us-east-1:000000000000:function:f",'
                   '"Runtime":"nodejs20.x","Handler":"index.handler","Code":{"ZipFile":"'
                   + ZIP_B64 + '"}}'),
    "create-arn-version": (0, '{"FunctionName":"0:function:f:1","Runtime":"nodejs20.x",'
                           '"Handler":"index.handler","Code":{"ZipFile":"x"}}'),
    "create-s3": (0, '{"FunctionName":"f","Runtime":"python3.12","Handler":"a.b",'
                  '"Code":{"S3Bucket":"b","S3Key":"k"}}'),
    "create-image": (0, '{"FunctionName":"f","PackageType":"Image","Code":{"ImageUri":"u"}}'),
    "create-java": (0, '{"FunctionName":"f","Runtime":"java21","Handler":"a.b",'
                    '"Code":{"ZipFile":"' + ZIP_B64 + '"}}'),
    "create-types": (0, '{"FunctionName":"f","Runtime":"python3.12","Handler":"a.b",'
                     '"Timeout":"3","MemorySize":1.5,"Code":{"ZipFile":"' + ZIP_B64 + '"}}'),
    "create-layers": (0, '{"FunctionName":"f","Runtime":"python3.12","Handler":"a.b",'
                      '"Layers":["arn"],"Code":{"ZipFile":"' + ZIP_B64 + '"}}'),
    "create-env-null": (0, '{"FunctionName":"f","Runtime":"python3.12","Handler":"a.b",'
                        '"Environment":{"Variables":null},"Code":{"ZipFile":"' + ZIP_B64 + '"}}'),
    "create-not-object": (0, '["FunctionName"]'),
    "code": (1, '{"ZipFile":"' + ZIP_B64 + '","DryRun":true,"RevisionId":"r","Publish":true}'),
    "code-s3": (1, '{"S3Bucket":"b","S3Key":"k","ZipFile":"x"}'),
    "code-arch": (1, '{"ZipFile":"' + ZIP_B64 + '","Architectures":["x86_64"],"DryRun":false}'),
    "code-none": (1, '{"DryRun":true}'),
    "config": (2, '{"Timeout":60,"MemorySize":512,"Handler":"app.main","Runtime":"nodejs22.x",'
               '"Environment":{"Variables":{"X":"y"}},"Description":"","Role":"r2",'
               '"RevisionId":"abc"}'),
    "config-env-clear": (2, '{"Environment":{}}'),
    "config-runtime": (2, '{"Runtime":"nodejs20.x"}'),
    "config-bad": (2, '{"Timeout":0,"MemorySize":99999,"Environment":{"Variables":{"AWS_X":"1"}}}'),
    "config-fs": (2, '{"FileSystemConfigs":[{"Arn":"a","LocalMountPath":"/mnt/x"}]}'),
    "config-revision-type": (2, '{"RevisionId":7}'),
    "invoke": (3, "\x03Event\nTail\n{\"a\":1}"),
    "invoke-default": (3, "\x00\n\n"),
    "invoke-dry": (3, "\x01DryRun\nx\n  [1,2] "),
    "invoke-bad": (3, "\x03event\nAll\n{} {}"),
    "invoke-blank": (3, "\x02\nNone\n \r\n\t"),
    "failure-error": (4, "\x00\x0a\x03ValueErrorbad[\"  File a\", \"line 3\"]"),
    "failure-timeout": (4, "\x01\x00\x00"),
    "failure-crashed": (4, "\x02\x11\x14Runtime.ExitErrorexited with code 1"),
    "failure-bytes": (4, "\x00\x02\x02\xff\xc3\xed\xa0not a list"),
}


# ---- lane_chan: what a runtime writes back on its lanes ---------------------
# Records: u8 kind (0 pipe bytes, 1 pipe bytes with the nonce over their
# first 16, 2 a channel message with the nonce, 3 one without), u16 length.
def lane_rec(kind, data):
    return bytes([kind]) + struct.pack(">H", len(data)) + data


NONCE = b"N" * 16  # the harness writes the real nonce over it


def lane_s(rss, total, first):
    return NONCE + b"S" + struct.pack(">II", rss, total) + first


def lane_x(*strings):
    return NONCE + b"X" + struct.pack(">I", 1234) + b"".join(
        struct.pack(">I", len(t)) + t for t in strings)


LANE_INPUTS = {
    "pipe-small": lane_rec(1, lane_s(9000, 4, b"null")),
    "pipe-junk-then-split": lane_rec(0, b"junk" * 10 + NONCE[:5]) +
    lane_rec(1, lane_s(1, 11, b'{"a":')) + lane_rec(0, b'"bcd"}'),
    "pipe-too-long": lane_rec(1, lane_s(1, 5000, b"x" * 40)),
    "chan-chunks": lane_rec(2, lane_s(7, 100, b"a" * 40)) +
    lane_rec(2, NONCE + b"C" + b"b" * 30) + lane_rec(2, NONCE + b"C" + b"c" * 30),
    "chan-error": lane_rec(3, b"forged") + lane_rec(2, lane_x(b"ValueError", b"boom", b"[]")),
    "chan-overflow": lane_rec(2, lane_s(7, 10, b"a" * 8)) + lane_rec(2, NONCE + b"C" + b"b" * 9),
}


def main():
    for name, body in FN_BODIES.items():
        write("fn_body", name, body)
    for i, text in enumerate(JSON_TEXTS):
        write("json_strict", "%02d" % i, text.encode("latin-1") if any(
            ord(c) > 127 for c in text) else text)
    for i, (method, path) in enumerate(API_ROUTES):
        write("api_route", "%02d" % i, bytes([METHODS[method]]) + path.encode())
    for name, script in ROUTE_SCRIPTS.items():
        write("route_match", name, script.encode("utf-8"))
    for name, stream in HEARTHD_STREAMS.items():
        write("frame_hearthd", name, stream)
    for name, data in SHIM_INPUTS.items():
        write("frame_shim", name, data)
    for name, data in ZIPS.items():
        write("zip_unpack", name, data)
    for name, text in ZIP_LINES.items():
        write("zip_unpack", name, text)
    for name, (mode, clock, req) in SIGV4_INPUTS.items():
        write("sigv4", name, bytes([mode, clock]) + req.encode())
    for name, (op, text) in LAMBDA_INPUTS.items():
        write("lambda_map", name, bytes([op]) + text.encode("latin-1"))
    for name, data in LANE_INPUTS.items():
        write("lane_chan", name, b"\x00" + data)


if __name__ == "__main__":
    main()
