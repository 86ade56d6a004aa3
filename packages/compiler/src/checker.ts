// The checker: resolves every name, gives every expression a type and refuses
// what does not type (int/key confusion, wrong arguments, assignment to
// constants). It also decides where each variable lives (frame, data page or key
// slot) and hands the code generator a tree it can compile without asking again.
import { closestMatch } from '@keyvm/assembler';
import type { DomainDecl, Expr, FuncDecl, Module, Stmt, TypDecl, TypeExpr } from './ast.js';
import type { Sink, Span } from './diagnostics.js';
import {
  assignable,
  BOOL,
  ERROR,
  INT,
  isSlotType,
  isWordType,
  KEY_TYPES,
  type KeyTypeName,
  keyType,
  STRING,
  type Type,
  typeName,
  VOID,
} from './types.js';

/** Fixed slots of every domain this compiler builds (KeyVM's layout, then ours). */
export const Slot = Object.freeze({
  TIME: 0,
  MEMORY: 1,
  SELF: 2,
  IP: 4,
  CODE: 5,
  STACK: 7,
  DATA: 8,
  RECV: 9,
  KEEPER: 10,
  RESUME: 11,
  CONSOLE: 12,
  /** Scratch for NUMKEY (a new domain's IP). */
  SCRATCH: 15,
  /** The caller's message key page: slot 0 the argument page, then key arguments. */
  MSG_OUT: 16,
  /** The caller's argument data page. */
  ARGS_OUT: 17,
  /** The callee's copy of the argument page it was handed. */
  ARGS_IN: 18,
  /** Pages of a domain being built by spawn. */
  NEW_PAGE: 19,
  NEW_STACK: 20,
  NEW_DATA: 21,
  /** Never written: a null key to return. */
  NOTHING: 22,
  /** First slot for variables. */
  FIRST_FREE: 23,
} as const);

/** Most key slots a program may use (variables, parameters, temporaries). */
export const MAX_SLOTS = 4096;

export type Storage =
  | { readonly k: 'frame' }
  | { readonly k: 'data'; readonly offset: number }
  | { readonly k: 'slot'; readonly slot: number }
  | { readonly k: 'const'; readonly value: number };

export interface VarSym {
  readonly k: 'var';
  readonly name: string;
  readonly type: Type;
  readonly storage: Storage;
  readonly constant: boolean;
  readonly at: Span;
}

export interface FuncSym {
  readonly k: 'func';
  readonly name: string;
  readonly decl: FuncDecl;
  readonly params: VarSym[];
  readonly result: Type;
  /** Slot for a key result. */
  readonly resultSlot: number;
  /** The domain whose function it is (its method number is its index), or undefined for top level. */
  readonly domain: DomainSym | undefined;
  readonly label: string;
  readonly method: number;
}

export interface DomainSym {
  readonly k: 'domain';
  readonly name: string;
  readonly decl: DomainDecl;
  readonly params: VarSym[];
  readonly vars: { sym: VarSym; init: Expr | undefined }[];
  readonly functions: FuncSym[];
  dataWords: number;
  usesConsole: boolean;
  /**
   * A server answers calls (dispatch on the method number); a keeper has one
   * function, on_fault or on_meter, that the VM runs when a domain or meter it
   * keeps stops.
   */
  role: 'server' | 'fault-keeper' | 'meter-keeper';
}

export interface RecordSym {
  readonly k: 'record';
  readonly name: string;
  readonly fields: { name: string; type: Type }[];
}

export type Sym = VarSym | FuncSym | DomainSym | RecordSym;

/** What a call expression calls. */
export type CallTarget =
  | { readonly k: 'builtin'; readonly name: BuiltinName }
  | { readonly k: 'func'; readonly func: FuncSym }
  | { readonly k: 'record'; readonly record: RecordSym }
  | { readonly k: 'method'; readonly func: FuncSym };

export const BUILTINS = {
  len: 'len(a): the length of an array or page',
  array: 'array(n): a new int[] of n zeros (a data page)',
  new_page: 'new_page(n): a new data page of n words',
  readonly: 'readonly(p): a read-only key to the page p',
  resize: 'resize(p, n): make the page p n words long',
  kind: 'kind(k): the kind of the key k (0 null … 7 device, as KEYTYPE)',
  sever: 'sever(k): revoke every key to the page or meter k; k gets a fresh key',
  child_meter: 'child_meter(m, n): a new meter under m holding n (-1: unlimited)',
  meter_left: 'meter_left(m): what the meter m has left',
  meter_set: 'meter_set(m, n): set what the meter m has left',
  set_keeper: 'set_keeper(m, d): make the domain d the keeper of the meter m',
  time_meter: "time_meter(): this domain's own time meter",
  putchar: 'putchar(c): write the character with code c to the console',
} as const;
export type BuiltinName = keyof typeof BUILTINS;

