// The assembler: source text to a Program. Tokenizes, parses, then lays out code
// and data in one pass with back-patching for labels and constants used early.
import { INSTRUCTIONS, instructionByName, Op } from '@keyvm/isa';
import { AssemblyError, type AssemblyErrorCode, clip, DiagnosticSink } from './diagnostics.js';
import { expand, type IncludeReader } from './expand.js';
import {
  type Atom,
  type Call,
  DATA_DIRECTIVES,
  type Expr,
  type Loc,
  type PseudoName,
  parseStatements,
  type Statement,
  type StringOperand,
} from './parser.js';
import { PREDEFINED } from './predefined.js';
import {
  compareLabels,
  type LabelSection,
  MAX_PAGE_WORDS,
  type Program,
  type SourceMapEntry,
} from './program.js';
import { Suggester } from './suggest.js';

export interface AssembleOptions {
  /** The file name used in diagnostics and kept as `program.source`. */
  readonly file?: string;
  /**
   * Reads `.include`d files (resolving each name against the including file); without
   * it `.include` is an error. The host supplies it, so the assembler reads no files itself.
   */
  readonly include?: IncludeReader;
  /** Keep the text of every file in `program.files` (for showing source lines later). */
  readonly keepSource?: boolean;
}

/** The largest `.zero` count accepted, in words. */
export const MAX_ZERO_WORDS = 1 << 20;

/**
 * Assembles tree (`add(1,2)`) and flat (`ADD 1 2`) syntax, freely mixed.
 * Throws an AssemblyError listing every problem in the source.
 */
export function assemble(source: string, options: AssembleOptions = {}): Program {
  return assembleWithPageLimit(source, options, MAX_PAGE_WORDS);
}

/**
 * `assemble` with pages limited to `pageWords` words: lets tests reach the limit
 * on code without a source of 2^24 words. Not part of the package's API.
 */
export function assembleWithPageLimit(source: string, options: AssembleOptions, pageWords: number): Program {
  const name = options.file ?? '<input>';
  const sink = new DiagnosticSink(name, source);
  // Without .include or .macro, tokens and statements are made as they are used:
  // memory follows the program, not the source.
  const expanded = expand(source, name, sink, options.include);
  const statements = parseStatements(expanded.tokens, sink);
  const layout = new Layout(sink, pageWords);
  layout.run(statements);
  if (sink.count > 0) throw new AssemblyError(sink.sorted());
  // Files are listed when the source map points into more than one, or their text is kept.
  const files =
    expanded.files.length > 1 || options.keepSource === true
      ? expanded.files.map((f, i) => ({
          name: i === 0 ? (options.file ?? '') : f.name,
          ...(options.keepSource === true ? { text: f.text } : {}),
        }))
      : undefined;
  return {
    code: layout.code.toInt32Array(),
    data: layout.data.toInt32Array(),
    labels: [...layout.labels]
      .map(([name, l]) => ({ name, address: l.address, section: l.section }))
      .sort(compareLabels),
    sourceMap: layout.sourceMap,
    ...(options.file === undefined ? {} : { source: options.file }),
    ...(files === undefined ? {} : { files }),
  };
}

const MNEMONICS: readonly string[] = INSTRUCTIONS.map((row) => row.name);
const PREDEFINED_KEYS: readonly string[] = [...PREDEFINED.keys()];

/** Words that grow in place: an Int32Array, doubled when full and all zero past `length`. */
class Words {
  #buffer = new Int32Array(64);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(word: number): void {
    this.#reserve(1);
    this.#buffer[this.#length++] = word;
  }

  /** Appends `count` zero words (the buffer past the length is never written). */
  pushZeros(count: number): void {
    this.#reserve(count);
    this.#length += count;
  }

  set(index: number, word: number): void {
    this.#buffer[index] = word;
  }

  toInt32Array(): Int32Array {
    return this.#buffer.slice(0, this.#length);
  }

  #reserve(count: number): void {
    const needed = this.#length + count;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length;
    while (capacity < needed) capacity *= 2;
    const grown = new Int32Array(capacity);
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

