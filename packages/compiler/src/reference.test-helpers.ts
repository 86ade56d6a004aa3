// The reference evaluator: runs a checked tree directly in TypeScript with the
// language's semantics (32-bit wrapping words, floored division, frames per call,
// arrays as shared pages, key variables static per declaration). The oracle of
// the differential property; it covers the word-and-array part of the language.
import type { Expr, Stmt } from './ast.js';
import type { Checked, FuncSym, VarSym } from './checker.js';
import { foldBinary } from './checker.js';

export class EvalFault extends Error {
  constructor(readonly code: 'division-by-zero' | 'out-of-bounds' | 'stack-overflow' | 'unsupported') {
    super(code);
  }
}

class Return {
  constructor(readonly value: number) {}
}

type Value = number | number[];

export interface Outcome {
  readonly output: string;
  readonly fault: string | undefined;
  /** Main's frame locals at the end (the VM's final stack), when it halted. */
  readonly stack: number[];
}

/** Runs the main program; `fuel` bounds the statements and calls (exceeding it: 'unsupported'). */
export function evaluate(c: Checked, fuel = 5_000_000, maxDepth = 200): Outcome {
  let output = '';
  const statics = new Map<VarSym, Value>();
  const mainFrame = new Map<VarSym, Value>();
  const mainOrder: VarSym[] = [];
  const topLevel = new Set<Stmt>(c.main);
  let depth = 0;

  const tick = () => {
    if (--fuel < 0) throw new EvalFault('unsupported');
  };

  const get = (sym: VarSym, frame: Map<VarSym, Value>): Value => {
    if (sym.storage.k === 'const') return sym.storage.value;
    if (sym.storage.k === 'slot') return statics.get(sym) ?? [];
    return frame.get(sym) ?? 0;
  };
  const set = (sym: VarSym, frame: Map<VarSym, Value>, v: Value) => {
    if (sym.storage.k === 'slot') statics.set(sym, v);
    else frame.set(sym, v);
  };

  const word = (e: Expr, frame: Map<VarSym, Value>): number => {
    const v = value(e, frame);
    if (typeof v !== 'number') throw new EvalFault('unsupported');
    return v;
  };
  const array = (e: Expr, frame: Map<VarSym, Value>): number[] => {
    const v = value(e, frame);
    if (typeof v === 'number') throw new EvalFault('unsupported');
    return v;
  };

  const call = (f: FuncSym, args: readonly Expr[], frame: Map<VarSym, Value>): Value => {
    tick();
    const values = args.map((a) => value(a, frame));
    if (++depth > maxDepth) throw new EvalFault('stack-overflow');
    const inner = new Map<VarSym, Value>();
    for (const [i, p] of f.params.entries()) set(p, inner, values[i]!);
    let result: Value = 0;
    try {
      block(f.decl.body, inner);
    } catch (e) {
      if (!(e instanceof Return)) throw e;
      result = e.value;
    }
    depth--;
    return result;
  };

  const value = (e: Expr, frame: Map<VarSym, Value>): Value => {
    switch (e.kind) {
      case 'int':
        return e.value;
      case 'bool':
        return e.value ? 1 : 0;
      case 'name':
        return get(c.refs.get(e) as VarSym, frame);
      case 'unary': {
        const a = word(e.operand, frame);
        return e.op === '-' ? -a | 0 : e.op === '~' ? ~a : a === 0 ? 1 : 0;
      }
      case 'binary': {
        if (e.op === 'and') return word(e.left, frame) === 0 ? 0 : word(e.right, frame);
        if (e.op === 'or') {
          const a = word(e.left, frame);
          return a !== 0 ? a : word(e.right, frame);
        }
        const a = word(e.left, frame);
        const b = word(e.right, frame);
        const r = foldBinary(e.op, a, b);
        if (r === undefined) throw new EvalFault('division-by-zero');
        return r;
      }
      case 'list':
        return e.items.map((x) => word(x, frame));
      case 'index': {
        const arr = array(e.target, frame);
        const i = word(e.index, frame);
        if (i < 0 || i >= arr.length) throw new EvalFault('out-of-bounds');
        return arr[i]!;
      }
      case 'call': {
        const target = c.calls.get(e);
        if (target?.k === 'func') return call(target.func, e.args, frame);
        if (target?.k === 'builtin' && target.name === 'len') return array(e.args[0]!, frame).length;
        if (target?.k === 'builtin' && target.name === 'array') {
          const n = word(e.args[0]!, frame);
          if (n < 0 || n > 1 << 20) throw new EvalFault('unsupported');
          return new Array<number>(n).fill(0);
        }
        throw new EvalFault('unsupported');
      }
      default:
        throw new EvalFault('unsupported');
    }
  };

  const block = (stmts: readonly Stmt[], frame: Map<VarSym, Value>): void => {
    for (const s of stmts) stmt(s, frame);
  };

  const stmt = (s: Stmt, frame: Map<VarSym, Value>): void => {
    tick();
    switch (s.kind) {
      case 'var': {
        if (s.constant) return;
        const sym = c.refs.get(s) as VarSym;
        const v = s.init === undefined ? 0 : value(s.init, frame);
        set(sym, frame, v);
        if (topLevel.has(s) && sym.storage.k === 'frame') mainOrder.push(sym);
        return;
      }
      case 'assign': {
        const t = s.target;
        if (t.kind === 'name') {
          set(c.refs.get(t) as VarSym, frame, value(s.value, frame));
          return;
        }
        if (t.kind === 'index') {
          const v = word(s.value, frame);
          const arr = array(t.target, frame);
          const i = word(t.index, frame);
          if (i < 0 || i >= arr.length) throw new EvalFault('out-of-bounds');
          arr[i] = v;
          return;
        }
        throw new EvalFault('unsupported');
      }
      case 'expr':
        value(s.expr, frame);
        return;
      case 'if':
        if (word(s.cond, frame) !== 0) block(s.body, frame);
        else block(s.otherwise, frame);
        return;
      case 'while':
        while (word(s.cond, frame) !== 0) {
          tick();
          block(s.body, frame);
        }
        return;
      case 'for': {
        const sym = c.refs.get(s) as VarSym;
        const step = c.steps.get(s) ?? 1;
        frame.set(sym, word(s.from, frame));
        const end = word(s.to, frame);
        for (;;) {
          const i = frame.get(sym) as number;
          if (step > 0 ? !(i <= end) : !(i >= end)) break;
          tick();
          block(s.body, frame);
          frame.set(sym, ((frame.get(sym) as number) + step) | 0);
        }
        return;
      }
      case 'return':
        throw new Return(s.value === undefined ? 0 : word(s.value, frame));
      case 'print': {
        const parts = s.args.map((a) => {
          const t = c.types.get(a)!;
          const v = word(a, frame);
          return t.k === 'bool' ? (v !== 0 ? 'true' : 'false') : String(v);
        });
        output += `${parts.join(' ')}\n`;
        return;
      }
      case 'pass':
        return;
    }
  };

  try {
    // Top-level statements only: main's frame is the top-level variables in order.
    for (const s of c.main) stmt(s, mainFrame);
  } catch (e) {
    if (e instanceof EvalFault) return { output, fault: e.code, stack: [] };
    throw e;
  }
  return { output, fault: undefined, stack: mainOrder.map((s) => mainFrame.get(s) as number) };
}
