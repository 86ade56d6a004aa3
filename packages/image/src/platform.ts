// What the codec needs from the platform, in plain ECMAScript for any runtime (a
// browser, a worker, Deno): sha256 (@noble/hashes), CRC-32, byte order, new memory.
// In Node the `#platform` import resolves to platform.node.ts (native, faster) instead.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** Hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * CRC-32 tables (zlib / ISO-HDLC, reflected polynomial 0xEDB88320) for slicing by 8:
 * CRC_TABLES[k * 256 + b] is the CRC of byte b followed by k zero bytes. (The
 * assembler keeps its own byte-at-a-time CRC-32 for .kvm files; image may not
 * depend on the assembler, and the assembler may not depend on core.)
 */
const CRC_TABLES: Uint32Array = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** The CRC-32 of `bytes` continuing from `crc` (the CRC-32 of what came before; 0 to start), as `zlib.crc32`. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (const end8 = n - (n & 7); i < end8; i += 8) {
    const a = c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    c =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** True when this host stores multi-byte numbers least significant byte first (every common CPU). */
export const LITTLE_ENDIAN_HOST: boolean = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** `length` bytes of new memory whose contents the caller overwrites entirely (4-byte aligned). */
export function allocateBytes(length: number): Uint8Array {
  return new Uint8Array(length);
}
