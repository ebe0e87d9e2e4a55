// views/function.jsx — one function: its header (live pool counts) and the
// tabs Invoke, History, Benchmark, Configuration.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { deleteFunction, poolCounts } from '../actions.jsx';
import { go } from '../router.js';
import { useStore } from '../store.js';
import { LangBadge } from '../ui.jsx';
import { PoolCounts } from './functions.jsx';
import { FunctionForm } from './form.jsx';
import { InvokeView } from './invoke.jsx';
import { HistoryView } from './history.jsx';
import { BenchView } from './bench.jsx';

const TABS = [['invoke', 'Invoke'], ['history', 'History'], ['bench', 'Benchmark'], ['config', 'Configuration']];

export function FunctionPage({ id, tab, query }) {
  const listed = useStore((s) => s.functions);
  const pool = useStore((s) => s.pool);
  const [fn, setFn] = useState(null);
  const [error, setError] = useState(null);
  const summary = listed && listed.find((f) => f.id === id);
  const revision = summary ? summary.revision : null;

  // the full object (with code) on open and whenever a new revision appears
  useEffect(() => {
    let gone = false;
    get(`/functions/${id}?code=1`)
      .then((f) => { if (!gone) { setFn(f); setError(null); } })
      .catch((e) => { if (!gone) setError(e); });
    return () => { gone = true; };
  }, [id, revision]);

  useEffect(() => { if (fn) document.title = `${fn.name} · Hearth`; }, [fn && fn.name]);

  if (error && !fn) {
    return (
      <div class="card empty" role="alert">
        {error.status === 404 ? <>Function {id} does not exist (any more). </> : <>Could not load function {id}: {error.message}. </>}
        <a href="#/">Back to the functions</a>
      </div>
    );
  }
  if (!fn) return <div class="card empty">Loading…</div>;
  const deleted = listed && !summary;
  const f = summary ? { ...fn, ...summary, code: fn.code } : fn;

  let body;
  if (tab === 'history') body = <HistoryView fn={f} selected={query.get('inv')} view={query.get('view')} />;
  else if (tab === 'bench') body = <BenchView fn={f} />;
  else if (tab === 'config') body = <FunctionForm key={`${f.id}:${fn.revision}`} fn={fn} onSaved={(x) => setFn((o) => ({ ...o, ...x }))} />;
  else body = <InvokeView fn={f} />;

  return (
    <>
      <div class="page-head fn-head">
        <div class="fn-head-main">
          <h1 class="row" style="gap:10px"><span class="fn-title">{f.name}</span> <LangBadge lang={f.language} /></h1>
          {f.description && <p class="muted" style="margin:4px 0 0">{f.description}</p>}
          <div class="fn-meta" style="margin-top:6px">
            <span>revision <b>{f.revision}</b></span>
            <span>handler <code>{f.handler}</code></span>
            {f.route && <span>route <a href={`/fn${f.route}`} target="_blank" rel="noopener"><code>{f.route}</code></a></span>}
            <span>{f.memory} MB · {f.timeout} s</span>
            <PoolCounts c={poolCounts(f, pool)} />
          </div>
        </div>
        <span class="spacer" />
        <button class="danger" onClick={async () => { if (await deleteFunction(f)) go('/'); }}>Delete</button>
      </div>
      {deleted && <div class="form-error" role="alert">This function was deleted. <a href="#/">Back to the functions</a></div>}
      <nav class="tabs" aria-label={`${f.name} sections`}>
        {TABS.map(([k, label]) => (
          <a key={k} href={`#/fn/${f.id}/${k}`} aria-current={tab === k ? 'page' : undefined}>{label}</a>
        ))}
      </nav>
      {body}
    </>
  );
}
