// main.jsx — the dashboard's frame: top bar, health banner, routes.
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import './app.css';
import { useRoute } from './router.js';
import { useStore } from './store.js';
import { startLive } from './live.js';
import { ConfirmHost, HealthBanner, PromptHost, Toast, TokenDialog } from './ui.jsx';
import { FunctionsList } from './views/functions.jsx';
import { FunctionPage } from './views/function.jsx';
import { FunctionForm } from './views/form.jsx';
import { PoolView } from './views/pool.jsx';

function Logo() {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true">
      <path fill="var(--accent)" d="M12 2c1 3.5 5 6 5 11a5 5 0 0 1-10 0c0-2.6 1.4-4.2 2.6-5.6.2 1.6.9 2.8 2.1 3.3C11 8 11.3 4.8 12 2z" />
      <rect x="4" y="19.5" width="16" height="2.5" rx="1.2" fill="currentColor" opacity=".55" />
    </svg>
  );
}

function Conn() {
  const h = useStore((s) => s.health);
  let cls = 'wait', text = 'Connecting…';
  if (!h.reachable) { cls = 'bad'; text = 'Offline'; }
  else if (h.engine === 'down') { cls = 'bad'; text = 'Docker down'; }
  else if (h.stream === 'live') { cls = 'live'; text = 'Live'; }
  else if (h.stream === 'polling') { cls = 'live'; text = 'Polling'; }
  else if (h.stream === 'reconnecting') { cls = 'wait'; text = 'Reconnecting…'; }
  return (
    <div class="conn" role="status" title={`Event stream: ${h.stream}`}>
      <span class={`dot ${cls}`} aria-hidden="true" /><span class="label-text">{text}</span>
      <span class="sr-only">{text === 'Live' ? 'Live updates on' : text}</span>
    </div>
  );
}

function App() {
  const route = useRoute();
  const [top, id, tab] = route.parts;
  let page, section = 'functions';
  if (!top || top === 'functions') page = <FunctionsList />;
  else if (top === 'new') page = <FunctionForm key="new" />;
  else if (top === 'fn' && id) page = <FunctionPage key={id} id={Number(id)} tab={tab || 'invoke'} query={route.query} />;
  else if (top === 'pool') { page = <PoolView />; section = 'pool'; }
  else page = <div class="card empty">No such page. <a href="#/">Back to the functions</a>.</div>;

  useEffect(() => {
    const titles = { functions: 'Functions', pool: 'Live pool' };
    if (top !== 'fn') document.title = `${titles[section] || 'Hearth'} · Hearth`;
  }, [top, section]);

  // a new page: move focus to the main region for screen readers and keyboards
  useEffect(() => {
    const m = document.getElementById('main');
    if (m && document.activeElement === document.body) m.focus({ preventScroll: true });
  }, [route.path]);

  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
      <header class="topbar">
        <a class="brand" href="#/"><Logo /> <span class="brand-text">Hearth</span></a>
        <nav class="topnav" aria-label="Main">
          <a href="#/" aria-current={section === 'functions' ? 'page' : undefined}>Functions</a>
          <a href="#/pool" aria-current={section === 'pool' ? 'page' : undefined}>Live pool</a>
        </nav>
        <span class="spacer" />
        <Conn />
        <a class="btn primary new-fn" href="#/new"><span aria-hidden="true">+</span> New<span class="long"> function</span></a>
      </header>
      <HealthBanner />
      <main id="main" tabIndex={-1}>{page}</main>
      <TokenDialog />
      <ConfirmHost />
      <PromptHost />
      <Toast />
    </>
  );
}

render(<App />, document.getElementById('app'));
startLive();
