// The code generator: the checked tree to flat assembly text, one instruction a
// line, each line remembering the source span and function it came from. The
// calling convention: a caller pushes the word arguments (or one 0 when there
// are none) and a return address and jumps; the callee keeps its locals above
// them and reaches every one with PICK/PUT at a depth it knows at compile time;
// it returns its result in place of the first argument. Key-typed values live in
// key slots (static per declaration), never on the stack.
import { instructionByName } from '@keyvm/isa';
import type { Expr, Stmt } from './ast.js';
import { type Checked, type DomainSym, type FuncSym, Slot, type VarSym } from './checker.js';
import type { Span } from './diagnostics.js';
import { isSlotType, type Type } from './types.js';

/** One line of generated assembly and where it came from. */
export interface AsmLine {
  readonly text: string;
  readonly at: Span | undefined;
  readonly fn: string;
}

/** Stack words a spawned domain gets. */
export const SPAWN_STACK_WORDS = 1024;

/** Whether PAGEWRITE takes the word first (`word slot index --`, KeyVM's order) or last. */
const WORD_FIRST = instructionByName('PAGEWRITE')?.operands[0]?.kind === 'word';

export function generate(checked: Checked): AsmLine[] {
  return new Generator(checked).run();
}

class Generator {
  readonly lines: AsmLine[] = [];
  readonly c: Checked;
  readonly strings = new Map<string, string>();
  #labels = 0;
  #fn = 'main';
  #at: Span | undefined;
  depth = 0;
  frame = new Map<VarSym, number>();
  func: FuncSym | undefined;
  usesPrintString = false;

  constructor(c: Checked) {
    this.c = c;
  }

  label(prefix: string): string {
    return `${prefix}${this.#labels++}`;
  }

  emit(text: string, delta = 0): void {
    this.lines.push({ text, at: this.#at, fn: this.#fn });
    this.depth += delta;
  }

  place(label: string): void {
    this.lines.push({ text: `${label}:`, at: undefined, fn: this.#fn });
  }

  push(v: number | string): void {
    this.emit(`PUSH ${v}`, 1);
  }

  /** An instruction with its pops and pushes from the table. */
  op(name: string): void {
    const row = instructionByName(name)!;
    this.emit(name, row.pushes - row.pops);
  }

  /** An instruction whose operands are pushed first (numbers or labels). */
  ins(name: string, ...args: (number | string)[]): void {
    for (const a of args) this.push(a);
    this.op(name);
  }

  run(): AsmLine[] {
    const c = this.c;
    // ---- main ----
    this.#fn = 'main';
    this.depth = 0;
    this.frame = new Map();
    if (c.slots > 28) this.ins('PAGESIZESET', Slot.SELF, c.slots);
    this.#callPages();
    this.#block(
      c.main.filter((s) => !(s.kind === 'var' && s.constant)),
      false,
    );
    this.emit('HALT');
    // ---- functions ----
    for (const f of c.functions) this.#function(f);
    for (const d of c.domains) this.#domain(d);
    if (this.usesPrintString) this.#printStringRoutine();
    // ---- strings, in the code page ----
    this.#fn = 'strings';
    this.#at = undefined;
    for (const [text, label] of this.strings) {
      const words = [...Array.from(text, (ch) => ch.codePointAt(0)!), 0];
      // Surrogate pairs count once: one word per code point.
      this.place(label);
      for (let i = 0; i < words.length; i += 16) this.emit(`.word ${words.slice(i, i + 16).join(', ')}`);
    }
    return this.lines;
  }

  /** The message pages a domain needs when it calls other domains' functions. */
  #callPages(): void {
    if (!this.c.usesCalls) return;
    this.ins('CREATEPAGE', Slot.MSG_OUT, 1, Slot.MEMORY, 1 + this.c.maxKeyArgs);
    this.ins('CREATEPAGE', Slot.ARGS_OUT, 0, Slot.MEMORY, Math.max(1, this.c.maxWordArgs));
    this.ins('COPYKEY', Slot.MSG_OUT, 0, Slot.SELF, Slot.ARGS_OUT);
  }

  #wordParams(f: FuncSym): VarSym[] {
    return f.params.filter((p) => !isSlotType(p.type));
  }

  #function(f: FuncSym): void {
    this.#fn = f.domain === undefined ? f.name : `${f.domain.name}.${f.name}`;
    this.#at = f.decl.at;
    this.func = f;
    this.frame = new Map();
    const words = this.#wordParams(f);
    for (const [i, p] of words.entries()) this.frame.set(p, i);
    this.depth = Math.max(1, words.length) + 1;
    this.place(f.label);
    const returns = this.#block(f.decl.body, true);
    if (!returns) {
      this.#at = f.decl.at;
      this.push(0);
      this.#return();
    }
    this.func = undefined;
  }

