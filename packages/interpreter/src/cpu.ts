// The processor: the entered domain's registers held in fields, the dispatch loop
// with hot arithmetic inline, entering and leaving domains (borrowing and settling
// the time meter), faults, keepers and scheduling. Internal to the package.
//
// Code on the domain-switch path writes layout numbers as literals checked with
// `satisfies` (`slots[3 satisfies typeof DomainSlot.STATE]`), as the loop's case
// labels do: in V8 each use of an imported frozen constant costs several dependent
// loads, which measurably slowed CALL + RETURN.
import {
  type DataPage,
  DomainSlot,
  DomainState,
  Fault,
  type FaultName,
  fail,
  faultName,
  GuestFault,
  type Key,
  KeyKind,
  KeyPage,
  type Meter,
  NULL_KEY,
  numberKey,
  ObjectKind,
  PRIME_TIME,
  Resource,
  type Store,
} from '@keyvm/core';
import { gasFor, INSTRUCTIONS, Op } from '@keyvm/isa';
import type { DeviceHost } from './devices.js';
import { type CompiledCode, compiledFor } from './jit.js';
import { transfer } from './ops/control.js';
import { executeHeavy } from './ops/index.js';
import type { FaultInfo, StepHook } from './types.js';

/** Gas per opcode, from the ISA table. */
const GAS = Int32Array.from(INSTRUCTIONS, (r) => r.gas);
const N_OPS = INSTRUCTIONS.length;

/** Instructions the dispatch loop executes inline; each must cost exactly 1 gas. */
export const INLINE_OPS: readonly number[] = [
  Op.PUSH,
  Op.ADD,
  Op.SUB,
  Op.MUL,
  Op.DIV,
  Op.MOD,
  Op.AND,
  Op.OR,
  Op.XOR,
  Op.NOT,
  Op.JUMP,
  Op.JUMPIF,
  Op.NOP,
  Op.DUP,
  Op.DROP,
  Op.SWAP,
  Op.OVER,
  Op.EQ,
  Op.NE,
  Op.LT,
  Op.LE,
  Op.GT,
  Op.GE,
  Op.ISZERO,
  Op.NEG,
  Op.SHL,
  Op.SHR,
  Op.SHRU,
];
/**
 * Instructions that pass control to another domain and that the loop follows
 * without leaving, while the next domain runs on the same borrow. Each must
 * cost exactly 1 gas, so the loop's fuel pays for them as for inline ones.
 */
const TRANSFER_OPS: readonly number[] = [Op.CALL, Op.CALLW, Op.RETURN];
for (const op of [...INLINE_OPS, ...TRANSFER_OPS]) {
  if (GAS[op] !== 1) throw new Error(`internal: instruction ${INSTRUCTIONS[op]!.name} must cost 1 gas`);
}
/**
 * Console output kept for a host that gives no writer, in UTF-16 code units. Output
 * is host side and no meter pays for it, so it is capped well below V8's longest
 * string: a guest with gas enough cannot make the host run out of memory or crash.
 */
export const OUTPUT_LIMIT = 1 << 24;
/**
 * Most gas borrowed at a time (the default of `MachineOptions.borrowLimit`). A
 * borrow that stays a small integer keeps V8's arithmetic on the counters in
 * integers (as doubles they cost about 8% of a CALL + RETURN); a capped borrow
 * that runs out is borrowed again (`handleExhaustion`), so results never depend on it.
 */
export const BORROW_LIMIT = 2 ** 30;
const EMPTY = new Int32Array(0);
/** #slowPath result: go on with the loop. */
const CONTINUE = -1;
/** The dispatch loop's counter stays a small integer: work is done in chunks of at most this. */
const CHUNK = 1 << 30;
/** While a code page is not compiled yet, the loop looks again this often to count its warm-up. */
const WARM_CHUNK = 1024;
/** Instructions the loop may run before it must look again: bounded by gas, steps and the chunk. */
const fuelFor = (gas: number, steps: number, chunk: number): number => Math.min(gas, steps, chunk);

/** What the dispatch loop reloads from the fields after a case that went through them. */
const Reload = Object.freeze({ none: 0, registers: 1, all: 2 } as const);
type Reload = (typeof Reload)[keyof typeof Reload];

/** What `#fastTransfer` did: nothing, or the transfer on the same borrow, or on a new one. */
const Moved = Object.freeze({ no: 0, sameBorrow: 1, newBorrow: 2 } as const);
type Moved = (typeof Moved)[keyof typeof Moved];

/** Why the dispatch loop stopped. */
export const Stop = Object.freeze({
  /** The step allowance (time slice or maxSteps) is used up. */
  steps: 0,
  /** The borrowed gas cannot pay for the next instruction. */
  gas: 1,
  /** The instruction faulted; `pendingFault` says how. */
  fault: 2,
  /** The running domain left (call, return, halt, yield, block); pick the next one. */
  switched: 3,
  /** The instruction pointer left the code: the domain halts. */
  offEnd: 4,
} as const);
export type Stop = (typeof Stop)[keyof typeof Stop];

/** What a heavy handler tells the loop. */
export const Next = Object.freeze({ continue: 0, switched: 1 } as const);
export type Next = (typeof Next)[keyof typeof Next];

const numberSlot = (page: KeyPage, slot: number): number => {
  const k = page.slots[slot]!;
  return k.kind === (1 satisfies typeof KeyKind.number) ? k.value : 0;
};

/**
 * What a domain's CODE and STACK slots resolved to, kept in its page's run cache:
 * it holds while the same key objects sit in the slots and the store's epoch is
 * the one it was made in.
 */
