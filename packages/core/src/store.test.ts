// Unit tests for the page/key store: every operation, and each of its failure paths
// (the fault named, and the store unchanged afterwards).
import { describe, expect, it } from 'vitest';
import { GuestFault } from './faults.js';
import { type Key, KeyKind, MeterRights, makeKey, NULL_KEY, numberKey } from './keys.js';
import { DomainSlot, DomainState, LIMITS, MEMORY_CHARGES, PageType, pageCharge, Resource } from './layout.js';
import { DataPage, Device, KeyPage, Meter, UNLIMITED } from './objects.js';
import { defaultKernel, PRIME_MEMORY, PRIME_TIME, Store } from './store.js';
import { expectFault, snapshot } from './testing.test-helpers.js';

/** What the pages `setup` makes are charged. */
const SETUP_WORDS = pageCharge(PageType.data, 4) + pageCharge(PageType.keys, 4);
const { dataWord, keySlot } = MEMORY_CHARGES;

/** A store with `memory` words left in its prime memory meter and the usual keys to play with. */
function setup(memory = 10_000, time = 500) {
  const s = new Store({ memory: memory + SETUP_WORDS, time });
  const mem = s.meterKey(s.primeMemory, true);
  const time_ = s.meterKey(s.primeTime, true);
  const data = s.createPage(PageType.data, mem, 4);
  const keys = s.createPage(PageType.keys, mem, 4);
  return { s, mem, time: time_, data, keys };
}

/** A key page made a domain; returns its page key and gate key. */
function domainOf(s: Store, mem: Key) {
  const page = s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1);
  const gate = s.makeDomain(page);
  return { page, gate, obj: s.keyPage(page, false) };
}

const BAD_COUNTS = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY];
const BAD_AMOUNTS = [-1, 1.5, Number.NaN, 2 ** 53, Number.NEGATIVE_INFINITY];

describe('Store construction', () => {
  it('starts with two unlimited prime meters at ids 1 and 2', () => {
    const s = new Store();
    expect(s.objectCount).toBe(2);
    expect(s.nextId).toBe(3);
    expect(s.primeTime).toBe(s.object(PRIME_TIME));
    expect(s.primeMemory).toBe(s.object(PRIME_MEMORY));
    expect(s.primeTime.resource).toBe(Resource.time);
    expect(s.primeMemory.resource).toBe(Resource.memory);
    expect(s.primeTime.remaining).toBe(UNLIMITED);
    expect(s.primeMemory.remaining).toBe(UNLIMITED);
    expect(s.primeTime.parent).toBeNull();
    expect(s.primeMemory.depth).toBe(0);
    expect(s.kernel).toEqual(defaultKernel());
  });

  it('takes the prime amounts from the options', () => {
    const s = new Store({ time: 7, memory: 0 });
    expect(s.primeTime.remaining).toBe(7);
    expect(s.primeMemory.remaining).toBe(0);
  });

  it.each(BAD_AMOUNTS)('refuses prime amount %s', (bad) => {
    expect(() => new Store({ time: bad })).toThrow(GuestFault);
    expect(() => new Store({ memory: bad })).toThrow(GuestFault);
  });

  it('lists live objects in id order and never reuses ids', () => {
    const { s, mem, data, keys } = setup();
    expect([...s.objects()].map((o) => o.id)).toEqual([1, 2, 3, 4]);
    s.destroyPage(data);
    expect([...s.objects()].map((o) => o.id)).toEqual([1, 2, 4]);
    expect(s.object(3)).toBeUndefined();
    const again = s.createPage(PageType.data, mem, 1);
    expect(again.target).toBe(5);
    expect(s.nextId).toBe(6);
    expect(s.objectCount).toBe(4);
    expect(keys.target).toBe(4);
  });
});

describe('createPage', () => {
  it('creates a zeroed data page charged to the memory meter', () => {
    const { s, mem } = setup();
    const before = s.primeMemory.remaining;
    const k = s.createPage(PageType.data, mem, 5);
    expect(k).toMatchObject({ kind: KeyKind.page, version: 0, value: 0 });
    const page = s.dataPage(k, false);
    expect(page).toBeInstanceOf(DataPage);
    expect(Array.from(page.words)).toEqual([0, 0, 0, 0, 0]);
    expect(page.meter).toBe(PRIME_MEMORY);
    expect(s.pageType(k)).toBe(PageType.data);
    expect(s.primeMemory.remaining).toBe(before - pageCharge(PageType.data, 5));
    expect(pageCharge(PageType.data, 5)).toBe(MEMORY_CHARGES.dataPage + MEMORY_CHARGES.id + 5 * dataWord);
  });

  it('creates a key page full of null keys', () => {
    const { s, mem } = setup();
    const k = s.createPage(PageType.keys, mem, 3);
    const page = s.keyPage(k, false);
    expect(page).toBeInstanceOf(KeyPage);
    expect(page.slots).toEqual([NULL_KEY, NULL_KEY, NULL_KEY]);
    expect(page.isDomain).toBe(false);
    expect(s.pageType(k)).toBe(PageType.keys);
  });

  it('accepts size 0, a use-only meter key, and charges every meter of the chain', () => {
    const keys10 = pageCharge(PageType.keys, 10);
    const { s, mem } = setup(1000 + keys10);
    const empty = pageCharge(PageType.data, 0);
    expect(empty).toBeGreaterThan(0);
    expect(s.pageSize(s.createPage(PageType.data, mem, 0))).toBe(0);
    expect(s.primeMemory.remaining).toBe(1000 + keys10 - empty);
    const child = s.createMeter(mem, keys10 + 50);
    const use = s.attenuate(child, 1);
    const k = s.createPage(PageType.keys, use, 10);
    expect(s.page(k).meter).toBe(child.target);
    expect(s.meter(child, false).remaining).toBe(50);
    expect(s.primeMemory.remaining).toBe(1000 - empty);
  });

  it('accepts sizes up to the key page limit', () => {
    const s = new Store();
    const mem = s.meterKey(s.primeMemory, false);
    expect(s.pageSize(s.createPage(PageType.keys, mem, LIMITS.maxKeyPageSlots))).toBe(LIMITS.maxKeyPageSlots);
  });

  it('faults on a meter key that is null, void, of the wrong kind or for time', () => {
    const { s, mem, time, data } = setup();
    const child = s.createMeter(mem, 10);
    s.sever(child);
    expectFault(s, 'null-key', () => s.createPage(PageType.data, NULL_KEY, 1));
    expectFault(s, 'null-key', () => s.createPage(PageType.data, child, 1));
    expectFault(s, 'wrong-kind', () => s.createPage(PageType.data, numberKey(2), 1));
    expectFault(s, 'wrong-kind', () => s.createPage(PageType.data, data, 1));
    expectFault(s, 'wrong-kind', () => s.createPage(PageType.data, time, 1));
  });

  it.each([2, -1, 0.5, Number.NaN])('faults bad-argument on page type %s', (type) => {
    const { s, mem } = setup();
    expectFault(s, 'bad-argument', () => s.createPage(type, mem, 1));
  });

  it.each([
    ...BAD_COUNTS.map((n) => [PageType.data, n]),
    ...BAD_COUNTS.map((n) => [PageType.keys, n]),
    [PageType.data, LIMITS.maxDataPageWords + 1],
    [PageType.keys, LIMITS.maxKeyPageSlots + 1],
  ])('faults bad-argument on type %s size %s', (type, size) => {
    const s = new Store();
    const mem = s.meterKey(s.primeMemory, true);
    expectFault(s, 'bad-argument', () => s.createPage(type!, mem, size!));
  });

  it('faults out-of-memory when the meter or any ancestor cannot pay', () => {
    const { s, mem } = setup(pageCharge(PageType.data, 12));
    expectFault(s, 'out-of-memory', () => s.createPage(PageType.data, mem, 13));
    const small = s.createMeter(mem, pageCharge(PageType.keys, 4) - 1);
    expectFault(s, 'out-of-memory', () => s.createPage(PageType.keys, small, 4));
    const big = s.createMeter(mem, 1_000_000);
    expectFault(s, 'out-of-memory', () => s.createPage(PageType.data, big, 13));
    expect(s.pageSize(s.createPage(PageType.data, big, 12))).toBe(12);
    expect(s.primeMemory.remaining).toBe(0);
  });
});

