// The lexer: source text to tokens, with Python-style NEWLINE, INDENT and DEDENT
// tokens from the indentation; lines inside (), [] join. Bad text becomes a
// diagnostic and is skipped, so the parser always gets a well-formed stream.
import type { Sink, Span } from './diagnostics.js';

export type TokenKind = 'name' | 'int' | 'string' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The name, operator, or the decoded string; for an int, its text. */
  readonly text: string;
  /** An int literal's value (already wrapped to 32 bits). */
  readonly value: number;
  readonly at: Span;
}

/** Longest source accepted, in UTF-16 code units (larger is refused before lexing). */
export const MAX_SOURCE_LENGTH = 1 << 22;
/** Deepest indentation (blocks in blocks) accepted. */
export const MAX_INDENT_LEVELS = 100;

const OPERATORS = [
  '->',
  '==',
  '!=',
  '<=',
  '>=',
  '<<',
  '>>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
  '<',
  '>',
  '=',
  '(',
  ')',
  '[',
  ']',
  ',',
  ':',
  '.',
  '&',
  '|',
  '^',
];

const isNameStart = (c: string) => /[A-Za-z_]/.test(c);
const isNameChar = (c: string) => /[A-Za-z0-9_]/.test(c);

export function tokenize(source: string, sink: Sink, file?: string): Token[] {
  const tokens: Token[] = [];
  const span = (line: number, col: number): Span =>
    file === undefined ? { line, col } : { line, col, file };
  if (source.length > MAX_SOURCE_LENGTH) {
    sink.report(
      'too-large',
      `source is ${source.length} characters, more than ${MAX_SOURCE_LENGTH}`,
      span(1, 1),
    );
    tokens.push({ kind: 'eof', text: '', value: 0, at: span(1, 1) });
    return tokens;
  }
  const lines = source.split('\n');
  const indents: number[] = [0];
  let depth = 0; // open brackets: lines join
  let lastLine = 1;
  for (let li = 0; li < lines.length; li++) {
    let text = lines[li]!;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const lineNo = li + 1;
    let i = 0;
    if (depth === 0) {
      // Indentation: spaces only (a tab is an error, counted as one column).
      let width = 0;
      while (i < text.length && (text[i] === ' ' || text[i] === '\t')) {
        if (text[i] === '\t') sink.report('bad-indent', 'indent with spaces, not tabs', span(lineNo, i + 1));
        width++;
        i++;
      }
      // Blank and comment-only lines do not count.
      if (i >= text.length || text[i] === '#') continue;
      const top = indents[indents.length - 1]!;
      if (width > top) {
        if (indents.length > MAX_INDENT_LEVELS) {
          sink.report('too-large', `blocks nested more than ${MAX_INDENT_LEVELS} deep`, span(lineNo, 1));
        } else {
          indents.push(width);
          tokens.push({ kind: 'indent', text: '', value: 0, at: span(lineNo, 1) });
        }
      } else if (width < top) {
        while (indents.length > 1 && width < indents[indents.length - 1]!) {
          indents.pop();
          tokens.push({ kind: 'dedent', text: '', value: 0, at: span(lineNo, width + 1) });
        }
        if (width !== indents[indents.length - 1]) {
          sink.report('bad-indent', 'this line is indented to no enclosing block', span(lineNo, width + 1));
          indents.push(width);
          tokens.push({ kind: 'indent', text: '', value: 0, at: span(lineNo, 1) });
        }
      }
    }
    let any = false;
    while (i < text.length) {
      const c = text[i]!;
      const col = i + 1;
      if (c === ' ' || c === '\t') {
        i++;
        continue;
      }
      if (c === '#') break;
      any = true;
      if (isNameStart(c)) {
        let j = i + 1;
        while (j < text.length && isNameChar(text[j]!)) j++;
        tokens.push({ kind: 'name', text: text.slice(i, j), value: 0, at: span(lineNo, col) });
        i = j;
        continue;
      }
      if (c >= '0' && c <= '9') {
        let j = i + 1;
        while (j < text.length && isNameChar(text[j]!)) j++;
        const raw = text.slice(i, j);
        const value = parseNumber(raw);
        if (value === undefined) {
          sink.report(
            'bad-number',
            `'${clipText(raw)}' is not a number between 0 and 2^32-1`,
            span(lineNo, col),
          );
        }
        tokens.push({ kind: 'int', text: raw, value: value ?? 0, at: span(lineNo, col) });
        i = j;
        continue;
      }
      if (c === '"') {
        const { value, end, ok } = readString(text, i, (msg, at) =>
          sink.report('bad-string', msg, span(lineNo, at + 1)),
        );
        if (ok) tokens.push({ kind: 'string', text: value, value: 0, at: span(lineNo, col) });
        i = end;
        continue;
      }
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op !== undefined) {
        if (op === '(' || op === '[') depth++;
        if ((op === ')' || op === ']') && depth > 0) depth--;
        tokens.push({ kind: 'op', text: op, value: 0, at: span(lineNo, col) });
        i += op.length;
        continue;
      }
      const cp = text.codePointAt(i) ?? 0;
      sink.report('bad-character', `unexpected character ${describeChar(cp)}`, span(lineNo, col));
      i += cp > 0xffff ? 2 : 1;
    }
    if (any && depth === 0)
      tokens.push({ kind: 'newline', text: '', value: 0, at: span(lineNo, text.length + 1) });
    lastLine = lineNo;
  }
  if (depth > 0) {
    tokens.push({ kind: 'newline', text: '', value: 0, at: span(lastLine, 1) });
  }
  while (indents.length > 1) {
    indents.pop();
    tokens.push({ kind: 'dedent', text: '', value: 0, at: span(lastLine + 1, 1) });
  }
  tokens.push({ kind: 'eof', text: '', value: 0, at: span(lastLine + 1, 1) });
  return tokens;
}

/** Decimal, 0x, 0b or 0o; up to 2^32-1 (wrapped to a signed word). */
function parseNumber(raw: string): number | undefined {
  const m = /^(0x[0-9a-fA-F_]+|0b[01_]+|0o[0-7_]+|[0-9][0-9_]*)$/.exec(raw);
  if (m === null || raw.length > 40) return undefined;
  const digits = raw.replace(/_/g, '');
  let value: bigint;
  try {
    value = BigInt(digits);
  } catch {
    return undefined;
  }
  if (value > 0xffffffffn) return undefined;
  return Number(BigInt.asIntN(32, value));
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  '"': '"',
};

function readString(
  text: string,
  start: number,
  report: (message: string, at: number) => void,
): { value: string; end: number; ok: boolean } {
  let value = '';
  let i = start + 1;
  let ok = true;
  while (i < text.length && text[i] !== '"') {
    if (text[i] === '\\') {
      const e = ESCAPES[text[i + 1] ?? ''];
      if (e === undefined) {
        report(`unknown escape \\${text[i + 1] ?? ''} (known: \\n \\t \\r \\0 \\\\ \\")`, i);
        ok = false;
        i += 2;
        continue;
      }
      value += e;
      i += 2;
      continue;
    }
    value += text[i];
    i++;
  }
  if (i >= text.length) {
    report('string without its closing "', start);
    return { value, end: text.length, ok: false };
  }
  return { value, end: i + 1, ok };
}

function describeChar(cp: number): string {
  if (cp >= 0x21 && cp < 0x7f) return `'${String.fromCodePoint(cp)}'`;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function clipText(s: string): string {
  return s.length > 40 ? `${s.slice(0, 20)}…${s.slice(-19)}` : s;
}
