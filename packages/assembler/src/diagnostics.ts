// Assembly diagnostics: the catalogue of error codes, the Diagnostic record with
// its file:line:col, and AssemblyError, which carries every problem in a file.

/** Every assembly error code, with what it means. */
export const ASSEMBLY_ERROR_CODES = Object.freeze({
  syntax: 'text that is not part of either syntax',
  'unknown-instruction': 'a mnemonic that is not in the instruction table',
  'unknown-directive': 'a directive that the assembler does not know',
  'wrong-immediates': 'an instruction given the wrong number or kind of immediate operands',
  'bad-operand': 'a directive given the wrong number or kind of operands',
  'undefined-label': 'a :label that is never defined',
  'duplicate-label': 'a label defined twice',
  'undefined-name': 'a constant that is never defined (or used before its definition where order matters)',
  'duplicate-name': 'a constant defined twice',
  'reserved-name': 'a constant named like an instruction',
  'number-range': 'a literal outside 32 bits, below -2^31 or above 2^32-1',
  'unbalanced-parens': 'a ( without its ) or a ) without its (',
  'bad-string': 'an unterminated string or a bad escape sequence',
  'address-mismatch': 'an address mark (0005:) that does not match the code offset it stands at',
  'page-overflow': 'code or data past the largest page (2^24 words)',
  'too-deep': 'an expression nested more than 256 calls deep',
  'bad-include': 'an .include that cannot be read, includes itself, or nests too deeply',
  'bad-macro': 'a malformed .macro or .endm, or a macro used with the wrong arguments or expanding too much',
} as const);

export type AssemblyErrorCode = keyof typeof ASSEMBLY_ERROR_CODES;

/** One problem in the source, with where it is. */
export interface Diagnostic {
  readonly code: AssemblyErrorCode;
  readonly message: string;
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly col: number;
  /** The whole source line the problem is on, without its line break, as written (unescaped). */
  readonly sourceLine: string;
}

/** `file:line:col: error: message`, the source line (or a window of it) and a caret under the column. */
export function formatDiagnostic(
  diagnostic: Pick<Diagnostic, 'file' | 'line' | 'col' | 'message' | 'sourceLine'>,
): string {
  const { file, line, col, message, sourceLine } = diagnostic;
  const { text, caret } = excerpt(sourceLine, col);
  return `${escapeText(file)}:${line}:${col}: error: ${escapeText(message)}\n${text}\n${caret}^`;
}

/** Most characters of a source line that a diagnostic shows, around its column. */
export const EXCERPT_WIDTH = 120;

/** Characters that would not show as themselves on a terminal, or that could drive it. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u;
const NAMED_ESCAPES: Readonly<Record<number, string>> = { 0: '\\0', 9: '\\t', 10: '\\n', 13: '\\r' };

/** True for a code point that `escapeText` shows escaped. */
export function isNonPrintable(codePoint: number): boolean {
  return codePoint !== 0x20 && NON_PRINTABLE.test(String.fromCodePoint(codePoint));
}

/** One code point as shown: itself, or `\0 \t \n \r`, `\xHH` (below 0x100), `\u{HHHH}`. */
function showCodePoint(ch: string, keepTabs: boolean): string {
  const cp = ch.codePointAt(0) ?? 0;
  if ((cp >= 0x20 && cp < 0x7f) || (keepTabs && cp === 9) || !isNonPrintable(cp)) return ch;
  const named = NAMED_ESCAPES[cp];
  if (named !== undefined) return named;
  const hex = cp.toString(16).toUpperCase();
  return cp < 0x100 ? `\\x${hex.padStart(2, '0')}` : `\\u{${hex.padStart(4, '0')}}`;
}

/**
 * Text with control, format, separator, surrogate, private-use and unassigned
 * characters (all but the plain space) escaped, so that it cannot drive a
 * terminal or hide what it says: ESC is `\x1B`, NUL `\0`, U+202E `\u{202E}`.
 */
export function escapeText(text: string, keepTabs = false): string {
  if (!/[^\x20-\x7e]/.test(text)) return text;
  let out = '';
  for (const ch of text) out += showCodePoint(ch, keepTabs);
  return out;
}

