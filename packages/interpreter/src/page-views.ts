// What compiled code reaches through the running domain's slots without leaving it:
// the data pages behind its page keys (resolved once, kept while they hold) and its
// number keys and key kinds, the number keys NUMKEY puts in its general slots, and
// what METERREAD reads. Every answer either is exactly what the interpreter's handler
// would use, or says "not here" and the instruction goes to the interpreter.
import type {
  DataPage,
  DomainSlot,
  Key,
  KeyKind,
  KeyPage,
  Meter,
  ObjectKind,
  Resource,
  Store,
} from '@keyvm/core';
import { numberKey, SPECIAL_SLOTS, UNLIMITED } from '@keyvm/core';
import { Op } from '@keyvm/isa';
import { heavyCost } from './ops/cost.js';

/**
 * Slots whose resolution is remembered. Above them a page is resolved at each use
 * (still O(1)): what a guest can make the host keep stays small.
 */
const REMEMBERED_SLOTS = 64;

/** No operands: METERREAD's gas depends on its meter chain only (`heavyCost`). */
const NO_WORDS = new Int32Array(0);

/** What `meterRead` answers when the interpreter must run the instruction (no reading is negative but -1). */
export const METER_REFUSED = -2;

/**
 * The pages compiled code may read or write through one domain's slots. A slot's
 * page is resolved at its first use and kept while the store's epoch is the one it
 * was resolved in (a resize, sever or destroy anywhere moves it on) and the slot
 * still holds the same key object (keys are immutable, so any COPYKEY, ATTENUATE,
 * CREATEPAGE, NUMKEY or transfer into the slot puts another one there). Compiled
 * code asks once per entry for each slot it uses: nothing between its instructions
 * can change a slot, the epoch or whether a page runs as code.
 *
 * Refused (null: the interpreter runs the access, faults included): slots outside
 * the domain, keys that are not live page keys, key pages, and the domain's stack
 * page (compiled code keeps stack words in temporaries). Writes are also refused
 * through a read-only key and to a page that runs as code anywhere (it has a run
 * cache: the store's write counts a change, so compiled code from it is dropped).
 */
export class PageViews {
  #epoch: number;
  /** The TIME key `#cost` was found for, and METERREAD's gas on its meter (Infinity: no live time meter). */
  #timeKey: Key | undefined = undefined;
  #timeMeter: Meter | null = null;
  #cost = Number.POSITIVE_INFINITY;
  /** The key each remembered slot held when resolved, and the page it resolved to. */
  readonly #keys: (Key | undefined)[] = [];
  readonly #pages: (DataPage | null)[] = [];

  constructor(
    readonly store: Store,
    readonly domain: KeyPage,
    /** The domain's code page: readable, never writable from compiled code. */
    readonly code: DataPage,
    /** The domain's stack page: never reached through a view. */
    readonly stack: DataPage,
  ) {
    this.#epoch = store.epoch;
  }

  /** The words PAGEREAD and PAGESIZEGET may use through `slot`, or null. */
  read(slot: number): Int32Array | null {
    const page = this.#page(slot);
    return page === null ? null : page.words;
  }

  /** The words PAGEWRITE may write through `slot`, or null. */
  write(slot: number): Int32Array | null {
    const page = this.#page(slot);
    return page !== null &&
      this.domain.slots[slot]!.kind === (2 satisfies typeof KeyKind.page) &&
      page !== this.code &&
      page.runCache === undefined
      ? page.words
      : null;
  }

  /** KEYTYPE's answer for `slot` (a void key reads as null), or -1: the interpreter runs it. */
  keyType(slot: number): number {
    const slots = this.domain.slots;
    if (!(slot >= 0 && slot < slots.length)) return -1;
    // IP and POINTER read the registers, as number keys, whatever their slots hold now.
    if (slot === 4 || slot === 6) return 1 satisfies typeof KeyKind.number;
    const key = slots[slot]!;
    return key.kind <= (1 satisfies typeof KeyKind.number) ? key.kind : this.store.normalize(key).kind;
  }

  /** The number key KEYNUM reads in `slot`, or null: the interpreter runs it (and faults, or reads a register). */
  numberKey(slot: number): Key | null {
    const slots = this.domain.slots;
    if (!(slot >= 0 && slot < slots.length) || slot === 4 || slot === 6) return null;
    const key = slots[slot]!;
    return key.kind === (1 satisfies typeof KeyKind.number) ? key : null;
  }