describe('createMeter', () => {
  it('creates a child holding the amount, with a controlling key', () => {
    const { s, mem, time } = setup();
    const k = s.createMeter(time, 30);
    expect(k).toMatchObject({ kind: KeyKind.meter, value: MeterRights.control, version: 0 });
    const m = s.meter(k, true);
    expect(m).toBeInstanceOf(Meter);
    expect(m.remaining).toBe(30);
    expect(m.resource).toBe(Resource.time);
    expect(m.parent).toBe(s.primeTime);
    expect(m.depth).toBe(1);
    const grand = s.meter(s.createMeter(s.attenuate(k, 1), UNLIMITED), true);
    expect(grand.remaining).toBe(UNLIMITED);
    expect([grand.parent, grand.depth]).toEqual([m, 2]);
    expect(s.meter(s.createMeter(mem, 0), false).resource).toBe(Resource.memory);
  });

  it(`charges ${LIMITS.meterWords} words to a memory meter when given one, atomically`, () => {
    const { s, mem, time } = setup();
    const wallet = s.createMeter(mem, LIMITS.meterWords + 5);
    s.createMeter(time, 30, wallet);
    expect(s.meter(wallet, false).remaining).toBe(5);
    // Shares pay too; a fault changes nothing.
    const before = s.nextId;
    expectFault(s, 'out-of-memory', () => s.createMeter(time, 30, wallet));
    expectFault(s, 'out-of-memory', () => s.attenuate(time, 2, wallet));
    expectFault(s, 'wrong-kind', () => s.createMeter(time, 30, time));
    expect(s.nextId).toBe(before);
    s.setMeter(wallet, LIMITS.meterWords);
    s.attenuate(time, 2, wallet);
    expect(s.meter(wallet, false).remaining).toBe(0);
  });

  it.each(BAD_AMOUNTS)('faults bad-argument on amount %s', (amount) => {
    const { s, mem } = setup();
    expectFault(s, 'bad-argument', () => s.createMeter(mem, amount));
  });

  it('faults on a parent key that is null, void or not a meter key', () => {
    const { s, mem, data } = setup();
    const child = s.createMeter(mem, 5);
    s.sever(child);
    expectFault(s, 'null-key', () => s.createMeter(NULL_KEY, 1));
    expectFault(s, 'null-key', () => s.createMeter(child, 1));
    expectFault(s, 'wrong-kind', () => s.createMeter(data, 1));
    expectFault(s, 'wrong-kind', () => s.createMeter(numberKey(1), 1));
  });

  it(`allows chains ${LIMITS.maxMeterDepth} deep and no deeper`, () => {
    const s = new Store();
    let k = s.meterKey(s.primeTime, true);
    for (let i = 0; i < LIMITS.maxMeterDepth; i++) k = s.createMeter(k, UNLIMITED);
    expect(s.meter(k, false).depth).toBe(LIMITS.maxMeterDepth);
    expectFault(s, 'bad-argument', () => s.createMeter(k, 1));
  });
});

describe('createDevice', () => {
  it('creates a device of the given type with an empty transcript', () => {
    const s = new Store();
    for (const type of [0, 7, 0x7fffffff]) {
      const k = s.createDevice(type);
      expect(k.kind).toBe(KeyKind.device);
      const d = s.device(k);
      expect(d).toBeInstanceOf(Device);
      expect(d.deviceType).toBe(type);
      expect(d.transcript).toEqual([]);
    }
  });

  it.each([-1, 1.5, 2 ** 31, Number.NaN])('faults bad-argument on device type %s', (type) => {
    const s = new Store();
    expectFault(s, 'bad-argument', () => s.createDevice(type));
  });

  it('device() faults on other keys', () => {
    const { s, data } = setup();
    expectFault(s, 'wrong-kind', () => s.device(data));
    expectFault(s, 'null-key', () => s.device(NULL_KEY));
  });
});

describe('makeDomain', () => {
  it('sets STATE, IP, POINTER and SELF and returns a gate key', () => {
    const { s, mem } = setup();
    const page = s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1);
    s.setSlot(page, DomainSlot.IP, numberKey(17));
    s.setSlot(page, DomainSlot.POINTER, page);
    s.setSlot(page, DomainSlot.STATE, numberKey(DomainState.halted));
    const gate = s.makeDomain(page);
    expect(gate).toMatchObject({ kind: KeyKind.domain, target: page.target, version: 0 });
    const d = s.domain(gate);
    expect(d.isDomain).toBe(true);
    expect(s.getSlot(page, DomainSlot.STATE)).toBe(numberKey(DomainState.available));
    expect(s.getSlot(page, DomainSlot.IP)).toBe(numberKey(17));
    expect(s.getSlot(page, DomainSlot.POINTER)).toBe(numberKey(0));
    expect(s.getSlot(page, DomainSlot.SELF)).toEqual(page);
    expect(s.domainKey(d)).toEqual(gate);
  });

  it('faults on a read-only, data, too-small, non-page, null or void key, or a domain already', () => {
    const { s, mem, data, keys } = setup();
    const { page } = domainOf(s, mem);
    const big = s.createPage(PageType.keys, mem, 20);
    const dead = s.createPage(PageType.keys, mem, 20);
    s.destroyPage(dead);
    expectFault(s, 'rights-violation', () => s.makeDomain(s.attenuate(big, 1)));
    expectFault(s, 'wrong-kind', () => s.makeDomain(data));
    expectFault(s, 'out-of-bounds', () => s.makeDomain(keys));
    expectFault(s, 'bad-argument', () => s.makeDomain(page));
    expectFault(s, 'wrong-kind', () => s.makeDomain(s.meterKey(s.primeMemory, true)));
    expectFault(s, 'null-key', () => s.makeDomain(NULL_KEY));
    expectFault(s, 'null-key', () => s.makeDomain(dead));
  });

  it("charges the page's memory meter MEMORY_CHARGES.domain, and faults changing nothing when it cannot pay", () => {
    const { s, mem } = setup(pageCharge(PageType.keys, DomainSlot.RESUME + 1) + MEMORY_CHARGES.domain - 1);
    const page = s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1);
    expect(s.primeMemory.remaining).toBe(MEMORY_CHARGES.domain - 1);
    expectFault(s, 'out-of-memory', () => s.makeDomain(page));
    s.primeMemory.remaining += 1;
    s.makeDomain(page);
    expect(s.primeMemory.remaining).toBe(0);
    s.destroyPage(page);
    expect(s.primeMemory.remaining).toBe(
      pageCharge(PageType.keys, DomainSlot.RESUME + 1) + MEMORY_CHARGES.domain - MEMORY_CHARGES.id,
    );
  });

  it('tells onDomainMade about each domain made, once made, and not about refusals', () => {
    const { s, mem, data } = setup();
    const made: [number, Key][] = [];
    s.onDomainMade = (page) => made.push([page.id, page.slots[DomainSlot.IP]!]);
    const page = s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1);
    s.setSlot(page, DomainSlot.IP, numberKey(17));
    s.makeDomain(page);
    expectFault(s, 'bad-argument', () => s.makeDomain(page));
    expectFault(s, 'wrong-kind', () => s.makeDomain(data));
    const other = domainOf(s, mem).obj;
    expect(made).toEqual([
      [page.target, numberKey(17)],
      [other.id, numberKey(0)],
    ]);
  });

  it('domainKey faults on a key page that is not a domain', () => {
    const { s, keys } = setup();
    expectFault(s, 'wrong-kind', () => s.domainKey(s.keyPage(keys, false)));
  });
});