/** A name as an identifier may be written (shown as it is by shownName). */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_.$]{0,63}$/;
/** The most characters of a name shown: longer ones are cut with `…`. */
const NAME_SHOWN = 64;
/**
 * A name from outside (a debug section's label, which a hostile image can shape) as
 * shown in a message: an identifier as it is; anything else quoted, escaped and cut.
 */
export function shownName(name: string): string {
  if (IDENTIFIER.test(name)) return name;
  const chars = [...name];
  const cut = chars.length > NAME_SHOWN ? `${chars.slice(0, NAME_SHOWN).join('')}…` : name;
  // Quotes and backslashes first, so that escapeText's own escapes stay apart from them.
  return `"${escapeText(cut.replace(/["\\]/g, '\\$&'))}"`;
}

/** Text for a message: escaped, and cut in the middle when longer than `max` characters. */
export function clip(text: string, max = 60): string {
  if (text.length <= max) return escapeText(text);
  const half = Math.floor((max - 1) / 2);
  const head = text.slice(0, /[\uD800-\uDBFF]/.test(text[half - 1] ?? '') ? half - 1 : half);
  const tail = text.slice(
    text.length - half + (/[\uDC00-\uDFFF]/.test(text[text.length - half] ?? '') ? 1 : 0),
  );
  return `${escapeText(head)}…${escapeText(tail)}`;
}

/**
 * The source line as shown, escaped and, when wider than EXCERPT_WIDTH, cut to a
 * window around the column with `…` marks; `caret` is the padding that puts a `^`
 * under the column (tabs kept, so that it lines up with the text above).
 */
export function excerpt(sourceLine: string, col: number): { text: string; caret: string } {
  const at = Math.min(Math.max(col - 1, 0), sourceLine.length);
  if (sourceLine.length <= EXCERPT_WIDTH && PLAIN.test(sourceLine))
    return { text: sourceLine, caret: blank(sourceLine.slice(0, at)) };
  // Every code point shows as at least one character: this many either side is enough.
  let from = Math.max(0, at - EXCERPT_WIDTH);
  if (from > 0 && isLowSurrogate(sourceLine, from)) from--;
  let to = Math.min(sourceLine.length, at + EXCERPT_WIDTH);
  if (to < sourceLine.length && isLowSurrogate(sourceLine, to)) to++;
  const left = sourceLine.slice(from, at);
  const right = sourceLine.slice(at, to);
  const [before, after, cutLeft, cutRight] =
    PLAIN.test(left) && PLAIN.test(right)
      ? fitPlain(left, right)
      : fitPieces(
          Array.from(left, (ch) => showCodePoint(ch, true)),
          Array.from(right, (ch) => showCodePoint(ch, true)),
        );
  const leftMark = cutLeft || from > 0;
  const rightMark = cutRight || to < sourceLine.length;
  return {
    text: `${leftMark ? '…' : ''}${before}${after}${rightMark ? '…' : ''}`,
    caret: `${leftMark ? ' ' : ''}${blank(before)}`,
  };
}

/** Plain ASCII and tabs: shown as written. */
const PLAIN = /^[\t\x20-\x7e]*$/;

/** Spaces as wide as `text`, keeping its tabs. */
const blank = (text: string): string =>
  text.includes('\t') ? text.replace(/[^\t]/g, ' ') : ' '.repeat(text.length);

type Fit = [before: string, after: string, cutLeft: boolean, cutRight: boolean];

/** The end of `left` and the start of `right` that fit EXCERPT_WIDTH: the right gets at least half. */
function fitPlain(left: string, right: string): Fit {
  const rightWidth = Math.min(right.length, Math.max(EXCERPT_WIDTH - left.length, EXCERPT_WIDTH / 2));
  const leftWidth = Math.min(left.length, EXCERPT_WIDTH - rightWidth);
  return [
    left.slice(left.length - leftWidth),
    right.slice(0, rightWidth),
    leftWidth < left.length,
    rightWidth < right.length,
  ];
}

