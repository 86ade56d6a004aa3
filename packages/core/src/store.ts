// The page/key store: owns every object, makes every key, checks rights and bounds
// on every operation, charges memory, and revokes in O(1). A failed operation
// throws a GuestFault and changes nothing.
import { fail } from './faults.js';
import { KEY_KIND_NAMES, type Key, KeyKind, MeterRights, makeKey, NULL_KEY, numberKey } from './keys.js';
import {
  Attenuation,
  DomainSlot,
  DomainState,
  domainSlotProblem,
  LIMITS,
  MEMORY_CHARGES,
  PageType,
  pageCharge,
  Resource,
  SPECIAL_SLOTS,
} from './layout.js';
import { DataPage, Device, KeyPage, Meter, ObjectKind, type StoreObject, UNLIMITED } from './objects.js';

/** Machine registers that are not objects: what the interpreter needs to resume. */

/** LIMITS.maxCount as a module constant: bumping a resume generation is on every RETURN. */
const MAX_COUNT = LIMITS.maxCount;
/** The words of every destroyed data page (never written: nothing reaches a freed page through the store). */
const FREED_WORDS = new Int32Array(0);
export interface KernelState {
  /** The domain the machine booted (key page id), 0 before boot. */
  root: number;
  /** The domain to run next (key page id), 0 when none. */
  active: number;
  /** Runnable domains after the active one, in the order they will run. */
  runQueue: number[];
  /** Instructions executed since boot. */
  steps: number;
  /** Instructions a domain may run before the next runnable one gets its turn. */
  quantum: number;
  /** What is left of the active domain's time slice. */
  sliceLeft: number;
  /** The fault that stopped the machine (catalogue number), 0 when none. */
  faultCode: number;
  /** Where it happened: the code offset and the domain (key page id). */
  faultPc: number;
  faultDomain: number;
}

export interface StoreOptions {
  /** What the prime time meter holds at first; UNLIMITED by default. */
  time?: number;
  /** What the prime memory meter holds at first, in words; UNLIMITED by default. */
  memory?: number;
}

/** Ids of the two prime meters; every store has them. */
export const PRIME_TIME = 1;
export const PRIME_MEMORY = 2;

const isCount = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;
const isAmount = (n: number): boolean => n === UNLIMITED || (Number.isSafeInteger(n) && n >= 0);

/** The weakened form of a key fetched through a read-only key page. */
function sensory(k: Key): Key {
  switch (k.kind) {
    case KeyKind.null:
    case KeyKind.number:
    case KeyKind.readPage:
      return k;
    case KeyKind.page:
      return makeKey(KeyKind.readPage, k.target, k.version);
    case KeyKind.meter:
      return makeKey(KeyKind.meter, k.target, k.version, MeterRights.use);
    default:
      return NULL_KEY;
  }
}

export function defaultKernel(): KernelState {
  return {
    root: 0,
    active: 0,
    runQueue: [],
    steps: 0,
    quantum: 10_000,
    sliceLeft: 10_000,
    faultCode: 0,
    faultPc: 0,
    faultDomain: 0,
  };
}

export class Store {
  /** Objects by id; index 0 is never used, holes are destroyed objects. */
  #objects: (StoreObject | undefined)[] = [undefined];
  /** Count of live objects. */
  #live = 0;
  /** Slots of every live key page, kept so the cost of a walk over them is known in O(1). */
  #keySlots = 0;
  kernel: KernelState = defaultKernel();
  /**
   * Bumped whenever a key may have become void or a page's words were replaced
   * (sever, destroy, resize). Not state: it lets whoever caches what keys resolve
   * to know the cache still holds without resolving them again.
   */
  epoch = 0;
  /**
   * Counts the points where this store may have changed other than by an
   * interpreter's inline instructions and one-step transfers (the interpreter's
   * `cpu/state.ts` says what it lets it keep). Not state: every machine running on
   * this store counts here, so none relies on a point another has passed.
   */
  outsidePoint = 0;
  /**
   * Called after `makeDomain` turns a key page into a domain, with that page (its IP
   * slot holds the pc the domain will be entered at, its CODE slot its code). Not
   * state and not saved: it lets a debugger remember what each domain was made from.
   * It is called inside the instruction that made the domain, so it must neither
   * throw nor change the store.
   */
  onDomainMade: ((domain: KeyPage) => void) | null = null;

