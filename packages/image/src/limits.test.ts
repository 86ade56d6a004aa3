// Bounded loading: the embedder's limits, header checks before anything is built or
// unpacked, refused pathological states, and a property that crafted images load
// within memory proportional to their size or are refused.
import { crc32, gzipSync } from 'node:zlib';
import {
  DomainSlot,
  DomainState,
  type KeyPage,
  LIMITS,
  numberKey,
  ObjectKind,
  PageType,
  Store,
} from '@keyvm/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catchImageError, tinyStore } from './fixtures.test-helpers.js';
import { DEFAULT_IMAGE_LIMITS, decodeImage, encodeImage, ImageError, resolveImageLimits } from './index.js';
import { decompressImage } from './node.js';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);
// Tiny image layout (see reject.test.ts): meters #1 @64, #2 @88, #5 @112; data page
// #3 @136, domain page #4 @164, device #6 @192; total 371 bytes.
const TINY = encodeImage(tinyStore());

function reseal(b: Uint8Array): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
function edit(f: (dv: DataView) => void, image = TINY): Uint8Array {
  const b = Uint8Array.from(image);
  f(new DataView(b.buffer));
  return reseal(b);
}
const where = (e: ImageError) => [e.code, e.section, e.offset];

describe('the embedder limits', () => {
  it('has documented safe defaults and refuses nonsense', () => {
    expect(resolveImageLimits()).toEqual(DEFAULT_IMAGE_LIMITS);
    expect(DEFAULT_IMAGE_LIMITS.maxImageBytes).toBe(256 * 1024 * 1024);
    expect(resolveImageLimits({ maxPageWords: 2 ** 40 }).maxPageWords).toBe(LIMITS.maxDataPageWords);
    expect(() => resolveImageLimits({ maxObjects: -1 })).toThrow(RangeError);
    expect(() => resolveImageLimits({ nonsense: 1 } as never)).toThrow(/unknown image limit/);
  });

  it.each([
    ['maxImageBytes', { maxImageBytes: 370 }, ['limit', 'header', 0]],
    ['maxObjects', { maxObjects: 5 }, ['limit', 'header', 24]],
    ['maxKeys', { maxKeys: 14 }, ['limit', 'header', 28]],
    ['maxPageWords (data page)', { maxPageWords: 1 }, ['limit', 'objects', 136 + 16]],
    ['maxPageSlots', { maxPageSlots: 11 }, ['limit', 'objects', 164 + 24]],
  ] as const)('refuses an image past %s, naming the limit', (name, limits, expected) => {
    expect(() => decodeImage(TINY)).not.toThrow();
    const e = catchImageError(() => decodeImage(TINY, { limits }));
    expect(where(e)).toEqual(expected);
    expect(e.message).toContain(`(${name.split(' ')[0]})`);
  });

  it('refuses a meter holding more than maxMeterAmount (2^53-1 included), not unlimited', () => {
    const huge = edit((dv) => {
      dv.setUint32(112 + 16, 0xffff_ffff, true);
      dv.setUint32(112 + 20, 0x1f_ffff, true); // 2^53 - 1
    });
    expect(where(catchImageError(() => decodeImage(huge)))).toEqual(['limit', 'meters', 128]);
    // At the limit it loads, and an embedder may raise the limit.
    const atLimit = edit((dv) => {
      dv.setUint32(112 + 16, 0, true);
      dv.setUint32(112 + 20, 2 ** 16, true); // 2^48
    });
    expect(decodeImage(atLimit).object(5)).toMatchObject({ remaining: 2 ** 48 });
    expect(
      decodeImage(huge, { limits: { maxMeterAmount: Number.MAX_SAFE_INTEGER } }).object(5),
    ).toMatchObject({
      remaining: 2 ** 53 - 1,
    });
  });
});

