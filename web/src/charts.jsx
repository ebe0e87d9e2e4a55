// charts.jsx — uPlot charts sized to their box (ResizeObserver) and drawn
// in the theme's colours (redrawn when the system theme flips).
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { ms } from './format.js';

export const KINDS = ['warm', 'stem', 'cold'];

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function useTheme() {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const q = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(q.matches);
    q.addEventListener('change', on);
    return () => q.removeEventListener('change', on);
  }, []);
  return dark;
}

const axis = (extra) => ({
  stroke: cssVar('--muted'),
  grid: { stroke: cssVar('--border'), width: 1 },
  ticks: { stroke: cssVar('--border'), width: 1 },
  font: `11px ${cssVar('--sans') || 'sans-serif'}`,
  ...extra,
});

const logTicks = (u, vals) => vals.map((v) => (v == null ? '' : ms(v)));
// 1-2-5 steps on a log axis: fewer lines than every minor tick
function logSplits(u, axisIdx, min, max) {
  const out = [];
  if (!(min > 0) || !(max > 0)) return out;
  for (let d = Math.pow(10, Math.floor(Math.log10(min))); d <= max * 1.0001; d *= 10)
    for (const m of [1, 2, 5]) { const v = d * m; if (v >= min * 0.9999 && v <= max * 1.0001) out.push(v); }
  return out;
}

// Generic: opts(theme) builds uPlot options; data is uPlot's data.
export function UChart({ build, data, height = 260, label }) {
  const box = useRef(null);
  const plot = useRef(null);
  const dark = useTheme();

  useEffect(() => {
    const el = box.current;
    const width = Math.max(200, el.clientWidth);
    plot.current = new uPlot({ ...build(), width, height }, data, el);
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (plot.current && Math.abs(plot.current.width - w) > 1) plot.current.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => { ro.disconnect(); plot.current.destroy(); plot.current = null; };
  }, [dark, build]);

  useEffect(() => { plot.current && plot.current.setData(data); }, [data]);

  return <div class="chart" ref={box} role="img" aria-label={label} />;
}

// Recent calls: total time on a log axis against the time of the call,
// one colour per start kind.
export const latencyOpts = (windowS) => () => {
  const pts = (kind) => ({
    label: kind,
    stroke: cssVar(`--${kind}`),
    fill: cssVar(`--${kind}`),
    paths: () => null,
    points: { show: true, size: 6, stroke: cssVar(`--${kind}`), fill: cssVar(`--${kind}`) },
    value: (u, v) => (v == null ? '–' : ms(v)),
  });
  return {
    // a rolling window that ends now, whatever the data span
    scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - windowS, now]; } }, y: { distr: 3, log: 10 } },
    axes: [axis({}), axis({ values: logTicks, splits: logSplits, size: 64, label: 'total time', labelSize: 18, labelFont: `11px ${cssVar('--sans')}` })],
    series: [{ label: 'time' }, ...KINDS.map(pts)],
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
  };
};

// Benchmark: the share of calls (y, %) done within x ms (log axis): the
// cumulative distribution of each start kind, side by side.
export function cdfOpts(kinds) {
  return () => ({
    scales: { x: { time: false, distr: 3, log: 10 }, y: { range: [0, 100] } },
    axes: [
      axis({ values: logTicks, splits: logSplits, label: 'latency (log scale)', labelSize: 18, labelFont: `11px ${cssVar('--sans')}` }),
      axis({ values: (u, v) => v.map((x) => x + '%'), size: 48 }),
    ],
    series: [
      { label: 'latency', value: (u, v) => (v == null ? '–' : ms(v)) },
      ...kinds.map((k) => ({
        label: k, stroke: cssVar(`--${k}`), width: 2,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
        value: (u, v) => (v == null ? '–' : `${v.toFixed(1)}% of calls`),
      })),
    ],
    legend: { show: true },
  });
}

// per-kind sorted samples → aligned uPlot data of empirical CDFs
export function cdfData(samplesByKind, kinds) {
  const xs = [...new Set(kinds.flatMap((k) => samplesByKind[k] || []))].sort((a, b) => a - b);
  const ys = kinds.map((k) => {
    const s = (samplesByKind[k] || []).slice().sort((a, b) => a - b);
    if (!s.length) return xs.map(() => null);
    let j = 0;
    return xs.map((x) => {
      if (x < s[0] || x > s[s.length - 1]) return null;
      while (j < s.length && s[j] <= x) j++;
      return (100 * j) / s.length;
    });
  });
  return [xs, ...ys];
}