/** A word whose value is known only once every label and constant is. */
interface Fixup {
  readonly words: Words;
  readonly index: number;
  readonly ref: Exclude<Atom, { kind: 'number' }>;
  /** A bare name standing alone as a statement: unknown instruction when it is no constant. */
  readonly statement: boolean;
}

interface LabelStatement {
  readonly name: string;
  readonly loc: Loc;
}

class Layout {
  readonly code = new Words();
  readonly data = new Words();
  readonly sourceMap: SourceMapEntry[] = [];
  readonly labels = new Map<string, { address: number; section: LabelSection; loc: Loc }>();
  readonly #consts = new Map<string, { value: number; loc: Loc }>();
  /**
   * Names the program has defined with .const so far: the predefined value of such a
   * name is not used anywhere (uses are resolved at the end, when the set is complete).
   */
  readonly #ownNames = new Set<string>();
  /**
   * Predefined values taken where order matters (.const, .zero) before the program
   * had a .const of that name: checked at the end, since a later .const of the name
   * takes it over, also above its definition.
   */
  readonly #earlyPredefined: { name: string; loc: Loc; directive: string }[] = [];
  readonly #fixups: Fixup[] = [];
  /** Labels waiting for the next statement to say whether they name code or data. */
  #pending: LabelStatement[] = [];
  readonly #sink: DiagnosticSink;
  /** The most words a page may hold. */
  readonly #pageWords: number;
  /** Sections that went past the page limit (reported once): nothing more is added to them. */
  readonly #full = new Set<LabelSection>();

  constructor(sink: DiagnosticSink, pageWords: number) {
    this.#sink = sink;
    this.#pageWords = pageWords;
  }

  /**
   * Whether `count` more words fit in the section's page. The first time they do
   * not, reports it at `where`; from then on the section takes no more words, so an
   * oversized page is never allocated.
   */
  #room(section: LabelSection, count: number, where: Loc): boolean {
    if (this.#full.has(section)) return false;
    const words = section === 'code' ? this.code : this.data;
    if (words.length + count <= this.#pageWords) return true;
    this.#full.add(section);
    this.#report(
      'page-overflow',
      `the ${section} page would grow to ${words.length + count} words, past the largest page (${this.#pageWords} words)`,
      where,
    );
    return false;
  }

  /** One code word with a source map entry, when it fits. */
  #op(word: number, where: Loc): void {
    if (!this.#room('code', 1, where)) return;
    this.#mapAt(where);
    this.code.push(word);
  }

