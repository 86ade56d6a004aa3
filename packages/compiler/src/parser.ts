// The parser: tokens to a Module. Statements by recursive descent over the
// indentation tokens, expressions by a Pratt parser (binding powers below). A
// syntax error is reported and the parser skips to the end of the line (or the
// block), so one compile reports every error it can.
import type {
  DomainDecl,
  Expr,
  FuncDecl,
  ImportDecl,
  Module,
  Param,
  Stmt,
  TopLevel,
  TypDecl,
  TypeExpr,
} from './ast.js';
import type { Sink, Span } from './diagnostics.js';
import type { Token } from './lexer.js';

/** Deepest expression nesting accepted (parentheses, operands of operators, calls). */
export const MAX_EXPR_DEPTH = 200;

/** Words that cannot name a variable. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'def',
  'domain',
  'typ',
  'import',
  'var',
  'const',
  'if',
  'elif',
  'else',
  'while',
  'for',
  `from`,
  'to',
  'step',
  'return',
  'print',
  'pass',
  'and',
  'or',
  'not',
  'true',
  'false',
  'spawn',
]);

/** Binding powers of the infix operators. */
const INFIX: Readonly<Record<string, number>> = {
  or: 1,
  and: 2,
  '==': 4,
  '!=': 4,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  '|': 5,
  '^': 6,
  '&': 7,
  '<<': 8,
  '>>': 8,
  '+': 9,
  '-': 9,
  '*': 10,
  '/': 10,
  '%': 10,
};
const PREFIX_POWER = 11;

class SyntaxError_ extends Error {}

export function parse(tokens: readonly Token[], sink: Sink, file: string): Module {
  return new Parser(tokens, sink).module(file);
}

/** Deepest nesting of blocks (with elif branches) accepted. */
export const MAX_BLOCK_DEPTH = 200;

class Parser {
  #pos = 0;
  #depth = 0;
  /** Blocks open around the statement being parsed (an elif counts as one more). */
  #nest = 0;
  /** Height of each expression tree built: later phases recurse over it. */
  readonly #heights = new WeakMap<Expr, number>();

