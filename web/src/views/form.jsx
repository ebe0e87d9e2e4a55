// views/form.jsx — create and edit a function in one form: code (editor or
// zip), handler, route, limits, pool sizes, environment.  The API checks
// everything; its error names the field first and is shown beside it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { post, put } from '../api.js';
import { CodeEditor } from '../editor.jsx';
import { refreshFunctions } from '../live.js';
import { go } from '../router.js';
import { store } from '../store.js';
import { bytes } from '../format.js';
import { Field, fieldAria } from '../ui.jsx';

export const TEMPLATES = {
  python: `import json


def handler(event, context):
    """Runs once per invocation. event is the JSON payload you send."""
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    print(f"{context.function_name} got {json.dumps(event)}")
    return {"message": f"Hello, {name}!"}
`,
  node: `exports.handler = async (event, context) => {
  // Runs once per invocation. event is the JSON payload you send.
  const name = (event && event.name) || 'world';
  console.log(\`\${context.functionName} got \${JSON.stringify(event)}\`);
  return { message: \`Hello, \${name}!\` };
};
`,
};
const DEFAULT_HANDLER = { python: 'main.handler', node: 'index.handler' };
const FILE = { python: 'main.py', node: 'index.js' };
const ZIP_MAX = 50 * 1024 * 1024;
const NUMERIC = ['timeout', 'memory', 'min_warm', 'max_concurrency', 'async_retries', 'async_max_age'];
// where an API error about a field is shown
const FIELD_OF = { code: 'code', zip: 'code', 'code, zip': 'code', language: 'language', javascript: 'language' };

let rowId = 0;
const envRows = (env) => {
  const rows = Object.entries(env || {}).map(([k, v]) => ({ k, v, id: ++rowId }));
  return rows.length ? rows : [{ k: '', v: '', id: ++rowId }];
};

function initial(fn) {
  const lang = fn ? (fn.language === 'javascript' ? 'node' : fn.language) : 'python';
  return {
    name: fn ? fn.name : '',
    language: lang,
    handler: fn ? fn.handler || '' : '',
    route: fn && fn.route ? fn.route : '',
    description: fn && fn.description ? fn.description : '',
    route_auth: fn && fn.route_auth ? fn.route_auth : '',
    async_retries: String(fn && fn.async_retries != null ? fn.async_retries : 2),
    async_max_age: String(fn && fn.async_max_age != null ? fn.async_max_age : 21600),
    timeout: String(fn ? fn.timeout : 3),
    memory: String(fn ? fn.memory : 128),
    min_warm: String(fn ? fn.min_warm : 1),
    max_concurrency: String(fn ? fn.max_concurrency : 10),
    env: envRows(fn && fn.env),
    mode: 'code',
    code: fn ? (fn.code ?? '') : TEMPLATES.python,
    zip: null,
    codeVersion: 0, // bumped when the code is replaced from outside the editor
  };
}

function readZip(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => {
      const s = String(r.result);
      resolve(s.slice(s.indexOf(',') + 1));
    };
    r.onerror = () => reject(r.error || new Error('cannot read the file'));
    r.readAsDataURL(file);
  });
}

function ZipPicker({ zip, onZip, error, setError }) {
  const [over, setOver] = useState(false);
  const take = async (file) => {
    if (!file) return;
    if (!/\.zip$/i.test(file.name) && file.type !== 'application/zip' && file.type !== 'application/x-zip-compressed') {
      setError('zip: choose a .zip archive'); return;
    }
    if (file.size > ZIP_MAX) { setError(`zip: ${bytes(file.size)} is more than 50 MB`); return; }
    try {
      const b64 = await readZip(file);
      setError(null);
      onZip({ name: file.name, size: file.size, b64 });
    } catch (e) { setError(`zip: ${e.message}`); }
  };
  return (
    <div>
      <label class={'dropzone' + (over ? ' over' : '')} for="f-zip"
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); take(e.dataTransfer.files[0]); }}>
        <input id="f-zip" type="file" accept=".zip,application/zip" onChange={(e) => take(e.currentTarget.files[0])}
          {...fieldAria('f-zip', error)} />
        <strong>{zip ? zip.name : 'Drop a .zip archive here'}</strong>
        <span class="muted small">{zip ? `${bytes(zip.size)} · click or drop to replace` : 'or click to choose a file (the handler\'s module at its root)'}</span>
      </label>
      {error && <p class="field-error" id="f-zip-error" role="alert">{error}</p>}
    </div>
  );
}