  constructor(options: StoreOptions = {}) {
    const time = options.time ?? UNLIMITED;
    const memory = options.memory ?? UNLIMITED;
    if (!isAmount(time) || !isAmount(memory))
      fail('bad-argument', 'prime meter amounts must be whole numbers >= 0');
    this.#add(new Meter(PRIME_TIME, 0, Resource.time, null, time));
    this.#add(new Meter(PRIME_MEMORY, 0, Resource.memory, null, memory));
  }

  // ---- identity and enumeration -------------------------------------------------

  /** The id the next created object will get. Ids are never reused. */
  get nextId(): number {
    return this.#objects.length;
  }

  /** Number of live objects. */
  get objectCount(): number {
    return this.#live;
  }

  /** The object with this id, if live. For embedders, debuggers and the image codec. */
  object(id: number): StoreObject | undefined {
    return this.#objects[id];
  }

  /** Every live object in ascending id order (deterministic). */
  *objects(): IterableIterator<StoreObject> {
    const objs = this.#objects;
    for (let id = 1; id < objs.length; id++) {
      const o = objs[id];
      if (o) yield o;
    }
  }

  get primeTime(): Meter {
    return this.#objects[PRIME_TIME] as Meter;
  }
  get primeMemory(): Meter {
    return this.#objects[PRIME_MEMORY] as Meter;
  }

