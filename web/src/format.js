// format.js — numbers and times as the dashboard shows them.
export function ms(v) {
  if (v == null || Number.isNaN(v)) return '–';
  if (v === 0) return '0 ms';
  if (v < 1) return `${(v * 1000).toFixed(v < 0.01 ? 1 : 0)} µs`;
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(v < 100 ? 1 : 0)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
}
export function age(s) {
  if (s == null) return '–';
  if (s < 60) return `${Math.floor(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.floor(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
export function ago(iso) {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${Math.floor(s)} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toLocaleString();
}
export function clock(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso || '–';
  const d = new Date(t);
  const today = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return today ? time : `${d.toLocaleDateString()} ${time}`;
}
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
export function pretty(v) {
  if (v === undefined) return '';
  try { return JSON.stringify(v, null, 2); } catch { return String(v); }
}
export const LANGS = { python: 'Python', node: 'Node.js', javascript: 'Node.js' };
