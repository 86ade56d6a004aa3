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
  type KeyPage,
  type Meter,
  NULL_KEY,
  numberKey,
  ObjectKind,
  PRIME_TIME,
  Resource,
  type Store,
} from '@keyvm/core';
import { INSTRUCTIONS, Op, type Opcode } from '@keyvm/isa';
import type { DeviceHost } from './devices.js';
import { type CompiledCode, compiledFor, compiledNow } from './jit.js';
import { transfer } from './ops/control.js';
import { heavyCost } from './ops/cost.js';
import { describeFault, describeKey } from './ops/describe.js';
import { executeHeavy } from './ops/index.js';
import { restoreOperands, underflowMessage } from './ops/operands.js';
import { PageViews } from './page-views.js';
import type { FaultInfo, StepHook } from './types.js';

/** Gas per opcode, from the ISA table. */
const GAS = Int32Array.from(INSTRUCTIONS, (r) => r.gas);
const N_OPS = INSTRUCTIONS.length;

/** The fault of a jump taken to `target`, outside a code page of `size` words. */
const badJump = (name: string, target: number, size: number): GuestFault =>
  new GuestFault('bad-jump', `${name} to ${target}, outside the code (0 to ${size}, its end)`);

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
  Op.PICK,
  Op.PUT,
];
for (const op of INLINE_OPS) {
  if (GAS[op] !== 1) throw new Error(`internal: instruction ${INSTRUCTIONS[op]!.name} must cost 1 gas`);
}
/**
 * Instructions that pass control to another domain and that the loop follows
 * without leaving, while the next domain runs on the same borrow. They cost the
 * same gas, TRANSFER_GAS (a transfer may settle one meter chain and borrow from
 * another, walking both): the loop's fuel, which pays one gas and at most one step
 * a unit, pays for one with TRANSFER_GAS units, and counts the units past the
 * first back as steps not taken (`TRANSFER_EXTRA`).
 */
const TRANSFER_OPS: readonly number[] = [Op.CALL, Op.CALLW, Op.RETURN];
const TRANSFER_GAS = GAS[Op.CALL]!;
for (const op of TRANSFER_OPS) {
  if (GAS[op] !== TRANSFER_GAS || TRANSFER_GAS < 1)
    throw new Error(`internal: instruction ${INSTRUCTIONS[op]!.name} must cost what CALL does`);
}
/** Fuel units a transfer takes beyond the one every instruction takes. */
const TRANSFER_EXTRA = TRANSFER_GAS - 1;
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
 * the one it was made in. Every domain keeps its own (none is ever dropped for
 * another), so transfers among any number of domains take the one-step path; it
 * goes with the domain page when that is freed. A stale entry is only replaced
 * when the domain is entered again; what it still refers to costs the host little
 * (a destroyed page gives up its words and compiled code, `Store.destroyPage`, and
 * compiled code is read through the code page, never kept here).
 */
interface DomainPages {
  readonly epoch: number;
  readonly codeKey: Key;
  readonly stackKey: Key;
  readonly code: DataPage;
  readonly stack: DataPage;
  /** The pages and keys compiled code reaches through the domain's slots (made at first use). */
  views: PageViews | null;
  /**
   * The resume key the transfer path last put in this domain's RESUME slot, and
   * `outsidePoint` then: while that has not moved, the slot holds the key's only
   * reference and the next one-step CALL into the domain renews it in place.
   */
  resume: Key | null;
  resumeAt: number;
  /** The TIME key and the live time meter it designated at `outsidePoint` `checkedAt` (see `Cpu.#entryOf`). */
  timeKey: Key;
  meter: Meter | null;
  checkedAt: number;
}