  /** The return sequence: the word on top goes in place of the first argument. */
  #return(): void {
    const f = this.func!;
    const n = Math.max(1, this.#wordParams(f).length);
    const d = this.depth;
    this.emit(`PUT ${d - 2}`, -1);
    for (let i = d - 1; i > n + 1; i--) this.op('DROP');
    if (n >= 2) {
      this.emit(`PUT ${n - 2}`, -1);
      for (let i = 0; i < n - 2; i++) this.op('DROP');
    }
    this.op('JUMP');
    // Code after a return is not reached; the depth goes on as if it were.
    this.depth = d;
  }

  #domain(d: DomainSym): void {
    this.#fn = `${d.name}`;
    this.#at = d.decl.at;
    this.frame = new Map();
    // Entered with the method number on the stack (the first CALLW's word).
    this.depth = 1;
    this.place(`d_${d.name}_init`);
    if (this.c.slots > 28) this.ins('PAGESIZESET', Slot.SELF, this.c.slots);
    this.#callPages();
    for (const v of d.vars) {
      if (v.init === undefined) continue;
      this.#at = v.sym.at;
      this.#store(v.sym, v.init);
    }
    this.#at = d.decl.at;
    const dispatch = `d_${d.name}_dispatch`;
    this.place(dispatch);
    if (d.role !== 'server') {
      this.#keeperEntry(d, dispatch);
      for (const f of d.functions) this.#function(f);
      return;
    }
    if (d.functions.some((f) => this.#wordParams(f).length > 0))
      this.ins('COPYKEY', Slot.SELF, Slot.ARGS_IN, Slot.RECV, 0);
    d.functions.forEach((_, i) => {
      this.op('DUP');
      this.ins('EQ', i);
      this.push(`:d_${d.name}_m${i}`);
      this.op('SWAP');
      this.op('JUMPIF');
    });
    // An unknown function number: the answer is -1 and a null key.
    this.op('DROP');
    this.ins('RETURN', Slot.RESUME, Slot.NOTHING, -1);
    this.ins('JUMP', `:${dispatch}`);
    d.functions.forEach((f, i) => {
      this.#at = f.decl.at;
      this.depth = 1;
      this.place(`d_${d.name}_m${i}`);
      this.op('DROP');
      const ret = `d_${d.name}_r${i}`;
      const words = this.#wordParams(f);
      // Word arguments from the argument page, then a return address, then the function.
      for (let j = 0; j < words.length; j++) this.ins('PAGEREAD', Slot.ARGS_IN, j);
      if (words.length === 0) this.push(0);
      let k = 1;
      for (const p of f.params) {
        if (!isSlotType(p.type)) continue;
        this.ins('COPYKEY', Slot.SELF, slotOf(p), Slot.RECV, k++);
      }
      this.push(`:${ret}`);
      this.ins('JUMP', `:${f.label}`);
      this.place(ret);
      this.depth = 1;
      // RETURN resume key word: the result word and, for a key result, its slot.
      this.push(Slot.RESUME);
      this.op('SWAP');
      this.push(isSlotType(f.result) ? f.resultSlot : Slot.NOTHING);
      this.op('SWAP');
      this.op('RETURN');
      // The next call goes on here with its method number pushed.
      this.depth = 1;
      this.ins('JUMP', `:${dispatch}`);
    });
    for (const f of d.functions) this.#function(f);
  }

  /**
   * A keeper is entered with the fault code pushed, RECV a key to what stopped (the
   * domain's page, or a controlling key to the empty meter) and RESUME its restart key.
   */
  #keeperEntry(d: DomainSym, dispatch: string): void {
    const f = d.functions[0]!;
    const ret = `d_${d.name}_kret`;
    // The code on the stack is on_fault's argument, or on_meter's placeholder word.
    if (d.role === 'meter-keeper') this.ins('COPYKEY', Slot.SELF, slotOf(f.params[0]!), Slot.SELF, Slot.RECV);
    this.push(`:${ret}`);
    this.ins('JUMP', `:${f.label}`);
    this.place(ret);
    this.depth = 1;
    if (d.role === 'fault-keeper') {
      // Answer the stopped domain's caller: its resume key is in the domain's RESUME slot.
      this.ins('COPYKEY', Slot.SELF, Slot.SCRATCH, Slot.RECV, Slot.RESUME);
      this.push(Slot.SCRATCH);
    } else this.push(Slot.RESUME); // restart the domain that ran out
    this.op('SWAP');
    this.push(Slot.NOTHING);
    this.op('SWAP');
    this.op('RETURN');
    this.depth = 1;
    this.ins('JUMP', `:${dispatch}`);
  }

