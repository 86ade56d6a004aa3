// The codec's platform needs in Node (chosen by the `node` condition of the `#platform`
// import): native sha256 and CRC-32, and unzeroed memory; the same results as platform.ts.
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The CRC-32 of `bytes` continuing from `crc` (0 to start). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  // (zlib.crc32 of an empty view, e.g. `subarray(n, n)`, gives 0 instead of `crc` in Node 20.)
  return bytes.length === 0 ? crc : zlibCrc32(bytes, crc);
}

/** True when this host stores multi-byte numbers least significant byte first. */
export const LITTLE_ENDIAN_HOST: boolean = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * `length` bytes of new memory, not zeroed (the caller overwrites all of it), at
 * offset 0 of their own ArrayBuffer (so 4-byte aligned), and a plain Uint8Array view.
 */
export function allocateBytes(length: number): Uint8Array {
  const buf = Buffer.allocUnsafeSlow(length);
  return new Uint8Array(buf.buffer, buf.byteOffset, length);
}
