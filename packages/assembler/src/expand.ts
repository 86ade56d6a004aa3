// The token-level pass before parsing: `.include "file"` (read through the host's
// reader, so the assembler stays platform-neutral) and `.macro name params … .endm`
// with its uses, both bounded. Tokens keep the file, line and column they came from.
import { instructionByName } from '@keyvm/isa';
import { clip, type DiagnosticSink } from './diagnostics.js';
import { type Token, tokenize, tokens as tokenStream } from './lexer.js';

/** What the host returns for an `.include`: the file's name (for messages and the source map) and text. */
export interface IncludedFile {
  readonly file: string;
  readonly text: string;
}

/**
 * Reads an included file: `name` as written in `.include "name"`, `from` the name of
 * the including file (as given to assemble, or as this reader returned it). Throws
 * (any Error) when the file cannot be read; its message goes into the diagnostic.
 */
export type IncludeReader = (name: string, from: string) => IncludedFile;

/** How deep includes may nest (the main file is depth 0). */
export const MAX_INCLUDE_DEPTH = 16;
/** The most files one assembly reads, the main file included. */
export const MAX_INCLUDED_FILES = 256;
/** How deep macro uses may nest (a macro using a macro…). */
export const MAX_MACRO_DEPTH = 64;
/** The most tokens macro expansion may produce in one assembly. */
export const MAX_EXPANDED_TOKENS = 1 << 18;

/** The directives this pass handles; the parser never sees them. */
export const PREPROCESSOR_DIRECTIVES = Object.freeze({
  include: '"file": assemble the file here (found relative to the including file)',
  macro: 'name p, q, …: define a macro up to .endm; `name a, b` on a line of its own expands it',
  endm: 'end a macro definition',
} as const);

interface Macro {
  readonly name: string;
  readonly params: readonly string[];
  readonly body: readonly Token[];
  readonly at: Token;
}

/** The tokens to parse, and the files read (the main file first) with their text. */
export interface ExpandResult {
  readonly tokens: Iterable<Token>;
  readonly files: readonly { name: string; text: string }[];
}

/**
 * Whether `source` may use `.include` or `.macro`: a quick look at the text. A "yes"
 * for a source that only mentions them (in a comment or string) costs the slower
 * path, never a different result.
 */
export function mayPreprocess(source: string): boolean {
  return /\.(?:include|macro|endm)(?![A-Za-z0-9_])/i.test(source);
}

/**
 * The main file's tokens with includes and macros expanded. Most sources use
 * neither: their tokens are made as the parser asks for them (linear time, memory
 * that follows the program, not the source); only a source that uses them is
 * tokenized whole and expanded.
 */
export function expand(
  mainText: string,
  mainName: string,
  sink: DiagnosticSink,
  include: IncludeReader | undefined,
): ExpandResult {
  const files = [{ name: mainName, text: mainText }];
  if (!mayPreprocess(mainText)) return { tokens: tokenStream(mainText, sink), files };
  return new Expander(sink, include, mainName, mainText).run(tokenize(mainText, sink));
}

/** The key of the main file's own tokens, which keep their rows. */
const MAIN_FILE_KEY = 'main';

const isDirective = (t: Token, name: string): boolean =>
  t.kind === 'directive' && t.text.toLowerCase() === name;

class Expander {
  readonly #sink: DiagnosticSink;
  readonly #include: IncludeReader | undefined;
  readonly #macros = new Map<string, Macro>();
  readonly #out: Token[] = [];
  readonly files: { name: string; text: string }[];
  #row = 0;
  #lastKey = '';
  #instances = 0;
  #expanded = 0;
  /** Reported once: expansion stopped because it produced too much. */
  #overflowed = false;

  constructor(sink: DiagnosticSink, include: IncludeReader | undefined, mainName: string, mainText: string) {
    this.#sink = sink;
    this.#include = include;
    this.files = [{ name: mainName, text: mainText }];
  }

  run(main: readonly Token[]): ExpandResult {
    this.#walk(main, [this.files[0]!.name], '', 0);
    const eof = main[main.length - 1]!;
    this.#out.push({ ...eof, row: eof.line + 1 });
    return { tokens: this.#out, files: this.files };
  }

  #report(code: 'bad-include' | 'bad-macro', message: string, at: Token): void {
    this.#sink.report(code, message, at.line, at.col, at.file);
  }

