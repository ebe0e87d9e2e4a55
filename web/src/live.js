// live.js — keeps the store current: the function list (GET /functions/
// ?stats=1), the pool and the calls from GET /events (reconnecting with a
// back-off), and health (GET /healthz) while something is wrong.  When
// hearthd has no /events (404) it falls back to polling GET /pool.
import { authFetch, get, ApiError } from './api.js';
import { SseParser, readStream } from './sse.js';
import { store } from './store.js';

let fnLoading = null, fnAgain = false;
export function refreshFunctions() {
  if (fnLoading) { fnAgain = true; return fnLoading; }
  fnLoading = get('/functions/?stats=1')
    .then((list) => store.set({ functions: Array.isArray(list) ? list : (list.functions || []), functionsError: null }))
    .catch((e) => { if (e.status !== 401) store.set({ functionsError: e.message }); })
    .finally(() => {
      fnLoading = null;
      if (fnAgain) { fnAgain = false; refreshFunctions(); }
    });
  return fnLoading;
}

// Stats move with every call: refresh the list at most every 2 s while
// calls come in.
let statsTimer = null;
function refreshStatsSoon() {
  if (statsTimer) return;
  statsTimer = setTimeout(() => { statsTimer = null; refreshFunctions(); }, 2000);
}

function onPool(p) {
  store.set({ pool: { containers: p.containers || [], engine_up: p.engine_up !== false, at: performance.now() } });
  store.setHealth({ engine: p.engine_up === false ? 'down' : 'ok' });
}

const handlers = {
  pool(data) { onPool(data); },
  invocations(data) {
    if (Array.isArray(data.calls) && data.calls.length) {
      const now = Date.now();
      store.addCalls(data.calls.map((c) => ({ ...c, t: c.at ? Date.parse(c.at) || now : now })));
      refreshStatsSoon();
    }
  },
  functions() { refreshFunctions(); },
};

let backoff = 500;
let pollTimer = null;
let wake = () => {};
// Reconnect at once (after a token was entered), not at the back-off's end.
export function reconnectNow() { backoff = 500; wake(); }
const nap = (ms) => new Promise((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });

async function pollOnce() {
  try {
    const p = await get('/pool');
    onPool({ containers: p.containers, engine_up: store.get().health.engine !== 'down' });
  } catch { /* reachability is reported by api.js */ }
}

function startPolling() {
  if (pollTimer) return;
  store.setHealth({ stream: 'polling' });
  pollOnce();
  pollTimer = setInterval(() => { pollOnce(); refreshFunctions(); }, 2000);
}

async function streamLoop() {
  for (;;) {
    const ctl = new AbortController();
    let watchdog = null;
    const kick = () => {
      clearTimeout(watchdog);
      // the server pings every 15 s: silence for 40 s is a dead stream
      watchdog = setTimeout(() => ctl.abort(), 40000);
    };
    const started = Date.now();
    try {
      const res = await authFetch('/events', { headers: { Accept: 'text/event-stream' }, signal: ctl.signal });
      if (res.status === 404) { startPolling(); return; }
      if (!res.ok || !res.body) throw new ApiError(res.status, 'stream', `GET /events: HTTP ${res.status}`);
      store.setHealth({ stream: 'live' });
      kick();
      // Whatever happened while the stream was down: catch up.
      refreshFunctions();
      const parser = new SseParser((type, data) => {
        const h = handlers[type];
        if (!h) return;
        let obj;
        try { obj = JSON.parse(data); } catch { return; }
        h(obj);
      });
      await readStream(res, parser, kick);
    } catch (e) {
      if (e && e.status === 401) { /* the dialog was cancelled: try later */ }
    } finally {
      clearTimeout(watchdog);
    }
    store.setHealth({ stream: 'reconnecting' });
    if (Date.now() - started > 10000) backoff = 500;
    await nap(backoff + Math.random() * 250);
    backoff = Math.min(backoff * 2, 8000);
  }
}

// While hearthd is unreachable or its engine is down, ask /healthz every
// 3 s; the banner goes when it answers well.
async function healthLoop() {
  for (;;) {
    const h = store.get().health;
    const wrong = !h.reachable || h.engine !== 'ok' || h.stream !== 'live';
    if (wrong) {
      try {
        const r = await get('/healthz', { open: true });
        const engine = r && r.docker && r.docker !== 'ok' ? 'down' : 'ok';
        const was = store.get().health.engine;
        store.setHealth({ engine });
        if (was !== engine) { refreshFunctions(); if (pollTimer) pollOnce(); }
        // back after an outage: catch up now, not at the back-off's end
        if (!h.reachable) { refreshFunctions(); reconnectNow(); }
      } catch { /* unreachable: api.js said so */ }
    }
    await new Promise((r) => setTimeout(r, wrong ? 3000 : 10000));
  }
}

export function startLive() {
  refreshFunctions();
  streamLoop();
  healthLoop();
}