export interface Checked {
  readonly main: Stmt[];
  readonly mainVars: VarSym[];
  readonly functions: FuncSym[];
  readonly domains: DomainSym[];
  readonly records: RecordSym[];
  readonly types: Map<Expr, Type>;
  readonly refs: Map<Expr | Stmt, Sym>;
  readonly calls: Map<Expr, CallTarget>;
  /** Slots per domain page (the largest slot used, plus one). */
  readonly slots: number;
  /** Static key slot for an expression that needs a temporary key. */
  readonly temps: Map<Expr, number>;
  /** The constant step of each for loop. */
  readonly steps: Map<Stmt, number>;
  /** Most int and key arguments any method call passes. */
  readonly maxWordArgs: number;
  readonly maxKeyArgs: number;
  readonly usesCalls: boolean;
  /** The main program's console variable. */
  readonly console: VarSym;
}

/** Where a name is looked up: a chain of maps. */
class Scope {
  readonly names = new Map<string, Sym>();
  constructor(
    readonly parent: Scope | undefined,
    readonly what: 'module' | 'main' | 'domain' | 'function' | 'block',
  ) {}

  lookup(name: string): Sym | undefined {
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) {
      const found = s.names.get(name);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  all(): string[] {
    const out: string[] = [];
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) out.push(...s.names.keys());
    return out;
  }
}

interface Context {
  scope: Scope;
  func: FuncSym | undefined;
  domain: DomainSym | undefined;
  /** True in top-level code (main). */
  main: boolean;
}

export function check(modules: readonly Module[], sink: Sink): Checked {
  return new Checker(sink).run(modules);
}

