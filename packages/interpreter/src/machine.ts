// The machine: boots a program into a root domain, runs and schedules domains,
// reports outcomes as results (never exceptions), and offers read-only views for
// debuggers. All persistent state lives in its Store, so an image is the store.
import {
  DOMAIN_SLOTS,
  DOMAIN_STATE_NAMES,
  DomainSlot,
  DomainState,
  GuestFault,
  type Key,
  KeyKind,
  type KeyPage,
  numberKey,
  ObjectKind,
  PageType,
  Store,
  UNLIMITED,
} from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import { BORROW_LIMIT, Stop } from './cpu/constants.js';
import { Cpu } from './cpu.js';
import { type DeviceHost, DeviceType } from './devices.js';
import { codeGenerationRefusal } from './jit.js';
import type { MachineApi } from './machine-api.js';
import type { FaultInfo, RunOptions, RunResult, RunStatus, StepHook, StepInfo } from './types.js';

/** A program to boot: code words and the initial contents of the data page. */
export interface Program {
  readonly code: ArrayLike<number>;
  readonly data?: ArrayLike<number>;
}

export interface MachineOptions {
  /** Host side of the devices (console writer, clock). */
  host?: DeviceHost;
  /** Answer device reads from the recorded transcripts first (bit-for-bit replay). */
  replay?: boolean;
  /**
   * Compile hot code pages to JavaScript (default true): a page is compiled once it
   * has run 4 x its size + 64 instructions since it last changed; 'eager' compiles at
   * first entry (for tests). false only interprets (no code is generated at all, as a
   * page with a strict Content Security Policy wants). Results are identical either way.
   * Where the platform refuses to compile code from strings, the machine interprets
   * instead: see `jitRefused` and `onJitRefused`.
   */
  jit?: boolean | 'eager';
  /**
   * Called once, from the constructor, when `jit` asked for the JIT and the platform
   * refuses to compile code from strings (a CSP without 'unsafe-eval'): the machine
   * interprets everything instead, with identical results. The error is the
   * platform's (an EvalError in browsers). Also kept as `machine.jitRefused`.
   */
  onJitRefused?: (error: Error) => void;
  /**
   * Make common CALL, CALLW and RETURN transfers in one step (default true); false
   * sends every transfer through the general path, for comparing the two. Results
   * are identical either way.
   */
  fastTransfers?: boolean;
  /**
   * Most gas the interpreter borrows from a meter chain at a time (default and
   * largest 2^30). A borrow that runs out while the meters still have gas is
   * borrowed again, so results are identical for every limit; small limits only
   * make it borrow more often (tests use them to check that).
   */
  borrowLimit?: number;
  /**
   * Most console output kept in `output` when `host.write` is not given (default
   * `OUTPUT_LIMIT`, 16 Mi characters); more is dropped and counted in `outputDropped`.
   */
  outputLimit?: number;
}

export interface BootOptions extends MachineOptions {
  /** Prime time meter (gas); unlimited by default. */
  time?: number;
  /** Prime memory meter, in words; unlimited by default. */
  memory?: number;
  /** Stack page size in words (KeyVM's 256 by default). */
  stackSize?: number;
  /** Data page size in words (KeyVM's 256 by default, or more to hold the initial data). */
  dataSize?: number;
  /** Instructions a domain runs before the next runnable domain gets a turn. */
  quantum?: number;
  /** Hand the root domain console, input and clock keys (slots 12, 13, 14). Default true. */
  devices?: boolean;
  /** Words on the root domain's stack at boot, bottom first (evaluate's arguments). */
  stack?: ArrayLike<number>;
}

/** Where boot puts the device keys in the root domain. */
export const BootSlot = Object.freeze({ console: 12, input: 13, clock: 14 } as const);

export const DEFAULTS = Object.freeze({ stackSize: 256, dataSize: 256, quantum: 10_000 });

/** A usage error of the machine API (bad options, a program that cannot boot). */
export class MachineError extends Error {
  override readonly name = 'MachineError';
}

/** A read-only view of one page (a copy). */
export type PageView =
  | {
      readonly kind: 'data';
      readonly id: number;
      readonly version: number;
      readonly words: readonly number[];
    }
  | {
      readonly kind: 'keys';
      readonly id: number;
      readonly version: number;
      readonly isDomain: boolean;
      readonly slots: readonly Key[];
    };

