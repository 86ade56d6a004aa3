// The domain layout: a domain is a key page whose first slots are special. Slots
// 0..9 are KeyVM's; KEEPER and RESUME come from KeyKOS; general slots follow.
import { KEY_KIND_NAMES, KeyKind } from './keys.js';

export const DomainSlot = Object.freeze({
  TIME: 0,
  MEMORY: 1,
  SELF: 2,
  STATE: 3,
  IP: 4,
  CODE: 5,
  POINTER: 6,
  STACK: 7,
  DATA: 8,
  RECV: 9,
  KEEPER: 10,
  RESUME: 11,
} as const);

/** Number of special slots; general slots start here. */
export const SPECIAL_SLOTS = 12;
/** KeyKOS's sixteen general slots. */
export const GENERAL_SLOTS = 16;
/** Slots in a freshly built domain page. */
export const DOMAIN_SLOTS = SPECIAL_SLOTS + GENERAL_SLOTS;
/** First general slot. */
export const FIRST_GENERAL_SLOT = SPECIAL_SLOTS;

/** Values of a domain's STATE slot (a number key). */
export const DomainState = Object.freeze({
  /** Idle: a CALL or FORK may start it. */
  available: 0,
  /** Running, or runnable and queued. */
  running: 1,
  /** Waiting in a CALL for its resume key to be used (reply key only). */
  waiting: 2,
  /** Stopped by a fault (or an exhausted meter) until restarted. */
  faulted: 3,
  /** Halted for good. */
  halted: 4,
  /** Blocked on a device (input) until it has data. */
  blocked: 5,
  /** Waiting in a CALLW: the reply word will be pushed on its stack. */
  waitingWord: 6,
} as const);
export type DomainState = (typeof DomainState)[keyof typeof DomainState];

export const DOMAIN_STATE_NAMES = Object.freeze([
  'available',
  'running',
  'waiting',
  'faulted',
  'halted',
  'blocked',
  'waiting-word',
] as const);

/** Page types as PAGETYPE and CREATEPAGE number them (KeyVM's). */
export const PageType = Object.freeze({ data: 0, keys: 1 } as const);
export type PageType = (typeof PageType)[keyof typeof PageType];

/** Meter resources. */
export const Resource = Object.freeze({ time: 0, memory: 1 } as const);
export type Resource = (typeof Resource)[keyof typeof Resource];

/** Hard limits that keep a hostile program or image from asking for too much. */
export const LIMITS = Object.freeze({
  /** Largest data page, in words. */
  maxDataPageWords: 1 << 24,
  /** Largest key page, in slots. */
  maxKeyPageSlots: 1 << 20,
  /**
   * Deepest meter chain (prime meter at depth 0). A transfer between domains on
   * different meters settles and borrows along both chains, so this bounds its host
   * work to a constant times its gas (32 keeps CALL + RETURN within the 50x-per-gas
   * budget of the worst-case bench; 64 measured about 100x).
   */
  maxMeterDepth: 32,
  /**
   * Most ids a store hands out (ids are never reused; images hold at most this
   * nextId). Creating an object past it faults out-of-memory.
   */
  maxNextId: 1 << 24,
  /** Largest object version and resume generation (u32 in images); past it they start again from 0. */
  maxCount: 0xffff_ffff,
  /** Words of memory a meter made by a guest (CREATEMETER, ATTENUATE's share) is charged (`MEMORY_CHARGES.meter`). */
  meterWords: 32,
});

/**
 * What the store charges a memory meter, in 32-bit words, for what it holds: at
 * least what each costs the host (V8 on 64-bit Node, measured by
 * `packages/interpreter/bench/host-cost.bench.mjs`; bytes / 4, rounded up with a
 * margin). Every object and slot is paid for, so a memory meter of n words bounds
 * the host heap a guest can fill at about 4n bytes (docs/ARCHITECTURE.md, "Host
 * cost"). An object's charge goes to the meter that pays for it; destroying a page
 * refunds all of it but `id` (the store's table of ids never shrinks).
 */
