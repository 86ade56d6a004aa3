// A small JIT for the inline instructions and the running domain's page access.
// A code page compiles to one JS function whose switch has a case per instruction
// offset, each falling through to the next, so straight-line code runs without
// per-instruction dispatch. Every instruction first checks its own preconditions
// (fuel, stack depth and room, a non-zero divisor, a page it may read or write
// and an index inside it); when one fails, or at any other heavy or unknown
// instruction, the function stops at that instruction's offset and the
// interpreter takes over and gives it its full semantics (fault, gas stop, heavy
// handler). So compiled code cannot change a result: it only skips the dispatch
// for instructions that certainly succeed. Generated text holds only numbers
// taken from the code page.
import { type DataPage, SPECIAL_SLOTS } from '@keyvm/core';
import { INSTRUCTIONS, instructionLength, Op } from '@keyvm/isa';
import { METER_REFUSED, type PageViews } from './page-views.js';

/**
 * Runs from regs[0] (ip) with regs[1] (sp) and regs[2] (fuel: gas it may spend, one
 * unit at most one step) on `stack` of regs[3] words, reaching pages and keys through
 * `views` (the running domain's); regs[5] is the gas borrowed from the running meter's
 * chain and not yet settled (METERREAD reads through it). Leaves the next ip, sp and
 * fuel in regs, and in regs[4] the units it spent beyond one per instruction (NUMKEY
 * and METERREAD cost more than 1 gas and are one step each: the caller's step count
 * is that much less than the fuel spent). The caller zeroes regs[4] before the call.
 */
export type CompiledCode = (stack: Int32Array, regs: Int32Array, views: PageViews) => void;

/**
 * Heavy instructions compiled code runs when their page or key is at hand
 * (`PageViews`): each must cost exactly 1 gas whatever its operands (no size gas,
 * no meter settling; `jit.test.ts` checks the interpreter's `heavyCost` agrees), so
 * the single fuel counter pays for them as for inline ones.
 */
export const COMPILED_HEAVY_OPS: readonly number[] = [
  Op.PAGEREAD,
  Op.PAGEWRITE,
  Op.PAGESIZEGET,
  Op.KEYTYPE,
  Op.KEYNUM,
];
for (const op of COMPILED_HEAVY_OPS) {
  const row = INSTRUCTIONS[op]!;
  if (row.gas !== 1 || row.sizeGas) throw new Error(`internal: compiled ${row.name} must cost 1 gas`);
}

/**
 * Heavy instructions compiled code runs that cost more than 1 gas and are one step:
 * NUMKEY (its table gas, no size gas) and METERREAD (its table gas plus the running
 * meter's depth, `PageViews.meterCost`). Each needs that much fuel or leaves to the
 * interpreter (which checks gas and steps exactly), and counts what it took beyond
 * one unit in `x` (regs[4]). Fast blocks hold them too: NUMKEY's units in the block's
 * guard, METERREAD's checked where it runs.
 */
export const COMPILED_METERED_OPS: readonly number[] = [Op.NUMKEY, Op.METERREAD];
const NUMKEY_GAS = INSTRUCTIONS[Op.NUMKEY].gas;
if (INSTRUCTIONS[Op.NUMKEY].sizeGas || INSTRUCTIONS[Op.METERREAD].sizeGas)
  throw new Error('internal: compiled NUMKEY and METERREAD must have no size gas');

/** Where NUMKEY's code drops the pages compiled code keeps in locals for general slots (filled in at the end). */
const FORGET_PAGES = '/*forget-pages*/';
/** In a fast block, its fuel units (filled in when the block is done). */
const BLOCK_UNITS = '/*block-units*/';

/** Slots below this, pushed as literals, get a local for their page in compiled code (read once per entry). */
const LOCAL_SLOTS = 32;

/**
 * The expression for the words `which` access may use through the slot `slot` (an
 * expression), or null: a literal slot's is looked up at its first use in a run
 * and kept in a local (`locals` collects their names).
 */
const viewOf = (which: 'read' | 'write', slot: string, locals: Set<string>): string => {
  const k = literalValue(slot);
  if (k === undefined || k < 0 || k >= LOCAL_SLOTS) return `V.${which}(${slot})`;
  const name = `${which === 'read' ? 'R' : 'W'}${k}`;
  locals.add(name);
  return `(${name}??=V.${which}(${k}))`;
};

/**
 * Words of code one compiled function covers. A larger code page compiles to one
 * function per window of this many words, each the first time it is entered (V8
 * optimises a function only up to a size); a jump or a fall from one window into
 * another goes on in the next window's function.
 */
