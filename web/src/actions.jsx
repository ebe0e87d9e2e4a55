// actions.js — things several views do.
import { del } from './api.js';
import { refreshFunctions } from './live.js';
import { store } from './store.js';
import { confirmDialog } from './ui.jsx';

export async function deleteFunction(f) {
  const ok = await confirmDialog({
    title: `Delete ${f.name}?`,
    body: <p>The function, its code and its containers are removed. Its invocation history goes with it. This cannot be undone.</p>,
    action: 'Delete function',
    danger: true,
  });
  if (!ok) return false;
  try {
    await del(`/functions/${f.id}`);
    store.set({ functions: (store.get().functions || []).filter((x) => x.id !== f.id) });
    store.toast(`Deleted ${f.name}`);
    refreshFunctions();
    return true;
  } catch (e) {
    store.toast(`Could not delete ${f.name}: ${e.message}`, 'error');
    return false;
  }
}

// The live pool's counts for one function (or, before the first pool
// event, the list's own "pool" member).
export function poolCounts(f, pool) {
  if (!pool) return f.pool || null;
  const c = { idle: 0, busy: 0, starting: 0, from_stem: 0, total: 0 };
  for (const k of pool.containers) {
    if (k.function_id !== f.id) continue;
    c.total++;
    if (k.state === 'idle') c.idle++;
    else if (k.state === 'busy') c.busy++;
    else if (k.state === 'starting') c.starting++;
    if (k.origin === 'stem') c.from_stem++;
  }
  return c;
}