/** A read-only view of one domain. */
export interface DomainView {
  readonly id: number;
  readonly state: number;
  readonly stateName: string;
  readonly ip: number;
  readonly sp: number;
  readonly slots: readonly Key[];
}

/** A domain page's STATE, or undefined for no page. */
const stateOf = (page: KeyPage | undefined): number | undefined => page?.slots[DomainSlot.STATE]?.value;

const wholeAtLeast = (n: number, min: number, what: string): number => {
  if (!Number.isSafeInteger(n) || n < min)
    throw new MachineError(`${what} must be a whole number >= ${min}, got ${n}`);
  return n;
};

/**
 * A tiny machine, booted and run once, that lives as long as the process: it keeps one
 * object of each of the engine's classes (Store, pages, meters, keys, Cpu, PageViews,
 * run caches) alive, and with it their V8 hidden classes (maps). A map whose objects
 * have all died is collected at the next full GC (map transitions are weak), and
 * optimised code that checks it is thrown away ("marked for deoptimization, reason:
 * weak objects"): without a keeper, the shared compiled code of a program that every
 * finished machine ran lost its optimised code at every major GC, and the first run
 * after one ran unoptimised (the sieve bench's first run after `gc()`: 1.5-2.3x the
 * steady state). About a kilobyte; undefined until the first machine is made.
 */
let shapeKeeper: Machine | null | undefined;

function keepShapes(): void {
  if (shapeKeeper !== undefined) return;
  shapeKeeper = null; // the keeper's own constructor comes back here
  const { PUSH, PAGEREAD, PAGEWRITE, KEYTYPE, HALT } = Op;
  // Reads and writes its data page through a slot and asks a key's type: page views made.
  const code = [PUSH, 8, PUSH, 0, PAGEREAD, PUSH, 8, PUSH, 0, PAGEWRITE, PUSH, 8, KEYTYPE, HALT];
  const keeper = Machine.boot({ code }, { devices: false, jit: false, stackSize: 4, dataSize: 1 });
  keeper.run();
  shapeKeeper = keeper;
}

export class Machine implements MachineApi {
  readonly store: Store;
  /**
   * Why the JIT is off although the options asked for it: the platform's refusal to
   * compile code from strings (see `onJitRefused`); undefined when it runs as asked.
   */
  readonly jitRefused: Error | undefined;
  readonly #cpu: Cpu;

