// views/invoke.jsx — a JSON payload editor (invalid JSON is flagged before
// anything is sent), saved test events, and a run mode: one call
// (Ctrl/Cmd-Enter), a batch of N through POST /functions/execute, or N
// asynchronous calls (?async=1), followed until they finish; and the result.
import { useEffect, useState } from 'preact/hooks';
import { post } from '../api.js';
import { CodeEditor } from '../editor.jsx';
import { ms } from '../format.js';
import { ResultView } from '../result.jsx';
import { AsyncCallView, CallBadge, FollowState, useFollow } from '../asynccall.jsx';
import { store } from '../store.js';
import { checkEventName, loadEvents, saveEvents } from '../testevents.js';
import { getToken } from '../api.js';
import { promptDialog, confirmDialog, StartBadge, StatusBadge } from '../ui.jsx';

// Kept across tab switches (the view remounts): per function, the draft
// payload, the last result and the last batch.
const memo = new Map();
const mem = (id) => {
  if (!memo.has(id)) memo.set(id, { text: '{\n  "name": "Hearth"\n}\n', result: null, rtt: null, batch: null, queued: null, eventName: '', mode: 'one', nBatch: '10', nAsync: '1' });
  return memo.get(id);
};
// The history view hands a payload over with this.
export function preparePayload(id, text) { mem(id).text = text; }

export function checkJson(text) {
  if (!text.trim()) return { ok: false, message: 'The payload is empty: write a JSON value, e.g. {}' };
  try {
    JSON.parse(text);
    return { ok: true };
  } catch (e) {
    return { ok: false, message: `Invalid JSON: ${e.message.replace(/^JSON\.parse: /, '')}` };
  }
}