export const MEMORY_CHARGES = Object.freeze({
  /** A data page of any size, words aside (object, typed array, buffer: ~276 bytes measured). */
  dataPage: 96,
  /** Each word of a data page (4 bytes measured). */
  dataWord: 1,
  /** A key page of any size, slots aside (object and slot array: ~132 bytes measured). */
  keyPage: 48,
  /**
   * Each slot of a key page: the 8-byte reference, up to half again for the array's
   * growth, and a key object of its own (~56 bytes) since the key in a slot may be
   * one made only for it (ATTENUATE, SEVER, a large NUMKEY): ~68 bytes measured.
   */
  keySlot: 20,
  /** A meter (object and a keeper key: ~101 bytes measured); equals LIMITS.meterWords. */
  meter: 32,
  /** A device (object and an empty transcript: ~109 bytes measured). */
  device: 32,
  /**
   * Each word a device records in its transcript for a guest (input, the pending
   * count, a host clock): 8 bytes and the array's growth; paid by the domain's MEMORY meter.
   */
  deviceWord: 3,
  /**
   * Making a key page a domain: its run-queue entry and scheduling state (~70 bytes
   * measured), what the interpreter keeps on it once it has run (its run cache: the
   * resolved pages, the page views and the CALL and RETURN targets it remembers,
   * ~370-410 bytes), and the two page objects that cache may still name after the
   * pages were destroyed (~80 bytes each, their words freed): ~640 bytes, 160 words
   * at 4 bytes a word, with a margin. `host-cost.bench.mjs` measures each part.
   */
  domain: 176,
  /** The id an object takes in the store's table, never refunded (8 bytes). */
  id: 2,
});

/** What a page of `type` and `size` is charged (MEMORY_CHARGES), ids included. */
export function pageCharge(type: PageType, size: number): number {
  return type === PageType.data
    ? MEMORY_CHARGES.dataPage + MEMORY_CHARGES.id + size * MEMORY_CHARGES.dataWord
    : MEMORY_CHARGES.keyPage + MEMORY_CHARGES.id + size * MEMORY_CHARGES.keySlot;
}

/** ATTENUATE options. */
export const Attenuation = Object.freeze({ copy: 0, weaken: 1 } as const);

/**
 * Key kinds each special slot of a domain may hold (null: any kind). A domain
 * whose special slots break these rules cannot exist: MAKEDOMAIN refuses it,
 * guest writes into a domain page are checked, and images are refused.
 */
const { null: NUL, number: NUM, page: PAGE, readPage: RPAGE, domain: DOM, resume: RES, meter: MET } = KeyKind;
export const DOMAIN_SLOT_KINDS: readonly (readonly KeyKind[] | null)[] = Object.freeze([
  /* TIME */ [NUL, MET],
  /* MEMORY */ [NUL, MET],
  /* SELF */ [NUL, PAGE, RPAGE],
  /* STATE */ [NUM],
  /* IP */ [NUM],
  /* CODE */ [NUL, PAGE, RPAGE],
  /* POINTER */ [NUM],
  /* STACK */ [NUL, PAGE],
  /* DATA */ [NUL, PAGE, RPAGE],
  /* RECV */ null,
  /* KEEPER */ [NUL, DOM],
  /* RESUME */ [NUL, RES],
]);

const SLOT_NAMES = Object.keys(DomainSlot);

/**
 * Why a key of `kind` (and, for a meter key, of `resource`) may not stand in
 * special slot `slot` of a domain, or undefined when it may. General slots take anything.
 */
export function domainSlotProblem(slot: number, kind: number, resource?: number): string | undefined {
  if (slot >= SPECIAL_SLOTS) return undefined;
  const allowed = DOMAIN_SLOT_KINDS[slot];
  const name = SLOT_NAMES[slot];
  if (allowed && !allowed.includes(kind as KeyKind)) {
    return `a domain's ${name} slot cannot hold a ${KEY_KIND_NAMES[kind] ?? 'unknown'} key`;
  }
  if (kind === MET && slot === DomainSlot.TIME && resource !== Resource.time)
    return `a domain's TIME slot needs a time meter`;
  if (kind === MET && slot === DomainSlot.MEMORY && resource !== Resource.memory) {
    return `a domain's MEMORY slot needs a memory meter`;
  }
  return undefined;
}