export const JIT_WINDOW = 4096;
/**
 * Larger code pages are only interpreted. Compiled code takes the host far more
 * memory than the words it comes from (which the guest's memory meter pays for), so
 * one page may cost the host at most this much of it.
 */
export const JIT_MAX_WORDS = 16 * JIT_WINDOW;

/** Templates by opcode: [precondition that must hold, statements]. `sp`, `s`, `n` (stack size) are in scope. */
const BINARY: Readonly<Record<number, string>> = {
  [Op.ADD]: '(s[sp-1]+s[sp])|0',
  [Op.SUB]: '(s[sp-1]-s[sp])|0',
  [Op.MUL]: 'Math.imul(s[sp-1],s[sp])',
  [Op.AND]: 's[sp-1]&s[sp]',
  [Op.OR]: 's[sp-1]|s[sp]',
  [Op.XOR]: 's[sp-1]^s[sp]',
  [Op.EQ]: 's[sp-1]===s[sp]?1:0',
  [Op.NE]: 's[sp-1]!==s[sp]?1:0',
  [Op.LT]: 's[sp-1]<s[sp]?1:0',
  [Op.LE]: 's[sp-1]<=s[sp]?1:0',
  [Op.GT]: 's[sp-1]>s[sp]?1:0',
  [Op.GE]: 's[sp-1]>=s[sp]?1:0',
  [Op.SHL]: 's[sp-1]<<s[sp]',
  [Op.SHR]: 's[sp-1]>>s[sp]',
  [Op.SHRU]: '(s[sp-1]>>>s[sp])|0',
  [Op.DIV]: 'Math.floor(s[sp-1]/s[sp])|0',
};
const UNARY: Readonly<Record<number, string>> = {
  [Op.NOT]: '~s[sp-1]',
  [Op.NEG]: '-s[sp-1]|0',
  [Op.ISZERO]: 's[sp-1]===0?1:0',
};

/** PICK and PUT immediates the JIT compiles; deeper (or negative) ones go to the interpreter. */
const PICK_MAX = 1 << 24;

/** A word as a JS literal that is safe inside any expression (`-(-1)`, not `--1`). */
const literal = (word: number): string => (word < 0 ? `(${word})` : String(word));

/** The word a symbolic value of a fast block stands for, when it is a literal. */
const literalValue = (value: string | undefined): number | undefined => {
  const m = value === undefined ? null : /^\(?(-?\d+)\)?$/.exec(value);
  return m ? Number(m[1]) : undefined;
};

