// What compiled code reaches through the running domain's slots without leaving it:
// the data pages behind its page keys (resolved once, kept while they hold) and its
// number keys and key kinds. Every answer either is exactly what the interpreter's
// handler would use, or says "not here" and the instruction goes to the interpreter.
import type { DataPage, Key, KeyKind, KeyPage, ObjectKind, Store } from '@keyvm/core';

/**
 * Slots whose resolution is remembered. Above them a page is resolved at each use
 * (still O(1)): what a guest can make the host keep stays small.
 */
const REMEMBERED_SLOTS = 64;

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
