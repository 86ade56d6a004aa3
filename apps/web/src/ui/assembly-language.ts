// The assembly mode of the editor: highlighting of tree and flat KeyVM assembly (a
// CodeMirror StreamLanguage), live diagnostics from the real assembler and the
// instruction reference on hover, from the ISA table. A language for @keyvm/compiler
// plugs in as another `LanguageMode` beside this one.

import { StreamLanguage, type StringStream } from '@codemirror/language';
import { type Diagnostic, linter } from '@codemirror/lint';
import type { Extension } from '@codemirror/state';
import { hoverTooltip } from '@codemirror/view';
import { AssemblyError, assemble } from '@keyvm/assembler';
import { instructionByName } from '@keyvm/isa';

/** What an editor language brings: highlighting, diagnostics and hover help. */
export interface LanguageMode {
  readonly name: string;
  readonly extensions: readonly Extension[];
}

const assemblyStream = StreamLanguage.define<{ inString: boolean }>({
  name: 'keyvm-assembly',
  startState: () => ({ inString: false }),
  token(stream: StringStream): string | null {
    if (stream.eatSpace()) return null;
    if (stream.peek() === ';') {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
    if (stream.match(/^\.[A-Za-z_][\w]*/)) return 'keyword';
    if (stream.match(/^:[A-Za-z_][\w.]*/)) return 'labelName';
    if (stream.match(/^[A-Za-z_][\w.]*:/)) return 'labelName';
    if (stream.match(/^-?(?:0x[0-9a-fA-F_]+|0b[01_]+|\d[\d_]*)/)) return 'number';
    const word = stream.match(/^[A-Za-z_][\w.]*/) as RegExpMatchArray | null;
    if (word) return instructionByName(word[0].toUpperCase()) ? 'keyword' : 'variableName';
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: ';' } },
});

/** Diagnostics from the assembler itself: the same messages and places as the CLI. */
export function assemblyDiagnostics(source: string): Diagnostic[] {
  try {
    assemble(source, { file: 'playground.ism' });
    return [];
  } catch (e) {
    if (!(e instanceof AssemblyError)) throw e;
    const lineStarts = [0];
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
    return e.diagnostics.map((d) => {
      const start = lineStarts[d.line - 1] ?? 0;
      const from = Math.min(source.length, start + d.col - 1);
      const lineEnd = source.indexOf('\n', from);
      const to = Math.max(from, lineEnd === -1 ? source.length : Math.min(lineEnd, from + 1));
      return { from, to, severity: 'error' as const, message: `${d.code}: ${d.message}` };
    });
  }
}

const isaHover = hoverTooltip((view, pos) => {
  const line = view.state.doc.lineAt(pos);
  const text = line.text;
  let from = pos - line.from;
  let to = from;
  while (from > 0 && /[\w]/.test(text[from - 1]!)) from--;
  while (to < text.length && /[\w]/.test(text[to]!)) to++;
  if (from === to) return null;
  const row = instructionByName(text.slice(from, to).toUpperCase());
  if (!row) return null;
  return {
    pos: line.from + from,
    end: line.from + to,
    above: true,
    create: () => {
      const dom = document.createElement('div');
      dom.className = 'isa';
      dom.textContent = `${row.name} (${row.code}) ${row.effect}  gas ${row.gas}\n${row.doc}`;
      dom.style.whiteSpace = 'pre-wrap';
      return { dom };
    },
  };
});

export const assemblyMode: LanguageMode = {
  name: 'assembly',
  extensions: [
    assemblyStream,
    linter((view) => assemblyDiagnostics(view.state.doc.toString()), { delay: 250 }),
    isaHover,
  ],
};