/** The statements for the instruction at `pc`, or undefined when the interpreter must run it. */
function emit(code: Int32Array, pc: number): [string, number] | undefined {
  const op = code[pc]!;
  const stop = (cond: string) => `if(f<1||${cond}){ip=${pc};break}f--;`;
  /** Out to the interpreter at this instruction, unless `cond`; then it is paid for. */
  const unless = (cond: string) => `if(!(${cond})){ip=${pc};break}f--;`;
  const bin = BINARY[op];
  if (bin !== undefined) {
    const cond = op === Op.DIV ? 'sp<2||s[sp-1]===0' : 'sp<2';
    return [`${stop(cond)}sp--;s[sp-1]=${bin};s[sp]=0;`, 1];
  }
  const un = UNARY[op];
  if (un !== undefined) return [`${stop('sp<1')}s[sp-1]=${un};`, 1];
  switch (op) {
    case Op.PUSH:
      if (pc + 1 >= code.length) return undefined;
      return [`${stop('sp>=n')}s[sp++]=${literal(code[pc + 1]!)};`, 2];
    case Op.MOD:
      return [
        `${stop('sp<2||s[sp-1]===0')}sp--;{let r=s[sp-1]%s[sp];if(r!==0&&(r^s[sp])<0)r+=s[sp];s[sp-1]=r|0;}s[sp]=0;`,
        1,
      ];
    case Op.DUP:
      return [`${stop('sp<1||sp>=n')}s[sp]=s[sp-1];sp++;`, 1];
    case Op.DROP:
      return [`${stop('sp<1')}s[--sp]=0;`, 1];
    case Op.SWAP:
      return [`${stop('sp<2')}{const t=s[sp-1];s[sp-1]=s[sp-2];s[sp-2]=t;}`, 1];
    case Op.OVER:
      return [`${stop('sp<2||sp>=n')}s[sp]=s[sp-2];sp++;`, 1];
    case Op.NOP:
      return [`if(f<1){ip=${pc};break}f--;`, 1];
    case Op.PICK: {
      const k = code[pc + 1];
      // A missing or out-of-range immediate: the interpreter faults on it.
      if (k === undefined || k < 0 || k >= PICK_MAX) return undefined;
      return [`${stop(`sp<${k + 1}||sp>=n`)}s[sp]=s[sp-${k + 1}];sp++;`, 2];
    }
    case Op.PUT: {
      const k = code[pc + 1];
      if (k === undefined || k < 0 || k >= PICK_MAX) return undefined;
      return [`${stop(`sp<${k + 2}`)}sp--;s[sp-${k + 1}]=s[sp];s[sp]=0;`, 2];
    }
    // A target outside the code (past its end) stops here: the interpreter faults bad-jump.
    case Op.JUMP:
      return [`${stop(`sp<1||(s[sp-1]>>>0)>${code.length}`)}ip=s[--sp];s[sp]=0;continue;`, 1];
    case Op.JUMPIF:
      return [
        `${stop(`sp<2||(s[sp-1]!==0&&(s[sp-2]>>>0)>${code.length})`)}sp-=2;{const c=s[sp+1],a=s[sp];s[sp]=0;s[sp+1]=0;if(c!==0){ip=a;continue}}`,
        1,
      ];
    // Page and key access (see PageViews): operands as KeyVM's, first pushed first.
    case Op.PAGEREAD: // slot index -- word
      return [
        `if(f<1||sp<2){ip=${pc};break}{const a=V.read(s[sp-2]),i=s[sp-1];${unless('a!==null&&(i>>>0)<a.length')}sp--;s[sp-1]=a[i];s[sp]=0;}`,
        1,
      ];
    case Op.PAGEWRITE: // word slot index --
      return [
        `if(f<1||sp<3){ip=${pc};break}{const a=V.write(s[sp-2]),i=s[sp-1];${unless('a!==null&&(i>>>0)<a.length')}a[i]=s[sp-3];sp-=3;s[sp]=0;s[sp+1]=0;s[sp+2]=0;}`,
        1,
      ];
    case Op.PAGESIZEGET: // slot -- size
      return [
        `if(f<1||sp<1){ip=${pc};break}{const a=V.read(s[sp-1]);${unless('a!==null')}s[sp-1]=a.length;}`,
        1,
      ];
    case Op.KEYTYPE: // slot -- kind
      return [`if(f<1||sp<1){ip=${pc};break}{const k=V.keyType(s[sp-1]);${unless('k>=0')}s[sp-1]=k;}`, 1];
    case Op.KEYNUM: // slot -- word
      return [
        `if(f<1||sp<1){ip=${pc};break}{const k=V.numberKey(s[sp-1]);${unless('k!==null')}s[sp-1]=k.value;}`,
        1,
      ];
    // Gas beyond 1 and one step: `x` counts the units that are no steps.
    case Op.NUMKEY: // slot word --
      return [
        `if(f<${NUMKEY_GAS}||sp<2||!V.numKey(s[sp-2],s[sp-1])){ip=${pc};break}f-=${NUMKEY_GAS};x+=${NUMKEY_GAS - 1};sp-=2;s[sp]=0;s[sp+1]=0;${FORGET_PAGES}`,
        1,
      ];
    case Op.METERREAD: // slot -- remaining
      // `u - f` is the gas used from the borrow at this point; with this instruction's, after `f-=c`.
      return [
        `if(sp<1){ip=${pc};break}{const c=V.meterCost();if(f<c){ip=${pc};break}const v=V.meterRead(s[sp-1],u-f+c);if(v===${METER_REFUSED}){ip=${pc};break}f-=c;x+=c-1;s[sp-1]=v;}`,
        1,
      ];
    default:
      return undefined;
  }
}

/** Inline instructions with a pure value, by opcode: how to combine the popped operands. */
const PURE_BINARY: Readonly<Record<number, (a: string, b: string) => string>> = {
  [Op.ADD]: (a, b) => `(${a}+${b})|0`,
  [Op.SUB]: (a, b) => `(${a}-${b})|0`,
  [Op.MUL]: (a, b) => `Math.imul(${a},${b})`,
  [Op.AND]: (a, b) => `${a}&${b}`,
  [Op.OR]: (a, b) => `${a}|${b}`,
  [Op.XOR]: (a, b) => `${a}^${b}`,
  [Op.EQ]: (a, b) => `${a}===${b}?1:0`,
  [Op.NE]: (a, b) => `${a}!==${b}?1:0`,
  [Op.LT]: (a, b) => `${a}<${b}?1:0`,
  [Op.LE]: (a, b) => `${a}<=${b}?1:0`,
  [Op.GT]: (a, b) => `${a}>${b}?1:0`,
  [Op.GE]: (a, b) => `${a}>=${b}?1:0`,
  [Op.SHL]: (a, b) => `${a}<<${b}`,
  [Op.SHR]: (a, b) => `${a}>>${b}`,
  [Op.SHRU]: (a, b) => `(${a}>>>${b})|0`,
};
const PURE_UNARY: Readonly<Record<number, (a: string) => string>> = {
  [Op.NOT]: (a) => `~${a}`,
  [Op.NEG]: (a) => `-${a}|0`,
  [Op.ISZERO]: (a) => `${a}===0?1:0`,
};

