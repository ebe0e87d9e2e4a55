// views/pool.jsx — every container, live from the event stream (function,
// revision, state, origin, age, calls served), and recent calls' latency
// by start kind.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { store, useStore } from '../store.js';
import { age } from '../format.js';
import { Badge, LangBadge } from '../ui.jsx';
import { KINDS, UChart, latencyOpts } from '../charts.jsx';

const WINDOWS = [[300, 'last 5 minutes'], [900, 'last 15 minutes'], [3600, 'last hour']];

export function PoolView() {
  const pool = useStore((s) => s.pool);
  const calls = useStore((s) => s.calls);
  const fns = useStore((s) => s.functions);
  const [now, setNow] = useState(performance.now());
  const [win, setWin] = useState(300);
  const [fnFilter, setFnFilter] = useState('');
  const seen = useRef(null);

  // the chart starts with the last hour's records of each function, then
  // grows with the stream
  useEffect(() => { seedCalls(); }, [fns && fns.length]);

  // ages move on between events
  useEffect(() => {
    const t = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(t);
  }, []);

  const containers = pool ? pool.containers : [];
  // rows that are new since the last event flash once
  const fresh = useMemo(() => {
    const prev = seen.current;
    const ids = new Set(containers.map((c) => c.container));
    seen.current = ids;
    if (!prev) return new Set();
    return new Set([...ids].filter((id) => !prev.has(id)));
  }, [containers]);

  const counts = { total: containers.length, idle: 0, busy: 0, starting: 0, stem: 0 };
  for (const c of containers) {
    if (c.stem) counts.stem++;
    else if (c.state in counts) counts[c.state]++;
  }
  const sorted = containers.slice().sort((a, b) =>
    (a.stem - b.stem) || String(a.function || '').localeCompare(String(b.function || '')) || (a.age_s - b.age_s));
  const since = pool ? (now - pool.at) / 1000 : 0;

  const data = useMemo(() => {
    const cutoff = Date.now() - win * 1000;
    const sel = calls.filter((c) => c.t >= cutoff && (!fnFilter || String(c.function_id) === fnFilter));
    const xs = sel.map((c) => c.t / 1000);
    const val = (c) => Math.max(0.001, c.total_ms ?? ((c.queue_ms || 0) + (c.init_ms || 0) + (c.duration_ms || 0)));
    return [xs, ...KINDS.map((k) => sel.map((c) => (c.start === k ? val(c) : null)))];
  }, [calls, win, fnFilter, Math.floor(now / 5000)]); // the window rolls on every 5 s
  const build = useMemo(() => latencyOpts(win), [win]);
  const n = data[0].length;
  const byKind = KINDS.map((k, i) => [k, data[i + 1].filter((v) => v != null).length]);

  return (
    <>
      <div class="page-head">
        <h1>Live pool</h1>
        <span class="sub">{pool ? (pool.engine_up ? 'updating live' : 'Docker is down') : 'waiting for the first update…'}</span>
      </div>
      <div class="stats" role="group" aria-label="Containers">
        <div class="stat"><div class="v" data-stat="total">{counts.total}</div><div class="k">containers</div></div>
        <div class="stat"><div class="v" data-stat="idle">{counts.idle}</div><div class="k">warm, idle</div></div>
        <div class="stat"><div class="v" data-stat="busy">{counts.busy}</div><div class="k">busy</div></div>
        <div class="stat"><div class="v" data-stat="starting">{counts.starting}</div><div class="k">starting</div></div>
        <div class="stat"><div class="v" data-stat="stem">{counts.stem}</div><div class="k">stem cells</div></div>
      </div>

      <section class="card" aria-labelledby="containers-label">
        <header><h2 id="containers-label">Containers</h2></header>
        {containers.length === 0 ? <p class="empty">{pool ? 'No containers right now.' : 'Loading…'}</p> : (
          <div class="table-wrap">
            <table class="cards compact pool-table">
              <thead><tr><th>Container</th><th>Function</th><th class="num">Revision</th><th>State</th><th>Origin</th><th class="num">Age</th><th class="num">Calls served</th></tr></thead>
              <tbody>
                {sorted.map((c) => (
                  <tr key={c.container} class={fresh.has(c.container) ? 'flash' : ''} data-container={c.container} data-fn={c.function || ''}>
                    <td class="title-cell" data-label="Container"><code>{c.container}</code></td>
                    <td class="wide-cell" data-label="Function">
                      {c.stem ? <span><Badge kind="stem">stem cell</Badge> <LangBadge lang={c.language} /></span>
                        : <span><a href={`#/fn/${c.function_id}`}>{c.function}</a> <LangBadge lang={c.language} />{c.bench && <> <Badge kind="busy" title="a benchmark's own container">bench</Badge></>}</span>}
                    </td>
                    <td class="num" data-label="Revision">{c.revision ?? '–'}</td>
                    <td data-label="State"><Badge kind={c.state}>{c.state}</Badge></td>
                    <td class="wide-cell" data-label="Origin">{c.origin === 'stem' ? 'from a stem cell' : c.origin === 'cold' ? 'cold start' : c.origin || '–'}</td>
                    <td class="num" data-label="Age">{age((c.age_s || 0) + Math.max(0, since))}</td>
                    <td class="num" data-label="Calls served">{c.invocations ?? 0}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="card" aria-labelledby="lat-label">
        <header>
          <h2 id="lat-label">Latency of recent calls</h2>
          <span class="spacer" />
          <label class="sr-only" for="lat-fn">Function</label>
          <select id="lat-fn" value={fnFilter} onChange={(e) => setFnFilter(e.currentTarget.value)} style="width:auto">
            <option value="">All functions</option>
            {(fns || []).map((f) => <option key={f.id} value={String(f.id)}>{f.name}</option>)}
          </select>
          <label class="sr-only" for="lat-win">Time window</label>
          <select id="lat-win" value={win} onChange={(e) => setWin(Number(e.currentTarget.value))} style="width:auto">
            {WINDOWS.map(([s, l]) => <option key={s} value={s}>{l}</option>)}
          </select>
        </header>
        <p class="muted small" style="margin-top:0">
          Each dot is one call: its total time in hearthd (queue + init + duration), on a log axis; new calls appear as they happen.
          {' '}{n} calls{n ? ': ' + byKind.map(([k, c]) => `${c} ${k}`).join(', ') : ''}.
        </p>
        <div class="chart-box">
          <UChart build={build} data={data} height={260}
            label={`Scatter of ${n} recent calls' total time by start kind: ${byKind.map(([k, c]) => `${c} ${k}`).join(', ')}`} />
          {n === 0 && <div class="chart-empty">No calls in this window yet. Invoke a function and watch them arrive here.</div>}
        </div>
      </section>
    </>
  );
}

// The last hour of records of up to 20 functions (100 each), once per
// function per page load.
const seeded = new Set();
async function seedCalls() {
  const fns = (store.get().functions || []).filter((f) => !seeded.has(f.id)).slice(0, 20);
  const since = Date.now() - 3600 * 1000;
  await Promise.all(fns.map(async (f) => {
    seeded.add(f.id);
    try {
      const r = await get(`/functions/${f.id}/invocations?limit=100`);
      const list = (r.invocations || []).map((x) => ({
        id: x.id, function_id: f.id, status: x.status, start: x.start, t: Date.parse(x.created_at),
        duration_ms: x.duration_ms, init_ms: x.init_ms, queue_ms: x.queue_ms,
        total_ms: (x.queue_ms || 0) + (x.init_ms || 0) + (x.duration_ms || 0),
      })).filter((c) => c.t >= since);
      store.addCalls(list, true);
    } catch { seeded.delete(f.id); }
  }));
}
