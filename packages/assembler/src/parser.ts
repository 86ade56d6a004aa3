// Parses tokens into statements for both syntaxes: tree calls `op(args…)`, flat
// lines `OP operands…`, bare values, labels, address marks and directives.
import { INSTRUCTIONS, type InstructionInfo, instructionByName } from '@keyvm/isa';
import { clip, type DiagnosticSink } from './diagnostics.js';
import type { Token } from './lexer.js';
import { Suggester } from './suggest.js';

/** The directives, with their operands and meaning (the README mirrors this). */
export const DIRECTIVES = Object.freeze({
  const: 'NAME value: define a constant; a bare NAME then pushes value',
  word: 'v, v, …: raw code words (what the disassembler prints for non-instructions)',
  data: 'v, v, …: words of the initial data page',
  zero: 'N: N zero words of the data page',
  string: '"text": one data word per UTF-16 code unit, no terminator',
  string0: '"text": like .string, followed by a 0 word',
} as const);

export type DirectiveName = keyof typeof DIRECTIVES;

/** Directives that lay out the data page; a label just before one names a data offset. */
export const DATA_DIRECTIVES: ReadonlySet<DirectiveName> = new Set<DirectiveName>([
  'data',
  'zero',
  'string',
  'string0',
]);

/**
 * The deepest nesting of calls in one expression: `neg(neg(1))` is 2 deep. Deeper
 * expressions are refused rather than parsed, so that no input exhausts the stack.
 */
export const MAX_NESTING = 256;

export interface Loc {
  readonly line: number;
  readonly col: number;
}

export type Atom =
  | { readonly kind: 'number'; readonly value: number; readonly loc: Loc }
  | { readonly kind: 'label-ref'; readonly name: string; readonly loc: Loc }
  | { readonly kind: 'name'; readonly name: string; readonly loc: Loc };

export interface Call {
  readonly kind: 'call';
  /** Undefined for an unknown mnemonic (already reported). */
  readonly info: InstructionInfo | undefined;
  readonly style: 'tree' | 'flat';
  readonly args: readonly Expr[];
  readonly loc: Loc;
}

export type Expr = Atom | Call;

export interface StringOperand {
  readonly kind: 'string';
  readonly value: string;
  readonly loc: Loc;
}

export type Statement =
  | { readonly kind: 'label'; readonly name: string; readonly loc: Loc }
  | { readonly kind: 'address-mark'; readonly value: number; readonly text: string; readonly loc: Loc }
  | { readonly kind: 'expr'; readonly expr: Expr }
  | {
      readonly kind: 'directive';
      readonly name: DirectiveName;
      readonly operands: readonly (Expr | StringOperand)[];
      readonly loc: Loc;
    };

const MNEMONICS: readonly string[] = INSTRUCTIONS.map((row) => row.name);

const isDirective = (name: string): name is DirectiveName => Object.hasOwn(DIRECTIVES, name);

/** Parses a token list (ending in 'eof'); problems go to `sink`, the statements that parsed are returned. */
export function parse(tokens: Iterable<Token>, sink: DiagnosticSink): Statement[] {
  return [...new Parser(tokens, sink).statements()];
}

/** The statements of a token stream, made as they are asked for (a large source is never all in memory). */
export function parseStatements(tokens: Iterable<Token>, sink: DiagnosticSink): Generator<Statement> {
  return new Parser(tokens, sink).statements();
}

class Parser {
  // Bounded "did you mean" work however many unknown names a source holds.
  readonly #mnemonicGuesses = new Suggester(() => MNEMONICS);
  readonly #directiveGuesses = new Suggester(() => Object.keys(DIRECTIVES));
  /** Tokens read ahead, from #head on (the parser looks a few tokens ahead at most). */
  readonly #ahead: Token[] = [];
  #head = 0;
  readonly #source: Iterator<Token>;
  #last: Token | undefined;
  readonly #sink: DiagnosticSink;
  /** The line of the last token consumed: flat operands run to the end of it. */
  #lastLine = 0;
  /** Calls open around the current token. */
  #depth = 0;

  constructor(tokens: Iterable<Token>, sink: DiagnosticSink) {
    this.#source = tokens[Symbol.iterator]();
    this.#sink = sink;
  }

  *statements(): Generator<Statement> {
    const out: Statement[] = [];
    while (this.#peek().kind !== 'eof') {
      this.#parseStatement(out);
      yield* out;
      out.length = 0;
    }
  }