/**
 * Most instructions in one fast block. A block starts at every likely jump target,
 * so without a bound a run of n pushes of addresses compiles to n blocks of up to n
 * instructions each: text, and compile time, that grow with the square of the page.
 */
const MAX_BLOCK = 32;

/**
 * The fast form of the basic block starting at `start`: the stack lives in JS
 * temporaries, and one guard at entry (fuel for every instruction, enough words
 * below, room for the block's peak) replaces the per-instruction checks. Returns
 * undefined when the block has nothing worth compiling. The block ends at a jump
 * (taken through dispatch), before an instruction it cannot compile (the
 * per-instruction code or the interpreter runs that), at the end of the code, or
 * after `most` instructions (on from that instruction's case).
 */
function fastBlock(
  code: Int32Array,
  start: number,
  most: number,
  locals: Set<string>,
): { text: string; count: number; metered: boolean } | undefined {
  const out: string[] = [];
  const st: string[] = []; // symbolic values above what the block consumed
  let consumed = 0; // words taken from below the entry stack pointer
  let peak = 0; // highest depth above the entry stack pointer
  let temps = 0;
  let count = 0;
  // Fuel units beyond one per instruction the block takes for certain (NUMKEY's); a
  // METERREAD's, known only when it runs, are taken where it runs (`f-=c-1`).
  let extra = 0;
  let metered = false; // it has NUMKEY or METERREAD (which may lie past the window: the function needs `x` and `u`)
  let pc = start;
  let deepest = 0; // most words below the entry stack pointer the block touches
  /** The word `k` below the top, as an expression. */
  const peek = (k: number): string => {
    if (k < st.length) return st[st.length - 1 - k]!;
    const below = consumed + 1 + (k - st.length);
    deepest = Math.max(deepest, below);
    const t = `t${temps++}`;
    out.push(`const ${t}=s[sp-${below}];`);
    return t;
  };
  /** Store `v` over the word `k` below the top. */
  const poke = (k: number, v: string): void => {
    if (k < st.length) {
      st[st.length - 1 - k] = v;
      return;
    }
    const below = consumed + 1 + (k - st.length);
    deepest = Math.max(deepest, below);
    out.push(`s[sp-${below}]=${v};`);
  };
  const pop = (): string => {
    const v = st.pop();
    if (v !== undefined) return v;
    consumed++;
    const t = `t${temps++}`;
    out.push(`const ${t}=s[sp-${consumed}];`);
    return t;
  };
  const push = (expr: string, constant = false): void => {
    if (constant) st.push(expr);
    else {
      const t = `t${temps++}`;
      out.push(`const ${t}=${expr};`);
      st.push(t);
    }
    peak = Math.max(peak, st.length - consumed);
  };
  // Relative to the entry stack pointer: the block leaves st at [-consumed, delta) and,
  // as the interpreter does by zeroing every popped word, zeros in [delta, peak).
  const at = (i: number) => `s[sp${i >= 0 ? '+' : ''}${i}]`;
  const writeBack = (): string => {
    const delta = st.length - consumed;
    const parts = st.map((v, i) => `${at(i - consumed)}=${v};`);
    for (let i = delta; i < peak; i++) parts.push(`${at(i)}=0;`);
    if (delta !== 0) parts.push(`sp+=${delta};`);
    return parts.join('');
  };
  /**
   * Leave the block before the instruction at `pc` when `cond` holds: the stack as
   * before it, the `count` instructions run so far paid for (and `extra`), on from its own case
   * (which leaves it to the interpreter). At the block's first instruction that case
   * follows the block: out of it by its label, as going to the case would enter it again.
   */
  /** Pay `n` instructions and `more` units beyond them (those no steps: `x`). */
  const pay = (n: number, more: number): string => `f-=${n + more};${more > 0 ? `x+=${more};` : ''}`;
  const exitIf = (cond: string): void => {
    out.push(
      count === 0
        ? `if(${cond})break b${start};`
        : `if(${cond}){${writeBack()}${pay(count, extra)}ip=${pc};continue L}`,
    );
  };
  const temp = (expr: string): string => {
    const t = `t${temps++}`;
    out.push(`const ${t}=${expr};`);
    return t;
  };
  let end: string | undefined;
  let looped = false; // the block ends by jumping back to its own start
  while (end === undefined) {
    const op = code[pc];
    // At the end of the code, or at the longest block: on from its own case.
    if (op === undefined || count >= most) {
      end = `${writeBack()}ip=${pc};continue L;`;
      break;
    }
    const bin = PURE_BINARY[op];
    const un = PURE_UNARY[op];
    if (op === Op.PUSH && pc + 1 < code.length) {
      push(literal(code[pc + 1]!), true);
      pc += 2;
    } else if (bin !== undefined) {
      const b = pop();
      const a = pop();
      push(bin(a, b));
      pc++;
    } else if (un !== undefined) {
      push(un(pop()));
      pc++;
    } else if (op === Op.DUP) {
      const a = pop();
      push(a, true);
      push(a, true);
      pc++;
    } else if (op === Op.DROP) {
      pop();
      pc++;
    } else if (op === Op.SWAP) {
      const b = pop();
      const a = pop();
      push(b, true);
      push(a, true);
      pc++;
    } else if (op === Op.OVER) {
      const b = pop();
      const a = pop();
      push(a, true);
      push(b, true);
      push(a, true);
      pc++;
    } else if (op === Op.NOP) {
      pc++;
    } else if (
      (op === Op.JUMP || op === Op.JUMPIF) &&
      !inCode(literalValue(st[st.length - (op === Op.JUMP ? 1 : 2)]), code.length)
    ) {
      // A target not known to be in the code: on to the jump's own case, which checks it.
      end = `${writeBack()}ip=${pc};continue L;`;
      break;
    } else if ((op === Op.PICK || op === Op.PUT) && emit(code, pc) !== undefined) {
      const k = code[pc + 1]!;
      if (op === Op.PICK) push(peek(k), true);
      else {
        const v = pop();
        poke(k, v);
      }
      pc += 2;
    } else if (op === Op.PAGEREAD || op === Op.PAGEWRITE || op === Op.PAGESIZEGET) {
      // Operands read in place first: leaving before the instruction leaves them there.
      const index = op === Op.PAGESIZEGET ? '' : peek(0);
      const slot = peek(op === Op.PAGESIZEGET ? 0 : 1);
      const words = temp(viewOf(op === Op.PAGEWRITE ? 'write' : 'read', slot, locals));
      if (op === Op.PAGESIZEGET) {
        exitIf(`${words}===null`);
        pop();
        push(`${words}.length`);
      } else {
        exitIf(`${words}===null||(${index}>>>0)>=${words}.length`);
        if (op === Op.PAGEREAD) {
          pop();
          pop();
          push(`${words}[${index}]`);
        } else {
          out.push(`${words}[${index}]=${peek(2)};`);
          pop();
          pop();
          pop();
        }
      }
      pc++;
    } else if (op === Op.KEYTYPE || op === Op.KEYNUM) {
      const slot = peek(0);
      if (op === Op.KEYTYPE) {
        const kind = temp(`V.keyType(${slot})`);
        exitIf(`${kind}<0`);
        pop();
        push(kind, true);
      } else {
        const key = temp(`V.numberKey(${slot})`);
        exitIf(`${key}===null`);
        pop();
        push(`${key}.value`);
      }
      pc++;
    } else if (op === Op.NUMKEY) {
      // slot word --: written by the views when they may (else out, the stack as before).
      const word = peek(0);
      const slot = peek(1);
      exitIf(`!V.numKey(${slot},${word})`);
      pop();
      pop();
      out.push(FORGET_PAGES);
      extra += NUMKEY_GAS - 1;
      metered = true;
      pc++;
    } else if (op === Op.METERREAD) {
      // slot -- remaining: its gas is known only now. The guard promised the whole block's
      // units; with this one's beyond its 1 there must still be that many.
      const slot = peek(0);
      const c = temp('V.meterCost()');
      exitIf(`f<${BLOCK_UNITS}+${c}-1`);
      // Gas used from the borrow: what the block's earlier instructions took, and this one.
      const v = temp(`V.meterRead(${slot},u-f+${count + extra}+${c})`);
      exitIf(`${v}===${METER_REFUSED}`);
      out.push(`f-=${c}-1;x+=${c}-1;`);
      metered = true;
      pop();
      push(v, true);
      pc++;
    } else if (op === Op.JUMP) {
      const addr = pop();
      count++;
      // A jump back to the block's own start goes round the block's loop, not through the dispatch.
      end = `${writeBack()}${addr === String(start) ? `continue b${start}` : `ip=${addr};continue L`};`;
      looped = addr === String(start);
      break;
    } else if (op === Op.JUMPIF) {
      const cond = pop();
      const addr = pop();
      count++;
      looped = addr === String(start);
      end = looped
        ? `${writeBack()}if(${cond}!==0)continue b${start};ip=${pc + 1};continue L;`
        : `${writeBack()}ip=${cond}!==0?${addr}:${pc + 1};continue L;`;
      break;
    } else {
      // DIV, MOD (a divisor that may be zero): on to its own case. Heavy, unknown or a
      // truncated PUSH: straight out to the interpreter, as that case would go.
      end = `${writeBack()}ip=${pc};${emit(code, pc) === undefined ? 'break L' : 'continue L'};`;
      break;
    }
    count++;
  }
  if (count < 2) return undefined;
  const guard = `f>=${count + extra}&&sp>=${Math.max(consumed, deepest)}&&sp+${peak}<=n`;
  const body = `if(${guard}){${out.join('').replaceAll(BLOCK_UNITS, String(count + extra))}${pay(count, extra)}${end}}`;
  // A loop of one block runs as a JS loop: its back edge skips the dispatch switch. When
  // its guard fails, out of the loop to the per-instruction code of its first instruction.
  return { text: looped ? `b${start}:for(;;){${body}break}` : `b${start}:${body}`, count, metered };
}