describe('readWord / writeWord', () => {
  it('writes and reads back 32-bit words, wrapping', () => {
    const { s, data } = setup();
    s.writeWord(data, 0, 5);
    s.writeWord(data, 1, 2 ** 31);
    s.writeWord(data, 2, 2 ** 32 + 9);
    s.writeWord(data, 3, -7);
    expect([0, 1, 2, 3].map((i) => s.readWord(data, i))).toEqual([5, -(2 ** 31), 9, -7]);
    expect(s.readWord(s.attenuate(data, 1), 3)).toBe(-7);
  });

  it('faults on a read-only key, bad index, wrong kind, null or void key', () => {
    const { s, mem, data, keys } = setup();
    const ro = s.attenuate(data, 1);
    const severed = s.createPage(PageType.data, mem, 4);
    s.sever(severed);
    const destroyed = s.createPage(PageType.data, mem, 4);
    s.destroyPage(destroyed);
    expectFault(s, 'rights-violation', () => s.writeWord(ro, 0, 1));
    for (const i of [-1, 4, 1.5, Number.NaN]) {
      expectFault(s, 'out-of-bounds', () => s.readWord(data, i));
      expectFault(s, 'out-of-bounds', () => s.writeWord(data, i, 1));
    }
    for (const [fault, k] of [
      ['wrong-kind', keys],
      ['wrong-kind', s.meterKey(s.primeMemory, true)],
      ['wrong-kind', numberKey(3)],
      ['null-key', NULL_KEY],
      ['null-key', severed],
      ['null-key', destroyed],
      ['null-key', s.attenuate(severed, 0)],
    ] as const) {
      expectFault(s, fault, () => s.readWord(k, 0));
      expectFault(s, fault, () => s.writeWord(k, 0, 1));
    }
  });

  it('an empty page has no words', () => {
    const { s, mem } = setup();
    const empty = s.createPage(PageType.data, mem, 0);
    expectFault(s, 'out-of-bounds', () => s.readWord(empty, 0));
  });
});

describe('getSlot / setSlot', () => {
  it('stores keys and reads them back as they read now', () => {
    const { s, mem, data, keys } = setup();
    const victim = s.createPage(PageType.data, mem, 1);
    s.setSlot(keys, 0, data);
    s.setSlot(keys, 1, numberKey(-4));
    s.setSlot(keys, 2, victim);
    expect(s.getSlot(keys, 0)).toBe(data);
    expect(s.getSlot(s.attenuate(keys, 1), 1)).toEqual(numberKey(-4));
    expect(s.getSlot(keys, 2)).toBe(victim);
    expect(s.getSlot(keys, 3)).toBe(NULL_KEY);
    s.destroyPage(victim);
    expect(s.getSlot(keys, 2)).toBe(NULL_KEY);
    s.setSlot(keys, 0, NULL_KEY);
    expect(s.getSlot(keys, 0)).toBe(NULL_KEY);
  });

  it('faults on a read-only key, bad slot, wrong kind, null or void key', () => {
    const { s, data, keys } = setup();
    const ro = s.attenuate(keys, 1);
    expectFault(s, 'rights-violation', () => s.setSlot(ro, 0, data));
    for (const i of [-1, 4, 0.5, Number.NaN]) {
      expectFault(s, 'out-of-bounds', () => s.getSlot(keys, i));
      expectFault(s, 'out-of-bounds', () => s.setSlot(keys, i, data));
    }
    const gone = s.sever(keys);
    for (const [fault, k] of [
      ['wrong-kind', data],
      ['wrong-kind', s.attenuate(data, 1)],
      ['wrong-kind', s.meterKey(s.primeTime, false)],
      ['null-key', NULL_KEY],
      ['null-key', keys],
      ['null-key', ro],
    ] as const) {
      expectFault(s, fault, () => s.getSlot(k, 0));
      expectFault(s, fault, () => s.setSlot(k, 0, data));
    }
    expect(s.getSlot(gone, 0)).toBe(NULL_KEY);
  });

  it('fetches through a read-only key are sensory: nothing comes out stronger than read-only', () => {
    const { s, mem, data, keys } = setup();
    const domainPage = s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1);
    const gate = s.makeDomain(domainPage);
    const control = s.createMeter(s.meterKey(s.primeTime, false), 5);
    s.setSlot(keys, 0, data);
    s.setSlot(keys, 1, control);
    s.setSlot(keys, 2, gate);
    s.setSlot(keys, 3, numberKey(7));
    const ro = s.attenuate(keys, 1);
    const page = s.getSlot(ro, 0);
    expect(page.kind).toBe(KeyKind.readPage);
    expectFault(s, 'rights-violation', () => s.writeWord(page, 0, 1));
    const meter = s.getSlot(ro, 1);
    expect(meter.kind).toBe(KeyKind.meter);
    expect(meter.value & MeterRights.control).toBe(0);
    expectFault(s, 'rights-violation', () => s.setMeter(meter, 99));
    expect(s.getSlot(ro, 2)).toBe(NULL_KEY);
    expect(s.getSlot(ro, 3)).toBe(numberKey(7));
    // The read-write key still yields the keys as stored.
    expect(s.getSlot(keys, 0)).toBe(data);
    expect(s.getSlot(keys, 2)).toBe(gate);
  });
});

describe('pageType / pageSize', () => {
  it('report type and size through read-write and read-only keys', () => {
    const { s, data, keys } = setup();
    expect(s.pageType(data)).toBe(PageType.data);
    expect(s.pageType(s.attenuate(keys, 1))).toBe(PageType.keys);
    expect(s.pageSize(s.attenuate(data, 1))).toBe(4);
    expect(s.pageSize(keys)).toBe(4);
  });

  it('fault on non-page, null and void keys', () => {
    const { s, mem, data } = setup();
    const { gate } = domainOf(s, mem);
    s.destroyPage(data);
    for (const [fault, k] of [
      ['wrong-kind', gate],
      ['wrong-kind', mem],
      ['wrong-kind', numberKey(0)],
      ['null-key', NULL_KEY],
      ['null-key', data],
    ] as const) {
      expectFault(s, fault, () => s.pageType(k));
      expectFault(s, fault, () => s.pageSize(k));
    }
  });
});

