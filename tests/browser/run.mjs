// run.mjs — the dashboard driven as a person would, in Debian's chromium
// (playwright-core, headless), against a real hearthd that this script
// starts on a free port with a temporary data dir (real dockerd, real
// containers) and stops with SIGTERM at the end.  Prints TAP; exits non-zero
// when a point failed.  That hearthd runs with --time-scale 20, so an async
// call's retry comes after 3 s rather than a minute (nothing else depends on
// it).
//
// Environment: HEARTH_BIN (default $top_builddir/src/hearthd), HEARTH_WEB_DIR
// (default $top_srcdir/web/dist), CHROMIUM (default /usr/bin/chromium),
// HEARTH_BROWSER_ARTIFACTS (screenshots; default
// $top_builddir/tests/browser/artifacts).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const srcdir = process.env.top_srcdir || resolve(here, '../..');
const builddir = process.env.top_builddir || join(srcdir, 'build');
const HEARTHD = process.env.HEARTH_BIN || join(builddir, 'src/hearthd');
const WEB = process.env.HEARTH_WEB_DIR || join(srcdir, 'web/dist');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ART = process.env.HEARTH_BROWSER_ARTIFACTS || join(builddir, 'tests/browser/artifacts');
const T0 = Date.now();
const TIME_SCALE = 20; // the first hearthd's: async retries after 60/20 = 3 s

// playwright-core from the build folder (make check-browser installs it
// there) or from beside this script (cd tests/browser && npm ci).
function loadPlaywright() {
  for (const dir of [join(builddir, 'tests/browser'), here]) {
    try { return createRequire(join(dir, 'package.json'))('playwright-core'); } catch { /* next */ }
  }
  return null;
}

// ---- TAP -----------------------------------------------------------------
let n = 0, failures = 0;
const diag = (s) => console.log(String(s).split('\n').map((l) => '# ' + l).join('\n'));
function ok(cond, desc, detail) {
  n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc}`);
  if (!cond) { failures++; if (detail) diag(detail); }
  return cond;
}
let page; // the current page, for failure screenshots
async function step(desc, fn) {
  try {
    await fn();
    return ok(true, desc);
  } catch (e) {
    ok(false, desc, e && e.stack ? e.stack.split('\n').slice(0, 6).join('\n') : String(e));
    if (page) await page.screenshot({ path: join(ART, `FAIL-${n}.png`), fullPage: true }).catch(() => {});
    return false;
  }
}
function bail(msg) {
  console.log(`Bail out! ${msg}`);
  process.exit(1);
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ---- processes -------------------------------------------------------------
const children = [];
const tmps = [];
function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}
async function waitHttp(url, ms = 20000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try { const r = await fetch(url); if (r.ok) return r; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startHearth(extra = []) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'hearth-browser-'));
  tmps.push(data);
  const p = spawn(HEARTHD, ['--listen', `127.0.0.1:${port}`, '--data-dir', data, '--web-dir', WEB, '--log-level', 'warn', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => { log += d; if (log.length > 20000) log = log.slice(-20000); });
  children.push(p);
  const base = `http://127.0.0.1:${port}`;
  await waitHttp(base + '/healthz');
  return { proc: p, port, base, log: () => log, data };
}
async function stop(h) {
  if (h.proc.exitCode != null) return h.proc.exitCode;
  h.proc.kill('SIGTERM');
  const code = await Promise.race([new Promise((r) => h.proc.once('exit', (c) => r(c))), sleep(40000).then(() => 'timeout')]);
  if (code === 'timeout') h.proc.kill('SIGKILL');
  return code;
}
async function cleanup() {
  for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGTERM');
  for (const d of tmps) rmSync(d, { recursive: true, force: true });
}
process.on('SIGINT', async () => { await cleanup(); process.exit(130); });

async function apiJson(h, method, path, body, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(h.base + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
  const t = await r.text();
  return { status: r.status, body: t ? JSON.parse(t) : null };
}

// A zip archive of { name: text } made by python3's zipfile (no npm
// package for one test).
function makeZip(files) {
  const r = spawnSync('python3', ['-c', `
import io, json, sys, zipfile
b = io.BytesIO()
with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
    for k, v in json.load(sys.stdin).items():
        z.writestr(k, v)
sys.stdout.buffer.write(b.getvalue())`], { input: JSON.stringify(files) });
  if (r.status !== 0) throw new Error('python3 could not make a zip: ' + r.stderr);
  return r.stdout;
}

// ---- page helpers ------------------------------------------------------------
async function setEditor(selector, text) {
  await page.click(selector);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}
const editorText = (selector) => page.$eval(selector, (el) => el.closest('.cm-editor').querySelector('.cm-content').innerText);
// Waits (at most ms) until an editor's text contains what is wanted; a
// render may trail the input that causes it, and on a loaded machine the
// editor itself may not be there yet.
async function editorHas(selector, want, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    const text = await editorText(selector).catch(() => '');
    if (text.includes(want)) return true;
    if (Date.now() > until) return false;
    await page.waitForTimeout(50);
  }
}
// The Invoke tab's run mode, chosen as a person would: a click on its label.
async function runMode(name) {
  await page.click(`.run-mode label:has-text("${name}")`);
  assert(await page.getByRole('radio', { name }).isChecked(), `run mode ${name} chosen`);
}
// A fresh form: a full load, so nothing a failed step left in a form (the
// same hash is no navigation) carries over into the next.
async function freshPage(h, hash) {
  await page.goto('about:blank');
  await page.goto(h.base + hash);
}

