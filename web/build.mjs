// build.mjs — bundles web/src into web/dist: index.html, app.js, app.css
// and a .gz beside each (hearthd serves the .gz to clients that accept
// gzip).  Deterministic: the same sources, lockfile and Node version give
// byte-identical files (esbuild's output is stable; gzip has no name or
// time in its header here), so a check can rebuild and diff.
// It prints the size of each file and the gzipped total of JS+CSS, and
// fails when that total is over the budget (250 KB).
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, constants } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const BUDGET_GZ = 250 * 1024; // all JS + CSS, gzipped

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await build({
  entryPoints: { app: join(src, 'main.jsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  outdir: dist,
  write: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'eof',
  charset: 'utf8',
  sourcemap: false,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
  absWorkingDir: here,
});

const files = new Map();
for (const f of result.outputFiles) {
  const name = f.path.slice(dist.length + 1);
  files.set(name, Buffer.from(f.contents));
}
for (const need of ['app.js', 'app.css'])
  if (!files.has(need)) throw new Error(`build: esbuild wrote no ${need}`);

// Cache-busting by content: hearthd answers with no-cache anyway, but a
// version in the URL keeps a stale proxy from mixing old and new files.
const version = (name) => createHash('sha256').update(files.get(name)).digest('hex').slice(0, 12);
const html = readFileSync(join(src, 'index.html'), 'utf8')
  .replace('app.css"', `app.css?v=${version('app.css')}"`)
  .replace('app.js"', `app.js?v=${version('app.js')}"`);
files.set('index.html', Buffer.from(html));

let gzTotal = 0, rawTotal = 0;
const lines = [];
for (const name of [...files.keys()].sort()) {
  const raw = files.get(name);
  // level 9, no file name, mtime 0: the same bytes every time
  const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(join(dist, name), raw);
  writeFileSync(join(dist, name + '.gz'), gz);
  lines.push(`  ${name.padEnd(12)} ${String(raw.length).padStart(9)} B  ${String(gz.length).padStart(8)} B gzipped`);
  if (/\.(js|css)$/.test(name)) { gzTotal += gz.length; rawTotal += raw.length; }
}
console.log('web/dist:');
console.log(lines.join('\n'));
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.log(`JS+CSS: ${kb(rawTotal)} raw, ${kb(gzTotal)} gzipped (budget ${kb(BUDGET_GZ)})`);
if (gzTotal > BUDGET_GZ) {
  console.error(`build: JS+CSS is ${kb(gzTotal)} gzipped, over the ${kb(BUDGET_GZ)} budget`);
  process.exit(1);
}
