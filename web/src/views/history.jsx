// views/history.jsx — a function's recent invocations (new ones arrive
// from the event stream), filtered by status and start kind; one opens
// with its payload, result, logs and timings, to replay or keep as a test
// event.  Beside them (?view=dead), its dead letters; an async call opens
// with its attempts, followed while it is unfinished.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { clock, ms, pretty } from '../format.js';
import { ResultView } from '../result.jsx';
import { go } from '../router.js';
import { store, useStore } from '../store.js';
import { checkEventName, upsertEvent } from '../testevents.js';
import { promptDialog, StartBadge, StatusBadge } from '../ui.jsx';
import { AsyncCallView, FollowState, useFollow } from '../asynccall.jsx';
import { preparePayload } from './invoke.jsx';
import { DeadLetters, useDeadLetters } from './deadletters.jsx';

const PAGE = 100;

function fromEvent(c) {
  return {
    id: c.id, function_id: c.function_id, status: c.status, start: c.start,
    created_at: c.at, duration_ms: c.duration_ms, init_ms: c.init_ms, queue_ms: c.queue_ms,
  };
}

export function HistoryView({ fn, selected, view }) {
  const dead = view === 'dead';
  const dl = useDeadLetters(fn.id);
  const [bump, setBump] = useState(0); // a redrive: the open call is loaded and followed again
  const base = `#/fn/${fn.id}/history`;
  const nDead = dl.list ? `${dl.list.length}${dl.next ? '+' : ''}` : null;
  useEffect(() => { if (dead) dl.reload(); }, [dead]);
  const onRedriven = (id) => {
    if (id && id !== selected) go(`/fn/${fn.id}/history?view=dead&inv=${encodeURIComponent(id)}`);
    setBump((b) => b + 1);
  };
  return (
    <>
      <nav class="subtabs" aria-label={`${fn.name} history`}>
        <a href={base} aria-current={dead ? undefined : 'page'}>Invocations</a>
        <a href={`${base}?view=dead`} aria-current={dead ? 'page' : undefined}>Dead letters
          {nDead != null && <span class={`count${dl.list.length ? ' some' : ''}`}>{nDead}</span>}</a>
      </nav>
      <div class="grid2 history">
        {dead ? <DeadLetters fn={fn} dl={dl} selected={selected} onRedriven={onRedriven} />
          : <Invocations fn={fn} selected={selected} />}
        {/* no dead letter to choose: no card to choose one in */}
        {(selected || !dead || (dl.list && dl.list.length > 0)) && <section class="card" aria-labelledby="inv-label">
          {selected ? <Detail key={`${selected}:${bump}`} fn={fn} id={selected} onRedriven={dl.reload} />
            : <><h2 id="inv-label">{dead ? 'Dead letter' : 'Invocation'}</h2>
              <p class="muted">{dead ? 'Choose a dead letter to see its payload, each attempt, its error and logs.' : 'Choose an invocation to see its payload, result, logs and timings.'}</p></>}
        </section>}
      </div>
    </>
  );
}

