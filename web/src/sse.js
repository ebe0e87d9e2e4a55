// sse.js — a server-sent event stream read from fetch()'s body, so the
// request carries the Authorization header (EventSource cannot).  Framing
// as the HTML standard has it: lines end in \n, \r\n or \r; "event:" and
// "data:" fields (data lines joined with \n); a blank line dispatches;
// lines starting with ":" are comments (the server's pings).
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buf = '';
    this.reset();
  }
  reset() { this.type = ''; this.data = []; }
  push(text) {
    this.buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // a lone \r at the very end may be the first half of \r\n
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  }
  line(line) {
    if (line === '') {
      if (this.data.length) this.onEvent(this.type || 'message', this.data.join('\n'));
      this.reset();
      return;
    }
    if (line[0] === ':') return;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
  }
}

// Reads a Response body to its end through the parser; resolves when the
// server closes the stream, rejects when the read fails or is aborted.
export async function readStream(res, parser, onBytes) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    onBytes && onBytes();
    parser.push(dec.decode(value, { stream: true }));
  }
  parser.push(dec.decode());
}
