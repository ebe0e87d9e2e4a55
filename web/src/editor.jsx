// editor.jsx — CodeMirror 6 as a Preact component: code (Python or
// JavaScript) and JSON (with a parse linter).  Colours come from CSS
// variables, so one highlight style serves the light and the dark theme.
import { useEffect, useRef } from 'preact/hooks';
import { EditorState, Compartment } from '@codemirror/state';
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, placeholder as cmPlaceholder,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import {
  syntaxHighlighting, HighlightStyle, indentOnInput, bracketMatching, indentUnit,
} from '@codemirror/language';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import { linter, lintGutter } from '@codemirror/lint';
// The languages alone (no completion sources): a smaller bundle.
import { pythonLanguage } from '@codemirror/lang-python';
import { javascriptLanguage } from '@codemirror/lang-javascript';
import { jsonLanguage, jsonParseLinter } from '@codemirror/lang-json';
import { tags as t } from '@lezer/highlight';

const style = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.moduleKeyword, t.operatorKeyword, t.definitionKeyword], color: 'var(--hl-keyword)' },
  { tag: [t.string, t.special(t.string), t.regexp], color: 'var(--hl-string)' },
  { tag: [t.number, t.bool, t.null, t.atom], color: 'var(--hl-number)' },
  { tag: [t.comment, t.lineComment, t.blockComment], color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: [t.function(t.variableName), t.function(t.definition(t.variableName)), t.function(t.propertyName)], color: 'var(--hl-function)' },
  { tag: [t.definition(t.variableName), t.className, t.typeName], color: 'var(--hl-def)' },
  { tag: [t.propertyName], color: 'var(--hl-property)' },
  { tag: [t.self, t.special(t.variableName)], color: 'var(--hl-keyword)' },
  { tag: t.invalid, color: 'var(--danger)' },
]);

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--code-bg)', fontSize: '13px', borderRadius: '6px', border: '1px solid var(--border)' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '1px' },
  '.cm-content': { fontFamily: 'var(--mono)', caretColor: 'var(--fg)', padding: '6px 0' },
  '.cm-scroller': { fontFamily: 'var(--mono)', lineHeight: '1.5' },
  '.cm-gutters': { backgroundColor: 'var(--code-gutter)', color: 'var(--muted)', border: 'none', borderRadius: '6px 0 0 6px' },
  '.cm-activeLine': { backgroundColor: 'var(--code-active)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--code-active)' },
  '&.cm-focused .cm-cursor': { borderLeftColor: 'var(--fg)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': { backgroundColor: 'var(--code-sel) !important' },
  '.cm-matchingBracket': { backgroundColor: 'var(--code-sel)', outline: 'none' },
  '.cm-placeholder': { color: 'var(--muted)' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', color: 'var(--fg)', border: '1px solid var(--border)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--danger)' },
});

function langExt(lang) {
  if (lang === 'python') return [pythonLanguage, indentUnit.of('    ')];
  if (lang === 'node' || lang === 'javascript') return [javascriptLanguage, indentUnit.of('  ')];
  if (lang === 'json') return [jsonLanguage, linter(jsonParseLinter(), { delay: 200 }), lintGutter(), indentUnit.of('  ')];
  return [];
}

export function CodeEditor({ value, version = 0, onChange, lang, labelledBy, describedBy, id, minLines = 8, onRun, placeholder, readOnly, invalid }) {
  const host = useRef(null);
  const view = useRef(null);
  const langC = useRef(new Compartment());
  const cb = useRef({});
  const shown = useRef(version);
  cb.current = { onChange, onRun };

  useEffect(() => {
    const attrs = { 'aria-multiline': 'true' };
    if (labelledBy) attrs['aria-labelledby'] = labelledBy;
    if (describedBy) attrs['aria-describedby'] = describedBy;
    if (id) attrs.id = id;
    const runKeys = [{
      key: 'Mod-Enter',
      run: () => { if (cb.current.onRun) { cb.current.onRun(); return true; } return false; },
    }];
    view.current = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: value || '',
        extensions: [
          lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), history(), drawSelection(),
          indentOnInput(), bracketMatching(), closeBrackets(),
          keymap.of([...runKeys, ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
          syntaxHighlighting(style), theme,
          langC.current.of(langExt(lang)),
          EditorView.contentAttributes.of(attrs),
          EditorState.readOnly.of(!!readOnly),
          EditorView.editable.of(!readOnly),
          placeholder ? cmPlaceholder(placeholder) : [],
          EditorView.theme({ '.cm-content, .cm-gutter': { minHeight: `${minLines * 1.5 * 13 + 12}px` } }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged && cb.current.onChange) cb.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current.destroy();
  }, []);

  // The editor owns its text while the user types; a value from outside
  // replaces it only when `version` changes (a template, a loaded event, a
  // discard), never because a render trails the typing.
  useEffect(() => {
    const v = view.current;
    if (!v || version === shown.current) return;
    shown.current = version;
    const doc = v.state.doc.toString();
    if (value == null || value === doc) return;
    // replace the part that differs, so the cursor and the rest stay put
    let a = 0, b = doc.length, c = value.length;
    while (a < b && a < c && doc.charCodeAt(a) === value.charCodeAt(a)) a++;
    while (b > a && c > a && doc.charCodeAt(b - 1) === value.charCodeAt(c - 1)) { b--; c--; }
    v.dispatch({ changes: { from: a, to: b, insert: value.slice(a, c) } });
  }, [version]);

  useEffect(() => {
    view.current && view.current.dispatch({ effects: langC.current.reconfigure(langExt(lang)) });
  }, [lang]);

  return <div class={'editor' + (invalid ? ' invalid' : '')} ref={host} />;
}
