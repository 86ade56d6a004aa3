// The KeyVM language (.kl) mode of the editor: highlighting, live diagnostics from the
// real compiler (the messages `keyvm run x.kl` prints) and the built-ins on hover.
// Loaded on demand (with @keyvm/compiler), so a page showing assembly never fetches it.

import { StreamLanguage, type StringStream } from '@codemirror/language';
import { type Diagnostic, linter } from '@codemirror/lint';
import { hoverTooltip } from '@codemirror/view';
import { BUILTINS, CompileError, compile, KEY_TYPES, KEYWORDS } from '@keyvm/compiler';
import type { LanguageMode } from './assembly-language.js';

const TYPES: ReadonlySet<string> = new Set(['int', 'bool', ...KEY_TYPES]);
const BUILTIN_DOCS = BUILTINS as Readonly<Record<string, string>>;

const klStream = StreamLanguage.define<{ afterDef: boolean }>({
  name: 'keyvm-language',
  startState: () => ({ afterDef: false }),
  token(stream: StringStream, state): string | null {
    if (stream.eatSpace()) return null;
    if (stream.peek() === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
    if (stream.match(/^'(?:[^'\\]|\\.)'?/)) return 'string';
    if (stream.match(/^(?:0x[0-9a-fA-F_]+|0b[01_]+|0o[0-7_]+|\d[\d_]*)/)) return 'number';
    const word = stream.match(/^[A-Za-z_]\w*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      const wasDef = state.afterDef;
      state.afterDef = w === 'def' || w === 'domain' || w === 'typ';
      if (w === 'true' || w === 'false') return 'bool';
      if (KEYWORDS.has(w)) return 'keyword';
      if (wasDef) return 'def';
      if (TYPES.has(w)) return 'typeName';
      if (Object.hasOwn(BUILTIN_DOCS, w)) return 'builtin';
      return 'variableName';
    }
    state.afterDef = false;
    if (stream.match(/^(?:->|==|!=|<=|>=|<<|>>|[-+*/%<>=&|^~])/)) return 'operator';
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '#' } },
});

/** Diagnostics from the compiler itself: the CLI's messages, at the places it names. */
export function languageDiagnostics(source: string, file = 'playground.kl'): Diagnostic[] {
  try {
    compile(source, { file });
    return [];
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    const lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
    return e.diagnostics
      .filter((d) => d.file === file)
      .map((d) => {
        const start = lineStarts[d.line - 1] ?? 0;
        const from = Math.min(source.length, start + d.col - 1);
        const lineEnd = source.indexOf('\n', from);
        const to = Math.max(from, lineEnd === -1 ? source.length : Math.min(lineEnd, from + 1));
        return { from, to, severity: 'error' as const, message: `${d.code}: ${d.message}` };
      });
  }
}

const builtinHover = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  const text = line.text;
  let from = pos - line.from;
  let to = from;
  while (from > 0 && /\w/.test(text[from - 1]!)) from--;
  while (to < text.length && /\w/.test(text[to]!)) to++;
  const word = text.slice(from, to);
  if (from === to || !Object.hasOwn(BUILTIN_DOCS, word)) return null;
  return {
    pos: line.from + from,
    end: line.from + to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'isa';
      dom.textContent = BUILTIN_DOCS[word]!;
      return { dom };
    },
  };
});

export const languageMode: LanguageMode = {
  name: 'kl',
  extensions: [
    klStream,
    linter((view) => languageDiagnostics(view.state.doc.toString()), { delay: 250 }),
    builtinHover,
  ],
};
