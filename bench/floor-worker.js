'use strict';
// The floor's Node worker (bench/floor-server.c, issue 12).
//
// Loads one handler from a file, then serves calls one after another:
// u32 big-endian length + the event's bytes on fd 3, u32 length + the
// result's JSON on fd 4, with synchronous reads and writes as the runtime
// does.  The JSON work is the runtime's own (runtimes/node/bootstrap.js):
// the body as UTF-8 text, JSON.parse (an empty body is null, text that is
// not JSON is passed as a string), the handler (a returned promise is
// awaited, and the next call is read from setImmediate after it settles,
// as the bootstrap does), JSON.stringify of the result (undefined is
// null).  What the bootstrap does besides (the context object, the nonce,
// max RSS, callback-style handlers, errors as messages) is no part of the
// floor: context is an empty object, and an exception ends the worker.
//
// usage: node floor-worker.js HANDLER_FILE [FUNCTION]

const fs = require('fs');
const path = require('path');

const handler = require(path.resolve(process.argv[2]))[process.argv[3] || 'handler'];
const IN_FD = 3;
const OUT_FD = 4;
const hdr = Buffer.allocUnsafe(4);
let inbuf = Buffer.allocUnsafe(65536);

function readFull(buf, len) {
  let got = 0;
  while (got < len) {
    let n;
    try {
      n = fs.readSync(IN_FD, buf, got, len - got, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) process.exit(0); // the server is gone
    got += n;
  }
}

function writeAll(bufs) {
  for (const b of bufs) {
    for (let off = 0; off < b.length;) off += fs.writeSync(OUT_FD, b, off, b.length - off);
  }
}

function parseEvent(body) {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}

function reply(result) {
  let text = JSON.stringify(result);
  if (text === undefined) text = 'null';
  const out = Buffer.from(text, 'utf8');
  hdr.writeUInt32BE(out.length, 0);
  if (out.length <= 65536) fs.writevSync(OUT_FD, [hdr, out]);
  else writeAll([hdr, out]);
}

function serve() {
  for (;;) {
    readFull(hdr, 4);
    const n = hdr.readUInt32BE(0);
    if (n > inbuf.length) inbuf = Buffer.allocUnsafe(n);
    readFull(inbuf, n);
    const r = handler(parseEvent(inbuf.subarray(0, n)), {});
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
      r.then((v) => {
        reply(v);
        setImmediate(serve);
      });
      return;
    }
    reply(r);
  }
}

serve();
