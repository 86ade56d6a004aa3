// The plain-ECMAScript platform (browsers, workers) against Node's native one: the
// same sha256 and CRC-32 for any bytes, so an image and its hash are the same everywhere.
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as neutral from './platform.js';
import * as native from './platform.node.js';

const seed = Number(process.env.KEYVM_SEED ?? 20261206);
console.log(`image platform: seed ${seed} (set KEYVM_SEED to replay another)`);

describe('the platform-neutral codec helpers', () => {
  it('sha256 and CRC-32 agree with node:crypto and node:zlib, in one go and continued', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), fc.nat(), (bytes, cut, start) => {
        const hex = createHash('sha256').update(bytes).digest('hex');
        expect(neutral.sha256Hex(bytes)).toBe(hex);
        expect(native.sha256Hex(bytes)).toBe(hex);
        expect(neutral.crc32(bytes)).toBe(zlibCrc32(bytes));
        expect(native.crc32(bytes)).toBe(zlibCrc32(bytes));
        const at = Math.min(cut, bytes.length);
        const first = neutral.crc32(bytes.subarray(0, at), start >>> 0);
        const whole = native.crc32(bytes, start >>> 0);
        if (bytes.length > 0) expect(whole).toBe(zlibCrc32(bytes, start >>> 0));
        expect(neutral.crc32(bytes.subarray(at), first)).toBe(whole);
        expect(native.crc32(bytes.subarray(at), native.crc32(bytes.subarray(0, at), start >>> 0))).toBe(
          whole,
        );
      }),
      { seed, numRuns: 300 },
    );
  });

  it('known answers', () => {
    const abc = new TextEncoder().encode('abc');
    expect(neutral.sha256Hex(abc)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(neutral.crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(neutral.crc32(new Uint8Array(0))).toBe(0);
  });

  it('byte order and new memory', () => {
    expect(neutral.LITTLE_ENDIAN_HOST).toBe(native.LITTLE_ENDIAN_HOST);
    for (const m of [neutral, native]) {
      const bytes = m.allocateBytes(12);
      expect(bytes.length).toBe(12);
      expect(bytes.byteOffset % 4).toBe(0);
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    }
  });
});
