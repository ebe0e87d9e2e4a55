// result.jsx — one invocation's outcome: status and start badges, the
// value, the error with its stack, the logs, and a waterfall of its times.
import { ms, pretty } from './format.js';
import { StartBadge, StatusBadge } from './ui.jsx';

export function Waterfall({ queue = 0, init = 0, run = 0, rtt }) {
  const q = queue || 0, i = init || 0, d = run || 0;
  const total = q + i + d || 1;
  const pct = (v) => `${(100 * v) / total}%`;
  const rows = [
    ['queue', 'Queue', 0, q, 'waiting for a free container'],
    ['init', 'Init', q, i, 'starting or specialising a container'],
    ['run', 'Duration', q + i, d, 'the handler running'],
  ];
  return (
    <>
    <div class="waterfall" role="table" aria-label="Timings">
      {rows.map(([k, label, from, len, what]) => (
        <div role="row" key={k} style="display:contents">
          <span role="rowheader" title={what}>{label}</span>
          <span class="track" role="cell" aria-hidden="true"><span class={`bar ${k}`} style={{ left: pct(from), width: pct(len) }} /></span>
          <span class="v" role="cell">{ms(len)}</span>
        </div>
      ))}
    </div>
    {rtt != null && <p class="muted small" style="margin:6px 0 0">Round trip from this browser, all included: {ms(rtt)}</p>}
    </>
  );
}

export function ResultView({ env, rtt, actions }) {
  if (!env) return null;
  const err = env.error;
  return (
    <div class="result" data-status={env.status} data-start={env.start}>
      <div class="result-head">
        <StatusBadge status={env.status} />
        <StartBadge start={env.start} />
        <span class="muted small">{ms(env.duration_ms)}{env.max_memory_mb != null && ` · ${Number(env.max_memory_mb).toFixed(1)} MB`}{env.revision != null && ` · revision ${env.revision}`}</span>
        <span class="spacer" style="flex:1" />
        {actions}
      </div>
      {env.id && <div class="muted small mono" style="margin-bottom:6px">{env.id}</div>}
      {env.status === 'success' && <>
        <div class="section-label">Result</div>
        <pre class="out result-value">{env.result === undefined ? '–' : pretty(env.result)}</pre>
      </>}
      {err && <>
        <div class="section-label">Error</div>
        <pre class="out err result-error"><strong>{err.type || 'Error'}</strong>{err.message ? `: ${err.message}` : ''}{err.stack ? '\n\n' + (Array.isArray(err.stack) ? err.stack.map((l) => String(l).replace(/\n$/, '')).join('\n') : err.stack) : ''}</pre>
      </>}
      <div class="section-label">Logs</div>
      <pre class="out result-logs">{env.logs ? env.logs : <span class="muted">(no output)</span>}</pre>
      <div class="section-label">Timings</div>
      <Waterfall queue={env.queue_ms} init={env.init_ms} run={env.duration_ms} rtt={rtt} />
    </div>
  );
}