  /**
   * Emit a token. The main file's tokens keep their rows (their lines); the others get
   * negative rows, a new one whenever `key` (which line of which file or expansion)
   * changes, so no two lines share a row.
   */
  #emit(t: Token, key: string): void {
    if (key === MAIN_FILE_KEY) {
      this.#out.push(t);
      this.#lastKey = '';
      return;
    }
    if (key !== this.#lastKey) {
      this.#row--;
      this.#lastKey = key;
    }
    this.#out.push({ ...t, row: this.#row });
  }

  /** The tokens from `i` to the end of its row (not the eof). */
  static #restOfRow(tokens: readonly Token[], i: number): number {
    const row = tokens[i]!.row;
    let j = i;
    while (tokens[j]!.kind !== 'eof' && tokens[j]!.row === row) j++;
    return j;
  }

  /**
   * Copy `tokens` to the output, expanding. `chain` lists the files being included
   * (for cycles), `instance` names the macro expansion they come from ('' for a file),
   * `macroDepth` how deep in macro uses this is.
   */
  #walk(tokens: readonly Token[], chain: readonly string[], instance: string, macroDepth: number): void {
    let i = 0;
    while (tokens[i]!.kind !== 'eof') {
      if (this.#overflowed) return;
      const t = tokens[i]!;
      const startsRow = i === 0 || tokens[i - 1]!.row !== t.row;
      // Rows are measured only at a directive or macro use, so a long line costs no more.
      if (isDirective(t, 'include')) {
        const end = Expander.#restOfRow(tokens, i);
        this.#includeFile(t, tokens.slice(i + 1, end), chain, macroDepth);
        i = end;
      } else if (isDirective(t, 'macro')) {
        i = this.#define(tokens, i, Expander.#restOfRow(tokens, i));
      } else if (isDirective(t, 'endm')) {
        this.#report('bad-macro', '.endm without a .macro', t);
        i = Expander.#restOfRow(tokens, i);
      } else if (t.kind === 'name' && startsRow && this.#macros.has(t.text)) {
        const end = Expander.#restOfRow(tokens, i);
        this.#use(this.#macros.get(t.text)!, t, tokens.slice(i + 1, end), chain, macroDepth);
        i = end;
      } else {
        this.#emit(
          t,
          instance !== '' ? `${instance}|${t.row}` : t.file === 0 ? MAIN_FILE_KEY : `|${t.file}|${t.line}`,
        );
        i++;
      }
    }
  }

  #includeFile(at: Token, operands: readonly Token[], chain: readonly string[], macroDepth: number): void {
    const [nameToken] = operands;
    if (operands.length !== 1 || nameToken?.kind !== 'string') {
      this.#report('bad-include', '.include takes one "file name"', nameToken ?? at);
      return;
    }
    const name = nameToken.string;
    if (this.#include === undefined) {
      this.#report(
        'bad-include',
        `cannot include '${clip(name)}': this assembler was given no way to read files`,
        nameToken,
      );
      return;
    }
    if (chain.length > MAX_INCLUDE_DEPTH) {
      this.#report('bad-include', `includes nest more than ${MAX_INCLUDE_DEPTH} deep`, nameToken);
      return;
    }
    if (this.files.length >= MAX_INCLUDED_FILES) {
      this.#report('bad-include', `more than ${MAX_INCLUDED_FILES} files in one assembly`, nameToken);
      return;
    }
    let included: IncludedFile;
    try {
      included = this.#include(name, this.#sink.fileName(at.file));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.#report('bad-include', `cannot include '${clip(name)}': ${clip(why, 160)}`, nameToken);
      return;
    }
    if (chain.includes(included.file)) {
      const cycle = [...chain.slice(chain.indexOf(included.file)), included.file]
        .map((f) => clip(f))
        .join(' -> ');
      this.#report('bad-include', `'${clip(name)}' includes itself: ${cycle}`, nameToken);
      return;
    }
    const index = this.#sink.addFile(included.file, included.text);
    this.files.push({ name: included.file, text: included.text });
    const tokens = tokenize(included.text, this.#sink, index);
    this.#walk(tokens, [...chain, included.file], '', macroDepth);
  }

  /** `.macro name p, q` … `.endm`, at the `.macro`; returns the index after `.endm`'s row. */
  #define(tokens: readonly Token[], i: number, end: number): number {
    const at = tokens[i]!;
    const header = tokens.slice(i + 1, end);
    let bodyEnd = end;
    while (tokens[bodyEnd]!.kind !== 'eof' && !isDirective(tokens[bodyEnd]!, 'endm')) {
      if (isDirective(tokens[bodyEnd]!, 'macro')) {
        this.#report(
          'bad-macro',
          'a macro cannot be defined inside another (missing .endm?)',
          tokens[bodyEnd]!,
        );
      }
      bodyEnd++;
    }
    const body = tokens.slice(end, bodyEnd);
    const after = tokens[bodyEnd]!.kind === 'eof' ? bodyEnd : Expander.#restOfRow(tokens, bodyEnd);
    if (tokens[bodyEnd]!.kind === 'eof') {
      this.#report('bad-macro', '.macro without its .endm', at);
      return after;
    }
    if (after !== bodyEnd + 1) this.#report('bad-macro', '.endm takes no operands', tokens[bodyEnd + 1]!);
    const [nameToken, ...rest] = header;
    if (nameToken?.kind !== 'name') {
      this.#report('bad-macro', '.macro needs a name: .macro name p, q', nameToken ?? at);
      return after;
    }
    const name = nameToken.text;
    if (instructionByName(name) !== undefined || PSEUDO_INSTRUCTIONS.has(name.toUpperCase())) {
      this.#report('bad-macro', `'${clip(name)}' is an instruction and cannot name a macro`, nameToken);
      return after;
    }
    const first = this.#macros.get(name);
    if (first !== undefined) {
      this.#report(
        'bad-macro',
        `duplicate macro '${clip(name)}' (first defined at ${first.at.line}:${first.at.col})`,
        nameToken,
      );
      return after;
    }
    const params: string[] = [];
    let expectName = true;
    for (const p of rest) {
      if (p.kind === ',' && !expectName) expectName = true;
      else if (p.kind === 'name' && !params.includes(p.text)) {
        params.push(p.text);
        expectName = false;
      } else {
        this.#report('bad-macro', `bad macro parameter '${clip(p.text)}': parameters are distinct names`, p);
        return after;
      }
    }
    this.#macros.set(name, { name, params, body, at: nameToken });
    return after;
  }

  #use(
    macro: Macro,
    at: Token,
    operands: readonly Token[],
    chain: readonly string[],
    macroDepth: number,
  ): void {
    const args = splitArguments(operands);
    if (args === undefined || args.length !== macro.params.length) {
      const n = macro.params.length;
      this.#report(
        'bad-macro',
        `macro '${clip(macro.name)}' takes ${n} argument${n === 1 ? '' : 's'}${n === 0 ? '' : ` (${macro.params.join(', ')})`}, got ${args?.length ?? 'unbalanced parentheses'}`,
        at,
      );
      return;
    }
    if (macroDepth >= MAX_MACRO_DEPTH) {
      this.#report(
        'bad-macro',
        `macros nest more than ${MAX_MACRO_DEPTH} deep (does '${clip(macro.name)}' use itself?)`,
        at,
      );
      return;
    }
    const size = macro.body.length + args.reduce((sum, a) => sum + a.length, 0);
    this.#expanded += size;
    if (this.#expanded > MAX_EXPANDED_TOKENS) {
      this.#overflowed = true;
      this.#report('bad-macro', `macro expansion produces more than ${MAX_EXPANDED_TOKENS} tokens`, at);
      return;
    }
    const byParam = new Map(macro.params.map((p, k) => [p, args[k]!]));
    const body: Token[] = [];
    for (const t of macro.body) {
      const arg = t.kind === 'name' ? byParam.get(t.text) : undefined;
      if (arg !== undefined) {
        // The argument's tokens stand on the body's line (so "to the end of the line" holds).
        for (const a of arg) body.push({ ...a, row: t.row });
        continue;
      }
      const named = t.kind === 'label-def' || t.kind === 'label-ref' ? byParam.get(t.text) : undefined;
      const single = named?.length === 1 ? named[0]! : undefined;
      if (single !== undefined && (single.kind === 'name' || single.kind === 'label-ref')) {
        // `p:` or `:p` with p a parameter: a label named by the argument.
        body.push({ ...t, text: single.text });
        continue;
      }
      body.push(t);
    }
    body.push({ ...at, kind: 'eof', text: '' });
    this.#walk(body, chain, `m${++this.#instances}`, macroDepth + 1);
  }
}