  #height(e: Expr): number {
    return this.#heights.get(e) ?? 1;
  }

  /** Records the height of a new node over its children; refuses one past the limit. */
  #node<E extends Expr>(e: E, children: readonly Expr[]): E {
    let h = 0;
    for (const c of children) h = Math.max(h, this.#height(c));
    if (h + 1 > 2 * MAX_EXPR_DEPTH) {
      this.#sink.report('too-large', `expression nested more than ${2 * MAX_EXPR_DEPTH} deep`, e.at);
      throw new SyntaxError_('too deep');
    }
    this.#heights.set(e, h + 1);
    return e;
  }
  readonly #tokens: readonly Token[];
  readonly #sink: Sink;

  constructor(tokens: readonly Token[], sink: Sink) {
    this.#tokens = tokens;
    this.#sink = sink;
  }

  get #tok(): Token {
    return this.#tokens[this.#pos] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  #kind(): Token['kind'] {
    return this.#tok.kind;
  }

  #peek(n = 1): Token {
    return this.#tokens[this.#pos + n] ?? this.#tokens[this.#tokens.length - 1]!;
  }

  #next(): Token {
    const t = this.#tok;
    if (t.kind !== 'eof') this.#pos++;
    return t;
  }

  #is(text: string): boolean {
    const t = this.#tok;
    return (t.kind === 'op' || t.kind === 'name') && t.text === text;
  }

  #accept(text: string): boolean {
    if (this.#is(text)) {
      this.#next();
      return true;
    }
    return false;
  }

  #fail(message: string, at: Span = this.#tok.at): never {
    this.#sink.report('syntax', message, at);
    throw new SyntaxError_(message);
  }

  #expect(text: string, what = `'${text}'`): Token {
    if (this.#is(text)) return this.#next();
    return this.#fail(`expected ${what}, found ${describe(this.#tok)}`);
  }

  #expectName(what: string): Token {
    const t = this.#tok;
    if (t.kind === 'name' && !KEYWORDS.has(t.text)) return this.#next();
    return this.#fail(`expected ${what}, found ${describe(t)}`);
  }

  #expectNewline(): void {
    if (this.#kind() === 'newline') {
      this.#next();
      return;
    }
    if (this.#kind() === 'eof' || this.#kind() === 'dedent') return;
    this.#fail(`expected the end of the line, found ${describe(this.#tok)}`);
  }

  /** After an error: skip the rest of the line, and a block that follows it. */
  #recover(): void {
    let level = 0;
    for (;;) {
      const t = this.#tok;
      if (t.kind === 'eof') return;
      if (t.kind === 'indent') level++;
      if (t.kind === 'dedent') {
        if (level === 0) return;
        level--;
        this.#next();
        if (level === 0 && this.#kind() !== 'indent') return;
        continue;
      }
      this.#next();
      if (t.kind === 'newline' && level === 0 && this.#kind() !== 'indent') return;
    }
  }

  module(file: string): Module {
    const items: TopLevel[] = [];
    while (this.#kind() !== 'eof') {
      const t = this.#tok;
      if (t.kind === 'newline') {
        this.#next();
        continue;
      }
      if (t.kind === 'indent' || t.kind === 'dedent') {
        if (t.kind === 'indent') this.#sink.report('bad-indent', 'unexpected indent', t.at);
        this.#next();
        continue;
      }
      try {
        items.push(this.#topLevel());
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        this.#recover();
      }
    }
    return { file, items };
  }

  #topLevel(): TopLevel {
    if (this.#is('def')) return this.#def();
    if (this.#is('typ')) return this.#typ();
    if (this.#is('domain')) return this.#domain();
    if (this.#is('import')) return this.#import();
    return this.#statement();
  }

  #import(): ImportDecl {
    const at = this.#next().at;
    const t = this.#tok;
    let path: string;
    if (t.kind === 'string') path = this.#next().text;
    else path = this.#expectName('a module name or "path" after import').text;
    this.#expectNewline();
    return { kind: 'import', path, at };
  }

  #type(): TypeExpr {
    const t = this.#tok;
    if (t.kind !== 'name' || (KEYWORDS.has(t.text) && t.text !== 'domain'))
      return this.#fail(`expected a type, found ${describe(t)}`);
    this.#next();
    let array = false;
    if (this.#is('[') && this.#peek().kind === 'op' && this.#peek().text === ']') {
      this.#next();
      this.#next();
      array = true;
    }
    return { name: t.text, array, at: t.at };
  }

  #param(): Param {
    const type = this.#type();
    const name = this.#expectName('a name after the type');
    return { type, name: name.text, at: name.at };
  }

  #params(): Param[] {
    const params: Param[] = [];
    this.#expect('(');
    if (!this.#is(')')) {
      do params.push(this.#param());
      while (this.#accept(','));
    }
    this.#expect(')', "')' or ','");
    return params;
  }

  #def(): FuncDecl {
    const at = this.#next().at;
    const name = this.#expectName('a function name after def');
    const params = this.#params();
    let result: TypeExpr | undefined;
    if (this.#accept('->')) {
      if (this.#accept('(')) {
        result = this.#type();
        this.#expect(')');
      } else result = this.#type();
    }
    this.#expect(':', "':' after the function's header");
    const body = this.#block();
    return { kind: 'def', name: name.text, params, result, body, at: name.at ?? at };
  }

  #typ(): TypDecl {
    this.#next();
    const name = this.#expectName('a record name after typ');
    this.#expect(':', "':' after the record's name");
    this.#expectNewline();
    const fields: Param[] = [];
    if (this.#kind() !== 'indent') this.#fail('expected the indented fields of the record');
    this.#next();
    while (this.#kind() !== 'dedent' && this.#kind() !== 'eof') {
      if (this.#kind() === 'newline') {
        this.#next();
        continue;
      }
      try {
        fields.push(this.#param());
        this.#expectNewline();
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        this.#recover();
      }
    }
    this.#next();
    return { kind: 'typ', name: name.text, fields, at: name.at };
  }

  #domain(): DomainDecl {
    this.#next();
    const name = this.#expectName('a domain name');
    const params = this.#is('(') ? this.#params() : [];
    this.#expect(':', "':' after the domain's name");
    this.#expectNewline();
    if (this.#kind() !== 'indent') this.#fail('expected the indented body of the domain');
    this.#next();
    const vars: Stmt[] = [];
    const functions: FuncDecl[] = [];
    while (this.#kind() !== 'dedent' && this.#kind() !== 'eof') {
      if (this.#kind() === 'newline') {
        this.#next();
        continue;
      }
      try {
        if (this.#is('def')) functions.push(this.#def());
        else if (this.#is('var') || this.#is('const')) vars.push(this.#statement());
        else this.#fail(`expected 'def', 'var' or 'const' in a domain, found ${describe(this.#tok)}`);
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        this.#recover();
      }
    }
    this.#next();
    return { kind: 'domain', name: name.text, params, vars, functions, at: name.at };
  }

  /** NEWLINE INDENT statements DEDENT, or a simple statement on the same line. */
  #block(): Stmt[] {
    if (this.#kind() !== 'newline') {
      const s = this.#simple();
      this.#expectNewline();
      return [s];
    }
    this.#next();
    if (this.#kind() !== 'indent') this.#fail('expected an indented block', this.#tok.at);
    this.#next();
    const body: Stmt[] = [];
    this.#nest++;
    try {
      this.#blockBody(body);
    } finally {
      this.#nest--;
    }
    return body;
  }

  #blockBody(body: Stmt[]): void {
    while (this.#kind() !== 'dedent' && this.#kind() !== 'eof') {
      if (this.#kind() === 'newline') {
        this.#next();
        continue;
      }
      if (this.#kind() === 'indent') {
        this.#sink.report('bad-indent', 'unexpected indent', this.#tok.at);
        this.#recover();
        continue;
      }
      try {
        if (this.#is('def') || this.#is('domain') || this.#is('typ') || this.#is('import'))
          this.#fail(`'${this.#tok.text}' is allowed only at the top level`);
        body.push(this.#statement());
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
        this.#recover();
      }
    }
    this.#next();
  }

  #statement(): Stmt {
    const t = this.#tok;
    if (this.#is('if')) return this.#if();
    if (this.#is('while')) {
      this.#next();
      const cond = this.#expr();
      this.#expect(':', "':' after the condition");
      return { kind: 'while', cond, body: this.#block(), at: t.at };
    }
    if (this.#is('for')) {
      this.#next();
      const name = this.#expectName('the loop variable');
      this.#expect(`from`, 'the keyword from after the loop variable');
      const from = this.#expr();
      this.#expect('to', "'to'");
      const to = this.#expr();
      const step = this.#accept('step') ? this.#expr() : undefined;
      this.#expect(':', "':' after the loop's range");
      return { kind: 'for', name: name.text, from, to, step, body: this.#block(), at: t.at };
    }
    const s = this.#simple();
    this.#expectNewline();
    return s;
  }

  /** if / elif… / else, read in a loop (a long elif chain does not recurse). */
  #if(): Stmt {
    const arms: { at: Span; cond: Expr; body: Stmt[] }[] = [];
    do {
      const at = this.#next().at;
      const cond = this.#expr();
      this.#expect(':', "':' after the condition");
      arms.push({ at, cond, body: this.#block() });
      if (arms.length + this.#nest > MAX_BLOCK_DEPTH)
        this.#fail(`blocks and elif branches nested more than ${MAX_BLOCK_DEPTH} deep`);
    } while (this.#is('elif'));
    let otherwise: Stmt[] = [];
    if (this.#accept('else')) {
      this.#expect(':', "':' after else");
      otherwise = this.#block();
    }
    for (let i = arms.length - 1; i >= 0; i--) {
      const arm = arms[i]!;
      otherwise = [{ kind: 'if', cond: arm.cond, body: arm.body, otherwise, at: arm.at }];
    }
    return otherwise[0]!;
  }

  #simple(): Stmt {
    const t = this.#tok;
    if (this.#is('var') || this.#is('const')) {
      this.#next();
      const type = this.#type();
      const name = this.#expectName('a variable name after its type');
      const init = this.#accept('=') ? this.#expr() : undefined;
      return { kind: 'var', constant: t.text === 'const', type, name: name.text, init, at: name.at };
    }
    if (this.#is('return')) {
      this.#next();
      const value = this.#kind() === 'newline' || this.#kind() === 'dedent' ? undefined : this.#expr();
      return { kind: 'return', value, at: t.at };
    }
    if (this.#is('pass')) {
      this.#next();
      return { kind: 'pass', at: t.at };
    }
    if (this.#is('print')) {
      this.#next();
      this.#expect('(', "'(' after print");
      const args = this.#args(')');
      return { kind: 'print', args, at: t.at };
    }
    if (t.kind === 'name' && KEYWORDS.has(t.text) && !['not', 'true', 'false', 'spawn'].includes(t.text))
      this.#fail(`'${t.text}' cannot start a statement here`);
    const expr = this.#expr();
    if (this.#is('=')) {
      const eq = this.#next();
      const value = this.#expr();
      return { kind: 'assign', target: expr, value, at: eq.at };
    }
    return { kind: 'expr', expr, at: t.at };
  }

  #args(close: string): Expr[] {
    const args: Expr[] = [];
    if (!this.#is(close)) {
      do args.push(this.#expr());
      while (this.#accept(','));
    }
    this.#expect(close, `'${close}' or ','`);
    return args;
  }

  #expr(power = 0): Expr {
    if (this.#depth >= MAX_EXPR_DEPTH) {
      this.#sink.report('too-large', `expression nested more than ${MAX_EXPR_DEPTH} deep`, this.#tok.at);
      throw new SyntaxError_('too deep');
    }
    this.#depth++;
    try {
      let left = this.#prefix();
      for (;;) {
        const t = this.#tok;
        if (t.kind !== 'op' && t.kind !== 'name') break;
        const p = INFIX[t.text];
        if (p === undefined || p <= power) break;
        if (t.kind === 'name' && t.text !== 'and' && t.text !== 'or') break;
        this.#next();
        // Comparisons do not chain: `a < b < c` is an error rather than a surprise.
        const right = this.#expr(p);
        if (p === 4 && this.#kind() === 'op' && INFIX[this.#tok.text] === 4)
          this.#fail('comparisons do not chain: use and');
        left = this.#node({ kind: 'binary', op: t.text, left, right, at: t.at }, [left, right]);
      }
      return left;
    } finally {
      this.#depth--;
    }
  }

  #prefix(): Expr {
    const k = this.#kind();
    if (k === 'newline' || k === 'eof' || k === 'indent' || k === 'dedent')
      return this.#fail(`expected a value, found ${describe(this.#tok)}`);
    const t = this.#next();
    let e: Expr;
    switch (t.kind) {
      case 'int':
        e = { kind: 'int', value: t.value, at: t.at };
        break;
      case 'string':
        e = { kind: 'string', value: t.text, at: t.at };
        break;
      case 'op':
        if (t.text === '-' || t.text === '~') {
          const operand = this.#expr(PREFIX_POWER - 1);
          e = this.#node({ kind: 'unary', op: t.text, operand, at: t.at }, [operand]);
        } else if (t.text === '(') {
          e = this.#expr();
          this.#expect(')', "')'");
        } else if (t.text === '[') {
          const items = this.#args(']');
          e = this.#node({ kind: 'list', items, at: t.at }, items);
        } else return this.#fail(`expected a value, found ${describe(t)}`, t.at);
        break;
      case 'name':
        if (t.text === 'true' || t.text === 'false') e = { kind: 'bool', value: t.text === 'true', at: t.at };
        else if (t.text === 'not') {
          const operand = this.#expr(3);
          e = this.#node({ kind: 'unary', op: 'not', operand, at: t.at }, [operand]);
        } else if (t.text === 'spawn') e = this.#spawn(t);
        else if (KEYWORDS.has(t.text)) return this.#fail(`expected a value, found '${t.text}'`, t.at);
        else if (this.#is('(')) {
          this.#next();
          const args = this.#args(')');
          e = this.#node({ kind: 'call', callee: t.text, args, at: t.at }, args);
        } else e = { kind: 'name', name: t.text, at: t.at };
        break;
      default:
        return this.#fail(`expected a value, found ${describe(t)}`, t.at);
    }
    // Postfix: indexing, fields and method calls.
    for (;;) {
      if (this.#is('[')) {
        const at = this.#next().at;
        const index = this.#expr();
        this.#expect(']', "']'");
        e = this.#node({ kind: 'index', target: e, index, at }, [e, index]);
      } else if (this.#is('.')) {
        this.#next();
        const name = this.#expectName('a field or function name after .');
        if (this.#is('(')) {
          this.#next();
          const args = this.#args(')');
          e = this.#node({ kind: 'method', target: e, name: name.text, args, at: name.at }, [e, ...args]);
        } else e = this.#node({ kind: 'field', target: e, name: name.text, at: name.at }, [e]);
      } else return e;
    }
  }

  /** `spawn Name(keys…) [meter m] [keeper k]` */
  #spawn(t: Token): Expr {
    const name = this.#expectName('a domain name after spawn');
    this.#expect('(', "'(' after the domain's name");
    const args = this.#args(')');
    let meter: Expr | undefined;
    let keeper: Expr | undefined;
    for (;;) {
      if (this.#kind() === 'name' && this.#tok.text === 'meter' && meter === undefined) {
        this.#next();
        meter = this.#expr(PREFIX_POWER);
      } else if (this.#kind() === 'name' && this.#tok.text === 'keeper' && keeper === undefined) {
        this.#next();
        keeper = this.#expr(PREFIX_POWER);
      } else break;
    }
    const parts = [
      ...args,
      ...(meter === undefined ? [] : [meter]),
      ...(keeper === undefined ? [] : [keeper]),
    ];
    return this.#node({ kind: 'spawn', domain: name.text, args, meter, keeper, at: t.at }, parts);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return 'the end of the line';
    case 'indent':
      return 'an indent';
    case 'dedent':
      return 'the end of the block';
    case 'string':
      return 'a string';
    case 'int':
      return `'${t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text}'`;
    default:
      return `'${t.text}'`;
  }
}