/**
 * Counts the points where the store may have changed other than by inline
 * instructions and one-step transfers: every entry into `execute` (the host ran
 * before it), every heavy instruction and general-path transfer, and every
 * one-step transfer that copies a resume key (sends it as its message). Between
 * two points only those run, and they write nothing but the STATE, IP, POINTER,
 * RECV and RESUME slots of the two domains and stack words. So within one point:
 * - a resume key the one-step CALL put in a callee's RESUME slot is the sole copy
 *   of itself, and the next one-step CALL into that callee renews it in place
 *   (`Store.renewResumeKey`) instead of making a new one: a young key stored into
 *   an old slot array costs V8 a remembered-set entry and a scavenge, about a
 *   fifth of a CALL + RETURN;
 * - a domain's run-cache entry, once checked (`Cpu.#entryOf`), still holds.
 * One count for every Cpu in the process, so no machine can change a store that
 * another machine sharing it relies on within a point.
 */
let outsidePoint = 0;
/**
 * Something other than inline instructions and one-step transfers may change the
 * store from here. (Counting is exact to 2^53; past that the count is NaN, equal
 * to nothing, so nothing is renewed or taken as checked any more.)
 */
const storeMayChange = (): void => {
  outsidePoint = outsidePoint < Number.MAX_SAFE_INTEGER ? outsidePoint + 1 : Number.NaN;
};

/** Most operands a heavy instruction takes (ATTENUATE's five). */
const MAX_OPERANDS = Math.max(...INSTRUCTIONS.map((r) => r.pops));

/** Number keys for the domain states the one-step transfers write. */
const AVAILABLE = numberKey(0 satisfies typeof DomainState.available);
const RUNNING = numberKey(1 satisfies typeof DomainState.running);
const WAITING = numberKey(2 satisfies typeof DomainState.waiting);
const WAITING_WORD = numberKey(6 satisfies typeof DomainState.waitingWord);

/** A slot operand of a one-step transfer: in the page and not IP or POINTER (those read the registers). */
const isPlainSlot = (slot: number, size: number): boolean =>
  slot >= 0 &&
  slot < size &&
  slot !== (4 satisfies typeof DomainSlot.IP) &&
  slot !== (6 satisfies typeof DomainSlot.POINTER);

