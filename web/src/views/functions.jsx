// views/functions.jsx — the list of functions with their live pool counts
// and last hour's calls.
import { useEffect, useState } from 'preact/hooks';
import { useStore } from '../store.js';
import { deleteFunction, poolCounts } from '../actions.jsx';
import { ms, ago } from '../format.js';
import { LangBadge, StatusBadge } from '../ui.jsx';
import { refreshFunctions } from '../live.js';

export function PoolCounts({ c }) {
  if (!c) return <span class="muted">–</span>;
  return (
    <span class="counts" title={`${c.idle} warm and idle, ${c.busy} busy${c.starting ? `, ${c.starting} starting` : ''}; ${c.from_stem} came from stem cells`}>
      <span><b>{c.idle}</b> warm</span>
      <span><b>{c.busy}</b> busy</span>
      {c.starting > 0 && <span><b>{c.starting}</b> starting</span>}
      <span class="muted">{c.from_stem} from stem</span>
    </span>
  );
}

export function FunctionsList() {
  const fns = useStore((s) => s.functions);
  const err = useStore((s) => s.functionsError);
  const pool = useStore((s) => s.pool);
  const [, tick] = useState(0);
  useEffect(() => {
    refreshFunctions();
    const t = setInterval(() => tick((n) => n + 1), 5000); // "12 s ago" moves on
    return () => clearInterval(t);
  }, []);

  return (
    <>
      <div class="page-head">
        <h1>Functions</h1>
        {fns && <span class="sub">{fns.length} {fns.length === 1 ? 'function' : 'functions'}</span>}
      </div>
      {err && <div class="form-error" role="alert">Could not load the functions: {err}</div>}
      {!fns && !err && <div class="card empty">Loading…</div>}
      {fns && fns.length === 0 && (
        <div class="card empty">
          <h2>No functions yet</h2>
          <p>A function is a handler in Python or Node.js that Hearth runs in a warm container.</p>
          <a class="btn primary" href="#/new">Create your first function</a>
        </div>
      )}
      {fns && fns.length > 0 && (
        <div class="card list-card">
          <div class="table-wrap">
            <table class="cards fn-table">
              <caption class="sr-only">Functions, their containers and last hour's calls</caption>
              <thead><tr>
                <th>Name</th><th>Route</th><th class="num">Rev</th><th>Containers</th>
                <th class="num">Calls 1 h</th><th class="num">Errors 1 h</th><th class="num" title="median duration of last hour's calls">p50 1 h</th><th>Last call</th><th><span class="sr-only">Actions</span></th>
              </tr></thead>
              <tbody>
                {fns.map((f) => {
                  const st = f.stats || {};
                  return (
                    <tr key={f.id} data-fn={f.name}>
                      <td class="title-cell" data-label="Name">
                        <span><a class="fname" href={`#/fn/${f.id}`}>{f.name}</a> <LangBadge lang={f.language} />
                          {f.description && <span class="muted small fn-desc">{f.description}</span>}</span>
                      </td>
                      <td data-label="Route">{f.route ? <code>{f.route}</code> : <span class="muted">–</span>}</td>
                      <td class="num" data-label="Revision">{f.revision}</td>
                      <td data-label="Containers"><PoolCounts c={poolCounts(f, pool)} /></td>
                      <td class="num" data-label="Calls (1 h)">{st.calls_1h ?? '–'}</td>
                      <td class="num" data-label="Errors (1 h)">{st.errors_1h ? <span style="color:var(--danger)">{st.errors_1h}</span> : (st.errors_1h ?? '–')}</td>
                      <td class="num" data-label="p50 (1 h)">{st.p50_ms_1h != null ? ms(st.p50_ms_1h) : '–'}</td>
                      <td data-label="Last call">
                        {!f.stats ? <span class="muted">–</span> : st.last_status ? <span class="row" style="gap:6px;flex-wrap:nowrap"><StatusBadge status={st.last_status} /> <span class="muted small">{ago(st.last_at)}</span></span> : <span class="muted">never</span>}
                      </td>
                      <td data-label="Actions">
                        <div class="fn-list-actions">
                          <a class="btn" href={`#/fn/${f.id}/invoke`} aria-label={`Invoke ${f.name}`}>Invoke</a>
                          <a class="btn" href={`#/fn/${f.id}/config`} aria-label={`Edit ${f.name}`}>Edit</a>
                          <button class="danger" onClick={() => deleteFunction(f)} aria-label={`Delete ${f.name}`}>Delete</button>
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </>
  );
}