/** Whether a jump target is known and inside a code page of `size` words (its end included). */
const inCode = (target: number | undefined, size: number): boolean =>
  target !== undefined && target >= 0 && target <= size;

/** What compiling any window of a code page needs from the whole page, found once. */
interface CodeScan {
  /** 1 where an instruction starts (a PUSH takes two words). */
  readonly isStart: Uint8Array;
  /** 1 where a word pushed as a constant points: likely jump targets. */
  readonly pushed: Uint8Array;
}

function scanCode(code: Int32Array): CodeScan {
  const isStart = new Uint8Array(code.length);
  const pushed = new Uint8Array(code.length);
  for (let pc = 0; pc < code.length; pc += instructionLength(code[pc]!)) {
    isStart[pc] = 1;
    if (code[pc] === Op.PUSH && pc + 1 < code.length) {
      const target = code[pc + 1]!;
      if (target >= 0 && target < code.length) pushed[target] = 1;
    }
  }
  return { isStart, pushed };
}

/**
 * Compile a code page's words: one function for a page of up to `window` words,
 * else one that runs each window's function (made when first entered) in turn.
 * Null for an empty page or one over JIT_MAX_WORDS.
 */
export function compileCode(code: Int32Array, window = JIT_WINDOW): CompiledCode | null {
  if (code.length === 0 || code.length > JIT_MAX_WORDS) return null;
  const scan = scanCode(code);
  if (code.length <= window) return compileRange(code, scan, 0, code.length);
  const windows: (CompiledCode | undefined)[] = new Array(Math.ceil(code.length / window)).fill(undefined);
  return (stack, regs, views) => {
    // Each window's function reads the unsettled gas at its entry and leaves its own extra units.
    const used = regs[5]!;
    const usedAtZero = used + regs[2]!;
    let extra = 0;
    for (;;) {
      const ip = regs[0]!;
      if (ip < 0 || ip >= code.length) break; // off the code: the interpreter's to see
      const w = Math.floor(ip / window);
      let fn = windows[w];
      if (fn === undefined) {
        fn = compileRange(code, scan, w * window, Math.min(code.length, (w + 1) * window));
        windows[w] = fn;
      }
      regs[4] = 0;
      regs[5] = usedAtZero - regs[2]!;
      fn(stack, regs, views);
      extra += regs[4]!;
      // It stopped in its window (at what the interpreter runs), or ran out of fuel,
      // or left the code; else it went on into another window.
      const next = regs[0]!;
      if (regs[2]! < 1 || next < 0 || next >= code.length || Math.floor(next / window) === w) break;
    }
    regs[4] = extra;
    regs[5] = used; // an input: left as it came, as one function leaves it
  };
}

