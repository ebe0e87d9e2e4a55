// asynccall.jsx — asynchronous calls: following them (GET /invocations/{id},
// polled with a back-off, for a bounded time), one call with its attempts
// and its final attempt's outcome, and redriving a dead letter.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post } from './api.js';
import { clock, ms } from './format.js';
import { ResultView } from './result.jsx';
import { store } from './store.js';
import { Badge, StartBadge, StatusBadge } from './ui.jsx';

export const FOLLOW_MS = 5 * 60 * 1000; // then a button offers to go on
const FIRST_MS = 400, MAX_MS = 5000, PARALLEL = 6;

export const finished = (c) => !!c && !['queued', 'running', undefined].includes(c.status);
export const isDead = (c) => !!c && (c.status === 'failed' || c.status === 'expired');
const sig = (c) => c && `${c.status}|${(c.attempts || []).length}|${c.next_attempt_at}|${c.redrives}`;

const CALL_TITLES = {
  queued: 'accepted, waiting for its (next) attempt',
  running: 'an attempt is running',
  succeeded: 'an attempt succeeded',
  failed: 'every try failed: a dead letter',
  expired: 'waited longer than the function\'s async_max_age: a dead letter',
  gone: 'no longer known to hearthd',
};
export const CallBadge = ({ status }) => status ? <Badge kind={status} title={CALL_TITLES[status]}>{status}</Badge> : null;
export const REASONS = { retries_exhausted: 'retries exhausted', expired: 'expired' };

// Follows async calls until each is finished, for FOLLOW_MS at most: the
// unfinished ones are asked for (PARALLEL at a time) after FIRST_MS, then
// less often up to MAX_MS, again soon after anything changed, and no earlier
// than a queued call's next attempt when that is further off.  Nothing is
// asked while the page is hidden; everything stops when the caller unmounts.
// Returns { calls: {id: call}, state: following|done|stopped|timeout, error,
// stop(), follow(), restart(id, patch) (after a redrive: the call as the 202
// said, followed again) }.
export function useFollow(ids, { initial, onChange } = {}) {
  const [calls, setCalls] = useState(() => ({ ...(initial || {}) }));
  const [state, setState] = useState('following');
  const [error, setError] = useState(null);
  const [run, setRun] = useState(1); // 0: stopped by the user
  const snap = useRef(calls);
  const changed = useRef(onChange);
  changed.current = onChange;
  const key = ids.join(',');

  useEffect(() => {
    if (!run || !ids.length) return;
    let gone = false, timer = null, delay = FIRST_MS;
    const until = Date.now() + FOLLOW_MS;
    const open = () => ids.filter((id) => !finished(snap.current[id]));
    const tick = async () => {
      if (!open().length) { setState('done'); return; }
      if (Date.now() > until) { setState('timeout'); return; }
      let moved = false;
      if (!document.hidden) {
        const next = { ...snap.current };
        const todo = open();
        let err = null;
        const worker = async () => {
          for (let id; (id = todo.shift()) !== undefined;) {
            try {
              const c = await get(`/invocations/${encodeURIComponent(id)}`);
              if (sig(c) !== sig(next[id])) moved = true;
              next[id] = c;
            } catch (e) {
              if (e.status === 404) { next[id] = { ...next[id], id, status: 'gone' }; moved = true; } else err = e;
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(PARALLEL, todo.length) }, worker));
        if (gone) return;
        snap.current = next;
        setError(err ? err.message : null);
        if (moved) {
          setCalls(next);
          if (changed.current) changed.current(next);
        }
        if (!open().length) { setState('done'); return; }
      }
      delay = moved ? FIRST_MS : Math.min(delay * 1.6, MAX_MS);
      let wait = delay;
      const due = open().map((id) => snap.current[id]).filter((c) => c && c.status === 'queued' && c.next_attempt_at)
        .map((c) => Date.parse(c.next_attempt_at) - Date.now());
      if (due.length && Math.min(...due) > wait) wait = Math.min(...due) + 250;
      timer = setTimeout(tick, Math.max(50, Math.min(wait, until - Date.now() + 50)));
    };
    setState('following');
    tick();
    return () => { gone = true; clearTimeout(timer); };
  }, [key, run]);

  return {
    calls, state, error,
    stop: () => { setRun(0); setState('stopped'); },
    follow: () => setRun((r) => r + 1 || 1),
    restart: (id, patch) => {
      snap.current = { ...snap.current, [id]: { ...snap.current[id], ...patch } };
      setCalls(snap.current);
      setRun((r) => r + 1 || 1);
    },
  };
}

// Queue a dead letter again; the 202's body, or null after a toast.
export async function redrive(fnId, id) {
  try {
    const r = await post(`/functions/${fnId}/dead-letters/${encodeURIComponent(id)}/redrive`);
    store.toast('Queued again with fresh retries');
    return { id, status: 'queued', finished_at: null, reason: null, ...(r || {}) };
  } catch (e) {
    store.toast(`Could not redrive: ${e.message}`, 'error');
    return null;
  }
}

// "Following… / Stopped" with the button that fits.
export function FollowState({ f, what = 'call' }) {
  if (f.state === 'done') return null;
  return (
    <p class="follow muted small" data-follow={f.state}>
      {f.state === 'following' && <><span class="spinner" aria-hidden="true" /><span title="asked for again and again, less often as time goes on">Following the {what}…</span>
        <button type="button" class="link" onClick={f.stop}>Stop following</button></>}
      {f.state === 'stopped' && <>Stopped following.{' '}<button type="button" class="link" onClick={f.follow}>Follow again</button></>}
      {f.state === 'timeout' && <>Stopped following after {FOLLOW_MS / 60000} minutes; it is still {what === 'call' ? 'unfinished' : 'going'}.{' '}
        <button type="button" class="link" onClick={f.follow}>Follow again</button></>}
      {f.error && <span class="field-error" style="display:block">{f.error}</span>}
    </p>
  );
}

