// Splits assembly source into tokens with 1-based line:col positions, reporting
// bad characters, malformed or out-of-range literals and broken strings.
import type { DiagnosticSink } from './diagnostics.js';
import { parseWordLiteral } from './numbers.js';

export type TokenKind =
  | 'name' //          add, PUSH, loop, SIZE
  | 'label-def' //     loop:
  | 'label-ref' //     :loop
  | 'address-mark' //  0005:
  | 'number' //        -12, 0x10, 0b101
  | 'string' //        "text"
  | 'directive' //     .data
  | '(' //
  | ')' //
  | ',' //
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Name for name/label/directive tokens (without ':' or '.'), raw text otherwise. */
  readonly text: string;
  /** The word for number and address-mark tokens, 0 otherwise. */
  readonly value: number;
  /** The decoded contents of a string token, '' otherwise. */
  readonly string: string;
  readonly line: number;
  readonly col: number;
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_.$]/;
const IDENTIFIER = new RegExp(`^${IDENT_START.source}${IDENT_PART.source}*$`);

/** True for a name the lexer reads as one label or constant name. */
export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}
const WORD_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/** Tokenizes the whole source; the last token is always 'eof'. */
export function tokenize(source: string, sink: DiagnosticSink): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const at = (k: number): string => source[k] ?? '';
  const push = (kind: TokenKind, text: string, start: number, value = 0, string = ''): void => {
    tokens.push({ kind, text, value, string, line, col: start - lineStart + 1 });
  };
  const report = (code: Parameters<DiagnosticSink['report']>[0], message: string, pos: number): void => {
    sink.report(code, message, line, pos - lineStart + 1);
  };

  while (i < source.length) {
    const c = at(i);
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === ';') {
      while (i < source.length && at(i) !== '\n') i++;
    } else if (c === '(' || c === ')' || c === ',') {
      push(c, c, i);
      i++;
    } else if (DIGIT.test(c) || (c === '-' && DIGIT.test(at(i + 1)))) {
      const start = i;
      i++;
      while (WORD_PART.test(at(i))) i++;
      const text = source.slice(start, i);
      const parsed = parseWordLiteral(text);
      let value = 0;
      if (parsed.ok) value = parsed.value;
      else if (parsed.problem === 'range') report('number-range', `number ${text} is outside 32 bits`, start);
      else report('syntax', `invalid number '${text}'`, start);
      if (at(i) === ':') {
        i++;
        push('address-mark', text, start, value);
      } else {
        push('number', text, start, value);
      }
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (IDENT_PART.test(at(i))) i++;
      const name = source.slice(start, i);
      if (at(i) === ':') {
        i++;
        push('label-def', name, start);
      } else {
        push('name', name, start);
      }
    } else if (c === ':') {
      const start = i;
      i++;
      if (IDENT_START.test(at(i))) {
        while (IDENT_PART.test(at(i))) i++;
        push('label-ref', source.slice(start + 1, i), start);
      } else {
        report('syntax', "expected a label name after ':'", start);
      }
    } else if (c === '.' && /[A-Za-z]/.test(at(i + 1))) {
      const start = i;
      i++;
      while (WORD_PART.test(at(i))) i++;
      push('directive', source.slice(start + 1, i), start);
    } else if (c === '"') {
      i = readString(source, i, (text, start, decoded) => push('string', text, start, 0, decoded), report);
    } else {
      const cp = source.codePointAt(i) ?? 0;
      const shown = String.fromCodePoint(cp);
      report('syntax', `unexpected character '${shown}'`, i);
      i += shown.length;
    }
  }
  push('eof', '', i);
  return tokens;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  '"': '"',
};

/** Reads a string literal starting at the opening quote; returns the index after it. */
function readString(
  source: string,
  start: number,
  emit: (text: string, start: number, decoded: string) => void,
  report: (code: 'bad-string', message: string, pos: number) => void,
): number {
  let i = start + 1;
  let decoded = '';
  for (;;) {
    const c = source[i];
    if (c === undefined || c === '\n') {
      report('bad-string', 'unterminated string', start);
      emit(source.slice(start, i), start, decoded);
      return i;
    }
    if (c === '"') break;
    if (c !== '\\') {
      decoded += c;
      i++;
      continue;
    }
    const e = source[i + 1] ?? '';
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      decoded += simple;
      i += 2;
      continue;
    }
    const hex =
      e === 'x'
        ? /^[0-9a-fA-F]{2}/.exec(source.slice(i + 2))
        : e === 'u'
          ? /^\{([0-9a-fA-F]{1,6})\}/.exec(source.slice(i + 2))
          : null;
    const codePoint = hex === null ? -1 : Number.parseInt(hex[1] ?? hex[0], 16);
    if (hex !== null && codePoint <= 0x10ffff) {
      decoded += String.fromCodePoint(codePoint);
      i += 2 + hex[0].length;
      continue;
    }
    report('bad-string', `bad escape sequence '\\${e}' (use \\n \\t \\r \\0 \\\\ \\" \\xHH or \\u{H…})`, i);
    i += e === '' || e === '\n' ? 1 : 2;
  }
  // Emitted even after a bad escape, so the directive using it reports nothing more.
  emit(source.slice(start, i + 1), start, decoded);
  return i + 1;
}