describe('pathological but structurally valid states are refused', () => {
  const last = 0xffff_ffff - DEFAULT_IMAGE_LIMITS.versionWrapMargin;
  it.each([
    ['a meter version', 112 + 4, 'meters'],
    ['an object version', 136 + 8, 'objects'],
    ['a domain resume generation', 164 + 20, 'objects'],
  ] as const)('%s at or near the wrap point 2^32-1', (_what, at, section) => {
    for (const v of [0xffff_ffff, last + 1]) {
      const e = catchImageError(() => decodeImage(edit((dv) => dv.setUint32(at, v, true))));
      expect(where(e)).toEqual(['limit', section, at]);
      expect(e.reason).toContain('wrap point');
    }
    // Without the margin the same image is refused for what it then is: keys to another version.
    const e = catchImageError(() =>
      decodeImage(
        edit((dv) => dv.setUint32(at, last + 1, true)),
        { limits: { versionWrapMargin: 0 } },
      ),
    );
    expect(e.code).toBe('forged-version');
  });

  it('halted and faulted domains in the run queue (from the store: written without them)', () => {
    const s = new Store();
    const mem = s.meterKey(s.primeMemory, true);
    const ids: number[] = [];
    for (const state of [DomainState.halted, DomainState.faulted, DomainState.running, DomainState.blocked]) {
      const kp = s.createPage(PageType.keys, mem, 12);
      s.makeDomain(kp);
      const page = s.object(kp.target) as KeyPage;
      page.slots[DomainSlot.STATE] = numberKey(state);
      ids.push(page.id);
    }
    s.kernel.runQueue = [...ids];
    const written = encodeImage(s);
    expect(decodeImage(written).kernel.runQueue).toEqual(ids.slice(2));
    // Put the halted one back into the queue by hand: the decoder refuses it.
    const dv = new DataView(written.buffer, written.byteOffset);
    const qLen = written.length - 4 - 8; // the last queue entry (4 bytes) before the checksum...
    expect(dv.getUint32(qLen + 4, true)).toBe(ids[3]);
    const forged = Uint8Array.from(written);
    new DataView(forged.buffer).setUint32(qLen + 4, ids[0]!, true);
    const e = catchImageError(() => decodeImage(reseal(forged)));
    expect([e.code, e.section]).toEqual(['bad-kernel', 'kernel']);
    expect(e.reason).toMatch(/in state halted, not running or blocked/);
  });
});

describe('huge declared sizes are refused from the header, before anything is built or unpacked', () => {
  it.each([
    ['object count', 24, 0xffff_ffff],
    ['key count', 28, 0xffff_ffff],
    ['meter count', 20, 0x00ff_ffff],
    ['objects section length', 44, 0x7fff_ffff],
    ['keys section length', 52, 0x0000_ffff],
  ] as const)('a header declaring a huge %s', (_what, at, value) => {
    const e = catchImageError(() => decodeImage(edit((dv) => dv.setUint32(at, value, true))));
    expect(['bad-header', 'truncated', 'limit']).toContain(e.code);
    expect(e.section).toBe('header');
  });

  // A gzip bomb: a real header declaring a big objects section, then zeros that pack
  // to almost nothing. Sized small here; the same checks refuse a 583 KB bomb.
  const bomb = (objectsLength: number, objectCount: number, packedZeros: number) => {
    const head = Uint8Array.from(TINY.subarray(0, 64));
    const dv = new DataView(head.buffer);
    dv.setUint32(24, objectCount, true);
    dv.setUint32(40, objectsLength % 2 ** 32, true);
    dv.setUint32(44, Math.floor(objectsLength / 2 ** 32), true);
    const body = new Uint8Array(64 + packedZeros);
    body.set(head);
    return gzipSync(body);
  };

  it('a bomb declaring more than maxImageBytes is refused from its header', () => {
    const packed = bomb(2 ** 40, 2 ** 20, 1 << 20);
    expect(packed.length).toBeLessThan(4096);
    const before = process.memoryUsage().arrayBuffers;
    const e = catchImageError(() => decompressImage(packed));
    expect(where(e)).toEqual(['limit', 'header', 32]);
    // Only the header's neighbourhood was unpacked.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it('a bomb declaring more objects than maxObjects is refused before it is unpacked', () => {
    const packed = bomb(20 * 2 ** 22, 2 ** 22, 1 << 20);
    expect(where(catchImageError(() => decompressImage(packed)))).toEqual(['limit', 'header', 24]);
  });

  it('a bomb within the limits unpacks only as far as its header says, then is refused', () => {
    // 2^16 empty data pages' worth of zeros (1.3 MB): objects of id 0 are refused, nothing more.
    const packed = bomb(20 * 2 ** 16, 2 ** 16, 20 * 2 ** 16 + 4 * 1024);
    const e = catchImageError(() => decodeImage(decompressImage(packed)));
    expect(e).toBeInstanceOf(ImageError);
    expect(['truncated', 'bad-compression', 'bad-checksum', 'bad-header']).toContain(e.code);
  });
});