/**
 * One function for the instructions that start in [from, to) of `code`: a case per
 * instruction offset; an offset outside them (a jump elsewhere, an offset inside an
 * instruction) stops it there.
 */
function compileRange(code: Int32Array, scan: CodeScan, from: number, to: number): CompiledCode {
  // Strict, so a call with no receiver does not look up the global object for it.
  const body: string[] = [
    '"use strict";let ip=r[0],sp=r[1],f=r[2];const n=r[3];',
    'L:for(;;){switch(ip){default:break;',
  ];
  const { isStart, pushed } = scan;
  // The first instruction that starts at `from` or after: `from` itself, or after the
  // PUSH whose immediate word it is.
  let pc = from === 0 || isStart[from] === 1 ? from : from + 1;
  let leader = true; // a basic block starts here: at the first, at likely targets, after a jump
  // Instructions the fast blocks may hold in all: compiling stays in proportion to the
  // window (past it, the rest of the window has per-instruction code only).
  let budget = 4 * (to - from) + 64;
  // Locals for the pages of literal slots (`viewOf`), looked up at their first use in each run.
  const locals = new Set<string>();
  // Whether the window has NUMKEY or METERREAD: then it keeps `x` and `u` (see CompiledCode).
  let metered = false;
  while (pc < to) {
    body.push(`case ${pc}:`);
    if (leader || (pushed[pc] === 1 && isStart[pc] === 1)) {
      const fast = budget >= 2 ? fastBlock(code, pc, Math.min(MAX_BLOCK, budget), locals) : undefined;
      if (fast !== undefined) {
        body.push(fast.text);
        budget -= fast.count;
        if (fast.metered) metered = true;
      }
    }
    const op = code[pc];
    const compiled = emit(code, pc);
    // Blocks start after a jump, after what the interpreter runs, and after DIV/MOD (where a
    // fast block stops because the divisor may be zero).
    leader = op === Op.JUMP || op === Op.JUMPIF || op === Op.DIV || op === Op.MOD || compiled === undefined;
    if (op === Op.NUMKEY || op === Op.METERREAD) metered = true;
    if (compiled === undefined) {
      // Heavy, unknown or truncated: the interpreter runs it, then comes back.
      body.push(`ip=${pc};break;`);
      pc += instructionLength(op!);
      continue;
    }
    body.push(compiled[0]);
    pc += compiled[1];
  }
  // Falling off the last instruction: on to the next window, or off the code, where
  // the interpreter sees the IP leave it.
  body.push(
    `ip=${Math.min(pc, code.length)};break;`,
    '}break;}',
    `r[0]=ip;r[1]=sp;r[2]=f;${metered ? 'r[4]=x;' : ''}`,
  );
  if (locals.size > 0) body.splice(1, 0, `let ${[...locals].join(',')};`);
  if (metered) body.splice(1, 0, 'let x=0;const u=r[5]+f;');
  // NUMKEY may have put a number key in a general slot: the pages kept for those slots go.
  const general = [...locals].filter((name) => Number(name.slice(1)) >= SPECIAL_SLOTS);
  const forget = general.length > 0 ? `${general.join('=')}=undefined;` : '';
  return new Function('s', 'r', 'V', body.join('\n').replaceAll(FORGET_PAGES, forget)) as CompiledCode;
}