/** Pseudo-instructions the assembler expands itself (see assemble.ts); not macro names. */
export const PSEUDO_INSTRUCTIONS: ReadonlySet<string> = new Set(['JSR', 'RTS']);

/**
 * A macro use's arguments: split at commas outside parentheses; without commas,
 * each operand (a token, or a name with its parenthesised arguments) is one.
 * Undefined when parentheses do not balance.
 */
function splitArguments(tokens: readonly Token[]): Token[][] | undefined {
  if (tokens.length === 0) return [];
  const hasComma = (() => {
    let depth = 0;
    for (const t of tokens) {
      if (t.kind === '(') depth++;
      else if (t.kind === ')') depth--;
      else if (t.kind === ',' && depth === 0) return true;
    }
    return false;
  })();
  const args: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === '(') depth++;
    if (t.kind === ')') depth--;
    if (depth < 0) return undefined;
    if (hasComma) {
      if (t.kind === ',' && depth === 0) {
        args.push(current);
        current = [];
      } else current.push(t);
      continue;
    }
    current.push(t);
    const next = tokens[i + 1];
    if (depth === 0 && next?.kind !== '(') {
      args.push(current);
      current = [];
    }
  }
  if (depth !== 0) return undefined;
  if (hasComma || current.length > 0) args.push(current);
  return args;
}