class Checker {
  readonly #sink: Sink;
  readonly types = new Map<Expr, Type>();
  readonly refs = new Map<Expr | Stmt, Sym>();
  readonly calls = new Map<Expr, CallTarget>();
  readonly temps = new Map<Expr, number>();
  readonly steps = new Map<Stmt, number>();
  #nextSlot: number = Slot.FIRST_FREE;
  #slotsReported = false;
  readonly module = new Scope(undefined, 'module');
  readonly mainScope = new Scope(this.module, 'main');
  /** Names the main program declares at its top level (for a better message in functions). */
  readonly mainNames = new Set<string>(['console']);
  maxWordArgs = 0;
  maxKeyArgs = 0;
  usesCalls = false;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  #error(code: Parameters<Sink['report']>[0], message: string, at: Span): void {
    this.#sink.report(code, message, at);
  }

  #allocSlot(at: Span): number {
    if (this.#nextSlot >= MAX_SLOTS) {
      if (!this.#slotsReported)
        this.#error('limit', `the program needs more than ${MAX_SLOTS} key slots`, at);
      this.#slotsReported = true;
      return Slot.NOTHING;
    }
    return this.#nextSlot++;
  }

  run(modules: readonly Module[]): Checked {
    const records: RecordSym[] = [];
    const functions: FuncSym[] = [];
    const domains: DomainSym[] = [];
    const main: Stmt[] = [];
    const console: VarSym = {
      k: 'var',
      name: 'console',
      type: keyType('device'),
      storage: { k: 'slot', slot: Slot.CONSOLE },
      constant: true,
      at: { line: 1, col: 1 },
    };
    this.mainScope.names.set('console', console);
    // Pass 1: declare records, domains and functions (so order does not matter).
    const typDecls: TypDecl[] = [];
    const funcDecls: FuncDecl[] = [];
    const domainDecls: DomainDecl[] = [];
    for (const m of modules) {
      for (const item of m.items) {
        if (item.kind === 'typ') typDecls.push(item);
        else if (item.kind === 'def') funcDecls.push(item);
        else if (item.kind === 'domain') domainDecls.push(item);
        else if (item.kind === 'import') continue;
        else if (item.kind === 'var' && item.constant) main.push(item);
        else main.push(item);
      }
    }
    for (const s of main) if (s.kind === 'var' && !s.constant) this.mainNames.add(s.name);
    for (const t of typDecls) {
      const sym: RecordSym = { k: 'record', name: t.name, fields: [] };
      if (this.#declare(this.module, t.name, sym, t.at)) records.push(sym);
    }
    for (const t of typDecls) {
      const sym = this.module.names.get(t.name);
      if (sym?.k !== 'record') continue;
      const seen = new Set<string>();
      for (const f of t.fields) {
        const type = this.#resolveType(f.type);
        if (seen.has(f.name)) this.#error('duplicate-name', `field '${f.name}' declared twice`, f.at);
        seen.add(f.name);
        if (!isWordType(type) && type.k !== 'error')
          this.#error(
            'type-mismatch',
            `a record field holds int, bool or string, not ${typeName(type)}`,
            f.type.at,
          );
        sym.fields.push({ name: f.name, type });
      }
    }
    for (const d of domainDecls) {
      const sym: DomainSym = {
        k: 'domain',
        name: d.name,
        decl: d,
        params: [],
        vars: [],
        functions: [],
        dataWords: 0,
        usesConsole: false,
        role: 'server',
      };
      if (this.#declare(this.module, d.name, sym, d.at)) domains.push(sym);
    }
    // Module-level constants first, so that every function can use them.
    for (const s of main) if (s.kind === 'var' && s.constant) this.#constant(s, this.module);
    for (const f of funcDecls) {
      const sym = this.#funcSym(f, undefined, 0);
      if (this.#declare(this.module, f.name, sym, f.at)) functions.push(sym);
    }
    for (const d of domains) {
      const scope = new Scope(this.module, 'domain');
      for (const p of d.decl.params) {
        const type = this.#resolveType(p.type);
        if (!isSlotType(type) && type.k !== 'error')
          this.#error('type-mismatch', `a domain is made with keys, not ${typeName(type)}`, p.type.at);
        const slot =
          p.name === 'console' && type.k === 'key' && type.key === 'device'
            ? Slot.CONSOLE
            : this.#allocSlot(p.at);
        if (slot === Slot.CONSOLE) d.usesConsole = true;
        const v: VarSym = {
          k: 'var',
          name: p.name,
          type,
          storage: { k: 'slot', slot },
          constant: false,
          at: p.at,
        };
        if (this.#declare(scope, p.name, v, p.at)) d.params.push(v);
      }
      const ctx: Context = { scope, func: undefined, domain: d, main: false };
      for (const s of d.decl.vars) {
        if (s.kind !== 'var') continue;
        if (s.constant) {
          this.#constant(s, scope);
          continue;
        }
        const type = this.#resolveType(s.type);
        let storage: Storage;
        if (isSlotType(type)) storage = { k: 'slot', slot: this.#allocSlot(s.at) };
        else storage = { k: 'data', offset: d.dataWords++ };
        if (s.init !== undefined) this.#expectType(s.init, type, ctx);
        const v: VarSym = { k: 'var', name: s.name, type, storage, constant: false, at: s.at };
        this.refs.set(s, v);
        if (this.#declare(scope, s.name, v, s.at)) d.vars.push({ sym: v, init: s.init });
      }
      d.decl.functions.forEach((f, i) => {
        const sym = this.#funcSym(f, d, i);
        if (this.#declare(scope, f.name, sym, f.at)) d.functions.push(sym);
      });
      this.#keeperRole(d);
      (d as { scope?: Scope }).scope = scope;
    }
    // Bodies.
    for (const f of functions) this.#funcBody(f, this.module);
    for (const d of domains) {
      const scope = (d as { scope?: Scope }).scope!;
      for (const f of d.functions) this.#funcBody(f, scope);
    }
    const mainVars: VarSym[] = [];
    const ctx: Context = { scope: this.mainScope, func: undefined, domain: undefined, main: true };
    this.#block(
      main.filter((s) => !(s.kind === 'var' && s.constant)),
      ctx,
      false,
    );
    return {
      main,
      mainVars,
      functions,
      domains,
      records,
      types: this.types,
      refs: this.refs,
      calls: this.calls,
      slots: this.#nextSlot,
      temps: this.temps,
      steps: this.steps,
      maxWordArgs: this.maxWordArgs,
      maxKeyArgs: this.maxKeyArgs,
      usesCalls: this.usesCalls,
      console,
    };
  }

  /** A domain with on_fault or on_meter is a keeper: that must be its only function, typed as the VM calls it. */
  #keeperRole(d: DomainSym): void {
    const handler = d.functions.find((f) => f.name === 'on_fault' || f.name === 'on_meter');
    if (handler === undefined) return;
    d.role = handler.name === 'on_fault' ? 'fault-keeper' : 'meter-keeper';
    if (d.functions.length > 1)
      this.#error(
        'misplaced',
        `keeper domain ${d.name} has ${handler.name}, so it can have no other function`,
        d.decl.at,
      );
    const want = handler.name === 'on_fault' ? 'int code' : 'meter m';
    const p = handler.params;
    const ok =
      p.length === 1 &&
      (handler.name === 'on_fault'
        ? p[0]!.type.k === 'int'
        : p[0]!.type.k === 'key' && p[0]!.type.key === 'meter') &&
      handler.result.k === 'int';
    if (!ok)
      this.#error(
        'type-mismatch',
        `a keeper's handler is def ${handler.name}(${want}) -> (int)`,
        handler.decl.at,
      );
  }

  #declare(scope: Scope, name: string, sym: Sym, at: Span): boolean {
    if (scope.names.has(name)) {
      this.#error('duplicate-name', `'${name}' is already declared in this scope`, at);
      return false;
    }
    if (scope.what === 'block' || scope.what === 'function') {
      // Shadowing a variable of an enclosing block in the same function is a likely mistake.
      for (
        let s = scope.parent;
        s !== undefined && (s.what === 'block' || s.what === 'function');
        s = s.parent
      ) {
        if (s.names.has(name)) {
          this.#error('duplicate-name', `'${name}' is already declared in an enclosing block`, at);
          return false;
        }
      }
    }
    scope.names.set(name, sym);
    return true;
  }

  #resolveType(t: TypeExpr): Type {
    let base: Type | undefined;
    if (t.name === 'int') base = INT;
    else if (t.name === 'bool') base = BOOL;
    else if (t.name === 'string') base = STRING;
    else if ((KEY_TYPES as readonly string[]).includes(t.name)) base = keyType(t.name as KeyTypeName);
    else {
      const sym = this.module.names.get(t.name);
      if (sym?.k === 'record') base = { k: 'record', name: sym.name };
      else if (sym?.k === 'domain') base = { k: 'gate', domain: sym.name };
    }
    if (base === undefined) {
      const names = ['int', 'bool', 'string', ...KEY_TYPES, ...this.#typeNames()];
      this.#error('undefined-name', `unknown type '${t.name}'${suggest(t.name, names)}`, t.at);
      return ERROR;
    }
    if (t.array) {
      if (base.k !== 'int' && base.k !== 'bool') {
        this.#error('type-mismatch', `arrays hold int or bool, not ${typeName(base)}`, t.at);
        return ERROR;
      }
      return { k: 'array', elem: base.k };
    }
    return base;
  }

  #typeNames(): string[] {
    return [...this.module.names.values()]
      .filter((s) => s.k === 'record' || s.k === 'domain')
      .map((s) => s.name);
  }

  #funcSym(f: FuncDecl, domain: DomainSym | undefined, method: number): FuncSym {
    const result = f.result === undefined ? VOID : this.#resolveType(f.result);
    const params: VarSym[] = [];
    for (const p of f.params) {
      const type = this.#resolveType(p.type);
      const storage: Storage = isSlotType(type) ? { k: 'slot', slot: this.#allocSlot(p.at) } : { k: 'frame' };
      params.push({ k: 'var', name: p.name, type, storage, constant: false, at: p.at });
    }
    const resultSlot = isSlotType(result) ? this.#allocSlot(f.at) : Slot.NOTHING;
    const label = domain === undefined ? `f_${f.name}` : `d_${domain.name}_${f.name}`;
    return { k: 'func', name: f.name, decl: f, params, result, resultSlot, domain, label, method };
  }

  #funcBody(f: FuncSym, outer: Scope): void {
    const scope = new Scope(outer, 'function');
    for (const p of f.params) this.#declare(scope, p.name, p, p.at);
    const ctx: Context = { scope, func: f, domain: f.domain, main: false };
    const returns = this.#block(f.decl.body, ctx, true);
    if (!returns && f.result.k !== 'void' && f.result.k !== 'error')
      this.#error(
        'missing-return',
        `function '${f.name}' returns ${typeName(f.result)} but can end without a return`,
        f.decl.at,
      );
  }

  /** Checks statements in a new block scope; true when every path through them returns. */
  #block(stmts: readonly Stmt[], ctx: Context, newScope = true): boolean {
    const inner: Context = newScope ? { ...ctx, scope: new Scope(ctx.scope, 'block') } : ctx;
    let returns = false;
    for (const s of stmts) if (this.#stmt(s, inner)) returns = true;
    return returns;
  }

  #constant(s: Extract<Stmt, { kind: 'var' }>, scope: Scope): void {
    const type = this.#resolveType(s.type);
    let value = 0;
    if (s.init === undefined) this.#error('not-constant', `constant '${s.name}' needs a value`, s.at);
    else {
      const ctx: Context = { scope, func: undefined, domain: undefined, main: false };
      this.#expectType(s.init, type, ctx);
      if (type.k !== 'int' && type.k !== 'bool' && type.k !== 'error')
        this.#error('type-mismatch', `constants are int or bool, not ${typeName(type)}`, s.type.at);
      const v = this.#fold(s.init);
      if (v === undefined)
        this.#error(
          'not-constant',
          `the value of constant '${s.name}' is not known when compiling`,
          s.init.at,
        );
      else value = v;
    }
    const sym: VarSym = {
      k: 'var',
      name: s.name,
      type,
      storage: { k: 'const', value },
      constant: true,
      at: s.at,
    };
    this.refs.set(s, sym);
    this.#declare(scope, s.name, sym, s.at);
  }

  /** The value of a constant expression, or undefined. */
  #fold(e: Expr): number | undefined {
    switch (e.kind) {
      case 'int':
        return e.value;
      case 'bool':
        return e.value ? 1 : 0;
      case 'name': {
        const sym = this.refs.get(e);
        return sym?.k === 'var' && sym.storage.k === 'const' ? sym.storage.value : undefined;
      }
      case 'unary': {
        const a = this.#fold(e.operand);
        if (a === undefined) return undefined;
        return e.op === '-' ? -a | 0 : e.op === '~' ? ~a : a === 0 ? 1 : 0;
      }
      case 'binary': {
        const a = this.#fold(e.left);
        const b = this.#fold(e.right);
        if (a === undefined || b === undefined) return undefined;
        return foldBinary(e.op, a, b);
      }
      default:
        return undefined;
    }
  }

  #stmt(s: Stmt, ctx: Context): boolean {
    switch (s.kind) {
      case 'var': {
        if (s.constant) {
          this.#constant(s, ctx.scope);
          return false;
        }
        const type = this.#resolveType(s.type);
        if (type.k === 'void') this.#error('type-mismatch', 'a variable cannot be void', s.type.at);
        if (s.init !== undefined) this.#expectType(s.init, type, ctx);
        else if (isSlotType(type) && type.k !== 'key')
          this.#error('type-mismatch', `variable '${s.name}' of type ${typeName(type)} needs a value`, s.at);
        const storage: Storage = isSlotType(type)
          ? { k: 'slot', slot: this.#allocSlot(s.at) }
          : { k: 'frame' };
        const sym: VarSym = { k: 'var', name: s.name, type, storage, constant: false, at: s.at };
        this.refs.set(s, sym);
        this.#declare(ctx.scope, s.name, sym, s.at);
        return false;
      }
      case 'assign': {
        const t = this.#target(s.target, ctx);
        this.#expectType(s.value, t, ctx);
        return false;
      }
      case 'expr': {
        const e = s.expr;
        if (e.kind !== 'call' && e.kind !== 'method')
          this.#error(
            'misplaced',
            'this expression does nothing: only a call can stand as a statement',
            s.at,
          );
        this.#expr(e, ctx);
        return false;
      }
      case 'if': {
        this.#expectType(s.cond, BOOL, ctx);
        const a = this.#block(s.body, ctx);
        const b = this.#block(s.otherwise, ctx);
        return a && b;
      }
      case 'while':
        this.#expectType(s.cond, BOOL, ctx);
        this.#block(s.body, ctx);
        return false;
      case 'for': {
        this.#expectType(s.from, INT, ctx);
        this.#expectType(s.to, INT, ctx);
        if (s.step !== undefined) {
          this.#expectType(s.step, INT, ctx);
          const v = this.#fold(s.step);
          if (v === undefined)
            this.#error('not-constant', 'the step of a for loop must be a constant', s.step.at);
          else if (v === 0) this.#error('not-constant', 'the step of a for loop cannot be 0', s.step.at);
          else this.steps.set(s, v);
        }
        const scope = new Scope(ctx.scope, 'block');
        const sym: VarSym = {
          k: 'var',
          name: s.name,
          type: INT,
          storage: { k: 'frame' },
          constant: false,
          at: s.at,
        };
        this.refs.set(s, sym);
        this.#declare(scope, s.name, sym, s.at);
        this.#block(s.body, { ...ctx, scope });
        return false;
      }
      case 'return': {
        if (ctx.func === undefined) {
          this.#error('misplaced', 'return outside a function', s.at);
          if (s.value !== undefined) this.#expr(s.value, ctx);
          return false;
        }
        const want = ctx.func.result;
        if (s.value === undefined) {
          if (want.k !== 'void' && want.k !== 'error')
            this.#error('type-mismatch', `function '${ctx.func.name}' must return ${typeName(want)}`, s.at);
        } else if (want.k === 'void') {
          this.#error(
            'type-mismatch',
            `function '${ctx.func.name}' returns nothing (no -> type) but a value is given`,
            s.value.at,
          );
          this.#expr(s.value, ctx);
        } else this.#expectType(s.value, want, ctx);
        return true;
      }
      case 'print':
        for (const a of s.args) {
          const t = this.#expr(a, ctx);
          if (!isWordType(t) && t.k !== 'error')
            this.#error('type-mismatch', `print shows int, bool or string, not ${typeName(t)}`, a.at);
        }
        this.#needConsole(ctx, s.at);
        return false;
      case 'pass':
        return false;
    }
  }

  #needConsole(ctx: Context, at: Span): void {
    if (ctx.domain !== undefined && !ctx.domain.usesConsole)
      this.#error(
        'undefined-name',
        `domain '${ctx.domain.name}' has no console: declare it as domain ${ctx.domain.name}(device console) and hand it one`,
        at,
      );
  }

  /** The type of an assignable place. */
  #target(e: Expr, ctx: Context): Type {
    if (e.kind === 'name') {
      const sym = this.#lookup(e, ctx);
      if (sym === undefined) return ERROR;
      if (sym.k !== 'var') {
        this.#error(
          'not-assignable',
          `'${e.name}' is a ${sym.k === 'func' ? 'function' : sym.k}, not a variable`,
          e.at,
        );
        return ERROR;
      }
      if (sym.constant) {
        this.#error('not-assignable', `'${e.name}' is a constant`, e.at);
        return ERROR;
      }
      this.refs.set(e, sym);
      this.types.set(e, sym.type);
      return sym.type;
    }
    if (e.kind === 'index' || e.kind === 'field') {
      const t = this.#expr(e, ctx);
      if (e.kind === 'index') {
        const target = this.types.get(e.target);
        if (target?.k === 'key' && target.key === 'rpage') {
          this.#error('not-assignable', 'cannot write through a read-only page key (rpage)', e.at);
          return ERROR;
        }
      }
      return t;
    }
    this.#error('not-assignable', 'only a variable, an element a[i] or a field r.f can be assigned', e.at);
    this.#expr(e, ctx);
    return ERROR;
  }

  #lookup(e: { name: string; at: Span }, ctx: Context): Sym | undefined {
    const sym = ctx.scope.lookup(e.name);
    if (sym !== undefined) return sym;
    if (!ctx.main && this.mainNames.has(e.name)) {
      this.#error(
        'undefined-name',
        `'${e.name}' is a variable of the main program, which functions cannot see: pass it as an argument`,
        e.at,
      );
      return undefined;
    }
    const candidates = [...ctx.scope.all(), ...Object.keys(BUILTINS), 'true', 'false', 'print'];
    this.#error('undefined-name', `'${e.name}' is not declared${suggest(e.name, candidates)}`, e.at);
    return undefined;
  }

  #expectType(e: Expr, want: Type, ctx: Context): void {
    const got = this.#expr(e, ctx);
    if (!assignable(got, want))
      this.#error('type-mismatch', `expected ${typeName(want)}, got ${typeName(got)}`, e.at);
  }

  #expr(e: Expr, ctx: Context): Type {
    const t = this.#exprType(e, ctx);
    this.types.set(e, t);
    return t;
  }

  #exprType(e: Expr, ctx: Context): Type {
    switch (e.kind) {
      case 'int':
        return INT;
      case 'bool':
        return BOOL;
      case 'string':
        return STRING;
      case 'name': {
        const sym = this.#lookup(e, ctx);
        if (sym === undefined) return ERROR;
        if (sym.k !== 'var') {
          this.#error(
            'type-mismatch',
            `'${e.name}' is a ${sym.k === 'func' ? 'function' : sym.k}, not a value`,
            e.at,
          );
          return ERROR;
        }
        this.refs.set(e, sym);
        return sym.type;
      }
      case 'unary': {
        if (e.op === 'not') {
          this.#expectType(e.operand, BOOL, ctx);
          return BOOL;
        }
        this.#expectType(e.operand, INT, ctx);
        return INT;
      }
      case 'binary': {
        if (e.op === 'and' || e.op === 'or') {
          this.#expectType(e.left, BOOL, ctx);
          this.#expectType(e.right, BOOL, ctx);
          return BOOL;
        }
        if (e.op === '==' || e.op === '!=') {
          const a = this.#expr(e.left, ctx);
          const b = this.#expr(e.right, ctx);
          if (a.k !== 'error' && b.k !== 'error') {
            if (a.k !== b.k || (a.k !== 'int' && a.k !== 'bool'))
              this.#error(
                'type-mismatch',
                `${e.op} compares two ints or two bools, not ${typeName(a)} and ${typeName(b)}`,
                e.at,
              );
          }
          return BOOL;
        }
        const a = this.#expr(e.left, ctx);
        const b = this.#expr(e.right, ctx);
        if ((a.k !== 'int' && a.k !== 'error') || (b.k !== 'int' && b.k !== 'error'))
          this.#error(
            'type-mismatch',
            `${e.op} needs int and int, got ${typeName(a)} and ${typeName(b)}`,
            e.at,
          );
        return ['<', '<=', '>', '>='].includes(e.op) ? BOOL : INT;
      }
      case 'list': {
        if (e.items.length === 0) {
          this.temps.set(e, this.#allocSlot(e.at));
          return { k: 'array', elem: 'int' };
        }
        const first = this.#expr(e.items[0]!, ctx);
        for (const item of e.items.slice(1)) this.#expectType(item, first, ctx);
        this.temps.set(e, this.#allocSlot(e.at));
        if (first.k === 'int' || first.k === 'bool') return { k: 'array', elem: first.k };
        if (first.k !== 'error')
          this.#error('type-mismatch', `list items are int or bool, not ${typeName(first)}`, e.items[0]!.at);
        return ERROR;
      }
      case 'index': {
        const t = this.#expr(e.target, ctx);
        this.#expectType(e.index, INT, ctx);
        this.#slotOperand(e.target);
        if (t.k === 'array') return t.elem === 'int' ? INT : BOOL;
        if (t.k === 'key' && (t.key === 'page' || t.key === 'rpage')) return INT;
        if (t.k !== 'error')
          this.#error('type-mismatch', `cannot index ${typeName(t)}: an array or page is needed`, e.at);
        return ERROR;
      }
      case 'field': {
        const t = this.#expr(e.target, ctx);
        this.#slotOperand(e.target);
        if (t.k === 'error') return ERROR;
        if (t.k !== 'record') {
          this.#error('type-mismatch', `${typeName(t)} has no fields`, e.at);
          return ERROR;
        }
        const rec = this.module.names.get(t.name) as RecordSym;
        const f = rec.fields.find((x) => x.name === e.name);
        if (f === undefined) {
          this.#error(
            'undefined-name',
            `${rec.name} has no field '${e.name}'${suggest(
              e.name,
              rec.fields.map((x) => x.name),
            )}`,
            e.at,
          );
          return ERROR;
        }
        return f.type;
      }
      case 'call':
        return this.#call(e, ctx);
      case 'method':
        return this.#method(e, ctx);
      case 'spawn':
        return this.#spawn(e, ctx);
    }
  }

  /** An operand that must be in a slot: a temporary slot unless it is a variable. */
  #slotOperand(e: Expr): void {
    if (e.kind !== 'name' && !this.temps.has(e)) this.temps.set(e, this.#allocSlot(e.at));
  }

  #args(e: Expr, args: readonly Expr[], params: readonly Type[], what: string, ctx: Context): void {
    if (args.length !== params.length) {
      this.#error(
        'wrong-arguments',
        `${what} takes ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}`,
        e.at,
      );
      for (const a of args) this.#expr(a, ctx);
      return;
    }
    args.forEach((a, i) => {
      this.#expectType(a, params[i]!, ctx);
      if (isSlotType(params[i]!)) this.#slotOperand(a);
    });
  }

  #call(e: Extract<Expr, { kind: 'call' }>, ctx: Context): Type {
    const name = e.callee;
    if (Object.hasOwn(BUILTINS, name) && ctx.scope.lookup(name) === undefined) {
      this.calls.set(e, { k: 'builtin', name: name as BuiltinName });
      return this.#builtin(e, name as BuiltinName, ctx);
    }
    const sym = this.#lookup({ name, at: e.at }, ctx);
    if (sym === undefined) {
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    if (sym.k === 'func') {
      this.calls.set(e, { k: 'func', func: sym });
      this.#args(
        e,
        e.args,
        sym.params.map((p) => p.type),
        `function '${name}'`,
        ctx,
      );
      return sym.result;
    }
    if (sym.k === 'record') {
      this.calls.set(e, { k: 'record', record: sym });
      this.#args(
        e,
        e.args,
        sym.fields.map((f) => f.type),
        `record ${name}`,
        ctx,
      );
      this.temps.set(e, this.#allocSlot(e.at));
      return { k: 'record', name };
    }
    if (sym.k === 'domain') {
      this.#error('type-mismatch', `'${name}' is a domain: make one with spawn ${name}(…)`, e.at);
    } else
      this.#error(
        'type-mismatch',
        `'${name}' is a variable of type ${typeName(sym.type)}, not a function`,
        e.at,
      );
    for (const a of e.args) this.#expr(a, ctx);
    return ERROR;
  }

  #builtin(e: Extract<Expr, { kind: 'call' }>, name: BuiltinName, ctx: Context): Type {
    const page = keyType('page');
    const meter = keyType('meter');
    const anyKey = keyType('key');
    const sig = (params: Type[], result: Type, slotResult = false): Type => {
      this.#args(e, e.args, params, `${name}()`, ctx);
      if (slotResult) this.temps.set(e, this.#allocSlot(e.at));
      return result;
    };
    switch (name) {
      case 'len': {
        if (e.args.length !== 1) return sig([anyKey], INT);
        const t = this.#expr(e.args[0]!, ctx);
        this.#slotOperand(e.args[0]!);
        if (
          !(t.k === 'array' || (t.k === 'key' && (t.key === 'page' || t.key === 'rpage')) || t.k === 'error')
        )
          this.#error('type-mismatch', `len() takes an array or a page, not ${typeName(t)}`, e.args[0]!.at);
        return INT;
      }
      case 'array':
        return sig([INT], { k: 'array', elem: 'int' }, true);
      case 'new_page':
        return sig([INT], page, true);
      case 'readonly': {
        if (e.args.length !== 1) return sig([page], keyType('rpage'), true);
        const t = this.#expr(e.args[0]!, ctx);
        this.#slotOperand(e.args[0]!);
        this.temps.set(e, this.#allocSlot(e.at));
        if (!(t.k === 'key' && (t.key === 'page' || t.key === 'rpage')) && t.k !== 'error')
          this.#error('type-mismatch', `readonly() takes a page or rpage, not ${typeName(t)}`, e.args[0]!.at);
        return keyType('rpage');
      }
      case 'resize':
        return sig([page, INT], VOID);
      case 'kind':
        return sig([anyKey], INT);
      case 'sever': {
        if (e.args.length !== 1) return sig([anyKey], VOID);
        const t = this.#expr(e.args[0]!, ctx);
        if (e.args[0]!.kind !== 'name' && t.k !== 'error')
          this.#error('type-mismatch', 'sever() takes a variable: it gets the fresh key', e.args[0]!.at);
        if (!(t.k === 'key' && (t.key === 'page' || t.key === 'meter')) && t.k !== 'array' && t.k !== 'error')
          this.#error(
            'type-mismatch',
            `sever() takes a page, an array or a meter, not ${typeName(t)}`,
            e.args[0]!.at,
          );
        return VOID;
      }
      case 'child_meter':
        return sig([meter, INT], meter, true);
      case 'meter_left':
        return sig([meter], INT);
      case 'meter_set':
        return sig([meter, INT], VOID);
      case 'set_keeper':
        return sig([meter, keyType('domain')], VOID);
      case 'time_meter':
        return sig([], meter, true);
      case 'putchar':
        this.#needConsole(ctx, e.at);
        return sig([INT], VOID);
    }
  }

  #method(e: Extract<Expr, { kind: 'method' }>, ctx: Context): Type {
    const t = this.#expr(e.target, ctx);
    this.#slotOperand(e.target);
    if (t.k === 'error') {
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    if (t.k !== 'gate') {
      this.#error('type-mismatch', `${typeName(t)} has no functions to call: a domain is needed`, e.at);
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    const d = this.module.names.get(t.domain) as DomainSym;
    if (d.role !== 'server') {
      this.#error('type-mismatch', `${d.name} is a keeper: the VM calls it when what it keeps stops`, e.at);
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    const f = d.functions.find((x) => x.name === e.name);
    if (f === undefined) {
      this.#error(
        'undefined-name',
        `domain ${d.name} has no function '${e.name}'${suggest(
          e.name,
          d.functions.map((x) => x.name),
        )}`,
        e.at,
      );
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    this.calls.set(e, { k: 'method', func: f });
    this.#args(
      e,
      e.args,
      f.params.map((p) => p.type),
      `${d.name}.${f.name}`,
      ctx,
    );
    const words = f.params.filter((p) => !isSlotType(p.type)).length;
    this.maxWordArgs = Math.max(this.maxWordArgs, words);
    this.maxKeyArgs = Math.max(this.maxKeyArgs, f.params.length - words);
    this.usesCalls = true;
    if (isSlotType(f.result)) this.temps.set(e, this.#allocSlot(e.at));
    return f.result;
  }

  #spawn(e: Extract<Expr, { kind: 'spawn' }>, ctx: Context): Type {
    const sym = this.module.names.get(e.domain);
    if (sym?.k !== 'domain') {
      const names = [...this.module.names.values()].filter((s) => s.k === 'domain').map((s) => s.name);
      this.#error('undefined-name', `'${e.domain}' is not a domain${suggest(e.domain, names)}`, e.at);
      for (const a of e.args) this.#expr(a, ctx);
      return ERROR;
    }
    this.#args(
      e,
      e.args,
      sym.params.map((p) => p.type),
      `domain ${sym.name}`,
      ctx,
    );
    if (e.meter !== undefined) {
      this.#expectType(e.meter, keyType('meter'), ctx);
      this.#slotOperand(e.meter);
    }
    if (e.keeper !== undefined) {
      this.#expectType(e.keeper, keyType('domain'), ctx);
      this.#slotOperand(e.keeper);
    }
    this.temps.set(e, this.#allocSlot(e.at));
    return { k: 'gate', domain: sym.name };
  }
}

/** The VM's semantics of a binary operator on two words (floored division; 0 for a zero divisor). */
export function foldBinary(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return (a + b) | 0;
    case '-':
      return (a - b) | 0;
    case '*':
      return Math.imul(a, b);
    case '/':
      return b === 0 ? undefined : Math.floor(a / b) | 0;
    case '%': {
      if (b === 0) return undefined;
      let r = a % b;
      if (r !== 0 && (r ^ b) < 0) r += b;
      return r | 0;
    }
    case '&':
      return a & b;
    case '|':
      return a | b;
    case '^':
      return a ^ b;
    case '<<':
      return a << b;
    case '>>':
      return a >> b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case 'and':
      return a !== 0 && b !== 0 ? 1 : 0;
    case 'or':
      return a !== 0 || b !== 0 ? 1 : 0;
    default:
      return undefined;
  }
}

function suggest(name: string, candidates: Iterable<string>): string {
  const m = closestMatch(name, candidates);
  return m === undefined || m === name ? '' : ` (did you mean '${m}'?)`;
}