// Every screen at 1280 and 400 px wide, light and dark; at 400 px nothing
// may stick out sideways.
const overflow = [];
const unnamed = [];
async function shots(name) {
  for (const u of await unlabelled()) unnamed.push(`${name}: ${u}`);
  for (const scheme of ['light', 'dark']) {
    for (const width of [1280, 400]) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 800 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await sleep(250);
      const sw = await page.evaluate(() => document.documentElement.scrollWidth);
      if (sw > width + 1) overflow.push(`${name} at ${width} px (${scheme}): ${sw} px wide`);
      await page.screenshot({ path: join(ART, `${name}-${width}-${scheme}.png`), fullPage: true });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  await sleep(150);
}

// Controls without an accessible name, on the page as it stands.
const unlabelled = () => page.evaluate(() => {
  const bad = [];
  for (const el of document.querySelectorAll('input, select, textarea, button, [contenteditable="true"], a[href]')) {
    if (el.closest('[hidden]') || el.type === 'hidden' || el.getClientRects().length === 0) continue;
    const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
      (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest('label') ||
      (['BUTTON', 'A'].includes(el.tagName) && el.textContent.trim()) || el.getAttribute('title');
    if (!named) bad.push(el.outerHTML.slice(0, 120));
  }
  return bad;
});

// ---- the run -------------------------------------------------------------
async function main() {
  const pw = loadPlaywright();
  if (!pw) bail('playwright-core is not installed: make check-browser installs it, or cd tests/browser && npm ci');
  const { chromium } = pw;
  if (!existsSync(HEARTHD)) bail(`no hearthd at ${HEARTHD} (build first, or set HEARTH_BIN)`);
  if (!existsSync(join(WEB, 'index.html'))) bail(`no dashboard at ${WEB} (cd web && npm ci && npm run build)`);
  if (!existsSync(CHROMIUM)) bail(`no chromium at ${CHROMIUM} (apt-get install chromium)`);
  mkdirSync(ART, { recursive: true });

  const h = await startHearth(['--time-scale', String(TIME_SCALE)]);
  diag(`hearthd on ${h.base}, data in ${h.data}; screenshots in ${ART}`);
  const profile = mkdtempSync(join(tmpdir(), 'hearth-chromium-'));
  tmps.push(profile);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 }, colorScheme: 'light',
  });
  ctx.setDefaultTimeout(15000);

  // Nothing but hearthd (and the test's own proxy) is ever asked for.
  const allowed = new Set([h.base]);
  const foreign = [];
  const scriptErrors = [];
  ctx.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    if (![...allowed].some((a) => u.startsWith(a + '/'))) foreign.push(u);
  });
  page = ctx.pages()[0] || (await ctx.newPage());
  page.on('pageerror', (e) => scriptErrors.push(e.message));

  await step('the dashboard loads with no functions', async () => {
    await page.goto(h.base + '/');
    await page.getByText('No functions yet').waitFor();
    assert((await page.title()).includes('Hearth'), 'title');
  });
  await step('the event stream connects (the status says Live)', async () => {
    await page.locator('.conn', { hasText: 'Live' }).waitFor({ timeout: 10000 });
  });

  // 1. create a Python function through the form
  const PY1 = 'def handler(event, context):\n    print("log line from", context.function_name)\n    return {"greeting": "hello " + event.get("name", "nobody"), "v": 1}\n';
  let fid = null;
  await step('1. create a Python function through the form', async () => {
    await page.click('a.btn:has-text("New function")');
    await page.waitForURL(/#\/new$/);
    assert(await editorHas('#f-code', 'def handler'), 'the Python starter template is in the editor');
    await page.fill('#f-name', 'web-hello');
    await setEditor('#f-code', PY1);
    await page.fill('#f-timeout', '5');
    await page.click('button:has-text("Add variable")');
    await page.fill('[aria-label="Variable 1 name"]', 'GREETING');
    await page.fill('[aria-label="Variable 1 value"]', 'hi');
    await shots('create');
    await page.click('button[type=submit]:has-text("Create function")');
    await page.waitForURL(/#\/fn\/\d+\/invoke$/);
    fid = Number(/#\/fn\/(\d+)/.exec(page.url())[1]);
    const f = await apiJson(h, 'GET', `/functions/${fid}`);
    assert(f.body.name === 'web-hello' && f.body.timeout === 5 && f.body.env.GREETING === 'hi', 'stored as entered: ' + JSON.stringify(f.body));
  });
  await step('every control on the create form has a label', async () => {
    await freshPage(h, '/#/new');
    await page.waitForSelector('#f-name');
    const bad = await unlabelled();
    assert(bad.length === 0, 'unlabelled: ' + bad.join('\n'));
    await page.goto(h.base + `/#/fn/${fid}/invoke`);
  });

  // 2. invoke it and see its result and logs
  await step('2. invoke it: the result and the logs show', async () => {
    await page.waitForSelector('#payload-editor');
    await setEditor('#payload-editor', '{"name": "browser"}');
    await page.click('.run-btn');
    await page.locator('.result-value', { hasText: 'hello browser' }).waitFor({ timeout: 30000 });
    assert((await page.textContent('.result-logs')).includes('log line from web-hello'), 'logs');
    assert(await page.locator('.waterfall').isVisible(), 'timings waterfall');
  });
  await step('invalid JSON is flagged before anything is sent', async () => {
    const before = (await apiJson(h, 'GET', `/functions/${fid}/invocations`)).body.invocations.length;
    await setEditor('#payload-editor', '{"name": ');
    await page.locator('#payload-status.bad').waitFor();
    await page.click('.run-btn');
    await sleep(400);
    const after = (await apiJson(h, 'GET', `/functions/${fid}/invocations`)).body.invocations.length;
    assert(after === before, `no call was made (${before} → ${after})`);
    assert((await page.textContent('#payload-status')).includes('Invalid JSON'), 'says why');
  });

  // 3. the second call is warm (Ctrl-Enter from the editor)
  await step('3. a second call (Ctrl-Enter) is marked warm', async () => {
    await setEditor('#payload-editor', '{"name": "again"}');
    await page.keyboard.press('Control+Enter');
    await page.locator('.result-value', { hasText: 'hello again' }).waitFor({ timeout: 30000 });
    const start = await page.getAttribute('.result', 'data-start');
    assert(start === 'warm', `start badge is ${start}`);
    assert(await page.locator('.result .badge.warm').isVisible(), 'the warm badge shows');
  });
  await step('screens: invoke', () => shots('invoke'));

  // batch mode
  await step('batch: 5 calls at once through POST /functions/execute, each result listed', async () => {
    await runMode('Batch');
    await page.fill('#batch-n', '5');
    await page.click('.run-btn');
    await page.locator('.batch-table tbody tr').nth(4).waitFor({ timeout: 30000 });
    assert((await page.locator('.batch-table tbody tr').count()) === 5, 'five rows');
    assert((await page.locator('.batch-table .badge.success').count()) === 5, 'five successes');
    await runMode('One call');
  });

  // asynchronous calls
  await step('async: the run mode is chosen with the arrow keys, and the shell line becomes ?async=1', async () => {
    await page.getByRole('radio', { name: 'One call' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert(await page.getByRole('radio', { name: 'Async' }).isChecked(), 'two arrows from One call is Async');
    assert((await page.textContent('.run-btn')).trim() === 'Queue call', 'the button says what it does: ' + (await page.textContent('.run-btn')));
    assert(await page.locator('#async-hint').isVisible(), 'a line says what async means');
    await page.click('summary:has-text("Call it from a shell")');
    const sh = await page.textContent('details.call-it pre');
    assert(/-X POST '[^']+\/functions\/web-hello\/execute\?async=1' -d/.test(sh) && /\/invocations\/ID/.test(sh) && /\/dead-letters/.test(sh), sh);
    await page.click('summary:has-text("Call it from a shell")');
  });
  let asyncId = null;
  await step('async: a call is queued (202, its id), then followed until it shows succeeded with its result and logs', async () => {
    await setEditor('#payload-editor', '{"name": "later"}');
    await page.click('.run-btn');
    await page.locator('.accepted', { hasText: '202 Accepted' }).waitFor();
    asyncId = (await page.textContent('.async-call .facts dd.mono')).trim();
    assert(/^[0-9a-f-]{36}$/.test(asyncId), 'the call\'s id shows: ' + asyncId);
    await page.locator('.async-call[data-status="succeeded"]').waitFor({ timeout: 30000 });
    await page.locator('.async-call .result-value', { hasText: 'hello later' }).waitFor();
    assert((await page.textContent('.async-call .result-logs')).includes('log line from web-hello'), 'the attempt\'s logs');
    assert((await page.locator('.attempt-table tbody tr').count()) === 1, 'one attempt listed');
    assert(!(await page.locator('.follow[data-follow="following"]').count()), 'no longer following');
    const c = await apiJson(h, 'GET', `/invocations/${asyncId}`);
    assert(c.body.async === true && c.body.status === 'succeeded' && c.body.payload.name === 'later', JSON.stringify(c.body).slice(0, 300));
    await page.click('summary:has-text("Call it from a shell")');
    assert((await page.textContent('details.call-it pre')).includes(`/invocations/${asyncId}`), 'the shell line names the call');
    await shots('invoke-async');
    await page.click('summary:has-text("Call it from a shell")');
  });
  await step('async: 3 calls at once through POST /functions/execute?async=1, each followed', async () => {
    await page.fill('#async-n', '3');
    await page.click('.run-btn');
    await page.locator('.accepted', { hasText: '3 of 3 queued' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('.async-table .badge.succeeded').length === 3, null, { timeout: 30000 });
    await page.fill('#async-n', '1');
    await runMode('One call');
  });

  await step('a handler that raises: the error, its stack and the logs show', async () => {
    const r = await apiJson(h, 'POST', '/functions/', { name: 'web-err', language: 'python',
      code: 'def handler(event, context):\n    print("about to fail")\n    raise ValueError("bad input")\n' });
    assert(r.status === 201, JSON.stringify(r.body));
    await page.goto(h.base + `/#/fn/${r.body.id}/invoke`);
    await page.click('.run-btn');
    const e = page.locator('.result-error');
    await e.waitFor({ timeout: 30000 });
    const t = await e.textContent();
    assert(/ValueError: bad input/.test(t) && /main\.py", line 3/.test(t), t);
    assert((await page.getAttribute('.result', 'data-status')) === 'error', 'status error');
    assert((await page.textContent('.result-logs')).includes('about to fail'), 'logs too');
    await shots('invoke-error');
    await apiJson(h, 'DELETE', `/functions/${r.body.id}`);
    await page.goto(h.base + `/#/fn/${fid}/invoke`);
  });

  // dead letters: a function that always raises, retried once (3 s later at
  // this hearthd's time scale)
  let failId = null, deadId = null;
  await step('dead letters: none yet, and one line says what a dead letter is', async () => {
    const r = await apiJson(h, 'POST', '/functions/', { name: 'web-dead', language: 'python', async_retries: 1,
      code: 'def handler(event, context):\n    print("failing on purpose")\n    raise RuntimeError("always fails: " + str(event.get("n")))\n' });
    assert(r.status === 201, JSON.stringify(r.body));
    failId = r.body.id;
    await page.goto(h.base + `/#/fn/${failId}/history`);
    await page.click('.subtabs a:has-text("Dead letters")');
    await page.waitForURL(/view=dead/);
    const empty = page.locator('.dl-empty');
    await empty.waitFor();
    assert(/async call that fails on every retry/.test(await empty.textContent()), await empty.textContent());
    await shots('dead-letters-empty');
  });
  await step('dead letters: an async call that always raises is retried, fails, and the Invoke tab says it is a dead letter', async () => {
    await page.goto(h.base + `/#/fn/${failId}/invoke`);
    await runMode('Async');
    await setEditor('#payload-editor', '{"n": 7}');
    await page.click('.run-btn');
    await page.locator('.accepted', { hasText: '202 Accepted' }).waitFor();
    deadId = (await page.textContent('.async-call .facts dd.mono')).trim();
    await page.locator('.async-call[data-status="failed"]').waitFor({ timeout: 40000 });
    assert((await page.locator('.attempt-table tbody tr').count()) === 2, 'two attempts: the first and its one retry');
    assert((await page.textContent('.async-call .result-error')).includes('RuntimeError: always fails: 7'), 'the last attempt\'s error');
    assert((await page.textContent('.async-call .result-logs')).includes('failing on purpose'), 'and its logs');
    await shots('invoke-async-failed');
  });
  await step('dead letters: listed with when, reason, last error and tries; Redrive queues it again', async () => {
    await page.click('a.dead-link');
    await page.waitForURL(/view=dead/);
    const row = page.locator(`.dl-table tr[data-call="${deadId}"]`);
    await row.waitFor();
    const t = await row.textContent();
    assert(/retries exhausted/.test(t) && /RuntimeError: always fails: 7/.test(t), t);
    assert((await row.locator('[data-label="Tries"]').textContent()).trim() === '2', 'two tries');
    assert((await page.textContent('.subtabs')).includes('Dead letters1'), 'the count beside the tab: ' + (await page.textContent('.subtabs')));
    await page.locator('.async-call[data-status="failed"]').waitFor(); // the call, opened beside the list
    await shots('dead-letters');
    await row.locator('button.redrive').click();
    // queued again: its retry is 3 s off, long enough to see
    await page.locator('.async-call[data-status="queued"]').waitFor({ timeout: 10000 });
    assert((await page.textContent('.async-call .facts')).includes('Redriven1 time'), 'it says it was redriven');
    // it fails again and comes back to the list, which updates by itself
    await page.locator(`.dl-table tr[data-call="${deadId}"]`, { hasText: 'redriven 1×' }).waitFor({ timeout: 30000 });
    const c = await apiJson(h, 'GET', `/invocations/${deadId}`);
    assert(c.body.redrives === 1 && c.body.attempts.length === 4 && c.body.status === 'failed', JSON.stringify(c.body).slice(0, 300));
  });
  await step('dead letters: Redrive all (after a confirmation) queues every one again', async () => {
    await page.click('button.redrive-all');
    await page.locator('dialog[open]', { hasText: 'Redrive the dead letter?' }).waitFor();
    await page.click('dialog button[type=submit]:has-text("Redrive all")');
    await page.locator('.toast', { hasText: '1 call queued again' }).waitFor();
    await page.locator(`.dl-table tr[data-call="${deadId}"]`, { hasText: 'redriven 2×' }).waitFor({ timeout: 30000 });
    await apiJson(h, 'DELETE', `/functions/${failId}`);
    await page.goto(h.base + `/#/fn/${fid}/invoke`);
  });

  // 4. edit the code and see the new result
  await step('4. edit the code: the next call gives the new result (revision 2)', async () => {
    await page.click('.tabs a:has-text("Configuration")');
    await page.waitForSelector('#f-code');
    await setEditor('#f-code', PY1.replace('"hello "', '"goodbye "').replace('"v": 1', '"v": 2'));
    await page.click('button[type=submit]:has-text("Save changes")');
    await page.waitForURL(/\/invoke$/);
    await setEditor('#payload-editor', '{"name": "edit"}');
    await page.click('.run-btn');
    await page.locator('.result-value', { hasText: 'goodbye edit' }).waitFor({ timeout: 30000 });
    assert((await page.textContent('.result')).includes('revision 2'), 'revision 2');
  });

  // 5. a validation error next to its field
  await step('5. a validation error from the API shows next to its field', async () => {
    await page.click('.tabs a:has-text("Configuration")');
    await page.fill('#f-timeout', '0');
    await page.click('button[type=submit]:has-text("Save changes")');
    const err = page.locator('#f-timeout-error');
    await err.waitFor();
    assert((await err.textContent()).includes('out of range'), 'message: ' + (await err.textContent()));
    assert((await page.getAttribute('#f-timeout', 'aria-invalid')) === 'true', 'the field is marked invalid');
    assert((await page.getAttribute('#f-timeout', 'aria-describedby')) === 'f-timeout-error', 'and points at its message');
    assert(await page.evaluate(() => document.activeElement.id === 'f-timeout'), 'focus moved to the field');
    await shots('config-error');
  });
  await step('a taken name is shown next to the name field', async () => {
    await freshPage(h, '/#/new');
    await page.fill('#f-name', 'web-hello');
    await page.click('button[type=submit]:has-text("Create function")');
    const err = page.locator('#f-name-error');
    await err.waitFor();
    assert((await err.textContent()).includes('taken'), await err.textContent());
  });

  // 6. save a test event and reuse it
  await step('6. save a test event, then pick it again after a reload and run it', async () => {
    await page.goto(h.base + `/#/fn/${fid}/invoke`);
    await setEditor('#payload-editor', '{"name": "from-event"}');
    await page.click('button:has-text("Save as…")');
    await page.fill('#prompt-input', 'my event');
    await page.click('dialog button[type=submit]:has-text("Save")');
    await page.locator('#ev-pick option', { hasText: 'my event' }).waitFor({ state: 'attached' });
    const saved = await apiJson(h, 'GET', `/functions/${fid}/test-events`);
    assert(saved.body.events.some((e) => e.name === 'my event' && e.payload.name === 'from-event'), 'stored on the server: ' + JSON.stringify(saved.body));
    await page.reload();
    await setEditor('#payload-editor', '{}');
    await page.locator('#ev-pick option', { hasText: 'my event' }).waitFor({ state: 'attached' });
    await page.selectOption('#ev-pick', 'my event');
    assert(await editorHas('#payload-editor', 'from-event'), 'the payload is back in the editor');
    await page.click('.run-btn');
    await page.locator('.result-value', { hasText: 'goodbye from-event' }).waitFor({ timeout: 30000 });
  });

  // history
  await step('history: filter by start kind, open a call with its payload and logs, replay it', async () => {
    await page.click('.tabs a:has-text("History")');
    await page.locator('.hist-table tbody tr').first().waitFor();
    await page.selectOption('#h-start', 'cold');
    const cold = await page.locator('.hist-table tbody tr').count();
    await page.selectOption('#h-start', 'warm');
    const warm = await page.locator('.hist-table tbody tr').count();
    assert(warm > 0 && cold === 0 || warm > cold, `warm ${warm}, cold ${cold}`);
    await page.selectOption('#h-start', '');
    await page.selectOption('#h-status', 'success');
    await page.locator('.hist-table tbody tr').first().click();
    await page.locator('.inv-payload', { hasText: 'from-event' }).waitFor();
    assert((await page.textContent('.history .result-logs')).includes('log line'), 'logs of the call');
    await page.click('button:has-text("Replay")');
    await page.locator('text=Replayed just now').waitFor({ timeout: 30000 });
    await shots('history');
  });

  // 7. the pool view changes when a function is created (no reload)
  await step('7. the live pool shows a new function\'s containers without a reload', async () => {
    await page.goto(h.base + '/#/pool');
    await page.locator(`.pool-table tr[data-fn="web-hello"]`).first().waitFor({ timeout: 20000 });
    assert((await page.locator('tr[data-fn="web-pool"]').count()) === 0, 'no web-pool row yet');
    const r = await apiJson(h, 'POST', '/functions/', { name: 'web-pool', language: 'python', min_warm: 2, code: 'def handler(e, c):\n    return 1\n' });
    assert(r.status === 201, 'created over the API: ' + JSON.stringify(r.body));
    await page.locator('tr[data-fn="web-pool"]').nth(1).waitFor({ timeout: 30000 });
    const url = page.url();
    assert(url.endsWith('#/pool'), 'same page');
  });
  await step('the latency chart plots the calls that streamed in', async () => {
    for (let i = 0; i < 5; i++) await apiJson(h, 'POST', `/functions/${fid}/execute`, { name: 'chart' });
    await page.locator('.chart canvas').first().waitFor();
    await page.waitForFunction(() => /[1-9]\d* calls/.test(document.querySelector('#lat-label').parentElement.nextElementSibling.textContent), null, { timeout: 10000 });
    await shots('pool');
  });

  // functions list with stats
  await step('the function list shows language, revision, containers and last hour\'s calls', async () => {
    await page.goto(h.base + '/#/');
    const row = page.locator('tr[data-fn="web-hello"]');
    await row.waitFor();
    const text = await row.textContent();
    assert(/Python/.test(text) && /warm/.test(text) && /from stem/.test(text), text);
    await page.waitForFunction(() => {
      const r = document.querySelector('tr[data-fn="web-hello"]');
      return r && /success/.test(r.textContent) && /\d+/.test(r.querySelector('[data-label="Calls (1 h)"]').textContent);
    }, null, { timeout: 10000 });
    await shots('functions');
  });

  // 8. a small warm-vs-cold benchmark
  await step('8. a warm-against-cold benchmark draws both series and their ratio', async () => {
    await page.goto(h.base + `/#/fn/${fid}/bench`);
    await page.fill('#b-warm', '30');
    await page.uncheck('#b-on-stem');
    await page.fill('#b-cold', '3');
    await page.click('.bench-run');
    await page.locator('.bench-table tr[data-kind="cold"]').waitFor({ timeout: 90000 });
    assert(await page.locator('.bench-table tr[data-kind="warm"]').isVisible(), 'warm row');
    assert(await page.locator('.ratio[data-ratio="cold/warm"]').isVisible(), 'the cold/warm ratio');
    assert(await page.locator('.bench-results .chart canvas').isVisible(), 'the distribution chart');
    const legend = await page.textContent('.bench-results .u-legend');
    assert(/warm/.test(legend) && /cold/.test(legend), 'both series in the legend: ' + legend);
    await shots('bench');
  });

  // 9. delete it
  await step('9. delete the function (after a confirmation)', async () => {
    await page.goto(h.base + `/#/fn/${fid}/invoke`);
    await page.click('.page-head button.danger:has-text("Delete")');
    await page.locator('dialog[open]').waitFor();
    await shots('delete-confirm');
    await page.click('dialog button:has-text("Delete function")');
    await page.waitForURL(/#\/$/);
    await page.locator('tr[data-fn="web-hello"]').waitFor({ state: 'detached' });
    assert((await apiJson(h, 'GET', `/functions/${fid}`)).status === 404, 'gone from the API');
  });

  // A Node function: create (the template follows the language), invoke, delete.
  await step('Node: create through the form with the Node.js starter', async () => {
    await freshPage(h, '/#/new');
    await page.fill('#f-name', 'web-node');
    await page.selectOption('#f-language', 'node');
    assert(await editorHas('#f-code', 'exports.handler'), 'the Node template replaced the Python one');
    await page.click('button[type=submit]:has-text("Create function")');
    await page.waitForURL(/#\/fn\/\d+\/invoke$/);
  });
  await step('Node: invoke it and see its result and logs', async () => {
    await setEditor('#payload-editor', '{"name": "Node"}');
    await page.click('.run-btn');
    await page.locator('.result-value', { hasText: 'Hello, Node!' }).waitFor({ timeout: 30000 });
    assert((await page.textContent('.result-logs')).includes('web-node got'), 'logs');
  });
  await step('Node: delete it', async () => {
    await page.click('.page-head button.danger:has-text("Delete")');
    await page.click('dialog button:has-text("Delete function")');
    await page.waitForURL(/#\/$/);
    await page.locator('tr[data-fn="web-node"]').waitFor({ state: 'detached' });
  });

  await step('zip: a function from a .zip chosen in the file picker', async () => {
    const zip = makeZip({ 'main.py': 'from helper import shout\n\ndef handler(event, context):\n    return shout("zipped")\n',
      'helper.py': 'def shout(s):\n    return s.upper() + "!"\n' });
    await freshPage(h, '/#/new');
    await page.fill('#f-name', 'web-zip');
    await page.click('.seg label:has-text("Upload .zip")');
    await page.setInputFiles('#f-zip', { name: 'bad.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
    await page.click('button[type=submit]:has-text("Create function")');
    const err = page.locator('#f-zip-error');
    await err.waitFor();
    assert(/^zip: /.test(await err.textContent()), 'a bad archive is refused next to the zip field: ' + (await err.textContent()));
    await page.setInputFiles('#f-zip', { name: 'code.zip', mimeType: 'application/zip', buffer: zip });
    await page.locator('.dropzone', { hasText: 'code.zip' }).waitFor();
    await shots('zip');
    await page.click('button[type=submit]:has-text("Create function")');
    await page.waitForURL(/#\/fn\/\d+\/invoke$/);
    await page.click('.run-btn');
    await page.locator('.result-value', { hasText: 'ZIPPED!' }).waitFor({ timeout: 30000 });
    const id = Number(/#\/fn\/(\d+)/.exec(page.url())[1]);
    await apiJson(h, 'DELETE', `/functions/${id}`);
  });

  await step('keyboard: the form can be filled and sent without a mouse', async () => {
    await freshPage(h, '/#/new');
    await page.focus('#f-name');
    await page.keyboard.type('web-keys');
    await page.keyboard.press('Tab'); // language
    await page.keyboard.press('Tab'); // handler
    await page.keyboard.press('Tab'); // route
    await page.keyboard.type('/keys');
    // the create button is reachable by Tab (the editor is left with Esc, Tab)
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => document.activeElement.className.includes('cm-content'));
      if (f) { await page.keyboard.press('Escape'); await page.keyboard.press('Tab'); }
      reached = await page.evaluate(() => document.activeElement.textContent === 'Create function');
    }
    assert(reached, 'Tab reaches the Create button');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/fn\/\d+\/invoke$/);
    const id = Number(/#\/fn\/(\d+)/.exec(page.url())[1]);
    const f = await apiJson(h, 'GET', `/functions/${id}`);
    assert(f.body.route === '/keys', 'route typed by keyboard: ' + f.body.route);
    await apiJson(h, 'DELETE', `/functions/${id}`);
  });

  await step('every control on every screen has a label', async () => {
    assert(unnamed.length === 0, unnamed.join('\n'));
  });
  await step('nothing sticks out sideways at 400 px', async () => {
    assert(overflow.length === 0, overflow.join('\n'));
  });
  await step('no request left hearthd (no CDN, no fonts, nothing)', async () => {
    assert(foreign.length === 0, foreign.join('\n'));
  });

  // ---- 401 → token dialog → retry: a hearthd started with --token, seen
  // through a proxy that only watches (and can play dead) -------------------
  const TOKEN = 's3cret-token-' + Math.random().toString(36).slice(2);
  const h3 = await startHearth(['--token', TOKEN]);
  assert((await apiJson(h3, 'POST', '/functions/', { name: 'web-pool', language: 'python', code: 'def handler(e, c):\n    return 1\n' }, TOKEN)).status === 201,
    'a function on the hearthd with a token');
  const seen = { auth: 0, noauth: 0, tokenInUrl: 0, events: 0 };
  let proxyDown = false;
  const sockets = new Set();
  const proxy = http.createServer((req, res) => {
    if (proxyDown) { req.socket.destroy(); return; }
    if (req.url.includes(TOKEN)) seen.tokenInUrl++;
    const isStatic = req.url === '/' || /^\/(index\.html|app\.(js|css))(\?|$)/.test(req.url);
    if (!isStatic) {
      if (req.headers.authorization === `Bearer ${TOKEN}`) {
        seen.auth++;
        if (req.url.startsWith('/events')) seen.events++;
      } else {
        seen.noauth++;
      }
    }
    const up = http.request({ host: '127.0.0.1', port: h3.port, path: req.url, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  proxy.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  const pport = await freePort();
  await new Promise((r) => proxy.listen(pport, '127.0.0.1', r));
  const pbase = `http://127.0.0.1:${pport}`;
  allowed.add(pbase);

  await step('401: the token dialog asks; cancelled, a banner offers it again', async () => {
    await page.goto(pbase + '/');
    await page.locator('dialog[open] #token-input').waitFor();
    await shots('token');
    await page.click('dialog button:has-text("Cancel")');
    const banner = page.locator('.banner', { hasText: 'needs an access token' });
    await banner.waitFor();
    await sleep(1500);
    assert(!(await page.locator('dialog[open]').count()), 'no dialog pops up again by itself');
    await banner.locator('button:has-text("Enter token")').click();
    await page.locator('dialog[open] #token-input').waitFor();
  });
  await step('401: a wrong token is refused and asked again, the right one loads the page and the stream', async () => {
    await page.fill('#token-input', 'wrong');
    await page.click('dialog button:has-text("Use token")');
    await page.locator('dialog[open]', { hasText: 'That token was refused' }).waitFor();
    await page.fill('#token-input', TOKEN);
    await page.click('dialog button:has-text("Use token")');
    await page.locator('tr[data-fn="web-pool"]').waitFor();
    await page.locator('.conn', { hasText: 'Live' }).waitFor({ timeout: 10000 });
    assert(!(await page.locator('.banner').count()), 'the banner went');
  });
  await step('the event stream sends the token in a header, never in a URL', async () => {
    assert(seen.events >= 1, `an authorised /events request: ${JSON.stringify(seen)}`);
    assert(seen.tokenInUrl === 0, 'the token never appears in a URL');
  });
  await step('the token lasts the session: a reload asks no more', async () => {
    const before = seen.noauth;
    await page.reload();
    await page.locator('tr[data-fn="web-pool"]').waitFor();
    await sleep(300);
    assert(!(await page.locator('dialog[open]').count()), 'no dialog');
    assert(seen.noauth === before, `no unauthorised request (${before} → ${seen.noauth})`);
  });
  await step('hearthd unreachable: a banner says so, and goes when it is back', async () => {
    proxyDown = true;
    for (const s of sockets) s.destroy();
    await page.locator('.banner', { hasText: 'hearthd is not reachable' }).waitFor({ timeout: 20000 });
    assert((await page.textContent('.banner')).includes('./run.sh'), 'says what to do');
    await shots('offline');
    proxyDown = false;
    await page.locator('.banner').waitFor({ state: 'detached', timeout: 20000 });
    await page.locator('.conn', { hasText: 'Live' }).waitFor({ timeout: 20000 });
  });
  proxy.close();
  for (const s of sockets) s.destroy();

  // ---- Docker down: a hearthd whose Docker socket is a relay that this
  // script opens later -------------------------------------------------------
  const sockDir = mkdtempSync(join(tmpdir(), 'hearth-dsock-'));
  tmps.push(sockDir);
  const relayPath = join(sockDir, 'docker.sock');
  const h2 = await startHearth(['--docker-socket', relayPath]);
  allowed.add(h2.base);
  await step('Docker down: a banner says so and what to do', async () => {
    await page.goto(h2.base + '/');
    await page.locator('.banner', { hasText: 'Docker is not reachable' }).waitFor({ timeout: 20000 });
    assert(/start dockerd/i.test(await page.textContent('.banner')), 'says to start dockerd');
    await shots('docker-down');
  });
  const relay = net.createServer((c) => {
    const d = net.connect('/var/run/docker.sock');
    c.pipe(d); d.pipe(c);
    c.on('error', () => d.destroy()); d.on('error', () => c.destroy());
  });
  await new Promise((r) => relay.listen(relayPath, r));
  await step('Docker back: the banner goes by itself', async () => {
    await page.locator('.banner').waitFor({ state: 'detached', timeout: 60000 });
  });
  await step('no script error on any page', async () => {
    assert(scriptErrors.length === 0, scriptErrors.join('\n'));
  });

  await ctx.close();
  const c2 = await stop(h2);
  relay.close();
  const c3 = await stop(h3);
  const c1 = await stop(h);
  ok(c1 === 0, `hearthd stops on SIGTERM (exit ${c1})`, h.log().slice(-2000));
  ok(c2 === 0, `the second hearthd stops on SIGTERM (exit ${c2})`, h2.log().slice(-2000));
  ok(c3 === 0, `the hearthd with a token stops on SIGTERM (exit ${c3})`, h3.log().slice(-2000));
}

try {
  await main();
} catch (e) {
  ok(false, 'the run finished', e && e.stack);
} finally {
  await cleanup();
  console.log(`1..${n}`);
  diag(`${n - failures} passed, ${failures} failed in ${((Date.now() - T0) / 1000).toFixed(1)} s; screenshots in ${ART}`);
}
process.exit(failures ? 1 : 0);