  /** The id the next object gets; faults out-of-memory when the store has none left. */
  #freshId(): number {
    const id = this.nextId;
    if (id >= LIMITS.maxNextId) fail('out-of-memory', `the store has handed out all ${LIMITS.maxNextId} ids`);
    return id;
  }

  #add<T extends StoreObject>(o: T): T {
    this.#objects[o.id] = o;
    this.#live++;
    if (o.kind === ObjectKind.keyPage) this.#keySlots += o.slots.length;
    return o;
  }

  /** Slots of every live key page (what a walk over every key in the store visits, with the meters). */
  get keySlotCount(): number {
    return this.#keySlots;
  }

  /**
   * The keys a SEVER through `key` would have to visit besides its O(1) work: at the
   * u32 version limit every key to the object is nulled (one walk over every object
   * and key slot); otherwise 0. The interpreter charges gas for it before the
   * instruction runs. Reads only; never throws.
   */
  severWalk(key: Key): number {
    if (key.kind !== KeyKind.page && key.kind !== KeyKind.meter) return 0;
    const o = this.deref(key);
    if (o === undefined || o.version < MAX_COUNT) return 0;
    return this.#objects.length + this.#keySlots;
  }

  /**
   * Rebuild a store from objects (the image decoder's entry). Ids must be distinct
   * and below `nextId`; meter parents must precede children. The caller validates
   * contents; this only places objects.
   */
  static restore(objects: readonly StoreObject[], nextId: number, kernel: KernelState): Store {
    if (!Number.isSafeInteger(nextId) || nextId <= PRIME_MEMORY)
      fail('bad-argument', `next id ${nextId} must be a whole number above ${PRIME_MEMORY}`);
    const s = new Store();
    s.#objects = new Array<StoreObject | undefined>(nextId).fill(undefined);
    s.#live = 0;
    s.#keySlots = 0;
    for (const o of objects) {
      if (!Number.isInteger(o.id) || o.id <= 0 || o.id >= nextId || s.#objects[o.id])
        fail('bad-argument', `object id ${o.id} is out of range or repeated`);
      s.#add(o);
    }
    if (!(s.#objects[PRIME_TIME] instanceof Meter) || !(s.#objects[PRIME_MEMORY] instanceof Meter)) {
      fail('bad-argument', 'a store needs its two prime meters at ids 1 and 2');
    }
    s.kernel = kernel;
    return s;
  }

  // ---- key resolution -----------------------------------------------------------

  /** The object a key designates, or undefined for null, number and void keys. */
  deref(key: Key): StoreObject | undefined {
    if (key.target === 0) return undefined;
    const o = this.#objects[key.target];
    return o !== undefined && o.version === key.version ? o : undefined;
  }

  // Resolution is on every domain switch: kinds are literals checked with `satisfies`
  // (an imported frozen constant costs several dependent loads per use in V8).

  /** A key as it reads now: a void key (severed, destroyed, used-up resume) reads as null. */
  normalize(key: Key): Key {
    if (key.kind === (0 satisfies typeof KeyKind.null) || key.kind === (1 satisfies typeof KeyKind.number))
      return key;
    const o = this.deref(key);
    if (o === undefined) return NULL_KEY;
    if (key.kind === (5 satisfies typeof KeyKind.resume) && (o as KeyPage).resumeGen !== key.value)
      return NULL_KEY;
    return key;
  }

  #live_(key: Key, what: string): StoreObject {
    const o = this.deref(key);
    if (o === undefined)
      fail('null-key', `${what}: the key is null or void`, { key, wanted: `a live ${what} key` });
    return o;
  }

  /** The data page a key designates; `write` demands a read-write page key. */
  dataPage(key: Key, write: boolean): DataPage {
    if (key.kind !== (2 satisfies typeof KeyKind.page) && key.kind !== (3 satisfies typeof KeyKind.readPage))
      this.#wrongKind(key, 'a page key');
    const o = this.#live_(key, 'page');
    if (o.kind !== (0 satisfies typeof ObjectKind.dataPage))
      fail('wrong-kind', 'the page is a key page, not a data page', { key, wanted: 'a key to a data page' });
    if (write && key.kind !== (2 satisfies typeof KeyKind.page))
      fail('rights-violation', 'the key to this page is read-only', { key, wanted: 'a read-write page key' });
    return o;
  }

  /** The key page a key designates; `write` demands a read-write page key. */
  keyPage(key: Key, write: boolean): KeyPage {
    if (key.kind !== KeyKind.page && key.kind !== KeyKind.readPage) this.#wrongKind(key, 'a page key');
    const o = this.#live_(key, 'page');
    if (o.kind !== ObjectKind.keyPage)
      fail('wrong-kind', 'the page is a data page, not a key page', { key, wanted: 'a key to a key page' });
    if (write && key.kind !== KeyKind.page)
      fail('rights-violation', 'the key to this page is read-only', { key, wanted: 'a read-write page key' });
    return o;
  }

  /** Either kind of page, through a page or read-only page key. */
  page(key: Key): DataPage | KeyPage {
    if (key.kind !== KeyKind.page && key.kind !== KeyKind.readPage) this.#wrongKind(key, 'a page key');
    return this.#live_(key, 'page') as DataPage | KeyPage;
  }

  /** The domain a gate (domain) key designates. */
  domain(key: Key): KeyPage {
    if (key.kind !== (4 satisfies typeof KeyKind.domain)) this.#wrongKind(key, 'a domain key');
    return this.#live_(key, 'domain') as KeyPage;
  }

  /** The meter a meter key designates; `control` demands a controlling key. */
  meter(key: Key, control: boolean): Meter {
    if (key.kind !== KeyKind.meter) this.#wrongKind(key, 'a meter key');
    const o = this.#live_(key, 'meter') as Meter;
    if (control && (key.value & MeterRights.control) === 0)
      fail('rights-violation', 'the meter key does not control the meter', {
        key,
        wanted: 'a controlling meter key',
      });
    return o;
  }

  /** The device a device key designates. */
  device(key: Key): Device {
    if (key.kind !== KeyKind.device) this.#wrongKind(key, 'a device key');
    return this.#live_(key, 'device') as Device;
  }

  #wrongKind(key: Key, wanted: string): never {
    if (this.normalize(key).kind === KeyKind.null)
      fail('null-key', `expected ${wanted}, found a null or void key`, { key, wanted });
    fail('wrong-kind', `expected ${wanted}, found a ${KEY_KIND_NAMES[key.kind] ?? 'strange'} key`, {
      key,
      wanted,
    });
  }

  // ---- keys to objects (only the store makes them) --------------------------------

  /** A read-write page key to a page (embedder and machine use). */
  pageKey(page: DataPage | KeyPage): Key {
    return makeKey(KeyKind.page, page.id, page.version);
  }
  /** A gate key to a domain page. */
  domainKey(page: KeyPage): Key {
    if (!page.isDomain) fail('wrong-kind', 'the key page is not a domain');
    return makeKey(KeyKind.domain, page.id, page.version);
  }
  /** A meter key; controlling unless `use` only is asked for. */
  meterKey(meter: Meter, control: boolean): Key {
    return makeKey(KeyKind.meter, meter.id, meter.version, control ? MeterRights.control : MeterRights.use);
  }
  /** A device key. */
  deviceKey(device: Device): Key {
    return makeKey(KeyKind.device, device.id, device.version);
  }

  // ---- creation -------------------------------------------------------------------

  /**
   * Create a page of `type` and `size`, charged `pageCharge(type, size)` words to
   * the memory meter `meterKey` designates (any meter key to a memory meter), so a
   * page of size 0 is paid for too. Returns a read-write page key.
   */
  createPage(type: number, meterKey: Key, size: number): Key {
    const meter = this.meter(meterKey, false);
    if (meter.resource !== Resource.memory) fail('wrong-kind', 'pages are paid for by a memory meter');
    if (type !== PageType.data && type !== PageType.keys)
      fail('bad-argument', `page type ${type} is not 0 (data) or 1 (keys)`);
    const max = type === PageType.data ? LIMITS.maxDataPageWords : LIMITS.maxKeyPageSlots;
    if (!isCount(size, max)) fail('bad-argument', `page size ${size} is outside 0..${max}`);
    const id = this.#freshId();
    this.#chargeMemory(meter, pageCharge(type, size));
    const page =
      type === PageType.data
        ? new DataPage(id, 0, new Int32Array(size), meter.id)
        : new KeyPage(id, 0, new Array<Key>(size).fill(NULL_KEY), meter.id);
    this.#add(page);
    return this.pageKey(page);
  }

  /**
   * Create a child meter of the meter `parentKey` designates (use or control key),
   * holding `amount` (UNLIMITED allowed: still bounded by every ancestor), and
   * charge `MEMORY_CHARGES.meter` to the memory meter `memoryKey` designates (a guest
   * pays; the embedder, giving none, does not). Returns a controlling key to the child.
   */
  createMeter(parentKey: Key, amount: number, memoryKey?: Key): Key {
    const parent = this.meter(parentKey, false);
    if (!isAmount(amount)) fail('bad-argument', `meter amount ${amount} is not a whole number >= 0`);
    this.checkNewMeter(parentKey, memoryKey);
    if (memoryKey !== undefined) this.#chargeMemory(this.meter(memoryKey, false), MEMORY_CHARGES.meter);
    const m = this.#add(new Meter(this.#freshId(), 0, parent.resource, parent, amount));
    return this.meterKey(m, true);
  }

  /**
   * Fails as `createMeter(parentKey, amount, memoryKey)` would for any valid amount:
   * the chain would be too deep, or the memory meter cannot pay. Changes nothing.
   */
  checkNewMeter(parentKey: Key, memoryKey?: Key): void {
    const parent = this.meter(parentKey, false);
    if (parent.depth + 1 > LIMITS.maxMeterDepth)
      fail('bad-argument', `meter chains are at most ${LIMITS.maxMeterDepth} deep`);
    this.#freshId();
    if (memoryKey === undefined) return;
    const memory = this.meter(memoryKey, false);
    if (memory.resource !== Resource.memory) fail('wrong-kind', 'a new meter is paid for by a memory meter');
    if (this.available(memory) < MEMORY_CHARGES.meter)
      fail('out-of-memory', `the memory meter cannot pay ${MEMORY_CHARGES.meter} words for a new meter`);
  }

  /**
   * Create a device of a type the interpreter defines. Embedder only; charged
   * `MEMORY_CHARGES.device` to the memory meter `memoryKey` designates, when given.
   */
  createDevice(deviceType: number, memoryKey?: Key): Key {
    if (!isCount(deviceType, 0x7fffffff)) fail('bad-argument', `device type ${deviceType} is invalid`);
    const id = this.#freshId();
    if (memoryKey !== undefined) {
      const memory = this.meter(memoryKey, false);
      if (memory.resource !== Resource.memory) fail('wrong-kind', 'a device is paid for by a memory meter');
      this.#chargeMemory(memory, MEMORY_CHARGES.device);
    }
    return this.deviceKey(this.#add(new Device(id, 0, deviceType)));
  }

  /**
   * Make the key page `pageKey` designates (read-write key) a domain, ready to be
   * called: it needs at least the special slots. STATE, IP and POINTER that are not
   * number keys are set to available / 0 / 0, and SELF to a page key to itself.
   * The page's memory meter pays `MEMORY_CHARGES.domain` more. Returns its gate key.
   */
  makeDomain(pageKey: Key): Key {
    const page = this.keyPage(pageKey, true);
    if (page.isDomain) fail('bad-argument', 'the key page is a domain already');
    if (page.size < SPECIAL_SLOTS)
      fail('out-of-bounds', `a domain page needs at least ${SPECIAL_SLOTS} slots`);
    const s = page.slots;
    // Check what will stay in the special slots before changing anything.
    for (let slot = 0; slot < SPECIAL_SLOTS; slot++) {
      if (slot === DomainSlot.STATE || slot === DomainSlot.SELF) continue;
      const k = this.normalize(s[slot]!);
      if ((slot === DomainSlot.IP || slot === DomainSlot.POINTER) && k.kind !== KeyKind.number) continue;
      this.checkDomainSlot(slot, k);
    }
    this.#chargeMemory(this.#objects[page.meter] as Meter, MEMORY_CHARGES.domain);
    s[DomainSlot.STATE] = numberKey(DomainState.available);
    if (s[DomainSlot.IP]!.kind !== KeyKind.number) s[DomainSlot.IP] = numberKey(0);
    if (s[DomainSlot.POINTER]!.kind !== KeyKind.number) s[DomainSlot.POINTER] = numberKey(0);
    s[DomainSlot.SELF] = this.pageKey(page);
    page.isDomain = true;
    this.onDomainMade?.(page);
    return this.domainKey(page);
  }

  /** Fault with wrong-kind unless `key` may stand in special slot `slot` of a domain. */
  checkDomainSlot(slot: number, key: Key): void {
    const k = this.normalize(key);
    const resource = k.kind === KeyKind.meter ? (this.deref(k) as Meter).resource : undefined;
    const problem = domainSlotProblem(slot, k.kind, resource);
    if (problem !== undefined) fail('wrong-kind', problem);
  }

  // ---- pages ------------------------------------------------------------------------

  readWord(key: Key, index: number): number {
    const page = this.dataPage(key, false);
    if (!isCount(index, page.size - 1))
      fail('out-of-bounds', `word ${index} is outside the page (size ${page.size})`);
    return page.words[index]!;
  }

  writeWord(key: Key, index: number, word: number): void {
    const page = this.dataPage(key, true);
    if (!isCount(index, page.size - 1))
      fail('out-of-bounds', `word ${index} is outside the page (size ${page.size})`);
    page.words[index] = word | 0;
    page.changes++;
  }

  /**
   * The key in slot `index` of a key page, as it reads now (void reads as null).
   * Through a read-only key the fetch is sensory (KeyKOS): a page key comes out
   * read-only, a meter key use-only, and keys that could act (domain, resume,
   * device) come out null, so read-only access never leads to write access.
   */
  getSlot(key: Key, index: number): Key {
    const page = this.keyPage(key, false);
    if (!isCount(index, page.size - 1))
      fail('out-of-bounds', `slot ${index} is outside the key page (size ${page.size})`);
    const k = this.normalize(page.slots[index]!);
    return key.kind === KeyKind.readPage ? sensory(k) : k;
  }

  /** Store `value` in slot `index` of a key page (read-write key needed). */
  setSlot(key: Key, index: number, value: Key): void {
    const page = this.keyPage(key, true);
    if (!isCount(index, page.size - 1))
      fail('out-of-bounds', `slot ${index} is outside the key page (size ${page.size})`);
    page.slots[index] = value;
  }

  pageType(key: Key): PageType {
    return this.page(key).kind === ObjectKind.dataPage ? PageType.data : PageType.keys;
  }

  pageSize(key: Key): number {
    return this.page(key).size;
  }

  /**
   * Resize a page (read-write key): growth charged, shrinking refunded (per word or
   * slot, `MEMORY_CHARGES`), new words zero / slots null.
   */
  resizePage(key: Key, size: number): void {
    if (key.kind !== KeyKind.page) {
      this.page(key);
      fail('rights-violation', 'resizing needs a read-write page key');
    }
    const page = this.page(key);
    const isData = page.kind === ObjectKind.dataPage;
    const max = isData ? LIMITS.maxDataPageWords : LIMITS.maxKeyPageSlots;
    if (!isCount(size, max)) fail('bad-argument', `page size ${size} is outside 0..${max}`);
    if (page.kind === ObjectKind.keyPage && page.isDomain && size < DomainSlot.RESUME + 1) {
      fail('bad-argument', `a domain page cannot shrink below ${DomainSlot.RESUME + 1} slots`);
    }
    const meter = this.#objects[page.meter] as Meter;
    const delta = size - page.size;
    const perUnit = isData ? MEMORY_CHARGES.dataWord : MEMORY_CHARGES.keySlot;
    if (delta > 0) this.#chargeMemory(meter, delta * perUnit);
    else if (delta < 0) this.#refundMemory(meter, -delta * perUnit);
    this.epoch++;
    if (page.kind === ObjectKind.dataPage) {
      page.changes++;
      const words = new Int32Array(size);
      words.set(size >= page.size ? page.words : page.words.subarray(0, size));
      page.words = words;
    } else {
      // A new array of the exact size (growing one slot at a time cost the host ~6x more
      // per slot on large pages, and a shrunk array may keep its old capacity).
      const old = page.slots;
      const slots = delta > 0 ? new Array<Key>(size).fill(NULL_KEY) : old.slice(0, size);
      if (delta > 0) for (let i = 0; i < old.length; i++) slots[i] = old[i]!;
      page.slots = slots;
      this.#keySlots += delta;
    }
  }

  /**
   * Free a page (read-write key): its memory is refunded (all but `MEMORY_CHARGES.id`)
   * and every key to it is void. A domain that is running, waiting or blocked cannot
   * be destroyed.
   */
  destroyPage(key: Key): void {
    if (key.kind !== KeyKind.page) {
      this.page(key);
      fail('rights-violation', 'destroying needs a read-write page key');
    }
    const page = this.page(key);
    if (page.kind === ObjectKind.keyPage && page.isDomain) {
      const st = page.slots[DomainSlot.STATE]!.value;
      if (st !== DomainState.available && st !== DomainState.halted && st !== DomainState.faulted) {
        fail('busy', 'a running, waiting or blocked domain cannot be destroyed');
      }
      const k = this.kernel;
      if (k.root === page.id || k.active === page.id) fail('busy', 'the machine still refers to this domain');
    }
    const isData = page.kind === ObjectKind.dataPage;
    const charged = pageCharge(isData ? PageType.data : PageType.keys, page.size);
    const domain = !isData && page.isDomain ? MEMORY_CHARGES.domain : 0;
    this.#refundMemory(this.#objects[page.meter] as Meter, charged - MEMORY_CHARGES.id + domain);
    this.#objects[page.id] = undefined;
    this.#live--;
    if (!isData) this.#keySlots -= page.size;
    this.epoch++;
    // Its contents go now, not when the last host-side reference does: a cache that
    // still refers to the page (a domain's resolved pages) keeps only the small object.
    page.runCache = undefined;
    if (isData) page.words = FREED_WORDS;
  }

  // ---- key operations ---------------------------------------------------------------

  /**
   * A weaker (never stronger) key. Options: 0 copies; 1 makes a page key read-only
   * and a meter key use-only; n >= 2 on a meter key creates a child meter holding
   * floor(remaining / n) and returns a use-only key to it (KeyVM's bounded share),
   * charging the memory meter `memoryKey` designates as `createMeter` does.
   */
  attenuate(key: Key, option: number, memoryKey?: Key): Key {
    const k = this.normalize(key);
    if (option === Attenuation.copy) return k;
    if (!Number.isInteger(option) || option < 0)
      fail('bad-argument', `attenuation option ${option} is invalid`);
    switch (k.kind) {
      case KeyKind.page:
      case KeyKind.readPage:
        if (option !== Attenuation.weaken)
          fail('bad-argument', `option ${option} does not apply to a page key`);
        return makeKey(KeyKind.readPage, k.target, k.version);
      case KeyKind.meter: {
        if (option === Attenuation.weaken)
          return makeKey(KeyKind.meter, k.target, k.version, MeterRights.use);
        const m = this.meter(k, false);
        const share = m.remaining === UNLIMITED ? UNLIMITED : Math.floor(m.remaining / option);
        const child = this.meter(this.createMeter(k, share, memoryKey), true);
        return this.meterKey(child, false);
      }
      case KeyKind.null:
        return fail('null-key', 'cannot attenuate a null or void key');
      default:
        fail('bad-argument', `option ${option} does not apply to this kind of key`);
    }
  }

  /**
   * Revoke: every outstanding key to the object (read-write page key, which also
   * voids gate and resume keys to a domain page, or controlling meter key) becomes
   * void in O(1). The content stays; the returned fresh key reaches it.
   */
  sever(key: Key): Key {
    if (key.kind === KeyKind.page) {
      const page = this.page(key);
      this.#bumpVersion(page);
      return this.pageKey(page);
    }
    if (key.kind === KeyKind.meter) {
      const m = this.meter(key, true);
      if (m.parent === null) fail('rights-violation', 'a prime meter cannot be severed');
      this.#bumpVersion(m);
      return this.meterKey(m, true);
    }
    if (this.normalize(key).kind === KeyKind.null)
      fail('null-key', 'cannot sever through a null or void key');
    fail('rights-violation', 'severing needs a read-write page key or a controlling meter key');
  }

  // ---- domains and resume keys ------------------------------------------------------

  /** A resume key to a domain, valid until one copy of it is used. */
  resumeKey(domain: KeyPage): Key {
    return makeKey(KeyKind.resume, domain.id, domain.version, domain.resumeGen);
  }

  /**
   * `key`, a resume key to `domain` that was used up, made valid again for the
   * domain's current generation, in place: the same as `resumeKey(domain)` without
   * making a new key. Only for a caller that holds the sole reference to `key` (the
   * interpreter's transfer path, for a key it made itself and that nothing could
   * have copied since): with a second copy anywhere, that copy would come back to
   * life. Returns false, changing nothing, when `key` is not such a key.
   */
  renewResumeKey(key: Key, domain: KeyPage): boolean {
    if (
      key.kind !== (5 satisfies typeof KeyKind.resume) ||
      key.target !== domain.id ||
      key.version !== domain.version
    )
      return false;
    // Resume keys come from makeKey, never frozen (a frozen one would throw here).
    (key as { value: number }).value = domain.resumeGen;
    return true;
  }

  /** The domain a resume key designates; consumes it, voiding every copy. */
  consumeResume(key: Key): KeyPage {
    if (key.kind !== (5 satisfies typeof KeyKind.resume)) this.#wrongKind(key, 'a resume key');
    const d = this.#live_(key, 'resume') as KeyPage;
    if (d.resumeGen !== key.value) fail('null-key', 'the resume key was used already');
    this.bumpResumeGen(d);
    return d;
  }

  /**
   * Void every resume key to domain `d` (the next resume key gets a new generation).
   * At LIMITS.maxCount the generation starts again from 0, once every resume key
   * to `d` left in the store has been nulled, so none can come back to life.
   */
  bumpResumeGen(d: KeyPage): void {
    if (d.resumeGen < MAX_COUNT) d.resumeGen++;
    else {
      this.#nullKeys((k) => k.kind === KeyKind.resume && k.target === d.id);
      d.resumeGen = 0;
    }
  }

  /** Void every key to `o` by a new version; at LIMITS.maxCount, after nulling them all, from 0. */
  #bumpVersion(o: DataPage | KeyPage | Meter): void {
    if (o.version < MAX_COUNT) o.version++;
    else {
      this.#nullKeys((k) => k.target === o.id && k.kind !== KeyKind.null && k.kind !== KeyKind.number);
      o.version = 0;
    }
    this.epoch++;
  }

  /**
   * Replace with the null key every key in the store that `void_` picks: in key
   * page slots and meter keepers (the only places keys are kept). Once per 2^32
   * bumps of one object, so its cost is nothing per instruction.
   */
  #nullKeys(void_: (k: Key) => boolean): void {
    for (const o of this.#objects) {
      if (o === undefined) continue;
      if (o.kind === ObjectKind.keyPage) {
        const slots = o.slots;
        for (let i = 0; i < slots.length; i++) if (void_(slots[i]!)) slots[i] = NULL_KEY;
      } else if (o.kind === ObjectKind.meter && void_(o.keeper)) o.keeper = NULL_KEY;
    }
    this.epoch++;
  }

  // ---- meters -----------------------------------------------------------------------

  /** The most `meter` can spend now: the smallest amount left along its chain. */
  available(meter: Meter): number {
    let min = UNLIMITED;
    for (let m: Meter | null = meter; m !== null; m = m.parent) if (m.remaining < min) min = m.remaining;
    return min;
  }

  /**
   * Spend `amount` from `meter` and every ancestor; the caller made sure it is
   * available. Overspending is a bug in the caller: it throws before changing anything.
   */
  spend(meter: Meter, amount: number): void {
    if (amount === 0) return;
    if (!(amount > 0)) throw new Error(`internal: spending ${amount} from meter #${meter.id}`);
    // One walk (settling a borrow is on every switch between meters): a meter that
    // cannot pay puts back what was taken below it, then throws.
    for (let m: Meter | null = meter; m !== null; m = m.parent) {
      if (m.remaining === UNLIMITED) continue;
      if (m.remaining < amount) {
        for (let u: Meter | null = meter; u !== m; u = u!.parent)
          if (u!.remaining !== UNLIMITED) u!.remaining += amount;
        throw new Error(`internal: spending ${amount} from meter #${meter.id} would overspend its chain`);
      }
      m.remaining -= amount;
    }
  }

  /** The nearest meter in the chain with less than `amount` left (the one that ran out). */
  exhausted(meter: Meter, amount = 1): Meter | undefined {
    for (let m: Meter | null = meter; m !== null; m = m.parent) if (m.remaining < amount) return m;
    return undefined;
  }

  /** Set what a meter has left (controlling key); prime meters are the embedder's. */
  setMeter(key: Key, amount: number): void {
    const m = this.meter(key, true);
    if (!isAmount(amount)) fail('bad-argument', `meter amount ${amount} is not a whole number >= 0`);
    if (m.parent === null) fail('rights-violation', 'a prime meter is set by the embedder only');
    m.remaining = amount;
  }

  /** Make a domain (gate key) or nobody (null key) the keeper of a meter (controlling key). */
  setMeterKeeper(key: Key, keeper: Key): void {
    const m = this.meter(key, true);
    const k = this.normalize(keeper);
    if (k.kind !== KeyKind.null) this.domain(k);
    m.keeper = k;
  }

  #chargeMemory(meter: Meter, words: number): void {
    if (this.available(meter) < words)
      fail('out-of-memory', `the memory meter cannot pay for ${words} more words`);
    this.spend(meter, words);
  }

  #refundMemory(meter: Meter, words: number): void {
    // Clamped: a meter set near the largest safe amount stays encodable.
    for (let m: Meter | null = meter; m !== null; m = m.parent)
      if (m.remaining !== UNLIMITED) m.remaining = Math.min(m.remaining + words, Number.MAX_SAFE_INTEGER);
  }
}
