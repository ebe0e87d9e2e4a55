// views/invoke.jsx — a JSON payload editor (invalid JSON is flagged before
// anything is sent), saved test events, one call (Ctrl/Cmd-Enter) or a
// batch of N through POST /functions/execute, and the result.
import { useEffect, useState } from 'preact/hooks';
import { post } from '../api.js';
import { CodeEditor } from '../editor.jsx';
import { ms } from '../format.js';
import { ResultView } from '../result.jsx';
import { store } from '../store.js';
import { checkEventName, loadEvents, saveEvents } from '../testevents.js';
import { getToken } from '../api.js';
import { promptDialog, confirmDialog, StartBadge, StatusBadge } from '../ui.jsx';

// Kept across tab switches (the view remounts): per function, the draft
// payload, the last result and the last batch.
const memo = new Map();
const mem = (id) => {
  if (!memo.has(id)) memo.set(id, { text: '{\n  "name": "Hearth"\n}\n', result: null, rtt: null, batch: null, eventName: '' });
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
  const [n, setN] = useState('10');
  const [batchMode, setBatchMode] = useState(false);
  const [showBad, setShowBad] = useState(false);
  const json = checkJson(text);

  useEffect(() => { Object.assign(m, { text, result, rtt, batch, eventName }); });

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
  }

  async function run() {
    if (running) return;
    if (!json.ok) { setShowBad(true); return; }
    setRunError(null);
    setRunning(true);
    try {
      if (batchMode) {
        const count = Number(n);
        if (!Number.isInteger(count) || count < 1 || count > 100) { setRunError('Batch size: a whole number from 1 to 100'); return; }
        await runBatch(count);
      } else {
        await runOne();
      }
    } catch (e) {
      setRunError(e.status === 503 ? `${e.message} (is Docker running?)` : e.message);
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
        <div class="row">
          <button class="primary run-btn" type="button" onClick={run} disabled={running} aria-keyshortcuts="Control+Enter Meta+Enter">
            {running ? 'Running…' : batchMode ? `Run ${n} at once` : 'Run'}
          </button>
          <span class="muted small"><kbd>Ctrl</kbd>/<kbd>⌘</kbd>+<kbd>Enter</kbd></span>
          <span class="spacer" />
          <label class="row" style="font-weight:500;margin:0;gap:6px">
            <input type="checkbox" checked={batchMode} onChange={(e) => setBatchMode(e.currentTarget.checked)} /> Batch
          </label>
          {batchMode && <label class="row" style="font-weight:500;margin:0;gap:6px" for="batch-n">calls
            <input id="batch-n" type="number" min="1" max="100" value={n} style="width:80px" onInput={(e) => setN(e.currentTarget.value)} />
          </label>}
        </div>
        {runError && <p class="form-error" role="alert" style="margin-top:10px">{runError}</p>}
        <CallItYourself fn={fn} text={json.ok ? text : '{}'} />
      </section>

      <section class="card" aria-labelledby="result-label" aria-live="polite" aria-busy={running ? 'true' : 'false'}>
        <header><h2 id="result-label">{batch ? 'Batch results' : 'Result'}</h2></header>
        {batch && <BatchList batch={batch} current={result} onPick={setResult} />}
        {result ? <ResultView env={result} rtt={rtt} /> : !batch && <p class="muted">Run the function to see its result, logs and timings here.</p>}
      </section>
    </div>
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
function CallItYourself({ fn, text }) {
  const base = location.origin;
  const auth = getToken() ? ` -H "Authorization: Bearer $HEARTH_TOKEN"` : '';
  let body;
  try { body = JSON.stringify(JSON.parse(text)); } catch { body = '{}'; }
  const q = `'${body.replace(/'/g, `'\\''`)}'`;
  const lines = [
    `curl -s${auth} -X POST ${base}/functions/${encodeURIComponent(fn.name)}/execute -d ${q}`,
  ];
  if (fn.route) lines.push(`curl -s${fn.route_auth === 'none' ? '' : auth} ${base}/fn${fn.route}`);
  return (
    <details class="call-it">
      <summary>Call it from a shell</summary>
      <pre class="out small">{lines.join('\n')}</pre>
      <p class="hint">The first line answers with the same envelope as above{fn.route ? '; the second calls its function URL' : ''}.</p>
    </details>
  );
}