function Invocations({ fn, selected }) {
  const [rows, setRows] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [status, setStatus] = useState('');
  const [start, setStart] = useState('');
  const [loadingMore, setLoadingMore] = useState(false);
  const calls = useStore((s) => s.calls);

  const load = async (before) => {
    const q = `limit=${PAGE}` + (before ? `&before=${encodeURIComponent(before)}` : '');
    const r = await get(`/functions/${fn.id}/invocations?${q}`);
    return { list: r.invocations || [], next: r.next || null };
  };

  useEffect(() => {
    load().then((r) => { setRows(r.list); setNext(r.next); }).catch((e) => setError(e.message));
  }, [fn.id]);

  // calls that streamed in since the page loaded, newest first, no duplicates
  const all = useMemo(() => {
    if (!rows) return null;
    const seen = new Set(rows.map((r) => r.id));
    const fresh = [];
    for (let i = calls.length - 1; i >= 0; i--) {
      const c = calls[i];
      if (c.function_id === fn.id && !seen.has(c.id)) { seen.add(c.id); fresh.push(fromEvent(c)); }
    }
    return fresh.concat(rows);
  }, [rows, calls, fn.id]);

  const shown = all && all.filter((r) => (!status || r.status === status) && (!start || r.start === start));

  const more = async () => {
    setLoadingMore(true);
    try {
      const r = await load(next);
      setRows((o) => o.concat(r.list));
      setNext(r.next);
    } catch (e) { store.toast(e.message, 'error'); }
    setLoadingMore(false);
  };
  const open = (id) => go(`/fn/${fn.id}/history?inv=${encodeURIComponent(id)}`);

  return (
    <section class="card" aria-labelledby="hist-label">
      <header><h2 id="hist-label">Recent invocations</h2><span class="spacer" />{all && <span class="muted small">{shown.length} of {all.length} loaded</span>}</header>
      <div class="filters">
        <div class="field">
          <label for="h-status">Status</label>
          <select id="h-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">All</option><option value="success">success</option><option value="error">error</option>
            <option value="timeout">timeout</option><option value="crashed">crashed</option>
          </select>
        </div>
        <div class="field">
          <label for="h-start">Start</label>
          <select id="h-start" value={start} onChange={(e) => setStart(e.currentTarget.value)}>
            <option value="">All</option><option value="warm">warm</option><option value="stem">stem</option><option value="cold">cold</option>
          </select>
        </div>
      </div>
      {error && <p class="form-error" role="alert">{error}</p>}
      {!all && !error && <p class="muted">Loading…</p>}
      {all && all.length === 0 && <p class="empty">No invocations yet. <a href={`#/fn/${fn.id}/invoke`}>Invoke it</a>.</p>}
      {shown && shown.length > 0 && (
        <div class="table-wrap">
          <table class="hist-table">
            <caption class="sr-only">Invocations, newest first; choose one to see it</caption>
            <thead><tr><th>When</th><th>Status</th><th>Start</th><th class="num">Duration</th><th class="num hide-narrow">Init</th></tr></thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.id} class={'clickable' + (r.id === selected ? ' selected' : '')} onClick={() => open(r.id)}>
                  <td class="nowrap"><a href={`#/fn/${fn.id}/history?inv=${encodeURIComponent(r.id)}`} onClick={(e) => e.stopPropagation()}
                    aria-current={r.id === selected ? 'true' : undefined}>{clock(r.created_at)}</a></td>
                  <td><StatusBadge status={r.status} /></td>
                  <td><StartBadge start={r.start} /></td>
                  <td class="num">{ms(r.duration_ms)}</td>
                  <td class="num hide-narrow">{ms(r.init_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {all && all.length > 0 && shown.length === 0 && <p class="empty">No loaded invocation matches these filters.</p>}
      {next && <div class="row" style="margin-top:10px"><button type="button" onClick={more} disabled={loadingMore}>{loadingMore ? 'Loading…' : 'Load older'}</button></div>}
    </section>
  );
}

function Detail({ fn, id, onRedriven }) {
  const [rec, setRec] = useState(null);
  const [error, setError] = useState(null);
  const [replay, setReplay] = useState(null);
  const [busy, setBusy] = useState(false);
  const head = useRef(null);

  // one column on narrow screens: bring the chosen call into view
  useEffect(() => {
    if (rec && head.current && innerWidth < 820) head.current.scrollIntoView({ block: 'start' });
  }, [!!rec]);

  useEffect(() => {
    let tries = 0, gone = false;
    const fetchIt = () => get(`/invocations/${encodeURIComponent(id)}`).then((r) => !gone && setRec(r)).catch((e) => {
      // records are written in batches about every 100 ms: a call that just
      // streamed in may not be there yet
      if (e.status === 404 && tries++ < 5 && !gone) setTimeout(fetchIt, 300);
      else if (!gone) setError(e.status === 404 ? 'This invocation is not (or no longer) recorded.' : e.message);
    });
    fetchIt();
    return () => { gone = true; };
  }, [id]);

  if (error) return <><h2 id="inv-label">Invocation</h2><p class="form-error" role="alert">{error}</p></>;
  if (!rec) return <><h2 id="inv-label">Invocation</h2><p class="muted">Loading…</p></>;
  if (rec.async) return <AsyncDetail fn={fn} rec={rec} onRedriven={onRedriven} />;
  // null stands for a payload over 64 KB, which records do not keep
  const hasPayload = 'payload' in rec && rec.payload !== null;
  const payloadText = hasPayload && rec.payload !== null ? pretty(rec.payload) : null;

  const doReplay = async () => {
    setBusy(true);
    try {
      const r0 = performance.now();
      const env = await post(`/functions/${fn.id}/execute`, JSON.stringify(rec.payload), { envelope: true });
      setReplay({ env, rtt: performance.now() - r0 });
    } catch (e) { store.toast(`Replay failed: ${e.message}`, 'error'); }
    setBusy(false);
  };
  const saveEvent = async () => {
    const name = await promptDialog({ title: 'Save as test event', label: 'Event name', value: `replay ${clock(rec.created_at)}`, action: 'Save', maxLength: 64, validate: checkEventName });
    if (name == null) return;
    try {
      await upsertEvent(fn.id, name.trim(), rec.payload);
      store.toast(`Saved test event "${name.trim()}"`);
    } catch (e) { store.toast(`Could not save the event: ${e.message}`, 'error'); }
  };
  const openInInvoke = () => { preparePayload(fn.id, payloadText + '\n'); go(`/fn/${fn.id}/invoke`); };

  return (
    <>
      <header ref={head}><h2 id="inv-label">Invocation at {clock(rec.created_at)}</h2></header>
      <div class="row" style="margin-bottom:12px">
        <button type="button" class="primary" onClick={doReplay} disabled={!hasPayload || busy}>{busy ? 'Running…' : 'Replay'}</button>
        <button type="button" onClick={saveEvent} disabled={!hasPayload}>Save as test event</button>
        <button type="button" onClick={openInInvoke} disabled={payloadText == null}>Open in Invoke</button>
      </div>
      {!hasPayload && <p class="hint">{'payload' in rec ? 'Its payload was over 64 KB, which records do not keep,' : 'This hearthd does not keep payloads in its records,'} so the call cannot be replayed from here.</p>}
      <div class="section-label">Payload</div>
      <pre class="out inv-payload">{hasPayload ? payloadText : <span class="muted">(not kept)</span>}</pre>
      <ResultView env={rec} />
      {replay && <div style="margin-top:16px;border-top:1px solid var(--border);padding-top:12px">
        <h3 style="margin-bottom:8px">Replayed just now</h3>
        <ResultView env={replay.env} rtt={replay.rtt} />
      </div>}
    </>
  );
}

// An async call: its payload, its state (followed while unfinished), each
// attempt, and Redrive when it is a dead letter.
function AsyncDetail({ fn, rec, onRedriven }) {
  const f = useFollow([rec.id], { initial: { [rec.id]: rec }, onChange: (c) => { if (c[rec.id] && c[rec.id].status !== 'running' && c[rec.id].status !== 'queued') onRedriven(); } });
  const call = f.calls[rec.id] || rec;
  const head = useRef(null);
  useEffect(() => { if (head.current && innerWidth < 820) head.current.scrollIntoView({ block: 'start' }); }, []);
  const hasPayload = call.payload !== undefined && call.payload !== null;
  const openInInvoke = () => { preparePayload(fn.id, pretty(call.payload) + '\n'); go(`/fn/${fn.id}/invoke`); };
  return (
    <>
      <header ref={head}><h2 id="inv-label">Async call accepted at {clock(call.created_at)}</h2></header>
      <div class="row" style="margin-bottom:12px">
        <button type="button" onClick={openInInvoke} disabled={!hasPayload}>Open in Invoke</button>
      </div>
      <FollowState f={f} />
      <div class="section-label">Payload</div>
      <pre class="out inv-payload">{hasPayload ? pretty(call.payload) : <span class="muted">(not kept)</span>}</pre>
      <AsyncCallView call={call} fnId={fn.id} onRedrive={(r) => { f.restart(rec.id, r); onRedriven(); }} />
    </>
  );
}
