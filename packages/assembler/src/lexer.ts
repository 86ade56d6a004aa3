// Splits assembly source into tokens with 1-based line:col positions, reporting
// bad characters, malformed or out-of-range literals and broken strings.
import { clip, type DiagnosticSink, escapeText, isNonPrintable } from './diagnostics.js';
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
  return [...tokens(source, sink)];
}

/**
 * The tokens of `source`, made as the parser asks for them (ending with one 'eof'
 * token), so a large source is never held as an array of tokens.
 */
export function* tokens(source: string, sink: DiagnosticSink): Generator<Token> {
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
    if (tokens.length > 0) {
      yield* tokens;
      tokens.length = 0;
    }
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
      else if (parsed.problem === 'range')
        report('number-range', `number ${clip(text)} is outside 32 bits`, start);
      else report('syntax', `invalid number '${clip(text)}'`, start);
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
      report('syntax', `unexpected character ${describeChar(cp)}`, i);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  push('eof', '', i);
  yield* tokens;
}

/** A character for a message: `'@'`, or escaped with its code point, `'\x1B' (U+001B)`. */
function describeChar(cp: number): string {
  const shown = `'${escapeText(String.fromCodePoint(cp))}'`;
  return isNonPrintable(cp) ? `${shown} (U+${cp.toString(16).toUpperCase().padStart(4, '0')})` : shown;
}

/** The largest Unicode code point, for `\u{…}`. */
const MAX_CODE_POINT = 0x10ffff;

// Sticky: they match at lastIndex, without copying the rest of the source.
const HEX_ESCAPE = /[0-9a-fA-F]{2}/y;
const UNICODE_ESCAPE = /\{([0-9a-fA-F]+)\}/y;

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
    if (e === 'x') {
      HEX_ESCAPE.lastIndex = i + 2;
      const hex = HEX_ESCAPE.exec(source);
      if (hex !== null) {
        decoded += String.fromCharCode(Number.parseInt(hex[0], 16));
        i += 4;
        continue;
      }
    } else if (e === 'u') {
      // Any number of digits: leading zeros are fine, the value must be a code point.
      UNICODE_ESCAPE.lastIndex = i + 2;
      const close = UNICODE_ESCAPE.exec(source);
      if (close !== null) {
        const digits = close[1]!.replace(/^0+(?=.)/, '');
        const codePoint = digits.length > 6 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, 16);
        if (codePoint <= MAX_CODE_POINT) decoded += String.fromCodePoint(codePoint);
        else
          report(
            'bad-string',
            `code point \\u{${clip(digits, 20)}} is out of range (the largest is \\u{10FFFF})`,
            i,
          );
        i += 2 + close[0].length;
        continue;
      }
    }
    const shown = e === '' || e === '\n' ? '' : String.fromCodePoint(source.codePointAt(i + 1) ?? 0);
    report(
      'bad-string',
      `bad escape sequence '\\${escapeText(shown)}' (use \\n \\t \\r \\0 \\\\ \\" \\xHH or \\u{H…})`,
      i,
    );
    i += 1 + shown.length;
  }
  // Emitted even after a bad escape, so the directive using it reports nothing more.
  emit(source.slice(start, i + 1), start, decoded);
  return i + 1;
}
