// The objects a store holds: data pages, key pages (some of them domains), meters
// and devices. Their ids are internal and never usable as capabilities.
import { type Key, NULL_KEY } from './keys.js';
import type { Resource } from './layout.js';

export const ObjectKind = Object.freeze({ dataPage: 0, keyPage: 1, meter: 2, device: 3 } as const);
export type ObjectKind = (typeof ObjectKind)[keyof typeof ObjectKind];

/** The one encoding of "no limit" for a meter. */
export const UNLIMITED = Number.POSITIVE_INFINITY;

/** A resizable array of 32-bit words. */
export class DataPage {
  readonly kind = ObjectKind.dataPage;
  /**
   * Counts changes made through the store (writes and resizes). Not state: it lets
   * the interpreter know a page it compiled as code has changed. Code that writes
   * `words` directly after the page ran as code must bump it.
   */
  changes = 0;
  /**
   * Derived from `words` by whoever runs them (the interpreter keeps compiled code
   * here, checked against `changes`). Not state: never encoded, never compared.
   */
  runCache: unknown = undefined;
  constructor(
    readonly id: number,
    /** Bumped by SEVER; keys with another version are void. */
    public version: number,
    /** The contents; replaced (not grown in place) on resize. */
    public words: Int32Array,
    /** Id of the memory meter its size is charged to. */
    readonly meter: number,
  ) {}
  get size(): number {
    return this.words.length;
  }
}

/** A resizable array of key slots; a domain when `isDomain`. */
export class KeyPage {
  readonly kind = ObjectKind.keyPage;
  /**
   * Derived from the slots by whoever runs the domain (the interpreter keeps what
   * its CODE and STACK keys resolve to here, checked against the keys). Not state:
   * never encoded, never compared.
   */
  runCache: unknown = undefined;
  constructor(
    readonly id: number,
    public version: number,
    public slots: Key[],
    readonly meter: number,
    /** Set by MAKEDOMAIN / the machine: the page is a domain and has a gate. */
    public isDomain = false,
    /** Generation of the domain's resume keys: using one bumps it, voiding every copy. */
    public resumeGen = 0,
  ) {}
  get size(): number {
    return this.slots.length;
  }
}

/** A node of the meter tree. */
export class Meter {
  readonly kind = ObjectKind.meter;
  /** Ancestors up to the prime meter (0 for a prime meter). Fixed at creation. */
  readonly depth: number;
  constructor(
    readonly id: number,
    public version: number,
    readonly resource: Resource,
    /** Parent meter, or null for a prime meter. */
    readonly parent: Meter | null,
    /** What is left; UNLIMITED for no limit; never negative. */
    public remaining: number,
    /** Key to the keeper domain, or the null key. */
    public keeper: Key = NULL_KEY,
  ) {
    // Not the chain itself: a meter takes the same host memory at any depth.
    this.depth = parent ? parent.depth + 1 : 0;
  }
}

/** A host capability (console, input queue, clock...). Behaviour lives in the interpreter. */
export class Device {
  readonly kind = ObjectKind.device;
  constructor(
    readonly id: number,
    public version: number,
    /** Device type number, defined by the interpreter's device table. */
    readonly deviceType: number,
    /** Every word the device returned to a guest, in order, so a run replays bit for bit. */
    public transcript: number[] = [],
  ) {}
}

export type StoreObject = DataPage | KeyPage | Meter | Device;
