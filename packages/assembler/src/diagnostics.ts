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
  /** The whole source line the problem is on, without its line break. */
  readonly sourceLine: string;
}

/** `file:line:col: error: message`, the source line, and a caret under the column. */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const { file, line, col, message, sourceLine } = diagnostic;
  // Keep tabs so that the caret lines up with the text above it.
  const pad = sourceLine.slice(0, Math.max(0, col - 1)).replace(/[^\t]/g, ' ');
  return `${file}:${line}:${col}: error: ${message}\n${sourceLine}\n${pad}^`;
}

/** Thrown by `assemble` with every problem found in the file, in source order. */
export class AssemblyError extends Error {
  override readonly name = 'AssemblyError';
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    const count = diagnostics.length;
    const first = diagnostics[0];
    const where = first === undefined ? '' : ` in ${first.file}`;
    super(
      `${count} assembly error${count === 1 ? '' : 's'}${where}\n${diagnostics.map(formatDiagnostic).join('\n')}`,
    );
    this.diagnostics = Object.freeze([...diagnostics]);
  }

  /** Every diagnostic, formatted, separated by newlines. */
  format(): string {
    return this.diagnostics.map(formatDiagnostic).join('\n');
  }
}

/** Collects diagnostics for one source file, filling in the file name and source line. */
export class DiagnosticSink {
  readonly #file: string;
  readonly #lines: readonly string[];
  readonly #diagnostics: Diagnostic[] = [];

  constructor(file: string, source: string) {
    this.#file = file;
    this.#lines = source.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  }

  report(code: AssemblyErrorCode, message: string, line: number, col: number): void {
    const sourceLine = this.#lines[line - 1] ?? '';
    this.#diagnostics.push({ code, message, file: this.#file, line, col, sourceLine });
  }

  get count(): number {
    return this.#diagnostics.length;
  }

  /** The diagnostics sorted by position (stable for several at one position). */
  sorted(): Diagnostic[] {
    return this.#diagnostics
      .map((d, i) => ({ d, i }))
      .sort((x, y) => x.d.line - y.d.line || x.d.col - y.d.col || x.i - y.i)
      .map(({ d }) => d);
  }
}
