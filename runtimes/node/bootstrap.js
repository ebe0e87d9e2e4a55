'use strict';
// Hearth Node bootstrap: runs inside the runtime process the shim starts.
//
// Speaks the private shim channel (runtimes/PROTOCOL.md, "Inside the
// container") on the SOCK_SEQPACKET fd named by HEARTH_CHANNEL_FD with
// synchronous reads and writes: Node's stream layer would merge message
// boundaries, and a blocking read between invocations is exactly Lambda's
// "frozen between calls".  stdout/stderr are the shim's log pipe (writes to
// pipes are synchronous on Linux), so console.log never touches a result.
// Every reply echoes the nonce of the message it answers.

const FD = Number(process.env.HEARTH_CHANNEL_FD || 63);
delete process.env.HEARTH_CHANNEL_FD;

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

// Node queues pipe writes in memory once the pipe is full; blocking
// writes make console.log output reach the shim before the reply does,
// so it lands in the right invocation's logs and the flood cap applies.
for (const s of [process.stdout, process.stderr])
  if (s._handle && typeof s._handle.setBlocking === 'function') s._handle.setBlocking(true);

const MSG_MAX = 65536; // chan.h CHAN_MSG_MAX
const MAX_RESULT = Number(process.env.HEARTH_RESULT_MAX); // bounds.h INVOKE_PAYLOAD_MAX, from the shim
const IN_FD = 62; // chan.h CHAN_IN_FD: input pipe (invokes)
const RES_FD = 61; // chan.h CHAN_RES_FD: result pipe (small results)
const PIPE_MSG_MAX = 4096; // chan.h CHAN_PIPE_MSG_MAX (PIPE_BUF: atomic writes)
const IN_MAGIC = 0x48525456; // "HRTV", the input pipe's trailer
const inbuf = Buffer.allocUnsafe(MSG_MAX);
const replyHdr = Buffer.allocUnsafe(16 + 1 + 8);
const moreHdr = Buffer.allocUnsafe(16 + 1);

function readMsg(fd = FD) {
  for (;;) {
    let n;
    try {
      n = fs.readSync(fd, inbuf, 0, MSG_MAX, null);
    } catch (e) {
      if (e.code === 'EAGAIN' || e.code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) process.exit(0); // the shim is gone
    return n;
  }
}

function rss() {
  return process.resourceUsage().maxRSS;
}

function lp(s, cap) {
  let b = Buffer.from(String(s), 'utf8');
  if (b.length > cap) b = b.subarray(0, cap);
  const h = Buffer.allocUnsafe(4);
  h.writeUInt32BE(b.length, 0);
  return [h, b];
}

// type/message/stack, bounded so that an error is always one message.
function sendError(nonce, kind, type, message, stack) {
  const head = Buffer.allocUnsafe(16 + 1 + 4);
  nonce.copy(head, 0);
  head[16] = kind;
  head.writeUInt32BE(rss(), 17);
  const st = (Array.isArray(stack) ? stack : []).slice(-40).map((x) => String(x).slice(0, 500));
  fs.writevSync(FD, [head, ...lp(type, 256), ...lp(message, 8192), ...lp(JSON.stringify(st), 32768)]);
}

function errorParts(err) {
  if (err instanceof Error) {
    const lines = typeof err.stack === 'string' ? err.stack.split('\n') : [];
    const at = lines.findIndex((l) => /^\s+at /.test(l));
    return {
      type: err.name || (err.constructor && err.constructor.name) || 'Error',
      message: err.message === undefined ? '' : String(err.message),
      stack: at >= 0 ? lines.slice(at).map((l) => l.trim()) : [],
    };
  }
  if (err === undefined || err === null) return { type: 'Error', message: 'handler failed', stack: [] };
  return { type: typeof err === 'object' ? 'Object' : typeof err, message: String(err), stack: [] };
}

class Context {
  constructor(requestId, deadline) {
    this.awsRequestId = requestId;
    this.deadlineMs = deadline;
    this.callbackWaitsForEmptyEventLoop = true;
  }
  getRemainingTimeInMillis() {
    return Math.max(0, this.deadlineMs - Date.now());
  }
  // Python-style names, for code written against either runtime.
  get aws_request_id() { return this.awsRequestId; }
  get deadline() { return this.deadlineMs; }
  get function_name() { return this.functionName; }
  get memory_limit_in_mb() { return this.memoryLimitInMB; }
  get_remaining_time_in_millis() { return this.getRemainingTimeInMillis(); }
}

// Finds the handler's file: MODULE.js, .mjs or .cjs (MODULE may hold '/').
function resolveModule(codeDir, mod) {
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const f = path.resolve(codeDir, mod + ext);
    if (fs.existsSync(f)) return f;
  }
  return null;
}