function what(c) {
  const n = (c.attempts || []).length;
  const at = (iso) => iso ? clock(iso) : '–';
  switch (c.status) {
    case 'queued': {
      const t = c.next_attempt_at ? Date.parse(c.next_attempt_at) - Date.now() : 0;
      if (n && t > 1500) return `Attempt ${n} failed; attempt ${n + 1} is due at ${at(c.next_attempt_at)} (in about ${Math.round(t / 1000)} s).`;
      return n ? `Queued for attempt ${n + 1}: it runs as soon as there is room.` : 'Queued: it runs as soon as there is room.';
    }
    case 'running': return `Attempt ${n + 1} is running.`;
    case 'succeeded': return `Succeeded on attempt ${n || 1}, at ${at(c.finished_at)}.`;
    case 'failed': return `Failed ${n === 1 ? 'its only attempt' : `all ${n} attempts`}: it is now a dead letter, kept to be redriven.`;
    case 'expired': return 'It waited longer than the function\'s async_max_age and was dropped: it is now a dead letter.';
    case 'gone': return 'hearthd no longer knows this call (was the function deleted?).';
    default: return '';
  }
}

// One async call: its state, its facts, each attempt, and the chosen
// attempt (the last by default) as a synchronous result would show.
export function AsyncCallView({ call, fnId, onRedrive, linkDead }) {
  const attempts = call.attempts || [];
  const [pick, setPick] = useState(null); // an attempt's n, or null for the last
  const shown = attempts.find((a) => a.n === pick) || attempts[attempts.length - 1];
  const [busy, setBusy] = useState(false);
  const doRedrive = async () => {
    setBusy(true);
    const r = await redrive(fnId, call.id);
    setBusy(false);
    if (r && onRedrive) onRedrive(r);
  };
  const err = call.last_error;
  return (
    <div class="async-call" data-status={call.status}>
      <div class="result-head call-head">
        <CallBadge status={call.status} />
        <span class="muted small call-what">{what(call)}</span>
        {isDead(call) && onRedrive &&
          <button type="button" class="primary redrive-one" onClick={doRedrive} disabled={busy}>{busy ? 'Redriving…' : 'Redrive'}</button>}
      </div>
      {linkDead && isDead(call) && fnId != null &&
        <p class="small" style="margin:0 0 8px"><a class="dead-link" href={`#/fn/${fnId}/history?view=dead&inv=${encodeURIComponent(call.id)}`}>See it among the function's dead letters</a></p>}
      <dl class="facts small">
        <div><dt>Call</dt><dd class="mono">{call.id}</dd></div>
        {call.created_at && <div><dt>Accepted</dt><dd>{clock(call.created_at)}</dd></div>}
        {call.finished_at && <div><dt>Finished</dt><dd>{clock(call.finished_at)}</dd></div>}
        {call.expires_at && call.status === 'queued' && <div><dt>Dropped if still queued at</dt><dd>{clock(call.expires_at)}</dd></div>}
        {call.reason && <div><dt>Reason</dt><dd>{REASONS[call.reason] || call.reason}</dd></div>}
        {call.redrives > 0 && <div><dt>Redriven</dt><dd>{call.redrives} {call.redrives === 1 ? 'time' : 'times'}</dd></div>}
      </dl>
      {attempts.length > 0 && <>
        <div class="section-label">Attempts</div>
        <div class="table-wrap">
          <table class="attempt-table">
            <caption class="sr-only">Attempts of this call, first to last</caption>
            <thead><tr><th class="num">#</th><th>Status</th><th>Start</th><th class="num">Duration</th><th class="hide-narrow">Error</th><th><span class="sr-only">Show</span></th></tr></thead>
            <tbody>
              {attempts.map((a) => (
                <tr key={a.n} class={'clickable' + (a === shown ? ' selected' : '')} data-n={a.n} onClick={() => setPick(a.n)}>
                  <td class="num">{a.n}</td>
                  <td><StatusBadge status={a.status} /></td>
                  <td><StartBadge start={a.start} />{!a.start && <span class="muted">–</span>}</td>
                  <td class="num">{ms(a.duration_ms)}</td>
                  <td class="att-err hide-narrow" title={a.error ? `${a.error.type || 'Error'}: ${a.error.message || ''}` : undefined}>
                    {a.error ? <><b>{a.error.type || 'Error'}</b>{a.error.message ? `: ${a.error.message}` : ''}</> : <span class="muted">–</span>}
                  </td>
                  <td>{a !== shown && <button type="button" class="link" onClick={(e) => { e.stopPropagation(); setPick(a.n); }} aria-label={`Show attempt ${a.n}`}>show</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </>}
      {!attempts.length && err && <>
        <div class="section-label">Last error</div>
        <pre class="out err result-error"><strong>{err.type || 'Error'}</strong>{err.message ? `: ${err.message}` : ''}</pre>
      </>}
      {shown && <>
        <h3 class="attempt-head">Attempt {shown.n}{shown === attempts[attempts.length - 1] && attempts.length > 1 ? ' (the last)' : ''}</h3>
        <ResultView env={shown} actions={shown.id && fnId != null &&
          <a class="small" href={`#/fn/${fnId}/history?inv=${encodeURIComponent(shown.id)}`}>Its record in History</a>} />
      </>}
    </div>
  );
}