/**
 * Instructions a code page must have run in the interpreter (since it last changed)
 * before it is compiled. Compiling costs host time in proportion to its size, so the
 * gas already spent pays for it: a guest cannot make the host compile for free by
 * writing to a large code page and entering it again and again.
 */
export const warmupFor = (words: number): number => 4 * words + 64;

interface CacheEntry {
  readonly changes: number;
  /** undefined: not compiled yet; null: not worth compiling. */
  fn: CompiledCode | null | undefined;
  /** Instructions interpreted on this version of the page so far. */
  ran: number;
}

/** Whether this platform compiles code from strings, found out once per process (see below). */
let codeGeneration: { readonly refused: Error | undefined } | undefined;

/**
 * The error with which this platform refuses to compile code from strings, or
 * undefined when it compiles: a Content Security Policy without 'unsafe-eval' (an
 * EvalError in browsers; the page also reports a CSP violation, once), Node's
 * `--disallow-code-generation-from-strings`, some edge workers. Tried once, with an
 * empty function; the machine then interprets everything (results are identical).
 */
export function codeGenerationRefusal(): Error | undefined {
  if (codeGeneration === undefined) {
    try {
      new Function('');
      codeGeneration = { refused: undefined };
    } catch (e) {
      codeGeneration = { refused: e instanceof Error ? e : new EvalError(String(e)) };
    }
  }
  return codeGeneration.refused;
}

/**
 * The compiled form of a code page, or null. `ran` more instructions were just
 * interpreted on it; once it has run its warm-up (or at once when `eager`), it is
 * compiled, and compiled again after every change.
 */
