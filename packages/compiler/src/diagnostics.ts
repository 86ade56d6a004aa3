// Compiler diagnostics: the catalogue of error codes (each owned by one phase),
// the Diagnostic record with file:line:col, and CompileError carrying them all.
import { escapeText, formatDiagnostic, MAX_SHOWN_DIAGNOSTICS } from '@keyvm/assembler';

/** Every compile error code: the phase that reports it and what it means. */
export const COMPILE_ERROR_CODES = Object.freeze({
  'bad-character': { phase: 'lex', doc: 'a character that starts no token' },
  'bad-string': { phase: 'lex', doc: 'an unterminated string or a bad escape' },
  'bad-number': { phase: 'lex', doc: 'a number literal outside 32 bits or malformed' },
  'bad-indent': {
    phase: 'lex',
    doc: 'indentation that matches no enclosing block, or tabs mixed with spaces',
  },
  'too-large': { phase: 'lex', doc: 'a source file or nesting past the compiler limits' },
  syntax: { phase: 'parse', doc: 'text that does not fit the grammar' },
  'undefined-name': { phase: 'check', doc: 'a name that is not declared where it is used' },
  'duplicate-name': { phase: 'check', doc: 'a name declared twice in one scope' },
  'type-mismatch': { phase: 'check', doc: 'a value of one type where another is needed' },
  'wrong-arguments': { phase: 'check', doc: 'a call with the wrong number of arguments' },
  'not-assignable': { phase: 'check', doc: 'assignment to a constant, a function or an expression' },
  'missing-return': { phase: 'check', doc: 'a function with a result that can end without returning one' },
  misplaced: { phase: 'check', doc: 'a statement or declaration where it is not allowed' },
  'not-constant': { phase: 'check', doc: 'a constant whose value is not known at compile time' },
  'bad-import': { phase: 'check', doc: 'an import that cannot be resolved, or a cycle of imports' },
  limit: { phase: 'codegen', doc: 'a program past what the code generator supports (slots, frame depth)' },
} as const);

export type CompileErrorCode = keyof typeof COMPILE_ERROR_CODES;
export type Phase = (typeof COMPILE_ERROR_CODES)[CompileErrorCode]['phase'];

/** A position in a source file, 1-based; `file` names an imported file when not the main one. */
export interface Span {
  readonly line: number;
  readonly col: number;
  readonly file?: string;
}

/** One problem in the source, with where it is. */
export interface Diagnostic {
  readonly code: CompileErrorCode;
  readonly phase: Phase;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** The whole source line the problem is on. */
  readonly sourceLine: string;
}

/** `file:line:col: error: message`, the line and a caret (the assembler's format). */
export function formatCompileDiagnostic(d: Diagnostic): string {
  return formatDiagnostic(d);
}

/** Most diagnostics one compile collects; past it the rest are only counted. */
export const MAX_DIAGNOSTICS = 1000;

/** Thrown by `compile` with every problem found, in source order. */
export class CompileError extends Error {
  override readonly name = 'CompileError';
  readonly diagnostics: readonly Diagnostic[];
  /** Problems past MAX_DIAGNOSTICS, counted but not kept. */
  readonly dropped: number;

  constructor(diagnostics: readonly Diagnostic[], dropped = 0) {
    const count = diagnostics.length + dropped;
    const first = diagnostics[0];
    const where = first === undefined ? '' : ` in ${escapeText(first.file)}`;
    super(`${count} compile error${count === 1 ? '' : 's'}${where}`);
    this.diagnostics = Object.freeze([...diagnostics]);
    this.dropped = dropped;
  }

  /** The diagnostics, formatted: the first `limit`, then how many more. */
  format(limit = MAX_SHOWN_DIAGNOSTICS): string {
    const shown = this.diagnostics.slice(0, limit).map(formatCompileDiagnostic);
    const more = this.diagnostics.length + this.dropped - shown.length;
    if (more > 0) shown.push(`... and ${more} more error${more === 1 ? '' : 's'}`);
    return shown.join('\n');
  }
}

/** Collects diagnostics for a compile, per file, filling in the source line. */
export class Sink {
  readonly #files = new Map<string, readonly string[]>();
  readonly #diagnostics: Diagnostic[] = [];
  #dropped = 0;
  readonly mainFile: string;

  constructor(mainFile: string, source: string) {
    this.mainFile = mainFile;
    this.addFile(mainFile, source);
  }

  addFile(file: string, source: string): void {
    this.#files.set(
      file,
      source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)),
    );
  }

  report(code: CompileErrorCode, message: string, at: Span): void {
    if (this.#diagnostics.length >= MAX_DIAGNOSTICS) {
      this.#dropped++;
      return;
    }
    const file = at.file ?? this.mainFile;
    const sourceLine = this.#files.get(file)?.[at.line - 1] ?? '';
    this.#diagnostics.push({
      code,
      phase: COMPILE_ERROR_CODES[code].phase,
      message,
      file,
      line: at.line,
      col: at.col,
      sourceLine,
    });
  }

  get count(): number {
    return this.#diagnostics.length + this.#dropped;
  }

  error(): CompileError {
    const order = (d: Diagnostic) => (d.file === this.mainFile ? 1 : 0);
    const sorted = this.#diagnostics
      .map((d, i) => ({ d, i }))
      .sort(
        (x, y) =>
          order(x.d) - order(y.d) ||
          (x.d.file < y.d.file ? -1 : x.d.file > y.d.file ? 1 : 0) ||
          x.d.line - y.d.line ||
          x.d.col - y.d.col ||
          x.i - y.i,
      )
      .map(({ d }) => d);
    return new CompileError(sorted, this.#dropped);
  }
}
