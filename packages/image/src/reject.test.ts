// Strict loading: every rejection path, with its code, section and byte offset
// (binary) or JSON path (JSON form). Offsets below follow the layout of the tiny
// fixture, spelled out so that the test checks the decoder's arithmetic.
import { crc32 } from 'node:zlib';
import { LIMITS, PageType, Store } from '@keyvm/core';
import { describe, expect, it } from 'vitest';
import { catchImageError, tinyStore } from './fixtures.test-helpers.js';
import { decodeImage, encodeImage, type ImageJson, imageFromJson, imageToJson } from './index.js';

// Tiny image layout: header 0..64; meters #1 @64, #2 @88, #5 @112 (24 bytes: id,
// version, resource, parent, remaining u64); objects: data page #3 @136 (20 + 8
// bytes), domain page #4 @164 (28), device #6 @192 (20 + 4); keys @216: keepers
// null @216, null @217, domain @218; slots of #4: TIME @227, MEMORY @240, SELF @253,
// STATE @262, IP @267, CODE @272, POINTER @281, STACK @286, DATA @295, RECV @296,
// KEEPER @305, RESUME @306; kernel @319 (48 bytes); checksum (CRC-32) @367; total 371.
const TINY = encodeImage(tinyStore());

function edit(f: (dv: DataView, b: Uint8Array) => void, reseal = true): Uint8Array {
  const b = Uint8Array.from(TINY);
  f(new DataView(b.buffer), b);
  if (reseal) new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
const u32 = (at: number, v: number) => (dv: DataView) => dv.setUint32(at, v, true);
const u8 = (at: number, v: number) => (_: DataView, b: Uint8Array) => {
  b[at] = v;
};

const binaryCases: [string, Uint8Array, string, string, number][] = [
  ['empty input', new Uint8Array(0), 'truncated', 'header', 0],
  ['not an image', new TextEncoder().encode('{"format":"keyvm-image"}'), 'bad-magic', 'header', 0],
  ['a changed magic byte', edit(u8(3, 0x00), false), 'bad-magic', 'header', 3],
  ['a cut header', TINY.subarray(0, 40), 'truncated', 'header', 40],
  ['a forged version', edit(u32(8, 2), false), 'bad-version', 'header', 8],
  ['a reserved flag', edit(u32(12, 1), false), 'bad-flags', 'header', 12],
  ['one byte missing', TINY.subarray(0, TINY.length - 1), 'truncated', 'header', 56],
  ['a byte after the checksum', Uint8Array.from([...TINY, 0]), 'trailing-bytes', 'checksum', 371],
  ['a flipped bit', edit((_, b) => (b[150]! ^= 4), false), 'bad-checksum', 'checksum', 367],
  ['a damaged checksum', edit((_, b) => (b[370]! ^= 1), false), 'bad-checksum', 'checksum', 367],
  ['a meter count that disagrees', edit(u32(20, 4)), 'bad-header', 'header', 32],
  ['a key count that disagrees', edit(u32(28, 16)), 'bad-header', 'header', 28],
  ['a kernel queue that overruns', edit(u32(319 + 44, 1)), 'bad-header', 'kernel', 363],
  ['a data page beyond the limit', edit(u32(136 + 16, 2 ** 24 + 1)), 'limit', 'objects', 152],
  ['a data page beyond its section', edit(u32(136 + 16, 1000)), 'truncated', 'objects', 136],
  ['an unknown object tag', edit(u8(136, 2)), 'bad-object', 'objects', 136],
  ['an unknown object tag, checksum not resealed', edit(u8(136, 2), false), 'bad-checksum', 'checksum', 367],
  [
    'a data page past its section, not resealed',
    edit(u32(136 + 16, 1000), false),
    'bad-checksum',
    'checksum',
    367,
  ],
  ['an object tag with high bits', edit(u8(139, 1)), 'bad-object', 'objects', 136],
  ['unknown key page flags', edit(u8(164 + 16, 2)), 'bad-object', 'objects', 180],
  ['an unknown key kind', edit(u8(227, 9)), 'bad-key', 'keys', 227],
  ['a dangling key', edit(u32(228, 99)), 'dangling-key', 'keys', 227],
  ['a key to a hole', edit(u32(228, 0)), 'dangling-key', 'keys', 227],
  ['a forged version', edit(u32(232, 1)), 'forged-version', 'keys', 227],
  ['a used-up resume key', edit(u32(315, 1)), 'forged-version', 'keys', 306],
  ['a page key to a device', edit(u32(287, 6)), 'wrong-kind', 'keys', 286],
  ['a meter key with unknown rights', edit(u32(236, 2)), 'bad-key', 'keys', 227],
  ['a keeper that is not a domain', edit(u8(218, 2)), 'wrong-kind', 'keys', 218],
  ['a domain state out of range', edit(u32(263, 9)), 'bad-domain', 'keys', 262],
  ['a resume key to a meter', edit(u8(240, 5)), 'wrong-kind', 'keys', 240],
  ['a key kind that shifts every later key', edit(u8(240, 1)), 'trailing-bytes', 'keys', 267],
  ['a memory meter in the TIME slot', edit(u32(228, 2)), 'bad-domain', 'keys', 227],
  ['a meter metering another resource than its parent', edit(u32(112 + 12, 2)), 'bad-meter', 'meters', 120],
  ['a meter whose parent comes later', edit(u32(112 + 12, 5)), 'bad-meter', 'meters', 124],
  ['a meter of an unknown resource', edit(u32(112 + 8, 2)), 'bad-meter', 'meters', 120],
  ['a meter amount past 2^53', edit(u32(112 + 20, 0x200000)), 'bad-meter', 'meters', 128],
  ['a prime meter with a parent', edit(u32(64 + 12, 1)), 'bad-meter', 'meters', 64],
  ['a page charged to a time meter', edit(u32(136 + 12, 1)), 'bad-object', 'objects', 148],
  ['a domain too small', edit(u32(164 + 24, 11)), 'bad-header', 'header', 28],
  ['nextId beyond the limit', edit(u32(16, 2 ** 25)), 'limit', 'header', 16],
  ['an id at nextId', edit(u32(16, 5)), 'bad-id', 'meters', 112],
  ['ids out of order', edit(u32(196, 3)), 'bad-id', 'objects', 196],
  ['an object id that is a meter id', edit(u32(196, 5)), 'bad-id', 'objects', 196],
  ['a root that is not a domain', edit(u32(319, 3)), 'bad-kernel', 'kernel', 319],
  ['a fault code not in the catalogue', edit(u32(319 + 32, 99)), 'bad-kernel', 'kernel', 351],
  ['a step count past 2^53', edit(u32(319 + 12, 0xffffffff)), 'bad-kernel', 'kernel', 327],
  ['a fault domain beyond nextId', edit(u32(319 + 40, 7)), 'bad-kernel', 'kernel', 359],
];

describe('the binary decoder refuses', () => {
  it('nothing in the valid tiny image', () => {
    expect(TINY.length).toBe(371);
    expect(() => decodeImage(TINY)).not.toThrow();
  });
  it.each(binaryCases)('%s', (_what, bytes, code, section, offset) => {
    const e = catchImageError(() => decodeImage(bytes));
    expect([e.code, e.section, e.offset]).toEqual([code, section, offset]);
    expect(e.message).toContain(`${section} at byte ${offset}`);
  });
});

describe('an image of several checksum steps', () => {
  // 200 data pages of 256 words (about 210 KB): the decoder runs the CRC-32 and the
  // copy in 64 KiB steps and reads object records right behind them.
  const store = new Store();
  const mem = store.meterKey(store.primeMemory, true);
  for (let p = 0; p < 200; p++) {
    const words = store.dataPage(store.createPage(PageType.data, mem, 256), true).words;
    for (let i = 0; i < 256; i++) words[i] = Math.imul(p * 256 + i, 0x9e3779b1);
  }
  store.createPage(PageType.keys, mem, 3);
  const BIG = encodeImage(store);
  const page150 = 64 + 2 * 24 + 150 * (20 + 4 * 256); // in the third step
  const changed = (f: (dv: DataView, b: Uint8Array) => void, reseal: boolean) => {
    const b = Uint8Array.from(BIG);
    f(new DataView(b.buffer), b);
    if (reseal) new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
    return b;
  };
  const checksumAt = BIG.length - 4;

  it.each([false, true])('decodes and re-encodes to the same bytes (adopt: %s)', (adopt) => {
    expect(BIG.length).toBeGreaterThan(3 * 65536);
    expect(Buffer.from(encodeImage(decodeImage(Uint8Array.from(BIG), { adopt }))).equals(BIG)).toBe(true);
    const odd = new Uint8Array(BIG.length + 1).subarray(1);
    odd.set(BIG);
    expect(Buffer.from(encodeImage(decodeImage(odd, { adopt }))).equals(BIG)).toBe(true);
  });
  const cases: [string, Uint8Array, string, string, number][] = [
    ['a late unknown object tag', changed(u32(page150, 2), true), 'bad-object', 'objects', page150],
    [
      'a late page beyond the limit',
      changed(u32(page150 + 16, 2 ** 24 + 1), true),
      'limit',
      'objects',
      page150 + 16,
    ],
    [
      'a late unknown tag, not resealed',
      changed(u32(page150, 2), false),
      'bad-checksum',
      'checksum',
      checksumAt,
    ],
    [
      'a late page too long, not resealed',
      changed(u32(page150 + 16, 300), false),
      'bad-checksum',
      'checksum',
      checksumAt,
    ],
    [
      'a flipped bit in the last page',
      changed((_, b) => (b[checksumAt - 200]! ^= 1), false),
      'bad-checksum',
      'checksum',
      checksumAt,
    ],
  ];
  for (const adopt of [false, true])
    it.each(cases)(`refuses %s (adopt: ${adopt})`, (_what, bytes, code, section, offset) => {
      const e = catchImageError(() => decodeImage(Uint8Array.from(bytes), { adopt }));
      expect([e.code, e.section, e.offset]).toEqual([code, section, offset]);
    });
});

type Mutable = { [k: string]: unknown };
function json(f: (j: ImageJson & Mutable) => void): unknown {
  const j = structuredClone(imageToJson(tinyStore())) as ImageJson & Mutable;
  f(j);
  return j;
}
const page = (j: ImageJson) => j.objects[1] as ImageJson['objects'][number] & { slots: Mutable[] };
const nullKey = { kind: 'null', target: 0, version: 0, value: 0 };

const jsonCases: [string, unknown, string, string, string][] = [
  ['a non-object', [1, 2], 'bad-json', 'header', '$'],
  ['another format', json((j) => (j.format = 'other' as 'keyvm-image')), 'bad-json', 'header', '$.format'],
  ['another version', json((j) => (j.version = 2)), 'bad-version', 'header', '$.version'],
  ['an unknown field', json((j) => (j.extra = 1)), 'bad-json', 'header', '$.extra'],
  [
    'a missing field',
    json((j) => delete (j.objects[0] as unknown as Mutable).words),
    'bad-json',
    'objects',
    '$.objects[0].words',
  ],
  [
    'a word beyond int32',
    json((j) => ((j.objects[0] as { words: number[] }).words[1] = 2 ** 31)),
    'bad-json',
    'objects',
    '$.objects[0].words[1]',
  ],
  [
    'an unknown key kind',
    json((j) => (page(j).slots[0]!.kind = 'gate')),
    'bad-json',
    'keys',
    '$.objects[1].slots[0].kind',
  ],
  [
    'a null key with a target',
    json((j) => (page(j).slots[8] = { ...nullKey, target: 3 })),
    'bad-key',
    'keys',
    '$.objects[1].slots[8]',
  ],
  [
    'a number key with a version',
    json((j) => (page(j).slots[4]!.version = 1)),
    'bad-key',
    'keys',
    '$.objects[1].slots[4]',
  ],
  [
    'a number key beyond int32',
    json((j) => (page(j).slots[4]!.value = 2 ** 31)),
    'bad-key',
    'keys',
    '$.objects[1].slots[4]',
  ],
  [
    'a page key with a value',
    json((j) => (page(j).slots[7]!.value = 1)),
    'bad-key',
    'keys',
    '$.objects[1].slots[7]',
  ],
  [
    'a dangling key',
    json((j) => (page(j).slots[7]!.target = 99)),
    'dangling-key',
    'keys',
    '$.objects[1].slots[7]',
  ],
  [
    'a fractional target',
    json((j) => (page(j).slots[7]!.target = 3.5)),
    'dangling-key',
    'keys',
    '$.objects[1].slots[7]',
  ],
  [
    'a domain key to a data page',
    json((j) => (page(j).slots[10] = { kind: 'domain', target: 3, version: 0, value: 0 })),
    'wrong-kind',
    'keys',
    '$.objects[1].slots[10]',
  ],
  [
    'a readPage key in STACK',
    json((j) => (page(j).slots[7]!.kind = 'readPage')),
    'bad-domain',
    'keys',
    '$.objects[1].slots[7]',
  ],
  ['a domain too small', json((j) => page(j).slots.pop()), 'bad-domain', 'objects', '$.objects[1].slots'],
  [
    'a key page beyond the limit',
    json((j) => (page(j).slots = new Array(2 ** 20 + 1).fill(nullKey))),
    'limit',
    'objects',
    '$.objects[1].slots',
  ],
  ['ids out of order', json((j) => j.objects.reverse()), 'bad-id', 'objects', '$.objects[1].id'],
  ['an id at nextId', json((j) => (j.nextId = 6)), 'bad-id', 'objects', '$.objects[2].id'],
  ['an id used twice', json((j) => (j.objects[0]!.id = 5)), 'bad-id', 'objects', '$.objects[0].id'],
  [
    'a keeper that is a page key',
    json((j) => (j.meters[2]!.keeper = { kind: 'page', target: 3, version: 0, value: 0 })),
    'wrong-kind',
    'keys',
    '$.meters[2].keeper',
  ],
  ['a missing prime meter', json((j) => j.meters.splice(1, 2)), 'bad-meter', 'meters', '$.meters[1]'],
  [
    'a negative amount',
    json((j) => (j.meters[2]!.remaining = -1)),
    'bad-meter',
    'meters',
    '$.meters[2].remaining',
  ],
  [
    'an amount that is a word',
    json((j) => ((j.meters[2] as unknown as Mutable).remaining = 'lots')),
    'bad-json',
    'meters',
    '$.meters[2].remaining',
  ],
  [
    'a meter chain too deep',
    json((j) => {
      for (let i = 0; i <= LIMITS.maxMeterDepth; i++)
        j.meters.push({ ...j.meters[2]!, id: 7 + i, parent: i === 0 ? 1 : 6 + i, keeper: nullKey as never });
      j.nextId = 100;
    }),
    'bad-meter',
    'meters',
    `$.meters[${LIMITS.maxMeterDepth + 3}].parent`,
  ],
  [
    'a device type out of range',
    json((j) => ((j.objects[2] as unknown as Mutable).deviceType = -1)),
    'bad-object',
    'objects',
    '$.objects[2].deviceType',
  ],
  [
    'a queued domain twice',
    json((j) => {
      j.kernel.runQueue = [4, 4];
      page(j).slots[3]!.value = 1; // running
    }),
    'bad-kernel',
    'kernel',
    '$.kernel.runQueue[1]',
  ],
  [
    'a domain that is not running (available) in the run queue',
    json((j) => (j.kernel.runQueue = [4])),
    'bad-kernel',
    'kernel',
    '$.kernel.runQueue[0]',
  ],
  [
    'a halted domain in the run queue',
    json((j) => {
      j.kernel.runQueue = [4];
      page(j).slots[3]!.value = 4; // halted
    }),
    'bad-kernel',
    'kernel',
    '$.kernel.runQueue[0]',
  ],
  [
    'a faulted domain in the run queue',
    json((j) => {
      j.kernel.runQueue = [4];
      page(j).slots[3]!.value = 3; // faulted
    }),
    'bad-kernel',
    'kernel',
    '$.kernel.runQueue[0]',
  ],
  ['an active data page', json((j) => (j.kernel.active = 3)), 'bad-kernel', 'kernel', '$.kernel.active'],
  ['a negative slice', json((j) => (j.kernel.sliceLeft = -1)), 'bad-kernel', 'kernel', '$.kernel.sliceLeft'],
  [
    'a quantum of 0 (nothing would ever run)',
    json((j) => (j.kernel.quantum = 0)),
    'bad-kernel',
    'kernel',
    '$.kernel.quantum',
  ],
];

describe('the JSON importer refuses (with the same validator)', () => {
  it('nothing in the valid tiny JSON form', () => {
    expect(() => imageFromJson(json(() => {}))).not.toThrow();
  });
  it.each(jsonCases)('%s', (_what, input, code, section, path) => {
    const e = catchImageError(() => imageFromJson(input));
    expect([e.code, e.section, e.offset]).toEqual([code, section, path]);
    expect(e.message).toContain(path);
  });
});