  /**
   * NUMKEY `slot word`: puts the number key carrying `word` into `slot` and says true,
   * or says false and changes nothing (the interpreter runs it, faults included).
   * Only general slots (no special slot's kind rule, no page or meter the running
   * domain runs on: the handler's refresh has nothing to do), and only while the
   * domain's stack page has not run as code (that refresh would count a change on it).
   * The slot then holds another key object, so a view resolved through it is not used
   * again (`#page` compares the key); compiled code drops the pages it kept in locals.
   */
  numKey(slot: number, word: number): boolean {
    const slots = this.domain.slots;
    if (!(slot >= SPECIAL_SLOTS && slot < slots.length) || this.stack.runCache !== undefined) return false;
    slots[slot] = numberKey(word);
    return true;
  }

  /**
   * METERREAD's gas now, as `heavyCost` counts it: its table gas plus the depth of
   * the meter the domain runs on (the meter of its TIME key, which is the pending
   * borrow's while it runs), or
   * Infinity when the TIME slot holds no live time meter (the interpreter's to see).
   */
  meterCost(): number {
    const key = this.domain.slots[0 satisfies typeof DomainSlot.TIME]!;
    if (key !== this.#timeKey || this.#timeMeter === null || this.#timeMeter.version !== key.version) {
      this.#timeKey = key;
      const o = key.kind === (6 satisfies typeof KeyKind.meter) ? this.store.deref(key) : undefined;
      this.#timeMeter =
        o !== undefined &&
        o.kind === (2 satisfies typeof ObjectKind.meter) &&
        o.resource === (0 satisfies typeof Resource.time)
          ? o
          : null;
      this.#cost =
        this.#timeMeter === null
          ? Number.POSITIVE_INFINITY
          : heavyCost(this.store, null, NO_WORDS, 0, Op.METERREAD, this.#timeMeter.depth);
    }
    return this.#cost;
  }

  /**
   * What METERREAD through `slot` pushes when `used` gas (this instruction's included)
   * has been borrowed from the running meter's chain and not settled: exactly what the
   * handler reads after settling, without settling. A meter on the running chain (its
   * own or an ancestor) would have `used` taken off; any other meter (a child, another
   * chain, a memory meter) is not touched by the settle. METER_REFUSED when the slot
   * holds no live meter key or is IP or POINTER (the interpreter faults or reads it).
   * Not settling is invisible: the borrow is settled whenever the domain leaves.
   */
  meterRead(slot: number, used: number): number {
    const slots = this.domain.slots;
    if (!(slot >= 0 && slot < slots.length) || slot === 4 || slot === 6) return METER_REFUSED;
    const key = slots[slot]!;
    if (key.kind !== (6 satisfies typeof KeyKind.meter)) return METER_REFUSED;
    const m = this.store.deref(key);
    const running = this.#timeMeter;
    if (m === undefined || m.kind !== (2 satisfies typeof ObjectKind.meter) || running === null)
      return METER_REFUSED;
    const remaining = m.remaining;
    if (remaining === UNLIMITED) return -1;
    let r: Meter | null = running;
    for (let up = running.depth - m.depth; up > 0; up--) r = r!.parent;
    const left = r === m ? remaining - used : remaining;
    return Math.min(left, 0x7fffffff);
  }

  /** The data page behind `slot` for compiled code, or null. */
  #page(slot: number): DataPage | null {
    if (this.#epoch !== this.store.epoch) {
      this.#keys.length = 0;
      this.#pages.length = 0;
      this.#epoch = this.store.epoch;
    }
    const slots = this.domain.slots;
    // IP and POINTER read the registers (number keys), whatever their slots hold now.
    if (!(slot >= 0 && slot < slots.length) || slot === 4 || slot === 6) return null;
    const key = slots[slot]!;
    if (slot < REMEMBERED_SLOTS) {
      if (this.#keys[slot] === key) return this.#pages[slot]!;
      const page = this.#resolve(key);
      // Filled in order up to `slot`, so the arrays stay packed.
      for (let i = this.#keys.length; i < slot; i++) {
        this.#keys.push(undefined);
        this.#pages.push(null);
      }
      this.#keys[slot] = key;
      this.#pages[slot] = page;
      return page;
    }
    return this.#resolve(key);
  }

  #resolve(key: Key): DataPage | null {
    const kind = key.kind;
    if (kind !== (2 satisfies typeof KeyKind.page) && kind !== (3 satisfies typeof KeyKind.readPage))
      return null;
    const o = this.store.deref(key);
    if (o === undefined || o.kind !== (0 satisfies typeof ObjectKind.dataPage)) return null;
    return o === this.stack ? null : o;
  }
}