interface DomainPages {
  readonly epoch: number;
  readonly codeKey: Key;
  readonly stackKey: Key;
  readonly code: DataPage;
  readonly stack: DataPage;
  /** The code page's compiled form, and its `changes` count then (-1: none yet). */
  compiled: CompiledCode | null;
  compiledAt: number;
}

/** Recently entered domains whose resolved pages the CPU keeps (a power of two). */
const PAGES_CACHED = 4;

/** `page`'s resolved pages when its run cache holds for `epoch` and its slots now. */
const cachedPages = (page: KeyPage, epoch: number): DomainPages | undefined => {
  const e = page.runCache as DomainPages | undefined;
  const slots = page.slots;
  return e !== undefined &&
    e.epoch === epoch &&
    e.codeKey === slots[5 satisfies typeof DomainSlot.CODE] &&
    e.stackKey === slots[7 satisfies typeof DomainSlot.STACK]
    ? e
    : undefined;
};

export class Cpu {
  /** The entered (running) domain, or null between domains. */
  domain: KeyPage | null = null;
  code: Int32Array = EMPTY;
  stack: Int32Array = EMPTY;
  /** The code page and its compiled form (null when not compiled or the JIT is off). */
  codePage: DataPage | null = null;
  /** The stack page (compiled code is never used for a code page that is also the stack). */
  stackPage: DataPage | null = null;
  compiled: CompiledCode | null = null;
  /** Most gas borrowed at a time, a small integer (never changes results; see BORROW_LIMIT). */
  borrowLimit = BORROW_LIMIT;
  /** Use compiled code for the inline instructions (never changes results); 'eager' skips the warm-up. */
  jit: boolean | 'eager' = true;
  /** Registers handed to compiled code: ip, sp, fuel, stack size. */
  readonly #regs = new Int32Array(4);
  ip = 0;
  sp = 0;
  /** The time meter the entered domain runs on, the key it was read from, and the borrow. */
  meter: Meter | null = null;
  timeKey: Key = NULL_KEY;
  budget = 0;
  gasLeft = 0;
  /** Set by a fault; read by the machine. */
  pendingFault: GuestFault | null = null;
  /** Gas settled since the counter was last reset (the machine's per-run gasUsed). */
  spent = 0;
  /** Host input waiting to be read by input devices (not part of the image). */
  readonly input: number[] = [];
  /** Console output when the host gives no writer (host side, not state), up to `outputLimit` characters. */
  output = '';
  /** Characters of console output dropped beyond `outputLimit`. */
  outputDropped = 0;

  /** Keep console output for a host without a writer; what does not fit is dropped and counted. */
  /** Most characters kept in `output` (see OUTPUT_LIMIT). */
  outputLimit = OUTPUT_LIMIT;

  collectOutput(text: string): void {
    if (this.output.length + text.length <= this.outputLimit) this.output += text;
    else this.outputDropped += text.length;
  }
  hook: StepHook | null = null;
  /** Replay cursors per device id, when replaying transcripts. */
  replay: Map<number, number> | null = null;

  constructor(
    readonly store: Store,
    readonly host: DeviceHost,
  ) {}

  // ---- entering and leaving domains ------------------------------------------------

  /**
   * Enter `page` as the running domain: cache its registers and pages, borrow the
   * smallest budget along its time meter's chain. Throws a GuestFault (with the
   * domain entered, so the fault is charged to it) when its slots cannot run.
   */
  enter(page: KeyPage): void {
    this.broken = null;
    this.domain = page;
    this.ip = numberSlot(page, 4 satisfies typeof DomainSlot.IP);
    this.sp = numberSlot(page, 6 satisfies typeof DomainSlot.POINTER);
    // A borrow left pending by a switch (suspend) goes on when this domain runs on the
    // same live meter, as servers called on their caller's meter do: no settle, no chain walk.
    const key = page.slots[0 satisfies typeof DomainSlot.TIME]!;
    if (this.#onBorrow(key)) {
      this.timeKey = key;
    } else {
      this.settle();
      this.#borrow();
    }
    this.reloadPages();
  }