/** The domain a transfer key designated, and the store's epoch then (see `Cpu.#targetOf`). */
interface TargetCache {
  key: Key | null;
  epoch: number;
  domain: KeyPage | null;
}

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
  /** The entered domain's pages and keys as compiled code reaches them (set with its pages). */
  #views: PageViews | null = null;
  ip = 0;
  sp = 0;
  /**
   * The operands the heavy instruction being executed took off the stack, first
   * pushed first, and how many (see `takeOperands`): a fault puts them back.
   */
  readonly operands = new Int32Array(MAX_OPERANDS);
  taken = 0;
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
    this.#views = pages.views ??= new PageViews(this.store, this.domain!, code, stack);
    if (code !== this.codePage || code.changes !== this.#compiledAt || stack !== this.stackPage) {
      this.stackPage = stack;
      // The code page's compiled form when it has one now: switching back and forth
      // need not go through the warm-up count each time (about a tenth of a round trip).
      const fn = this.jit !== false && code !== stack ? compiledNow(code) : null;
      if (fn !== null) {
        this.codePage = code;
        this.#compiledAt = code.changes;
        this.compiled = fn;
      } else this.#compile(code);
    }
  }

  /** What `page`'s CODE and STACK slots resolve to (from its run cache when that holds); throws a GuestFault. */
  #pagesOf(page: KeyPage): DomainPages {
    const epoch = this.store.epoch;
    const cached = cachedPages(page, epoch);
    if (cached !== undefined) return cached;
    const e = this.#resolvePages(page, epoch);
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
    const stack = this.#stackOf(page, 'run');
    return {
      epoch,
      codeKey,
      stackKey,
      code,
      stack,
      views: null,
      resume: null,
      resumeAt: -1,
      timeKey: NULL_KEY,
      meter: null,
      checkedAt: -1,
    };
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
   * One counter, `fuel`, pays for both the gas and the step limit: each unit is one
   * gas and at most one step. Every inline instruction costs 1 gas (checked against
   * the ISA table at load), so between synchronisation points gas and steps fall
   * together; a transfer takes TRANSFER_GAS units for its one step and moves the
   * steps base back by the rest. Heavy instructions settle the difference. An IP outside the code reads `undefined` and lands in the
   * default branch, so the fast path has no range check of its own.
   */
  execute(limit: number): Stop {
    storeMayChange(); // the host ran since the last call
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
        case 53 satisfies typeof Op.PICK: {
          const k = code[ip + 1];
          if (k === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PICK at ${ip} has no immediate word`);
            break loop;
          }
          if (k < 0 || k >= sp) {
            fuel++;
            fault = new GuestFault('stack-underflow', `PICK ${k} with ${sp} words on the stack`);
            break loop;
          }
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'PICK onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 1 - k]!;
          sp++;
          ip += 2;
          continue;
        }
        case 54 satisfies typeof Op.PUT: {
          const k = code[ip + 1];
          if (k === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PUT at ${ip} has no immediate word`);
            break loop;
          }
          if (k < 0 || k > sp - 2) {
            fuel++;
            fault = new GuestFault('stack-underflow', `PUT ${k} with ${sp} words on the stack`);
            break loop;
          }
          sp--;
          stack[sp - 1 - k] = stack[sp]!;
          stack[sp] = 0;
          ip += 2;
          continue;
        }
        case 22 satisfies typeof Op.NOP:
          ip++;
          continue;
        case 17 satisfies typeof Op.JUMP:
          if (sp < 1) break;
          // A target past the end is a fault; the end itself stops as falling off does.
          if (stack[sp - 1]! >>> 0 > code.length) {
            fuel++;
            fault = badJump('JUMP', stack[sp - 1]!, code.length);
            break loop;
          }
          ip = stack[--sp]!;
          stack[sp] = 0;
          continue;
        case 18 satisfies typeof Op.JUMPIF:
          if (sp < 2) break;
          if (stack[sp - 1] !== 0 && stack[sp - 2]! >>> 0 > code.length) {
            fuel++;
            fault = badJump('JUMPIF', stack[sp - 2]!, code.length);
            break loop;
          }
          sp -= 2;
          ip = stack[sp + 1] !== 0 ? stack[sp]! : ip + 1;
          stack[sp] = 0;
          stack[sp + 1] = 0;
          continue;
        case 14 satisfies typeof Op.CALL:
        case 38 satisfies typeof Op.CALLW:
        case 39 satisfies typeof Op.RETURN: {
          // A transfer: one unit of fuel paid for it; it takes TRANSFER_EXTRA more, which
          // pay gas but are no steps. With fewer left (gas, steps or the chunk run short)
          // the slow path runs it, checking gas and steps exactly.
          if (fuel < TRANSFER_EXTRA) {
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
          // The page it leaves counts its warm-up.
          if (this.compiled === null) this.#warm(mark - fuel);
          fuel -= TRANSFER_EXTRA;
          stepsBase -= TRANSFER_EXTRA;
          // The loop follows the next domain at once. In the common case all in one step
          // (`#followTransfers`, on the same borrow or a new one); else by the general
          // path, which changes nothing when the transfer faults and follows on the same borrow.
          const moved =
            fuel > 0 && this.fastTransfers
              ? this.#followTransfers(op, ip, sp, fuel, stepsBase + fuel0, gasBase - fuel0, limit)
              : Moved.no;
          if (moved === Moved.sameBorrow) {
            fuel = regs[2]!;
            // The transfers it followed took TRANSFER_EXTRA units each that are no steps.
            stepsBase -= this.#followed * TRANSFER_EXTRA;
          }
          mark = fuel;
          if (moved === Moved.no) {
            this.ip = ip;
            this.sp = sp;
            storeMayChange();
            this.slotsRead.length = 0;
            this.taken = 0;
            try {
              transfer(this, op);
            } catch (e) {
              if (!(e instanceof GuestFault)) throw e;
              restoreOperands(this);
              // Not done: its fuel goes back.
              fuel += 1 + TRANSFER_EXTRA;
              stepsBase += TRANSFER_EXTRA;
              fault = describeFault(this, op, e);
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
            // A transfer settled the borrow and borrowed on the next domain's meter: new counters.
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
      fault = new GuestFault('stack-underflow', underflowMessage(op! as Opcode, sp));
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
    this.compiled!(stack, regs, this.#views!);
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
    storeMayChange();
    this.slotsRead.length = 0;
    this.taken = 0;
    try {
      if (
        op === (14 satisfies typeof Op.CALL) ||
        op === (38 satisfies typeof Op.CALLW) ||
        op === (39 satisfies typeof Op.RETURN)
      ) {
        // A transfer the loop could not pay for from its fuel (see the loop's case).
        transfer(this, op);
        next = Next.switched;
      } else next = executeHeavy(this, op);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // The handler changed nothing but take its operands, which go back: the
      // registers and the stack describe this instruction as before it.
      restoreOperands(this);
      this.gasLeft = gasBefore;
      this.pendingFault = describeFault(this, op, e);
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

  /** Transfers `#followTransfers` made after its first (each took TRANSFER_EXTRA units that are no steps). */
  #followed = 0;

  /**
   * The transfer `op` at (ip, sp) in one step (`#fastCall`, `#fastReturn`), then,
   * while each next domain runs compiled code, that code and the transfer it stops
   * at, and so on: a conversation between compiled domains goes on in this small
   * loop, never back through the dispatch switch (which cost about a fifth of a
   * CALL + RETURN). `fuel` is the loop's, with the transfer paid; `stepsAt` and
   * `gasAt` are the loop's steps and gas at fuel 0, so the counters at any point
   * are `stepsAt - fuel` and `gasAt + fuel`, until a transfer to a domain on
   * another meter settles them and borrows anew (then they start again, within
   * `limit` steps). Returns Moved.no when the first transfer is not for the
   * one-step path (nothing changed). Otherwise ip and sp are in the fields, and a
   * later transfer the one-step path refuses is left at its instruction, unpaid,
   * for the dispatch loop to run; with Moved.sameBorrow the fuel left is in
   * regs[2], with Moved.newBorrow (any transfer borrowed anew) the counters are
   * in the fields.
   */
  #followTransfers(
    op: number,
    ip: number,
    sp: number,
    fuel: number,
    stepsAt: number,
    gasAt: number,
    limit: number,
  ): Moved {
    const regs = this.#regs;
    this.#followed = 0;
    let moved = this.#fastTransfer(op, ip, sp, stepsAt - fuel, gasAt + fuel);
    if (moved === Moved.no) return moved;
    let result: Moved = Moved.sameBorrow;
    for (;;) {
      if (moved === Moved.newBorrow) {
        // The counters start again from what the transfer left in the fields.
        result = Moved.newBorrow;
        const steps = this.lastSteps;
        const gas = this.gasLeft;
        fuel = fuelFor(gas, limit - steps, CHUNK);
        stepsAt = steps + fuel;
        gasAt = gas - fuel;
      }
      if (this.compiled === null) break;
      this.#runCompiled(this.stack, this.ip, this.sp, fuel); // leaves ip, sp and the fuel left in regs
      const at = regs[0]!;
      const next = this.code[at];
      const nsp = regs[1]!;
      fuel = regs[2]!;
      if (
        fuel < TRANSFER_GAS ||
        (next !== (14 satisfies typeof Op.CALL) &&
          next !== (38 satisfies typeof Op.CALLW) &&
          next !== (39 satisfies typeof Op.RETURN))
      ) {
        this.ip = at;
        this.sp = nsp;
        break;
      }
      // Paid: TRANSFER_GAS units of fuel, one step (so steps at fuel 0 come TRANSFER_EXTRA earlier).
      const left = fuel - TRANSFER_GAS;
      moved = this.#fastTransfer(next, at, nsp, stepsAt - TRANSFER_EXTRA - left, gasAt + left);
      if (moved === Moved.no) {
        this.ip = at;
        this.sp = nsp;
        break;
      }
      fuel = left;
      stepsAt -= TRANSFER_EXTRA;
      this.#followed++;
    }
    if (result === Moved.sameBorrow) regs[2] = fuel;
    else {
      this.lastSteps = stepsAt - fuel;
      this.gasLeft = gasAt + fuel;
    }
    return result;
  }

  /**
   * CALL, CALLW or RETURN at (ip, sp) in the common case, checked and done in one
   * step: a CALL to an available domain or a RETURN to a waiting caller, on a live
   * time meter, whose pages the cache holds. Makes the transfer and enters the next
   * domain with exactly the effects of `transfer` then `enter`: on the same borrow,
   * or (another meter) settling it, with the loop's counters `steps` and
   * `gasLeft`, and borrowing anew. Otherwise changes nothing and returns Moved.no:
   * the general path then runs the instruction, and reports its fault if it has
   * one. Each writes in the general path's order (a stack page may be shared).
   * CALL and RETURN have a path each, alike in shape: one function with their
   * differences as branches was about 7 ns slower per round trip.
   */
  #fastTransfer(op: number, ip: number, sp: number, steps: number, gasLeft: number): Moved {
    return op === (39 satisfies typeof Op.RETURN)
      ? this.#fastReturn(ip, sp, steps, gasLeft)
      : this.#fastCall(op === (38 satisfies typeof Op.CALLW), ip, sp, steps, gasLeft);
  }

  /** CALL (or CALLW, `withWord`) in one step; see `#fastTransfer`. */
  #fastCall(withWord: boolean, ip: number, sp: number, steps: number, gasLeft: number): Moved {
    const caller = this.domain!;
    const slots = caller.slots;
    const stack = this.stack;
    const b = sp - (withWord ? 3 : 2);
    if (b < 0) return Moved.no;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return Moved.no;
    const gate = slots[a0]!;
    if (gate.kind !== (4 satisfies typeof KeyKind.domain)) return Moved.no;
    const next = this.#targetOf(gate, this.#callTarget);
    if (next === undefined) return Moved.no;
    const ns = next.slots;
    if (ns[3 satisfies typeof DomainSlot.STATE]!.value !== (0 satisfies typeof DomainState.available))
      return Moved.no;
    const entry = this.#entryOf(next);
    if (entry === undefined) return Moved.no;
    const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
    const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
    if (
      ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
      spKey.kind !== (1 satisfies typeof KeyKind.number)
    )
      return Moved.no;
    const nextStack = entry.stack;
    let nsp = spKey.value;
    if (nsp < 0 || nsp > nextStack.size || (withWord && nsp >= nextStack.size)) return Moved.no;
    const message = this.#message(slots[a1]!);

    ns[9 satisfies typeof DomainSlot.RECV] = message;
    // The key this path left in the callee's RESUME slot, when it is still the only
    // copy (see `outsidePoint`), is renewed in place; otherwise a new one.
    const last = entry.resume;
    if (
      last === null ||
      entry.resumeAt !== outsidePoint ||
      ns[11 satisfies typeof DomainSlot.RESUME] !== last ||
      !this.store.renewResumeKey(last, caller)
    ) {
      const resume = this.store.resumeKey(caller);
      ns[11 satisfies typeof DomainSlot.RESUME] = resume;
      entry.resume = resume;
      entry.resumeAt = outsidePoint;
    }
    // The operands leave the stack (zeroed, as every popped word is) before any page is
    // written: the callee's stack may be the caller's.
    const word = withWord ? stack[b + 2]! : 0;
    stack[b] = 0;
    stack[b + 1] = 0;
    if (withWord) {
      stack[b + 2] = 0;
      // (Its POINTER slot is written when it leaves, as for any running domain.)
      if (nextStack.runCache !== undefined) nextStack.changes++;
      nextStack.words[nsp++] = word;
    }
    ns[3 satisfies typeof DomainSlot.STATE] = RUNNING;
    slots[3 satisfies typeof DomainSlot.STATE] = withWord ? WAITING_WORD : WAITING;
    slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip + 1);
    slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(b);
    return this.#enterNext(next, entry, ipKey.value, nsp, steps, gasLeft);
  }

  /** RETURN in one step; see `#fastTransfer`. */
  #fastReturn(ip: number, sp: number, steps: number, gasLeft: number): Moved {
    const me = this.domain!;
    const slots = me.slots;
    const stack = this.stack;
    const b = sp - 3;
    if (b < 0) return Moved.no;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return Moved.no;
    const resume = slots[a0]!;
    if (resume.kind !== (5 satisfies typeof KeyKind.resume)) return Moved.no;
    const next = this.#targetOf(resume, this.#returnTarget);
    if (next === undefined || next.resumeGen !== resume.value) return Moved.no;
    const ns = next.slots;
    const state = ns[3 satisfies typeof DomainSlot.STATE]!.value;
    const push = state === (6 satisfies typeof DomainState.waitingWord);
    if (state !== (2 satisfies typeof DomainState.waiting) && !push) return Moved.no;
    const entry = this.#entryOf(next);
    if (entry === undefined) return Moved.no;
    const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
    const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
    if (
      ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
      spKey.kind !== (1 satisfies typeof KeyKind.number)
    )
      return Moved.no;
    const nextStack = entry.stack;
    let nsp = spKey.value;
    if (nsp < 0 || nsp > nextStack.size || (push && nsp >= nextStack.size)) return Moved.no;
    const reply = this.#message(slots[a1]!);

    this.store.bumpResumeGen(next);
    // Generations start again from 0 once in 2^32, nulling keys all over the store.
    if (next.resumeGen === 0) storeMayChange();
    ns[9 satisfies typeof DomainSlot.RECV] = reply;
    const word = stack[b + 2]!;
    stack[b] = 0;
    stack[b + 1] = 0;
    stack[b + 2] = 0;
    if (push) {
      if (nextStack.runCache !== undefined) nextStack.changes++;
      nextStack.words[nsp++] = word;
    }
    ns[3 satisfies typeof DomainSlot.STATE] = RUNNING;
    slots[3 satisfies typeof DomainSlot.STATE] = AVAILABLE;
    slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip + 1);
    slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(b);
    return this.#enterNext(next, entry, ipKey.value, nsp, steps, gasLeft);
  }

  /** The message key in `key`'s slot as it reads now; a resume key sent on is a copy (see `outsidePoint`). */
  #message(key: Key): Key {
    const k = key.kind > (1 satisfies typeof KeyKind.number) ? this.store.normalize(key) : key;
    if (k.kind === (5 satisfies typeof KeyKind.resume)) storeMayChange();
    return k;
  }

  /**
   * Enter `next` (its `entry` checked by `#entryOf`) at (`ip`, `sp`) after a
   * one-step transfer: on the pending borrow when it runs on that meter, else
   * after paying for this one (the loop's counters `steps`, `gasLeft`) on a new one.
   * (`broken` stays null: a domain with a deferred fault has no code to fetch a
   * transfer from. `#activated` is only a hint, checked against the kernel's id.)
   */
  #enterNext(
    next: KeyPage,
    entry: DomainPages,
    ip: number,
    sp: number,
    steps: number,
    gasLeft: number,
  ): Moved {
    this.store.kernel.active = next.id;
    this.domain = next;
    this.ip = ip;
    this.sp = sp;
    const meter = entry.meter!;
    let moved: Moved = Moved.sameBorrow;
    if (meter !== this.meter) {
      this.lastSteps = steps;
      this.gasLeft = gasLeft;
      this.settle();
      this.#borrowFrom(meter);
      moved = Moved.newBorrow;
    }
    this.timeKey = entry.timeKey;
    this.#usePages(entry);
    return moved;
  }

  /**
   * The live domain a gate (CALL) or resume (RETURN) key designates, or undefined;
   * `c` remembers the last one with the store's epoch. Keys never change what they
   * designate (a renewed resume key keeps its domain), and while the epoch holds
   * nothing was severed or destroyed, so the same key object designates the same
   * live domain without looking it up again.
   */
  #targetOf(key: Key, c: TargetCache): KeyPage | undefined {
    return c.key === key && c.epoch === this.store.epoch ? c.domain! : this.#lookUpTarget(key, c);
  }

  /** `#targetOf` when the key is not the remembered one: look it up and remember it. */
  #lookUpTarget(key: Key, c: TargetCache): KeyPage | undefined {
    const epoch = this.store.epoch;
    const o = this.store.object(key.target);
    if (
      o === undefined ||
      o.version !== key.version ||
      o.kind !== (1 satisfies typeof ObjectKind.keyPage) ||
      o.isDomain !== true
    )
      return undefined;
    c.key = key;
    c.epoch = epoch;
    c.domain = o;
    return o;
  }
  readonly #callTarget: TargetCache = { key: null, epoch: -1, domain: null };
  readonly #returnTarget: TargetCache = { key: null, epoch: -1, domain: null };

  /**
   * `page`'s run-cache entry when it holds (the epoch and its CODE and STACK keys as
   * when it was made) and its TIME key designates a live time meter, or undefined.
   * Checked once per `outsidePoint`: in between, only one-step transfers change
   * domain pages, and never those slots, the epoch or a meter.
   */
  #entryOf(page: KeyPage): DomainPages | undefined {
    const e = page.runCache as DomainPages | undefined;
    return e === undefined || e.checkedAt === outsidePoint ? e : this.#checkEntry(page, e);
  }

  /** `#entryOf` for an entry not checked since the last point: check it now. */
  #checkEntry(page: KeyPage, e: DomainPages): DomainPages | undefined {
    if (cachedPages(page, this.store.epoch) !== e) return undefined;
    const timeKey = page.slots[0 satisfies typeof DomainSlot.TIME]!;
    if (timeKey.kind !== (6 satisfies typeof KeyKind.meter)) return undefined;
    const m = this.store.object(timeKey.target);
    if (
      m === undefined ||
      m.version !== timeKey.version ||
      m.kind !== (2 satisfies typeof ObjectKind.meter) ||
      m.resource !== (0 satisfies typeof Resource.time)
    )
      return undefined;
    e.timeKey = timeKey;
    e.meter = m;
    e.checkedAt = outsidePoint;
    return e;
  }

  /** The domain the kernel made active, when it is a running domain (`activate`'s page saves the lookup). */
  #runnableActive(): KeyPage | null {
    const id = this.store.kernel.active;
    if (id === 0) return null;
    const hint = this.#activated;
    const page = hint !== null && hint.id === id ? hint : this.store.object(id);
    return page?.kind === ObjectKind.keyPage &&
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

  /** Gas the heavy instruction `op` costs now: the table's, its size's, its meter chain's (`heavyCost`). */
  costOf(op: number): number {
    return heavyCost(this.store, this.domain, this.stack, this.sp, op, this.meter?.depth ?? 0);
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
    const stack = this.#stackOf(target, 'take the word');
    const sp = numberSlot(target, 6 satisfies typeof DomainSlot.POINTER);
    if (sp < 0 || sp >= stack.size) fail('stack-overflow', `domain #${target.id} has no room on its stack`);
    if (check) return;
    if (stack.runCache !== undefined) stack.changes++; // as in reloadPages: the page may run as code
    stack.words[sp] = word | 0;
    target.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(sp + 1);
  }

  /** The stack page of a domain about to be entered or handed a word; a fault names the domain and its slot. */
  #stackOf(target: KeyPage, why: string): DataPage {
    const key = target.slots[7 satisfies typeof DomainSlot.STACK]!;
    try {
      return this.store.dataPage(key, true);
    } catch (e) {
      if (!(e instanceof GuestFault) || e.wanted === undefined) throw e;
      throw new GuestFault(
        e.fault,
        `domain #${target.id} cannot ${why}: its slot 7 (STACK) holds ${describeKey(this.store, key)}; it needs ${e.wanted}`,
      );
    }
  }

  /** Slots of the running domain the current heavy instruction read (for fault messages). */
  readonly slotsRead: number[] = [];

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
