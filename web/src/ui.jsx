// ui.jsx — small shared pieces: badges, dialogs (the native <dialog>,
// which traps focus and closes on Escape), the token prompt, the health
// banner, the toast.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useStore } from './store.js';
import { LANGS } from './format.js';
import { signIn } from './api.js';
import { reconnectNow, refreshFunctions } from './live.js';

export function Badge({ kind, children, title }) {
  return <span class={`badge ${kind || 'plain'}`} title={title}>{children || kind}</span>;
}
export const StatusBadge = ({ status }) => status ? <Badge kind={status}>{status}</Badge> : <span class="muted">–</span>;
export const StartBadge = ({ start }) => start ? <Badge kind={start} title={{ warm: 'served by a warm container', stem: 'served by a stem cell specialised for this call', cold: 'a container was started for this call' }[start]}>{start}</Badge> : null;
export const LangBadge = ({ lang }) => <Badge kind="lang">{LANGS[lang] || lang}</Badge>;

export function Dialog({ open, onClose, labelledBy, children, class: cls }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} class={cls} aria-labelledby={labelledBy}
      onCancel={(e) => { e.preventDefault(); onClose && onClose(); }}>
      {open && children}
    </dialog>
  );
}

// confirm({title, body, action}) → Promise<boolean>
let confirmState = null, setConfirmState = () => {};
export function confirmDialog(opts) {
  return new Promise((resolve) => setConfirmState({ ...opts, resolve }));
}
export function ConfirmHost() {
  const [c, setC] = useState(null);
  confirmState = c;
  setConfirmState = setC;
  const done = (v) => { c && c.resolve(v); setC(null); };
  return (
    <Dialog open={!!c} onClose={() => done(false)} labelledBy="confirm-title">
      {c && <form method="dialog" onSubmit={(e) => { e.preventDefault(); done(true); }}>
        <h2 id="confirm-title">{c.title}</h2>
        <div>{c.body}</div>
        <div class="actions">
          <button type="button" onClick={() => done(false)} autoFocus>Cancel</button>
          <button type="submit" class={c.danger ? 'danger solid' : 'primary'}>{c.action || 'OK'}</button>
        </div>
      </form>}
    </Dialog>
  );
}

// prompt for a single line: promptDialog({title, label, value}) → string|null
let setPromptState = () => {};
export function promptDialog(opts) {
  return new Promise((resolve) => setPromptState({ ...opts, resolve }));
}
export function PromptHost() {
  const [p, setP] = useState(null);
  const [v, setV] = useState('');
  const [err, setErr] = useState(null);
  setPromptState = (s) => { setV(s.value || ''); setErr(null); setP(s); };
  const done = async (val) => {
    if (val != null && p.validate) {
      const e = p.validate(val);
      if (e) { setErr(e); return; }
    }
    p.resolve(val); setP(null);
  };
  return (
    <Dialog open={!!p} onClose={() => done(null)} labelledBy="prompt-title">
      {p && <form onSubmit={(e) => { e.preventDefault(); done(v); }}>
        <h2 id="prompt-title">{p.title}</h2>
        <label for="prompt-input">{p.label}</label>
        <input id="prompt-input" value={v} onInput={(e) => setV(e.currentTarget.value)} autoFocus
          aria-invalid={err ? 'true' : undefined} aria-describedby={err ? 'prompt-err' : undefined} maxLength={p.maxLength} />
        {err && <p class="field-error" id="prompt-err">{err}</p>}
        <div class="actions">
          <button type="button" onClick={() => done(null)}>Cancel</button>
          <button type="submit" class="primary">{p.action || 'OK'}</button>
        </div>
      </form>}
    </Dialog>
  );
}

export function TokenDialog() {
  const prompt = useStore((s) => s.tokenPrompt);
  const [v, setV] = useState('');
  const done = (val) => { prompt && prompt.resolve(val); setV(''); };
  return (
    <Dialog open={!!prompt} onClose={() => done(null)} labelledBy="token-title" class="token-dialog">
      {prompt && <form onSubmit={(e) => { e.preventDefault(); if (v.trim()) done(v.trim()); }}>
        <h2 id="token-title">Access token</h2>
        <p class="muted">{prompt.reason} Enter the token hearthd was started with
          (<code>--token</code> or <code>--token-file</code>). It is kept for this browser tab only.</p>
        <label for="token-input">Token</label>
        <input id="token-input" type="password" autocomplete="current-password" value={v}
          onInput={(e) => setV(e.currentTarget.value)} autoFocus required />
        <div class="actions">
          <button type="button" onClick={() => done(null)}>Cancel</button>
          <button type="submit" class="primary">Use token</button>
        </div>
      </form>}
    </Dialog>
  );
}

export function HealthBanner() {
  const h = useStore((s) => s.health);
  if (h.auth === 'cancelled') {
    return (
      <div class="banner warn" role="alert">
        <svg class="icon" viewBox="0 0 20 20" aria-hidden="true"><rect x="4" y="9" width="12" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="2" /><path d="M7 9V6.5a3 3 0 0 1 6 0V9" fill="none" stroke="currentColor" stroke-width="2" /></svg>
        <div><strong>hearthd needs an access token.</strong> Nothing can be shown or changed without it.
          {' '}<button type="button" class="primary" style="margin-left:8px" onClick={async () => { if (await signIn()) { refreshFunctions(); reconnectNow(); } }}>Enter token</button></div>
      </div>
    );
  }
  if (!h.reachable) {
    return (
      <div class="banner error" role="alert">
        <svg class="icon" viewBox="0 0 20 20" aria-hidden="true"><circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="2" /><path d="M6.5 6.5l7 7M13.5 6.5l-7 7" stroke="currentColor" stroke-width="2" stroke-linecap="round" /></svg>
        <div><strong>hearthd is not reachable.</strong>
          The dashboard cannot talk to the server at <code>{location.host}</code>. Start it again
          with <code>./run.sh</code> (or <code>hearthd --listen {location.host}</code>); this page reconnects by itself.</div>
      </div>
    );
  }
  if (h.engine === 'down') {
    return (
      <div class="banner warn" role="alert">
        <svg class="icon" viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2L1.5 17.5h17z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" /><path d="M10 8v4.5" stroke="currentColor" stroke-width="2" stroke-linecap="round" /><circle cx="10" cy="15" r="1.2" fill="currentColor" /></svg>
        <div><strong>Docker is not reachable.</strong>
          hearthd is up, but it cannot start or call containers, so invocations fail until Docker is back.
          Start dockerd (<code>sudo systemctl start docker</code>, or <code>./run.sh</code>, which starts it);
          this page recovers by itself.</div>
      </div>
    );
  }
  return null;
}

export function Toast() {
  const t = useStore((s) => s.toast);
  return <div aria-live="polite" role="status">{t && <div class={`toast ${t.kind}`}>{t.message}</div>}</div>;
}

export function Field({ id, label, error, hint, children, wide }) {
  return (
    <div class={'field' + (wide ? ' wide' : '')}>
      <label for={id} id={id + '-label'}>{label}</label>
      {children}
      {hint && !error && <p class="hint" id={id + '-hint'}>{hint}</p>}
      {error && <p class="field-error" id={id + '-error'} role="alert">{error}</p>}
    </div>
  );
}
// aria attributes for an input inside Field
export const fieldAria = (id, error, hint) => ({
  'aria-invalid': error ? 'true' : undefined,
  'aria-describedby': error ? id + '-error' : hint ? id + '-hint' : undefined,
});
