// The CPU's state: every field of the processor, declared here in one block, and
// the store's outside-point count. The layers above (compiled.ts, pages.ts,
// schedule.ts, transfer.ts, ../cpu.ts) add behaviour only; see the README's internals.
import type { DataPage, GuestFault, Key, KeyPage, Meter, Store } from '@keyvm/core';
import { NULL_KEY } from '@keyvm/core';
import type { DeviceHost } from '../devices.js';
import type { CompiledCode } from '../jit.js';
import type { PageViews } from '../page-views.js';
import type { StepHook } from '../types.js';
import { BORROW_LIMIT, EMPTY, MAX_OPERANDS, OUTPUT_LIMIT } from './constants.js';
import type { DomainPages } from './pages.js';

/** The domain a transfer key designated, and the store's epoch then (see `CpuTransfers.#callee`). */
export interface TargetCache {
  key: Key | null;
  epoch: number;
  domain: KeyPage | null;
}

/**
 * The processor's fields. All of them are here, so V8 gives every Cpu one shape
 * from its first field on, and the hot loop's loads stay monomorphic.
 */
export abstract class CpuState {
  // ---- the entered domain: registers and pages (cpu/pages.ts) ----------------------
  /** The entered (running) domain, or null between domains. */
  domain: KeyPage | null = null;
  /** Its instruction pointer (written to its IP slot when it leaves). */
  ip = 0;
  /** Its stack pointer, the words on its stack (written to its POINTER slot when it leaves). */
  sp = 0;
  /** Its code page's words. */
  code: Int32Array = EMPTY;
  /** Its stack page's words. */
  stack: Int32Array = EMPTY;
  /** Its code page (the page `compiled` is of). */
  codePage: DataPage | null = null;
  /** Its stack page (compiled code is never used for a code page that is also the stack). */
  stackPage: DataPage | null = null;
  /** A fault it takes at its next instruction: one completed but left it unable to go on (code, stack or meter gone). */
  broken: GuestFault | null = null;

  // ---- compiled code (cpu/compiled.ts) -------------------------------------------------
  /** The code page's compiled form (null when not compiled or the JIT is off). */
  compiled: CompiledCode | null = null;
  /** The code page's `changes` count when `compiled` was taken. */
  protected compiledAt = -1;
  /** Registers handed to compiled code: ip, sp, fuel, stack size, units that were no steps, unsettled gas (see `CompiledCode`). */
  protected readonly regs = new Int32Array(6);
  /** The entered domain's pages and keys as compiled code reaches them (set with its pages). */
  protected views: PageViews | null = null;

  // ---- gas and steps (cpu/pages.ts borrows and settles; ../cpu.ts counts) ------------
  /** The time meter the entered domain runs on (the pending borrow's), or null. */
  meter: Meter | null = null;
  /** The TIME key `meter` was read from. */
  timeKey: Key = NULL_KEY;
  /** Gas borrowed from `meter`'s chain and not yet settled. */
  budget = 0;
  /** What is left of the borrow. */
  gasLeft = 0;
  /** Gas settled since the machine last reset it (its per-run gasUsed). */
  spent = 0;
  /** Instructions completed by the last `execute`. */
  lastSteps = 0;

  // ---- the heavy instruction being executed (ops/*) ----------------------------------
  /** The operands it took off the stack, first pushed first (see `takeOperands`): a fault puts them back. */
  readonly operands = new Int32Array(MAX_OPERANDS);
  /** How many of `operands` it took. */
  taken = 0;
  /** Slots of the running domain it read (for fault messages). */
  readonly slotsRead: number[] = [];
  /** Set by a fault; read by the machine. */
  pendingFault: GuestFault | null = null;

  // ---- transfers and scheduling (cpu/transfer.ts, cpu/schedule.ts) -------------------
  /** The last domain a CALL's gate key designated, with the epoch. */
  protected readonly callTarget: TargetCache = { key: null, epoch: -1, domain: null };
  /** The last domain a RETURN's resume key designated, with the epoch. */
  protected readonly returnTarget: TargetCache = { key: null, epoch: -1, domain: null };
  /** Transfers `followTransfers` made after its first (each took TRANSFER_EXTRA units that are no steps). */
  protected followed = 0;
  /** Run-cache entries holding their domain's registers in a one-step conversation (see `CpuTransfers.#leave`). */
  protected readonly held: DomainPages[] = [];
  /** Run-cache entries holding their code page's compiled form in a one-step conversation (see `DomainPages.compiled`). */
  protected readonly holdingCode: DomainPages[] = [];
  /** Set when a one-step transfer settled the borrow and borrowed on the next domain's meter. */
  protected borrowed = false;
  /** The page `activate` was last given: the active domain, when its id is the kernel's. */
  protected activated: KeyPage | null = null;

  // ---- options (set by the machine; none changes results) ----------------------------
  /** Most gas borrowed at a time, a small integer (see BORROW_LIMIT). */
  borrowLimit = BORROW_LIMIT;
  /** Use compiled code for the inline instructions; 'eager' skips the warm-up. */
  jit: boolean | 'eager' = true;
  /** Take the one-step transfer path (tests turn it off to compare it with the general one). */
  fastTransfers = true;
  /** The step hook of the run in progress, when it has one (the machine calls it). */
  hook: StepHook | null = null;

  // ---- the host side (not part of the image) -------------------------------------------
  /** Host input waiting to be read by input devices. */
  readonly input: number[] = [];
  /** Console output when the host gives no writer, up to `outputLimit` characters. */
  output = '';
  /** Characters of console output dropped beyond `outputLimit`. */
  outputDropped = 0;
  /** Most characters kept in `output` (see OUTPUT_LIMIT). */
  outputLimit = OUTPUT_LIMIT;
  /** Replay cursors per device id, when replaying transcripts. */
  replay: Map<number, number> | null = null;

  constructor(
    /** The store the machine runs on (possibly shared with other machines). */
    readonly store: Store,
    /** The host's devices: console writer, clock. */
    readonly host: DeviceHost,
  ) {}

  /** Keep console output for a host without a writer; what does not fit is dropped and counted. */
  collectOutput(text: string): void {
    if (this.output.length + text.length <= this.outputLimit) this.output += text;
    else this.outputDropped += text.length;
  }

  /**
   * Something other than inline instructions and one-step transfers may change the
   * store from here: count a point in `Store.outsidePoint`. The points are every
   * entry into `execute` (the host ran before it), every heavy instruction and
   * general-path transfer, and every one-step transfer that copies a resume key
   * (sends it as its message). Between two points only those run, and they write
   * nothing but the STATE, IP, POINTER, RECV and RESUME slots of the two domains and
   * stack words. So within one point:
   * - a resume key the one-step CALL put in a callee's RESUME slot is the sole copy
   *   of itself, and the next one-step CALL into that callee renews it in place
   *   (`Store.renewResumeKey`) instead of making a new one: a young key stored into
   *   an old slot array costs V8 a remembered-set entry and a scavenge, about a
   *   fifth of a CALL + RETURN;
   * - a domain's run-cache entry, once checked (`CpuPages.entryOf`), still holds.
   * The count is the store's, so no machine can change a store that another machine
   * sharing it relies on within a point. (Counting is exact to 2^53; past that the
   * count is NaN, equal to nothing, so nothing is renewed or taken as checked any more.)
   */
  protected storeMayChange(): void {
    const store = this.store;
    const n = store.outsidePoint;
    store.outsidePoint = n < Number.MAX_SAFE_INTEGER ? n + 1 : Number.NaN;
  }
}