  // "Did you mean" for undefined names, bounded (labels and constants are all defined by then).
  readonly #labelGuesses = new Suggester(() => this.labels.keys());
  readonly #constGuesses = new Suggester(() => [
    ...this.#consts.keys(),
    ...PREDEFINED_KEYS.filter((n) => !this.#ownNames.has(n)),
  ]);
  readonly #mnemonicGuesses = new Suggester(() => MNEMONICS);

  #report(code: AssemblyErrorCode, message: string, at: Loc): void {
    this.#sink.report(code, message, at.line, at.col, at.file);
  }

  /**
   * A constant's value: the program's own, else a predefined name's that the program
   * does not define (so far: complete once all statements are read).
   */
  #constant(name: string): number | undefined {
    const own = this.#consts.get(name);
    if (own !== undefined) return own.value;
    return this.#ownNames.has(name) ? undefined : PREDEFINED.get(name);
  }

  run(statements: Iterable<Statement>): void {
    for (const s of statements) {
      if (s.kind === 'label') {
        this.#pending.push(s);
        continue;
      }
      this.#bindPending(s.kind === 'directive' && DATA_DIRECTIVES.has(s.name) ? 'data' : 'code');
      this.#statement(s);
    }
    this.#bindPending('code');
    for (const use of this.#earlyPredefined) {
      if (!this.#ownNames.has(use.name)) continue;
      this.#report(
        'undefined-name',
        `constant '${clip(use.name)}' must be defined before this ${use.directive}`,
        use.loc,
      );
    }
    for (const fixup of this.#fixups) this.#resolve(fixup);
  }

  #bindPending(section: LabelSection): void {
    const address = section === 'code' ? this.code.length : this.data.length;
    for (const { name, loc } of this.#pending) {
      const first = this.labels.get(name);
      if (first === undefined) this.labels.set(name, { address, section, loc });
      else
        this.#report(
          'duplicate-label',
          `duplicate label '${clip(name)}' (first defined at ${at(first.loc)})`,
          loc,
        );
    }
    this.#pending = [];
  }

  #statement(s: Exclude<Statement, { kind: 'label' }>): void {
    switch (s.kind) {
      case 'address-mark':
        // Past the page limit, code was dropped and offsets no longer mean anything.
        if (s.value !== this.code.length && !this.#full.has('code')) {
          this.#report(
            'address-mismatch',
            `address mark ${s.text}: does not match the code offset ${this.code.length}`,
            s.loc,
          );
        }
        return;
      case 'expr':
        this.#expr(s.expr, true);
        return;
      case 'pseudo':
        this.#pseudo(s.name, s.args, s.loc);
        return;
      case 'directive':
        this.#directive(s);
        return;
    }
  }

  #mapAt(loc: Loc): void {
    const pc = this.code.length;
    this.sourceMap.push(
      loc.file ? { pc, line: loc.line, col: loc.col, file: loc.file } : { pc, line: loc.line, col: loc.col },
    );
  }

  #word(words: Words, operand: Atom, statement = false): void {
    if (operand.kind === 'number') {
      words.push(operand.value);
    } else {
      this.#fixups.push({ words, index: words.length, ref: operand, statement });
      words.push(0);
    }
  }

  /** Code that leaves the expression's value(s) on the stack. */
  #expr(expr: Expr, statement = false): void {
    if (expr.kind !== 'call') {
      if (!this.#room('code', 2, expr.loc)) return;
      this.#mapAt(expr.loc);
      this.code.push(Op.PUSH);
      this.#word(this.code, expr, statement);
      return;
    }
    this.#call(expr);
  }

  #call(call: Call): void {
    const { info } = call;
    if (info === undefined) {
      // Unknown mnemonic (reported by the parser): keep the layout going with a placeholder word.
      for (const arg of call.args) this.#expr(arg);
      this.#op(0, call.loc);
      return;
    }
    const k = info.immediates;
    if (k === 0) {
      // Operands are pushed first, left to right: the first is the deepest argument.
      for (const arg of call.args) this.#expr(arg);
      // Flat `JUMPIF :loop`: a lone operand of an instruction whose first operand is a
      // code address (its kind in the table, e.g. JUMPIF's `addr cond`) is that
      // address; the rest is already on the stack, so the pushed operand is swapped under it.
      if (
        call.style === 'flat' &&
        call.args.length === 1 &&
        info.pops === 2 &&
        info.operands[0]?.kind === 'addr'
      ) {
        this.#op(Op.SWAP, call.loc);
      }
      this.#op(info.code, call.loc);
      return;
    }
    const plural = (n: number) => `${n} immediate${n === 1 ? '' : 's'}`;
    const n = call.args.length;
    let ok = true;
    if (call.style === 'flat' && n !== k) {
      this.#report('wrong-immediates', `${info.name} takes ${plural(k)}, got ${n}`, call.loc);
      ok = false;
    } else if (call.style === 'tree' && (n === 0 || n % k !== 0)) {
      const lower = info.name.toLowerCase();
      const message =
        n === 0
          ? `${lower}() needs at least ${plural(k)}`
          : `${lower}() takes its immediates in groups of ${k}, got ${n}`;
      this.#report('wrong-immediates', message, call.loc);
      ok = false;
    }
    for (const arg of call.args) {
      if (arg.kind === 'call') {
        this.#report(
          'wrong-immediates',
          `an immediate of ${info.name} must be a number, a :label or a constant, not an instruction`,
          arg.loc,
        );
        ok = false;
      }
    }
    if (!ok) return;
    for (let g = 0; g < n; g += k) {
      const where = g === 0 ? call.loc : call.args[g]!.loc;
      if (!this.#room('code', 1 + k, where)) return;
      this.#mapAt(where);
      this.code.push(info.code);
      for (let j = g; j < g + k; j++) this.#word(this.code, call.args[j] as Atom);
    }
  }

  /**
   * `JSR :f, a, b` pushes a and b, then the return address (right after the jump), and
   * jumps to f: `PUSH a, PUSH b, PUSH ret, PUSH :f, JUMP`. `RTS` jumps to the address on
   * top of the stack (`JUMP`); `RTS 1` to the one under the top word, which stays
   * (`SWAP, JUMP`): the callee leaves one result.
   */
  #pseudo(name: PseudoName, args: readonly Expr[], loc: Loc): void {
    if (name === 'RTS') {
      const [count] = args;
      if (
        args.length > 1 ||
        (count !== undefined && (count.kind !== 'number' || (count.value !== 0 && count.value !== 1)))
      ) {
        this.#report(
          'bad-operand',
          'RTS takes nothing or the number of results under the return address: 0 or 1',
          count?.loc ?? loc,
        );
        return;
      }
      if (count?.kind === 'number' && count.value === 1) this.#op(Op.SWAP, loc);
      this.#op(Op.JUMP, loc);
      return;
    }
    const [target, ...rest] = args;
    if (target === undefined || target.kind === 'call') {
      this.#report(
        'bad-operand',
        'JSR takes a target (a :label, number or constant), then arguments to push first',
        target?.loc ?? loc,
      );
      return;
    }
    for (const arg of rest) this.#expr(arg);
    if (!this.#room('code', 5, loc)) return;
    this.#mapAt(loc);
    this.code.push(Op.PUSH);
    this.code.push(this.code.length + 4); // PUSH ret (1 more word), PUSH target (2), JUMP (1)
    this.#expr(target);
    this.#op(Op.JUMP, loc);
  }

  #directive(s: Extract<Statement, { kind: 'directive' }>): void {
    const { operands, loc } = s;
    switch (s.name) {
      case 'const':
        this.#const(operands, loc);
        return;
      case 'word':
        for (const operand of operands) {
          const atom = this.#immediateOperand(operand, '.word');
          if (atom === undefined || !this.#room('code', 1, atom.loc)) continue;
          this.#mapAt(atom.loc);
          this.#word(this.code, atom);
        }
        return;
      case 'data':
        for (const operand of operands) {
          const atom = this.#immediateOperand(operand, '.data');
          if (atom !== undefined && this.#room('data', 1, atom.loc)) this.#word(this.data, atom);
        }
        return;
      case 'zero': {
        const count = operands.length === 1 ? this.#earlyValue(operands[0]!, '.zero') : undefined;
        if (operands.length !== 1) {
          this.#report('bad-operand', `.zero takes one count, got ${operands.length} operands`, loc);
        } else if (count !== undefined && (count < 0 || count > MAX_ZERO_WORDS)) {
          this.#report(
            'bad-operand',
            `.zero count must be from 0 to ${MAX_ZERO_WORDS}, got ${count}`,
            operands[0]!.loc,
          );
        } else if (count !== undefined && this.#room('data', count, loc)) {
          this.data.pushZeros(count);
        }
        return;
      }
      case 'string':
      case 'string0': {
        const [text] = operands;
        if (operands.length !== 1 || text?.kind !== 'string') {
          this.#report('bad-operand', `.${s.name} takes one "string"`, text?.loc ?? loc);
          return;
        }
        const length = text.value.length + (s.name === 'string0' ? 1 : 0);
        if (!this.#room('data', length, loc)) return;
        for (let i = 0; i < text.value.length; i++) this.data.push(text.value.charCodeAt(i));
        if (s.name === 'string0') this.data.push(0);
        return;
      }
    }
  }

  #const(operands: readonly (Expr | StringOperand)[], loc: Loc): void {
    const [name, value] = operands;
    if (name?.kind === 'name') this.#ownNames.add(name.name);
    if (operands.length !== 2 || name?.kind !== 'name') {
      this.#report('bad-operand', '.const takes a name and a value: .const NAME 42', name?.loc ?? loc);
      return;
    }
    const resolved = this.#earlyValue(value!, '.const');
    if (instructionByName(name.name) !== undefined) {
      this.#report('reserved-name', `'${name.name}' is an instruction and cannot name a constant`, name.loc);
      return;
    }
    const first = this.#consts.get(name.name);
    if (first !== undefined) {
      this.#report(
        'duplicate-name',
        `duplicate constant '${clip(name.name)}' (first defined at ${at(first.loc)})`,
        name.loc,
      );
      return;
    }
    if (resolved !== undefined) this.#consts.set(name.name, { value: resolved, loc: name.loc });
  }

  /** A value needed now (by .const or .zero): a number or a constant defined above. */
  #earlyValue(operand: Expr | StringOperand, directive: string): number | undefined {
    if (operand.kind === 'number') return operand.value;
    if (operand.kind === 'name') {
      const known = this.#constant(operand.name);
      if (known !== undefined) {
        if (!this.#consts.has(operand.name))
          this.#earlyPredefined.push({ name: operand.name, loc: operand.loc, directive });
        return known;
      }
      this.#report(
        'undefined-name',
        `constant '${clip(operand.name)}' must be defined before this ${directive}`,
        operand.loc,
      );
      return undefined;
    }
    this.#report('bad-operand', `${directive} takes a number or a constant defined above it`, operand.loc);
    return undefined;
  }

  #immediateOperand(operand: Expr | StringOperand, directive: string): Atom | undefined {
    if (operand.kind !== 'call' && operand.kind !== 'string') return operand;
    const what = operand.kind === 'string' ? 'a string (use .string)' : 'an instruction';
    this.#report(
      'bad-operand',
      `${directive} takes numbers, :labels and constants, not ${what}`,
      operand.loc,
    );
    return undefined;
  }

  #resolve({ words, index, ref, statement }: Fixup): void {
    if (ref.kind === 'label-ref') {
      const label = this.labels.get(ref.name);
      if (label !== undefined) {
        words.set(index, label.address);
        return;
      }
      const guess = this.#labelGuesses.suggest(ref.name);
      const hint =
        this.#constant(ref.name) !== undefined
          ? `; '${clip(ref.name)}' is a constant: write it without ':'`
          : guess === undefined
            ? ''
            : `; did you mean ':${guess}'?`;
      this.#report('undefined-label', `undefined label ':${clip(ref.name)}'${hint}`, ref.loc);
      return;
    }
    const known = this.#constant(ref.name);
    if (known !== undefined) {
      words.set(index, known);
      return;
    }
    if (this.labels.has(ref.name)) {
      const what = statement
        ? `unknown instruction '${clip(ref.name)}'`
        : `undefined constant '${clip(ref.name)}'`;
      this.#report(
        statement ? 'unknown-instruction' : 'undefined-name',
        `${what}; did you mean the label ':${clip(ref.name)}'?`,
        ref.loc,
      );
    } else if (statement) {
      const guess = this.#mnemonicGuesses.suggest(ref.name);
      const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
      this.#report('unknown-instruction', `unknown instruction '${clip(ref.name)}'${hint}`, ref.loc);
    } else {
      const guess = this.#constGuesses.suggest(ref.name);
      const hint = guess === undefined ? '' : `; did you mean '${guess}'?`;
      this.#report('undefined-name', `undefined constant '${clip(ref.name)}'${hint}`, ref.loc);
    }
  }
}

const at = (loc: Loc): string => `${loc.line}:${loc.col}`;