  #borrow(): void {
    const page = this.domain!;
    const key = page.slots[DomainSlot.TIME]!;
    this.timeKey = key;
    const meter = this.store.meter(key, false);
    if (meter.resource !== Resource.time) fail('wrong-kind', 'the TIME slot holds a memory meter');
    this.#borrowFrom(meter);
  }

  /** Borrow the smallest budget along `meter`'s chain, up to the limit or `atLeast` (nothing is pending). */
  #borrowFrom(meter: Meter, atLeast = 0): void {
    this.meter = meter;
    this.budget = Math.min(this.store.available(meter), Math.max(this.borrowLimit, atLeast));
    this.gasLeft = this.budget;
  }

  /** Whether the TIME key `key` designates the live meter of the pending borrow. */
  #onBorrow(key: Key): boolean {
    const m = this.meter;
    return (
      m !== null &&
      key.kind === (6 satisfies typeof KeyKind.meter) &&
      key.target === m.id &&
      key.version === m.version
    );
  }

  /**
   * Gas the entered domain could still spend: what its meter chain has beyond the
   * pending borrow's use (not just the borrow, which is capped); an unlimited
   * chain reports Number.MAX_SAFE_INTEGER less the use.
   */
  gasAvailable(): number {
    if (this.meter === null) return 0;
    return Math.min(this.store.available(this.meter), Number.MAX_SAFE_INTEGER) - (this.budget - this.gasLeft);
  }

  /** Pay what was used of the borrow to the meter chain. */
  settle(): void {
    if (this.meter === null) return;
    const used = this.budget - this.gasLeft;
    if (used > 0) {
      this.store.spend(this.meter, used);
      this.spent += used;
    }
    this.budget = this.gasLeft = 0;
    this.meter = null;
  }

  /** Settle and borrow again (after an instruction that may have touched time meters). */
  reborrow(): void {
    this.settle();
    this.#borrow();
  }

  /** Re-read the code and stack pages (after an instruction that may have replaced or resized them). */
  reloadPages(): void {
    const page = this.domain!;
    const slots = page.slots;
    if (slots[0 satisfies typeof DomainSlot.TIME] !== this.timeKey || this.meter === null) this.reborrow();
    const pages = this.#pagesOf(page);
    if (this.sp < 0 || this.sp > pages.stack.size)
      fail('bad-argument', `the stack pointer ${this.sp} is outside the stack page`);
    this.#usePages(pages);
  }

  /** Run on the entered domain's resolved pages: its code (compiled, if it is) and its stack. */
  #usePages(pages: DomainPages): void {
    const code = pages.code;
    const stack = pages.stack;
    // Stack words are written outside the store. A page that also runs as code (it
    // has a run cache) counts a change, so code compiled from it is dropped.
    if (stack.runCache !== undefined) stack.changes++;
    this.code = code.words;
    this.stack = stack.words;
    if (code !== this.codePage || code.changes !== this.#compiledAt || stack !== this.stackPage) {
      this.stackPage = stack;
      // Compiled code kept with the pages while the code page is unchanged: switching
      // back and forth need not look it up each time (about a tenth of a round trip).
      if (pages.compiledAt === code.changes && this.jit !== false) {
        this.codePage = code;
        this.#compiledAt = code.changes;
        this.compiled = pages.compiled;
      } else {
        this.#compile(code);
        if (this.compiled !== null) {
          pages.compiled = this.compiled;
          pages.compiledAt = code.changes;
        }
      }
    }
  }

  /**
   * The domains whose run caches hold resolved pages: a ring, the oldest replaced
   * first. Keys are
   * immutable, so while the same key objects sit in the slots and the store's
   * epoch is unchanged (nothing severed, destroyed or resized), a result still
   * holds and entering the domain need not check again. Only the last few
   * entered domains keep one, and a change of epoch drops them all, so no freed
   * page is kept alive by a cache.
   */
  readonly #cached: (KeyPage | undefined)[] = new Array(PAGES_CACHED).fill(undefined);
  #cachedEpoch = -1;
  #cachedNext = 0;

  /** What `page`'s CODE and STACK slots resolve to (from its run cache when that holds); throws a GuestFault. */
  #pagesOf(page: KeyPage): DomainPages {
    const epoch = this.store.epoch;
    const cached = cachedPages(page, epoch);
    if (cached !== undefined) return cached;
    const ring = this.#cached;
    if (this.#cachedEpoch !== epoch) {
      for (let i = 0; i < PAGES_CACHED; i++) {
        const d = ring[i];
        if (d !== undefined) d.runCache = undefined;
        ring[i] = undefined;
      }
      this.#cachedEpoch = epoch;
    }
    const e = this.#resolvePages(page, epoch);
    if (page.runCache === undefined) {
      // A newcomer: the oldest domain in the ring gives up its cache.
      const old = ring[this.#cachedNext];
      if (old !== undefined) old.runCache = undefined;
      ring[this.#cachedNext] = page;
      this.#cachedNext = (this.#cachedNext + 1) & (PAGES_CACHED - 1);
    }
    page.runCache = e;
    return e;
  }

  /** Resolve a domain's CODE and STACK keys, checking them. */
  #resolvePages(page: KeyPage, epoch: number): DomainPages {
    const codeKey = page.slots[DomainSlot.CODE]!;
    const stackKey = page.slots[DomainSlot.STACK]!;
    if (codeKey.kind !== KeyKind.page && codeKey.kind !== KeyKind.readPage) {
      fail(
        this.store.normalize(codeKey).kind === KeyKind.null ? 'null-key' : 'wrong-kind',
        'the CODE slot holds no page key',
      );
    }
    const code = this.store.deref(codeKey);
    if (code === undefined) fail('null-key', 'the CODE slot holds a void key');
    if (code.kind !== ObjectKind.dataPage) fail('wrong-kind', 'the CODE page is not a data page');
    const stack = this.store.dataPage(stackKey, true);
    return { epoch, codeKey, stackKey, code, stack, compiled: null, compiledAt: -1 };
  }

  /**
   * A fault the entered domain will take at its next instruction: an instruction
   * completed but left the domain unable to go on (its code, stack or meter gone).
   */
  broken: GuestFault | null = null;

  /** Reload pages after an instruction; a failure becomes the next instruction's fault. */
  refresh(): void {
    this.#deferring(() => this.reloadPages());
  }

  /** Borrow again after a meter instruction settled; a failure is deferred like refresh's. */
  refreshMeter(): void {
    this.#deferring(() => this.reborrow());
  }

  /** Run `f`; a guest fault it throws is kept for the next instruction, and the domain can fetch nothing. */
  #deferring(f: () => void): void {
    try {
      f();
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.broken = e;
      this.code = EMPTY;
      this.stack = EMPTY;
      this.codePage = null;
      this.stackPage = null;
      this.compiled = null;
    }
  }

  /**
   * The entered domain halts (HALT or running off its code). A called domain
   * returns to its waiting caller with the null key and word 0.
   */
  halt(): void {
    const page = this.domain!;
    this.suspend();
    this.setState(page, DomainState.halted);
    this.store.kernel.active = 0;
    const resume = this.store.normalize(page.slots[DomainSlot.RESUME]!);
    if (resume.kind !== KeyKind.resume) return;
    const caller = this.store.deref(resume) as KeyPage;
    const st = caller.slots[DomainSlot.STATE]!.value;
    if (st !== DomainState.waiting && st !== DomainState.waitingWord) return;
    this.store.consumeResume(resume);
    caller.slots[DomainSlot.RECV] = NULL_KEY;
    if (st === DomainState.waitingWord) {
      try {
        this.pushOnto(caller, 0, false);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    this.setState(caller, DomainState.running);
    this.activate(caller);
  }

  /** Write the registers into the domain page (IP, POINTER), so anyone can look. */
  writeRegisters(): void {
    const page = this.domain!;
    page.slots[4 satisfies typeof DomainSlot.IP] = numberKey(this.ip);
    page.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(this.sp);
  }

  /**
   * Leave the running domain for another (CALL, RETURN, HALT, YIELD, a blocked read):
   * registers into its page; its borrow stays pending for the next domain to enter,
   * which goes on with it on the same meter or settles it.
   */
  suspend(): void {
    if (this.domain === null) return;
    this.writeRegisters();
    this.domain = null;
  }

  /** Leave the running domain and settle the borrow: registers into its page, gas paid. */
  leave(): void {
    this.suspend();
    this.settle();
  }

  // ---- the dispatch loop ------------------------------------------------------------

  /** Instructions completed by the last `execute`. */
  lastSteps = 0;

  /**
   * Run the entered domain for at most `limit` instructions. Returns why it stopped;
   * `lastSteps` says how many instructions completed.
   *
   * One counter, `fuel`, pays for both the gas and the step limit: every inline
   * instruction costs 1 gas (checked against the ISA table at load), so between
   * synchronisation points gas and steps fall together. Heavy instructions settle
   * the difference. An IP outside the code reads `undefined` and lands in the
   * default branch, so the fast path has no range check of its own.
   */
  execute(limit: number): Stop {
    let code = this.code;
    let stack = this.stack;
    let stackLen = stack.length;
    let ip = this.ip;
    let sp = this.sp;
    // Gas left and steps taken at the last synchronisation point.
    let gasBase = this.gasLeft;
    let stepsBase = 0;
    let fuel0 = fuelFor(gasBase, limit, this.#chunk());
    let fuel = fuel0;
    // Fuel when the running code page last counted its warm-up (a transfer changes page mid-chunk).
    let mark = fuel0;
    // Set by a case that changed the registers through the fields: reload the locals from them.
    let reload: Reload = Reload.none;
    let stop: Stop | typeof CONTINUE = Stop.steps;
    let fault: GuestFault | null = null;
    const regs = this.#regs;
    if (this.compiled !== null) {
      this.#runCompiled(stack, ip, sp, fuel);
      ip = regs[0]!;
      sp = regs[1]!;
      fuel = regs[2]!;
    }

    loop: for (;;) {
      if (--fuel < 0) {
        fuel = 0;
        if (stepsBase + fuel0 >= limit) break;
        if (gasBase - fuel0 < 1) {
          stop = Stop.gas;
          break;
        }
        // Only the chunk cap ran out: count the chunk towards compiling, take the next.
        this.#warm(mark);
        gasBase -= fuel0;
        stepsBase += fuel0;
        mark = fuel0 = fuel = fuelFor(gasBase, limit - stepsBase, this.#chunk());
        if (this.compiled !== null) {
          this.#runCompiled(stack, ip, sp, fuel);
          ip = regs[0]!;
          sp = regs[1]!;
          fuel = regs[2]!;
        }
        continue;
      }
      const op = code[ip];
      // Literal case labels (checked against the ISA table by `satisfies`) let V8
      // compile this switch to a jump table.
      switch (op) {
        case 0 satisfies typeof Op.PUSH: {
          const v = code[ip + 1];
          if (v === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PUSH at ${ip} has no immediate word`);
            break loop;
          }
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'PUSH onto a full stack');
            break loop;
          }
          stack[sp++] = v;
          ip += 2;
          continue;
        }
        case 1 satisfies typeof Op.ADD:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! + stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 2 satisfies typeof Op.SUB:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! - stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 3 satisfies typeof Op.MUL:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = Math.imul(stack[sp - 1]!, stack[sp]!);
          stack[sp] = 0;
          ip++;
          continue;
        case 6 satisfies typeof Op.AND:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! & stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 7 satisfies typeof Op.OR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! | stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 8 satisfies typeof Op.XOR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! ^ stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 27 satisfies typeof Op.EQ:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1] === stack[sp] ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 28 satisfies typeof Op.NE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1] !== stack[sp] ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 29 satisfies typeof Op.LT:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! < stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 30 satisfies typeof Op.LE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! <= stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 31 satisfies typeof Op.GT:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! > stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 32 satisfies typeof Op.GE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! >= stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 35 satisfies typeof Op.SHL:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! << stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 36 satisfies typeof Op.SHR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! >> stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 37 satisfies typeof Op.SHRU:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! >>> stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 4 satisfies typeof Op.DIV:
        case 5 satisfies typeof Op.MOD: {
          if (sp < 2) break;
          const b = stack[sp - 1]!;
          if (b === 0) {
            fuel++;
            fault = new GuestFault('division-by-zero', `${INSTRUCTIONS[op]!.name} by zero`);
            break loop;
          }
          const a = stack[sp - 2]!;
          let r: number;
          if (op === 4) {
            r = Math.floor(a / b) | 0;
          } else {
            r = a % b;
            if (r !== 0 && (r ^ b) < 0) r += b;
          }
          stack[sp - 2] = r | 0;
          stack[--sp] = 0;
          ip++;
          continue;
        }
        case 9 satisfies typeof Op.NOT:
          if (sp < 1) break;
          stack[sp - 1] = ~stack[sp - 1]!;
          ip++;
          continue;
        case 34 satisfies typeof Op.NEG:
          if (sp < 1) break;
          stack[sp - 1] = -stack[sp - 1]! | 0;
          ip++;
          continue;
        case 33 satisfies typeof Op.ISZERO:
          if (sp < 1) break;
          stack[sp - 1] = stack[sp - 1] === 0 ? 1 : 0;
          ip++;
          continue;
        case 23 satisfies typeof Op.DUP:
          if (sp < 1) break;
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'DUP onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 1]!;
          sp++;
          ip++;
          continue;
        case 24 satisfies typeof Op.DROP:
          if (sp < 1) break;
          stack[--sp] = 0;
          ip++;
          continue;
        case 25 satisfies typeof Op.SWAP: {
          if (sp < 2) break;
          const t = stack[sp - 1]!;
          stack[sp - 1] = stack[sp - 2]!;
          stack[sp - 2] = t;
          ip++;
          continue;
        }
        case 26 satisfies typeof Op.OVER:
          if (sp < 2) break;
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'OVER onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 2]!;
          sp++;
          ip++;
          continue;
        case 22 satisfies typeof Op.NOP:
          ip++;
          continue;
        case 17 satisfies typeof Op.JUMP:
          if (sp < 1) break;
          ip = stack[--sp]!;
          stack[sp] = 0;
          continue;
        case 18 satisfies typeof Op.JUMPIF:
          if (sp < 2) break;
          sp -= 2;
          ip = stack[sp + 1] !== 0 ? stack[sp]! : ip + 1;
          stack[sp] = 0;
          stack[sp + 1] = 0;
          continue;
        case 14 satisfies typeof Op.CALL:
        case 38 satisfies typeof Op.CALLW:
        case 39 satisfies typeof Op.RETURN: {
          // A transfer: fuel already paid for it. The page it leaves counts its warm-up.
          if (this.compiled === null) this.#warm(mark - fuel);
          mark = fuel;
          // The loop follows the next domain at once. In the common case all in one step
          // (`#fastTransfer`, on the same borrow or a new one); else by the general path,
          // which changes nothing when the transfer faults and follows on the same borrow.
          const moved =
            fuel > 0 && this.fastTransfers
              ? this.#fastTransfer(op, ip, sp, stepsBase + (fuel0 - fuel), gasBase - (fuel0 - fuel))
              : Moved.no;
          if (moved === Moved.no) {
            this.ip = ip;
            this.sp = sp;
            try {
              transfer(this, op);
            } catch (e) {
              if (!(e instanceof GuestFault)) throw e;
              fuel++;
              fault = e;
              break loop;
            }
            if (!(fuel > 0 && this.#enterOnBorrow())) {
              const used = fuel0 - fuel;
              this.lastSteps = stepsBase + used;
              this.gasLeft = gasBase - used;
              if (this.domain === null && !(this.lastSteps < limit && this.#enterActive()))
                return Stop.switched;
              reload = Reload.all;
              break;
            }
          } else if (moved === Moved.newBorrow) {
            // It settled the borrow and borrowed on the next domain's meter: new counters.
            reload = Reload.all;
            break;
          }
          if (this.compiled !== null || !this.#jitting()) {
            reload = Reload.registers;
            break;
          }
          // Its code page is still warming up: through the fields, for the shorter chunk.
          const used = fuel0 - fuel;
          this.lastSteps = stepsBase + used;
          this.gasLeft = gasBase - used;
          reload = Reload.all;
          break;
        }
        default: {
          // Off the code, a bad opcode or a heavy instruction: the slow path, with
          // the registers and counters synchronised through the fields.
          fuel++;
          this.ip = ip;
          this.sp = sp;
          this.lastSteps = stepsBase + (fuel0 - fuel);
          this.gasLeft = gasBase - (fuel0 - fuel);
          this.#warm(mark - fuel);
          stop = this.#slowPath(op, limit);
          if (stop !== CONTINUE) return stop;
          reload = Reload.all;
          break;
        }
      }
      if (reload !== Reload.none) {
        // Go on from the fields: registers and pages, and the counters unless they go on.
        if (reload === Reload.all) {
          gasBase = this.gasLeft;
          stepsBase = this.lastSteps;
          mark = fuel0 = fuel = fuelFor(gasBase, limit - stepsBase, this.#chunk());
        }
        reload = Reload.none;
        ip = this.ip;
        sp = this.sp;
        code = this.code;
        stack = this.stack;
        stackLen = stack.length;
        if (this.compiled !== null) {
          this.#runCompiled(stack, ip, sp, fuel);
          ip = regs[0]!;
          sp = regs[1]!;
          fuel = regs[2]!;
        }
        continue;
      }
      // Otherwise reached only by a `break` out of the switch: a stack underflow.
      fuel++;
      fault = new GuestFault(
        'stack-underflow',
        `${INSTRUCTIONS[op!]!.name} needs ${INSTRUCTIONS[op!]!.pops} words`,
      );
      break;
    }
    const used = fuel0 - fuel;
    this.lastSteps = stepsBase + used;
    this.gasLeft = gasBase - used;
    this.#warm(mark - fuel);
    // On a fault ip and sp are those before the faulting instruction: nothing changed.
    this.ip = ip;
    this.sp = sp;
    if (fault !== null) {
      this.pendingFault = fault;
      return Stop.fault;
    }
    return stop as Stop;
  }

  /** The `changes` count of the code page when it was compiled. */
  #compiledAt = -1;

  /** Take `page` as the running code page and its compiled form, if it has one yet. */
  #compile(page: DataPage): void {
    this.codePage = page;
    this.#compiledAt = page.changes;
    this.compiled = this.#jitting() ? compiledFor(page, 0, this.jit === 'eager') : null;
  }

  /** Count `ran` interpreted instructions towards compiling the running code page. */
  #warm(ran: number): void {
    if (this.compiled === null && ran > 0 && this.#jitting()) {
      this.compiled = compiledFor(this.codePage!, ran, this.jit === 'eager');
    }
  }

  /** How far the loop may run before it looks again: short chunks while the code page warms up. */
  #chunk(): number {
    return this.compiled === null && this.#jitting() ? WARM_CHUNK : CHUNK;
  }

  /** Whether the running code page may be compiled: the JIT is on and the page is not also the stack. */
  #jitting(): boolean {
    return this.jit !== false && this.codePage !== null && this.codePage !== this.stackPage;
  }

  /** Run compiled code from (ip, sp) with `fuel`; the results are left in the registers array. */
  #runCompiled(stack: Int32Array, ip: number, sp: number, fuel: number): void {
    const regs = this.#regs;
    regs[0] = ip;
    regs[1] = sp;
    regs[2] = fuel;
    regs[3] = stack.length;
    this.compiled!(stack, regs);
  }

  /**
   * Everything the inline loop does not do, with registers and counters in the
   * fields: running off the code, bad opcodes, and heavy instructions (charged
   * their full cost first, so a handler that settles or leaves pays it). Returns
   * CONTINUE to resume the loop from the fields, or why it stopped.
   */
  #slowPath(op: number | undefined, limit: number): Stop | typeof CONTINUE {
    if (op === undefined) return Stop.offEnd;
    if (op < 0 || op >= N_OPS) {
      this.pendingFault = new GuestFault('bad-opcode', `code word ${op} at ${this.ip} is not an instruction`);
      return Stop.fault;
    }
    const cost = this.costOf(op);
    if (this.gasLeft < cost) return Stop.gas;
    if (this.lastSteps >= limit) return Stop.steps;
    const gasBefore = this.gasLeft;
    this.gasLeft -= cost;
    let next: Next;
    try {
      next = executeHeavy(this, op);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // The handler changed nothing; the registers still describe this instruction.
      this.gasLeft = gasBefore;
      this.pendingFault = e;
      return Stop.fault;
    }
    this.lastSteps++;
    // The instruction may have written the running code page (self-modifying code).
    const page = this.codePage;
    if (this.compiled !== null && page !== null && page.changes !== this.#compiledAt) this.#compile(page);
    if (next === Next.continue) return CONTINUE;
    return this.lastSteps < limit && this.#enterActive() ? CONTINUE : Stop.switched;
  }

  /** Take the transfer fast path (tests turn it off to compare it with the general one). */
  fastTransfers = true;

  /**
   * CALL, CALLW or RETURN at (ip, sp) in the common case, checked and done in one
   * place, as one flat function: a CALL to an available domain or a RETURN to a
   * waiting caller, on a live time meter, whose pages the cache holds. Makes the
   * transfer and enters the next domain with exactly the effects of `transfer`
   * then `enter`: on the same borrow, or (another meter) settling it, with the
   * loop's counters `steps` and `gasLeft`, and borrowing anew. Otherwise changes
   * nothing and returns Moved.no: the general path then runs the instruction, and
   * reports its fault if it has one. (Through the general path's helpers, the
   * same work took about twice as long.)
   */
  #fastTransfer(op: number, ip: number, sp: number, steps: number, gasLeft: number): Moved {
    const caller = this.domain!;
    const slots = caller.slots;
    const stack = this.stack;
    const store = this.store;
    const n = op === (14 satisfies typeof Op.CALL) ? 2 : 3;
    if (sp < n) return Moved.no;
    const b = sp - n;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    const size = slots.length;
    // Slot operands in range and not IP or POINTER (those read the registers).
    if (a0 < 0 || a0 >= size || a0 === 4 || a0 === 6 || a1 < 0 || a1 >= size || a1 === 4 || a1 === 6)
      return Moved.no;
    const k0 = slots[a0]!;
    let key = slots[a1]!;
    if (key.kind > (1 satisfies typeof KeyKind.number)) key = store.normalize(key);
    const isReturn = op === (39 satisfies typeof Op.RETURN);
    if (k0.kind !== (isReturn ? (5 satisfies typeof KeyKind.resume) : (4 satisfies typeof KeyKind.domain)))
      return Moved.no;
    const next = store.object(k0.target);
    if (
      next === undefined ||
      next.version !== k0.version ||
      next.kind !== (1 satisfies typeof ObjectKind.keyPage) ||
      !next.isDomain
    )
      return Moved.no;
    const ns = next.slots;
    const state = ns[3 satisfies typeof DomainSlot.STATE]!.value;
    if (isReturn) {
      if (next.resumeGen !== k0.value) return Moved.no;
      if (
        state !== (2 satisfies typeof DomainState.waiting) &&
        state !== (6 satisfies typeof DomainState.waitingWord)
      )
        return Moved.no;
    } else if (state !== (0 satisfies typeof DomainState.available)) return Moved.no;
    const timeKey = ns[0 satisfies typeof DomainSlot.TIME]!;
    // On another meter than the pending borrow's: that meter, which must be a live time meter.
    let meter: Meter | null = null;
    if (!this.#onBorrow(timeKey)) {
      if (timeKey.kind !== (6 satisfies typeof KeyKind.meter)) return Moved.no;
      const m = store.object(timeKey.target);
      if (
        m === undefined ||
        m.version !== timeKey.version ||
        m.kind !== (2 satisfies typeof ObjectKind.meter) ||
        m.resource !== (0 satisfies typeof Resource.time)
      )
        return Moved.no;
      meter = m;
    }
    const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
    const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
    if (
      ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
      spKey.kind !== (1 satisfies typeof KeyKind.number)
    )
      return Moved.no;
    const pages = cachedPages(next, store.epoch);
    if (pages === undefined) return Moved.no;
    const nextStack = pages.stack;
    let nsp = spKey.value;
    const push =
      op === (38 satisfies typeof Op.CALLW) || state === (6 satisfies typeof DomainState.waitingWord);
    if (nsp < 0 || nsp > nextStack.size || (push && nsp >= nextStack.size)) return Moved.no;

    // Commit: the transfer (in the general path's order: a stack page may be shared).
    if (isReturn) {
      store.bumpResumeGen(next);
      ns[9 satisfies typeof DomainSlot.RECV] = key;
    } else {
      ns[9 satisfies typeof DomainSlot.RECV] = key;
      ns[11 satisfies typeof DomainSlot.RESUME] = store.resumeKey(caller);
    }
    // (Its POINTER slot is written when it leaves, as for any running domain.)
    if (push) {
      if (nextStack.runCache !== undefined) nextStack.changes++;
      nextStack.words[nsp++] = stack[b + 2]!;
    }
    ns[3 satisfies typeof DomainSlot.STATE] = numberKey(1 satisfies typeof DomainState.running);
    for (let i = b; i < sp; i++) stack[i] = 0;
    slots[3 satisfies typeof DomainSlot.STATE] = numberKey(
      isReturn
        ? (0 satisfies typeof DomainState.available)
        : op === (38 satisfies typeof Op.CALLW)
          ? (6 satisfies typeof DomainState.waitingWord)
          : (2 satisfies typeof DomainState.waiting),
    );
    slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip + 1);
    slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(b);
    store.kernel.active = next.id;
    this.#activated = next;

    // And entering the next domain, on the same borrow or (after paying for this
    // one: the counters as the loop has them) on a new one.
    this.broken = null;
    this.domain = next;
    this.ip = ipKey.value;
    this.sp = nsp;
    if (meter !== null) {
      this.lastSteps = steps;
      this.gasLeft = gasLeft;
      this.settle();
      this.#borrowFrom(meter);
    }
    this.timeKey = timeKey;
    this.#usePages(pages);
    return meter === null ? Moved.sameBorrow : Moved.newBorrow;
  }

  /** The domain the kernel made active, when it is a running domain (`activate`'s page saves the lookup). */
  #runnableActive(): KeyPage | null {
    const id = this.store.kernel.active;
    if (id === 0) return null;
    const hint = this.#activated;
    const page = hint !== null && hint.id === id ? hint : this.store.object(id);
    return page instanceof KeyPage &&
      page.isDomain &&
      page.slots[3 satisfies typeof DomainSlot.STATE]!.value === (1 satisfies typeof DomainState.running)
      ? page
      : null;
  }

  /**
   * After a switch, enter the domain the kernel made active (a callee, a resumed
   * caller, a keeper) without leaving the dispatch loop. False when there is none
   * or it cannot be entered; the machine's scheduler then decides (and reports
   * the entry fault).
   */
  #enterActive(): boolean {
    const page = this.#runnableActive();
    if (page === null) return false;
    try {
      this.enter(page);
      return true;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.leave();
      return false;
    }
  }

  /**
   * After a transfer, enter the domain it activated when that domain runs on the
   * meter of the pending borrow, so the borrow (and the loop's counters) go on.
   * False when it runs on another meter or cannot be entered; the general path
   * (`#enterActive`, the scheduler) then takes it, and reports any entry fault.
   */
  #enterOnBorrow(): boolean {
    const page = this.#runnableActive();
    if (page === null || !this.#onBorrow(page.slots[0 satisfies typeof DomainSlot.TIME]!)) return false;
    try {
      this.enter(page);
      return true;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // Entering only read the page; the general path enters it again and reports the fault.
      this.domain = null;
      return false;
    }
  }

  /** Gas the heavy instruction `op` costs now: the table's, plus its size's (`gasFor`). */
  costOf(op: number): number {
    const row = INSTRUCTIONS[op]!;
    // Without its operands it costs the table's gas (it will fault stack-underflow).
    return row.sizeGas ? gasFor(row, this.sp >= row.pops ? this.stack[this.sp - 1] : undefined) : GAS[op]!;
  }

  /** Gas cost of the instruction at the current IP (for meter exhaustion and the step hook). */
  costAtIp(): number {
    const op = this.code[this.ip];
    return op !== undefined && op >= 0 && op < N_OPS ? this.costOf(op) : 1;
  }

  // ---- domain state and scheduling ----------------------------------------------------

  setState(page: KeyPage, state: DomainState): void {
    page.slots[3 satisfies typeof DomainSlot.STATE] = numberKey(state);
  }

  /** The page `activate` was last given: the active domain, when its id is the kernel's. */
  #activated: KeyPage | null = null;

  /** Make `page` the next domain to run (the running one must have been left). */
  activate(page: KeyPage): void {
    this.store.kernel.active = page.id;
    this.#activated = page;
  }

  /** Queue a runnable domain behind the others. */
  enqueue(page: KeyPage): void {
    this.store.kernel.runQueue.push(page.id);
  }

  /**
   * Deliver control to a domain as a call would: RECV gets `recv`, RESUME gets
   * `resume`, `word` (when given) is pushed on its stack, and it becomes the
   * domain to run. Checks everything first; throws a GuestFault and changes nothing
   * when the target cannot take it.
   */
  deliver(target: KeyPage, recv: Key, resume: Key, word: number | null): void {
    if (
      numberSlot(target, 3 satisfies typeof DomainSlot.STATE) !== (0 satisfies typeof DomainState.available)
    )
      fail('busy', `domain #${target.id} is not available`);
    if (word !== null) this.pushOnto(target, word, true);
    target.slots[9 satisfies typeof DomainSlot.RECV] = recv;
    target.slots[11 satisfies typeof DomainSlot.RESUME] = resume;
    if (word !== null) this.pushOnto(target, word, false);
    this.setState(target, 1 satisfies typeof DomainState.running);
  }

  /** Push a word on a non-running domain's stack (`check` only validates). */
  pushOnto(target: KeyPage, word: number, check: boolean): void {
    const stack = this.store.dataPage(target.slots[7 satisfies typeof DomainSlot.STACK]!, true);
    const sp = numberSlot(target, 6 satisfies typeof DomainSlot.POINTER);
    if (sp < 0 || sp >= stack.size) fail('stack-overflow', `domain #${target.id} has no room on its stack`);
    if (check) return;
    if (stack.runCache !== undefined) stack.changes++; // as in reloadPages: the page may run as code
    stack.words[sp] = word | 0;
    target.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(sp + 1);
  }

  /** Describe the pending fault for results and the kernel record. */
  faultInfo(f: GuestFault, pc: number, domain: number): FaultInfo {
    return { code: f.fault, number: f.code, message: f.message, pc, domain };
  }

  /**
   * The entered domain faulted at `this.ip` (registers as before the instruction).
   * Leaves it, marks it faulted and hands it to its keeper. Returns true when a
   * keeper took over, false when the run must stop.
   */
  handleFault(f: GuestFault): boolean {
    const page = this.domain!;
    this.leave();
    this.setState(page, DomainState.faulted);
    this.store.kernel.active = 0;
    const keeperKey = this.store.normalize(page.slots[DomainSlot.KEEPER]!);
    if (keeperKey.kind === KeyKind.domain) {
      const keeper = this.store.domain(keeperKey);
      if (this.tryKeeper(keeper, this.store.pageKey(page), page, f.code)) return true;
    }
    const k = this.store.kernel;
    k.faultCode = f.code;
    k.faultPc = numberSlot(page, DomainSlot.IP);
    k.faultDomain = page.id;
    return false;
  }

  /** Hand a stopped domain to a keeper: RECV `recv`, RESUME a restart key, the code pushed. */
  tryKeeper(keeper: KeyPage, recv: Key, stopped: KeyPage, code: number): boolean {
    if (keeper === stopped) return false;
    try {
      this.deliver(keeper, recv, this.store.resumeKey(stopped), code);
    } catch (e) {
      if (e instanceof GuestFault) return false;
      throw e;
    }
    this.activate(keeper);
    return true;
  }

  /**
   * The entered domain cannot pay for its next instruction from its borrow. Returns
   * 'borrowed' when only the borrow ran out (the chain has gas: it borrowed again and
   * the instruction can run), 'keeper' when a meter keeper took over, 'stop' when the prime meter ran out (the machine stops
   * with out-of-gas, resumable), or a GuestFault to treat as the domain's fault.
   */
  handleExhaustion(): 'borrowed' | 'keeper' | 'stop' | GuestFault {
    const page = this.domain!;
    // An instruction left the domain without a usable meter: that is its fault.
    if (this.meter === null) return this.broken ?? new GuestFault('null-key', 'the domain has no time meter');
    const meter = this.meter;
    const cost = this.costAtIp();
    this.settle();
    const empty = this.store.exhausted(meter, cost);
    if (empty === undefined) {
      // Only the borrow ran out (it is capped): borrow again, enough for this instruction.
      this.#borrowFrom(meter, cost);
      return 'borrowed';
    }
    const keeperKey = this.store.normalize(empty.keeper);
    if (keeperKey.kind === KeyKind.domain) {
      const keeper = this.store.domain(keeperKey);
      this.writeRegisters();
      const saved = page.slots[DomainSlot.STATE]!;
      this.setState(page, DomainState.faulted);
      if (this.tryKeeper(keeper, this.store.meterKey(empty, true), page, Fault['out-of-gas'])) {
        this.domain = null;
        return 'keeper';
      }
      page.slots[DomainSlot.STATE] = saved;
    }
    if (empty.id === PRIME_TIME) return 'stop';
    return new GuestFault('out-of-gas', `time meter #${empty.id} ran out and has no keeper to refill it`);
  }

  /** Catalogue name of a fault number (recorded faults are always in the catalogue). */
  static faultNameOf(n: number): FaultName {
    return faultName(n) ?? 'bad-argument';
  }
}