  #printStringRoutine(): void {
    this.#fn = 'print';
    this.#at = undefined;
    // ( ret addr -- ): writes the 0-terminated string at code offset addr, jumps to ret.
    this.place('rt_print_string');
    this.place('rt_ps_loop');
    for (const line of [
      'DUP',
      `PUSH ${Slot.CODE}`,
      'SWAP',
      'PAGEREAD',
      'DUP',
      'ISZERO',
      'PUSH :rt_ps_end',
      'SWAP',
      'JUMPIF',
      `PUSH ${Slot.CONSOLE}`,
      'SWAP',
      'PUSH 0',
      'SWAP',
      'DEVICE',
      'DROP',
      'PUSH 1',
      'ADD',
      'PUSH :rt_ps_loop',
      'JUMP',
    ])
      this.emit(line);
    this.place('rt_ps_end');
    for (const line of ['DROP', 'DROP', 'JUMP']) this.emit(line);
  }

  // ---- statements ----

  /** Statements in a block; its frame locals are dropped at its end. True when it always returns. */
  #block(stmts: readonly Stmt[], scoped = true): boolean {
    const before = this.depth;
    let returns = false;
    for (const s of stmts) {
      this.#stmt(s);
      if (s.kind === 'return') {
        returns = true;
        break;
      }
      if (s.kind === 'if' && this.#alwaysReturns(s)) {
        returns = true;
        break;
      }
    }
    if (scoped && !returns) while (this.depth > before) this.op('DROP');
    if (returns) this.depth = before;
    return returns;
  }

  #alwaysReturns(s: Stmt): boolean {
    if (s.kind === 'return') return true;
    if (s.kind !== 'if') return false;
    const all = (b: readonly Stmt[]) => b.some((x) => this.#alwaysReturns(x));
    return all(s.body) && all(s.otherwise);
  }

  #stmt(s: Stmt): void {
    this.#at = s.at;
    switch (s.kind) {
      case 'var': {
        if (s.constant) return;
        const sym = this.c.refs.get(s) as VarSym;
        if (sym.storage.k === 'frame') {
          if (s.init === undefined) this.push(0);
          else this.#word(s.init);
          this.frame.set(sym, this.depth - 1);
        } else if (s.init !== undefined) this.#store(sym, s.init);
        return;
      }
      case 'assign':
        this.#assign(s.target, s.value);
        return;
      case 'expr':
        this.#effect(s.expr);
        return;
      case 'if': {
        const otherwise = this.label('else');
        const end = this.label('endif');
        this.#jumpUnless(s.cond, otherwise);
        const thenReturns = this.#block(s.body);
        if (s.otherwise.length > 0 && !thenReturns) this.ins('JUMP', `:${end}`);
        this.place(otherwise);
        if (s.otherwise.length > 0) this.#block(s.otherwise);
        this.place(end);
        return;
      }
      case 'while': {
        const body = this.label('loop');
        const cond = this.label('cond');
        this.ins('JUMP', `:${cond}`);
        this.place(body);
        this.#block(s.body);
        this.place(cond);
        this.#at = s.at;
        this.push(`:${body}`);
        this.#word(s.cond);
        this.op('JUMPIF');
        return;
      }
      case 'for': {
        const sym = this.c.refs.get(s) as VarSym;
        const step = this.c.steps.get(s) ?? 1;
        this.#word(s.from);
        const i = this.depth - 1;
        this.frame.set(sym, i);
        this.#word(s.to);
        const end = this.depth - 1;
        const body = this.label('for');
        const cond = this.label('forcond');
        this.ins('JUMP', `:${cond}`);
        this.place(body);
        this.#block(s.body);
        this.#at = s.at;
        this.emit(`PICK ${this.depth - 1 - i}`, 1);
        this.ins('ADD', step);
        this.emit(`PUT ${this.depth - 2 - i}`, -1);
        this.place(cond);
        this.push(`:${body}`);
        this.emit(`PICK ${this.depth - 1 - i}`, 1);
        this.emit(`PICK ${this.depth - 1 - end}`, 1);
        this.op(step > 0 ? 'LE' : 'GE');
        this.op('JUMPIF');
        this.op('DROP');
        this.op('DROP');
        return;
      }
      case 'return': {
        const f = this.func!;
        if (s.value === undefined) this.push(0);
        else if (isSlotType(f.result)) {
          this.#keyInto(s.value, f.resultSlot);
          this.push(0);
        } else this.#word(s.value);
        this.#return();
        return;
      }
      case 'print': {
        // Every argument is evaluated before anything is printed (as Python does).
        const at = s.args.map((a) => {
          this.#word(a);
          return this.depth - 1;
        });
        s.args.forEach((a, i) => {
          this.#at = a.at;
          if (i > 0) this.#putChar(32);
          this.#print(this.c.types.get(a)!, () => this.emit(`PICK ${this.depth - 1 - at[i]!}`, 1));
        });
        this.#at = s.at;
        this.#putChar(10);
        for (let i = 0; i < s.args.length; i++) this.op('DROP');
        return;
      }
      case 'pass':
        return;
    }
  }

  /** Jump to `label` when `cond` is false: the address first (JUMPIF's order), then the inverted condition. */
  #jumpUnless(cond: Expr, label: string): void {
    this.push(`:${label}`);
    if (cond.kind === 'binary' && INVERTED[cond.op] !== undefined) {
      this.#word(cond.left);
      this.#word(cond.right);
      this.#at = cond.at;
      this.op(INVERTED[cond.op]!);
    } else if (cond.kind === 'unary' && cond.op === 'not') {
      this.#word(cond.operand);
    } else {
      this.#word(cond);
      this.op('ISZERO');
    }
    this.op('JUMPIF');
  }

  #putChar(c: number): void {
    this.ins('DEVICE', Slot.CONSOLE, 0, c);
    this.op('DROP');
  }

  #print(t: Type, value: () => void): void {
    if (t.k === 'int') {
      this.push(Slot.CONSOLE);
      this.push(1);
      value();
      this.op('DEVICE');
      this.op('DROP');
      return;
    }
    const ret = this.label('printed');
    this.push(`:${ret}`);
    if (t.k === 'bool') {
      const yes = this.label('true');
      const join = this.label('join');
      value();
      this.push(`:${yes}`);
      this.op('SWAP');
      this.op('JUMPIF');
      this.push(`:${this.#string('false')}`);
      this.ins('JUMP', `:${join}`);
      this.depth--;
      this.place(yes);
      this.push(`:${this.#string('true')}`);
      this.place(join);
    } else value();
    this.usesPrintString = true;
    this.ins('JUMP', ':rt_print_string');
    this.depth -= 2;
    this.place(ret);
  }

  #string(text: string): string {
    let label = this.strings.get(text);
    if (label === undefined) {
      label = `str${this.strings.size}`;
      this.strings.set(text, label);
    }
    return label;
  }

  /** Store a value into a variable (frame, data word or slot). */
  #store(sym: VarSym, value: Expr): void {
    switch (sym.storage.k) {
      case 'frame': {
        this.#word(value);
        const i = this.frame.get(sym)!;
        this.emit(`PUT ${this.depth - 2 - i}`, -1);
        return;
      }
      case 'data':
        this.#word(value);
        this.#pageWrite(Slot.DATA, () => this.push((sym.storage as { offset: number }).offset));
        return;
      case 'slot':
        this.#keyInto(value, sym.storage.slot);
        return;
      case 'const':
        return;
    }
  }

  /** With the word on the stack: PAGEWRITE it at the index `index` pushes, in `slot`. */
  #pageWrite(slot: number, index: () => void): void {
    if (WORD_FIRST) {
      this.push(slot);
      index();
      this.op('PAGEWRITE');
    } else {
      this.push(slot);
      this.op('SWAP');
      index();
      this.op('SWAP');
      this.op('PAGEWRITE');
    }
  }

  #assign(target: Expr, value: Expr): void {
    if (target.kind === 'name') {
      this.#store(this.c.refs.get(target) as VarSym, value);
      return;
    }
    if (target.kind === 'index') {
      this.#word(value);
      const slot = this.#slot(target.target);
      this.#pageWrite(slot, () => this.#word(target.index));
      return;
    }
    if (target.kind === 'field') {
      this.#word(value);
      const slot = this.#slot(target.target);
      this.#pageWrite(slot, () => this.push(fieldIndex(target, this.c)));
    }
  }

  /** An expression statement: run it for its effect. */
  #effect(e: Expr): void {
    const t = this.c.types.get(e)!;
    if (e.kind === 'call') {
      const target = this.c.calls.get(e);
      if (target?.k === 'builtin' && t.k === 'void') {
        this.#voidBuiltin(e);
        return;
      }
    }
    if (isSlotType(t)) {
      this.#keyInto(e, this.c.temps.get(e) ?? Slot.NOTHING);
      return;
    }
    this.#word(e);
    this.op('DROP');
  }

  #voidBuiltin(e: Extract<Expr, { kind: 'call' }>): void {
    const target = this.c.calls.get(e) as { k: 'builtin'; name: string };
    const [a, b] = e.args;
    switch (target.name) {
      case 'resize':
        this.push(this.#slot(a!));
        this.#word(b!);
        this.op('PAGESIZESET');
        return;
      case 'sever':
        this.push(this.#slot(a!));
        this.op('SEVER');
        return;
      case 'meter_set':
        this.push(this.#slot(a!));
        this.#word(b!);
        this.op('METERSET');
        return;
      case 'set_keeper': {
        const m = this.#slot(a!);
        const d = this.#slot(b!);
        this.ins('METERKEEPER', m, d);
        return;
      }
      case 'putchar':
        this.push(Slot.CONSOLE);
        this.push(0);
        this.#word(a!);
        this.op('DEVICE');
        this.op('DROP');
        return;
    }
  }

  // ---- expressions ----

  /** The slot holding a key-typed expression's value (its variable's, or a temporary filled now). */
  #slot(e: Expr): number {
    if (e.kind === 'name') return slotOf(this.c.refs.get(e) as VarSym);
    const temp = this.c.temps.get(e) ?? Slot.NOTHING;
    this.#keyInto(e, temp);
    return temp;
  }

  /** Put the key a key-typed expression makes into `dst`. */
  #keyInto(e: Expr, dst: number): void {
    const copy = (src: number) => {
      if (src !== dst) this.ins('COPYKEY', Slot.SELF, dst, Slot.SELF, src);
    };
    if (e.kind === 'name') {
      copy(slotOf(this.c.refs.get(e) as VarSym));
      return;
    }
    const temp = this.c.temps.get(e) ?? Slot.NOTHING;
    switch (e.kind) {
      case 'list': {
        this.ins('CREATEPAGE', temp, 0, Slot.MEMORY, e.items.length);
        e.items.forEach((item, i) => {
          this.#word(item);
          this.#pageWrite(temp, () => this.push(i));
        });
        copy(temp);
        return;
      }
      case 'spawn':
        this.#spawn(e, temp);
        copy(temp);
        return;
      case 'method':
        this.#method(e);
        this.op('DROP');
        copy(Slot.RECV);
        return;
      case 'call': {
        const target = this.c.calls.get(e)!;
        if (target.k === 'func') {
          this.#callFunc(e, target.func);
          this.op('DROP');
          copy(target.func.resultSlot);
          return;
        }
        if (target.k === 'record') {
          this.ins('CREATEPAGE', temp, 0, Slot.MEMORY, e.args.length);
          e.args.forEach((arg, i) => {
            this.#word(arg);
            this.#pageWrite(temp, () => this.push(i));
          });
          copy(temp);
          return;
        }
        if (target.k === 'builtin') {
          const [a, b] = e.args;
          switch (target.name) {
            case 'array':
            case 'new_page':
              this.push(temp);
              this.push(0);
              this.push(Slot.MEMORY);
              this.#word(a!);
              this.op('CREATEPAGE');
              copy(temp);
              return;
            case 'readonly': {
              const src = this.#slot(a!);
              this.ins('ATTENUATE', Slot.SELF, temp, Slot.SELF, src, 1);
              copy(temp);
              return;
            }
            case 'child_meter': {
              const m = this.#slot(a!);
              this.push(temp);
              this.push(m);
              this.#word(b!);
              this.op('CREATEMETER');
              copy(temp);
              return;
            }
            case 'time_meter':
              copy(Slot.TIME);
              return;
          }
        }
        return;
      }
      default:
        return;
    }
  }

  #spawn(e: Extract<Expr, { kind: 'spawn' }>, dst: number): void {
    const dom = this.c.domains.find((x) => x.name === e.domain)!;
    const argSlots = e.args.map((a) => this.#slot(a));
    const meter = e.meter === undefined ? Slot.TIME : this.#slot(e.meter);
    const keeper = e.keeper === undefined ? undefined : this.#slot(e.keeper);
    this.ins('CREATEPAGE', Slot.NEW_PAGE, 1, Slot.MEMORY, Math.max(28, this.c.slots));
    this.ins('CREATEPAGE', Slot.NEW_STACK, 0, Slot.MEMORY, SPAWN_STACK_WORDS);
    this.ins('COPYKEY', Slot.NEW_PAGE, Slot.STACK, Slot.SELF, Slot.NEW_STACK);
    this.ins('CREATEPAGE', Slot.NEW_DATA, 0, Slot.MEMORY, Math.max(1, dom.dataWords));
    this.ins('COPYKEY', Slot.NEW_PAGE, Slot.DATA, Slot.SELF, Slot.NEW_DATA);
    this.ins('ATTENUATE', Slot.NEW_PAGE, Slot.CODE, Slot.SELF, Slot.CODE, 1);
    // Use-only: the new domain runs on the meter but cannot refill it.
    this.ins('ATTENUATE', Slot.NEW_PAGE, Slot.TIME, Slot.SELF, meter, 1);
    this.ins('COPYKEY', Slot.NEW_PAGE, Slot.MEMORY, Slot.SELF, Slot.MEMORY);
    this.ins('NUMKEY', Slot.SCRATCH, `:d_${dom.name}_init`);
    this.ins('COPYKEY', Slot.NEW_PAGE, Slot.IP, Slot.SELF, Slot.SCRATCH);
    for (const [i, p] of dom.params.entries())
      this.ins('COPYKEY', Slot.NEW_PAGE, slotOf(p), Slot.SELF, argSlots[i]!);
    if (keeper !== undefined) this.ins('COPYKEY', Slot.NEW_PAGE, Slot.KEEPER, Slot.SELF, keeper);
    this.ins('MAKEDOMAIN', dst, Slot.NEW_PAGE);
    // The maker keeps only the gate: its keys to the new domain's pages go.
    for (const slot of [Slot.NEW_PAGE, Slot.NEW_STACK, Slot.NEW_DATA])
      this.ins('COPYKEY', Slot.SELF, slot, Slot.SELF, Slot.NOTHING);
  }

  /** Evaluate arguments: words pushed in order, keys to their slots; returns the key slots. */
  #evalArgs(args: readonly Expr[], params: readonly VarSym[]): { words: number; keys: [VarSym, number][] } {
    let words = 0;
    const keys: [VarSym, number][] = [];
    args.forEach((a, i) => {
      const p = params[i]!;
      if (isSlotType(p.type)) keys.push([p, this.#slot(a)]);
      else {
        this.#word(a);
        words++;
      }
    });
    return { words, keys };
  }

  #callFunc(e: Extract<Expr, { kind: 'call' }>, f: FuncSym): void {
    const before = this.depth;
    const { words, keys } = this.#evalArgs(e.args, f.params);
    for (const [p, src] of keys) {
      const dst = slotOf(p);
      if (dst !== src) this.ins('COPYKEY', Slot.SELF, dst, Slot.SELF, src);
    }
    if (words === 0) this.push(0);
    const ret = this.label('ret');
    this.push(`:${ret}`);
    this.ins('JUMP', `:${f.label}`);
    this.place(ret);
    this.depth = before + 1;
  }

  #method(e: Extract<Expr, { kind: 'method' }>): void {
    const f = (this.c.calls.get(e) as { func: FuncSym }).func;
    const gate = this.#slot(e.target);
    const before = this.depth;
    const { words, keys } = this.#evalArgs(e.args, f.params);
    for (const [k, [, src]] of keys.entries()) this.ins('COPYKEY', Slot.MSG_OUT, k + 1, Slot.SELF, src);
    for (let j = words - 1; j >= 0; j--) this.#pageWrite(Slot.ARGS_OUT, () => this.push(j));
    this.depth = before;
    this.ins('CALLW', gate, Slot.MSG_OUT, f.method);
  }

  /** Push the word value of an expression. */
  #word(e: Expr): void {
    this.#at = e.at;
    switch (e.kind) {
      case 'int':
        this.push(e.value);
        return;
      case 'bool':
        this.push(e.value ? 1 : 0);
        return;
      case 'string':
        this.push(`:${this.#string(e.value)}`);
        return;
      case 'name': {
        const sym = this.c.refs.get(e) as VarSym;
        switch (sym.storage.k) {
          case 'const':
            this.push(sym.storage.value);
            return;
          case 'frame':
            this.emit(`PICK ${this.depth - 1 - this.frame.get(sym)!}`, 1);
            return;
          case 'data':
            this.ins('PAGEREAD', Slot.DATA, sym.storage.offset);
            return;
          default:
            return;
        }
      }
      case 'unary':
        this.#word(e.operand);
        this.op(e.op === '-' ? 'NEG' : e.op === '~' ? 'NOT' : 'ISZERO');
        return;
      case 'binary': {
        if (e.op === 'and' || e.op === 'or') {
          const end = this.label(e.op);
          this.#word(e.left);
          this.op('DUP');
          if (e.op === 'and') this.op('ISZERO');
          this.push(`:${end}`);
          this.op('SWAP');
          this.op('JUMPIF');
          this.op('DROP');
          this.#word(e.right);
          this.place(end);
          return;
        }
        this.#word(e.left);
        this.#word(e.right);
        this.#at = e.at;
        this.op(BINARY_OPS[e.op]!);
        return;
      }
      case 'index': {
        const slot = this.#slot(e.target);
        this.push(slot);
        this.#word(e.index);
        this.#at = e.at;
        this.op('PAGEREAD');
        return;
      }
      case 'field': {
        const slot = this.#slot(e.target);
        this.ins('PAGEREAD', slot, fieldIndex(e, this.c));
        return;
      }
      case 'call': {
        const target = this.c.calls.get(e)!;
        if (target.k === 'func') {
          if (isSlotType(target.func.result)) {
            this.#keyInto(e, this.c.temps.get(e) ?? Slot.NOTHING);
            this.push(0);
          } else this.#callFunc(e, target.func);
          return;
        }
        if (target.k === 'builtin') {
          const [a] = e.args;
          switch (target.name) {
            case 'len':
              this.ins('PAGESIZEGET', this.#slot(a!));
              return;
            case 'kind':
              this.ins('KEYTYPE', this.#slot(a!));
              return;
            case 'meter_left':
              this.ins('METERREAD', this.#slot(a!));
              return;
            default:
              this.#voidBuiltin(e);
              this.push(0);
              return;
          }
        }
        return;
      }
      case 'method':
        this.#method(e);
        if (isSlotType(this.c.types.get(e)!)) {
          this.op('DROP');
          this.ins('COPYKEY', Slot.SELF, this.c.temps.get(e) ?? Slot.NOTHING, Slot.SELF, Slot.RECV);
          this.push(0);
        }
        return;
      default:
        return;
    }
  }
}

const BINARY_OPS: Readonly<Record<string, string>> = {
  '+': 'ADD',
  '-': 'SUB',
  '*': 'MUL',
  '/': 'DIV',
  '%': 'MOD',
  '&': 'AND',
  '|': 'OR',
  '^': 'XOR',
  '<<': 'SHL',
  '>>': 'SHR',
  '==': 'EQ',
  '!=': 'NE',
  '<': 'LT',
  '<=': 'LE',
  '>': 'GT',
  '>=': 'GE',
};

/** The comparison that is true exactly when the given one is false. */
const INVERTED: Readonly<Record<string, string>> = {
  '==': 'NE',
  '!=': 'EQ',
  '<': 'GE',
  '<=': 'GT',
  '>': 'LE',
  '>=': 'LT',
};

function slotOf(sym: VarSym): number {
  return sym.storage.k === 'slot' ? sym.storage.slot : Slot.NOTHING;
}

function fieldIndex(e: Extract<Expr, { kind: 'field' }>, c: Checked): number {
  const t = c.types.get(e.target) as Extract<Type, { k: 'record' }>;
  const rec = c.records.find((r) => r.name === t.name)!;
  return rec.fields.findIndex((f) => f.name === e.name);
}
