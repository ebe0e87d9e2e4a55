// api.js — every request to hearthd goes through here: fetch() with the
// bearer token when one is known (sessionStorage), a token dialog on 401
// and one retry, JSON errors turned into ApiError (with the form field the
// message names), and reachability reported to the store for the banner.
import { store } from './store.js';

const TOKEN_KEY = 'hearth.token';

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}
export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the token lives for this page only */ }
  memToken = t || '';
}
let memToken = '';
const token = () => getToken() || memToken;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = fieldOf(message);
  }
}

// API messages name the field first: "timeout: 0 is out of range 1..900",
// "name 'x' is taken", "code, zip: one of them is required",
// "events[2].name: too long".  Returns "timeout", "name", "code", "events[2].name".
export function fieldOf(message) {
  const m = /^([A-Za-z_][\w]*(?:\[\d+\])?(?:\.[A-Za-z_]\w*)?)(?:,\s*[A-Za-z_]\w*)*(?::|\s)/.exec(message || '');
  return m ? m[1] : null;
}

// One token dialog at a time: every request that met a 401 waits for it.
// Once the user cancels it, 401s fail quietly until they ask for it again
// (the banner's button calls signIn).
let asking = null;
export async function signIn(reason = 'hearthd asks for a token.') {
  const t = await askToken(reason);
  if (t == null) return false;
  setToken(t);
  store.setHealth({ auth: 'ok' });
  return true;
}
function askToken(reason) {
  if (!asking) {
    asking = new Promise((resolve) => store.set({ tokenPrompt: { reason, resolve } }))
      .finally(() => { asking = null; store.set({ tokenPrompt: null }); });
  }
  return asking;
}

export function authHeaders(extra = {}) {
  const h = { ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

// fetch with the token; on 401 ask for one and try again (once per answer).
// With open set the path answers without a token too (/healthz), so its
// answer says nothing about the token.
export async function authFetch(path, init = {}, { open } = {}) {
  for (;;) {
    let res;
    try {
      res = await fetch(path, { ...init, headers: authHeaders(init.headers) });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      store.reachable(false);
      throw new ApiError(0, 'unreachable', 'hearthd is not reachable');
    }
    store.reachable(true);
    if (res.status !== 401) {
      if (!open && store.get().health.auth !== 'ok') store.setHealth({ auth: 'ok' });
      return res;
    }
    const given = store.get().health.auth === 'cancelled' ? null
      : await askToken(token() ? 'That token was refused.' : 'hearthd asks for a token.');
    if (given == null) {
      store.setHealth({ auth: 'cancelled' });
      throw new ApiError(401, 'unauthorized', 'hearthd needs a token');
    }
    setToken(given);
  }
}

// JSON in, JSON out.  Throws ApiError for an error reply, except that with
// envelope set an execute envelope (a 504 timeout carries one) is returned.
export async function api(method, path, body, { signal, envelope, open } = {}) {
  const init = { method, signal, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await authFetch(path, init, { open });
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok && !(envelope && data && data.status && data.id)) {
    const e = data && data.error;
    throw new ApiError(res.status, e ? e.code : 'http_' + res.status,
      e ? e.message : `${method} ${path}: HTTP ${res.status}`);
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b, o);
export const put = (p, b, o) => api('PUT', p, b, o);
export const del = (p, o) => api('DELETE', p, undefined, o);