  /** Wrap a store (a booted machine or a decoded image). */
  constructor(store: Store, options: MachineOptions = {}) {
    this.store = store;
    this.#cpu = new Cpu(store, options.host ?? {});
    if (options.replay) this.#cpu.replay = new Map();
    const jit = options.jit ?? true;
    this.jitRefused = jit === false ? undefined : codeGenerationRefusal();
    this.#cpu.jit = this.jitRefused === undefined ? jit : false;
    this.#cpu.fastTransfers = options.fastTransfers ?? true;
    if (options.borrowLimit !== undefined) {
      const limit = wholeAtLeast(options.borrowLimit, 1, 'borrow limit');
      if (limit > BORROW_LIMIT) throw new MachineError(`borrow limit ${limit} is above ${BORROW_LIMIT}`);
      this.#cpu.borrowLimit = limit;
    }
    if (options.outputLimit !== undefined)
      this.#cpu.outputLimit = wholeAtLeast(options.outputLimit, 0, 'output limit');
    const k = store.kernel;
    if (!Number.isSafeInteger(k.quantum) || k.quantum < 1)
      throw new MachineError(`kernel quantum ${k.quantum} must be a whole number >= 1`);
    for (const id of [k.root, k.active, ...k.runQueue]) {
      if (id !== 0 && !this.#domainPage(id))
        throw new MachineError(`kernel refers to #${id}, which is not a domain`);
    }
    if (this.jitRefused !== undefined) options.onJitRefused?.(this.jitRefused);
    keepShapes();
  }

  /** Boot `program` into a fresh machine: one root domain with code, stack and data pages. */
  static boot(program: Program, options: BootOptions = {}): Machine {
    const initialStack = Int32Array.from(options.stack ?? []);
    const stackSize = Math.max(
      wholeAtLeast(options.stackSize ?? DEFAULTS.stackSize, 1, 'stack size'),
      initialStack.length,
    );
    const data = Int32Array.from(program.data ?? []);
    const dataSize = Math.max(
      wholeAtLeast(options.dataSize ?? DEFAULTS.dataSize, 0, 'data size'),
      data.length,
    );
    const quantum = wholeAtLeast(options.quantum ?? DEFAULTS.quantum, 1, 'quantum');
    const time = options.time ?? UNLIMITED;
    const memory = options.memory ?? UNLIMITED;
    if (time !== UNLIMITED) wholeAtLeast(time, 0, 'gas');
    if (memory !== UNLIMITED) wholeAtLeast(memory, 0, 'memory');
    const code = Int32Array.from(program.code);
    const store = new Store({ time, memory });
    const mem = store.meterKey(store.primeMemory, false);
    let domainKey: Key;
    try {
      const codeKey = store.createPage(PageType.data, mem, code.length);
      store.dataPage(codeKey, true).words.set(code);
      const stackKey = store.createPage(PageType.data, mem, stackSize);
      store.dataPage(stackKey, true).words.set(initialStack);
      const dataKey = store.createPage(PageType.data, mem, dataSize);
      store.dataPage(dataKey, true).words.set(data);
      domainKey = store.createPage(PageType.keys, mem, DOMAIN_SLOTS);
      const slots = store.keyPage(domainKey, true).slots;
      slots[DomainSlot.TIME] = store.meterKey(store.primeTime, false);
      slots[DomainSlot.MEMORY] = mem;
      slots[DomainSlot.CODE] = codeKey;
      slots[DomainSlot.STACK] = stackKey;
      slots[DomainSlot.DATA] = dataKey;
      if (options.devices ?? true) {
        slots[BootSlot.console] = store.createDevice(DeviceType.console, mem);
        slots[BootSlot.input] = store.createDevice(DeviceType.input, mem);
        slots[BootSlot.clock] = store.createDevice(DeviceType.clock, mem);
      }
      store.makeDomain(domainKey);
    } catch (e) {
      if (e instanceof GuestFault) throw new MachineError(`cannot boot: ${e.message}`);
      throw e;
    }
    const root = store.keyPage(domainKey, false);
    root.slots[DomainSlot.STATE] = numberKey(DomainState.running);
    root.slots[DomainSlot.POINTER] = numberKey(initialStack.length);
    const k = store.kernel;
    k.root = k.active = root.id;
    k.quantum = k.sliceLeft = quantum;
    const machineOptions: MachineOptions = {};
    if (options.host) machineOptions.host = options.host;
    if (options.replay) machineOptions.replay = options.replay;
    if (options.jit !== undefined) machineOptions.jit = options.jit;
    if (options.onJitRefused !== undefined) machineOptions.onJitRefused = options.onJitRefused;
    if (options.fastTransfers !== undefined) machineOptions.fastTransfers = options.fastTransfers;
    if (options.borrowLimit !== undefined) machineOptions.borrowLimit = options.borrowLimit;
    if (options.outputLimit !== undefined) machineOptions.outputLimit = options.outputLimit;
    return new Machine(store, machineOptions);
  }

  // ---- host side ------------------------------------------------------------------

  /** Console output collected when the host gives no writer. */
  get output(): string {
    return this.#cpu.output;
  }

  /** Characters of console output dropped because `output` reached its cap (`OUTPUT_LIMIT`). */
  get outputDropped(): number {
    return this.#cpu.outputDropped;
  }

  /** Queue words for input devices; blocked readers become runnable. */
  provideInput(words: Iterable<number>): void {
    for (const w of words) this.#cpu.input.push(w | 0);
  }

  /**
   * Host input queued by `provideInput` that no input device has read yet, oldest
   * first (a copy). Not part of the image: a debugger that restores a checkpoint
   * hands it back with `provideInput`.
   */
  get pendingInput(): number[] {
    return [...this.#cpu.input];
  }

  /** Called before every instruction while set; costs one check per run chunk when unset. */
  get onStep(): StepHook | null {
    return this.#cpu.hook;
  }
  set onStep(hook: StepHook | null) {
    this.#cpu.hook = hook;
  }

  /**
   * How much of the stack a step record copies: all of it (the default), or, when a
   * whole number N, its bottom N and top N words (StepInfo.stackOmitted counts the
   * rest), so tracing a deep stack costs O(N) per step, not O(depth).
   */
  stepStackEnds: number = Number.POSITIVE_INFINITY;

  // ---- running ----------------------------------------------------------------------

  /** Execute one instruction. */
  step(): RunResult {
    return this.run({ maxSteps: 1 });
  }

  /**
   * Run until the machine halts, faults without a keeper, runs out of gas, waits
   * for input, or `maxSteps` instructions have run ('paused'). With `gas`, the prime
   * time meter is first set to that budget.
   */
  run(options: RunOptions = {}): RunResult {
    const cpu = this.#cpu;
    const store = this.store;
    const k = store.kernel;
    if (options.gas !== undefined) store.primeTime.remaining = wholeAtLeast(options.gas, 0, 'gas');
    const maxSteps =
      options.maxSteps === undefined
        ? Number.POSITIVE_INFINITY
        : wholeAtLeast(options.maxSteps, 0, 'maxSteps');
    cpu.spent = 0;
    let steps = 0;
    this.#compactQueue();
    // A fault no keeper took stays reported until some domain can run (not one blocked on input).
    if (k.active !== 0 || this.#hasRunnable()) k.faultCode = k.faultPc = k.faultDomain = 0;
    const result = (status: RunStatus, fault?: FaultInfo): RunResult => {
      cpu.leave();
      this.#compactQueue();
      return fault ? { status, steps, gasUsed: cpu.spent, fault } : { status, steps, gasUsed: cpu.spent };
    };
    const faulted = (f: GuestFault): RunResult | null => {
      const page = cpu.domain!;
      const pc = cpu.ip;
      if (cpu.handleFault(f)) return null;
      return result('fault', cpu.faultInfo(f, pc, page.id));
    };

    // Set when only the borrow ran out before an instruction: the hook saw it already.
    let hooked = false;
    for (;;) {
      if (cpu.domain === null) {
        const next = this.#pickNext();
        if (next === null) {
          if (k.faultCode !== 0) {
            const f = new GuestFault(Cpu.faultNameOf(k.faultCode), 'the machine stopped on this fault');
            return result('fault', cpu.faultInfo(f, k.faultPc, k.faultDomain));
          }
          if (k.runQueue.length > this.#queue.taken) return result('waiting');
          return result('halted');
        }
        try {
          cpu.enter(next);
        } catch (e) {
          if (!(e instanceof GuestFault)) throw e;
          const r = faulted(e);
          if (r) return r;
          continue;
        }
      }
      if (steps >= maxSteps) return result('paused');
      // A domain its last instruction left unable to run faults now, as entering it
      // would (before any time-slice bookkeeping), so stepping and running agree.
      if (cpu.broken !== null) {
        const r = faulted(cpu.broken);
        if (r) return r;
        continue;
      }
      if (k.sliceLeft <= 0) {
        k.sliceLeft = k.quantum;
        if (this.#hasRunnable()) {
          const me = cpu.domain!;
          cpu.leave();
          k.runQueue.push(me.id);
          k.active = 0;
          continue;
        }
      }
      let limit = Math.min(maxSteps - steps, k.sliceLeft);
      if (cpu.hook !== null) {
        limit = 1;
        const info = hooked ? undefined : this.#stepInfo();
        this.#compactQueue(); // the hook may look at the kernel record
        if (info) cpu.hook(info);
      }
      hooked = false;
      let stop = cpu.execute(limit);
      // Running off the code costs nothing: out of gas exactly there is the end.
      if (stop === Stop.gas && cpu.code[cpu.ip] === undefined) stop = Stop.offEnd;
      const n = cpu.lastSteps;
      steps += n;
      k.steps = Math.min(k.steps + n, Number.MAX_SAFE_INTEGER); // saturates: stays encodable
      k.sliceLeft -= n;
      switch (stop) {
        case Stop.steps:
        case Stop.switched:
          break;
        case Stop.offEnd:
          if (cpu.broken) {
            const r = faulted(cpu.broken);
            if (r) return r;
          } else {
            cpu.halt();
          }
          break;
        case Stop.gas: {
          const outcome = cpu.handleExhaustion();
          if (outcome === 'borrowed') {
            hooked = true;
            break;
          }
          if (outcome === 'stop') return result('out-of-gas');
          if (outcome !== 'keeper') {
            const r = faulted(outcome);
            if (r) return r;
          }
          break;
        }
        case Stop.fault: {
          const f = cpu.pendingFault!;
          cpu.pendingFault = null;
          const r = faulted(f);
          if (r) return r;
          break;
        }
      }
    }
  }

  /** The domain to run next, or null when nothing is runnable. */
  #pickNext(): KeyPage | null {
    const k = this.store.kernel;
    if (k.active !== 0) {
      const page = this.#domainPage(k.active);
      if (page && page.slots[DomainSlot.STATE]!.value === DomainState.running) return page;
      k.active = 0;
    }
    const q = k.runQueue;
    const view = this.#queue;
    for (let i = this.#scanStart(q); i < q.length; ) {
      const page = this.#domainPage(q[i]!);
      const state = stateOf(page);
      if (page && state === DomainState.blocked && this.#inputReady(page))
        page.slots[DomainSlot.STATE] = numberKey(DomainState.running);
      if (page && page.slots[DomainSlot.STATE]!.value === DomainState.running) {
        this.#take(q, i);
        k.active = page.id;
        // A domain taken from the queue starts a time slice of its own.
        k.sliceLeft = k.quantum;
        return page;
      }
      if (page && state === DomainState.blocked) {
        if (i === view.taken + view.blocked) view.blocked++;
        i++;
      } else i = this.#take(q, i);
    }
    return null;
  }

  /**
   * A transient view of the run queue (not state) that keeps scheduling O(1) per
   * pick however many domains are queued:
   * - `taken` leading entries were picked already and are only dropped from the
   *   array in bulk (before a hook or the caller can look, or once they are half
   *   of it), instead of shifting the whole array at every pick;
   * - after them, `blocked` entries are known to be domains blocked on input.
   *   While no input is queued (and nothing is replayed) they stay blocked: only
   *   picking takes entries out, after them, and nothing else can wake or destroy
   *   a blocked domain. So scans start after them.
   * Without it, a guest with many blocked or yielding domains made every YIELD
   * cost O(n) host time for one unit of gas.
   */
  readonly #queue = { array: null as number[] | null, taken: 0, blocked: 0 };

  /** Where a scan of the run queue `q` starts. */
  #scanStart(q: number[]): number {
    const cpu = this.#cpu;
    const view = this.#queue;
    if (view.array !== q) {
      view.array = q;
      view.taken = view.blocked = 0;
    }
    if (cpu.input.length > 0 || cpu.replay !== null) view.blocked = 0;
    return view.taken + view.blocked;
  }

  /**
   * Take entry `i` out of the run queue `q` (a scan began with `#scanStart(q)`);
   * returns the index of the entry that followed it, where the scan goes on.
   */
  #take(q: number[], i: number): number {
    const view = this.#queue;
    if (i !== view.taken) {
      q.splice(i, 1);
      return i;
    }
    view.taken++;
    if (view.taken >= 1024 && 2 * view.taken >= q.length) {
      const dropped = view.taken;
      this.#compactQueue();
      return i + 1 - dropped;
    }
    return i + 1;
  }

  /** Drop the picked entries from the array, so the kernel record reads as the queue. */
  #compactQueue(): void {
    const view = this.#queue;
    if (view.taken === 0) return;
    if (view.array === this.store.kernel.runQueue) view.array.splice(0, view.taken);
    view.taken = 0;
  }

  /**
   * Whether the blocked domain `page` may retry its input read: there is host input,
   * or (replaying) its device's transcript still holds words to replay. The device
   * is the one its pending DEVICE names; when that cannot be read back, let it retry.
   */
  #inputReady(page: KeyPage): boolean {
    const cpu = this.#cpu;
    if (cpu.input.length > 0) return true;
    if (cpu.replay === null) return false;
    const stack = this.store.deref(page.slots[DomainSlot.STACK]!);
    const sp = page.slots[DomainSlot.POINTER]!.value;
    if (stack?.kind !== ObjectKind.dataPage || sp < 3 || sp > stack.size) return true;
    const slot = stack.words[sp - 3]!;
    const device = slot >= 0 && slot < page.size ? this.store.deref(page.slots[slot]!) : undefined;
    if (device?.kind !== ObjectKind.device) return true;
    return (cpu.replay.get(device.id) ?? 0) < device.transcript.length;
  }

