// Tests for key values (numberKey, makeKey, keysEqual, describeKey) and the
// guest fault catalogue.
import { describe, expect, it } from 'vitest';
import { FAULT_TABLE, Fault, fail, faultName, GuestFault } from './faults.js';
import {
  describeKey,
  KEY_KIND_NAMES,
  KeyKind,
  keysEqual,
  MeterRights,
  makeKey,
  NULL_KEY,
  numberKey,
} from './keys.js';

describe('numberKey', () => {
  it('carries one word and designates nothing', () => {
    const k = numberKey(42);
    expect(k).toEqual({ kind: KeyKind.number, target: 0, version: 0, value: 42 });
    expect(Object.isFrozen(k)).toBe(true);
  });

  it('shares the small keys, and the same large one asked for again and again', () => {
    expect(numberKey(0)).toBe(numberKey(0));
    expect(numberKey(1023)).toBe(numberKey(1023));
    // A CALL past word 1024 writes the same IP on every call: one key, not one each time.
    expect(numberKey(5000)).toBe(numberKey(5000));
    expect(Object.isFrozen(numberKey(-1))).toBe(true);
    expect(Object.isFrozen(numberKey(1 << 20))).toBe(true);
  });

  it('gives the right word whatever large keys were made before (they share places by low bits)', () => {
    const words = [
      1024,
      2048,
      5000,
      5000 + 1024,
      -1024,
      -1,
      2 ** 31 - 1,
      -(2 ** 31),
      1 << 20,
      (1 << 20) + 1024,
    ];
    for (let round = 0; round < 3; round++) {
      for (const w of words)
        expect(numberKey(w)).toEqual({ kind: KeyKind.number, target: 0, version: 0, value: w });
    }
  });

  it('wraps to a 32-bit two’s-complement word', () => {
    expect(numberKey(2 ** 31).value).toBe(-(2 ** 31));
    expect(numberKey(2 ** 32 + 7).value).toBe(7);
    expect(numberKey(-1).value).toBe(-1);
    expect(numberKey(1.9).value).toBe(1);
    expect(numberKey(Number.NaN).value).toBe(0);
    expect(numberKey(-0)).toBe(numberKey(0));
  });
});

describe('makeKey', () => {
  it('returns the one null key for the null kind, whatever else is asked', () => {
    expect(makeKey(KeyKind.null, 5, 6, 7)).toBe(NULL_KEY);
    expect(NULL_KEY).toEqual({ kind: KeyKind.null, target: 0, version: 0, value: 0 });
    expect(Object.isFrozen(NULL_KEY)).toBe(true);
  });

  it('makes number keys through numberKey (target and version dropped)', () => {
    expect(makeKey(KeyKind.number, 9, 9, 3)).toBe(numberKey(3));
    expect(makeKey(KeyKind.number, 9, 9, 2 ** 32 + 1)).toEqual(numberKey(1));
  });

  it('makes keys of every other kind, value defaulting to 0', () => {
    for (const kind of [KeyKind.page, KeyKind.readPage, KeyKind.domain, KeyKind.resume, KeyKind.device]) {
      expect(makeKey(kind, 12, 3)).toEqual({ kind, target: 12, version: 3, value: 0 });
    }
    expect(makeKey(KeyKind.meter, 4, 1, MeterRights.control).value).toBe(1);
  });
});

describe('keysEqual', () => {
  it('compares all four fields', () => {
    const k = makeKey(KeyKind.page, 5, 1);
    expect(keysEqual(k, makeKey(KeyKind.page, 5, 1))).toBe(true);
    expect(keysEqual(k, makeKey(KeyKind.readPage, 5, 1))).toBe(false);
    expect(keysEqual(k, makeKey(KeyKind.page, 6, 1))).toBe(false);
    expect(keysEqual(k, makeKey(KeyKind.page, 5, 2))).toBe(false);
    expect(keysEqual(k, makeKey(KeyKind.page, 5, 1, 1))).toBe(false);
    expect(keysEqual(numberKey(5000), numberKey(5000))).toBe(true);
    expect(keysEqual(NULL_KEY, numberKey(0))).toBe(false);
  });
});

describe('describeKey', () => {
  it('names every kind', () => {
    expect(describeKey(NULL_KEY)).toBe('null');
    expect(describeKey(numberKey(-3))).toBe('number(-3)');
    expect(describeKey(makeKey(KeyKind.page, 12, 0))).toBe('page#12v0');
    expect(describeKey(makeKey(KeyKind.readPage, 12, 1))).toBe('read-only-page#12v1');
    expect(describeKey(makeKey(KeyKind.domain, 7, 2))).toBe('domain#7v2');
    expect(describeKey(makeKey(KeyKind.resume, 7, 2, 5))).toBe('resume#7v2g5');
    expect(describeKey(makeKey(KeyKind.meter, 3, 0, MeterRights.control))).toBe('meter#3v0');
    expect(describeKey(makeKey(KeyKind.meter, 3, 0, MeterRights.use))).toBe('meter#3v0(use)');
    expect(describeKey(makeKey(KeyKind.device, 4, 0))).toBe('device#4v0');
  });

  it('has a name for every kind number', () => {
    expect(KEY_KIND_NAMES).toHaveLength(Object.keys(KeyKind).length);
    for (const kind of Object.values(KeyKind)) expect(KEY_KIND_NAMES[kind]).toBeTypeOf('string');
  });
});

describe('the fault catalogue', () => {
  it('numbers faults 1..n with distinct names and a doc line each', () => {
    expect(FAULT_TABLE.map((f) => f.code)).toEqual(FAULT_TABLE.map((_, i) => i + 1));
    expect(new Set(FAULT_TABLE.map((f) => f.name)).size).toBe(FAULT_TABLE.length);
    for (const f of FAULT_TABLE) expect(f.doc.length).toBeGreaterThan(0);
    expect(Object.isFrozen(FAULT_TABLE)).toBe(true);
  });

  it('maps names to numbers and back', () => {
    for (const f of FAULT_TABLE) {
      expect(Fault[f.name]).toBe(f.code);
      expect(faultName(f.code)).toBe(f.name);
    }
    expect(Object.keys(Fault)).toHaveLength(FAULT_TABLE.length);
    expect(Object.isFrozen(Fault)).toBe(true);
    expect(Fault['null-key']).toBe(5);
    expect(faultName(0)).toBeUndefined();
    expect(faultName(FAULT_TABLE.length + 1)).toBeUndefined();
    expect(faultName(1.5)).toBeUndefined();
  });

  it('GuestFault carries the name, the number and the message', () => {
    const f = new GuestFault('out-of-bounds', 'word 9 is outside the page');
    expect(f).toBeInstanceOf(Error);
    expect(f.name).toBe('GuestFault');
    expect(f.fault).toBe('out-of-bounds');
    expect(f.code).toBe(Fault['out-of-bounds']);
    expect(f.message).toBe('word 9 is outside the page');
  });

  it('fail throws a GuestFault', () => {
    expect(() => fail('busy', 'nope')).toThrow(GuestFault);
    try {
      fail('wrong-kind', 'x');
    } catch (e) {
      expect((e as GuestFault).fault).toBe('wrong-kind');
    }
  });
});
