// store.js — the page's shared state (functions, the live pool, recent
// calls, health) in one object, with subscribers; useStore() re-renders a
// component when the part it selects changes.
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set();
const state = {
  functions: null,       // [function object (+pool, stats)], null until loaded
  functionsError: null,
  pool: null,            // {containers, engine_up, at}: the last pool event or GET /pool
  calls: [],             // recent invocation summaries from /events, oldest first
  health: { reachable: true, engine: 'ok', stream: 'connecting', auth: 'ok' },
  tokenPrompt: null,     // {reason, resolve} while the token dialog is open
  toast: null,
};
const CALLS_KEPT = 2000;
const callIds = new Set();

export const store = {
  get: () => state,
  set(patch) {
    Object.assign(state, patch);
    for (const l of listeners) l();
  },
  setHealth(patch) {
    const h = { ...state.health, ...patch };
    if (Object.keys(patch).every((k) => state.health[k] === h[k])) return;
    store.set({ health: h });
  },
  reachable(up) { store.setHealth({ reachable: up }); },
  // Calls from the stream, or older ones from the records (seed): kept
  // once each, oldest first.
  addCalls(list, seed) {
    const fresh = list.filter((c) => !callIds.has(c.id));
    if (!fresh.length) return;
    for (const c of fresh) callIds.add(c.id);
    let calls = state.calls.concat(fresh);
    if (seed) calls.sort((a, b) => a.t - b.t);
    if (calls.length > CALLS_KEPT) {
      for (const c of calls.slice(0, calls.length - CALLS_KEPT)) callIds.delete(c.id);
      calls = calls.slice(-CALLS_KEPT);
    }
    store.set({ calls });
  },
  toast(message, kind = 'info') {
    const t = { message, kind, id: Date.now() + Math.random() };
    store.set({ toast: t });
    setTimeout(() => { if (state.toast === t) store.set({ toast: null }); }, 4000);
  },
  subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
};

export function useStore(select) {
  const [v, setV] = useState(() => select(state));
  useEffect(() => {
    const check = () => setV(() => select(state));
    check();
    return store.subscribe(check);
  }, []);
  return v;
}