export function compiledFor(page: DataPage, ran: number, eager = false): CompiledCode | null {
  let entry = page.runCache as CacheEntry | undefined;
  if (entry === undefined || entry.changes !== page.changes) {
    entry = { changes: page.changes, fn: undefined, ran: 0 };
    page.runCache = entry;
  }
  if (entry.fn !== undefined) return entry.fn;
  entry.ran += ran;
  if (!eager && entry.ran < warmupFor(page.words.length)) return null;
  entry.fn = sharedCode(page.words);
  if (entry.fn !== null) keepCompiled(page, entry);
  return entry.fn;
}

/**
 * `page`'s compiled form when it has one for its words as they are now, else null;
 * unlike `compiledFor` it counts no warm-up and compiles nothing. Callers keep no
 * compiled function of their own beyond the page they run, so dropping a page's
 * (JIT_CACHE_WORDS) or destroying the page frees it.
 */
export function compiledNow(page: DataPage): CompiledCode | null {
  const entry = page.runCache as CacheEntry | undefined;
  return entry !== undefined && entry.changes === page.changes && typeof entry.fn === 'function'
    ? entry.fn
    : null;
}

/**
 * Compiled code by the words it was compiled from, the most recently made last, and
 * the words they hold in all (at most JIT_CACHE_WORDS but for the newest). Machines
 * booted from the same program (or pages with the same code) share one function: V8
 * optimises it once, and it keeps its optimised code across machines and major GCs,
 * where a function made anew for each machine ran its first run unoptimised.
 * Compiled code depends on nothing but the words, so sharing never changes a result.
 */
const shared = new Map<string, { readonly fn: CompiledCode | null; readonly words: number }>();
let sharedWords = 0;

/** `compileCode(words)`, or the function compiled before from the same words. */
function sharedCode(words: Int32Array): CompiledCode | null {
  // Code the JIT will not compile is not worth a key (a 16M-word page would make a huge one).
  if (words.length === 0 || words.length > JIT_MAX_WORDS) return null;
  const key = words.join(',');
  const known = shared.get(key);
  if (known !== undefined) {
    // Most recently used last: what a running program uses is dropped last.
    shared.delete(key);
    shared.set(key, known);
    return known.fn;
  }
  const fn = compileCode(words);
  wordsCompiled += words.length;
  shared.set(key, { fn, words: words.length });
  sharedWords += words.length;
  for (const [k, old] of shared) {
    if (sharedWords <= JIT_CACHE_WORDS || k === key) break;
    shared.delete(k);
    sharedWords -= old.words;
  }
  return fn;
}

/**
 * Most words of code whose compiled form the process keeps at once, over every
 * machine (compiled code takes the host far more memory than the words it comes
 * from). Past it the pages compiled longest ago lose theirs: they run interpreted
 * and compile again after a new warm-up, so the host memory for compiled code is
 * bounded whatever guests do, and results never change.
 */
export const JIT_CACHE_WORDS = 1 << 17;

/** Pages holding compiled code, oldest first, with the words each was compiled from. */
const compiledPages: { page: DataPage; entry: CacheEntry; words: number }[] = [];
let compiledHead = 0;
let compiledWords = 0;

/** Count `page`'s new compiled form against JIT_CACHE_WORDS, dropping the oldest others past it. */
function keepCompiled(page: DataPage, entry: CacheEntry): void {
  const words = page.words.length;
  compiledPages.push({ page, entry, words });
  compiledWords += words;
  while (compiledWords > JIT_CACHE_WORDS && compiledHead < compiledPages.length - 1) {
    const old = compiledPages[compiledHead]!;
    compiledPages[compiledHead++] = undefined as never;
    compiledWords -= old.words;
    // Still its page's current compiled form: drop it, and move `changes` on so every
    // cache that holds the function (a domain's, a CPU's) lets it go at its next check.
    if (old.page.runCache === old.entry) {
      old.page.runCache = undefined;
      old.page.changes++;
    }
  }
  if (compiledHead >= 1024 && 2 * compiledHead >= compiledPages.length) {
    compiledPages.splice(0, compiledHead);
    compiledHead = 0;
  }
}

let wordsCompiled = 0;
/** Words of code compiled since the process started (for tests: compiling stays in proportion to the gas). */
export const compiledWordsTotal = (): number => wordsCompiled;

/** Words of code whose compiled form is kept for sharing (for tests: never above JIT_CACHE_WORDS but for the newest). */
export const compiledWordsShared = (): number => sharedWords;

/** Words of code compiled and kept now (for tests: never above JIT_CACHE_WORDS but for the newest page). */
export const compiledWordsKept = (): number => compiledWords;