export function FunctionForm({ fn, onSaved }) {
  const editing = !!fn;
  const [s, setS] = useState(() => initial(fn));
  const [errors, setErrors] = useState({});
  const [formError, setFormError] = useState(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const set = (patch) => setS((o) => ({ ...o, ...patch }));
  const err = (k) => errors[k];

  useEffect(() => { if (!editing) document.title = 'New function · Hearth'; }, []);

  const setLanguage = (lang) => {
    const patch = { language: lang };
    // swap the starter for the other language's, unless the user wrote code
    if (!s.code.trim() || s.code === TEMPLATES[s.language]) { patch.code = TEMPLATES[lang]; patch.codeVersion = s.codeVersion + 1; }
    if (s.handler === DEFAULT_HANDLER[s.language]) patch.handler = '';
    set(patch);
  };

  const setEnv = (i, patch) => set({ env: s.env.map((r, j) => (j === i ? { ...r, ...patch } : r)) });

  function body() {
    const e = {};
    const out = {};
    const o = initial(fn);
    const changed = (k) => !editing || s[k] !== o[k];
    if (changed('name')) out.name = s.name.trim();
    if (changed('language')) out.language = s.language;
    if (s.handler.trim() && changed('handler')) out.handler = s.handler.trim();
    if (changed('route')) {
      if (s.route.trim()) out.route = s.route.trim();
      else if (editing) out.route = null;
    }
    if (changed('description')) {
      if (s.description.trim()) out.description = s.description.trim();
      else if (editing) out.description = null;
    }
    if (changed('route_auth')) {
      if (s.route_auth) out.route_auth = s.route_auth;
      else if (editing) out.route_auth = null;
    }
    for (const k of NUMERIC) {
      const v = s[k].trim();
      if (!/^\d+$/.test(v)) { e[k] = `${k}: must be a whole number`; continue; }
      if (changed(k)) out[k] = Number(v);
    }
    const env = {};
    s.env.forEach((r, i) => {
      const k = r.k.trim();
      if (!k && !r.v) return;
      if (!k) { e[`env.${i}`] = 'a variable needs a name'; return; }
      if (k in env) { e[`env.${i}`] = `${k} is already set above`; return; }
      env[k] = r.v;
    });
    if (!editing || JSON.stringify(env) !== JSON.stringify(fn.env || {})) out.env = env;
    if (s.mode === 'zip') {
      if (s.zip) out.zip = s.zip.b64;
      else if (!editing) e.code = 'zip: choose a .zip archive, or switch to "Write code"';
    } else if (!editing || s.code !== o.code || s.language !== o.language) {
      if (!s.code.trim()) e.code = 'code: the source is empty';
      else out.code = s.code;
    }
    return { out, e };
  }

  const focusFirstError = () => requestAnimationFrame(() => {
    const el = formRef.current && formRef.current.querySelector('[aria-invalid="true"], .editor.invalid .cm-content');
    if (el) el.focus();
  });

  async function submit(ev) {
    ev.preventDefault();
    if (busy) return;
    setFormError(null);
    const { out, e } = body();
    if (Object.keys(e).length) { setErrors(e); focusFirstError(); return; }
    setErrors({});
    if (editing && !Object.keys(out).length) { store.toast('Nothing changed'); return; }
    setBusy(true);
    try {
      const saved = editing ? await put(`/functions/${fn.id}`, out) : await post('/functions/', out);
      refreshFunctions();
      store.toast(editing ? `Saved ${saved.name}: revision ${saved.revision}` : `Created ${saved.name}`);
      if (onSaved) onSaved(saved);
      go(`/fn/${saved.id}/invoke`);
    } catch (x) {
      const f = x.field ? x.field.split(/[.[]/)[0] : null;
      const key = f && (FIELD_OF[f] || (f in s ? f : null));
      if (key && key !== 'mode') {
        setErrors({ [key]: x.message });
        focusFirstError();
      } else {
        setFormError(x.message);
      }
    } finally {
      setBusy(false);
    }
  }

  const codeLabel = s.mode === 'zip' ? 'Code' : `Code (${FILE[s.language]})`;
  return (
    <form ref={formRef} class="stack fn-form" onSubmit={submit} noValidate aria-label={editing ? `Edit ${fn.name}` : 'Create a function'}>
      {!editing && <div class="page-head"><h1>Create a function</h1><span class="spacer" /><a class="btn" href="#/">Cancel</a></div>}
      <div class="card">
        <div class="fields">
          <Field id="f-name" label="Name" error={err('name')} hint="Letters, digits, - and _ (at most 64)">
            <input id="f-name" name="name" value={s.name} onInput={(e) => set({ name: e.currentTarget.value })}
              autocomplete="off" spellcheck={false} maxLength={64} required {...fieldAria('f-name', err('name'), true)} />
          </Field>
          <Field id="f-language" label="Language" error={err('language')}>
            <select id="f-language" name="language" value={s.language} onChange={(e) => setLanguage(e.currentTarget.value)} {...fieldAria('f-language', err('language'))}>
              <option value="python">Python</option>
              <option value="node">Node.js</option>
            </select>
          </Field>
          <Field id="f-handler" label="Handler" error={err('handler')} hint={`module.function; empty means ${DEFAULT_HANDLER[s.language]}`}>
            <input id="f-handler" name="handler" value={s.handler} placeholder={DEFAULT_HANDLER[s.language]}
              onInput={(e) => set({ handler: e.currentTarget.value })} spellcheck={false} autocomplete="off" {...fieldAria('f-handler', err('handler'), true)} />
          </Field>
          <Field id="f-route" label="Route (optional)" error={err('route')} hint={s.route.trim() ? `Its function URL: ${location.origin}/fn${s.route.trim()}` : 'A function URL: /fn/… calls it'}>
            <input id="f-route" name="route" value={s.route} placeholder="/hello" onInput={(e) => set({ route: e.currentTarget.value })}
              spellcheck={false} autocomplete="off" {...fieldAria('f-route', err('route'), true)} />
          </Field>
          <Field id="f-route_auth" label="Function URL access" error={err('route_auth')} hint="default: the token, when hearthd has one">
            <select id="f-route_auth" value={s.route_auth} onChange={(e) => set({ route_auth: e.currentTarget.value })} {...fieldAria('f-route_auth', err('route_auth'), true)}>
              <option value="">default</option>
              <option value="token">token</option>
              <option value="none">public</option>
            </select>
          </Field>
          <Field id="f-description" label="Description (optional)" error={err('description')} wide>
            <input id="f-description" value={s.description} maxLength={256} onInput={(e) => set({ description: e.currentTarget.value })}
              {...fieldAria('f-description', err('description'))} />
          </Field>
        </div>
      </div>

      <div class="card">
        <header>
          <h2 id="f-code-label">{codeLabel}</h2>
          <span class="spacer" />
          <div class="seg" role="radiogroup" aria-label="Where the code comes from">
            <label><input type="radio" name="mode" value="code" checked={s.mode === 'code'} onChange={() => set({ mode: 'code' })} /><span>Write code</span></label>
            <label><input type="radio" name="mode" value="zip" checked={s.mode === 'zip'} onChange={() => set({ mode: 'zip' })} /><span>Upload .zip</span></label>
          </div>
        </header>
        {s.mode === 'code' ? (
          <>
            <CodeEditor id="f-code" lang={s.language} value={s.code} version={s.codeVersion} onChange={(v) => setS((o) => ({ ...o, code: v }))}
              labelledBy="f-code-label" describedBy={err('code') ? 'f-code-error' : 'f-code-hint'} minLines={14} invalid={!!err('code')} />
            {err('code') ? <p class="field-error" id="f-code-error" role="alert">{err('code')}</p>
              : <p class="hint" id="f-code-hint">Tab indents; press <kbd>Esc</kbd> then <kbd>Tab</kbd> to leave the editor.{editing && ' Saving changed code makes a new revision; warm containers of the old one drain.'}</p>}
          </>
        ) : (
          <ZipPicker zip={s.zip} onZip={(z) => set({ zip: z })} error={err('code')} setError={(m) => setErrors((o) => ({ ...o, code: m }))} />
        )}
      </div>

      <div class="card">
        <h2>Limits and pool</h2>
        <div class="fields">
          <Field id="f-timeout" label="Timeout" error={err('timeout')} hint="seconds, 1–900">
            <div class="unit-input"><input id="f-timeout" type="number" inputMode="numeric" min="1" max="900" value={s.timeout}
              onInput={(e) => set({ timeout: e.currentTarget.value })} {...fieldAria('f-timeout', err('timeout'), true)} /><span>s</span></div>
          </Field>
          <Field id="f-memory" label="Memory" error={err('memory')} hint="MB, 64–10240">
            <div class="unit-input"><input id="f-memory" type="number" inputMode="numeric" min="64" max="10240" step="64" value={s.memory}
              onInput={(e) => set({ memory: e.currentTarget.value })} {...fieldAria('f-memory', err('memory'), true)} /><span>MB</span></div>
          </Field>
          <Field id="f-min_warm" label="Warm containers (min_warm)" error={err('min_warm')} hint="kept started and idle">
            <input id="f-min_warm" type="number" inputMode="numeric" min="0" value={s.min_warm}
              onInput={(e) => set({ min_warm: e.currentTarget.value })} {...fieldAria('f-min_warm', err('min_warm'), true)} />
          </Field>
          <Field id="f-max_concurrency" label="Max concurrency" error={err('max_concurrency')} hint="containers at most">
            <input id="f-max_concurrency" type="number" inputMode="numeric" min="1" value={s.max_concurrency}
              onInput={(e) => set({ max_concurrency: e.currentTarget.value })} {...fieldAria('f-max_concurrency', err('max_concurrency'), true)} />
          </Field>
          <Field id="f-async_retries" label="Async retries" error={err('async_retries')} hint="0–2, for asynchronous calls">
            <input id="f-async_retries" type="number" inputMode="numeric" min="0" max="2" value={s.async_retries}
              onInput={(e) => set({ async_retries: e.currentTarget.value })} {...fieldAria('f-async_retries', err('async_retries'), true)} />
          </Field>
          <Field id="f-async_max_age" label="Async max event age" error={err('async_max_age')} hint="seconds, 60–21600">
            <div class="unit-input"><input id="f-async_max_age" type="number" inputMode="numeric" min="60" max="21600" value={s.async_max_age}
              onInput={(e) => set({ async_max_age: e.currentTarget.value })} {...fieldAria('f-async_max_age', err('async_max_age'), true)} /><span>s</span></div>
          </Field>
        </div>
      </div>

      <div class="card">
        <h2 id="f-env-label">Environment variables</h2>
        <div role="group" aria-labelledby="f-env-label">
          {s.env.map((r, i) => (
            <div key={r.id}>
              <div class="env-row">
                <input aria-label={`Variable ${i + 1} name`} placeholder="NAME" value={r.k} spellcheck={false} autocomplete="off"
                  onInput={(e) => setEnv(i, { k: e.currentTarget.value })} aria-invalid={err(`env.${i}`) ? 'true' : undefined} class="mono" />
                <input aria-label={`Variable ${i + 1} value`} placeholder="value" value={r.v} spellcheck={false} autocomplete="off"
                  onInput={(e) => setEnv(i, { v: e.currentTarget.value })} class="mono" />
                <button type="button" class="icon" aria-label={`Remove variable ${i + 1}`}
                  onClick={() => set({ env: s.env.length > 1 ? s.env.filter((_, j) => j !== i) : envRows({}) })}>✕</button>
              </div>
              {err(`env.${i}`) && <p class="field-error" role="alert">{err(`env.${i}`)}</p>}
            </div>
          ))}
        </div>
        {err('env') && <p class="field-error" id="f-env-error" role="alert">{err('env')}</p>}
        <button type="button" onClick={() => set({ env: [...s.env, { k: '', v: '', id: ++rowId }] })}>Add variable</button>
        <p class="hint">Strings, 4 KB in all. The function reads them as os.environ / process.env.</p>
      </div>

      {formError && <div class="form-error" role="alert">{formError}</div>}
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : editing ? 'Save changes' : 'Create function'}</button>
        {editing ? <button type="button" onClick={() => { setS({ ...initial(fn), codeVersion: s.codeVersion + 1 }); setErrors({}); setFormError(null); }}>Discard changes</button>
          : <a class="btn" href="#/">Cancel</a>}
      </div>
    </form>
  );
}