/** Bytes the loaded store holds for its objects, as a lower bound of its host memory. */
function loadedWords(s: Store): number {
  let words = 0;
  for (let id = 1; id < s.nextId; id++) {
    const o = s.object(id);
    if (o === undefined) continue;
    words += 8; // the object itself
    if (o.kind === ObjectKind.dataPage) words += o.size;
    else if (o.kind === ObjectKind.keyPage) words += 2 * o.slots.length;
    else if (o.kind === ObjectKind.device) words += o.transcript.length;
  }
  return words + s.kernel.runQueue.length;
}

describe('crafted consistent images are refused or load within memory bounded by their size', () => {
  type Craft =
    | { op: 'domains'; n: number; states: number[] }
    | { op: 'chain'; depth: number }
    | { op: 'version'; which: number; version: number }
    | { op: 'amount'; amount: number }
    | { op: 'header'; at: number; value: number }
    | { op: 'pages'; n: number; size: number };
  const craft: fc.Arbitrary<Craft> = fc.oneof(
    fc.record({
      op: fc.constant('domains' as const),
      n: fc.integer({ min: 1, max: 60 }),
      states: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 8 }),
    }),
    fc.record({ op: fc.constant('chain' as const), depth: fc.integer({ min: 1, max: 70 }) }),
    fc.record({
      op: fc.constant('version' as const),
      which: fc.nat({ max: 20 }),
      version: fc.oneof(
        fc.constant(0xffff_ffff),
        fc.integer({ min: 0xff00_0000, max: 0xffff_ffff }),
        fc.nat(),
      ),
    }),
    fc.record({
      op: fc.constant('amount' as const),
      amount: fc.oneof(fc.constant(2 ** 53 - 1), fc.integer({ min: 0, max: 2 ** 53 - 1 })),
    }),
    fc.record({
      op: fc.constant('header' as const),
      at: fc.constantFrom(16, 20, 24, 28, 32, 40, 48, 56),
      value: fc.oneof(fc.constant(0xffff_ffff), fc.constant(1 << 24), fc.nat()),
    }),
    fc.record({
      op: fc.constant('pages' as const),
      n: fc.integer({ min: 1, max: 200 }),
      size: fc.integer({ min: 0, max: 4 }),
    }),
  );

  function build(c: Craft): Uint8Array {
    const s = new Store();
    const mem = s.meterKey(s.primeMemory, true);
    const time = s.meterKey(s.primeTime, true);
    if (c.op === 'domains') {
      for (let i = 0; i < c.n; i++) {
        const kp = s.createPage(PageType.keys, mem, 12);
        s.makeDomain(kp);
        const page = s.object(kp.target) as KeyPage;
        page.slots[DomainSlot.STATE] = numberKey(c.states[i % c.states.length]!);
        s.kernel.runQueue.push(page.id);
      }
    } else if (c.op === 'chain') {
      let m = time;
      try {
        for (let i = 0; i < c.depth; i++) m = s.createMeter(m, 1000);
      } catch {
        // deeper than the core allows: stop at the limit
      }
    } else if (c.op === 'pages') {
      for (let i = 0; i < c.n; i++) s.createPage(PageType.data, mem, c.size);
    } else {
      s.createPage(PageType.data, mem, 3);
      s.createMeter(time, 5);
    }
    const bytes = Uint8Array.from(encodeImage(s));
    const dv = new DataView(bytes.buffer);
    if (c.op === 'version') {
      // Meter and object records are at known places only for the first few: pick a u32 field there.
      const at = 64 + 4 + 24 * Math.min(c.which, 2);
      dv.setUint32(at, c.version, true);
    } else if (c.op === 'amount') {
      const at = 64 + 24 * 2 + 16; // the third meter's remaining
      dv.setUint32(at, c.amount % 2 ** 32, true);
      dv.setUint32(at + 4, Math.floor(c.amount / 2 ** 32), true);
    } else if (c.op === 'header') {
      dv.setUint32(c.at, c.value, true);
    }
    return reseal(bytes);
  }

  it('holds for every crafted image', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(craft, (c) => {
        const bytes = build(c);
        let outcome: string;
        try {
          const s = decodeImage(bytes);
          // Everything loaded came from the input: at most a fixed number of words per byte.
          expect(loadedWords(s)).toBeLessThanOrEqual(4 * bytes.length);
          outcome = 'loaded';
        } catch (e) {
          if (!(e instanceof ImageError)) throw e;
          outcome = e.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }),
      { seed, numRuns: 400 },
    );
    console.log(`crafted images (seed ${seed}):`, Object.fromEntries(outcomes));
    // Both outcomes happen: the property is not vacuous.
    expect(outcomes.get('loaded')).toBeGreaterThan(0);
    expect(outcomes.get('limit')).toBeGreaterThan(0);
  });
});