  /** The token `ahead` places on; past the end, the 'eof' token (the stream ends with one). */
  #peek(ahead = 0): Token {
    while (this.#ahead.length - this.#head <= ahead) {
      const r = this.#source.next();
      if (r.done) return this.#last ?? { kind: 'eof', text: '', value: 0, string: '', line: 1, col: 1 };
      this.#last = r.value;
      this.#ahead.push(r.value);
    }
    return this.#ahead[this.#head + ahead]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (token.kind !== 'eof') {
      this.#head++;
      // Drop what was consumed now and then, so the buffer stays a few tokens long.
      if (this.#head >= 1024) {
        this.#ahead.splice(0, this.#head);
        this.#head = 0;
      }
    }
    this.#lastLine = token.line;
    return token;
  }

  #report(code: Parameters<DiagnosticSink['report']>[0], message: string, at: Loc): void {
    this.#sink.report(code, message, at.line, at.col);
  }

  #parseStatement(out: Statement[]): void {
    const t = this.#peek();
    switch (t.kind) {
      case 'label-def':
        this.#next();
        out.push({ kind: 'label', name: t.text, loc: t });
        return;
      case 'address-mark':
        this.#next();
        out.push({ kind: 'address-mark', value: t.value, text: t.text, loc: t });
        return;
      case 'directive':
        this.#parseDirective(out);
        return;
      case 'name': {
        if (this.#peek(1).kind === '(') {
          out.push({ kind: 'expr', expr: this.#parseCall() });
          return;
        }
        const info = instructionByName(t.text);
        if (info !== undefined) {
          out.push({ kind: 'expr', expr: this.#parseFlat(info) });
          return;
        }
        // A constant pushing its value, or an unknown instruction: decided once all constants are known.
        this.#next();
        out.push({ kind: 'expr', expr: { kind: 'name', name: t.text, loc: t } });
        return;
      }
      case 'number':
      case 'label-ref':
        out.push({ kind: 'expr', expr: this.#parseExpr() });
        return;
      case 'string':
        this.#next();
        this.#report('syntax', 'a string can only be an operand of .string or .string0', t);
        return;
      case '(': {
        // A parenthesised group without an instruction: consume it whole so its ')' is not reported too.
        this.#report('syntax', "'(' must follow an instruction name", t);
        this.#next();
        this.#parseArgs(t);
        return;
      }
      case ')':
        this.#next();
        this.#report('unbalanced-parens', "unmatched ')'", t);
        return;
      case ',':
        this.#next();
        this.#report('syntax', "unexpected ','", t);
        return;
      case 'eof':
        return;
    }
  }

  /** `name(args…)`, at the name. */
  #parseCall(): Call {
    const name = this.#next();
    const open = this.#next();
    if (this.#depth >= MAX_NESTING) {
      this.#report('too-deep', `expression nested too deeply (more than ${MAX_NESTING} levels)`, name);
      this.#skipGroup(open);
      // No instruction: the layout puts a placeholder word and reports nothing more.
      return { kind: 'call', info: undefined, style: 'tree', args: [], loc: name };
    }
    const info = instructionByName(name.text);
    if (info === undefined) this.#reportUnknownInstruction(name);
    this.#depth++;
    const args = this.#parseArgs(open);
    this.#depth--;
    return { kind: 'call', info, style: 'tree', args, loc: name };
  }

  /**
   * Skips a call too deep to parse, without recursion: through the ')' that closes
   * `open`, or up to what cannot be an argument (where #parseArgs would stop too).
   */
  #skipGroup(open: Token): void {
    let level = 1;
    for (;;) {
      const t = this.#peek();
      if (t.kind === 'eof' || t.kind === 'label-def' || t.kind === 'address-mark' || t.kind === 'directive') {
        this.#report('unbalanced-parens', "unclosed '('", open);
        return;
      }
      this.#next();
      if (t.kind === '(') level++;
      else if (t.kind === ')' && --level === 0) return;
    }
  }

  #reportUnknownInstruction(name: Token): void {
    const guess = this.#mnemonicGuesses.suggest(name.text);
    const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
    this.#report('unknown-instruction', `unknown instruction '${clip(name.text)}'${hint}`, name);
  }

  /** Comma-separated arguments after `open`, through the closing ')'. */
  #parseArgs(open: Token): Expr[] {
    const args: Expr[] = [];
    if (this.#peek().kind === ')') {
      this.#next();
      return args;
    }
    for (;;) {
      const t = this.#peek();
      if (t.kind === 'number' || t.kind === 'label-ref' || t.kind === 'name') {
        args.push(this.#parseExpr());
      } else if (t.kind === ',' || t.kind === ')') {
        this.#report('syntax', 'expected an argument', t);
        this.#next();
        if (t.kind === ')') return args;
        continue;
      } else if (t.kind === 'string') {
        this.#report('syntax', 'a string can only be an operand of .string or .string0', t);
        this.#next();
      } else {
        this.#report('unbalanced-parens', "unclosed '('", open);
        return args;
      }
      const after = this.#peek();
      if (after.kind === ',') {
        this.#next();
      } else if (after.kind === ')') {
        this.#next();
        return args;
      } else if (
        after.line === this.#lastLine &&
        (after.kind === 'number' ||
          after.kind === 'label-ref' ||
          after.kind === 'name' ||
          after.kind === 'string')
      ) {
        this.#report('syntax', "expected ',' between arguments", after);
      } else {
        this.#report('unbalanced-parens', "unclosed '('", open);
        return args;
      }
    }
  }

  /** A number, `:label`, constant name or nested call. */
  #parseExpr(): Expr {
    const t = this.#peek();
    if (t.kind === 'name' && this.#peek(1).kind === '(') return this.#parseCall();
    this.#next();
    switch (t.kind) {
      case 'number':
        return { kind: 'number', value: t.value, loc: t };
      case 'label-ref':
        return { kind: 'label-ref', name: t.text, loc: t };
      default: {
        const info = instructionByName(t.text);
        if (info === undefined) return { kind: 'name', name: t.text, loc: t };
        this.#report(
          'syntax',
          `instruction '${t.text}' needs parentheses to be an argument: ${t.text.toLowerCase()}()`,
          t,
        );
        return { kind: 'call', info, style: 'tree', args: [], loc: t };
      }
    }
  }

  /** `OP operand operand…` to the end of the line, at the mnemonic. */
  #parseFlat(info: InstructionInfo): Call {
    const name = this.#next();
    const args: Expr[] = [];
    for (;;) {
      const t = this.#peek();
      if (t.line !== this.#lastLine) break;
      if (t.kind === ',') {
        if (args.length === 0) this.#report('syntax', "unexpected ','", t);
        this.#next();
      } else if (t.kind === 'number' || t.kind === 'label-ref') {
        args.push(this.#parseExpr());
      } else if (t.kind === 'name') {
        if (this.#peek(1).kind !== '(' && instructionByName(t.text) !== undefined) {
          this.#next();
          this.#report(
            'syntax',
            `'${t.text}' is an instruction: put it on its own line, or write ${t.text.toLowerCase()}() to use its result as an operand`,
            t,
          );
        } else {
          args.push(this.#parseExpr());
        }
      } else if (t.kind === 'string') {
        this.#next();
        this.#report('syntax', 'a string can only be an operand of .string or .string0', t);
      } else {
        break;
      }
    }
    return { kind: 'call', info, style: 'flat', args, loc: name };
  }

  #parseDirective(out: Statement[]): void {
    const t = this.#next();
    const name = t.text.toLowerCase();
    const operands: (Expr | StringOperand)[] = [];
    for (;;) {
      const o = this.#peek();
      if (o.line !== this.#lastLine) break;
      if (o.kind === ',') {
        if (operands.length === 0) this.#report('syntax', "unexpected ','", o);
        this.#next();
      } else if (o.kind === 'string') {
        this.#next();
        operands.push({ kind: 'string', value: o.string, loc: o });
      } else if (o.kind === 'number' || o.kind === 'label-ref') {
        operands.push(this.#parseExpr());
      } else if (o.kind === 'name') {
        // Names are taken as names here even when they spell a mnemonic (.const reports that).
        if (this.#peek(1).kind === '(') {
          operands.push(this.#parseCall());
        } else {
          this.#next();
          operands.push({ kind: 'name', name: o.text, loc: o });
        }
      } else {
        break;
      }
    }
    if (!isDirective(name)) {
      const guess = this.#directiveGuesses.suggest(name);
      const hint = guess === undefined ? '' : `; did you mean '.${guess}'?`;
      this.#report('unknown-directive', `unknown directive '.${clip(t.text)}'${hint}`, t);
      return;
    }
    out.push({ kind: 'directive', name, operands, loc: t });
  }
}