describe('resizePage', () => {
  it('grows a data page (zeros) and shrinks it (truncates), charging and refunding', () => {
    const { s, data } = setup(100);
    const left = s.primeMemory.remaining;
    s.writeWord(data, 3, 33);
    s.resizePage(data, 6);
    expect(Array.from(s.dataPage(data, false).words)).toEqual([0, 0, 0, 33, 0, 0]);
    expect(s.primeMemory.remaining).toBe(left - 2 * dataWord);
    s.resizePage(data, 4);
    expect(s.readWord(data, 3)).toBe(33);
    s.resizePage(data, 2);
    expect(Array.from(s.dataPage(data, false).words)).toEqual([0, 0]);
    expect(s.primeMemory.remaining).toBe(left + 2 * dataWord);
    s.resizePage(data, 2);
    expect(s.primeMemory.remaining).toBe(left + 2 * dataWord);
    s.resizePage(data, 0);
    expect(s.pageSize(data)).toBe(0);
  });

  it('grows a key page (null slots) and shrinks it, through child meters too', () => {
    const two = pageCharge(PageType.keys, 2);
    const { s, mem } = setup(two + 3 * keySlot + 100);
    const child = s.createMeter(mem, two + 3 * keySlot + 10);
    const k = s.createPage(PageType.keys, child, 2);
    s.setSlot(k, 1, numberKey(9));
    s.resizePage(k, 5);
    expect(s.keyPage(k, false).slots).toEqual([NULL_KEY, numberKey(9), NULL_KEY, NULL_KEY, NULL_KEY]);
    expect(s.meter(child, false).remaining).toBe(10);
    expectFault(s, 'out-of-memory', () => s.resizePage(k, 6));
    s.resizePage(k, 1);
    expect(s.keyPage(k, false).slots).toEqual([NULL_KEY]);
    expect(s.meter(child, false).remaining).toBe(10 + 4 * keySlot);
    expect(s.primeMemory.remaining).toBe(100 + 4 * keySlot);
  });

  it('keeps a domain page at least as large as the special slots', () => {
    const { s, mem } = setup();
    const { page } = domainOf(s, mem);
    s.resizePage(page, 20);
    s.resizePage(page, DomainSlot.RESUME + 1);
    expectFault(s, 'bad-argument', () => s.resizePage(page, DomainSlot.RESUME));
  });

  it('faults on read-only, non-page, null and void keys and bad sizes', () => {
    const { s, mem, data, keys } = setup(pageCharge(PageType.data, 1) + 22 * dataWord);
    const dead = s.createPage(PageType.data, mem, 1);
    const deadRo = s.attenuate(dead, 1);
    s.destroyPage(dead);
    expectFault(s, 'rights-violation', () => s.resizePage(s.attenuate(data, 1), 2));
    expectFault(s, 'rights-violation', () => s.resizePage(s.attenuate(keys, 1), 2));
    expectFault(s, 'null-key', () => s.resizePage(deadRo, 2));
    expectFault(s, 'null-key', () => s.resizePage(dead, 2));
    expectFault(s, 'null-key', () => s.resizePage(NULL_KEY, 2));
    expectFault(s, 'wrong-kind', () => s.resizePage(mem, 2));
    expectFault(s, 'wrong-kind', () => s.resizePage(numberKey(1), 2));
    for (const bad of BAD_COUNTS) {
      expectFault(s, 'bad-argument', () => s.resizePage(data, bad));
      expectFault(s, 'bad-argument', () => s.resizePage(keys, bad));
    }
    expectFault(s, 'bad-argument', () => s.resizePage(data, LIMITS.maxDataPageWords + 1));
    expectFault(s, 'bad-argument', () => s.resizePage(keys, LIMITS.maxKeyPageSlots + 1));
    // What is left: 22 words and the destroyed page's refund (all but its id's charge).
    const left = s.primeMemory.remaining;
    expect(left).toBe(22 * dataWord + pageCharge(PageType.data, 1) - MEMORY_CHARGES.id);
    expectFault(s, 'out-of-memory', () => s.resizePage(data, 4 + left / dataWord + 1));
    s.resizePage(data, 4 + left / dataWord);
    expect(s.primeMemory.remaining).toBe(0);
  });
});

describe('destroyPage', () => {
  it('refunds the memory and voids every key to the page, wherever it is kept', () => {
    const { s, mem, data, keys } = setup(1000);
    const child = s.createMeter(mem, 500);
    const p = s.createPage(PageType.data, child, 10);
    const ro = s.attenuate(p, 1);
    s.setSlot(keys, 0, p);
    s.setSlot(keys, 1, ro);
    const count = s.objectCount;
    s.destroyPage(p);
    expect(s.objectCount).toBe(count - 1);
    expect(s.object(p.target)).toBeUndefined();
    // All but the id's charge comes back.
    expect(s.meter(child, false).remaining).toBe(500 - MEMORY_CHARGES.id);
    expect(s.primeMemory.remaining).toBe(1000 - MEMORY_CHARGES.id);
    for (const k of [p, ro]) {
      expect(s.normalize(k)).toBe(NULL_KEY);
      expect(s.deref(k)).toBeUndefined();
    }
    expect(s.getSlot(keys, 0)).toBe(NULL_KEY);
    expect(s.getSlot(keys, 1)).toBe(NULL_KEY);
    expectFault(s, 'null-key', () => s.destroyPage(p));
    s.destroyPage(keys);
    s.destroyPage(data);
    expect(s.primeMemory.remaining).toBe(1000 + SETUP_WORDS - 3 * MEMORY_CHARGES.id);
  });

  it('destroys idle, halted and faulted domains, voiding gate and resume keys', () => {
    for (const state of [DomainState.available, DomainState.halted, DomainState.faulted]) {
      const { s, mem } = setup();
      const { page, gate, obj } = domainOf(s, mem);
      const resume = s.resumeKey(obj);
      s.setSlot(page, DomainSlot.STATE, numberKey(state));
      s.destroyPage(page);
      expect(s.normalize(gate)).toBe(NULL_KEY);
      expect(s.normalize(resume)).toBe(NULL_KEY);
    }
  });

  it.each([DomainState.running, DomainState.waiting, DomainState.blocked, DomainState.waitingWord])(
    'faults busy on a domain in state %s',
    (state) => {
      const { s, mem } = setup();
      const { page } = domainOf(s, mem);
      s.setSlot(page, DomainSlot.STATE, numberKey(state));
      expectFault(s, 'busy', () => s.destroyPage(page));
    },
  );

  it('faults busy on the root or active domain', () => {
    const { s, mem } = setup();
    const { page } = domainOf(s, mem);
    s.kernel.root = page.target;
    expectFault(s, 'busy', () => s.destroyPage(page));
    s.kernel.root = 0;
    s.kernel.active = page.target;
    expectFault(s, 'busy', () => s.destroyPage(page));
  });

  it('faults on read-only, non-page, null and void keys', () => {
    const { s, mem, data, keys } = setup();
    const { gate } = domainOf(s, mem);
    const old = s.attenuate(data, 1);
    s.sever(data);
    expectFault(s, 'rights-violation', () => s.destroyPage(s.attenuate(keys, 1)));
    expectFault(s, 'null-key', () => s.destroyPage(old));
    expectFault(s, 'null-key', () => s.destroyPage(data));
    expectFault(s, 'null-key', () => s.destroyPage(NULL_KEY));
    expectFault(s, 'wrong-kind', () => s.destroyPage(gate));
    expectFault(s, 'wrong-kind', () => s.destroyPage(mem));
    expectFault(s, 'wrong-kind', () => s.destroyPage(numberKey(5)));
  });
});

