// Entering a domain: its registers, its time meter (borrowing and settling gas) and
// its resolved CODE and STACK pages, kept per domain in its page's run cache.
//
// Code on the domain-switch path writes layout numbers as literals checked with
// `satisfies` (`slots[3 satisfies typeof DomainSlot.STATE]`), as the loop's case
// labels do: in V8 each use of an imported frozen constant costs several dependent
// loads, which measurably slowed CALL + RETURN.
import {
  type DataPage,
  DomainSlot,
  fail,
  GuestFault,
  type Key,
  KeyKind,
  type KeyPage,
  type Meter,
  NULL_KEY,
  ObjectKind,
  Resource,
} from '@keyvm/core';
import { type CompiledCode, compiledNow } from '../jit.js';
import { describeKey } from '../ops/describe.js';
import { PageViews } from '../page-views.js';
import { CpuCompiled } from './compiled.js';
import { EMPTY, numberSlot } from './constants.js';

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
export interface DomainPages {
  /** The domain whose entry this is. */
  readonly domain: KeyPage;
  readonly epoch: number;
  readonly codeKey: Key;
  readonly stackKey: Key;
  readonly code: DataPage;
  readonly stack: DataPage;
  /** The pages and keys compiled code and the loop reach through the domain's slots (made with the entry). */
  readonly views: PageViews;
  /**
   * The resume key the transfer path last put in this domain's RESUME slot, and
   * `Store.outsidePoint` then: while that has not moved, the slot holds the key's only
   * reference and the next one-step CALL into the domain renews it in place.
   */
  resume: Key | null;
  resumeAt: number;
  /** The TIME key and the live time meter it designated at `Store.outsidePoint` `checkedAt` (see `CpuPages.entryOf`). */
  timeKey: Key;
  meter: Meter | null;
  checkedAt: number;
  /**
   * The gate key this domain last CALLed through and the id of the live domain it
   * designated, at `Store.outsidePoint` `callAt`; the resume key it last RETURNed
   * through and its domain's id, at `returnAt` (see `CpuTransfers.#callee`,
   * `#caller`). Each domain keeps its own, so a chain of any length finds its
   * neighbours without checking the key. Ids, not objects: an entry keeps no other
   * domain's page or entry alive once that domain is destroyed (ids are never reused).
   */
  callKey: Key | null;
  callId: number;
  callAt: number;
  returnKey: Key | null;
  returnId: number;
  returnAt: number;
  /**
   * The domain's registers, when they are here rather than in its IP and POINTER
   * slots (else `ip` is -1): only while the one-step path's conversation that it
   * left goes on (see `CpuTransfers.#leave`); written to the slots before the
   * conversation ends, so never held outside it.
   */
  ip: number;
  sp: number;
  /**
   * The state the domain left in (AVAILABLE, WAITING or WAITING_WORD), when that is
   * not yet in its STATE slot, else -1: held like its registers, but only until it
   * is entered again (the one-step path then writes RUNNING to the slot, where the
   * running domain's compiled code may read it).
   */
  state: number;
  /**
   * The code page's compiled form the one-step path took for this domain in the
   * conversation going on, and the page's `changes` count then (-1: none): while the
   * count is the same, so is the compiled form (`compiledNow`; dropping one moves
   * the count on). Never taken for a code page that is also the stack (its count
   * moves at every entry). Let go when the conversation ends (`CpuState.holdingCode`),
   * so compiled code stays reachable only through its page and the CPU, and what
   * JIT_CACHE_WORDS drops is freed.
   */
  compiled: CompiledCode | null;
  compiledAt: number;
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

export abstract class CpuPages extends CpuCompiled {
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
    if (this.onBorrow(key)) {
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
    this.borrowFrom(meter);
  }

  /** Borrow the smallest budget along `meter`'s chain, up to the limit or `atLeast` (nothing is pending). */
  protected borrowFrom(meter: Meter, atLeast = 0): void {
    this.meter = meter;
    this.budget = Math.min(this.store.available(meter), Math.max(this.borrowLimit, atLeast));
    this.gasLeft = this.budget;
  }

  /** Whether the TIME key `key` designates the live meter of the pending borrow. */
  protected onBorrow(key: Key): boolean {
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
    this.usePages(pages);
  }

  /** Run on the entered domain's resolved pages: its code (compiled, if it is) and its stack. */
  protected usePages(pages: DomainPages): void {
    const code = pages.code;
    const stack = pages.stack;
    // Stack words are written outside the store. A page that also runs as code (it
    // has a run cache) counts a change, so code compiled from it is dropped.
    if (stack.runCache !== undefined) stack.changes++;
    this.code = code.words;
    this.stack = stack.words;
    this.views = pages.views;
    if (code !== this.codePage || code.changes !== this.compiledAt || stack !== this.stackPage) {
      this.stackPage = stack;
      // The code page's compiled form when it has one now: switching back and forth
      // need not go through the warm-up count each time (about a tenth of a round trip).
      const fn = this.jit !== false && code !== stack ? compiledNow(code) : null;
      if (fn !== null) {
        this.codePage = code;
        this.compiledAt = code.changes;
        this.compiled = fn;
      } else this.compile(code);
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
    const stack = this.stackOf(page, 'run');
    return {
      domain: page,
      epoch,
      codeKey,
      stackKey,
      code,
      stack,
      views: new PageViews(this.store, page, code, stack),
      resume: null,
      resumeAt: -1,
      timeKey: NULL_KEY,
      meter: null,
      checkedAt: -1,
      callKey: null,
      callId: 0,
      callAt: -1,
      returnKey: null,
      returnId: 0,
      returnAt: -1,
      state: -1,
      ip: -1,
      sp: 0,
      compiled: null,
      compiledAt: -1,
    };
  }

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
   * `page`'s run-cache entry when it holds (the epoch and its CODE and STACK keys as
   * when it was made) and its TIME key designates a live time meter, or undefined.
   * Checked once per `Store.outsidePoint` point (`CpuState.storeMayChange`): in between, only one-step transfers change
   * domain pages, and never those slots, the epoch or a meter.
   */
  protected entryOf(page: KeyPage): DomainPages | undefined {
    const e = page.runCache as DomainPages | undefined;
    return e === undefined || e.checkedAt === this.store.outsidePoint ? e : this.#checkEntry(page, e);
  }

  /** `entryOf` for an entry not checked since the last point: check it now. */
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
    e.checkedAt = this.store.outsidePoint;
    return e;
  }

  /** The stack page of a domain about to be entered or handed a word; a fault names the domain and its slot. */
  protected stackOf(target: KeyPage, why: string): DataPage {
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
}