export function InvokeView({ fn }) {
  const m = mem(fn.id);
  const [text, setText] = useState(m.text);
  const [textVersion, setTextVersion] = useState(0); // bumped when a saved event replaces the text
  const [result, setResult] = useState(m.result);
  const [rtt, setRtt] = useState(m.rtt);
  const [batch, setBatch] = useState(m.batch);
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState(null);
  const [events, setEvents] = useState(null);
  const [eventsError, setEventsError] = useState(null);
  const [eventName, setEventName] = useState(m.eventName);
  const [queued, setQueued] = useState(m.queued); // the async calls last sent: {accepted, rtt, count, calls}
  const [mode, setMode] = useState(m.mode); // one | batch | async
  const [nBatch, setNBatch] = useState(m.nBatch);
  const [nAsync, setNAsync] = useState(m.nAsync);
  const [showBad, setShowBad] = useState(false);
  const json = checkJson(text);

  useEffect(() => { Object.assign(m, { text, result, rtt, batch, queued, eventName, mode, nBatch, nAsync }); });

  useEffect(() => {
    loadEvents(fn.id).then(setEvents).catch((e) => {
      setEvents([]);
      setEventsError(e.status === 404 ? 'This hearthd keeps no test events (GET /functions/{id}/test-events answers 404).' : e.message);
    });
  }, [fn.id]);

  async function runOne() {
    const r0 = performance.now();
    const env = await post(`/functions/${fn.id}/execute`, text, { envelope: true });
    setRtt(performance.now() - r0);
    setResult(env);
    setBatch(null);
    setQueued(null);
  }

  async function runBatch(count) {
    const payload = JSON.parse(text);
    const invocations = Array.from({ length: count }, () => ({ function_id: fn.id, payload }));
    const r0 = performance.now();
    const r = await post('/functions/execute', { invocations });
    const wall = performance.now() - r0;
    const results = (r && r.results) || [];
    setBatch({ results, wall, count });
    const first = results.find((x) => x && x.status) || null;
    setResult(first);
    setRtt(null);
    setQueued(null);
  }

  // 202 at once: one call through ?async=1, several through the batch's
  async function runAsync(count) {
    const r0 = performance.now();
    let accepted;
    if (count === 1) {
      accepted = [await post(`/functions/${fn.id}/execute?async=1`, text)];
    } else {
      const payload = JSON.parse(text);
      const r = await post('/functions/execute?async=1', { invocations: Array.from({ length: count }, () => ({ function_id: fn.id, payload })) });
      accepted = (r && r.results) || [];
    }
    setQueued({ accepted, rtt: performance.now() - r0, count, calls: {}, at: Date.now() });
    setResult(null);
    setBatch(null);
  }

  async function run() {
    if (running) return;
    if (!json.ok) { setShowBad(true); return; }
    setRunError(null);
    setRunning(true);
    try {
      if (mode !== 'one') {
        const count = Number(mode === 'batch' ? nBatch : nAsync);
        if (!Number.isInteger(count) || count < 1 || count > 100) { setRunError('Calls: a whole number from 1 to 100'); return; }
        await (mode === 'batch' ? runBatch(count) : runAsync(count));
      } else {
        await runOne();
      }
    } catch (e) {
      setRunError(e.status === 503 ? `${e.message} (is Docker running?)` : e.status === 429 && mode === 'async' ? `${e.message} (the async queue is full: try again later)` : e.message);
    } finally {
      setRunning(false);
    }
  }

  // Ctrl/Cmd-Enter anywhere on this view runs (the editor binds it too)
  useEffect(() => {
    const onKey = (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) { e.preventDefault(); run(); }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  const pick = (name) => {
    setEventName(name);
    const ev = events && events.find((e) => e.name === name);
    if (ev) { setText(JSON.stringify(ev.payload, null, 2) + '\n'); setTextVersion((x) => x + 1); }
  };

  async function saveAs(defaultName) {
    if (!json.ok) { setShowBad(true); return; }
    const names = new Set((events || []).map((e) => e.name));
    const name = await promptDialog({
      title: 'Save test event', label: 'Event name', value: defaultName || '', action: 'Save', maxLength: 64,
      validate: (v) => checkEventName(v) || (names.has(v.trim()) && v.trim() !== defaultName ? `"${v.trim()}" exists: pick it and press Save to overwrite` : null),
    });
    if (name == null) return;
    await store_(name.trim());
  }
  async function store_(name) {
    const payload = JSON.parse(text);
    const list = (events || []).filter((e) => e.name !== name);
    const i = (events || []).findIndex((e) => e.name === name);
    if (i >= 0) list.splice(i, 0, { name, payload }); else list.push({ name, payload });
    try {
      setEvents(await saveEvents(fn.id, list));
      setEventName(name);
      store.toast(`Saved test event "${name}"`);
    } catch (e) {
      store.toast(`Could not save the event: ${e.message}`, 'error');
    }
  }
  async function removeEvent() {
    if (!eventName) return;
    if (!(await confirmDialog({ title: `Delete test event "${eventName}"?`, body: <p>The saved payload is removed for everyone using this hearthd.</p>, action: 'Delete', danger: true }))) return;
    try {
      setEvents(await saveEvents(fn.id, events.filter((e) => e.name !== eventName)));
      setEventName('');
    } catch (e) { store.toast(`Could not delete the event: ${e.message}`, 'error'); }
  }

  const bad = !json.ok && (showBad || text.trim() !== '');
  const hasEvents = events && !eventsError;
  return (
    <div class="grid2 invoke">
      <section class="card" aria-labelledby="payload-label">
        <header><h2 id="payload-label">Event payload (JSON)</h2></header>
        <div class="events-bar">
          <div class="field">
            <label for="ev-pick">Saved test events</label>
            <select id="ev-pick" value={eventName} onChange={(e) => pick(e.currentTarget.value)} disabled={!hasEvents}>
              <option value="">{hasEvents ? (events.length ? '— choose an event —' : 'none saved yet') : eventsError ? 'unavailable' : 'loading…'}</option>
              {hasEvents && events.map((e) => <option key={e.name} value={e.name}>{e.name}</option>)}
            </select>
          </div>
          <button type="button" onClick={() => (eventName ? store_(eventName) : saveAs(''))} disabled={!hasEvents}
            title={eventName ? `Overwrite "${eventName}" with this payload` : 'Save this payload as a new test event'}>Save</button>
          <button type="button" onClick={() => saveAs('')} disabled={!hasEvents}>Save as…</button>
          <button type="button" onClick={removeEvent} disabled={!eventName} aria-label={eventName ? `Delete test event ${eventName}` : 'Delete test event'}>Delete</button>
        </div>
        {eventsError && <p class="hint">{eventsError}</p>}
        <CodeEditor id="payload-editor" lang="json" value={text} version={textVersion} onChange={(v) => { setText(v); setShowBad(false); }} onRun={run}
          labelledBy="payload-label" describedBy="payload-status" minLines={10} invalid={bad} />
        <p id="payload-status" class={`json-status ${bad ? 'bad' : json.ok ? 'good' : ''}`} role={bad ? 'alert' : undefined}>
          {bad ? json.message : json.ok ? '✓ Valid JSON' : ''}
        </p>
        <div class="run-mode">
          <span class="label" id="run-mode-label">Run as</span>
          <div class="seg" role="radiogroup" aria-labelledby="run-mode-label">
            {MODES.map(([k, label, title]) => (
              <label key={k} title={title}><input type="radio" name="run-mode" value={k} checked={mode === k} onChange={() => setMode(k)} /><span>{label}</span></label>
            ))}
          </div>
          {mode === 'batch' && <label class="count" for="batch-n">calls
            <input id="batch-n" type="number" min="1" max="100" value={nBatch} onInput={(e) => setNBatch(e.currentTarget.value)} />
          </label>}
          {mode === 'async' && <label class="count" for="async-n">calls
            <input id="async-n" type="number" min="1" max="100" value={nAsync} onInput={(e) => setNAsync(e.currentTarget.value)} aria-describedby="async-hint" />
          </label>}
        </div>
        {mode === 'async' && <p class="hint" id="async-hint">Answered at once (202) and kept on disk; it runs when there is room,
          is retried {retries(fn)} if it fails, and becomes a <a href={`#/fn/${fn.id}/history?view=dead`}>dead letter</a> when every try failed.</p>}
        <div class="row run-row">
          <button class="primary run-btn" type="button" onClick={run} disabled={running} aria-keyshortcuts="Control+Enter Meta+Enter">
            {running ? (mode === 'async' ? 'Queueing…' : 'Running…') : runLabel(mode, mode === 'batch' ? nBatch : nAsync)}
          </button>
          <span class="muted small"><kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>Enter</kbd></span>
        </div>
        {runError && <p class="form-error" role="alert" style="margin-top:10px">{runError}</p>}
        <CallItYourself fn={fn} text={json.ok ? text : '{}'} mode={mode} count={Number(nAsync)} queued={queued} />
      </section>

      <section class="card" aria-labelledby="result-label" aria-live="polite" aria-busy={running ? 'true' : 'false'}>
        <header><h2 id="result-label">{queued ? (queued.count > 1 ? 'Async calls' : 'Async call') : batch ? 'Batch results' : 'Result'}</h2></header>
        {queued ? <AsyncResults key={queued.at} fn={fn} q={queued} />
          : <>
            {batch && <BatchList batch={batch} current={result} onPick={setResult} />}
            {result ? <ResultView env={result} rtt={rtt} /> : !batch && <p class="muted">Run the function to see its result, logs and timings here.</p>}
          </>}
      </section>
    </div>
  );
}

const MODES = [
  ['one', 'One call', 'Call it and wait for the result (POST /functions/{id}/execute)'],
  ['batch', 'Batch', 'Several calls at once, answered together (POST /functions/execute)'],
  ['async', 'Async', 'Queue the call and get its id at once; it runs in the background (?async=1)'],
];
const runLabel = (mode, n) => mode === 'one' ? 'Run' : mode === 'batch' ? `Run ${n} at once`
  : Number(n) === 1 ? 'Queue call' : `Queue ${n} calls`;
const retries = (fn) => {
  const r = fn.async_retries ?? 2;
  return r === 0 ? 'never (async_retries is 0)' : r === 1 ? 'once' : `up to ${r} times`;
};

// The async calls just sent: what the 202 said, then each call as it goes.
function AsyncResults({ fn, q }) {
  const ids = q.accepted.filter((a) => a && a.id).map((a) => a.id);
  // the snapshot lives in the memo too, so a tab switch shows it at once
  const f = useFollow(ids, { initial: q.calls, onChange: (c) => { q.calls = c; } });
  const [sel, setSel] = useState(ids[0] || null);
  const callOf = (id) => f.calls[id] || { id, function_id: fn.id, status: 'queued', attempts: [] };
  const single = q.count === 1;
  const tally = {};
  for (const id of ids) { const s = callOf(id).status; tally[s] = (tally[s] || 0) + 1; }
  const failed = q.accepted.length - ids.length;
  return (
    <>
      <p class="accepted small">
        <span class="badge plain">202 Accepted</span>{' '}
        {single ? <>queued in {ms(q.rtt)}; followed below</>
          : <>{ids.length} of {q.count} queued in {ms(q.rtt)}{failed > 0 && `, ${failed} refused`}.
            {' '}Now: {Object.entries(tally).map(([k, c], i) => <span key={k}>{i ? ', ' : ''}{c} {k}</span>)}</>}
      </p>
      <FollowState f={f} what={single ? 'call' : 'calls'} />
      {!single && (
        <div class="batch-list table-wrap" style="margin-bottom:14px">
          <table class="batch-table async-table">
            <thead><tr><th class="num">#</th><th>Status</th><th class="num">Tries</th><th class="hide-narrow">Start</th><th class="num">Duration</th><th><span class="sr-only">Show</span></th></tr></thead>
            <tbody>
              {q.accepted.map((a, i) => {
                if (!a || !a.id) return (
                  <tr key={i}><td class="num">{i + 1}</td>
                    <td colSpan={5}><span class="badge error">{(a && a.error && a.error.code) || 'refused'}</span> <span class="small">{a && a.error && a.error.message}</span></td></tr>
                );
                const c = callOf(a.id), at = c.attempts || [], last = at[at.length - 1];
                return (
                  <tr key={a.id} class={a.id === sel ? 'selected' : ''} data-call={a.id}>
                    <td class="num">{i + 1}</td>
                    <td><CallBadge status={c.status} /></td>
                    <td class="num">{at.length}</td>
                    <td class="hide-narrow">{last ? <StartBadge start={last.start} /> : <span class="muted">–</span>}</td>
                    <td class="num">{last ? ms(last.duration_ms) : '–'}</td>
                    <td>{a.id !== sel && <button type="button" class="link" onClick={() => setSel(a.id)} aria-label={`Show call ${i + 1}`}>show</button>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {sel && <AsyncCallView key={sel} call={callOf(sel)} fnId={fn.id} onRedrive={(r) => f.restart(sel, r)} linkDead />}
    </>
  );
}

function BatchList({ batch, current, onPick }) {
  const ok = batch.results.filter((r) => r && r.status === 'success').length;
  const kinds = {};
  for (const r of batch.results) if (r && r.start) kinds[r.start] = (kinds[r.start] || 0) + 1;
  return (
    <div style="margin-bottom:14px">
      <p class="small" style="margin-top:0">
        {batch.count} calls in {ms(batch.wall)}: {ok} succeeded
        {Object.entries(kinds).map(([k, c]) => <span key={k}> · {c} {k}</span>)}
      </p>
      <div class="batch-list table-wrap">
        <table class="batch-table">
          <thead><tr><th class="num">#</th><th>Status</th><th>Start</th><th class="num">Duration</th><th class="num">Init</th><th><span class="sr-only">Show</span></th></tr></thead>
          <tbody>
            {batch.results.map((r, i) => (
              <tr key={i} class={r === current ? 'selected' : ''}>
                <td class="num">{i + 1}</td>
                <td>{r && r.status ? <StatusBadge status={r.status} /> : <span class="badge error" title={r && r.error && r.error.message}>{(r && r.error && r.error.code) || 'failed'}</span>}</td>
                <td><StartBadge start={r && r.start} /></td>
                <td class="num">{r && ms(r.duration_ms)}</td>
                <td class="num">{r && ms(r.init_ms)}</td>
                <td>{r && r.status && <button type="button" class="link" onClick={() => onPick(r)} aria-label={`Show call ${i + 1}`}>show</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

// The same call from a shell: what to paste into a terminal or a script.
function CallItYourself({ fn, text, mode, count, queued }) {
  const base = location.origin;
  const auth = getToken() ? ` -H "Authorization: Bearer $HEARTH_TOKEN"` : '';
  let body;
  try { body = JSON.stringify(JSON.parse(text)); } catch { body = '{}'; }
  const sh = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const name = encodeURIComponent(fn.name);
  const lines = [];
  let hint;
  if (mode === 'async') {
    if (count > 1 && count <= 100) {
      const batch = `{"invocations":[${Array.from({ length: count }, () => `{"function_id":${fn.id},"payload":${body}}`).join(',')}]}`;
      lines.push(`curl -s${auth} -X POST '${base}/functions/execute?async=1' -d ${sh(batch)}`);
    } else {
      lines.push(`curl -s${auth} -X POST '${base}/functions/${name}/execute?async=1' -d ${sh(body)}`);
    }
    const last = queued && queued.accepted.find((a) => a && a.id);
    lines.push(`curl -s${auth} ${base}/invocations/${last ? last.id : 'ID'}`);
    lines.push(`curl -s${auth} ${base}/functions/${name}/dead-letters`);
    hint = `The first line answers 202 with ${count > 1 ? 'an id per call' : 'the call\'s id'}; the second shows a call and its attempts${last ? ' (here, the last one queued)' : ' (put the id in)'}; the third lists the calls that failed for good`;
  } else {
    lines.push(`curl -s${auth} -X POST ${base}/functions/${name}/execute -d ${sh(body)}`);
    hint = 'The first line answers with the same envelope as above';
  }
  if (fn.route) { lines.push(`curl -s${fn.route_auth === 'none' ? '' : auth} ${base}/fn${fn.route}`); hint += `; the last calls its function URL (synchronously)`; }
  return (
    <details class="call-it">
      <summary>Call it from a shell</summary>
      <pre class="out small">{lines.join('\n')}</pre>
      <p class="hint">{hint}.</p>
    </details>
  );
}