describe('attenuate', () => {
  /** Every kind of key a guest can hold, live and void. */
  function zoo() {
    const { s, mem, data, keys } = setup(1000, 90);
    const { obj } = domainOf(s, mem);
    const dead = s.createPage(PageType.data, mem, 1);
    s.destroyPage(dead);
    const usedResume = s.resumeKey(obj);
    s.consumeResume(usedResume);
    const cases: Record<string, Key> = {
      null: NULL_KEY,
      number: numberKey(77),
      'page(data)': data,
      'page(keys)': keys,
      'read-only page': s.attenuate(data, 1),
      domain: s.domainKey(obj),
      resume: s.resumeKey(obj),
      'meter(control)': s.meterKey(s.primeTime, true),
      'meter(use)': s.meterKey(s.primeTime, false),
      'memory meter(use)': s.meterKey(s.primeMemory, false),
      device: s.createDevice(1),
      'void page': dead,
      'used resume': usedResume,
    };
    return { s, cases };
  }

  type Expect = { fault: string } | { kind: KeyKind; same?: true; child?: true };
  const table: Record<string, Record<string, Expect>> = {
    null: { '1': { fault: 'null-key' }, '2': { fault: 'null-key' }, '3': { fault: 'null-key' } },
    number: {
      '1': { fault: 'bad-argument' },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    'page(data)': {
      '1': { kind: KeyKind.readPage },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    'page(keys)': {
      '1': { kind: KeyKind.readPage },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    'read-only page': {
      '1': { kind: KeyKind.readPage, same: true },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    domain: {
      '1': { fault: 'bad-argument' },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    resume: {
      '1': { fault: 'bad-argument' },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    'meter(control)': {
      '1': { kind: KeyKind.meter },
      '2': { kind: KeyKind.meter, child: true },
      '3': { kind: KeyKind.meter, child: true },
    },
    'meter(use)': {
      '1': { kind: KeyKind.meter, same: true },
      '2': { kind: KeyKind.meter, child: true },
      '3': { kind: KeyKind.meter, child: true },
    },
    'memory meter(use)': {
      '1': { kind: KeyKind.meter, same: true },
      '2': { kind: KeyKind.meter, child: true },
      '3': { kind: KeyKind.meter, child: true },
    },
    device: {
      '1': { fault: 'bad-argument' },
      '2': { fault: 'bad-argument' },
      '3': { fault: 'bad-argument' },
    },
    'void page': { '1': { fault: 'null-key' }, '2': { fault: 'null-key' }, '3': { fault: 'null-key' } },
    'used resume': { '1': { fault: 'null-key' }, '2': { fault: 'null-key' }, '3': { fault: 'null-key' } },
  };
  const rows = Object.entries(table).flatMap(([name, byOption]) =>
    Object.entries(byOption).map(([option, want]) => ({ name, option: Number(option), want })),
  );

  it('covers every kind in the zoo', () => {
    expect(Object.keys(table).sort()).toEqual(Object.keys(zoo().cases).sort());
  });

  it.each(Object.keys(table))('option 0 copies %s as it reads now', (name) => {
    const { s, cases } = zoo();
    const k = cases[name]!;
    const before = snapshot(s);
    expect(s.attenuate(k, 0)).toEqual(s.normalize(k));
    expect(snapshot(s)).toEqual(before);
  });

  it.each(Object.keys(table))('invalid options fault bad-argument on %s', (name) => {
    const { s, cases } = zoo();
    for (const option of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expectFault(s, 'bad-argument', () => s.attenuate(cases[name]!, option));
    }
  });

  it.each(rows)('$name with option $option', ({ name, option, want }) => {
    const { s, cases } = zoo();
    const k = cases[name]!;
    if ('fault' in want) {
      expectFault(s, want.fault as 'null-key', () => s.attenuate(k, option));
      return;
    }
    const count = s.objectCount;
    const out = s.attenuate(k, option);
    expect(out.kind).toBe(want.kind);
    if (want.kind === KeyKind.readPage) expect(out).toMatchObject({ target: k.target, version: k.version });
    if (want.kind === KeyKind.meter) expect(out.value).toBe(MeterRights.use);
    if (want.same) expect(out).toEqual(k);
    if (want.child) {
      const parent = s.meter(k, false);
      const child = s.meter(out, false);
      expect(s.objectCount).toBe(count + 1);
      expect(child.parent).toBe(parent);
      expect(child.resource).toBe(parent.resource);
      expect(child.remaining).toBe(
        parent.remaining === UNLIMITED ? UNLIMITED : Math.floor(parent.remaining / option),
      );
      expectFault(s, 'rights-violation', () => s.setMeter(out, 1));
    } else {
      expect(s.objectCount).toBe(count);
      if (want.kind === KeyKind.meter) expect(out).toMatchObject({ target: k.target, version: k.version });
    }
  });

  it('a share of a bounded meter is floor(remaining / n)', () => {
    const { s, time } = setup(1000, 90);
    expect(s.meter(s.attenuate(time, 4), false).remaining).toBe(22);
    expect(s.meter(s.attenuate(time, 1000), false).remaining).toBe(0);
  });

  it('a share at the deepest meter faults bad-argument', () => {
    const s = new Store();
    let k = s.meterKey(s.primeTime, true);
    for (let i = 0; i < LIMITS.maxMeterDepth; i++) k = s.createMeter(k, 5);
    expectFault(s, 'bad-argument', () => s.attenuate(k, 2));
    expect(s.attenuate(k, 1).value).toBe(MeterRights.use);
  });
});

describe('sever', () => {
  it('voids every key to a page (read-only, gate, resume, copies in slots) and keeps its content', () => {
    const { s, mem, keys } = setup();
    const { page, gate, obj } = domainOf(s, mem);
    const ro = s.attenuate(page, 1);
    const resume = s.resumeKey(obj);
    s.setSlot(keys, 0, page);
    s.setSlot(keys, 1, gate);
    s.setSlot(keys, 2, resume);
    s.setSlot(page, DomainSlot.RECV, numberKey(5));
    const fresh = s.sever(page);
    expect(fresh).toMatchObject({ kind: KeyKind.page, target: page.target, version: 1 });
    for (const k of [page, ro, gate, resume]) {
      expect(s.normalize(k)).toBe(NULL_KEY);
      expect(s.deref(k)).toBeUndefined();
    }
    for (const i of [0, 1, 2]) expect(s.getSlot(keys, i)).toBe(NULL_KEY);
    expect(s.getSlot(fresh, DomainSlot.RECV)).toBe(numberKey(5));
    expect(s.domainKey(s.keyPage(fresh, false)).version).toBe(1);
    const again = s.sever(fresh);
    expect(again.version).toBe(2);
    expect(s.normalize(fresh)).toBe(NULL_KEY);
  });

  it('voids every key to a meter; its children keep drawing on it', () => {
    const { s, time } = setup();
    const m = s.createMeter(time, 40);
    const use = s.attenuate(m, 1);
    const child = s.createMeter(use, 10);
    const fresh = s.sever(m);
    expect(fresh).toMatchObject({ kind: KeyKind.meter, target: m.target, version: 1, value: 1 });
    expect(s.normalize(m)).toBe(NULL_KEY);
    expect(s.normalize(use)).toBe(NULL_KEY);
    expectFault(s, 'null-key', () => s.createMeter(use, 1));
    const c = s.meter(child, false);
    s.spend(c, 3);
    expect(s.meter(fresh, false).remaining).toBe(37);
  });

  it('refuses prime meters, use-only meter keys, read-only pages and other kinds', () => {
    const { s, mem, time, data } = setup();
    const { gate, obj } = domainOf(s, mem);
    const dead = s.createMeter(time, 1);
    s.sever(dead);
    const useOnly = s.attenuate(s.createMeter(time, 1), 1);
    const device = s.createDevice(0);
    expectFault(s, 'rights-violation', () => s.sever(time));
    expectFault(s, 'rights-violation', () => s.sever(mem));
    expectFault(s, 'rights-violation', () => s.sever(useOnly));
    expectFault(s, 'rights-violation', () => s.sever(s.attenuate(data, 1)));
    expectFault(s, 'rights-violation', () => s.sever(gate));
    expectFault(s, 'rights-violation', () => s.sever(s.resumeKey(obj)));
    expectFault(s, 'rights-violation', () => s.sever(device));
    expectFault(s, 'rights-violation', () => s.sever(numberKey(3)));
    expectFault(s, 'null-key', () => s.sever(NULL_KEY));
    expectFault(s, 'null-key', () => s.sever(dead));
    s.destroyPage(data);
    expectFault(s, 'null-key', () => s.sever(data));
  });
});

describe('resumeKey / consumeResume', () => {
  it('is one-shot: using one copy voids every copy, wherever kept', () => {
    const { s, mem, keys } = setup();
    const { obj } = domainOf(s, mem);
    const r = s.resumeKey(obj);
    expect(r).toMatchObject({ kind: KeyKind.resume, target: obj.id, version: 0, value: 0 });
    const copy = s.attenuate(r, 0);
    s.setSlot(keys, 0, r);
    expect(s.getSlot(keys, 0)).toBe(r);
    expect(s.consumeResume(copy)).toBe(obj);
    expect(obj.resumeGen).toBe(1);
    expect(s.normalize(r)).toBe(NULL_KEY);
    expect(s.normalize(copy)).toBe(NULL_KEY);
    expect(s.getSlot(keys, 0)).toBe(NULL_KEY);
    expect(s.attenuate(r, 0)).toBe(NULL_KEY);
    expectFault(s, 'null-key', () => s.consumeResume(r));
    expectFault(s, 'null-key', () => s.consumeResume(copy));
    // A fresh resume key works once again.
    const next = s.resumeKey(obj);
    expect(next.value).toBe(1);
    expect(s.consumeResume(next)).toBe(obj);
    expectFault(s, 'null-key', () => s.consumeResume(next));
  });

  it('faults on non-resume, null and void keys', () => {
    const { s, mem, data } = setup();
    const { page, gate, obj } = domainOf(s, mem);
    const r = s.resumeKey(obj);
    expectFault(s, 'wrong-kind', () => s.consumeResume(gate));
    expectFault(s, 'wrong-kind', () => s.consumeResume(data));
    expectFault(s, 'wrong-kind', () => s.consumeResume(numberKey(0)));
    expectFault(s, 'null-key', () => s.consumeResume(NULL_KEY));
    const fresh = s.sever(page);
    expectFault(s, 'null-key', () => s.consumeResume(r));
    const r2 = s.resumeKey(s.keyPage(fresh, false));
    s.destroyPage(fresh);
    expectFault(s, 'null-key', () => s.consumeResume(r2));
  });

  it('renewResumeKey makes a used-up key good for the current generation, in place', () => {
    const { s, mem } = setup();
    const { obj } = domainOf(s, mem);
    const r = s.resumeKey(obj);
    s.consumeResume(r);
    expect(s.normalize(r)).toBe(NULL_KEY);
    expect(s.renewResumeKey(r, obj)).toBe(true);
    expect(r).toEqual(s.resumeKey(obj));
    expect(s.normalize(r)).toBe(r);
    expect(s.consumeResume(r)).toBe(obj);
    expect(obj.resumeGen).toBe(2);
  });

  it('renewResumeKey refuses anything but a resume key to that domain as it is now', () => {
    const { s, mem } = setup();
    const { page, gate, obj } = domainOf(s, mem);
    const other = domainOf(s, mem).obj;
    const r = s.resumeKey(obj);
    s.consumeResume(r);
    const before = { ...r };
    expect(s.renewResumeKey(gate, obj)).toBe(false);
    expect(s.renewResumeKey(numberKey(0), obj)).toBe(false);
    expect(s.renewResumeKey(r, other)).toBe(false);
    s.sever(page); // a new version: keys made before designate nothing
    expect(s.renewResumeKey(r, obj)).toBe(false);
    expect(r).toEqual(before);
  });
});

describe('available / spend / exhausted', () => {
  function chain() {
    const { s, time } = setup(1000, 100);
    const a = s.meter(s.createMeter(time, 50), true);
    const b = s.meter(s.createMeter(s.meterKey(a, true), UNLIMITED), true);
    const c = s.meter(s.createMeter(s.meterKey(b, true), 30), true);
    return { s, a, b, c };
  }

  it('available is the least amount left along the chain', () => {
    const { s, a, b, c } = chain();
    expect(s.available(s.primeTime)).toBe(100);
    expect(s.available(a)).toBe(50);
    expect(s.available(b)).toBe(50);
    expect(s.available(c)).toBe(30);
    expect(new Store().available(new Store().primeTime)).toBe(UNLIMITED);
  });

  it('spend charges the meter and every bounded ancestor', () => {
    const { s, a, b, c } = chain();
    s.spend(c, 10);
    expect([c.remaining, b.remaining, a.remaining, s.primeTime.remaining]).toEqual([20, UNLIMITED, 40, 90]);
    s.spend(c, 0);
    s.spend(b, 40);
    expect([c.remaining, b.remaining, a.remaining, s.primeTime.remaining]).toEqual([20, UNLIMITED, 0, 50]);
    expect(s.available(c)).toBe(0);
  });

  it('overspending is an internal error that changes nothing', () => {
    const { s, a, c } = chain();
    s.spend(c, 25);
    const before = snapshot(s);
    // c has 5 left and a 25: the chain cannot pay 6, though c's nearer parent is unlimited.
    expect(() => s.spend(c, 6)).toThrow(/internal/);
    expect(() => s.spend(a, 26)).toThrow(/internal/);
    expect(() => s.spend(a, -1)).toThrow(/internal/);
    expect(() => s.spend(a, Number.NaN)).toThrow(/internal/);
    expect(snapshot(s)).toEqual(before);
    for (const m of [c, a, s.primeTime]) expect(m.remaining).toBeGreaterThanOrEqual(0);
  });

  it('exhausted names the nearest meter that cannot pay', () => {
    const { s, a, b, c } = chain();
    expect(s.exhausted(c)).toBeUndefined();
    expect(s.exhausted(c, 30)).toBeUndefined();
    expect(s.exhausted(c, 31)).toBe(c);
    expect(s.exhausted(b, 31)).toBeUndefined();
    expect(s.exhausted(b, 51)).toBe(a);
    s.spend(a, 50);
    expect(s.exhausted(b)).toBe(a);
    expect(s.exhausted(c)).toBe(c.remaining < 1 ? c : a);
    expect(s.exhausted(s.primeTime, 51)).toBe(s.primeTime);
    expect(s.exhausted(s.primeTime, 0)).toBeUndefined();
  });
});

describe('setMeter / setMeterKeeper', () => {
  it('setMeter sets what a child meter has left', () => {
    const { s, time } = setup();
    const m = s.createMeter(time, 10);
    s.setMeter(m, 99);
    expect(s.meter(m, false).remaining).toBe(99);
    s.setMeter(m, UNLIMITED);
    expect(s.meter(m, false).remaining).toBe(UNLIMITED);
    s.setMeter(m, 0);
    expect(s.meter(m, false).remaining).toBe(0);
  });

  it('setMeter faults on use-only, prime, non-meter, null and void keys and bad amounts', () => {
    const { s, mem, time, data } = setup();
    const m = s.createMeter(time, 10);
    const dead = s.createMeter(time, 10);
    s.sever(dead);
    expectFault(s, 'rights-violation', () => s.setMeter(s.attenuate(m, 1), 5));
    expectFault(s, 'rights-violation', () => s.setMeter(time, 5));
    expectFault(s, 'rights-violation', () => s.setMeter(mem, 5));
    expectFault(s, 'wrong-kind', () => s.setMeter(data, 5));
    expectFault(s, 'null-key', () => s.setMeter(NULL_KEY, 5));
    expectFault(s, 'null-key', () => s.setMeter(dead, 5));
    for (const bad of BAD_AMOUNTS) expectFault(s, 'bad-argument', () => s.setMeter(m, bad));
  });

  it('setMeterKeeper takes a gate key or null; a void gate key reads as null', () => {
    const { s, mem, time } = setup();
    const { page, gate } = domainOf(s, mem);
    const m = s.createMeter(time, 10);
    s.setMeterKeeper(m, gate);
    expect(s.meter(m, false).keeper).toBe(gate);
    s.setMeterKeeper(m, NULL_KEY);
    expect(s.meter(m, false).keeper).toBe(NULL_KEY);
    s.setMeterKeeper(time, gate);
    expect(s.primeTime.keeper).toBe(gate);
    s.sever(page);
    s.setMeterKeeper(m, gate);
    expect(s.meter(m, false).keeper).toBe(NULL_KEY);
  });

  it('setMeterKeeper faults on a keeper that is not a gate, or a meter key that does not control', () => {
    const { s, mem, time, data } = setup();
    const { gate } = domainOf(s, mem);
    const m = s.createMeter(time, 10);
    expectFault(s, 'wrong-kind', () => s.setMeterKeeper(m, data));
    expectFault(s, 'wrong-kind', () => s.setMeterKeeper(m, numberKey(4)));
    expectFault(s, 'wrong-kind', () => s.setMeterKeeper(m, time));
    expectFault(s, 'rights-violation', () => s.setMeterKeeper(s.attenuate(m, 1), gate));
    expectFault(s, 'null-key', () => s.setMeterKeeper(NULL_KEY, gate));
    expectFault(s, 'wrong-kind', () => s.setMeterKeeper(data, gate));
  });
});

describe('epoch', () => {
  it('moves when a key may have become void or words were replaced, and only then', () => {
    const { s, mem, time, data, keys } = setup();
    const child = s.createMeter(time, 10);
    let last = s.epoch;
    const moved = () => {
      const m = s.epoch !== last;
      last = s.epoch;
      return m;
    };
    s.writeWord(data, 0, 5);
    s.readWord(data, 0);
    s.setSlot(keys, 0, data);
    s.attenuate(data, 1);
    s.createPage(PageType.data, mem, 2);
    const { obj } = domainOf(s, mem);
    s.consumeResume(s.resumeKey(obj));
    expect(moved()).toBe(false);
    s.resizePage(data, 8);
    expect(moved()).toBe(true);
    const fresh = s.sever(data);
    expect(moved()).toBe(true);
    s.sever(child);
    expect(moved()).toBe(true);
    s.destroyPage(fresh);
    expect(moved()).toBe(true);
  });
});

describe('Store.restore', () => {
  function populated() {
    const { s, mem, time, data, keys } = setup();
    const { obj } = domainOf(s, mem);
    s.writeWord(data, 1, 12);
    s.setSlot(keys, 0, data);
    s.setSlot(keys, 1, s.resumeKey(obj));
    s.consumeResume(s.resumeKey(obj));
    s.setMeterKeeper(s.createMeter(time, 5), s.domainKey(obj));
    s.createDevice(3);
    s.destroyPage(s.createPage(PageType.data, mem, 2));
    s.sever(data);
    s.kernel.steps = 40;
    return s;
  }

  it('rebuilds the same store from its objects, next id and kernel', () => {
    const s = populated();
    const r = Store.restore([...s.objects()], s.nextId, s.kernel);
    expect(snapshot(r)).toEqual(snapshot(s));
    expect(r.primeMemory).toBe(s.primeMemory);
    // Ids are not reused after a restore either.
    const k = r.createPage(PageType.data, r.meterKey(r.primeMemory, true), 1);
    expect(k.target).toBe(s.nextId);
  });

  it('refuses repeated, zero, negative, fractional or too-large ids', () => {
    const s = populated();
    const objs = [...s.objects()];
    const kernel = defaultKernel();
    const bad = (o: DataPage) => () => Store.restore([...objs, o], s.nextId, kernel);
    expect(() => Store.restore([...objs, objs[3]!], s.nextId, kernel)).toThrow(GuestFault);
    for (const id of [0, -1, 1.5, s.nextId, s.nextId + 5]) {
      const o = new DataPage(id, 0, new Int32Array(1), PRIME_MEMORY);
      expect(bad(o)).toThrow(expect.objectContaining({ fault: 'bad-argument' }));
    }
  });

  it('refuses a bad next id and missing prime meters', () => {
    const s = populated();
    const objs = [...s.objects()];
    for (const nextId of [-1, 0, 2, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => Store.restore(objs.slice(0, 2), nextId, defaultKernel())).toThrow(
        expect.objectContaining({ fault: 'bad-argument' }),
      );
    }
    expect(() => Store.restore(objs.slice(1), s.nextId, defaultKernel())).toThrow(
      expect.objectContaining({ fault: 'bad-argument' }),
    );
    const fake = new DataPage(PRIME_TIME, 0, new Int32Array(0), PRIME_MEMORY);
    expect(() => Store.restore([fake, ...objs.slice(1)], s.nextId, defaultKernel())).toThrow(
      expect.objectContaining({ fault: 'bad-argument' }),
    );
  });
});

describe('normalize / deref and the key accessors', () => {
  it('null and number keys read as themselves and designate nothing', () => {
    const s = new Store();
    expect(s.normalize(NULL_KEY)).toBe(NULL_KEY);
    expect(s.normalize(numberKey(5000))).toEqual(numberKey(5000));
    expect(s.deref(NULL_KEY)).toBeUndefined();
    expect(s.deref(numberKey(1))).toBeUndefined();
  });

  it('live keys read as themselves; stale, destroyed or unknown targets read as null', () => {
    const { s, data, keys } = setup();
    expect(s.normalize(data)).toBe(data);
    expect(s.deref(data)).toBe(s.object(data.target));
    const stale = makeKey(KeyKind.page, keys.target, keys.version + 1);
    expect(s.normalize(stale)).toBe(NULL_KEY);
    expect(s.deref(stale)).toBeUndefined();
    const unknown = makeKey(KeyKind.page, 999, 0);
    expect(s.normalize(unknown)).toBe(NULL_KEY);
    expect(s.deref(unknown)).toBeUndefined();
    s.destroyPage(data);
    expect(s.normalize(data)).toBe(NULL_KEY);
  });

  it('a used resume key derefs to its domain but reads as null', () => {
    const { s, mem } = setup();
    const { obj } = domainOf(s, mem);
    const r = s.resumeKey(obj);
    s.consumeResume(s.resumeKey(obj));
    expect(s.deref(r)).toBe(obj);
    expect(s.normalize(r)).toBe(NULL_KEY);
  });

  it('dataPage / keyPage / page / domain / meter check kind, liveness and rights', () => {
    const { s, mem, data, keys } = setup();
    const { gate, page } = domainOf(s, mem);
    expect(s.dataPage(data, true)).toBe(s.object(data.target));
    expect(s.keyPage(keys, true)).toBe(s.object(keys.target));
    expect(s.page(s.attenuate(keys, 1))).toBe(s.object(keys.target));
    expect(s.domain(gate)).toBe(s.object(page.target));
    expect(s.meter(mem, true)).toBe(s.primeMemory);
    expectFault(s, 'rights-violation', () => s.dataPage(s.attenuate(data, 1), true));
    expectFault(s, 'rights-violation', () => s.keyPage(s.attenuate(keys, 1), true));
    expectFault(s, 'rights-violation', () => s.meter(s.attenuate(mem, 1), true));
    expectFault(s, 'wrong-kind', () => s.dataPage(keys, false));
    expectFault(s, 'wrong-kind', () => s.keyPage(data, false));
    expectFault(s, 'wrong-kind', () => s.domain(page));
    expectFault(s, 'wrong-kind', () => s.page(gate));
    expectFault(s, 'wrong-kind', () => s.meter(gate, false));
    expectFault(s, 'null-key', () => s.domain(NULL_KEY));
  });

  it('pageKey / meterKey make keys of the current version', () => {
    const { s, data, time } = setup();
    const fresh = s.sever(data);
    expect(s.pageKey(s.page(fresh))).toEqual(fresh);
    const m = s.meter(s.sever(s.createMeter(time, 3)), true);
    expect(s.meterKey(m, false)).toMatchObject({ version: 1, value: MeterRights.use });
  });
});

describe('counts at their limits', () => {
  it(`hands out at most ${LIMITS.maxNextId} ids, then faults out-of-memory, changing nothing`, () => {
    const { s, mem, time } = setup();
    const r = Store.restore([...s.objects()], LIMITS.maxNextId - 1, s.kernel);
    const rMem = r.meterKey(r.primeMemory, true);
    r.createPage(PageType.data, rMem, 4);
    expect(r.nextId).toBe(LIMITS.maxNextId);
    expectFault(r, 'out-of-memory', () => r.createPage(PageType.data, rMem, 4));
    expectFault(r, 'out-of-memory', () => r.createMeter(r.meterKey(r.primeTime, true), 5, rMem));
    expectFault(r, 'out-of-memory', () => r.checkNewMeter(r.meterKey(r.primeTime, true)));
    expectFault(r, 'out-of-memory', () => r.createDevice(1));
    expect(s.createMeter(time, 5, mem)).toMatchObject({ kind: KeyKind.meter });
  }, 20_000); // each check snapshots a table of 16M ids: seconds on a loaded machine

  it('a version at the u32 limit starts again from 0 once every key to the object is nulled', () => {
    const { s, mem, data, keys } = setup();
    const page = s.page(data);
    const holder = s.keyPage(keys, true);
    holder.slots[0] = data; // version 0: void since long ago, and would come back at 0
    page.version = LIMITS.maxCount;
    holder.slots[1] = s.pageKey(page); // the current key
    holder.slots[2] = s.attenuate(s.pageKey(page), 1);
    holder.slots[3] = numberKey(7);
    const fresh = s.sever(s.pageKey(page));
    expect(page.version).toBe(0);
    expect(holder.slots.slice(0, 3)).toEqual([NULL_KEY, NULL_KEY, NULL_KEY]);
    expect(holder.slots[3]).toEqual(numberKey(7));
    expect(s.normalize(fresh)).toEqual(fresh);
    // Meters and their keepers too.
    const m = s.meter(s.createMeter(s.meterKey(s.primeTime, true), 5, mem), true);
    const { gate } = domainOf(s, mem);
    m.version = LIMITS.maxCount;
    const old = s.meterKey(m, true);
    holder.slots[0] = old;
    s.sever(old);
    expect([m.version, holder.slots[0]]).toEqual([0, NULL_KEY]);
    m.keeper = gate;
    expect(s.normalize(m.keeper)).toEqual(gate);
  });

  it('a resume generation at the u32 limit starts again from 0 once every resume key to it is nulled', () => {
    const { s, mem, keys } = setup();
    const { obj } = domainOf(s, mem);
    const holder = s.keyPage(keys, true);
    holder.slots[0] = s.resumeKey(obj); // generation 0, void since long ago
    obj.resumeGen = LIMITS.maxCount;
    const current = s.resumeKey(obj);
    holder.slots[1] = current;
    holder.slots[2] = s.domainKey(obj);
    expect(s.consumeResume(current)).toBe(obj);
    expect(obj.resumeGen).toBe(0);
    expect(holder.slots.slice(0, 2)).toEqual([NULL_KEY, NULL_KEY]);
    expect(holder.slots[2]).toEqual(s.domainKey(obj)); // the gate key is untouched
  });

  it('refunds never push a meter past the largest safe amount', () => {
    const { s, mem, data } = setup();
    s.primeMemory.remaining = Number.MAX_SAFE_INTEGER - 1;
    s.destroyPage(data);
    expect(s.primeMemory.remaining).toBe(Number.MAX_SAFE_INTEGER);
    expect(s.normalize(mem)).toEqual(mem);
  });
});
