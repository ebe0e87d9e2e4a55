// views/deadletters.jsx — a function's dead letters (async calls that
// failed on every try or expired), newest first, each with its last error
// and a Redrive button, and Redrive all.  The list is loaded again after a
// redrive and when a failed call of the function streams in.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { clock } from '../format.js';
import { REASONS, redrive } from '../asynccall.jsx';
import { store, useStore } from '../store.js';
import { confirmDialog } from '../ui.jsx';

const PAGE = 50;

export function useDeadLetters(fnId) {
  const [list, setList] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const timer = useRef(null);
  const alive = useRef(true);

  const load = async () => {
    try {
      const r = await get(`/functions/${fnId}/dead-letters?limit=${PAGE}`);
      if (!alive.current) return;
      setList(r.dead_letters || []);
      setNext((r.dead_letters || []).length ? r.next || null : null);
      setError(null);
    } catch (e) {
      if (alive.current) setError(e.message);
    }
  };
  // at most one load in 600 ms, however many reasons there are
  const reload = () => {
    if (timer.current) return;
    timer.current = setTimeout(() => { timer.current = null; load(); }, 600);
  };
  useEffect(() => {
    alive.current = true;
    load();
    return () => { alive.current = false; clearTimeout(timer.current); timer.current = null; };
  }, [fnId]);

  // a call of this function that did not succeed may have made a dead letter
  const calls = useStore((s) => s.calls);
  const lastBad = useMemo(() => {
    for (let i = calls.length - 1; i >= 0; i--) if (calls[i].function_id === fnId && calls[i].status !== 'success') return calls[i].id;
    return null;
  }, [calls, fnId]);
  const first = useRef(true);
  useEffect(() => { if (first.current) first.current = false; else reload(); }, [lastBad]);

  const more = async () => {
    setLoadingMore(true);
    try {
      const r = await get(`/functions/${fnId}/dead-letters?limit=${PAGE}&before=${encodeURIComponent(next)}`);
      const got = r.dead_letters || [];
      setList((o) => o.concat(got));
      setNext(got.length ? r.next || null : null);
    } catch (e) { store.toast(e.message, 'error'); }
    setLoadingMore(false);
  };
  return { list, next, error, reload, more, loadingMore };
}

const errText = (e) => e ? `${e.type || 'Error'}${e.message ? `: ${e.message}` : ''}` : '';

export function DeadLetters({ fn, dl, selected, onRedriven }) {
  const [busy, setBusy] = useState(null); // a call's id, or 'all'
  const href = (id) => `#/fn/${fn.id}/history?view=dead&inv=${encodeURIComponent(id)}`;
  const one = async (id) => {
    setBusy(id);
    const r = await redrive(fn.id, id);
    setBusy(null);
    if (r) { dl.reload(); onRedriven(id, r); }
  };
  const all = async () => {
    const n = dl.list.length;
    const ok = await confirmDialog({
      title: `Redrive ${dl.next ? 'every' : n === 1 ? 'the' : `all ${n}`} dead letter${n === 1 && !dl.next ? '' : 's'}?`,
      body: <p>Each call is queued again with fresh retries and runs the function's current code. Calls that fail again come back here.</p>,
      action: 'Redrive all',
    });
    if (!ok) return;
    setBusy('all');
    try {
      const r = await post(`/functions/${fn.id}/dead-letters/redrive`);
      const k = r && r.redriven != null ? r.redriven : n;
      store.toast(k === 1 ? '1 call queued again' : `${k} calls queued again`);
      dl.reload();
      onRedriven(null, r);
    } catch (e) {
      store.toast(`Could not redrive: ${e.message}`, 'error');
    }
    setBusy(null);
  };
  const list = dl.list;
  return (
    <section class="card" aria-labelledby="dl-label">
      <header>
        <h2 id="dl-label">Dead letters</h2>
        <span class="spacer" />
        {list && list.length > 0 && <button type="button" class="redrive-all" onClick={all} disabled={!!busy}>{busy === 'all' ? 'Redriving…' : 'Redrive all'}</button>}
        <button type="button" onClick={dl.reload} aria-label="Refresh the dead letters">Refresh</button>
      </header>
      {dl.error && <p class="form-error" role="alert">{dl.error}</p>}
      {!list && !dl.error && <p class="muted">Loading…</p>}
      {list && list.length === 0 && <p class="empty dl-empty">No dead letters: an async call that fails on every retry, or waits longer than its maximum age, lands here to be redriven.</p>}
      {list && list.length > 0 && <>
        <p class="hint" style="margin:0 0 8px">Async calls that failed on every try or waited too long, newest first. Redrive queues one again with fresh retries.</p>
        <div class="table-wrap">
          <table class="cards dl-table">
            <caption class="sr-only">Dead letters, newest first; choose one to see its attempts</caption>
            <thead><tr><th>When</th><th>Reason and last error</th><th class="num">Tries</th><th><span class="sr-only">Redrive</span></th></tr></thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} data-call={c.id} class={'clickable' + (c.id === selected ? ' selected' : '')} onClick={() => { location.hash = href(c.id); }}>
                  <td class="nowrap" data-label="When">
                    <a href={href(c.id)} onClick={(e) => e.stopPropagation()} aria-current={c.id === selected ? 'true' : undefined}>{clock(c.finished_at || c.created_at)}</a>
                  </td>
                  <td class="dl-why wide-cell" data-label="Reason">
                    <div>
                      <span class={`badge ${c.reason === 'expired' ? 'expired' : 'failed'}`}
                        title={c.reason === 'expired' ? 'waited longer than async_max_age' : 'every try failed'}>{REASONS[c.reason] || c.reason || c.status}</span>
                      {c.redrives > 0 && <span class="muted small nowrap"> redriven {c.redrives}×</span>}
                      <div class="dl-err" title={errText(c.last_error) || undefined}>
                        {c.last_error ? <><b>{c.last_error.type || 'Error'}</b>{c.last_error.message ? `: ${c.last_error.message}` : ''}</> : <span class="muted">no error recorded</span>}
                      </div>
                    </div>
                  </td>
                  <td class="num" data-label="Tries">{c.attempts}</td>
                  <td class="dl-act" data-label="">
                    <button type="button" class="redrive" onClick={(e) => { e.stopPropagation(); one(c.id); }} disabled={!!busy}
                      aria-label={`Redrive the call that failed at ${clock(c.finished_at || c.created_at)}`}>{busy === c.id ? 'Redriving…' : 'Redrive'}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {dl.next && <div class="row" style="margin-top:10px"><button type="button" onClick={dl.more} disabled={dl.loadingMore}>{dl.loadingMore ? 'Loading…' : 'Load older'}</button></div>}
      </>}
    </section>
  );
}