// "file:line" of a SyntaxError, which V8 puts at the top of its stack.
function syntaxWhere(err, file) {
  const m = typeof err.stack === 'string' && /^(?:file:\/\/)?(\/[^\n]*?):(\d+)/m.exec(err.stack);
  return m ? `${m[1]}:${m[2]}` : file;
}

async function init(n) {
  const nonce = Buffer.from(inbuf.subarray(1, 17));
  const fields = [];
  for (let p = 17; p + 4 <= n;) {
    const len = inbuf.readUInt32BE(p);
    fields.push(inbuf.toString('utf8', p + 4, p + 4 + len));
    p += 4 + len;
  }
  const [codeDir, handlerName, fname, mem] = fields;
  process.env.LAMBDA_TASK_ROOT = codeDir;
  process.env._HANDLER = handlerName;
  process.env.AWS_LAMBDA_FUNCTION_NAME = fname;
  process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = mem;
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '$LATEST';
  for (const kv of fields.slice(5)) { // the function's env, before its module loads
    const i = kv.indexOf('=');
    if (i > 0) process.env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  Context.prototype.functionName = fname;
  Context.prototype.functionVersion = '$LATEST';
  Context.prototype.memoryLimitInMB = String(mem);
  Context.prototype.invokedFunctionArn = 'arn:aws:lambda:local:000000000000:function:' + fname;
  Context.prototype.logGroupName = '/aws/lambda/' + fname;

  const fail = (type, message, stack) => {
    sendError(nonce, 0x45 /* E */, type, message, stack || []);
    process.exit(1);
  };
  const dot = handlerName.lastIndexOf('.');
  if (dot <= 0 || dot === handlerName.length - 1)
    fail('Runtime.MalformedHandlerName', `Bad handler '${handlerName}': expected MODULE.FUNCTION`);
  const mod = handlerName.slice(0, dot);
  const attr = handlerName.slice(dot + 1);
  try {
    process.chdir(codeDir);
  } catch (e) {
    fail('Runtime.InitError', `Cannot enter code dir ${codeDir}: ${e.message}`);
  }
  const file = resolveModule(codeDir, mod);
  if (!file)
    fail('Runtime.ImportModuleError',
      `Unable to import module '${mod}': no ${mod}.js, ${mod}.mjs or ${mod}.cjs in ${codeDir}`);
  let exported;
  try {
    if (file.endsWith('.mjs')) {
      exported = await import(pathToFileURL(file).href);
    } else {
      try {
        exported = require(file);
      } catch (e) {
        if (e && e.code === 'ERR_REQUIRE_ESM') exported = await import(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    const p = errorParts(e);
    if (e instanceof SyntaxError)
      fail('Runtime.UserCodeSyntaxError', `${syntaxWhere(e, file)}: SyntaxError: ${p.message}`, p.stack);
    const where = (p.stack.find((l) => l.includes(file)) || file).replace(/^at /, '');
    fail('Runtime.ImportModuleError', `Unable to import module '${mod}': ${p.type}: ${p.message} (${where})`,
      p.stack);
  }
  let fn = exported && exported[attr];
  if (fn === undefined && exported && exported.default) fn = exported.default[attr];
  if (typeof fn !== 'function')
    fail('Runtime.HandlerNotFound', `${file}: ${mod}.${attr} is ${fn === undefined ? 'undefined or not exported' : 'not a function'}`);
  const ready = Buffer.allocUnsafe(16 + 1 + 4);
  nonce.copy(ready, 0);
  ready[16] = 0x52; // R
  ready.writeUInt32BE(rss(), 17);
  fs.writeSync(FD, ready);
  return fn;
}

let handler;
let current = null; // the invocation in flight: { nonce, done }

function reply(inv, err, result) {
  if (inv.done) return;
  inv.done = true;
  current = null;
  const nonce = inv.nonce;
  if (err !== null) {
    const p = errorParts(err);
    sendError(nonce, 0x58 /* X */, p.type, p.message, p.stack);
    return;
  }
  let text;
  try {
    text = JSON.stringify(result);
  } catch (e) {
    sendError(nonce, 0x58, 'Runtime.MarshalError', `Unable to stringify response body: ${e.message}`, []);
    return;
  }
  if (text === undefined) text = 'null';
  const out = Buffer.from(text, 'utf8');
  if (out.length > MAX_RESULT) {
    sendError(nonce, 0x58, 'Runtime.ResponseSizeTooLarge',
      `Response payload size (${out.length} bytes) exceeded maximum allowed payload size (${MAX_RESULT} bytes).`, []);
    return;
  }
  nonce.copy(replyHdr, 0);
  replyHdr[16] = 0x53; // S
  replyHdr.writeUInt32BE(rss(), 17);
  replyHdr.writeUInt32BE(out.length, 21);
  if (replyHdr.length + out.length <= PIPE_MSG_MAX) {
    try {
      fs.writevSync(RES_FD, [replyHdr, out]); // one atomic pipe write
      return;
    } catch (e) {
      // the handler closed or broke the pipe: use the channel
    }
  }
  const first = MSG_MAX - replyHdr.length;
  if (out.length <= first) {
    fs.writevSync(FD, [replyHdr, out]);
    return;
  }
  fs.writevSync(FD, [replyHdr, out.subarray(0, first)]);
  nonce.copy(moreHdr, 0);
  moreHdr[16] = 0x43; // C
  const step = MSG_MAX - moreHdr.length;
  for (let off = first; off < out.length; off += step)
    fs.writevSync(FD, [moreHdr, out.subarray(off, off + step)]);
}

function parseEvent(body) {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    return text; // not JSON: the handler gets the text (PROTOCOL.md)
  }
}

// Serves invokes until one goes asynchronous; its settlement resumes the loop.
function serve() {
  for (;;) {
    // The input pipe: the message is the one that ends the read (u32
    // length + "HRTV" trailer); anything before it is bytes a handler
    // wrote into its own input (PROTOCOL.md).
    let n = readMsg(IN_FD);
    let end = n - 8;
    if (end < 1 || inbuf.readUInt32BE(n - 4) !== IN_MAGIC) continue;
    let s = end - inbuf.readUInt32BE(end);
    if (s < 0) continue;
    if (inbuf[s] === 0x76) { // 'v': this invoke comes on the channel
      n = readMsg(FD);
      s = 0;
      end = n;
    }
    if (inbuf[s] !== 0x56 || end - s < 27) continue; // 'V'; nothing else is expected here
    const nonce = Buffer.from(inbuf.subarray(s + 1, s + 17));
    const deadlineMs = inbuf.readUInt32BE(s + 17);
    const total = inbuf.readUInt32BE(s + 21);
    const idlen = inbuf.readUInt16BE(s + 25);
    const rid = inbuf.toString('utf8', s + 27, s + 27 + idlen);
    let body;
    const off = s + 27 + idlen;
    if (end - off >= total) {
      body = inbuf.subarray(off, off + total);
    } else {
      body = Buffer.allocUnsafe(total);
      let got = inbuf.copy(body, 0, off, end);
      while (got < total) {
        const m = readMsg();
        got += inbuf.copy(body, got, 1, m);
      }
    }
    // sync: settling now must not start a second serve loop.
    const inv = { nonce, done: false, sync: true };
    current = inv;
    const ctx = new Context(rid, Date.now() + deadlineMs);
    let r;
    try {
      const event = parseEvent(body);
      if (handler.length >= 3) r = handler(event, ctx, (err, res) => settle(inv, err == null ? null : err, res));
      else r = handler(event, ctx);
    } catch (e) {
      inv.sync = false;
      reply(inv, e === null || e === undefined ? new Error(String(e)) : e, null);
      continue;
    }
    inv.sync = false;
    if (inv.done) continue; // the callback was called synchronously
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
      r.then((v) => settle(inv, null, v),
        (e) => settle(inv, e === null || e === undefined ? new Error('Promise rejected with ' + e) : e, null));
      return;
    }
    if (handler.length < 3) {
      reply(inv, null, r);
      continue;
    }
    return; // callback style: wait for the callback
  }
}

function settle(inv, err, res) {
  if (inv.done) return;
  reply(inv, err, res);
  // Let queued I/O callbacks run once before blocking for the next call.
  if (!inv.sync) setImmediate(serve);
}

function fatal(e) {
  if (current) {
    settle(current, e === null || e === undefined ? new Error(String(e)) : e, null);
  } else {
    process.stderr.write(`hearth bootstrap: uncaught: ${e && e.stack ? e.stack : e}\n`);
  }
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

(async () => {
  let n;
  do n = readMsg(); while (inbuf[0] !== 0x49); // 'I'
  handler = await init(n);
  serve();
})();
