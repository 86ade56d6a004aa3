// Decoder fuzzing: mutated, truncated, extended and random inputs. Each one is
// either refused with an ImageError or accepted and re-encodes to exactly the
// input bytes (so no invalid image is ever accepted); nothing else is thrown.
// 10,000 cases with a fixed seed, printed; KEYVM_SEED overrides it.
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES } from './fixtures.test-helpers.js';
import { decodeImage, encodeImage, IMAGE_FORMAT_VERSION, IMAGE_MAGIC, ImageError } from './index.js';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);
console.log(`image fuzz: seed ${seed} (set KEYVM_SEED to replay another)`);

const BASES = Object.values(FIXTURES).map((make) => encodeImage(make()));
const outcomes = new Map<string, number>();
let cases = 0;

/** The property: refused with an ImageError, or accepted and canonical. */
function check(bytes: Uint8Array): void {
  cases++;
  let outcome: string;
  try {
    const store = decodeImage(bytes, { adopt: cases % 2 === 0 }); // both ways of holding words
    expect(Buffer.from(encodeImage(store)).equals(Buffer.from(bytes))).toBe(true);
    outcome = 'accepted';
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    outcome = e.code;
  }
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}

/** Recompute the trailing checksum so the mutation reaches the section decoders. */
function reseal(b: Uint8Array): Uint8Array {
  if (b.length >= 4)
    new DataView(b.buffer, b.byteOffset).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; byte: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'cut'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number };

const at = fc.nat({ max: 1 << 20 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at, byte: fc.nat({ max: 255 }) }),
  fc.record({
    op: fc.constant('word' as const),
    at,
    value: fc.oneof(
      fc.nat({ max: 40 }),
      fc.constantFrom(0xffffffff, 0x7fffffff, 1 << 24, (1 << 20) + 1, 0x200000),
    ),
  }),
  fc.record({ op: fc.constant('cut' as const), at }),
  fc.record({ op: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at, n: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(base: Uint8Array, m: Mutation): Uint8Array {
  const len = base.length;
  const i = len === 0 ? 0 : m.at % len;
  switch (m.op) {
    case 'flip': {
      const b = Uint8Array.from(base);
      if (len) b[i]! ^= 1 << m.bit;
      return b;
    }
    case 'set': {
      const b = Uint8Array.from(base);
      if (len) b[i] = m.byte;
      return b;
    }
    case 'word': {
      const b = Uint8Array.from(base);
      if (i + 4 <= len) new DataView(b.buffer).setUint32(i, m.value, true);
      return b;
    }
    case 'cut':
      return base.slice(0, i);
    case 'insert':
      return Uint8Array.from([...base.subarray(0, i), ...m.bytes, ...base.subarray(i)]);
    case 'delete':
      return Uint8Array.from([...base.subarray(0, i), ...base.subarray(i + m.n)]);
  }
}

describe('decoder fuzzing', () => {
  afterAll(() => {
    const summary = [...outcomes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
    console.log(`image fuzz: ${cases} cases, seed ${seed}: ${summary.join(', ')}`);
  });

  it('mutated valid images (bit flips, overwrites, truncations, insertions, deletions): 7,000 cases', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: BASES.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (which, mutations, resealed) => {
          let b = BASES[which]!;
          for (const m of mutations) b = mutate(b, m);
          check(resealed ? reseal(b) : b);
        },
      ),
      { seed, numRuns: 7000 },
    );
  });

  it('random bytes: 1,500 cases', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => check(b)),
      { seed: seed + 1, numRuns: 1500 },
    );
  });

  it('random bodies behind a valid magic and version, resealed: 1,500 cases', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (rest) => {
        const b = new Uint8Array(12 + rest.length);
        b.set(IMAGE_MAGIC);
        new DataView(b.buffer).setUint32(8, IMAGE_FORMAT_VERSION, true);
        b.set(rest, 12);
        check(reseal(b));
      }),
      { seed: seed + 2, numRuns: 1500 },
    );
  });

  it('reached the section decoders, not only the checksum', () => {
    expect(cases).toBe(10_000);
    const codes = [...outcomes.keys()];
    for (const code of ['bad-checksum', 'truncated', 'trailing-bytes', 'dangling-key', 'bad-id', 'bad-magic'])
      expect(codes).toContain(code);
    expect(codes.length).toBeGreaterThanOrEqual(12);
  });
});