  #hasRunnable(): boolean {
    const q = this.store.kernel.runQueue;
    const view = this.#queue;
    for (let i = this.#scanStart(q); i < q.length; ) {
      const page = this.#domainPage(q[i]!);
      const st = stateOf(page);
      if (st === DomainState.running || (st === DomainState.blocked && this.#inputReady(page!))) return true;
      // A halted domain, or an id that is no domain, stays so for good and picking would
      // only drop it: drop it now, so a queue full of them (an image can hold one) is
      // not scanned again at every time slice.
      if (i === view.taken && (page === undefined || st === DomainState.halted)) i = this.#take(q, i);
      else i++;
    }
    return false;
  }

  #domainPage(id: number): KeyPage | undefined {
    const o = this.store.object(id);
    return o?.kind === ObjectKind.keyPage && o.isDomain ? o : undefined;
  }

  #stepInfo(): StepInfo | undefined {
    const cpu = this.#cpu;
    const op = cpu.code[cpu.ip];
    if (op === undefined || cpu.domain === null) return undefined;
    const row = INSTRUCTIONS[op];
    const sp = cpu.sp;
    const ends = this.stepStackEnds;
    const whole = !(sp > 2 * ends);
    const stack = whole
      ? Array.from(cpu.stack.subarray(0, sp))
      : [...cpu.stack.subarray(0, ends), ...cpu.stack.subarray(sp - ends, sp)];
    return {
      pc: cpu.ip,
      op,
      opName: row?.name ?? `?${op}`,
      gas: cpu.gasAvailable(),
      gasCost: row === undefined ? 0 : cpu.costAtIp(),
      stack,
      sp,
      stackOmitted: whole ? 0 : sp - 2 * ends,
      depth: this.callDepth(cpu.domain.id),
      domain: cpu.domain.id,
    };
  }

  // ---- read-only views ------------------------------------------------------------------

  /** Key page id of the root domain. */
  get rootDomain(): number {
    return this.store.kernel.root;
  }

  /** A domain's stack, bottom first (the root's by default). */
  stack(domainId: number = this.store.kernel.root): number[] {
    const cpu = this.#cpu;
    if (cpu.domain?.id === domainId) return Array.from(cpu.stack.subarray(0, cpu.sp));
    const d = this.domain(domainId);
    const key = d.slots[DomainSlot.STACK]!;
    const page = this.store.deref(key);
    if (page?.kind !== ObjectKind.dataPage) return [];
    return Array.from(page.words.subarray(0, Math.max(0, Math.min(d.sp, page.size))));
  }

  /** A view of one domain; throws MachineError when `id` is not a domain. */
  domain(id: number): DomainView {
    const page = this.#domainPage(id);
    if (!page) throw new MachineError(`#${id} is not a domain`);
    const num = (slot: number): number => {
      const key = page.slots[slot]!;
      return key.kind === KeyKind.number ? key.value : 0;
    };
    const running = this.#cpu.domain === page;
    const state = num(DomainSlot.STATE);
    return {
      id,
      state,
      stateName: DOMAIN_STATE_NAMES[state] ?? `state ${state}`,
      ip: running ? this.#cpu.ip : num(DomainSlot.IP),
      sp: running ? this.#cpu.sp : num(DomainSlot.POINTER),
      slots: page.slots.map((key) => this.store.normalize(key)),
    };
  }

  /**
   * A read-only view of any object by id, for debuggers: a data page's words or a
   * key page's keys (as they read now), or undefined when there is no such page.
   * Copies: changing what it returns changes nothing in the machine.
   */
  page(id: number): PageView | undefined {
    const o = this.store.object(id);
    if (o === undefined) return undefined;
    if (o.kind === ObjectKind.dataPage) {
      return { kind: 'data', id, version: o.version, words: Array.from(o.words) };
    }
    if (o.kind === ObjectKind.keyPage) {
      const running = this.#cpu.domain === o;
      const slots = o.slots.map((key, slot) => {
        if (running && slot === DomainSlot.IP) return numberKey(this.#cpu.ip);
        if (running && slot === DomainSlot.POINTER) return numberKey(this.#cpu.sp);
        return this.store.normalize(key);
      });
      return { kind: 'keys', id, version: o.version, isDomain: o.isDomain, slots };
    }
    return undefined;
  }

  /** Every domain, in id order. */
  domains(): DomainView[] {
    const out: DomainView[] = [];
    for (const o of this.store.objects())
      if (o.kind === ObjectKind.keyPage && o.isDomain) out.push(this.domain(o.id));
    return out;
  }

  /** 1 plus the number of callers waiting behind a domain (through RESUME slots). */
  callDepth(domainId: number): number {
    let depth = 1;
    let page = this.#domainPage(domainId);
    const seen = new Set<number>();
    while (page && !seen.has(page.id)) {
      seen.add(page.id);
      const resume = this.store.normalize(page.slots[DomainSlot.RESUME]!);
      if (resume.kind !== KeyKind.resume) break;
      page = this.#domainPage(resume.target);
      const st = stateOf(page);
      if (st !== DomainState.waiting && st !== DomainState.waitingWord) break;
      depth++;
    }
    return depth;
  }
}
