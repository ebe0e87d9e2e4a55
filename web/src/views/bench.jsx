// views/bench.jsx — one click runs POST /functions/{id}/bench for warm,
// stem and cold starts in turn, then draws the three distributions side by
// side on a log axis with the ratios between them.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { post } from '../api.js';
import { ms } from '../format.js';
import { KINDS, UChart, cdfData, cdfOpts } from '../charts.jsx';
import { Badge, Field, fieldAria } from '../ui.jsx';
import { checkJson } from './invoke.jsx';

// server bounds (422 past them)
const LIMITS = { warm: { calls: 1000, conc: 16 }, stem: { calls: 50, conc: 4 }, cold: { calls: 50, conc: 4 } };
const memo = new Map();

export function BenchView({ fn }) {
  const m = memo.get(fn.id) || {};
  const [cfg, setCfg] = useState(m.cfg || {
    kinds: { warm: true, stem: true, cold: true },
    warm: '200', stem: '10', cold: '10', conc: '1', payload: '{}',
  });
  const [results, setResults] = useState(m.results || null);
  const [running, setRunning] = useState(null);
  const [errors, setErrors] = useState({});
  const [failure, setFailure] = useState(null);
  useEffect(() => { memo.set(fn.id, { cfg, results }); });
  const set = (p) => setCfg((o) => ({ ...o, ...p }));

  async function run() {
    const e = {};
    const kinds = KINDS.filter((k) => cfg.kinds[k]);
    if (!kinds.length) e.kinds = 'Choose at least one kind of start';
    for (const k of kinds) {
      const v = Number(cfg[k]);
      if (!Number.isInteger(v) || v < 1 || v > LIMITS[k].calls) e[k] = `${k}: 1 to ${LIMITS[k].calls} calls`;
    }
    const conc = Number(cfg.conc);
    if (!Number.isInteger(conc) || conc < 1 || conc > 16) e.conc = 'concurrency: 1 to 16 (cold and stem use at most 4)';
    const pj = checkJson(cfg.payload);
    if (!pj.ok) e.payload = pj.message;
    setErrors(e);
    if (Object.keys(e).length) return;
    setFailure(null);
    const out = {};
    setResults(null);
    try {
      for (let i = 0; i < kinds.length; i++) {
        const k = kinds[i];
        setRunning({ kind: k, i, n: kinds.length });
        out[k] = await post(`/functions/${fn.id}/bench`, {
          calls: Number(cfg[k]), concurrency: Math.min(conc, LIMITS[k].conc), start: k, payload: JSON.parse(cfg.payload),
        });
        setResults({ ...out });
      }
    } catch (x) {
      const msg = x.status === 409 ? 'A benchmark of this function is already running: wait for it to finish.'
        : x.status === 404 && x.code !== 'not_found' ? 'This hearthd has no benchmark endpoint (POST /functions/{id}/bench).'
          : x.message;
      setFailure(msg);
    } finally {
      setRunning(null);
    }
  }

  const kindsDone = results ? KINDS.filter((k) => results[k]) : [];
  const chart = useMemo(() => {
    if (!kindsDone.length) return null;
    const samples = {};
    for (const k of kindsDone) {
      const r = results[k].results || [];
      samples[k] = r.filter((x) => x.status === 'success' || x.ms != null).map((x) => Math.max(0.001, x.ms));
    }
    return { build: cdfOpts(kindsDone), data: cdfData(samples, kindsDone) };
  }, [results]);
  const p50 = (k) => results && results[k] && results[k].summary && results[k].summary.p50;
  const ratio = (a, b) => (p50(a) && p50(b) ? p50(a) / p50(b) : null);
  const ratios = [['cold', 'warm'], ['stem', 'warm'], ['cold', 'stem']].filter(([a, b]) => ratio(a, b) != null);

  return (
    <div class="stack bench">
      <section class="card" aria-labelledby="bench-label">
        <header><h2 id="bench-label">Cold against warm</h2></header>
        <p class="muted" style="margin-top:0">
          Calls {fn.name} through hearthd with each kind of start: <b>warm</b> (an idle container that already imported the handler),
          {' '}<b>stem</b> (a prestarted container specialised for the function at call time) and <b>cold</b> (a new container per call,
          about 0.1–0.2 s each). Each kind runs in turn; the times are measured inside hearthd.
        </p>
        <fieldset class="fields" style="border:none;padding:0;margin:0 0 12px">
          <legend class="sr-only">Benchmark settings</legend>
          {KINDS.map((k) => (
            <div class="field" key={k}>
              <label class="check" for={`b-on-${k}`}>
                <input id={`b-on-${k}`} type="checkbox" checked={cfg.kinds[k]}
                  onChange={(e) => set({ kinds: { ...cfg.kinds, [k]: e.currentTarget.checked } })} />
                <Badge kind={k} /> starts
              </label>
              <input id={`b-${k}`} type="number" min="1" max={LIMITS[k].calls} value={cfg[k]} disabled={!cfg.kinds[k]}
                aria-label={`Number of ${k} calls`} onInput={(e) => set({ [k]: e.currentTarget.value })} {...fieldAria(`b-${k}`, errors[k], true)} />
              {errors[k] ? <p class="field-error" id={`b-${k}-error`} role="alert">{errors[k]}</p>
                : <p class="hint" id={`b-${k}-hint`}>calls, at most {LIMITS[k].calls}</p>}
            </div>
          ))}
          <Field id="b-conc" label="Concurrency" error={errors.conc} hint="calls in flight (cold, stem: ≤ 4)">
            <input id="b-conc" type="number" min="1" max="16" value={cfg.conc} onInput={(e) => set({ conc: e.currentTarget.value })} {...fieldAria('b-conc', errors.conc, true)} />
          </Field>
          <Field id="b-payload" label="Payload (JSON)" error={errors.payload} wide>
            <input id="b-payload" class="mono" value={cfg.payload} spellcheck={false} onInput={(e) => set({ payload: e.currentTarget.value })} {...fieldAria('b-payload', errors.payload)} />
          </Field>
        </fieldset>
        {errors.kinds && <p class="field-error" role="alert">{errors.kinds}</p>}
        <div class="row">
          <button type="button" class="primary bench-run" onClick={run} disabled={!!running}>{running ? 'Running…' : 'Run benchmark'}</button>
          {running && <span class="muted" role="status">Running {running.kind} ({running.i + 1} of {running.n})…</span>}
        </div>
        {running && <div class="progress" style="margin-top:10px" aria-hidden="true"><div style={{ width: `${(100 * (running.i + 0.5)) / running.n}%` }} /></div>}
        {failure && <p class="form-error" role="alert" style="margin-top:10px">{failure}</p>}
      </section>

      {kindsDone.length > 0 && (
        <section class="card bench-results" aria-labelledby="bench-res-label" aria-busy={running ? 'true' : 'false'}>
          <header><h2 id="bench-res-label">Results</h2></header>
          {ratios.length > 0 && (
            <div class="ratios">
              {ratios.map(([a, b]) => (
                <div class="ratio" key={a + b} data-ratio={`${a}/${b}`}>
                  <div class="v">{fmtRatio(ratio(a, b))}</div>
                  <div class="muted small"><Badge kind={a} /> p50 against <Badge kind={b} /> p50 ({ms(p50(a))} vs {ms(p50(b))})</div>
                </div>
              ))}
            </div>
          )}
          <div class="table-wrap">
            <table class="cards compact bench-table">
              <thead><tr><th>Start</th><th class="num">Calls</th><th class="num">Errors</th><th class="num">min</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th class="num">mean</th><th class="num">Wall</th></tr></thead>
              <tbody>
                {kindsDone.map((k) => {
                  const r = results[k], s = r.summary || {};
                  return (
                    <tr key={k} data-kind={k}>
                      <td class="title-cell" data-label="Start"><Badge kind={k} /></td>
                      <td class="num" data-label="Calls">{s.count ?? r.calls}</td>
                      <td class="num" data-label="Errors">{s.errors ?? 0}</td>
                      <td class="num" data-label="min">{ms(s.min)}</td>
                      <td class="num" data-label="p50"><b>{ms(s.p50)}</b></td>
                      <td class="num" data-label="p90">{ms(s.p90)}</td>
                      <td class="num" data-label="p99">{ms(s.p99)}</td>
                      <td class="num" data-label="max">{ms(s.max)}</td>
                      <td class="num" data-label="mean">{ms(s.mean)}</td>
                      <td class="num" data-label="Wall">{ms(r.wall_ms)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div class="section-label" id="cdf-label">Distribution: share of calls done within a time (log axis)</div>
          {chart && <UChart build={chart.build} data={chart.data} height={280}
            label={`Cumulative distributions of call latency for ${kindsDone.join(', ')}: ` + kindsDone.map((k) => `${k} p50 ${ms(p50(k))}`).join(', ')} />}
        </section>
      )}
    </div>
  );
}

function fmtRatio(r) {
  if (r >= 100) return `${Math.round(r).toLocaleString()}× slower`;
  if (r >= 1.05) return `${r.toFixed(r >= 10 ? 0 : 1)}× slower`;
  if (r > 0.95) return 'about the same';
  return `${(1 / r).toFixed(1)}× faster`;
}
