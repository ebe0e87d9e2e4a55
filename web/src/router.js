// router.js — routes live in the hash (#/fn/3/invoke), so the static
// server needs no fallback and a reload keeps the page.
import { useEffect, useState } from 'preact/hooks';

export function parseHash(h = location.hash) {
  const path = h.replace(/^#/, '') || '/';
  const [p, q = ''] = path.split('?');
  return { parts: p.split('/').filter(Boolean), query: new URLSearchParams(q), path: p };
}
export function useRoute() {
  const [r, setR] = useState(parseHash());
  useEffect(() => {
    const on = () => setR(parseHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return r;
}
export function go(path) {
  if (location.hash !== '#' + path) location.hash = path;
}