/** fitPlain for code points shown as pieces of different widths (escapes). */
function fitPieces(left: string[], right: string[]): Fit {
  const leftWidth = left.reduce((sum, s) => sum + s.length, 0);
  const shownRight = take(right, Math.max(EXCERPT_WIDTH - leftWidth, EXCERPT_WIDTH / 2));
  const after = shownRight.join('');
  const shownLeft = take([...left].reverse(), EXCERPT_WIDTH - after.length).reverse();
  return [shownLeft.join(''), after, shownLeft.length < left.length, shownRight.length < right.length];
}

const isLowSurrogate = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  return c >= 0xdc00 && c <= 0xdfff;
};

/** The leading pieces whose lengths add up to at most `width`. */
function take(pieces: readonly string[], width: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const piece of pieces) {
    if (used + piece.length > width) break;
    out.push(piece);
    used += piece.length;
  }
  return out;
}

/** Most diagnostics `AssemblyError.format` shows; the rest are counted. */
export const MAX_SHOWN_DIAGNOSTICS = 100;

/** The first `limit` diagnostics, formatted, then a count of the rest. */
function formatSome(diagnostics: readonly Diagnostic[], limit: number): string {
  const shown = diagnostics.slice(0, limit).map(formatDiagnostic);
  const more = diagnostics.length - shown.length;
  if (more > 0)
    shown.push(`... and ${more} more error${more === 1 ? '' : 's'} (${diagnostics.length} in all)`);
  return shown.join('\n');
}

/** Thrown by `assemble` with every problem found in the file, in source order. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const count = diagnostics.length;
    const first = diagnostics[0];
    const where = first === undefined ? '' : ` in ${escapeText(first.file)}`;
    super(
      `${count} assembly error${count === 1 ? '' : 's'}${where}\n${formatSome(diagnostics, MAX_SHOWN_DIAGNOSTICS)}`,
    );
    this.diagnostics = Object.freeze([...diagnostics]);
  }

  /** The diagnostics, formatted, separated by newlines: the first `limit`, then how many more. */
  format(limit = MAX_SHOWN_DIAGNOSTICS): string {
    return formatSome(this.diagnostics, limit);
  }
}

/**
 * Collects diagnostics for a source file and the files it includes, filling in the
 * file name and source line.
 */
export class DiagnosticSink {
  readonly #files: { name: string; source: string; lineStarts: number[] | undefined }[] = [];
  readonly #diagnostics: (Diagnostic & { fileIndex: number })[] = [];

  constructor(file: string, source: string) {
    this.addFile(file, source);
  }

  /** Register another file (an include); returns its index for tokens and reports. */
  addFile(name: string, source: string): number {
    this.#files.push({ name, source, lineStarts: undefined });
    return this.#files.length - 1;
  }

  /** The name of file `index`. */
  fileName(index: number): string {
    return this.#files[index]?.name ?? '';
  }

  /** Line `line` of file `file`; where lines start is found at the first report (a clean source never splits into lines). */
  #line(file: { source: string; lineStarts: number[] | undefined }, line: number): string {
    if (file.lineStarts === undefined) {
      const starts = [0];
      for (let i = file.source.indexOf('\n'); i >= 0; i = file.source.indexOf('\n', i + 1))
        starts.push(i + 1);
      file.lineStarts = starts;
    }
    const start = file.lineStarts[line - 1];
    if (start === undefined) return '';
    const end = file.lineStarts[line] ?? file.source.length + 1;
    const text = file.source.slice(start, end - 1);
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  }

  report(code: AssemblyErrorCode, message: string, line: number, col: number, file = 0): void {
    const source = this.#files[file] ?? this.#files[0]!;
    const sourceLine = this.#line(source, line);
    this.#diagnostics.push({
      code,
      message: escapeText(message),
      file: source.name,
      line,
      col,
      sourceLine,
      fileIndex: file,
    });
  }

  get count(): number {
    return this.#diagnostics.length;
  }

  /** The diagnostics sorted by position (stable for several at one position). */
  sorted(): Diagnostic[] {
    return this.#diagnostics
      .map((d, i) => ({ d, i }))
      .sort((x, y) => x.d.fileIndex - y.d.fileIndex || x.d.line - y.d.line || x.d.col - y.d.col || x.i - y.i)
      .map(({ d: { fileIndex: _, ...d } }) => d);
  }
}
